//! The subcomponent on the simulated WSK subsystem: activated and deactivated several times in
//! one load; activated while a previous deactivation's deregister still waits; deactivated
//! during a capture wait. Each ends with nothing registered, captured or open, and its trace,
//! written as ETL and read back, checks clean.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wsktrace_driver::lifecycle::WaitTimeout;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;
use wsktrace_driver::sim::{SimConfig, SimHarness, StdSpawner};
use wsktrace_subcomponent::subcomponent::{Subcomponent, CAPTURE_WAIT};
use wsktrace_tools::analysis::balance::Verdict;

mod common;

type SimSubcomponent = Subcomponent<
    wsktrace_driver::sim::SimWsk,
    Arc<wsktrace_driver::sim::Recorder>,
    wsktrace_driver::sim::HostClock,
    StdSpawner,
>;

fn subcomponent(h: &SimHarness, wait: WaitTimeout) -> Arc<SimSubcomponent> {
    Arc::new(Subcomponent::new(h.client.clone(), wait))
}

/// Waits (bounded) until `done` holds for the simulator's counters.
fn until(h: &SimHarness, what: &str, done: impl Fn(&wsktrace_driver::sim::SimSnapshot) -> bool) {
    assert!(h.sim.wait_until(Duration::from_secs(10), done), "{what}");
}

fn assert_nothing_left(h: &SimHarness) {
    assert_eq!(h.sim.violations(), Vec::new());
    let s = h.sim.snapshot();
    assert_eq!(
        (s.live_registrations, s.captured, s.sockets, s.waiting),
        (0, 0, 0, 0),
        "{s:?}"
    );
}

fn count(h: &SimHarness, f: impl Fn(&WskEvent) -> bool) -> usize {
    h.recorder.events().iter().filter(|e| f(e)).count()
}

#[test]
fn activated_and_deactivated_several_times_in_one_load() {
    let h = SimHarness::new(SimConfig::default());
    let sub = subcomponent(&h, CAPTURE_WAIT);
    assert!(!sub.is_active());
    assert!(!sub.deactivate(), "nothing to deactivate yet");
    for round in 1..=3u32 {
        assert_eq!(sub.activate(), NtStatus::SUCCESS, "activation {round}");
        assert!(sub.is_active());
        assert_eq!(
            sub.activate(),
            NtStatus::SUCCESS,
            "active already: no change"
        );
        let s = h.sim.snapshot();
        assert_eq!(
            (s.live_registrations, s.captured, s.sockets, s.registers),
            (1, 0, 0, round),
            "active: registered, the NPI released, the socket closed"
        );
        assert!(sub.deactivate());
        assert!(!sub.is_active());
        assert_nothing_left(&h);
    }
    let sockets = |e: &WskEvent| matches!(e, WskEvent::CloseSocketStop { .. });
    let releases = |e: &WskEvent| matches!(e, WskEvent::ReleaseProviderNpi { .. });
    assert_eq!((count(&h, sockets), count(&h, releases)), (3, 3));
    // Registration ids keep counting: three registrations, each deregistered.
    let deregistered: Vec<u32> = h
        .recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            WskEvent::WskDeregisterStop {
                registration_id, ..
            } => Some(*registration_id),
            _ => None,
        })
        .collect();
    assert_eq!(deregistered, [1, 2, 3]);
    assert_eq!(common::check(&h.recorder, &h.clock), (Verdict::Ok, 3));
}

#[test]
fn activation_while_a_deactivations_deregister_still_waits() {
    // Each socket call takes 100 ms: the first activation is still using the provider
    // (holding its capture) when it is deactivated, so that deregister waits.
    let h = SimHarness::new(SimConfig {
        dispatch_delay: Duration::from_millis(100),
        ..SimConfig::default()
    });
    let sub = subcomponent(&h, CAPTURE_WAIT);
    let first = {
        let sub = sub.clone();
        thread::spawn(move || sub.activate())
    };
    until(&h, "the first activation holds its capture", |s| {
        s.captured == 1
    });
    let deactivation = {
        let sub = sub.clone();
        thread::spawn(move || sub.deactivate())
    };
    until(&h, "the deregister waits", |s| s.deregistering == 1);
    // A new activation while it waits (the first activation releases only after its two
    // 100 ms calls): a registration of its own.
    assert_eq!(sub.activate(), NtStatus::SUCCESS);
    assert!(sub.is_active());
    assert_eq!(first.join().unwrap(), NtStatus::SUCCESS);
    assert!(deactivation.join().unwrap());
    assert!(sub.deactivate());
    assert_nothing_left(&h);
    // In the trace: registration 2 was registered while registration 1's deregister waited.
    let names: Vec<String> = h
        .recorder
        .events()
        .iter()
        .map(|e| {
            let registration = e.registration_id().unwrap_or(0);
            format!(
                "{}{}/{registration}",
                e.descriptor().name,
                e.descriptor().opcode
            )
        })
        .collect();
    let at = |tag: &str| names.iter().position(|n| n == tag).unwrap();
    assert!(at("WskDeregister1/1") < at("WskRegister0/2"), "{names:?}");
    assert!(at("WskRegister0/2") < at("WskDeregister2/1"), "{names:?}");
    assert_eq!(common::check(&h.recorder, &h.clock), (Verdict::Ok, 2));
}

#[test]
fn deactivation_during_a_capture_wait() {
    // WSK never becomes ready: the activation waits, and the deactivation cancels it.
    let h = SimHarness::new(SimConfig {
        ready_after: None,
        ..SimConfig::default()
    });
    let sub = subcomponent(&h, WaitTimeout::Millis(30_000));
    let activation = {
        let sub = sub.clone();
        thread::spawn(move || sub.activate())
    };
    until(&h, "the capture waits", |s| s.waiting == 1);
    assert!(sub.deactivate());
    assert_eq!(activation.join().unwrap(), NtStatus::DEVICE_NOT_READY);
    assert!(!sub.is_active());
    assert_nothing_left(&h);
    let cancelled = |e: &WskEvent| {
        matches!(
            e,
            WskEvent::CaptureProviderNpiStop {
                status: NtStatus::DEVICE_NOT_READY,
                ..
            }
        )
    };
    assert_eq!(count(&h, cancelled), 1);
    assert_eq!(
        count(&h, |e| matches!(e, WskEvent::WskDeregisterStop { .. })),
        1,
        "deregistered once, by the deactivation"
    );
    // Activated again once WSK is ready: it works.
    h.sim.set_ready();
    assert_eq!(sub.activate(), NtStatus::SUCCESS);
    assert!(sub.deactivate());
    assert_nothing_left(&h);
    assert_eq!(common::check(&h.recorder, &h.clock), (Verdict::Ok, 2));
}
