//! Writes the `Wsktrace.WskClient` provider's events (and Kernel-PnP `DriverInit` events) as
//! an ETL file: the host's stand-in for what ETW does with the driver's
//! `tracelogging::write_event!` calls on Windows.
//!
//! Each [`WskEvent`] becomes one TraceLogging `EVENT_HEADER` event whose metadata (extended
//! item 11) is built from the schema's descriptor ([`wsktrace_driver::schema::DESCRIPTORS`]:
//! event name, field names, in/out types) by the TraceLogging encoder, whose provider traits
//! (item 12) name the provider, and whose payload is the encoder's layout of the event's field
//! values. Level, opcode and keywords come from the same descriptor; the channel is 11
//! (TraceLogging), the id, version and task 0, as `write_event!` logs them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Seek, Write};

use wsktrace_driver::schema::{self, EventDescriptor, FieldValue, WskEvent};

use crate::etl::format::{
    Guid, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
};
use crate::etl::write::{
    Descriptor, EtlWriter, Event, ExtItem, Plan, SessionConfig, WriteError, WriteSummary,
    TRACELOGGING_CHANNEL,
};
use crate::kernel_pnp::{self, DriverInit};
use crate::tracelogging::{self, FieldSchema, InType, OutType, PointerSize, Schema, Value};

/// Errors of [`WskEtlWriter`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WskEtlError {
    /// The ETL writer failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The TraceLogging encoder refused the event (a value does not match the schema).
    #[error("event {event}: {source}")]
    Encode {
        /// The event's variant name.
        event: &'static str,
        /// The encoder's error.
        source: tracelogging::Error,
    },
}

/// Where and when an event was logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// Nanoseconds since boot (converted to QPC ticks with the session's frequency).
    pub since_boot_ns: u64,
    /// Processor that logged the event (its per-CPU buffer).
    pub processor: u16,
    /// Logging thread id.
    pub thread_id: u32,
    /// Logging process id (4 = System, as for every kernel-mode driver).
    pub process_id: u32,
}

/// The provider's GUID as the ETL format module spells it.
pub fn provider_guid() -> Guid {
    Guid::from_bytes_le(schema::PROVIDER_GUID.to_bytes_le())
}

/// The TraceLogging schema of one event of the provider, from its descriptor.
pub fn tracelogging_schema(desc: &EventDescriptor) -> Schema {
    desc.fields.iter().fold(Schema::new(desc.name), |s, f| {
        s.field(FieldSchema::new(
            f.name,
            InType(f.in_type()),
            OutType(f.out_type()),
        ))
    })
}

/// An ETL writer for the provider's events.
pub struct WskEtlWriter<W: Write> {
    etl: EtlWriter<W>,
    /// Encoded metadata per event (variant name → item 11 data).
    metadata: HashMap<&'static str, (Schema, Vec<u8>)>,
    traits: Vec<u8>,
    provider: Guid,
    payload: Vec<u8>,
}

impl<W: Write + Seek> WskEtlWriter<W> {
    /// Starts a file on a seekable sink (see [`EtlWriter::new`]).
    pub fn new(out: W, config: SessionConfig) -> Result<Self, WskEtlError> {
        Self::start(EtlWriter::new(out, config)?)
    }

    /// Finishes the file; `end_ns` is the session's end, nanoseconds since boot.
    pub fn finish(self, end_ns: u64) -> Result<(W, WriteSummary), WskEtlError> {
        let end = self.etl.config().ns_to_qpc(end_ns);
        Ok(self.etl.finish(end)?)
    }
}

impl<W: Write> WskEtlWriter<W> {
    /// Starts a file on any sink with the header counts of a dry run (see
    /// [`EtlWriter::with_plan`]).
    pub fn with_plan(out: W, config: SessionConfig, plan: Plan) -> Result<Self, WskEtlError> {
        Self::start(EtlWriter::with_plan(out, config, plan)?)
    }

    /// Finishes a planned file (see [`EtlWriter::finish_planned`]).
    pub fn finish_planned(self) -> Result<(W, WriteSummary), WskEtlError> {
        Ok(self.etl.finish_planned()?)
    }

    fn start(etl: EtlWriter<W>) -> Result<Self, WskEtlError> {
        let traits =
            tracelogging::provider_traits_bytes(schema::PROVIDER_NAME, None).map_err(|source| {
                WskEtlError::Encode {
                    event: "provider traits",
                    source,
                }
            })?;
        Ok(WskEtlWriter {
            etl,
            metadata: HashMap::new(),
            traits,
            provider: provider_guid(),
            payload: Vec::new(),
        })
    }

    /// The session configuration.
    pub fn config(&self) -> &SessionConfig {
        self.etl.config()
    }

    /// Writes one event of the provider with its activity id.
    pub fn write_wsk(
        &mut self,
        ctx: &Context,
        activity_id: [u8; 16],
        event: &WskEvent,
    ) -> Result<(), WskEtlError> {
        let desc = event.descriptor();
        let (schema, meta) = match self.metadata.entry(desc.variant) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let schema = tracelogging_schema(desc);
                let bytes = schema.to_bytes().map_err(|source| WskEtlError::Encode {
                    event: desc.variant,
                    source,
                })?;
                e.insert((schema, bytes))
            }
        };
        let values: Vec<Value<'_>> = event
            .fields()
            .into_iter()
            .map(|(_, v)| match v {
                FieldValue::Str(s) => Value::Str(Cow::Borrowed(s)),
                FieldValue::U8(x) => Value::U64(x.into()),
                FieldValue::U16(x) => Value::U64(x.into()),
                FieldValue::U32(x) => Value::U64(x.into()),
                FieldValue::U64(x) => Value::U64(x),
            })
            .collect();
        self.payload.clear();
        tracelogging::encode_payload(schema, &values, PointerSize::Eight, &mut self.payload)
            .map_err(|source| WskEtlError::Encode {
                event: desc.variant,
                source,
            })?;
        let ext = [
            ExtItem {
                ext_type: EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
                data: &self.traits,
            },
            ExtItem {
                ext_type: EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
                data: meta,
            },
        ];
        let descriptor = Descriptor {
            id: 0,
            version: 0,
            channel: TRACELOGGING_CHANNEL,
            level: desc.level,
            opcode: desc.opcode,
            task: 0,
            keywords: desc.keywords,
        };
        emit(
            &mut self.etl,
            ctx,
            self.provider,
            descriptor,
            activity_id,
            &ext,
            &self.payload,
        )
    }

    /// Writes one Microsoft-Windows-Kernel-PnP `DriverInit` event (226/227) of another driver.
    pub fn write_pnp(&mut self, ctx: &Context, event: &DriverInit) -> Result<(), WskEtlError> {
        let payload = event.encode();
        let (provider, descriptor) = (kernel_pnp::PROVIDER_GUID, event.descriptor());
        emit(
            &mut self.etl,
            ctx,
            provider,
            descriptor,
            [0; 16],
            &[],
            &payload,
        )
    }

    /// Writes another provider's event as it is (background traffic in benchmark traces).
    pub fn write_other(&mut self, event: &Event<'_>) -> Result<(), WskEtlError> {
        Ok(self.etl.write_event(event)?)
    }

    /// Records events the recorder dropped (see [`EtlWriter::record_lost`]).
    pub fn record_lost(&mut self, processor: u16, count: u32) -> Result<(), WskEtlError> {
        Ok(self.etl.record_lost(processor, count)?)
    }
}

/// Writes one `EVENT_HEADER` event at the context's time, processor and thread.
fn emit<W: Write>(
    etl: &mut EtlWriter<W>,
    ctx: &Context,
    provider_id: Guid,
    descriptor: Descriptor,
    activity_id: [u8; 16],
    ext: &[ExtItem<'_>],
    payload: &[u8],
) -> Result<(), WskEtlError> {
    let event = Event {
        provider_id,
        descriptor,
        timestamp: etl.config().ns_to_qpc(ctx.since_boot_ns),
        processor: ctx.processor,
        thread_id: ctx.thread_id,
        process_id: ctx.process_id,
        activity_id: zerocopy::transmute!(activity_id),
        ext,
        payload,
    };
    Ok(etl.write_event(&event)?)
}
