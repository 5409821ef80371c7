//! The cancel / deregister / release race, explored systematically: every ordering of five
//! steps is run, each step taking effect (observed on the simulator) before the next starts.
//!
//! Steps: `Capture` (thread B starts an infinite-wait capture), `Ready` (the subsystem becomes
//! ready), `Deregister` (thread D starts `WskDeregister`), `ReleaseA` (thread A releases the
//! NPI it captured before the run), `ReleaseB` (thread B may release what it captured). In
//! every one of the 120 orderings: no deadlock (every wait bounded), no leaked capture, each
//! successful capture released exactly once, deregister returns only after every release,
//! and B's outcome is the one the WSK rules give for that ordering.

mod lifecycle_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use lifecycle_support::*;
use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::CallingContext;
use wsktrace_driver::sim::{SimConfig, SimHarness, SimViolation};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Capture,
    Ready,
    Deregister,
    ReleaseA,
    ReleaseB,
}

const STEPS: [Step; 5] = [
    Step::Capture,
    Step::Ready,
    Step::Deregister,
    Step::ReleaseA,
    Step::ReleaseB,
];
const SETTLE: Duration = Duration::from_secs(3);

fn permutations(items: &[Step]) -> Vec<Vec<Step>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

fn run(order: &[Step]) {
    // A watchdog far beyond any settle time: a deregister that returns early is a bug here.
    let h = SimHarness::new(SimConfig {
        deregister_watchdog: Duration::from_secs(30),
        ..never_ready()
    });
    let reg = h.client.register(make_wsk_version(1, 0)).unwrap();
    // A's capture, taken while the subsystem is (briefly) ready.
    h.sim.force_ready(true);
    let guard_a = reg
        .capture(WaitTimeout::NoWait, CallingContext::Other)
        .unwrap();
    h.sim.force_ready(false);

    let (a_go, a_rx) = mpsc::channel::<()>();
    let a_done = Arc::new(AtomicBool::new(false));
    let thread_a = {
        let a_done = a_done.clone();
        std::thread::spawn(move || {
            a_rx.recv().unwrap();
            guard_a.release();
            a_done.store(true, Ordering::SeqCst);
        })
    };

    let (b_go, b_rx) = mpsc::channel::<()>();
    let (b_release, b_release_rx) = mpsc::channel::<()>();
    let (b_result_tx, b_result) = mpsc::channel::<Result<u32, NtStatus>>();
    let b_done = Arc::new(AtomicBool::new(false));
    let thread_b = {
        let reg = reg.clone();
        let b_done = b_done.clone();
        std::thread::spawn(move || {
            b_rx.recv().unwrap();
            match reg.capture(WaitTimeout::Infinite, CallingContext::Worker) {
                Ok(npi) => {
                    b_result_tx.send(Ok(npi.capture_id())).unwrap();
                    b_release_rx.recv().unwrap();
                    npi.release();
                }
                Err(status) => b_result_tx.send(Err(status)).unwrap(),
            }
            b_done.store(true, Ordering::SeqCst);
        })
    };

    let (d_go, d_rx) = mpsc::channel::<()>();
    let d_done = Arc::new(AtomicBool::new(false));
    let thread_d = {
        let reg = reg.clone();
        let d_done = d_done.clone();
        std::thread::spawn(move || {
            d_rx.recv().unwrap();
            reg.deregister();
            d_done.store(true, Ordering::SeqCst);
        })
    };

    let pos = |s: Step| order.iter().position(|x| *x == s).unwrap();
    let mut b_outcome: Option<Result<u32, NtStatus>> = None;
    let mut b_started = false;
    for (i, step) in order.iter().enumerate() {
        match step {
            Step::Capture => {
                b_go.send(()).unwrap();
                b_started = true;
                // B is now waiting in the subsystem, or has its answer.
                let deadline = std::time::Instant::now() + SETTLE;
                loop {
                    if b_result_outcome(&b_result, &mut b_outcome) {
                        break;
                    }
                    if h.sim.snapshot().waiting == 1 {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "{order:?}: B stuck at step {i}"
                    );
                }
            }
            Step::Ready => {
                h.sim.force_ready(true);
                if b_started && b_outcome.is_none() {
                    // A waiting (not cancelled) capture now succeeds.
                    let r = b_result
                        .recv_timeout(SETTLE)
                        .unwrap_or_else(|_| panic!("{order:?}: B not woken"));
                    b_outcome = Some(r);
                }
            }
            Step::Deregister => {
                d_go.send(()).unwrap();
                assert!(
                    h.sim.wait_until(SETTLE, |s| s.deregistering == 1
                        || s.live_registrations == 0),
                    "{order:?}: deregister did not start"
                );
                if b_started && b_outcome.is_none() {
                    // The waiting capture is cancelled.
                    let r = b_result
                        .recv_timeout(SETTLE)
                        .unwrap_or_else(|_| panic!("{order:?}: B not cancelled"));
                    b_outcome = Some(r);
                }
            }
            Step::ReleaseA => {
                assert!(
                    !d_done.load(Ordering::SeqCst),
                    "{order:?}: deregister returned before A's release"
                );
                a_go.send(()).unwrap();
                wait_flag(&a_done, order, "A's release");
            }
            Step::ReleaseB => {
                if matches!(b_outcome, Some(Ok(_))) || (b_started && b_outcome.is_none()) {
                    assert!(
                        !d_done.load(Ordering::SeqCst),
                        "{order:?}: deregister returned before B's release"
                    );
                }
                let _ = b_release.send(());
            }
        }
    }
    // The run ends: nothing may hang.
    if !b_started {
        b_go.send(()).unwrap();
    }
    if b_outcome.is_none() {
        b_outcome = Some(
            b_result
                .recv_timeout(SETTLE)
                .unwrap_or_else(|_| panic!("{order:?}: B never answered")),
        );
    }
    let _ = b_release.send(());
    wait_flag(&b_done, order, "B");
    wait_flag(&d_done, order, "deregister");
    for t in [thread_a, thread_b, thread_d] {
        t.join().unwrap();
    }

    // B's outcome is the documented one for this ordering.
    let expected = if pos(Step::Capture) > pos(Step::Deregister) {
        Err(NtStatus::INVALID_DEVICE_STATE) // refused: deregistration had begun
    } else if pos(Step::Ready) < pos(Step::Deregister) {
        Ok(())
    } else {
        Err(NtStatus::DEVICE_NOT_READY) // cancelled by the deregister
    };
    assert_eq!(b_outcome.unwrap().map(|_| ()), expected, "{order:?}");

    let snap = h.sim.snapshot();
    assert_eq!(
        (snap.captured, snap.waiting, snap.live_registrations),
        (0, 0, 0),
        "{order:?}"
    );
    assert_eq!(snap.captures, snap.releases, "{order:?}: leaked capture");
    let violations: Vec<SimViolation> = h.sim.violations();
    assert!(violations.is_empty(), "{order:?}: {violations:?}");
    let events = h.recorder.events();
    assert_balanced(&events);
    assert_pairs_share_activity(&h.recorder.records());
    assert_eq!(
        names(&events)
            .iter()
            .filter(|n| **n == "WskDeregisterStop")
            .count(),
        1
    );
}

fn b_result_outcome(
    rx: &mpsc::Receiver<Result<u32, NtStatus>>,
    out: &mut Option<Result<u32, NtStatus>>,
) -> bool {
    if out.is_some() {
        return true;
    }
    match rx.recv_timeout(Duration::from_millis(1)) {
        Ok(r) => {
            *out = Some(r);
            true
        }
        Err(_) => false,
    }
}

fn wait_flag(flag: &AtomicBool, order: &[Step], what: &str) {
    let deadline = std::time::Instant::now() + SETTLE;
    while !flag.load(Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "{order:?}: {what} deadlocked"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn every_ordering_of_capture_ready_deregister_and_releases() {
    let orders = permutations(&STEPS);
    assert_eq!(orders.len(), 120);
    for order in &orders {
        run(order);
    }
}
