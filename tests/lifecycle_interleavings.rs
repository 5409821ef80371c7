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
use wsktrace_driver::sim::{SimConfig, SimHarness, SimViolation, SimWsk};

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

/// The handles a run drives its three threads by: A releases its capture, B captures
/// (infinite wait) and releases, D deregisters; each waits for its go.
struct Actors {
    a_go: mpsc::Sender<()>,
    a_done: Arc<AtomicBool>,
    b_go: mpsc::Sender<()>,
    b_release: mpsc::Sender<()>,
    b_result: mpsc::Receiver<Result<u32, NtStatus>>,
    b_done: Arc<AtomicBool>,
    d_go: mpsc::Sender<()>,
    d_done: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Where a run is: B's answer once it has one, and whether B was sent off.
#[derive(Default)]
struct Progress {
    b_outcome: Option<Result<u32, NtStatus>>,
    b_started: bool,
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
    let (b_go, b_rx) = mpsc::channel::<()>();
    let (b_release, b_release_rx) = mpsc::channel::<()>();
    let (b_result_tx, b_result) = mpsc::channel::<Result<u32, NtStatus>>();
    let (d_go, d_rx) = mpsc::channel::<()>();
    let [a_done, b_done, d_done] = [(); 3].map(|_| Arc::new(AtomicBool::new(false)));
    let done = |flag: &Arc<AtomicBool>| {
        let flag = flag.clone();
        move || flag.store(true, Ordering::SeqCst)
    };
    let (a_finish, b_finish, d_finish) = (done(&a_done), done(&b_done), done(&d_done));
    let thread_a = std::thread::spawn(move || {
        a_rx.recv().unwrap();
        guard_a.release();
        a_finish();
    });
    let b_reg = reg.clone();
    let thread_b = std::thread::spawn(move || {
        b_rx.recv().unwrap();
        match b_reg.capture(WaitTimeout::Infinite, CallingContext::Worker) {
            Ok(npi) => {
                b_result_tx.send(Ok(npi.capture_id())).unwrap();
                b_release_rx.recv().unwrap();
                npi.release();
            }
            Err(status) => b_result_tx.send(Err(status)).unwrap(),
        }
        b_finish();
    });
    let d_reg = reg.clone();
    let thread_d = std::thread::spawn(move || {
        d_rx.recv().unwrap();
        d_reg.deregister();
        d_finish();
    });
    let actors = Actors {
        a_go,
        a_done,
        b_go,
        b_release,
        b_result,
        b_done,
        d_go,
        d_done,
        threads: vec![thread_a, thread_b, thread_d],
    };

    let mut progress = Progress::default();
    for (i, step) in order.iter().enumerate() {
        take_step(*step, i, order, &h.sim, &actors, &mut progress);
    }
    let outcome = end_run(order, actors, progress);
    assert_outcome(order, outcome, &h);
}

/// Carries out step `i` of `order` and waits until it has taken effect.
fn take_step(
    step: Step,
    i: usize,
    order: &[Step],
    sim: &SimWsk,
    actors: &Actors,
    progress: &mut Progress,
) {
    match step {
        Step::Capture => {
            actors.b_go.send(()).unwrap();
            progress.b_started = true;
            // B is now waiting in the subsystem, or has its answer.
            let deadline = std::time::Instant::now() + SETTLE;
            while !b_result_outcome(&actors.b_result, &mut progress.b_outcome)
                && sim.snapshot().waiting != 1
            {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{order:?}: B stuck at step {i}"
                );
            }
        }
        Step::Ready => {
            sim.force_ready(true);
            // A waiting (not cancelled) capture now succeeds.
            await_waiting_b(order, actors, progress, "B not woken");
        }
        Step::Deregister => {
            actors.d_go.send(()).unwrap();
            assert!(
                sim.wait_until(SETTLE, |s| s.deregistering == 1
                    || s.live_registrations == 0),
                "{order:?}: deregister did not start"
            );
            // The waiting capture is cancelled.
            await_waiting_b(order, actors, progress, "B not cancelled");
        }
        Step::ReleaseA => {
            assert!(
                !actors.d_done.load(Ordering::SeqCst),
                "{order:?}: deregister returned before A's release"
            );
            actors.a_go.send(()).unwrap();
            wait_flag(&actors.a_done, order, "A's release");
        }
        Step::ReleaseB => {
            let b_holds = matches!(progress.b_outcome, Some(Ok(_)));
            if b_holds || (progress.b_started && progress.b_outcome.is_none()) {
                assert!(
                    !actors.d_done.load(Ordering::SeqCst),
                    "{order:?}: deregister returned before B's release"
                );
            }
            let _ = actors.b_release.send(());
        }
    }
}

/// If B is waiting in a capture, waits for its answer (`stuck` says what went wrong if none
/// comes).
fn await_waiting_b(order: &[Step], actors: &Actors, progress: &mut Progress, stuck: &str) {
    if progress.b_started && progress.b_outcome.is_none() {
        let r = actors
            .b_result
            .recv_timeout(SETTLE)
            .unwrap_or_else(|_| panic!("{order:?}: {stuck}"));
        progress.b_outcome = Some(r);
    }
}

/// Ends the run: nothing may hang. Returns B's answer.
fn end_run(order: &[Step], actors: Actors, progress: Progress) -> Result<u32, NtStatus> {
    if !progress.b_started {
        actors.b_go.send(()).unwrap();
    }
    let outcome = progress.b_outcome.unwrap_or_else(|| {
        actors
            .b_result
            .recv_timeout(SETTLE)
            .unwrap_or_else(|_| panic!("{order:?}: B never answered"))
    });
    let _ = actors.b_release.send(());
    wait_flag(&actors.b_done, order, "B");
    wait_flag(&actors.d_done, order, "deregister");
    for t in actors.threads {
        t.join().unwrap();
    }
    outcome
}

/// B's outcome is the documented one for this ordering, and the run left nothing behind.
fn assert_outcome(order: &[Step], outcome: Result<u32, NtStatus>, h: &SimHarness) {
    let pos = |s: Step| order.iter().position(|x| *x == s).unwrap();
    let expected = if pos(Step::Capture) > pos(Step::Deregister) {
        Err(NtStatus::INVALID_DEVICE_STATE) // refused: deregistration had begun
    } else if pos(Step::Ready) < pos(Step::Deregister) {
        Ok(())
    } else {
        Err(NtStatus::DEVICE_NOT_READY) // cancelled by the deregister
    };
    assert_eq!(outcome.map(|_| ()), expected, "{order:?}");

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
