//! The one place where ETL files become analysis input: the ETL reader ([`crate::etl`]) walks
//! the file, the TraceLogging decoder ([`crate::tracelogging`]) decodes the events of
//! `Wsktrace.WskClient`, the driver's schema ([`wsktrace_driver::schema::WskEvent::decode`])
//! turns them into the typed view, and Kernel-PnP DriverInit events (226/227) are decoded by
//! [`crate::kernel_pnp`]. Everything goes to an [`EventSink`] in timestamp order.
//!
//! Order: the file is read once, in file order (every other provider's record costs a GUID
//! compare). ETW buffers are per processor, so our events can arrive out of timestamp order
//! across buffers; they are held in a small heap and released once every processor that wrote
//! in the last [`WINDOW`] buffers (and every processor the header announces, until the first
//! [`WINDOW`] buffers are read) has moved past them (each processor's buffers are in time
//! order). Memory is bounded by the events of ours within that window, not by the file. An
//! event that still arrives after later ones were handed on is handed on anyway, after a
//! [`LostEvents`] notice, so the verdicts it could change become inconclusive rather than
//! wrong.
//!
//! Threads ([`Threads`]): for one file, a second thread walks the file (the part `dump
//! --summary` also does) and hands batches of steps — events found, payloads of our
//! known-layout events still to decode, releases, errors — through a bounded channel to the
//! calling thread, which decodes, reorders and feeds the sink; the steps are the same either
//! way, so are the results.
//!
//! Losses become [`LostEvents`]: the logfile header's counts (in [`TraceContext`]), buffers
//! flagged "events lost", buffers or records that could not be read, and events of our
//! provider that could not be decoded.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use wsktrace_driver::schema::{self, FieldKind, FieldValue, WskEvent};

use crate::analysis::{EventSink, LostEvents, PnpDriverInit, TraceContext, TraceEvent};
use crate::etl::format::Guid;
use crate::etl::format::{
    BUFFER_HEADER_SIZE, TRACE_HEADER_TYPE_EVENT_HEADER32, TRACE_HEADER_TYPE_EVENT_HEADER64,
};
use crate::etl::header::{filetime_to_rfc3339, ClockType, LogfileInfo};
use crate::etl::reader::EtlReader;
use crate::etl::record::{peek_provider, EventRecord, ProviderPeek, Record, Records};
use crate::kernel_pnp::{self, DriverInit};
use crate::tracelogging::{self, PointerSize, SchemaCache, Value, EXT_TYPE_EVENT_SCHEMA_TL};

/// Buffers after which a processor that wrote nothing more no longer holds events back.
pub const WINDOW: u64 = 256;
/// Most events held for reordering (a safety bound; the window normally keeps it far lower).
pub const MAX_HELD: usize = 1 << 20;

/// What reading one file gave, besides what went to the sink.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    /// Header facts (also given to the sink).
    pub trace: TraceContext,
    /// Records read (all providers).
    pub records: u64,
    /// Events of our provider handed to the sink.
    pub events: u64,
    /// Events of our provider that could not be decoded.
    pub undecodable: u64,
    /// Kernel-PnP DriverInit events handed to the sink.
    pub pnp: u64,
    /// Events handed on after later ones (see the module doc).
    pub out_of_order: u64,
    /// Errors met while reading (each also printed by the caller); the rest was read.
    pub errors: Vec<String>,
}

/// A GUID as one integer: one compare per record instead of a `memcmp` call.
#[inline]
fn guid_bits(g: &Guid) -> u128 {
    let bytes: [u8; 16] = zerocopy::transmute!(*g);
    u128::from_le_bytes(bytes)
}

/// The provider GUID in the ETL reader's layout.
pub fn provider_guid() -> Guid {
    zerocopy::transmute!(schema::PROVIDER_GUID.to_bytes_le())
}

enum Item {
    Wsk(TraceEvent),
    Pnp(PnpDriverInit),
    Lost(LostEvents),
}

/// Events waiting for the watermark, one queue per processor (a processor's buffers are in
/// time order, so each queue stays sorted by appending) plus one for losses found outside
/// any buffer; releasing takes the smallest head across the queues (a k-way merge).
struct Orderer<'s, S: EventSink> {
    sink: &'s mut S,
    queues: Vec<VecDeque<(u64, u64, Item)>>,
    held: usize,
    seq: u64,
    last_out: u64,
    out_of_order: u64,
    events: u64,
    pnp: u64,
    undecodable: u64,
    errors: Vec<String>,
    cache: SchemaCache,
}

/// The queue for items found outside any buffer (unreadable buffers).
const NO_CPU: usize = 0;

impl<'s, S: EventSink> Orderer<'s, S> {
    fn new(sink: &'s mut S) -> Self {
        Orderer {
            sink,
            queues: vec![VecDeque::new()],
            held: 0,
            seq: 0,
            last_out: 0,
            out_of_order: 0,
            events: 0,
            pnp: 0,
            undecodable: 0,
            errors: Vec::new(),
            cache: SchemaCache::new(),
        }
    }

    /// Queues an item of processor `cpu` (`None`: not from a buffer).
    fn push(&mut self, cpu: Option<u16>, ts: u64, item: Item) {
        self.seq += 1;
        let q = cpu.map_or(NO_CPU, |c| usize::from(c) + 1);
        if q >= self.queues.len() {
            self.queues.resize_with(q + 1, VecDeque::new);
        }
        let queue = &mut self.queues[q];
        if queue.back().is_none_or(|b| b.0 <= ts) {
            queue.push_back((ts, self.seq, item));
        } else {
            // Not in order within its processor (clock adjustments): keep the queue sorted.
            let at = queue.partition_point(|e| e.0 <= ts);
            queue.insert(at, (ts, self.seq, item));
        }
        self.held += 1;
        if self.held > MAX_HELD {
            self.pop();
        }
    }

    /// The queue whose head comes first, and that head's time.
    fn first(&self) -> Option<(usize, u64)> {
        let mut best: Option<(usize, u64, u64)> = None;
        for (i, q) in self.queues.iter().enumerate() {
            if let Some(&(ts, seq, _)) = q.front() {
                if best.is_none_or(|(_, bt, bs)| (ts, seq) < (bt, bs)) {
                    best = Some((i, ts, seq));
                }
            }
        }
        best.map(|(i, ts, _)| (i, ts))
    }

    fn pop(&mut self) {
        if let Some((q, _)) = self.first() {
            self.pop_from(q);
        }
    }

    /// Hands on the head of queue `q` (by reference: the item is dropped in place after).
    fn pop_from(&mut self, q: usize) {
        let Some((ts, _, item)) = self.queues[q].front() else {
            return;
        };
        let ts = *ts;
        if ts < self.last_out {
            self.out_of_order += 1;
            if matches!(item, Item::Wsk(_)) {
                self.sink.lost(&LostEvents {
                    ts_ns: Some(ts),
                    count: 0,
                    what: "an event arrived out of timestamp order".to_string(),
                });
            }
        }
        self.last_out = self.last_out.max(ts);
        match item {
            Item::Wsk(ev) => {
                self.events += 1;
                self.sink.event(ev);
            }
            Item::Pnp(p) => {
                self.pnp += 1;
                self.sink.pnp(p);
            }
            Item::Lost(l) => self.sink.lost(l),
        }
        self.queues[q].pop_front();
        self.held -= 1;
    }

    /// Carries out the steps of `batch`, in order, and empties it.
    fn apply(&mut self, batch: &mut Batch, known: &KnownLayouts, on_error: &mut dyn FnMut(&str)) {
        for step in batch.steps.drain(..) {
            match step {
                Step::Push { cpu, ts, item } => {
                    let ts = ts.unwrap_or(self.last_out);
                    self.push(cpu, ts, item);
                }
                Step::Release(watermark) => self.release_until(watermark),
                Step::Error(msg) => {
                    on_error(&msg);
                    self.errors.push(msg);
                }
                Step::Undecodable { cpu, ts, msg } => self.undecodable(cpu, ts, msg, on_error),
                Step::Known(k) => {
                    let (meta, layout) = &known.metas[k.layout];
                    let payload = &batch.bytes[k.payload.clone()];
                    let event = decode_known(*layout, payload).map_or_else(
                        || decode_general_parts(meta, k.opcode, payload, k.ptr, &mut self.cache),
                        Ok,
                    );
                    match event {
                        Ok(event) => self.push(
                            Some(k.cpu),
                            k.ts,
                            Item::Wsk(TraceEvent {
                                ts_ns: k.ts,
                                tid: k.tid,
                                activity: k.activity,
                                event,
                            }),
                        ),
                        Err(e) => {
                            let msg = undecodable_msg(k.offset, &e);
                            self.undecodable(k.cpu, k.ts, msg, on_error);
                        }
                    }
                }
            }
        }
        batch.bytes.clear();
    }

    fn undecodable(&mut self, cpu: u16, ts: u64, msg: String, on_error: &mut dyn FnMut(&str)) {
        self.undecodable += 1;
        on_error(&msg);
        self.push(
            Some(cpu),
            ts,
            Item::Lost(LostEvents {
                ts_ns: Some(ts),
                count: 1,
                what: msg.clone(),
            }),
        );
        self.errors.push(msg);
    }

    fn release_until(&mut self, watermark: u64) {
        if self.held == 0 {
            return;
        }
        while let Some((q, ts)) = self.first() {
            if ts > watermark {
                break;
            }
            self.pop_from(q);
        }
    }
}

/// Converts a decoded TraceLogging value to the schema's field value for `kind`.
fn field_value<'a>(kind: FieldKind, v: &'a Value<'_>) -> Option<FieldValue<'a>> {
    let int = match v {
        Value::U64(x) | Value::Hex(x) => Some(*x),
        Value::I64(x) => u64::try_from(*x).ok(),
        Value::NtStatus(x) | Value::Bool(x) | Value::Win32Error(x) => Some(u64::from(*x)),
        Value::HResult(x) => Some(u64::from(*x as u32)),
        _ => None,
    };
    Some(match kind {
        FieldKind::Str => match v {
            Value::Str(s) => FieldValue::Str(s.as_ref()),
            _ => return None,
        },
        FieldKind::U8 | FieldKind::Bool => FieldValue::U8(u8::try_from(int?).ok()?),
        FieldKind::U16Hex => FieldValue::U16(u16::try_from(int?).ok()?),
        FieldKind::U32 | FieldKind::Status => FieldValue::U32(u32::try_from(int?).ok()?),
        FieldKind::U64 => FieldValue::U64(int?),
    })
}

/// The TraceLogging metadata of every event of the schema, as [`crate::wsk_etl`] encodes it
/// from the descriptors. An event whose metadata item is byte-identical to one of these has
/// the descriptor's fields, in order, as its payload, and is read directly (a fast path: the
/// general decoder builds a value tree first). Any other metadata goes through the general
/// TraceLogging decoder, so a driver build whose metadata differs is still read.
pub struct KnownLayouts {
    metas: Vec<(Vec<u8>, Known)>,
}

/// A known layout: its descriptor and the variant it builds (resolved once, not per event).
#[derive(Clone, Copy, Debug)]
struct Known {
    desc: &'static schema::EventDescriptor,
    variant: Variant,
}

/// The [`WskEvent`] variants the fast path builds (by position, see [`build`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    DriverEntryStart,
    DriverEntryStop,
    WskRegister,
    CaptureProviderNpiStart,
    CaptureProviderNpiStop,
    QueryProviderCharacteristics,
    DispatchCall,
    ReleaseProviderNpi,
    WskDeregisterStart,
    WskDeregisterStop,
    DriverUnloadStart,
    DriverUnloadStop,
    CaptureRefused,
    SocketCreated,
    SocketBind,
    AcceptStart,
    AcceptStop,
    CloseSocketStart,
    CloseSocketStop,
}

impl Variant {
    /// The variant named `name` (a descriptor's `variant`); `None` for one this file does not
    /// know (its events then go through the general decoder).
    fn of(name: &str) -> Option<Variant> {
        Some(match name {
            "DriverEntryStart" => Variant::DriverEntryStart,
            "DriverEntryStop" => Variant::DriverEntryStop,
            "WskRegister" => Variant::WskRegister,
            "CaptureProviderNpiStart" => Variant::CaptureProviderNpiStart,
            "CaptureProviderNpiStop" => Variant::CaptureProviderNpiStop,
            "QueryProviderCharacteristics" => Variant::QueryProviderCharacteristics,
            "DispatchCall" => Variant::DispatchCall,
            "ReleaseProviderNpi" => Variant::ReleaseProviderNpi,
            "WskDeregisterStart" => Variant::WskDeregisterStart,
            "WskDeregisterStop" => Variant::WskDeregisterStop,
            "DriverUnloadStart" => Variant::DriverUnloadStart,
            "DriverUnloadStop" => Variant::DriverUnloadStop,
            "CaptureRefused" => Variant::CaptureRefused,
            "SocketCreated" => Variant::SocketCreated,
            "SocketBind" => Variant::SocketBind,
            "AcceptStart" => Variant::AcceptStart,
            "AcceptStop" => Variant::AcceptStop,
            "CloseSocketStart" => Variant::CloseSocketStart,
            "CloseSocketStop" => Variant::CloseSocketStop,
            _ => return None,
        })
    }
}

impl Default for KnownLayouts {
    fn default() -> Self {
        KnownLayouts {
            metas: schema::DESCRIPTORS
                .iter()
                .filter_map(|d| {
                    let bytes = crate::wsk_etl::tracelogging_schema(d).to_bytes().ok()?;
                    let variant = Variant::of(d.variant)?;
                    Some((bytes, Known { desc: d, variant }))
                })
                .collect(),
        }
    }
}

impl KnownLayouts {
    fn find(&self, meta: &[u8], opcode: u8) -> Option<Known> {
        self.find_index(meta, opcode).map(|i| self.metas[i].1)
    }

    fn find_index(&self, meta: &[u8], opcode: u8) -> Option<usize> {
        self.metas
            .iter()
            .position(|(m, k)| k.desc.opcode == opcode && m.len() == meta.len() && m[..] == *meta)
    }
}

/// Reads the payload of an event with a known layout; `None` if it does not fit exactly.
fn decode_known(known: Known, payload: &[u8]) -> Option<WskEvent> {
    const MAX_FIELDS: usize = 8;
    let desc = known.desc;
    if desc.fields.len() > MAX_FIELDS {
        return None;
    }
    let mut fields: [FieldValue<'_>; MAX_FIELDS] = [FieldValue::U8(0); MAX_FIELDS];
    let mut pos = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let b = payload.get(pos..pos.checked_add(n)?)?;
        pos += n;
        Some(b)
    };
    for (slot, f) in fields.iter_mut().zip(desc.fields) {
        *slot = match f.kind {
            FieldKind::U8 | FieldKind::Bool => FieldValue::U8(take(1)?[0]),
            FieldKind::U16Hex => FieldValue::U16(u16::from_le_bytes(take(2)?.try_into().ok()?)),
            FieldKind::U32 | FieldKind::Status => {
                FieldValue::U32(u32::from_le_bytes(take(4)?.try_into().ok()?))
            }
            FieldKind::U64 => FieldValue::U64(u64::from_le_bytes(take(8)?.try_into().ok()?)),
            FieldKind::Str => {
                let n = u16::from_le_bytes(take(2)?.try_into().ok()?);
                FieldValue::Str(std::str::from_utf8(take(usize::from(n))?).ok()?)
            }
        };
    }
    if pos != payload.len() {
        return None;
    }
    build(known.variant, &fields[..desc.fields.len()])
}

/// The typed event from its field values in schema order (what `WskEvent::decode` does by
/// name; positional here, since the layout was matched). The test
/// `fast_path_and_general_decoder_agree_on_every_event` holds the two together, and a
/// schema change that renames or adds a field fails to compile here.
fn build(variant: Variant, v: &[FieldValue<'_>]) -> Option<WskEvent> {
    use wsktrace_driver::ntstatus::NtStatus;
    let u8_ = |i: usize| match v.get(i)? {
        FieldValue::U8(x) => Some(*x),
        _ => None,
    };
    let u16_ = |i: usize| match v.get(i)? {
        FieldValue::U16(x) => Some(*x),
        _ => None,
    };
    let u32_ = |i: usize| match v.get(i)? {
        FieldValue::U32(x) => Some(*x),
        _ => None,
    };
    let u64_ = |i: usize| match v.get(i)? {
        FieldValue::U64(x) => Some(*x),
        _ => None,
    };
    let str_ = |i: usize| match v.get(i)? {
        FieldValue::Str(x) => Some(x.to_string()),
        _ => None,
    };
    let st = |i: usize| u32_(i).map(NtStatus::from_u32);
    Some(match variant {
        Variant::DriverEntryStart => WskEvent::DriverEntryStart {
            client_name: str_(0)?,
        },
        Variant::DriverEntryStop => WskEvent::DriverEntryStop {
            client_name: str_(0)?,
            status: st(1)?,
            duration_ns: u64_(2)?,
        },
        Variant::WskRegister => WskEvent::WskRegister {
            registration_id: u32_(0)?,
            npi_version: u16_(1)?,
            status: st(2)?,
            duration_ns: u64_(3)?,
        },
        Variant::CaptureProviderNpiStart => WskEvent::CaptureProviderNpiStart {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            wait_timeout_ms: u32_(2)?,
            calling_context: u8_(3)?,
        },
        Variant::CaptureProviderNpiStop => WskEvent::CaptureProviderNpiStop {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            status: st(2)?,
            wait_ns: u64_(3)?,
        },
        Variant::QueryProviderCharacteristics => WskEvent::QueryProviderCharacteristics {
            registration_id: u32_(0)?,
            status: st(1)?,
            lowest_version: u16_(2)?,
            highest_version: u16_(3)?,
        },
        Variant::DispatchCall => WskEvent::DispatchCall {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            function: str_(2)?,
            status: st(3)?,
            duration_ns: u64_(4)?,
        },
        Variant::ReleaseProviderNpi => WskEvent::ReleaseProviderNpi {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            held_ns: u64_(2)?,
            dispatch_calls: u32_(3)?,
            implicit: u8_(4)? != 0,
        },
        Variant::WskDeregisterStart => WskEvent::WskDeregisterStart {
            registration_id: u32_(0)?,
            captures_outstanding: u32_(1)?,
        },
        Variant::WskDeregisterStop => WskEvent::WskDeregisterStop {
            registration_id: u32_(0)?,
            wait_ns: u64_(1)?,
        },
        Variant::DriverUnloadStart => WskEvent::DriverUnloadStart {},
        Variant::DriverUnloadStop => WskEvent::DriverUnloadStop {
            duration_ns: u64_(0)?,
        },
        Variant::CaptureRefused => WskEvent::CaptureRefused {
            registration_id: u32_(0)?,
            wait_timeout_ms: u32_(1)?,
            calling_context: u8_(2)?,
            status: st(3)?,
        },
        Variant::SocketCreated => WskEvent::SocketCreated {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            socket_id: u32_(2)?,
            socket_kind: u8_(3)?,
            address_family: u32_(4)?,
        },
        Variant::SocketBind => WskEvent::SocketBind {
            registration_id: u32_(0)?,
            socket_id: u32_(1)?,
            address: str_(2)?,
            port: u32_(3)?,
            status: st(4)?,
            duration_ns: u64_(5)?,
        },
        Variant::AcceptStart => WskEvent::AcceptStart {
            registration_id: u32_(0)?,
            socket_id: u32_(1)?,
        },
        Variant::AcceptStop => WskEvent::AcceptStop {
            registration_id: u32_(0)?,
            socket_id: u32_(1)?,
            status: st(2)?,
            accepted_socket_id: u32_(3)?,
            remote_address: str_(4)?,
            remote_port: u32_(5)?,
            wait_ns: u64_(6)?,
        },
        Variant::CloseSocketStart => WskEvent::CloseSocketStart {
            registration_id: u32_(0)?,
            socket_id: u32_(1)?,
        },
        Variant::CloseSocketStop => WskEvent::CloseSocketStop {
            registration_id: u32_(0)?,
            socket_id: u32_(1)?,
            status: st(2)?,
            duration_ns: u64_(3)?,
        },
    })
}

/// Decodes one event of our provider into the typed view.
pub fn decode_wsk(
    ev: &EventRecord<'_>,
    known: &KnownLayouts,
    cache: &mut SchemaCache,
) -> Result<WskEvent, String> {
    let meta = ev
        .extended_item(EXT_TYPE_EVENT_SCHEMA_TL)
        .ok_or("no TraceLogging metadata (extended item 11)")?;
    if let Some(k) = known.find(meta.data, ev.header.event_descriptor.opcode) {
        if let Some(event) = decode_known(k, ev.user_data) {
            return Ok(event);
        }
    }
    decode_general(ev, meta.data, cache)
}

/// Decodes with the general TraceLogging decoder, then the schema's typed view.
fn decode_general(
    ev: &EventRecord<'_>,
    meta: &[u8],
    cache: &mut SchemaCache,
) -> Result<WskEvent, String> {
    let opcode = ev.header.event_descriptor.opcode;
    decode_general_parts(meta, opcode, ev.user_data, pointer_size(ev), cache)
}

/// [`decode_general`] from the parts of the record it reads.
fn decode_general_parts(
    meta: &[u8],
    opcode: u8,
    user_data: &[u8],
    ptr: PointerSize,
    cache: &mut SchemaCache,
) -> Result<WskEvent, String> {
    let schema = cache.get(meta).map_err(|e| e.to_string())?.clone();
    let decoded = tracelogging::decode(&schema, user_data, ptr).map_err(|e| e.to_string())?;
    let desc = schema::find_descriptor(decoded.name, opcode)
        .ok_or_else(|| format!("unknown event {:?} with opcode {opcode}", decoded.name))?;
    let mut fields = Vec::with_capacity(desc.fields.len());
    for f in desc.fields {
        if let Some(v) = decoded.field(f.name) {
            match field_value(f.kind, v) {
                Some(fv) => fields.push((f.name, fv)),
                None => {
                    return Err(format!(
                        "event {}: field {} has an unexpected type",
                        desc.variant, f.name
                    ))
                }
            }
        }
    }
    WskEvent::decode(decoded.name, opcode, &fields).map_err(|e| e.to_string())
}

/// Reads `path` and feeds `sink` (see the module doc). `on_error` gets each error as it is met
/// (the caller prints `wsktrace: <path>: <error>`). `Err` only when the file cannot be opened
/// or has no valid logfile header; then the sink has not been called.
pub fn read_file<S: EventSink>(
    path: &Path,
    sink: &mut S,
    on_error: &mut dyn FnMut(&str),
) -> Result<ReadOutcome, String> {
    read_file_with(path, sink, on_error, Threads::Pipelined)
}

/// How [`read_file_with`] uses threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// One thread walks the file and decodes our events while the calling thread reorders
    /// them and feeds the sink, [`DEPTH`] × [`BATCH`] buffers' worth in flight at most (for one file on a
    /// machine with cores to spare). Falls back to [`Threads::One`] on a single core.
    Pipelined,
    /// Everything on the calling thread (files read in parallel already fill the cores).
    One,
}

/// Batches of steps in flight between the walking and the analysing thread.
pub const DEPTH: usize = 2;
/// Buffers whose steps go over as one batch (a hand-over per buffer costs more in thread
/// wake-ups than the work it moves).
pub const BATCH: usize = 128;

/// [`read_file`], choosing how threads are used (the result is the same either way).
pub fn read_file_with<S: EventSink>(
    path: &Path,
    sink: &mut S,
    on_error: &mut dyn FnMut(&str),
    threads: Threads,
) -> Result<ReadOutcome, String> {
    let mut reader = EtlReader::open(path).map_err(|e| e.to_string())?;
    let info = reader.info().clone();
    let trace = TraceContext {
        start_since_boot_ns: (info.boot_time > 0 && info.start_time >= info.boot_time)
            .then(|| ((info.start_time - info.boot_time) as u64).saturating_mul(100)),
        start_utc: (info.start_time > 0).then(|| filetime_to_rfc3339(info.start_time)),
        events_lost: u64::from(info.events_lost),
        buffers_lost: u64::from(info.buffers_lost),
    };
    sink.begin(&trace);
    let known = KnownLayouts::default();
    let mut ord = Orderer::new(sink);
    let pipelined = threads == Threads::Pipelined
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let walked = if pipelined {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(DEPTH);
        let (info, known) = (&info, &known);
        std::thread::scope(|s| {
            let walker = s.spawn(move || {
                let mut buffers = 0usize;
                let mut flush = |batch: &mut Batch| {
                    buffers += 1;
                    if buffers == BATCH {
                        buffers = 0;
                        let next = Batch {
                            steps: Vec::with_capacity(batch.steps.len()),
                            bytes: Vec::with_capacity(batch.bytes.len()),
                        };
                        // A closed channel means the analysing thread panicked; the join
                        // below reports that.
                        let _ = tx.send(std::mem::replace(batch, next));
                    }
                };
                let mut batch = Batch::default();
                let walked = walk(&mut reader, info, known, &mut batch, &mut flush);
                if !batch.steps.is_empty() {
                    let _ = tx.send(batch);
                }
                walked
            });
            for mut batch in rx {
                ord.apply(&mut batch, known, on_error);
            }
            walker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    } else {
        let mut flush = |batch: &mut Batch| {
            ord.apply(batch, &known, on_error);
        };
        let mut batch = Batch::default();
        let walked = walk(&mut reader, &info, &known, &mut batch, &mut flush);
        ord.apply(&mut batch, &known, on_error);
        walked
    };
    ord.release_until(u64::MAX);
    let out = ReadOutcome {
        trace,
        records: walked.records,
        events: ord.events,
        undecodable: ord.undecodable,
        pnp: ord.pnp,
        out_of_order: ord.out_of_order,
        errors: std::mem::take(&mut ord.errors),
    };
    let header_end = (info.end_time > info.start_time && info.start_time > 0)
        .then(|| ((info.end_time - info.start_time) as u64).saturating_mul(100));
    let end_ns = header_end.unwrap_or(0).max(walked.max_ts);
    ord.sink.finish(end_ns);
    Ok(out)
}

/// What the walk hands on, in file order, to the thread that feeds the sink.
enum Step {
    /// Queue `item` for reordering (`ts: None`: at the latest time handed on so far).
    Push {
        cpu: Option<u16>,
        ts: Option<u64>,
        item: Item,
    },
    /// Hand on everything up to this time.
    Release(u64),
    /// An error to report (`on_error`), in its place among the events.
    Error(String),
    /// An event of ours that could not be decoded.
    Undecodable { cpu: u16, ts: u64, msg: String },
    /// An event of ours with a known layout, still to be decoded.
    Known(KnownEvent),
}

/// An event of ours with a known layout, decoded by the thread that feeds the sink.
struct KnownEvent {
    cpu: u16,
    ts: u64,
    tid: u32,
    activity: [u8; 16],
    /// Index in [`KnownLayouts`].
    layout: usize,
    opcode: u8,
    ptr: PointerSize,
    /// File offset of the record (for messages).
    offset: u64,
    /// The payload, in [`Batch::bytes`].
    payload: std::ops::Range<usize>,
}

/// Steps of one or more buffers, and the payloads they refer to.
#[derive(Default)]
struct Batch {
    steps: Vec<Step>,
    bytes: Vec<u8>,
}

/// What the walk found, besides the steps it handed on.
#[derive(Default)]
struct Walked {
    records: u64,
    max_ts: u64,
}

fn pointer_size(ev: &EventRecord<'_>) -> PointerSize {
    if ev.pointer_size() == 4 {
        PointerSize::Four
    } else {
        PointerSize::Eight
    }
}

fn undecodable_msg(offset: u64, e: &str) -> String {
    format!(
        "byte {offset:#x}: event of {} not decodable: {e}",
        schema::PROVIDER_NAME
    )
}

/// Walks the file's buffers and records (see the module doc), decoding our events and
/// Kernel-PnP's, and hands each step to `emit`.
fn walk(
    reader: &mut EtlReader<std::fs::File>,
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
                let msg = e.to_string();
                emit!(Step::Error(msg.clone()));
                emit!(Step::Push {
                    cpu: None,
                    ts: None,
                    item: Item::Lost(LostEvents {
                        ts_ns: None,
                        count: 0,
                        what: format!("unreadable buffer: {msg}"),
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
            let ours_at = data.get(pos..pos + 40).is_some_and(|h| {
                matches!(
                    h[2],
                    TRACE_HEADER_TYPE_EVENT_HEADER32 | TRACE_HEADER_TYPE_EVENT_HEADER64
                ) && u128::from_le_bytes(h[24..40].try_into().expect("16 bytes")) == ours
            });
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
                    let msg = e.to_string();
                    emit!(Step::Error(msg.clone()));
                    if last_raw != i64::MIN {
                        last_ts = last_ts.max(to_ns(last_raw));
                    }
                    emit!(Step::Push {
                        cpu: Some(cpu),
                        ts: Some(last_ts),
                        item: Item::Lost(LostEvents {
                            ts_ns: Some(last_ts),
                            count: 0,
                            what: format!("unreadable record: {msg}"),
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
                        Err(e) => Step::Undecodable {
                            cpu,
                            ts,
                            msg: undecodable_msg(ev.offset, &e),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::balance::{BalanceConfig, Rule, Severity, Verdict};
    use crate::analysis::testkit::{Seq, MS};
    use crate::analysis::{run, AllAnalyses, WSK_INFINITE_WAIT};
    use crate::etl::write::SessionConfig;
    use crate::report::browser::temp_dir;
    use crate::wsk_etl::{Context, WskEtlWriter};
    use wsktrace_driver::ntstatus::NtStatus;

    /// The session starts 5 s after boot (SessionConfig's default); events are written 1 ms
    /// after that plus their Seq time.
    const START: u64 = 5_000 * MS;
    const SHIFT: u64 = MS;

    fn write(seq: &Seq, path: &Path, config: SessionConfig, lost_at: Option<usize>) {
        let file = std::fs::File::create(path).unwrap();
        let processors = config.processors;
        let mut w = WskEtlWriter::new(std::io::BufWriter::new(file), config).unwrap();
        let (mut i, mut j) = (0, 0);
        while i < seq.events.len() || j < seq.pnp.len() {
            let take_event = j >= seq.pnp.len()
                || (i < seq.events.len() && seq.events[i].ts_ns <= seq.pnp[j].ts_ns);
            if take_event {
                let e = &seq.events[i];
                let ctx = Context {
                    since_boot_ns: START + SHIFT + e.ts_ns,
                    processor: (e.tid % u32::from(processors)) as u16,
                    thread_id: e.tid,
                    process_id: 4,
                };
                w.write_wsk(&ctx, e.activity, &e.event).unwrap();
                if lost_at == Some(i) {
                    w.record_lost(ctx.processor, 2).unwrap();
                }
                i += 1;
            } else {
                let p = &seq.pnp[j];
                let ctx = Context {
                    since_boot_ns: START + SHIFT + p.ts_ns,
                    processor: (p.tid % u32::from(processors)) as u16,
                    thread_id: p.tid,
                    process_id: 4,
                };
                let init = if p.start {
                    DriverInit::Start {
                        driver: p.driver.clone(),
                    }
                } else {
                    DriverInit::Stop {
                        driver: p.driver.clone(),
                        status: 0,
                    }
                };
                w.write_pnp(&ctx, &init).unwrap();
                j += 1;
            }
        }
        w.finish(START + SHIFT + seq.now + MS).unwrap();
    }

    fn shifted(seq: &Seq) -> Seq {
        let mut s = Seq::new();
        s.events = seq.events.clone();
        s.pnp = seq.pnp.clone();
        s.events.iter_mut().for_each(|e| e.ts_ns += SHIFT);
        s.pnp.iter_mut().for_each(|p| p.ts_ns += SHIFT);
        s.now = seq.now + SHIFT;
        s
    }

    fn all() -> AllAnalyses {
        AllAnalyses {
            balance: crate::analysis::balance::BalanceChecker::new(BalanceConfig {
                keep_ok: true,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn sample() -> Seq {
        let mut s = Seq::new();
        s.pnp(4, "\\Driver\\acpi", true)
            .wait(MS)
            .pnp(4, "\\Driver\\acpi", false);
        s.driver_entry(4, "wskclient").register(4, 1);
        s.capture(4, 1, 1, WSK_INFINITE_WAIT, 0, 40 * MS, NtStatus::SUCCESS);
        s.dispatch(4, 1, 1).release(4, 1, 1, 1_000);
        s.release(4, 1, 1, 0);
        s.driver_entry_stop(4, "wskclient", 41 * MS);
        s.pnp(4, "\\Driver\\next", true)
            .wait(MS)
            .pnp(4, "\\Driver\\next", false);
        s.register(7, 2);
        s.capture(7, 2, 2, 100, 1, 3 * MS, NtStatus::SUCCESS);
        s.dispatch(7, 2, 2).release(7, 2, 2, 2 * MS);
        s.dereg_start(5, 1, 0).dereg_stop(5, 1);
        s.dereg_start(5, 2, 0).dereg_stop(5, 2).unload(5);
        s
    }

    #[test]
    fn file_gives_the_same_results_as_the_sequence() {
        let seq = sample();
        let dir = temp_dir("source-roundtrip");
        // 1 KiB buffers on 4 processors: our events land in many buffers, out of file order.
        let config = SessionConfig {
            buffer_size: 1024,
            processors: 4,
            ..Default::default()
        };
        let path = dir.join("t.etl");
        write(&seq, &path, config, None);

        let mut from_file = all();
        let out = read_file(&path, &mut from_file, &mut |e| panic!("{e}")).unwrap();
        assert_eq!(out.events, seq.events.len() as u64);
        assert_eq!(out.pnp, seq.pnp.len() as u64);
        assert_eq!(out.undecodable, 0);
        assert_eq!(out.trace.start_since_boot_ns, Some(START));
        assert!(out.errors.is_empty());

        let mut direct = all();
        let s = shifted(&seq);
        run(&mut direct, &out.trace, &s.events, &s.pnp, s.now + MS);
        let (a, b) = (from_file.balance.report(), direct.balance.report());
        assert_eq!(a, b);
        assert_eq!(
            a.findings()
                .map(|f| (f.rule, f.severity))
                .collect::<Vec<_>>(),
            [
                (Rule::InfiniteWaitOnDriverEntryThread, Severity::Warning),
                (Rule::DoubleRelease, Severity::Violation)
            ]
        );
        assert_eq!(from_file.latency.report(), direct.latency.report());
        assert_eq!(from_file.boot.report(), direct.boot.report());
        let boot = from_file.boot.report();
        assert_eq!(boot.clients[0].blocked_in_capture_ns, 40 * MS);
        assert_eq!(boot.clients[0].delayed_drivers[0].driver, "\\Driver\\next");
        assert_eq!(boot.clients[0].delayed_drivers[0].delay_ns, 40 * MS);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The rules the simulator's lifecycle core cannot break (its guard type and bounded
    /// negotiation prevent them): hand-built traces, written as ETL and read back.
    #[test]
    fn each_rule_broken_in_an_etl_file_gives_exactly_its_finding() {
        type Build = fn(&mut Seq);
        let cases: [(&str, Build, Rule); 8] = [
            (
                "release-without-capture",
                |s| {
                    s.release(4, 1, 5, 0);
                },
                Rule::ReleaseWithoutCapture,
            ),
            (
                "capture-after-deregister",
                |s| {
                    s.dereg_start(4, 1, 0).cap_start(8, 1, 5, 0, 1);
                    s.cap_stop(8, 1, 5, NtStatus::INVALID_DEVICE_STATE, 0);
                },
                Rule::CaptureAfterDeregister,
            ),
            (
                "deregister-with-captures-outstanding",
                |s| {
                    s.capture(4, 1, 5, 0, 1, 0, NtStatus::SUCCESS);
                    s.dereg_start(4, 1, 1).dereg_stop(4, 1).release(4, 1, 5, 0);
                },
                Rule::DeregisterWithCapturesOutstanding,
            ),
            (
                "infinite-wait-on-driverentry-thread",
                |s| {
                    s.capture(4, 1, 5, WSK_INFINITE_WAIT, 0, 5 * MS, NtStatus::SUCCESS);
                    s.release(4, 1, 5, 0);
                },
                Rule::InfiniteWaitOnDriverEntryThread,
            ),
            (
                "long-wait-on-driverentry-thread",
                |s| {
                    s.capture(4, 1, 5, 30_000, 0, 5 * MS, NtStatus::SUCCESS);
                    s.release(4, 1, 5, 0);
                },
                Rule::LongWaitOnDriverEntryThread,
            ),
            (
                "nointerface-without-fallback",
                |s| {
                    s.capture(4, 1, 5, 0, 0, 0, NtStatus::NOINTERFACE)
                        .query(4, 1);
                },
                Rule::NointerfaceWithoutFallback,
            ),
            (
                "dispatch-without-capture",
                |s| {
                    s.capture(4, 1, 5, 0, 0, 0, NtStatus::DEVICE_NOT_READY);
                    s.dispatch(4, 1, 5);
                },
                Rule::DispatchWithoutCapture,
            ),
            (
                "unload-without-deregister",
                |s| {
                    s.unload(4);
                },
                Rule::UnloadWithoutDeregister,
            ),
        ];
        let dir = temp_dir("source-rules");
        for (name, build, rule) in cases {
            let mut s = Seq::new();
            s.driver_entry(4, "wskclient").register(4, 1);
            build(&mut s);
            if rule != Rule::UnloadWithoutDeregister {
                if !s
                    .events
                    .iter()
                    .any(|e| matches!(e.event, WskEvent::WskDeregisterStart { .. }))
                {
                    s.dereg_start(4, 1, 0);
                }
                if !s
                    .events
                    .iter()
                    .any(|e| matches!(e.event, WskEvent::WskDeregisterStop { .. }))
                {
                    s.dereg_stop(4, 1);
                }
                s.unload(4);
            }
            let path = dir.join(format!("{name}.etl"));
            write(&s, &path, SessionConfig::default(), None);
            let mut a = all();
            read_file(&path, &mut a, &mut |e| panic!("{e}")).unwrap();
            let r = a.balance.report();
            let got: Vec<(Rule, Severity)> = r.findings().map(|f| (f.rule, f.severity)).collect();
            assert_eq!(got, [(rule, rule.severity())], "{name}");
            assert_eq!(rule.id(), name);
            let f = r.findings().next().unwrap();
            assert_eq!(
                (f.registration, f.tid),
                (
                    Some(1),
                    if name == "capture-after-deregister" {
                        8
                    } else {
                        4
                    }
                ),
                "{name}"
            );
            assert!(!f.events.is_empty(), "{name}");
            let want = match rule.severity() {
                Severity::Violation => Verdict::Violation,
                _ => Verdict::Ok,
            };
            assert_eq!(r.verdict, want, "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn socket_samples() -> Vec<(&'static str, WskEvent)> {
        vec![
            (
                "CaptureRefused",
                WskEvent::CaptureRefused {
                    registration_id: 4,
                    wait_timeout_ms: 0,
                    calling_context: 2,
                    status: NtStatus::INVALID_DEVICE_STATE,
                },
            ),
            (
                "SocketCreated",
                WskEvent::SocketCreated {
                    registration_id: 4,
                    capture_id: 1,
                    socket_id: 1,
                    socket_kind: 0,
                    address_family: 2,
                },
            ),
            (
                "SocketBind",
                WskEvent::SocketBind {
                    registration_id: 4,
                    socket_id: 1,
                    address: "127.0.0.1".into(),
                    port: 40123,
                    status: NtStatus::SUCCESS,
                    duration_ns: 3,
                },
            ),
            (
                "AcceptStart",
                WskEvent::AcceptStart {
                    registration_id: 4,
                    socket_id: 1,
                },
            ),
            (
                "AcceptStop",
                WskEvent::AcceptStop {
                    registration_id: 4,
                    socket_id: 1,
                    status: NtStatus::SUCCESS,
                    accepted_socket_id: 2,
                    remote_address: "127.0.0.1".into(),
                    remote_port: 50001,
                    wait_ns: 5,
                },
            ),
            (
                "CloseSocketStart",
                WskEvent::CloseSocketStart {
                    registration_id: 4,
                    socket_id: 2,
                },
            ),
            (
                "CloseSocketStop",
                WskEvent::CloseSocketStop {
                    registration_id: 4,
                    socket_id: 2,
                    status: NtStatus::SUCCESS,
                    duration_ns: 6,
                },
            ),
        ]
    }

    #[test]
    fn fast_path_and_general_decoder_agree_on_every_event() {
        let mut seq = sample();
        seq.query(4, 1).cap_stop(4, 1, 9, NtStatus::NOINTERFACE, 7);
        // The socket events and the refused capture.
        for (variant, event) in socket_samples() {
            assert_eq!(event.descriptor().variant, variant);
            seq.push(4, event);
        }
        let kinds: std::collections::HashSet<&str> = seq
            .events
            .iter()
            .map(|e| e.event.descriptor().variant)
            .collect();
        assert_eq!(kinds.len(), schema::DESCRIPTORS.len(), "every event kind");
        let dir = temp_dir("source-fastpath");
        let path = dir.join("t.etl");
        write(&seq, &path, SessionConfig::default(), None);
        let known = KnownLayouts::default();
        let (mut cache, mut fast) = (SchemaCache::new(), 0);
        let mut decoded = Vec::new();
        let mut reader = EtlReader::open(&path).unwrap();
        while let Some(b) = reader.next_buffer() {
            for r in b.unwrap().records() {
                let Record::Event(ev) = r.unwrap() else {
                    continue;
                };
                if guid_bits(&ev.header.provider_id) != guid_bits(&provider_guid()) {
                    continue;
                }
                let meta = ev.extended_item(EXT_TYPE_EVENT_SCHEMA_TL).unwrap();
                let general = decode_general(&ev, meta.data, &mut cache).unwrap();
                let desc = known
                    .find(meta.data, ev.header.event_descriptor.opcode)
                    .unwrap();
                assert_eq!(decode_known(desc, ev.user_data), Some(general.clone()));
                // A payload one byte short is left to the general decoder.
                if let Some(short) = ev.user_data.len().checked_sub(1) {
                    assert_eq!(decode_known(desc, &ev.user_data[..short]), None);
                }
                fast += 1;
                decoded.push(general);
            }
        }
        let mut want: Vec<WskEvent> = seq.events.iter().map(|e| e.event.clone()).collect();
        want.sort_by_key(|e| format!("{e:?}"));
        decoded.sort_by_key(|e| format!("{e:?}"));
        assert_eq!(decoded, want);
        assert_eq!(fast, seq.events.len());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lost_events_in_the_file_make_verdicts_inconclusive() {
        let mut seq = Seq::new();
        seq.driver_entry(4, "c").register(4, 1).release(4, 1, 9, 0);
        seq.dereg_start(4, 1, 0).dereg_stop(4, 1);
        let dir = temp_dir("source-lost");
        let path = dir.join("t.etl");
        write(&seq, &path, SessionConfig::default(), Some(1));
        let mut a = all();
        let out = read_file(&path, &mut a, &mut |e| panic!("{e}")).unwrap();
        assert_eq!(out.trace.events_lost, 2);
        let r = a.balance.report();
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert_eq!(r.counts.violation, 0);
        assert_eq!(
            r.findings()
                .map(|f| (f.rule, f.severity))
                .collect::<Vec<_>>(),
            [(Rule::ReleaseWithoutCapture, Severity::Inconclusive)]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Corrupted copies of a real trace (bytes overwritten anywhere, files cut short): an
    /// error or a result, never a panic, in every analysis.
    #[test]
    fn corrupted_files_never_panic() {
        let seq = sample();
        let dir = temp_dir("source-corrupt");
        let path = dir.join("t.etl");
        let config = SessionConfig {
            buffer_size: 1024,
            processors: 4,
            ..Default::default()
        };
        write(&seq, &path, config, None);
        let good = std::fs::read(&path).unwrap();
        let bad = dir.join("bad.etl");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..400 {
            let mut bytes = good.clone();
            if round % 10 == 9 {
                bytes.truncate((next() % good.len() as u64) as usize);
            } else {
                for _ in 0..1 + next() % 8 {
                    let at = (next() % bytes.len() as u64) as usize;
                    let v = match next() % 4 {
                        0 => 0,
                        1 => 0xFF,
                        _ => next() as u8,
                    };
                    bytes[at] = v;
                }
            }
            std::fs::write(&bad, &bytes).unwrap();
            // Both ways of using threads give the same results, errors and reports.
            let mut results = Vec::new();
            for threads in [Threads::Pipelined, Threads::One] {
                let mut a = all();
                let mut errors = Vec::new();
                let out =
                    read_file_with(&bad, &mut a, &mut |e| errors.push(e.to_string()), threads);
                let reports = out
                    .is_ok()
                    .then(|| (a.balance.report(), a.latency.report(), a.boot.report()));
                results.push((out, errors, reports));
            }
            assert!(results[0] == results[1], "round {round}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unreadable_file_is_an_error_not_a_panic() {
        let dir = temp_dir("source-bad");
        let path = dir.join("bad.etl");
        std::fs::write(&path, [0x55u8; 100]).unwrap();
        let mut a = all();
        assert!(read_file(&path, &mut a, &mut |_| {}).is_err());
        assert!(read_file(&dir.join("missing.etl"), &mut a, &mut |_| {}).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
