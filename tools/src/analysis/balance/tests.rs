//! Every rule and its inconclusive cases on hand-built event sequences.

use wsktrace_driver::ntstatus::NtStatus;

use super::checker::RECENT_CLOSED;
use super::*;
use crate::analysis::testkit::{Seq, MS};
use wsktrace_driver::lifecycle::WSK_INFINITE_WAIT;

use crate::analysis::{run, EventSink, LostEvents, TraceContext};

fn check(seq: &Seq) -> BalanceReport {
    check_ctx(seq, &TraceContext::default())
}

fn check_ctx(seq: &Seq, ctx: &TraceContext) -> BalanceReport {
    let mut c = BalanceChecker::new(BalanceConfig {
        keep_ok: true,
        ..Default::default()
    });
    run(&mut c, ctx, &seq.events, &seq.pnp, seq.now + MS);
    c.into_report()
}

fn rules(r: &BalanceReport) -> Vec<(Rule, Severity)> {
    r.findings().map(|f| (f.rule, f.severity)).collect()
}

#[test]
fn clean_lifecycle_is_ok() {
    let mut s = Seq::new();
    s.clean(10, 1, 1, 5 * MS);
    let r = check(&s);
    assert_eq!(rules(&r), vec![]);
    assert_eq!(r.verdict, Verdict::Ok);
    assert_eq!(r.counts.ok, 1);
    assert_eq!(r.registrations[0].client.as_deref(), Some("wskclient"));
    assert_eq!(r.clients.len(), 1);
}

#[test]
fn leaked_capture_at_unload() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .driver_entry_stop(10, "c", 2 * MS)
        .dereg_start(11, 1, 1);
    // Deregister blocks forever on the leaked capture; the trace ends.
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::CaptureNotReleased, Severity::Violation)]
    );
    assert_eq!(r.verdict, Verdict::Violation);
    let f = r.findings().next().unwrap();
    assert_eq!(f.registration, Some(1));
    assert_eq!(f.capture, Some(1));
    assert_eq!(f.tid, 10);
    assert!(f.events.iter().any(|e| e.name == "WskDeregister"));

    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .driver_entry_stop(10, "c", 2 * MS)
        .dereg_start(11, 1, 1)
        .unload(11);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::CaptureNotReleased, Severity::Violation)]
    );
}

#[test]
fn capture_held_when_trace_ends_is_inconclusive() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS);
    let r = check(&s);
    assert_eq!(rules(&r), vec![]);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.registrations[0].reasons[0].contains("before this registration is deregistered"));
}

#[test]
fn release_without_capture() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .release(10, 1, 7, 0)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::ReleaseWithoutCapture, Severity::Violation)]
    );
    // The same after a failed capture.
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 0, 0, 0, NtStatus::DEVICE_NOT_READY)
        .release(10, 1, 1, 0)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::ReleaseWithoutCapture, Severity::Violation)]
    );
}

#[test]
fn release_without_capture_when_trace_starts_late_is_inconclusive() {
    let mut s = Seq::new();
    s.release(10, 1, 7, 0)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::ReleaseWithoutCapture, Severity::Inconclusive)]
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
}

#[test]
fn double_release() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .release(10, 1, 1, 0)
        .release(10, 1, 1, 0)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(rules(&r), vec![(Rule::DoubleRelease, Severity::Violation)]);
    assert_eq!(r.findings().next().unwrap().events.len(), 4);
}

#[test]
fn dispatch_after_release() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .dispatch(10, 1, 1)
        .release(10, 1, 1, 0)
        .dispatch(10, 1, 1)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::DispatchAfterRelease, Severity::Violation)]
    );
}

#[test]
fn capture_after_deregister_but_not_cancelled_ones() {
    // A worker waits; deregister on another thread cancels it: fine.
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .cap_start(11, 1, 1, WSK_INFINITE_WAIT, 1)
        .dereg_start(10, 1, 0)
        .cap_stop(11, 1, 1, NtStatus::DEVICE_NOT_READY, 3 * MS)
        .dereg_stop(10, 1)
        .unload(10);
    let r = check(&s);
    assert_eq!(rules(&r), vec![]);
    assert_eq!(r.verdict, Verdict::Ok);
    // A capture started after deregister began.
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .dereg_start(10, 1, 0)
        .cap_start(11, 1, 1, 0, 1)
        .cap_stop(11, 1, 1, NtStatus::INVALID_DEVICE_STATE, 0)
        .dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::CaptureAfterDeregister, Severity::Violation)]
    );
}

#[test]
fn late_capture_after_deregister_completed() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1)
        .cap_start(11, 1, 1, 0, 1);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::CaptureAfterDeregister, Severity::Violation)]
    );
}

#[test]
fn deregister_with_captures_outstanding() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .dereg_start(10, 1, 1)
        .dereg_stop(10, 1)
        .release(10, 1, 1, 0);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::DeregisterWithCapturesOutstanding, Severity::Violation)]
    );
}

#[test]
fn deregister_returning_with_a_capture_never_released() {
    // The simulator's leaked-capture scenario: deregister gives up after a watchdog.
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 0, 2, 1000, NtStatus::SUCCESS)
        .dereg_start(10, 1, 1)
        .wait(100 * MS)
        .dereg_stop(10, 1)
        .unload(10);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::CaptureNotReleased, Severity::Violation)]
    );
    assert_eq!(r.findings().next().unwrap().events.len(), 4);
}

#[test]
fn waits_on_driver_entry_thread() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, WSK_INFINITE_WAIT, 0, MS, NtStatus::SUCCESS)
        .release(10, 1, 1, 0)
        .capture(10, 1, 2, 5000, 0, MS, NtStatus::SUCCESS)
        .release(10, 1, 2, 0)
        .capture(10, 1, 3, 1000, 0, MS, NtStatus::SUCCESS)
        .release(10, 1, 3, 0)
        .capture(11, 1, 4, WSK_INFINITE_WAIT, 1, MS, NtStatus::SUCCESS)
        .release(11, 1, 4, 0)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1)
        .unload(10);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![
            (Rule::InfiniteWaitOnDriverEntryThread, Severity::Warning),
            (Rule::LongWaitOnDriverEntryThread, Severity::Warning)
        ]
    );
    // Warnings alone leave the verdict ok.
    assert_eq!(r.verdict, Verdict::Ok);
    assert_eq!(r.counts.warnings, 2);
}

#[test]
fn nointerface_with_and_without_fallback() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register_status(10, 1, 0x300, NtStatus::SUCCESS)
        .capture(10, 1, 1, 100, 0, MS, NtStatus::NOINTERFACE)
        .query(10, 1)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1)
        .register_status(10, 2, 0x100, NtStatus::SUCCESS)
        .capture(10, 2, 2, 100, 0, MS, NtStatus::SUCCESS)
        .release(10, 2, 2, 0)
        .dereg_start(10, 2, 0)
        .dereg_stop(10, 2)
        .unload(10);
    let r = check(&s);
    assert_eq!(rules(&r), vec![]);
    assert_eq!(r.counts.ok, 2);

    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register_status(10, 1, 0x300, NtStatus::SUCCESS)
        .capture(10, 1, 1, 100, 0, MS, NtStatus::NOINTERFACE)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1)
        .unload(10);
    let r = check(&s);
    assert_eq!(
        rules(&r),
        vec![(Rule::NointerfaceWithoutFallback, Severity::Warning)]
    );
}

#[test]
fn lost_events_make_violations_inconclusive() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .release(10, 1, 7, 0)
        .dereg_start(10, 1, 0)
        .dereg_stop(10, 1);
    let ctx = TraceContext {
        events_lost: 3,
        ..Default::default()
    };
    let r = check_ctx(&s, &ctx);
    assert_eq!(
        rules(&r),
        vec![(Rule::ReleaseWithoutCapture, Severity::Inconclusive)]
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.registrations[0].reasons[0].contains("lost 3 event"));
}

#[test]
fn lost_signal_mid_stream_affects_open_registrations_only() {
    let mut c = BalanceChecker::new(BalanceConfig {
        keep_ok: true,
        ..Default::default()
    });
    let mut a = Seq::new();
    a.clean(10, 1, 1, MS);
    let mut b = Seq::new();
    b.now = a.now;
    b.driver_entry(20, "d").register(20, 2).release(20, 2, 9, 0);
    let mut b2 = Seq::new();
    b2.now = b.now;
    b2.dereg_start(20, 2, 0).dereg_stop(20, 2);
    c.begin(&TraceContext::default());
    a.events.iter().for_each(|e| c.event(e));
    b.events.iter().for_each(|e| c.event(e));
    c.lost(&LostEvents {
        ts_ns: Some(b.now),
        count: 2,
        what: "buffer at byte 0x20000".into(),
    });
    b2.events.iter().for_each(|e| c.event(e));
    c.finish(b2.now);
    let r = c.into_report();
    assert_eq!(r.counts.ok, 1);
    assert_eq!(r.counts.inconclusive, 1);
    assert_eq!(r.counts.violation, 0);
}

#[test]
fn streaming_state_is_bounded_by_open_registrations() {
    let mut c = BalanceChecker::new(BalanceConfig::default());
    c.begin(&TraceContext::default());
    let mut s = Seq::new();
    s.driver_entry(1, "c");
    for e in &s.events {
        c.event(e);
    }
    for i in 0..10_000u32 {
        let mut s = Seq::new();
        s.now = u64::from(i) * 100 * MS;
        s.register(1, i)
            .capture(1, i, i, 100, 1, MS, NtStatus::SUCCESS)
            .release(1, i, i, 0)
            .dereg_start(1, i, 0)
            .dereg_stop(1, i);
        for e in &s.events {
            c.event(e);
        }
        assert!(c.open_registrations() <= 1);
        assert!(c.recent.len() <= RECENT_CLOSED);
    }
    c.finish(u64::MAX / 2);
    let r = c.into_report();
    assert_eq!(r.counts.ok, 10_000);
    assert!(r.registrations.is_empty());
}

#[test]
fn unload_is_not_attributed_when_two_clients_share_the_trace() {
    let mut s = Seq::new();
    s.driver_entry(10, "a")
        .register(10, 1)
        .driver_entry_stop(10, "a", 1000);
    s.driver_entry(20, "b")
        .register(20, 2)
        .driver_entry_stop(20, "b", 1000);
    s.dereg_start(10, 1, 0).dereg_stop(10, 1).unload(10);
    let r = check(&s);
    // "b" did not unload: no warning for it, just an open registration at trace end.
    assert_eq!(rules(&r), vec![]);
    assert_eq!((r.counts.ok, r.counts.inconclusive), (1, 1));
    assert_eq!(r.clients.len(), 2);
}

#[test]
fn many_captures_on_one_registration() {
    // Past the short list: the table turns into a map and keeps every capture.
    let mut s = Seq::new();
    s.driver_entry(10, "c").register(10, 1);
    for cap in 1..=40 {
        s.capture(10, 1, cap, 0, 1, 0, NtStatus::SUCCESS);
    }
    for cap in 1..=40 {
        s.release(10, 1, cap, 0);
    }
    s.release(10, 1, 7, 0);
    s.dereg_start(10, 1, 0).dereg_stop(10, 1);
    let r = check(&s);
    assert_eq!(rules(&r), vec![(Rule::DoubleRelease, Severity::Violation)]);
    assert_eq!(r.registrations[0].captures, 40);
}

#[test]
fn registration_ids_reused_after_deregistration() {
    let mut s = Seq::new();
    s.clean(10, 1, 1, MS);
    s.clean(10, 1, 1, MS);
    let r = check(&s);
    assert_eq!(r.counts.ok, 2);
    assert_eq!(r.registrations[1].instance, 2);
}
