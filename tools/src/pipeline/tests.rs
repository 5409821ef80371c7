//! Reading whole files: results equal to the hand-built sequences they were written from, one
//! finding per broken rule, the fast path against the general decoder, losses, corruption.

use std::path::Path;

use wsktrace_driver::schema::{self, WskEvent};

use super::decode::{decode_general, decode_known};
use super::parallel::Plan;
use super::read::read_slice;
use super::walk::guid_bits;
use super::*;
use crate::analysis::balance::{BalanceConfig, BalanceReport, Rule, Severity, Verdict};
use crate::analysis::boot::BootReport;
use crate::analysis::latency::LatencyReport;
use crate::analysis::testkit::{Seq, MS};
use crate::analysis::{run, AllAnalyses};
use crate::etl::write::SessionConfig;
use crate::etl::{EtlReader, Record};
use crate::kernel_pnp::DriverInit;
use crate::report::browser::temp_dir;
use crate::tracelogging::{SchemaCache, EXT_TYPE_EVENT_SCHEMA_TL};
use crate::wsk_etl::{Context, WskEtlWriter};
use wsktrace_driver::lifecycle::WSK_INFINITE_WAIT;
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
        let take_event =
            j >= seq.pnp.len() || (i < seq.events.len() && seq.events[i].ts_ns <= seq.pnp[j].ts_ns);
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
    let out = read_file(&path, &mut from_file, ReadOptions::default(), &mut |e| {
        panic!("{e}")
    })
    .unwrap();
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
        read_file(&path, &mut a, ReadOptions::default(), &mut |e| {
            panic!("{e}")
        })
        .unwrap();
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
fn fast_path_and_general_decoder_agree_on_every_event() {
    let mut seq = sample();
    seq.query(4, 1).cap_stop(4, 1, 9, NtStatus::NOINTERFACE, 7);
    // The socket events and the refused capture.
    seq.refused(4, 1)
        .socket(4, 1, 1, 1)
        .bind(4, 1, 1)
        .accept_start(4, 1, 1);
    seq.accept_stop(4, 1, 1, NtStatus::SUCCESS, 2)
        .close(4, 1, 2);
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
            if guid_bits(&ev.header.provider_id) != guid_bits(&crate::wsk_etl::provider_guid()) {
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
    let out = read_file(&path, &mut a, ReadOptions::default(), &mut |e| {
        panic!("{e}")
    })
    .unwrap();
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
    let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1du64);
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
        let first = every_way(&bad, &bytes);
        assert!(first.iter().all(|r| *r == first[0]), "round {round}");
        let sums = every_summary(&bytes);
        assert!(sums.iter().all(|r| *r == sums[0]), "round {round}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a read gave: the outcome, the errors as they were met, the three reports.
type Read = (
    Result<ReadOutcome, TraceError>,
    Vec<TraceError>,
    Option<(BalanceReport, LatencyReport, BootReport)>,
);

/// One way of reading a trace into the analyses.
type ReadWay<'a> = dyn FnMut(&mut AllAnalyses, &mut dyn FnMut(&TraceError)) -> Result<ReadOutcome, TraceError>
    + 'a;

/// The same trace read every way: streamed on one thread and on two, from memory on the
/// calling thread, and from memory on two and three workers with small jobs (several jobs in
/// flight, results put back in order).
fn every_way(path: &Path, bytes: &[u8]) -> Vec<Read> {
    let mut results = Vec::new();
    let mut push = |read: &mut ReadWay<'_>| {
        let mut a = all();
        let mut errors = Vec::new();
        let out = read(&mut a, &mut |e| errors.push(e.clone()));
        let reports = out
            .is_ok()
            .then(|| (a.balance.report(), a.latency.report(), a.boot.report()));
        results.push((out, errors, reports));
    };
    for threads in [Threads::One, Threads::Auto] {
        push(&mut |a, on_error| read_file(path, a, ReadOptions { threads }, on_error));
    }
    for (workers, job) in [(1, 3), (2, 1), (3, 2)] {
        let plan = Plan { workers, job };
        push(&mut |a, on_error| read_slice(bytes, a, plan, on_error, &mut |_| {}));
    }
    results
}

/// The `--summary` of the same trace every way (JSON object and errors).
fn every_summary(bytes: &[u8]) -> Vec<(Option<serde_json::Value>, Vec<TraceError>)> {
    let filter = summary::ProviderFilter::default();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let s = summary::summarize(bytes, &filter, &mut |e| errors.push(e.clone()));
    out.push((s.ok().map(|s| s.to_json("t")), errors));
    for (workers, job) in [(1, 3), (2, 1), (3, 2)] {
        let plan = Plan { workers, job };
        let mut errors = Vec::new();
        let on_error = &mut |e: &TraceError| errors.push(e.clone());
        let s = summary::summarize_slice(bytes, &filter, plan, on_error, &mut |_| {});
        out.push((s.ok().map(|s| s.to_json("t")), errors));
    }
    out
}

/// A trace larger than [`MIN_MAPPED`] is read through the memory map, its buffers on several
/// threads: the results are those of the stream reader on one thread.
#[test]
fn a_mapped_file_read_on_every_core_gives_the_one_thread_results() {
    let mut seq = Seq::new();
    for r in 1..=6_000 {
        seq.register(8, r);
        seq.capture(8, r, r, 100, 1, 1_000, NtStatus::SUCCESS);
        seq.dispatch(8, r, r).release(8, r, r, 2_000);
        seq.dereg_start(8, r, 0).dereg_stop(8, r);
    }
    let dir = temp_dir("source-mapped");
    let path = dir.join("big.etl");
    let config = SessionConfig {
        buffer_size: 16 * 1024,
        processors: 4,
        ..Default::default()
    };
    write(&seq, &path, config, None);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() as u64 >= MIN_MAPPED, "{} bytes", bytes.len());
    let reads = every_way(&path, &bytes);
    assert!(reads.iter().all(|r| *r == reads[0]));
    let out = reads[0].0.as_ref().unwrap();
    assert_eq!(out.events, seq.events.len() as u64);
    let filter = summary::ProviderFilter::default();
    let mapped = summary::summarize_file(&path, &filter, &mut |e| panic!("{e}")).unwrap();
    let streamed = summary::summarize(&bytes[..], &filter, &mut |e| panic!("{e}")).unwrap();
    assert_eq!(mapped.to_json("t"), streamed.to_json("t"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_file_is_an_error_not_a_panic() {
    let dir = temp_dir("source-bad");
    let path = dir.join("bad.etl");
    std::fs::write(&path, [0x55u8; 100]).unwrap();
    let mut a = all();
    assert!(read_file(&path, &mut a, ReadOptions::default(), &mut |_| {}).is_err());
    assert!(read_file(
        &dir.join("missing.etl"),
        &mut a,
        ReadOptions::default(),
        &mut |_| {}
    )
    .is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
