//! A tap record as the ETL file ETW would have written for the same calls.
//!
//! What ETW does with an `EtwWriteTransfer` of a TraceLogging provider, and so what this does:
//! the provider traits (the data descriptor of type 2, or the traits the provider set with
//! `EtwSetInformation(EventProviderSetTraits)`) become extended item 12, the event metadata
//! (type 1) extended item 11, a `RelatedActivityId` extended item 1; the type-0 descriptors'
//! bytes, concatenated in order, are the payload. The `EVENT_HEADER` takes the call's
//! descriptor, activity id, thread, process, processor and counter value. Events are written
//! in timestamp order (the tap's file order is the order its writers reserved space in).

use std::io::{Seek, Write as IoWrite};

use crate::etl::format::{
    Guid, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
    EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID,
};
use crate::etl::write::{EtlWriter, Event, ExtItem, SessionConfig, WriteError, WriteSummary};
use zerocopy::IntoBytes;

use super::{
    TapCall, TapFile, TapRecord, Write, DATA_TYPE_EVENT_METADATA, DATA_TYPE_PAYLOAD,
    DATA_TYPE_PROVIDER_METADATA, INFO_CLASS_SET_TRAITS,
};

/// Buffer size of the written file (a common ETW file-session size).
const BUFFER_SIZE: u32 = 64 * 1024;
/// FILETIME units (100 ns) per second.
const FILETIME_PER_SECOND: i128 = 10_000_000;

/// Why a record cannot become an ETL file. Offsets are the tap record's byte offsets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The ETL writer failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A call names a handle no `EtwRegister` returned.
    #[error("record at byte offset {offset:#x}: handle {handle} was never registered")]
    UnknownHandle {
        /// The record.
        offset: u64,
        /// Its handle.
        handle: u64,
    },
    /// A data descriptor of a type ETW does not store this way (or a second metadata block).
    #[error("record at byte offset {offset:#x}: data descriptor {index}: {reason}")]
    DataDescriptor {
        /// The record.
        offset: u64,
        /// The descriptor's index.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The event's provider traits differ from those the provider set with
    /// `EtwSetInformation`.
    #[error(
        "record at byte offset {offset:#x}: provider traits differ from those set with \
         EtwSetInformation"
    )]
    TraitsMismatch {
        /// The record.
        offset: u64,
    },
    /// A header value does not fit the ETL header.
    #[error("{0}")]
    Header(&'static str),
}

/// What [`write_etl`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Converted {
    /// Events written (one per `EtwWriteTransfer`).
    pub events: u64,
    /// The writer's summary.
    pub summary: WriteSummary,
}

/// The session the ETL header describes: the tap's clock, processors, processor speed and OS
/// version.
pub fn session_config(tap: &TapFile, log_file_name: &str) -> Result<SessionConfig, ConvertError> {
    let processors = u16::try_from(tap.processors)
        .map_err(|_| ConvertError::Header("more processors than an ETL header holds"))?;
    let since_boot =
        i128::from(tap.start_qpc) * FILETIME_PER_SECOND / i128::from(tap.qpc_frequency);
    let boot_time = i64::try_from(i128::from(tap.start_system_time) - since_boot)
        .map_err(|_| ConvertError::Header("boot time out of range"))?;
    let (major, minor, build) = tap.os_version;
    let controller = tap
        .records
        .first()
        .map_or((0, 0), |r| (r.process_id, r.thread_id));
    Ok(SessionConfig {
        buffer_size: BUFFER_SIZE,
        processors,
        perf_freq: tap.qpc_frequency,
        boot_time,
        start_qpc: tap.start_qpc.max(0),
        logger_name: "WskTraceTap".to_owned(),
        log_file_name: log_file_name.to_owned(),
        os_version: (
            u8::try_from(major).unwrap_or(u8::MAX),
            u8::try_from(minor).unwrap_or(u8::MAX),
            build,
        ),
        cpu_speed_mhz: tap.cpu_mhz,
        logger_id: SessionConfig::default().logger_id,
        controller,
    })
}

/// A registered provider: its GUID and the traits it set.
struct Provider {
    handle: u64,
    id: Guid,
    traits: Option<Vec<u8>>,
}

/// One `EtwWriteTransfer` with what its registration stood for at that point of the file.
struct Pending<'a> {
    record: &'a TapRecord,
    write: &'a Write,
    provider: Guid,
    /// Traits set with `EtwSetInformation` before this write.
    set_traits: Option<Vec<u8>>,
}

/// Every write with its provider, in file order: registrations are followed through the file
/// (a handle means the provider its latest `EtwRegister` returned it for).
fn pending(tap: &TapFile) -> Result<Vec<Pending<'_>>, ConvertError> {
    let mut providers: Vec<Provider> = Vec::new();
    let mut out = Vec::new();
    for record in &tap.records {
        let find = |providers: &[Provider]| {
            providers
                .iter()
                .position(|p| p.handle == record.handle)
                .ok_or(ConvertError::UnknownHandle {
                    offset: record.offset,
                    handle: record.handle,
                })
        };
        match &record.call {
            TapCall::Register { provider, .. } => {
                providers.retain(|p| p.handle != record.handle);
                providers.push(Provider {
                    handle: record.handle,
                    id: *provider,
                    traits: None,
                });
            }
            TapCall::SetInformation { class, data } => {
                let i = find(&providers)?;
                if *class == INFO_CLASS_SET_TRAITS {
                    providers[i].traits = Some(data.clone());
                }
            }
            TapCall::Write(write) => {
                let p = &providers[find(&providers)?];
                out.push(Pending {
                    record,
                    write,
                    provider: p.id,
                    set_traits: p.traits.clone(),
                });
            }
            TapCall::Unregister { .. } => {
                let i = find(&providers)?;
                providers.remove(i);
            }
            TapCall::ActivityId { .. } => {}
        }
    }
    Ok(out)
}

/// An event's extended items and payload, split out of its data descriptors.
struct Parts<'a> {
    traits: Option<&'a [u8]>,
    metadata: Option<&'a [u8]>,
    payload: Vec<u8>,
}

fn parts<'a>(p: &'a Pending<'_>) -> Result<Parts<'a>, ConvertError> {
    let offset = p.record.offset;
    let mut traits: Option<&[u8]> = None;
    let mut metadata: Option<&[u8]> = None;
    let mut payload = Vec::new();
    for (index, item) in p.write.data.iter().enumerate() {
        let bad = |reason: &str| ConvertError::DataDescriptor {
            offset,
            index,
            reason: reason.to_owned(),
        };
        let slot = match item.data_type {
            DATA_TYPE_PAYLOAD => {
                payload.extend_from_slice(&item.bytes);
                continue;
            }
            DATA_TYPE_EVENT_METADATA => &mut metadata,
            DATA_TYPE_PROVIDER_METADATA => &mut traits,
            other => return Err(bad(&format!("type {other} is not stored in an ETL file"))),
        };
        if slot.replace(&item.bytes).is_some() {
            return Err(bad("a second metadata block of the same type"));
        }
    }
    let traits = match (traits, p.set_traits.as_deref()) {
        (Some(event), Some(set)) if event != set => {
            return Err(ConvertError::TraitsMismatch { offset })
        }
        (event, set) => event.or(set),
    };
    Ok(Parts {
        traits,
        metadata,
        payload,
    })
}

/// Writes the ETL file of `tap` to `out`.
pub fn write_etl<W: IoWrite + Seek>(
    tap: &TapFile,
    out: W,
    config: SessionConfig,
) -> Result<(W, Converted), ConvertError> {
    let mut writes = pending(tap)?;
    // Stable: writes with one counter value keep their file order.
    writes.sort_by_key(|p| p.record.qpc);
    let mut etl = EtlWriter::new(out, config)?;
    for p in &writes {
        let parts = parts(p)?;
        let related = p.write.related_activity_id;
        let mut ext = Vec::with_capacity(3);
        if let Some(id) = &related {
            ext.push(ExtItem {
                ext_type: EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID,
                data: id.as_bytes(),
            });
        }
        if let Some(data) = parts.traits {
            ext.push(ExtItem {
                ext_type: EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
                data,
            });
        }
        if let Some(data) = parts.metadata {
            ext.push(ExtItem {
                ext_type: EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
                data,
            });
        }
        let processor = u16::try_from(p.record.processor)
            .map_err(|_| ConvertError::Header("processor number out of range"))?;
        etl.write_event(&Event {
            provider_id: p.provider,
            descriptor: p.write.descriptor,
            timestamp: p.record.qpc,
            processor,
            thread_id: p.record.thread_id,
            process_id: p.record.process_id,
            activity_id: p.write.activity_id.unwrap_or_default(),
            ext: &ext,
            payload: &parts.payload,
        })?;
    }
    let end = tap
        .records
        .iter()
        .map(|r| r.qpc)
        .chain([tap.start_qpc])
        .max()
        .unwrap_or(0);
    let (out, summary) = etl.finish(end)?;
    Ok((
        out,
        Converted {
            events: writes.len() as u64,
            summary,
        },
    ))
}
