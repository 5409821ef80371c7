//! The walk over a file's buffers and records: steps over other providers' records with the
//! reader's header peek, parses ours and Kernel-PnP's whole, and hands [`Step`]s on in file
//! order. A buffer's steps depend on that buffer alone (its processor's earlier time is
//! resolved by [`super::order`]), so buffers can be walked on several threads.

use std::io::Read;

use super::decode::{decode_general, decode_known, pointer_size, KnownLayouts};
use super::error::{DecodeFailure, ErrorKind, TraceError};
use super::parallel::Ahead;
use super::step::{At, Batch, Item, KnownEvent, Step};
use crate::analysis::{LostEvents, PnpDriverInit, TraceEvent};
use crate::etl::format::{Guid, BUFFER_HEADER_SIZE};
use crate::etl::header::{Clock, ClockType, LogfileInfo};
use crate::etl::reader::{Buffer, EtlReader};
use crate::etl::record::{parse_one, step_over_unwanted, EventRecord, Record, Records};
use crate::etl::{self};
use crate::kernel_pnp::{self, DriverInit};
use crate::tracelogging::{SchemaCache, EXT_TYPE_EVENT_SCHEMA_TL};
use crate::wsk_etl::provider_guid;

/// Buffers after which a processor that wrote nothing more no longer holds events back.
pub const WINDOW: u64 = 256;

/// A GUID as one integer: one compare per record instead of a `memcmp` call.
#[inline]
pub(super) fn guid_bits(g: &Guid) -> u128 {
    u128::from_le_bytes(g.to_bytes_le())
}

/// What walking a buffer needs that stays the same for the whole file.
#[derive(Clone, Copy)]
pub(super) struct WalkContext<'k> {
    known: &'k KnownLayouts,
    ours: u128,
    pnp: u128,
    /// Both, for the per-record test.
    wanted: [u128; 2],
    clock: Clock,
    /// A QPC of 10 MHz (or any frequency dividing 10⁹) converts with one multiply; anything
    /// else goes through the reader's clock (a division per timestamp).
    ns_per_tick: Option<i64>,
    /// Raw timestamp of the logfile header event (the trace start).
    reference: i64,
}

impl<'k> WalkContext<'k> {
    /// The context of a file with this logfile header.
    pub fn new(info: &LogfileInfo, known: &'k KnownLayouts) -> Self {
        let ns_per_tick = match (info.clock_type, info.clock_frequency()) {
            (ClockType::Qpc, Some(f)) if f > 0 && 1_000_000_000 % f == 0 => Some(1_000_000_000 / f),
            _ => None,
        };
        let (ours, pnp) = (
            guid_bits(&provider_guid()),
            guid_bits(&kernel_pnp::PROVIDER_GUID),
        );
        WalkContext {
            known,
            ours,
            pnp,
            wanted: [ours, pnp],
            clock: info.clock(),
            ns_per_tick,
            reference: info.header_timestamp,
        }
    }

    /// Nanoseconds since the trace start of a raw timestamp (0 for earlier ones).
    #[inline]
    fn ns_since_start(&self, raw: i64) -> u64 {
        if let Some(k) = self.ns_per_tick {
            if let Some(ns) = raw
                .checked_sub(self.reference)
                .and_then(|d| d.checked_mul(k))
            {
                return ns.max(0) as u64;
            }
        }
        self.clock.since_start_ns(raw).max(0) as u64
    }
}

/// Walks buffers one after another: the context, and the general decoder's schema cache
/// (one per thread that walks).
pub(super) struct Walker<'k> {
    ctx: WalkContext<'k>,
    cache: SchemaCache,
    /// Events of ours with a known layout are left to the side that feeds the sink to
    /// decode ([`Step::Known`]): when one thread walks and one feeds, decoding there
    /// balances the two; when several walk, they decode.
    defer_known: bool,
}

/// Where the walk of one buffer is.
struct InBuffer<'b> {
    buffer: &'b Buffer<'b>,
    cpu: u16,
    /// The latest raw timestamp of a record parsed so far (`i64::MIN`: none).
    last_raw: i64,
    /// The latest time at which an unreadable record was reported (0: none).
    error_ts: u64,
    /// Position of the last record read.
    last_pos: Option<usize>,
    records: u64,
}

impl<'k> Walker<'k> {
    /// A walker for a file with this context, leaving known layouts to the side that feeds
    /// the sink.
    pub fn new(ctx: WalkContext<'k>) -> Self {
        Walker {
            ctx,
            cache: SchemaCache::new(),
            defer_known: true,
        }
    }

    /// A walker that decodes every event of ours itself.
    pub fn decoding(ctx: WalkContext<'k>) -> Self {
        Walker {
            defer_known: false,
            ..Walker::new(ctx)
        }
    }

    /// The steps of a buffer that could not be read: the error and a loss notice.
    pub fn bad_buffer(&self, e: etl::Error, index: u64, batch: &mut Batch) {
        let error = TraceError::etl(e, Some(index));
        let what = format!("unreadable buffer: {error}");
        batch.steps.push(Step::Error(error));
        batch.steps.push(Step::Push {
            cpu: None,
            ts: At::LastOut,
            item: Item::Lost(LostEvents {
                ts_ns: None,
                count: 0,
                what,
            }),
        });
    }

    /// Walks one buffer: a step per record of ours or Kernel-PnP's, per unreadable record,
    /// per "events lost" flag, then [`Step::BufferEnd`]. Returns the records read.
    ///
    /// The per-record loop is the hot path of `check` (one iteration per record of every
    /// provider): it is kept in one piece; a record of another provider costs its header's
    /// checks and two GUID compares ([`step_over_unwanted`]), and the prefetch of the lines
    /// ahead.
    pub fn buffer(&mut self, b: &Buffer<'_>, batch: &mut Batch, ahead: &mut Ahead<'_>) -> u64 {
        let mut at = InBuffer {
            buffer: b,
            cpu: b.processor(),
            last_raw: i64::MIN,
            error_ts: 0,
            last_pos: None,
            records: 0,
        };
        let data = b.data;
        let mut pos = BUFFER_HEADER_SIZE;
        while pos < data.len() {
            ahead.walked_to(pos);
            // Records of ours and Kernel-PnP's, and any the quick checks leave, go to the
            // full parser (which checks everything); the rest are stepped over.
            if let Some(adv) = step_over_unwanted(data, pos, &self.ctx.wanted) {
                at.records += 1;
                at.last_pos = Some(pos);
                pos += adv;
                continue;
            }
            let start = pos;
            let (r, next) = parse_one(data, pos, b.offset);
            pos = next;
            match r {
                None => break,
                Some(Ok(rec)) => {
                    at.records += 1;
                    at.last_pos = Some(start);
                    if let Record::Event(ev) = rec {
                        self.event(&ev, &mut at, batch);
                    }
                }
                Some(Err(e)) => self.bad_record(e, &mut at, batch),
            }
        }
        self.end(&mut at, batch);
        at.records
    }

    /// An `EVENT_HEADER` record parsed whole: ours or Kernel-PnP's.
    fn event(&mut self, ev: &EventRecord<'_>, at: &mut InBuffer<'_>, batch: &mut Batch) {
        let raw = ev.header.time_stamp.get();
        at.last_raw = at.last_raw.max(raw);
        let provider = guid_bits(&ev.header.provider_id);
        if provider == self.ctx.ours {
            let step = self.ours(ev, at, batch);
            batch.steps.push(step);
        } else if provider == self.ctx.pnp {
            if let Some(step) = self.pnp(ev, at.cpu) {
                batch.steps.push(step);
            }
        }
    }

    /// An event of ours: with a known layout, its payload is copied for the side that feeds
    /// the sink to decode; otherwise it is decoded here.
    fn ours(&mut self, ev: &EventRecord<'_>, at: &InBuffer<'_>, batch: &mut Batch) -> Step {
        let ts = self.ctx.ns_since_start(ev.header.time_stamp.get());
        let tid = ev.header.thread_id.get();
        let activity = ev.header.activity_id.to_bytes_le();
        let opcode = ev.header.event_descriptor.opcode;
        let meta = ev.extended_item(EXT_TYPE_EVENT_SCHEMA_TL);
        let layout = meta.and_then(|m| self.ctx.known.find_index(m.data, opcode));
        if let (Some(layout), true) = (layout, self.defer_known) {
            let start = batch.bytes.len();
            batch.bytes.extend_from_slice(ev.user_data);
            return Step::Known(KnownEvent {
                cpu: at.cpu,
                ts,
                tid,
                activity,
                layout,
                opcode,
                ptr: pointer_size(ev),
                offset: ev.offset,
                buffer: at.buffer.index,
                payload: start..batch.bytes.len(),
            });
        }
        let decoded = match (meta, layout) {
            (Some(m), Some(layout)) => {
                let desc = self.ctx.known.metas[layout].1;
                decode_known(desc, ev.user_data)
                    .map_or_else(|| decode_general(ev, m.data, &mut self.cache), Ok)
            }
            (Some(m), None) => decode_general(ev, m.data, &mut self.cache),
            (None, _) => Err(DecodeFailure::NoMetadata),
        };
        match decoded {
            Ok(event) => Step::Push {
                cpu: Some(at.cpu),
                ts: At::Exact(ts),
                item: Item::Wsk(TraceEvent {
                    ts_ns: ts,
                    tid,
                    activity,
                    event,
                }),
            },
            Err(failure) => {
                let kind = ErrorKind::Event {
                    offset: ev.offset,
                    failure,
                };
                Step::Undecodable {
                    cpu: at.cpu,
                    ts,
                    error: TraceError::new(kind, Some(at.buffer.index)),
                }
            }
        }
    }

    /// A Kernel-PnP record: a DriverInit start or stop (226/227), if it is one.
    fn pnp(&self, ev: &EventRecord<'_>, cpu: u16) -> Option<Step> {
        let id = ev.header.event_descriptor.id.get();
        if id != kernel_pnp::DRIVER_INIT_START && id != kernel_pnp::DRIVER_INIT_STOP {
            return None;
        }
        let init = DriverInit::decode(id, ev.user_data).ok()?;
        let ts = self.ctx.ns_since_start(ev.header.time_stamp.get());
        Some(Step::Push {
            cpu: Some(cpu),
            ts: At::Exact(ts),
            item: Item::Pnp(PnpDriverInit {
                ts_ns: ts,
                tid: ev.header.thread_id.get(),
                driver: init.driver().to_string(),
                start: matches!(init, DriverInit::Start { .. }),
            }),
        })
    }

    /// A record that could not be read: the error, and a loss at the latest time known there.
    fn bad_record(&self, e: etl::Error, at: &mut InBuffer<'_>, batch: &mut Batch) {
        let error = TraceError::etl(e, Some(at.buffer.index));
        let what = format!("unreadable record: {error}");
        batch.steps.push(Step::Error(error));
        if at.last_raw != i64::MIN {
            at.error_ts = at.error_ts.max(self.ctx.ns_since_start(at.last_raw));
        }
        batch.steps.push(Step::Push {
            cpu: Some(at.cpu),
            ts: At::AfterCpu(at.error_ts),
            item: Item::Lost(LostEvents {
                ts_ns: None,
                count: 0,
                what,
            }),
        });
    }

    /// The end of a buffer: a loss notice for an "events lost" flag, then the buffer's
    /// latest time (its last record's: a processor's buffer is in time order; a record a
    /// little older than that is handed on with a loss notice, never wrongly).
    fn end(&self, at: &mut InBuffer<'_>, batch: &mut Batch) {
        let b = at.buffer;
        if let Some(lp) = at.last_pos {
            let last = Records::new(b.data, lp, b.offset).next();
            if let Some(raw) = last.and_then(|r| r.ok()?.timestamp()) {
                at.last_raw = at.last_raw.max(raw);
            }
        }
        if b.events_lost() || b.buffers_lost() {
            let first = Records::new(b.data, BUFFER_HEADER_SIZE, b.offset).next();
            let first_raw = first.and_then(|r| r.ok()?.timestamp());
            let ts = first_raw.map_or(At::AfterCpu(at.error_ts), |raw| {
                At::Exact(self.ctx.ns_since_start(raw))
            });
            let flag = if b.events_lost() {
                "events lost"
            } else {
                "buffers lost"
            };
            let what = format!(
                "buffer at byte {:#x} (CPU {}) is flagged {flag}",
                b.offset, at.cpu
            );
            batch.steps.push(Step::Push {
                cpu: Some(at.cpu),
                ts,
                item: Item::Lost(LostEvents {
                    ts_ns: None,
                    count: 0,
                    what,
                }),
            });
        }
        let latest = (at.last_raw != i64::MIN).then(|| self.ctx.ns_since_start(at.last_raw));
        batch.steps.push(Step::BufferEnd {
            cpu: at.cpu,
            latest,
        });
    }
}

/// Walks every buffer `reader` gives, handing the steps to `flush` after each buffer.
/// Returns the records read.
pub(super) fn walk<R: Read>(
    reader: &mut EtlReader<R>,
    walker: &mut Walker<'_>,
    batch: &mut Batch,
    flush: &mut dyn FnMut(&mut Batch),
) -> u64 {
    let mut records = 0;
    while let Some(b) = reader.next_buffer() {
        match b {
            Ok(b) => records += walker.buffer(&b, batch, &mut Ahead::off()),
            Err(e) => walker.bad_buffer(e, reader.buffer_index(), batch),
        }
        flush(batch);
    }
    records
}
