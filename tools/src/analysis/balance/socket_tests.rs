//! The socket rules on hand-built event sequences: each fires exactly where it is broken,
//! never on a correct socket life, and turns inconclusive when events were lost.

use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;

use super::socket::SocketTable;
use super::*;
use crate::analysis::testkit::{Seq, MS};
use crate::analysis::{run, EventSink, LostEvents, TraceContext};

fn check(seq: &Seq) -> BalanceReport {
    let mut c = BalanceChecker::new(BalanceConfig {
        keep_ok: true,
        ..Default::default()
    });
    run(
        &mut c,
        &TraceContext::default(),
        &seq.events,
        &seq.pnp,
        seq.now + MS,
    );
    c.into_report()
}

/// (rule, severity, socket) of every finding.
fn findings(r: &BalanceReport) -> Vec<(Rule, Severity, Option<u32>)> {
    r.findings()
        .map(|f| (f.rule, f.severity, f.socket))
        .collect()
}

/// Registration 1 on thread 10: DriverEntry, capture 1, then `sockets`, release, deregister
/// and unload on thread 11.
fn lifecycle(sockets: impl FnOnce(&mut Seq)) -> Seq {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS);
    sockets(&mut s);
    s.release(10, 1, 1, MS).driver_entry_stop(10, "c", 3 * MS);
    s.dereg_start(11, 1, 0).dereg_stop(11, 1).unload(11);
    s
}

#[test]
fn a_listener_accepting_and_closing_is_ok() {
    let s = lifecycle(|s| {
        s.listener(10, 1, 1, 1, &[2, 3, 4]);
    });
    let r = check(&s);
    assert_eq!(findings(&r), vec![]);
    assert_eq!(r.verdict, Verdict::Ok);
}

#[test]
fn socket_open_when_deregister_begins() {
    // The listening socket never closed: deregister waits on it.
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .socket(10, 1, 1, 1)
        .bind(10, 1, 1)
        .release(10, 1, 1, MS)
        .dereg_start(11, 1, 0);
    // ... another thread closes it, and the deregister returns.
    s.close(12, 1, 1).dereg_stop(11, 1).unload(11);
    let r = check(&s);
    assert_eq!(
        findings(&r),
        vec![(Rule::SocketOpenAtDeregister, Severity::Violation, Some(1))]
    );
    let f = r.findings().next().unwrap();
    assert_eq!(f.tid, 11);
    assert_eq!(f.capture, None);
    let names: Vec<&str> = f.events.iter().map(|e| e.name).collect();
    assert_eq!(names, ["SocketCreated", "WskDeregister"]);
    assert!(f.message.contains("socket 1"), "{}", f.message);

    // An accepted connection left open: that socket, not the closed listener.
    let s = lifecycle(|s| {
        s.socket(10, 1, 1, 1).bind(10, 1, 1).accept_start(10, 1, 1);
        s.accept_stop(10, 1, 1, NtStatus::SUCCESS, 2)
            .socket(10, 1, 0, 2)
            .close(10, 1, 1);
    });
    assert_eq!(
        findings(&check(&s)),
        vec![(Rule::SocketOpenAtDeregister, Severity::Violation, Some(2))]
    );
}

#[test]
fn a_close_in_progress_when_deregister_begins_is_not_open() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
        .socket(10, 1, 1, 1)
        .release(10, 1, 1, MS)
        .close_start(12, 1, 1)
        .dereg_start(11, 1, 0)
        .close_stop(12, 1, 1)
        .dereg_stop(11, 1)
        .unload(11);
    assert_eq!(findings(&check(&s)), vec![]);
}

#[test]
fn calls_after_close() {
    // A bind after the close returned.
    let s = lifecycle(|s| {
        s.socket(10, 1, 1, 1).close(10, 1, 1).bind(10, 1, 1);
    });
    let r = check(&s);
    assert_eq!(
        findings(&r),
        vec![(Rule::SocketCallAfterClose, Severity::Violation, Some(1))]
    );
    let f = r.findings().next().unwrap();
    let names: Vec<(&str, &str)> = f.events.iter().map(|e| (e.name, e.opcode)).collect();
    assert_eq!(
        names,
        [
            ("CloseSocket", "Start"),
            ("CloseSocket", "Stop"),
            ("SocketBind", "Info")
        ]
    );
    assert!(
        f.message.starts_with("WskBind on socket 1"),
        "{}",
        f.message
    );

    // An accept armed while the close is in progress, and a second close.
    let s = lifecycle(|s| {
        s.socket(10, 1, 1, 1)
            .close_start(11, 1, 1)
            .accept_start(10, 1, 1)
            .accept_stop(10, 1, 1, NtStatus::CANCELLED, 0)
            .close_stop(11, 1, 1)
            .close(10, 1, 1);
    });
    assert_eq!(
        findings(&check(&s)),
        vec![
            (Rule::SocketCallAfterClose, Severity::Violation, Some(1)),
            (Rule::SocketCallAfterClose, Severity::Violation, Some(1)),
        ]
    );

    // A connection's socket used after its close.
    let s = lifecycle(|s| {
        s.listener(10, 1, 1, 1, &[2]).close(10, 1, 2);
    });
    assert_eq!(
        findings(&check(&s)),
        vec![(Rule::SocketCallAfterClose, Severity::Violation, Some(2))]
    );
}

#[test]
fn accept_completing_after_the_close_returned() {
    let s = lifecycle(|s| {
        s.socket(10, 1, 1, 1)
            .accept_start(10, 1, 1)
            .close(11, 1, 1)
            .accept_stop(10, 1, 1, NtStatus::CANCELLED, 0);
    });
    let r = check(&s);
    assert_eq!(
        findings(&r),
        vec![(Rule::AcceptAfterClose, Severity::Violation, Some(1))]
    );
    let f = r.findings().next().unwrap();
    assert_eq!(f.tid, 10);
    assert_eq!(f.events.last().unwrap().name, "Accept");
}

#[test]
fn lost_events_make_the_socket_rules_inconclusive() {
    // The listener's close lost (Start and Stop, the loss reported): it looks open at
    // deregister.
    let s = lifecycle(|s| {
        s.listener(10, 1, 1, 1, &[2]);
    });
    let closes: Vec<usize> = (0..s.events.len())
        .filter(|&i| {
            matches!(
                s.events[i].event,
                WskEvent::CloseSocketStart { socket_id: 1, .. }
                    | WskEvent::CloseSocketStop { socket_id: 1, .. }
            )
        })
        .collect();
    assert_eq!(closes.len(), 2);
    let mut c = BalanceChecker::new(BalanceConfig::default());
    c.begin(&TraceContext::default());
    for (i, e) in s.events.iter().enumerate() {
        if closes.contains(&i) {
            c.lost(&LostEvents {
                ts_ns: Some(e.ts_ns),
                count: 1,
                what: "a buffer".into(),
            });
        } else {
            c.event(e);
        }
    }
    c.finish(s.now + MS);
    let r = c.into_report();
    assert_eq!(
        findings(&r),
        vec![(
            Rule::SocketOpenAtDeregister,
            Severity::Inconclusive,
            Some(1)
        )]
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
}

#[test]
fn sockets_the_trace_does_not_show_created_are_not_judged() {
    // The trace starts after the socket was created and closed: a call on it is unknown.
    let mut s = Seq::new();
    s.bind(10, 1, 7)
        .accept_start(10, 1, 7)
        .close(11, 1, 7)
        .accept_stop(10, 1, 7, NtStatus::CANCELLED, 0)
        .bind(10, 1, 7)
        .dereg_start(11, 1, 0)
        .dereg_stop(11, 1);
    let r = check(&s);
    assert_eq!(findings(&r), vec![]);
    assert_eq!(r.verdict, Verdict::Inconclusive);
}

#[test]
fn closed_sockets_kept_are_bounded() {
    let connections: Vec<u32> = (2..2 + 10 * SocketTable::CLOSED_KEPT as u32).collect();
    let s = lifecycle(|s| {
        s.listener(10, 1, 1, 1, &connections);
        // The oldest connection's close is long forgotten: not judged. The newest is kept.
        s.close(10, 1, connections[0]);
        s.close(10, 1, *connections.last().unwrap());
    });
    let r = check(&s);
    assert_eq!(
        findings(&r),
        vec![(
            Rule::SocketCallAfterClose,
            Severity::Violation,
            connections.last().copied()
        )]
    );
}

#[test]
fn a_refused_capture_is_no_finding() {
    let mut s = Seq::new();
    s.driver_entry(10, "c")
        .register(10, 1)
        .dereg_start(11, 1, 0)
        .refused(12, 1)
        .dereg_stop(11, 1)
        .unload(11);
    let r = check(&s);
    assert_eq!(findings(&r), vec![]);
    assert_eq!(r.verdict, Verdict::Ok);
}
