//! The walk over a file's buffers and records: steps over other providers' records with the
//! reader's header peek, parses ours and Kernel-PnP's whole, and hands [`Step`]s on in file
//! order, one [`Step::Release`] watermark per buffer.

use std::collections::HashMap;
use std::io::Read;

use super::decode::{decode_wsk, pointer_size, KnownLayouts};
use super::error::{ErrorKind, TraceError};
use super::step::{Batch, Item, KnownEvent, Step};
use crate::analysis::{LostEvents, PnpDriverInit, TraceEvent};
use crate::etl::format::{Guid, BUFFER_HEADER_SIZE};
use crate::etl::header::{ClockType, LogfileInfo};
use crate::etl::reader::EtlReader;
use crate::etl::record::{event_provider_bytes, peek_provider, ProviderPeek, Record, Records};
use crate::kernel_pnp::{self, DriverInit};
use crate::tracelogging::{SchemaCache, EXT_TYPE_EVENT_SCHEMA_TL};
use crate::wsk_etl::provider_guid;

/// Buffers after which a processor that wrote nothing more no longer holds events back.
pub const WINDOW: u64 = 256;

/// A GUID as one integer: one compare per record instead of a `memcmp` call.
#[inline]
pub(super) fn guid_bits(g: &Guid) -> u128 {
    let bytes: [u8; 16] = zerocopy::transmute!(*g);
    u128::from_le_bytes(bytes)
}

/// What the walk found, besides the steps it handed on.
#[derive(Default)]
pub(super) struct Walked {
    /// Records read (all providers).
    pub records: u64,
    /// Latest timestamp seen (nanoseconds since the trace start).
    pub max_ts: u64,
}

/// Walks the file's buffers and records (see the module doc), decoding our events and
/// Kernel-PnP's, and hands each step to `emit`.
pub(super) fn walk<R: Read>(
    reader: &mut EtlReader<R>,
    info: &LogfileInfo,
    known: &KnownLayouts,
    batch: &mut Batch,
    flush: &mut dyn FnMut(&mut Batch),
) -> Walked {
    macro_rules! emit {
        ($step:expr) => {
            batch.steps.push($step)
        };
    }
    let clock = info.clock();
    let ours = guid_bits(&provider_guid());
    let pnp_guid = guid_bits(&kernel_pnp::PROVIDER_GUID);
    let mut cache = SchemaCache::new();
    let mut out = Walked::default();
    // Per processor: (latest timestamp seen, index of its latest buffer). Processors the
    // header announces but that have not written yet hold events back too (as if seen at
    // time 0 before the first buffer), until the window passes.
    let mut cpus: HashMap<u16, (u64, u64)> = (0..info.number_of_processors.min(4096))
        .map(|c| (c as u16, (0, 0)))
        .collect();
    let mut index = 0u64;
    // A QPC of 10 MHz (or any frequency dividing 10⁹) converts with one multiply; anything
    // else goes through the reader's clock (a division per timestamp).
    let ns_per_tick = match (info.clock_type, info.clock_frequency()) {
        (ClockType::Qpc, Some(f)) if f > 0 && 1_000_000_000 % f == 0 => Some(1_000_000_000 / f),
        _ => None,
    };
    let reference = info.header_timestamp;
    let to_ns = |raw: i64| -> u64 {
        if let Some(k) = ns_per_tick {
            if let Some(ns) = raw.checked_sub(reference).and_then(|d| d.checked_mul(k)) {
                return ns.max(0) as u64;
            }
        }
        clock.since_start_ns(raw).max(0) as u64
    };
    while let Some(b) = reader.next_buffer() {
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                let error = TraceError::etl(e, Some(reader.buffer_index()));
                let what = format!("unreadable buffer: {error}");
                emit!(Step::Error(error));
                emit!(Step::Push {
                    cpu: None,
                    ts: None,
                    item: Item::Lost(LostEvents {
                        ts_ns: None,
                        count: 0,
                        what,
                    }),
                });
                continue;
            }
        };
        index += 1;
        let cpu = b.processor();
        // Raw session-clock timestamps; converted once per buffer.
        let mut last_raw = i64::MIN;
        let mut last_ts = cpus.get(&cpu).map_or(0, |c| c.0);
        // Records of other providers are only stepped over (the reader's header peek, as
        // `dump --summary` does); ours, Kernel-PnP's and anything unusual are parsed whole.
        let data = b.data;
        let mut pos = BUFFER_HEADER_SIZE;
        let mut last_pos: Option<usize> = None;
        while pos < data.len() {
            // An EVENT_HEADER record of our provider goes straight to the full parser (which
            // checks everything); other records are peeked at and stepped over.
            let ours_at = event_provider_bytes(data, pos).map(u128::from_le_bytes) == Some(ours);
            if ours_at {
                // Fall through to the parser below.
            } else if let Some((adv, peek)) = peek_provider(data, pos) {
                let wanted = match peek {
                    ProviderPeek::Event { guid, .. } => {
                        let g = guid_bits(&guid);
                        g == ours || g == pnp_guid
                    }
                    _ => false,
                };
                if !wanted {
                    out.records += 1;
                    last_pos = Some(pos);
                    pos += adv;
                    continue;
                }
            }
            let mut one = Records::new(data, pos, b.offset);
            let r = one.next();
            let at = pos;
            pos = if one.position() > pos {
                one.position()
            } else {
                data.len()
            };
            let Some(r) = r else { break };
            let rec = match r {
                Ok(rec) => rec,
                Err(e) => {
                    let error = TraceError::etl(e, Some(b.index));
                    let what = format!("unreadable record: {error}");
                    emit!(Step::Error(error));
                    if last_raw != i64::MIN {
                        last_ts = last_ts.max(to_ns(last_raw));
                    }
                    emit!(Step::Push {
                        cpu: Some(cpu),
                        ts: Some(last_ts),
                        item: Item::Lost(LostEvents {
                            ts_ns: Some(last_ts),
                            count: 0,
                            what,
                        }),
                    });
                    continue;
                }
            };
            out.records += 1;
            last_pos = Some(at);
            let Record::Event(ev) = rec else {
                continue;
            };
            let raw = ev.header.time_stamp.get();
            last_raw = last_raw.max(raw);
            let provider = guid_bits(&ev.header.provider_id);
            if provider == ours {
                let ts = to_ns(raw);
                let tid = ev.header.thread_id.get();
                let activity = zerocopy::transmute!(ev.header.activity_id);
                let opcode = ev.header.event_descriptor.opcode;
                let layout = ev
                    .extended_item(EXT_TYPE_EVENT_SCHEMA_TL)
                    .and_then(|m| known.find_index(m.data, opcode));
                let step = match layout {
                    // A known layout: the payload is decoded by the analysing thread.
                    Some(layout) => {
                        let at = batch.bytes.len();
                        batch.bytes.extend_from_slice(ev.user_data);
                        Step::Known(KnownEvent {
                            cpu,
                            ts,
                            tid,
                            activity,
                            layout,
                            opcode,
                            ptr: pointer_size(&ev),
                            offset: ev.offset,
                            buffer: b.index,
                            payload: at..batch.bytes.len(),
                        })
                    }
                    None => match decode_wsk(&ev, known, &mut cache) {
                        Ok(event) => Step::Push {
                            cpu: Some(cpu),
                            ts: Some(ts),
                            item: Item::Wsk(TraceEvent {
                                ts_ns: ts,
                                tid,
                                activity,
                                event,
                            }),
                        },
                        Err(failure) => Step::Undecodable {
                            cpu,
                            ts,
                            error: TraceError::new(
                                ErrorKind::Event {
                                    offset: ev.offset,
                                    failure,
                                },
                                Some(b.index),
                            ),
                        },
                    },
                };
                emit!(step);
            } else if provider == pnp_guid {
                let ts = to_ns(raw);
                let id = ev.header.event_descriptor.id.get();
                if id == kernel_pnp::DRIVER_INIT_START || id == kernel_pnp::DRIVER_INIT_STOP {
                    if let Ok(init) = DriverInit::decode(id, ev.user_data) {
                        emit!(Step::Push {
                            cpu: Some(cpu),
                            ts: Some(ts),
                            item: Item::Pnp(PnpDriverInit {
                                ts_ns: ts,
                                tid: ev.header.thread_id.get(),
                                driver: init.driver().to_string(),
                                start: matches!(init, DriverInit::Start { .. }),
                            }),
                        });
                    }
                }
            }
        }
        // The buffer's latest time: its last record's (a processor's buffer is in time order;
        // a record a little older than that is handed on with a loss notice, never wrongly).
        if let Some(lp) = last_pos {
            if let Some(raw) = Records::new(data, lp, b.offset)
                .next()
                .and_then(|r| r.ok()?.timestamp())
            {
                last_raw = last_raw.max(raw);
            }
        }
        if b.events_lost() || b.buffers_lost() {
            let first_raw = Records::new(data, BUFFER_HEADER_SIZE, b.offset)
                .next()
                .and_then(|r| r.ok()?.timestamp());
            let at = first_raw.map_or(last_ts, to_ns);
            emit!(Step::Push {
                cpu: Some(cpu),
                ts: Some(at),
                item: Item::Lost(LostEvents {
                    ts_ns: Some(at),
                    count: 0,
                    what: format!(
                        "buffer at byte {:#x} (CPU {cpu}) is flagged {}",
                        b.offset,
                        if b.events_lost() {
                            "events lost"
                        } else {
                            "buffers lost"
                        }
                    ),
                }),
            });
        }
        if last_raw != i64::MIN {
            last_ts = last_ts.max(to_ns(last_raw));
        }
        out.max_ts = out.max_ts.max(last_ts);
        cpus.insert(cpu, (last_ts, index));
        let watermark = cpus
            .values()
            .filter(|(_, i)| i + WINDOW > index)
            .map(|(t, _)| *t)
            .min()
            .unwrap_or(0);
        emit!(Step::Release(watermark));
        flush(batch);
    }
    out
}
