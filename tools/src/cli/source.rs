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
//! Losses become [`LostEvents`]: the logfile header's counts (in [`TraceContext`]), buffers
//! flagged "events lost", buffers or records that could not be read, and events of our
//! provider that could not be decoded.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;

use wsktrace_driver::schema::{self, FieldKind, FieldValue, WskEvent};

use crate::analysis::{EventSink, LostEvents, PnpDriverInit, TraceContext, TraceEvent};
use crate::etl::format::Guid;
use crate::etl::header::filetime_to_rfc3339;
use crate::etl::reader::EtlReader;
use crate::etl::record::{EventRecord, Record};
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

/// The provider GUID in the ETL reader's layout.
pub fn provider_guid() -> Guid {
    zerocopy::transmute!(schema::PROVIDER_GUID.to_bytes_le())
}

enum Item {
    Wsk(TraceEvent),
    Pnp(PnpDriverInit),
    Lost(LostEvents),
}

struct Held {
    ts: u64,
    seq: u64,
    item: Item,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.seq) == (o.ts, o.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.ts, self.seq).cmp(&(o.ts, o.seq))
    }
}

struct Orderer<'s, S: EventSink> {
    sink: &'s mut S,
    heap: BinaryHeap<Reverse<Held>>,
    seq: u64,
    last_out: u64,
    out_of_order: u64,
    events: u64,
    pnp: u64,
}

impl<S: EventSink> Orderer<'_, S> {
    fn push(&mut self, ts: u64, item: Item) {
        self.seq += 1;
        self.heap.push(Reverse(Held {
            ts,
            seq: self.seq,
            item,
        }));
        if self.heap.len() > MAX_HELD {
            self.pop();
        }
    }

    fn pop(&mut self) {
        let Some(Reverse(h)) = self.heap.pop() else {
            return;
        };
        if h.ts < self.last_out {
            self.out_of_order += 1;
            if matches!(h.item, Item::Wsk(_)) {
                self.sink.lost(&LostEvents {
                    ts_ns: Some(h.ts),
                    count: 0,
                    what: "an event arrived out of timestamp order".to_string(),
                });
            }
        }
        self.last_out = self.last_out.max(h.ts);
        match h.item {
            Item::Wsk(ev) => {
                self.events += 1;
                self.sink.event(&ev);
            }
            Item::Pnp(p) => {
                self.pnp += 1;
                self.sink.pnp(&p);
            }
            Item::Lost(l) => self.sink.lost(&l),
        }
    }

    fn release_until(&mut self, watermark: u64) {
        while self.heap.peek().is_some_and(|Reverse(h)| h.ts <= watermark) {
            self.pop();
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

/// Decodes one event of our provider into the typed view.
pub fn decode_wsk(ev: &EventRecord<'_>, cache: &mut SchemaCache) -> Result<WskEvent, String> {
    let meta = ev
        .extended_item(EXT_TYPE_EVENT_SCHEMA_TL)
        .ok_or("no TraceLogging metadata (extended item 11)")?;
    let schema = cache.get(meta.data).map_err(|e| e.to_string())?.clone();
    let ptr = if ev.pointer_size() == 4 {
        PointerSize::Four
    } else {
        PointerSize::Eight
    };
    let decoded = tracelogging::decode(&schema, ev.user_data, ptr).map_err(|e| e.to_string())?;
    let opcode = ev.header.event_descriptor.opcode;
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
    let mut reader = EtlReader::open(path).map_err(|e| e.to_string())?;
    let info = reader.info().clone();
    let clock = info.clock();
    let trace = TraceContext {
        start_since_boot_ns: (info.boot_time > 0 && info.start_time >= info.boot_time)
            .then(|| (info.start_time - info.boot_time) as u64 * 100),
        start_utc: (info.start_time > 0).then(|| filetime_to_rfc3339(info.start_time)),
        events_lost: u64::from(info.events_lost),
        buffers_lost: u64::from(info.buffers_lost),
    };
    sink.begin(&trace);
    let ours = provider_guid();
    let pnp_guid = kernel_pnp::PROVIDER_GUID;
    let mut cache = SchemaCache::new();
    let mut out = ReadOutcome {
        trace: trace.clone(),
        ..Default::default()
    };
    let mut ord = Orderer {
        sink,
        heap: BinaryHeap::new(),
        seq: 0,
        last_out: 0,
        out_of_order: 0,
        events: 0,
        pnp: 0,
    };
    // Per processor: (latest timestamp seen, index of its latest buffer). Processors the
    // header announces but that have not written yet hold events back too (as if seen at
    // time 0 before the first buffer), until the window passes.
    let mut cpus: HashMap<u16, (u64, u64)> = (0..info.number_of_processors.min(4096))
        .map(|c| (c as u16, (0, 0)))
        .collect();
    let mut index = 0u64;
    let mut max_ts = 0u64;
    let to_ns = |raw: i64| clock.since_start_ns(raw).max(0) as u64;
    while let Some(b) = reader.next_buffer() {
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                let msg = e.to_string();
                on_error(&msg);
                let ts = ord.last_out;
                ord.push(
                    ts,
                    Item::Lost(LostEvents {
                        ts_ns: None,
                        count: 0,
                        what: format!("unreadable buffer: {msg}"),
                    }),
                );
                out.errors.push(msg);
                continue;
            }
        };
        index += 1;
        let cpu = b.processor();
        let mut first_ts: Option<u64> = None;
        let mut last_ts = cpus.get(&cpu).map_or(0, |c| c.0);
        for r in b.records() {
            let rec = match r {
                Ok(rec) => rec,
                Err(e) => {
                    let msg = e.to_string();
                    on_error(&msg);
                    ord.push(
                        last_ts,
                        Item::Lost(LostEvents {
                            ts_ns: Some(last_ts),
                            count: 0,
                            what: format!("unreadable record: {msg}"),
                        }),
                    );
                    out.errors.push(msg);
                    continue;
                }
            };
            out.records += 1;
            let Record::Event(ev) = rec else {
                if let Some(raw) = rec.timestamp() {
                    last_ts = last_ts.max(to_ns(raw));
                }
                continue;
            };
            let ts = to_ns(ev.header.time_stamp.get());
            last_ts = last_ts.max(ts);
            first_ts.get_or_insert(ts);
            let provider = &ev.header.provider_id;
            if *provider == ours {
                match decode_wsk(&ev, &mut cache) {
                    Ok(event) => ord.push(
                        ts,
                        Item::Wsk(TraceEvent {
                            ts_ns: ts,
                            tid: ev.header.thread_id.get(),
                            activity: zerocopy::transmute!(ev.header.activity_id),
                            event,
                        }),
                    ),
                    Err(e) => {
                        out.undecodable += 1;
                        let msg = format!(
                            "byte {:#x}: event of {} not decodable: {e}",
                            ev.offset,
                            schema::PROVIDER_NAME
                        );
                        on_error(&msg);
                        ord.push(
                            ts,
                            Item::Lost(LostEvents {
                                ts_ns: Some(ts),
                                count: 1,
                                what: msg.clone(),
                            }),
                        );
                        out.errors.push(msg);
                    }
                }
            } else if *provider == pnp_guid {
                let id = ev.header.event_descriptor.id.get();
                if id == kernel_pnp::DRIVER_INIT_START || id == kernel_pnp::DRIVER_INIT_STOP {
                    if let Ok(init) = DriverInit::decode(id, ev.user_data) {
                        ord.push(
                            ts,
                            Item::Pnp(PnpDriverInit {
                                ts_ns: ts,
                                tid: ev.header.thread_id.get(),
                                driver: init.driver().to_string(),
                                start: matches!(init, DriverInit::Start { .. }),
                            }),
                        );
                    }
                }
            }
        }
        if b.events_lost() || b.buffers_lost() {
            let at = first_ts.unwrap_or(last_ts);
            ord.push(
                at,
                Item::Lost(LostEvents {
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
            );
        }
        max_ts = max_ts.max(last_ts);
        cpus.insert(cpu, (last_ts, index));
        let watermark = cpus
            .values()
            .filter(|(_, i)| i + WINDOW > index)
            .map(|(t, _)| *t)
            .min()
            .unwrap_or(0);
        ord.release_until(watermark);
    }
    ord.release_until(u64::MAX);
    out.events = ord.events;
    out.pnp = ord.pnp;
    out.out_of_order = ord.out_of_order;
    let header_end = (info.end_time > info.start_time && info.start_time > 0)
        .then(|| (info.end_time - info.start_time) as u64 * 100);
    let end_ns = header_end.unwrap_or(0).max(max_ts);
    ord.sink.finish(end_ns);
    Ok(out)
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
