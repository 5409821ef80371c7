//! Property: whatever part of a correct trace is missing — events dropped (and the loss
//! reported), the beginning or the end cut off — the checker never reports a violation.
//! The correct traces include listening sockets accepting and closing connections, so the
//! socket rules are held to the same.

use proptest::prelude::*;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;

use super::*;
use crate::analysis::testkit::Seq;
use crate::analysis::{EventSink, LostEvents, TraceContext, TraceEvent};

/// One correct registration's events (tid, event), in order: each successful capture with
/// dispatch calls also sets up a listening socket that accepts `dispatches - 1` connections
/// and is closed before the deregistration.
fn lifecycle(reg: u32, captures: &[(bool, u8)]) -> Vec<(u32, WskEvent)> {
    let tid = 8 + reg * 4;
    let mut s = Seq::new();
    s.register(tid, reg);
    for (i, (ok, dispatches)) in captures.iter().enumerate() {
        let cap = reg * 100 + i as u32;
        let status = if *ok {
            NtStatus::SUCCESS
        } else {
            NtStatus::DEVICE_NOT_READY
        };
        s.capture(tid, reg, cap, 100, 1, 1_000, status);
        if *ok {
            for _ in 0..*dispatches {
                s.dispatch(tid, reg, cap);
            }
            if *dispatches > 0 {
                let socket = cap * 10;
                let connections: Vec<u32> =
                    (1..u32::from(*dispatches)).map(|k| socket + k).collect();
                s.listener(tid, reg, cap, socket, &connections);
            }
            s.release(tid, reg, cap, 1_000);
        }
    }
    s.dereg_start(tid, reg, 0).dereg_stop(tid, reg);
    s.events.into_iter().map(|e| (e.tid, e.event)).collect()
}

fn trace() -> impl Strategy<Value = Vec<(u32, WskEvent)>> {
    (
        prop::collection::vec(prop::collection::vec((any::<bool>(), 0u8..3), 0..4), 1..6),
        prop::collection::vec(any::<u8>(), 64),
    )
        .prop_map(|(regs, picks)| {
            // Interleave the registrations' lifecycles, each in its own order.
            let mut lanes: Vec<std::collections::VecDeque<(u32, WskEvent)>> = regs
                .iter()
                .enumerate()
                .map(|(i, caps)| lifecycle(i as u32 + 1, caps).into())
                .collect();
            let mut out = vec![(
                4,
                WskEvent::DriverEntryStart {
                    client_name: "c".into(),
                },
            )];
            let mut k = 0;
            while lanes.iter().any(|l| !l.is_empty()) {
                let live: Vec<usize> = (0..lanes.len()).filter(|&i| !lanes[i].is_empty()).collect();
                let i = live[usize::from(picks[k % picks.len()]) % live.len()];
                k += 1;
                out.push(lanes[i].pop_front().expect("live"));
            }
            out
        })
}

fn violations(events: &[(u32, WskEvent)], drops: &[usize], ctx: &TraceContext) -> usize {
    let mut c = BalanceChecker::new(BalanceConfig {
        keep_ok: true,
        ..Default::default()
    });
    c.begin(ctx);
    for (i, (tid, ev)) in events.iter().enumerate() {
        let ts = (i as u64 + 1) * 1_000;
        if drops.contains(&i) {
            c.lost(&LostEvents {
                ts_ns: Some(ts),
                count: 1,
                what: "dropped".into(),
            });
            continue;
        }
        c.event(&TraceEvent {
            ts_ns: ts,
            tid: *tid,
            activity: [0; 16],
            event: ev.clone(),
        });
    }
    c.finish(events.len() as u64 * 1_000 + 1_000);
    let r = c.into_report();
    r.counts.violation as usize
        + r.findings()
            .filter(|f| f.severity == Severity::Violation)
            .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn correct_traces_have_no_violation(events in trace()) {
        prop_assert_eq!(violations(&events, &[], &TraceContext::default()), 0);
    }

    #[test]
    fn dropped_events_never_give_a_violation(
        events in trace(),
        drops in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let drops: Vec<usize> = drops.iter().map(|d| d.index(events.len())).collect();
        prop_assert_eq!(violations(&events, &drops, &TraceContext::default()), 0);
    }

    #[test]
    fn cut_traces_never_give_a_violation(
        events in trace(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let (a, b) = (a.index(events.len()), b.index(events.len()));
        let (from, to) = (a.min(b), a.max(b) + 1);
        prop_assert_eq!(violations(&events[from..to], &[], &TraceContext::default()), 0);
    }

    #[test]
    fn header_loss_never_gives_a_violation(
        events in trace(),
        drop in any::<prop::sample::Index>(),
    ) {
        // Dropped without a notice where it happened: only the header knows.
        let i = drop.index(events.len());
        let mut rest = events.clone();
        rest.remove(i);
        let ctx = TraceContext { events_lost: 1, ..Default::default() };
        prop_assert_eq!(violations(&rest, &[], &ctx), 0);
    }
}
