//! DriverEntry / worker / unload orchestration on the simulated subsystem.

mod lifecycle_support;

use std::time::{Duration, Instant};

use lifecycle_support::*;
use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::WskEvent;
use wsktrace_driver::sim::{SimConfig, SimDriver, SimHarness, StdSpawner};

fn entry(h: &SimHarness, policy: Policy) -> Result<SimDriver, NtStatus> {
    Driver::driver_entry(
        h.client.clone(),
        StdSpawner,
        "wsktrace",
        policy,
        Some(ListenParams::default()),
    )
}

fn worker_policy(wait: WaitTimeout) -> Policy {
    Policy {
        wait_timeout: wait,
        wait_on: WaitOn::Worker,
        npi_version: make_wsk_version(1, 0),
    }
}

fn driver_entry_policy(wait: WaitTimeout) -> Policy {
    Policy {
        wait_on: WaitOn::DriverEntryThread,
        ..worker_policy(wait)
    }
}

fn driver_entry_duration(events: &[WskEvent]) -> u64 {
    events
        .iter()
        .find_map(|e| match e {
            WskEvent::DriverEntryStop { duration_ns, .. } => Some(*duration_ns),
            _ => None,
        })
        .unwrap()
}

#[test]
fn worker_waits_for_early_start_system() {
    let h = harness(ready_after(150));
    let t = Instant::now();
    let driver = entry(&h, worker_policy(WaitTimeout::Infinite)).unwrap();
    // DriverEntry does not wait for WSK.
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    assert!(h.sim.wait_until(Duration::from_secs(3), |s| s.sockets == 1));
    assert!(h
        .sim
        .wait_until(Duration::from_secs(1), |s| s.captured == 0));
    // The slot is filled right after the release; give the worker a moment.
    let deadline = Instant::now() + Duration::from_secs(1);
    while driver.bring_up_status().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(driver.bring_up_status(), Some(NtStatus::SUCCESS));
    assert!(driver.has_listening_socket());
    assert!(h
        .sim
        .wait_until(Duration::from_secs(3), |s| s.accepts_pending == 1));
    driver.unload();
    let events = h.recorder.events();
    // The worker runs concurrently with the end of DriverEntry: its first events may come
    // before or after DriverEntryStop, but its capture returns only after the 150 ms wait.
    let n = names(&events);
    let entry_stop = n.iter().position(|x| *x == "DriverEntryStop").unwrap();
    let capture_stop = n
        .iter()
        .position(|x| *x == "CaptureProviderNpiStop")
        .unwrap();
    assert!(entry_stop < capture_stop);
    let without_entry_stop: Vec<&str> = n
        .iter()
        .copied()
        .filter(|x| *x != "DriverEntryStop")
        .collect();
    assert_eq!(
        without_entry_stop,
        [
            "DriverEntryStart",
            // The worker registers (and re-registers if it must negotiate) and captures.
            "WskRegister",
            "CaptureProviderNpiStart",
            "CaptureProviderNpiStop",
            "DispatchCall",
            "SocketCreated",
            "SocketBind",
            "DispatchCall",
            "ReleaseProviderNpi",
            // The worker goes on to accept; unload's close cancels it, and the close's Stop
            // comes after the cancelled accept, before the deregister.
            "AcceptStart",
            "DriverUnloadStart",
            "CloseSocketStart",
            "AcceptStop",
            "CloseSocketStop",
            "WskDeregisterStart",
            "WskDeregisterStop",
            "DriverUnloadStop",
        ]
    );
    assert!(
        matches!(&events[0], WskEvent::DriverEntryStart { client_name } if client_name == "wsktrace")
    );
    let capture_start = n
        .iter()
        .position(|x| *x == "CaptureProviderNpiStart")
        .unwrap();
    assert!(matches!(
        events[capture_start],
        WskEvent::CaptureProviderNpiStart {
            calling_context: 1,
            wait_timeout_ms: WSK_INFINITE_WAIT,
            ..
        }
    ));
    let stops = capture_stops(&events);
    assert_eq!(stops[0].1, NtStatus::SUCCESS);
    assert_wait(stops[0].2 + 10_000_000, Duration::from_millis(150));
    assert!(driver_entry_duration(&events) < 100_000_000);
    // Worker and DriverEntry ran on different threads.
    let recs = h.recorder.records();
    assert_ne!(recs[0].thread_id, recs[capture_start].thread_id);
    assert_pairs_share_activity(&recs);
    assert_balanced(&events);
    assert!(h.sim.violations().is_empty());
    assert_eq!(h.sim.snapshot().live_registrations, 0);
    assert_eq!(h.sim.snapshot().sockets, 0);
}

#[test]
fn driver_entry_thread_waits_bounded() {
    let h = harness(ready_after(60));
    // An infinite wait asked for on the DriverEntry thread is cut to the maximum.
    let driver = entry(&h, driver_entry_policy(WaitTimeout::Infinite)).unwrap();
    assert_eq!(driver.bring_up_status(), Some(NtStatus::SUCCESS));
    assert!(driver.has_listening_socket());
    driver.unload();
    let events = h.recorder.events();
    let start = events
        .iter()
        .find(|e| matches!(e, WskEvent::CaptureProviderNpiStart { .. }))
        .unwrap();
    assert!(matches!(
        start,
        WskEvent::CaptureProviderNpiStart {
            calling_context: 0,
            wait_timeout_ms: 2_000,
            ..
        }
    ));
    // DriverEntry included the wait.
    assert_wait(
        driver_entry_duration(&events) + 5_000_000,
        Duration::from_millis(60),
    );
    let recs = h.recorder.records();
    assert!(recs
        .iter()
        .take_while(|r| !matches!(r.event, WskEvent::DriverUnloadStart {}))
        .all(|r| r.thread_id == recs[0].thread_id));
    assert_balanced(&events);
    assert!(h.sim.violations().is_empty());
}

#[test]
fn driver_entry_thread_fails_cleanly_when_never_ready() {
    let h = harness(never_ready());
    let r = entry(&h, driver_entry_policy(WaitTimeout::from_ms(100)));
    assert_eq!(r.err(), Some(NtStatus::DEVICE_NOT_READY));
    let events = h.recorder.events();
    assert_eq!(
        names(&events),
        [
            "DriverEntryStart",
            "WskRegister",
            "CaptureProviderNpiStart",
            "CaptureProviderNpiStop",
            "WskDeregisterStart",
            "WskDeregisterStop",
            "DriverEntryStop",
        ]
    );
    assert!(matches!(
        events.last().unwrap(),
        WskEvent::DriverEntryStop {
            status: NtStatus::DEVICE_NOT_READY,
            ..
        }
    ));
    assert_wait(capture_stops(&events)[0].2, Duration::from_millis(100));
    assert_eq!(h.sim.snapshot().live_registrations, 0);
}

#[test]
fn unload_during_the_workers_wait() {
    let h = harness(never_ready());
    let driver = entry(&h, worker_policy(WaitTimeout::Infinite)).unwrap();
    assert!(h.sim.wait_until(Duration::from_secs(2), |s| s.waiting == 1));
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    driver.unload();
    assert!(t.elapsed() < Duration::from_millis(500));
    let events = h.recorder.events();
    let n = names(&events);
    let pos = |name: &str| n.iter().position(|x| *x == name).unwrap();
    assert!(pos("DriverUnloadStart") < pos("WskDeregisterStart"));
    assert!(pos("WskDeregisterStart") < pos("CaptureProviderNpiStop"));
    assert_eq!(n.last(), Some(&"DriverUnloadStop"));
    let stops = capture_stops(&events);
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].1, NtStatus::DEVICE_NOT_READY);
    assert!(stops[0].2 >= 50_000_000);
    assert!(!events
        .iter()
        .any(|e| matches!(e, WskEvent::ReleaseProviderNpi { .. })));
    assert_pairs_share_activity(&h.recorder.records());
    assert!(h.sim.violations().is_empty());
    assert_eq!(
        h.sim.snapshot(),
        wsktrace_driver::sim::SimSnapshot {
            registers: 1,
            ..Default::default()
        }
    );
}

#[test]
fn worker_negotiates_the_version() {
    let h = harness(SimConfig {
        ready_after: Some(Duration::from_millis(20)),
        supported: ProviderCharacteristics {
            lowest_version: 0x0100,
            highest_version: 0x0100,
        },
        ..SimConfig::default()
    });
    let policy = Policy {
        npi_version: make_wsk_version(2, 0),
        ..worker_policy(WaitTimeout::from_ms(1_000))
    };
    let driver = entry(&h, policy).unwrap();
    assert!(h.sim.wait_until(Duration::from_secs(3), |s| s.sockets == 1));
    driver.unload();
    let events = h.recorder.events();
    let versions: Vec<u16> = events
        .iter()
        .filter_map(|e| match e {
            WskEvent::WskRegister { npi_version, .. } => Some(*npi_version),
            _ => None,
        })
        .collect();
    assert_eq!(versions, [0x0200, 0x0100]);
    assert!(events
        .iter()
        .any(|e| matches!(e, WskEvent::QueryProviderCharacteristics { .. })));
    assert_balanced(&events);
    assert_eq!(h.sim.snapshot().live_registrations, 0);
    assert!(h.sim.violations().is_empty());
}

#[test]
fn unload_while_the_worker_holds_the_capture() {
    // Slow dispatch calls: unload arrives while the worker is creating the socket.
    let h = harness(SimConfig {
        dispatch_delay: Duration::from_millis(60),
        ..SimConfig::default()
    });
    let driver = entry(&h, worker_policy(WaitTimeout::Infinite)).unwrap();
    // The socket exists (the capture has been counted by the core long before): unload
    // arrives during the 60 ms bind, while the capture is still held.
    assert!(h.sim.wait_until(Duration::from_secs(2), |s| s.sockets == 1
        && s.captured == 1));
    driver.unload();
    let events = h.recorder.events();
    assert_balanced(&events);
    let n = names(&events);
    let pos = |name: &str| n.iter().position(|x| *x == name).unwrap();
    assert!(pos("ReleaseProviderNpi") < pos("WskDeregisterStop"));
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::WskDeregisterStart {
            captures_outstanding: 1,
            ..
        }
    )));
    let snap = h.sim.snapshot();
    assert_eq!(
        (snap.live_registrations, snap.sockets, snap.captured),
        (0, 0, 0)
    );
    assert!(h.sim.violations().is_empty());
}

#[test]
fn registration_failure_fails_driver_entry() {
    let h = harness(SimConfig {
        register_status: NtStatus::INSUFFICIENT_RESOURCES,
        ..SimConfig::default()
    });
    let r = entry(&h, driver_entry_policy(WaitTimeout::NoWait));
    assert_eq!(r.err(), Some(NtStatus::INSUFFICIENT_RESOURCES));
    let driver = entry(&h, worker_policy(WaitTimeout::NoWait)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(1);
    while driver.bring_up_status().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        driver.bring_up_status(),
        Some(NtStatus::INSUFFICIENT_RESOURCES)
    );
    driver.unload();
}

#[test]
fn worker_no_wait_when_not_ready_gives_up_and_unloads_cleanly() {
    let h = harness(never_ready());
    let driver = entry(&h, worker_policy(WaitTimeout::NoWait)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while driver.bring_up_status().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(driver.bring_up_status(), Some(NtStatus::DEVICE_NOT_READY));
    assert!(!driver.has_listening_socket());
    // The registration stays until unload, which deregisters it.
    assert_eq!(h.sim.snapshot().live_registrations, 1);
    driver.unload();
    assert_eq!(h.sim.snapshot().live_registrations, 0);
    let events = h.recorder.events();
    let stops = capture_stops(&events);
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].1, NtStatus::DEVICE_NOT_READY);
    assert_wait(stops[0].2, Duration::ZERO);
    assert_eq!(names(&events).last(), Some(&"DriverUnloadStop"));
}
