//! The WSK registration rules, on the simulated subsystem, checked on the recorded events.

mod lifecycle_support;

use std::time::{Duration, Instant};

use lifecycle_support::*;
use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::{CallingContext as Ctx, WskEvent};
use wsktrace_driver::sim::{SimConfig, SimViolation};

const V1_0: u16 = make_wsk_version(1, 0);

#[test]
fn capture_use_release_deregister_no_wait() {
    let h = harness(SimConfig::default());
    let reg = h.client.register(V1_0).unwrap();
    let mut npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    let socket = npi
        .create_listening_socket(&ListenParams::default())
        .unwrap();
    assert_eq!(npi.dispatch_calls(), 2);
    npi.release();
    assert_eq!(socket.close(), NtStatus::SUCCESS);
    reg.deregister();
    let events = h.recorder.events();
    assert_eq!(
        names(&events),
        [
            "WskRegister",
            "CaptureProviderNpiStart",
            "CaptureProviderNpiStop",
            "DispatchCall",
            "SocketCreated",
            "SocketBind",
            "DispatchCall",
            "ReleaseProviderNpi",
            "CloseSocketStart",
            "CloseSocketStop",
            "WskDeregisterStart",
            "WskDeregisterStop",
        ]
    );
    let rid = reg.id();
    assert_eq!(
        events[0],
        WskEvent::WskRegister {
            registration_id: rid,
            npi_version: 0x0100,
            status: NtStatus::SUCCESS,
            duration_ns: match events[0] {
                WskEvent::WskRegister { duration_ns, .. } => duration_ns,
                _ => unreachable!(),
            },
        }
    );
    match &events[1] {
        WskEvent::CaptureProviderNpiStart {
            registration_id,
            wait_timeout_ms,
            calling_context,
            ..
        } => {
            assert_eq!(*registration_id, rid);
            assert_eq!(*wait_timeout_ms, WSK_NO_WAIT);
            assert_eq!(*calling_context, 2);
        }
        e => panic!("{e:?}"),
    }
    match (&events[3], &events[6]) {
        (
            WskEvent::DispatchCall {
                function: f1,
                status: s1,
                ..
            },
            WskEvent::DispatchCall {
                function: f2,
                status: s2,
                ..
            },
        ) => {
            assert_eq!((f1.as_str(), *s1), ("WskSocket", NtStatus::SUCCESS));
            assert_eq!((f2.as_str(), *s2), ("WskBind", NtStatus::SUCCESS));
        }
        e => panic!("{e:?}"),
    }
    assert!(matches!(
        &events[4..6],
        [
            WskEvent::SocketCreated {
                socket_id: 1,
                socket_kind: 0,
                address_family: 2,
                ..
            },
            WskEvent::SocketBind {
                socket_id: 1,
                port: 40123,
                status: NtStatus::SUCCESS,
                ..
            },
        ]
    ));
    match &events[7] {
        WskEvent::ReleaseProviderNpi {
            dispatch_calls,
            implicit,
            ..
        } => {
            assert_eq!(*dispatch_calls, 2);
            assert!(!implicit);
        }
        e => panic!("{e:?}"),
    }
    match &events[10] {
        WskEvent::WskDeregisterStart {
            captures_outstanding,
            ..
        } => {
            assert_eq!(*captures_outstanding, 0)
        }
        e => panic!("{e:?}"),
    }
    assert_pairs_share_activity(&h.recorder.records());
    assert_balanced(&events);
    assert!(h.sim.violations().is_empty());
    assert_eq!(h.sim.snapshot().live_registrations, 0);
}

#[test]
fn no_wait_when_not_ready_fails_at_once() {
    let h = harness(never_ready());
    let reg = h.client.register(V1_0).unwrap();
    let t = Instant::now();
    let r = reg.capture(WaitTimeout::NoWait, Ctx::Other);
    assert_eq!(r.err(), Some(NtStatus::DEVICE_NOT_READY));
    assert!(t.elapsed() < Duration::from_millis(50));
    let stops = capture_stops(&h.recorder.events());
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].1, NtStatus::DEVICE_NOT_READY);
    assert_wait(stops[0].2, Duration::ZERO);
}

#[test]
fn timeout_when_never_ready_fails_after_the_timeout() {
    let h = harness(never_ready());
    let reg = h.client.register(V1_0).unwrap();
    let r = reg.capture(WaitTimeout::from_ms(100), Ctx::Other);
    assert_eq!(r.err(), Some(NtStatus::DEVICE_NOT_READY));
    let stops = capture_stops(&h.recorder.events());
    assert_eq!(stops[0].1, NtStatus::DEVICE_NOT_READY);
    assert_wait(stops[0].2, Duration::from_millis(100));
}

#[test]
fn timeout_when_ready_late_succeeds_when_ready() {
    let h = harness(ready_after(80));
    let reg = h.client.register(V1_0).unwrap();
    let npi = reg
        .capture(WaitTimeout::from_ms(1_000), Ctx::Other)
        .unwrap();
    npi.release();
    let stops = capture_stops(&h.recorder.events());
    assert_eq!(stops[0].1, NtStatus::SUCCESS);
    // Ready 80 ms after the simulator was created; the capture started just after.
    assert_wait(stops[0].2 + 2_000_000, Duration::from_millis(80));
}

#[test]
fn infinite_wait_when_ready_late_succeeds_when_ready() {
    let h = harness(ready_after(120));
    let reg = h.client.register(V1_0).unwrap();
    let npi = reg.capture(WaitTimeout::Infinite, Ctx::Worker).unwrap();
    drop(npi);
    let events = h.recorder.events();
    let stops = capture_stops(&events);
    assert_eq!(stops[0].1, NtStatus::SUCCESS);
    assert_wait(stops[0].2 + 2_000_000, Duration::from_millis(120));
    match &events[1] {
        WskEvent::CaptureProviderNpiStart {
            wait_timeout_ms,
            calling_context,
            ..
        } => {
            assert_eq!(*wait_timeout_ms, WSK_INFINITE_WAIT);
            assert_eq!(*calling_context, 1);
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn timeout_shorter_than_readiness_fails() {
    let h = harness(ready_after(200));
    let reg = h.client.register(V1_0).unwrap();
    let r = reg.capture(WaitTimeout::from_ms(50), Ctx::Other);
    assert_eq!(r.err(), Some(NtStatus::DEVICE_NOT_READY));
    assert_wait(
        capture_stops(&h.recorder.events())[0].2,
        Duration::from_millis(50),
    );
}

#[test]
fn unsupported_version_is_negotiated() {
    let h = harness(SimConfig {
        supported: ProviderCharacteristics {
            lowest_version: 0x0100,
            highest_version: 0x0100,
        },
        ..SimConfig::default()
    });
    let npi = h
        .client
        .register_and_capture(
            make_wsk_version(2, 0),
            WaitTimeout::from_ms(100),
            Ctx::Other,
            |_| true,
        )
        .unwrap();
    assert_eq!(npi.registration().version(), 0x0100);
    let reg = npi.registration().clone();
    npi.release();
    reg.deregister();
    let events = h.recorder.events();
    assert_eq!(
        names(&events),
        [
            "WskRegister",
            "CaptureProviderNpiStart",
            "CaptureProviderNpiStop",
            "QueryProviderCharacteristics",
            "WskDeregisterStart",
            "WskDeregisterStop",
            "WskRegister",
            "CaptureProviderNpiStart",
            "CaptureProviderNpiStop",
            "ReleaseProviderNpi",
            "WskDeregisterStart",
            "WskDeregisterStop",
        ]
    );
    assert!(matches!(
        events[0],
        WskEvent::WskRegister {
            npi_version: 0x0200,
            ..
        }
    ));
    assert!(matches!(
        events[2],
        WskEvent::CaptureProviderNpiStop {
            status: NtStatus::NOINTERFACE,
            ..
        }
    ));
    assert!(matches!(
        events[3],
        WskEvent::QueryProviderCharacteristics {
            status: NtStatus::SUCCESS,
            lowest_version: 0x0100,
            highest_version: 0x0100,
            ..
        }
    ));
    assert!(matches!(
        events[6],
        WskEvent::WskRegister {
            npi_version: 0x0100,
            ..
        }
    ));
    assert_balanced(&events);
    assert_pairs_share_activity(&h.recorder.records());
    assert_eq!(h.sim.snapshot().live_registrations, 0);
}

#[test]
fn version_negotiation_is_bounded() {
    // The subsystem claims 2.0 but accepts nothing: negotiation must stop.
    let h = harness(SimConfig {
        supported: ProviderCharacteristics {
            lowest_version: 0x0300,
            highest_version: 0x0100,
        },
        reported: Some(ProviderCharacteristics {
            lowest_version: 0x0200,
            highest_version: 0x0200,
        }),
        ..SimConfig::default()
    });
    let r = h
        .client
        .register_and_capture(V1_0, WaitTimeout::NoWait, Ctx::Other, |_| true);
    assert_eq!(r.err(), Some(NtStatus::NOINTERFACE));
    let snap = h.sim.snapshot();
    assert_eq!(snap.registers, 2, "1.0 then 2.0, never 2.0 again");
    assert_eq!(snap.live_registrations, 0);
    let regs = h
        .recorder
        .events()
        .iter()
        .filter(|e| matches!(e, WskEvent::WskRegister { .. }))
        .count();
    assert_eq!(regs, 2);
}

#[test]
fn several_captures_each_released_once() {
    let h = harness(SimConfig::default());
    let reg = h.client.register(V1_0).unwrap();
    let a = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    let b = reg.capture(WaitTimeout::from_ms(10), Ctx::Other).unwrap();
    let c = reg.capture(WaitTimeout::Infinite, Ctx::Other).unwrap();
    assert_eq!(reg.outstanding_captures(), 3);
    assert_eq!(h.sim.snapshot().captured, 3);
    let ids = [a.capture_id(), b.capture_id(), c.capture_id()];
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    b.release();
    drop(c); // implicit
    a.release();
    assert_eq!(reg.outstanding_captures(), 0);
    reg.deregister();
    let events = h.recorder.events();
    assert_balanced(&events);
    let implicit: Vec<(u32, bool)> = events
        .iter()
        .filter_map(|e| match e {
            WskEvent::ReleaseProviderNpi {
                capture_id,
                implicit,
                ..
            } => Some((*capture_id, *implicit)),
            _ => None,
        })
        .collect();
    assert_eq!(implicit, [(ids[1], false), (ids[2], true), (ids[0], false)]);
    assert!(h.sim.violations().is_empty());
}

#[test]
fn deregister_cancels_a_waiting_capture() {
    let h = harness(never_ready());
    let reg = h.client.register(V1_0).unwrap();
    let waiter = {
        let reg = reg.clone();
        std::thread::spawn(move || {
            reg.capture(WaitTimeout::Infinite, Ctx::Worker)
                .map(|n| n.release())
        })
    };
    assert!(h.sim.wait_until(Duration::from_secs(2), |s| s.waiting == 1));
    std::thread::sleep(Duration::from_millis(30));
    reg.deregister();
    assert_eq!(
        waiter.join().unwrap().err(),
        Some(NtStatus::DEVICE_NOT_READY)
    );
    let events = h.recorder.events();
    let stops = capture_stops(&events);
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].1, NtStatus::DEVICE_NOT_READY);
    assert!(Duration::from_nanos(stops[0].2) >= Duration::from_millis(30));
    // Deregister began before the cancelled capture returned. (Its Stop may be written
    // before or after the capture's Stop: both threads return at about the same time.)
    let pos = |name: &str| names(&events).iter().position(|n| *n == name).unwrap();
    assert!(pos("WskDeregisterStart") < pos("CaptureProviderNpiStop"));
    assert_pairs_share_activity(&h.recorder.records());
    // No capture after deregistration began.
    assert_eq!(
        reg.capture(WaitTimeout::NoWait, Ctx::Other).err(),
        Some(NtStatus::INVALID_DEVICE_STATE)
    );
    // A refused capture calls no WSK function and records only that it was refused.
    let after = h.recorder.events();
    assert_eq!(after.len(), events.len() + 1);
    assert_eq!(
        after[events.len()],
        WskEvent::CaptureRefused {
            registration_id: reg.id(),
            wait_timeout_ms: 0,
            calling_context: Ctx::Other as u8,
            status: NtStatus::INVALID_DEVICE_STATE,
        }
    );
    assert!(h.sim.violations().is_empty());
}

#[test]
fn deregister_waits_for_every_release_and_socket() {
    let h = harness(SimConfig::default());
    let reg = h.client.register(V1_0).unwrap();
    let mut npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    let socket = npi
        .create_listening_socket(&ListenParams::default())
        .unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(80));
        npi.release();
        std::thread::sleep(Duration::from_millis(80));
        socket.close()
    });
    reg.deregister();
    assert_eq!(holder.join().unwrap(), NtStatus::SUCCESS);
    let events = h.recorder.events();
    let (outstanding, wait) = events.iter().fold((None, None), |acc, e| match e {
        WskEvent::WskDeregisterStart {
            captures_outstanding,
            ..
        } => (Some(*captures_outstanding), acc.1),
        WskEvent::WskDeregisterStop { wait_ns, .. } => (acc.0, Some(*wait_ns)),
        _ => acc,
    });
    assert_eq!(outstanding, Some(1));
    assert_wait(wait.unwrap(), Duration::from_millis(160));
    let pos = |name: &str| names(&events).iter().position(|n| *n == name).unwrap();
    assert!(pos("ReleaseProviderNpi") < pos("WskDeregisterStop"));
    assert!(h.sim.violations().is_empty());
}

#[test]
fn registration_failure_is_recorded() {
    let h = harness(SimConfig {
        register_status: NtStatus::INSUFFICIENT_RESOURCES,
        ..SimConfig::default()
    });
    assert_eq!(
        h.client.register(V1_0).err(),
        Some(NtStatus::INSUFFICIENT_RESOURCES)
    );
    assert!(matches!(
        h.recorder.events()[..],
        [WskEvent::WskRegister {
            status: NtStatus::INSUFFICIENT_RESOURCES,
            ..
        }]
    ));
}

#[test]
fn socket_failure_still_releases() {
    let h = harness(SimConfig {
        socket_status: NtStatus::INSUFFICIENT_RESOURCES,
        ..SimConfig::default()
    });
    let reg = h.client.register(V1_0).unwrap();
    let mut npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    assert_eq!(
        npi.create_listening_socket(&ListenParams::default()).err(),
        Some(NtStatus::INSUFFICIENT_RESOURCES)
    );
    npi.release();
    reg.deregister();
    let events = h.recorder.events();
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::DispatchCall {
            status: NtStatus::INSUFFICIENT_RESOURCES,
            ..
        }
    )));
    assert_balanced(&events);
    assert_eq!(h.sim.snapshot().live_registrations, 0);
}

#[test]
fn bind_failure_closes_the_socket() {
    let h = harness(SimConfig {
        bind_status: NtStatus::INVALID_PARAMETER,
        ..SimConfig::default()
    });
    let reg = h.client.register(V1_0).unwrap();
    let mut npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    assert!(npi
        .create_listening_socket(&ListenParams::default())
        .is_err());
    assert_eq!(h.sim.snapshot().sockets, 0);
    npi.release();
}

#[test]
fn dropping_the_last_registration_reference_deregisters() {
    let h = harness(SimConfig::default());
    let reg = h.client.register(V1_0).unwrap();
    let npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    drop(reg); // the guard keeps the registration alive
    assert_eq!(h.sim.snapshot().live_registrations, 1);
    drop(npi);
    assert_eq!(h.sim.snapshot().live_registrations, 0);
    assert_eq!(
        names(&h.recorder.events()).last(),
        Some(&"WskDeregisterStop")
    );
}

#[test]
fn disabled_provider_records_nothing_and_no_orphan_stop() {
    let h = harness(SimConfig::default());
    h.recorder.set_enabled(false);
    let reg = h.client.register(V1_0).unwrap();
    let npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    assert!(h.recorder.events().is_empty());
    h.recorder.set_enabled(true);
    npi.release();
    reg.deregister();
    // The capture's Start was not written, so neither is its Stop; the release is, with an
    // unknown hold time.
    let events = h.recorder.events();
    assert_eq!(
        names(&events),
        [
            "ReleaseProviderNpi",
            "WskDeregisterStart",
            "WskDeregisterStop"
        ]
    );
    assert!(matches!(
        events[0],
        WskEvent::ReleaseProviderNpi { held_ns: 0, .. }
    ));
}

#[test]
fn keyword_filter_selects_events() {
    let h = harness(SimConfig::default());
    h.recorder
        .set_keywords(wsktrace_driver::schema::keywords::DISPATCH);
    let reg = h.client.register(V1_0).unwrap();
    let mut npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    let s = npi
        .create_listening_socket(&ListenParams::default())
        .unwrap();
    npi.release();
    s.close();
    reg.deregister();
    assert_eq!(
        names(&h.recorder.events()),
        ["DispatchCall", "DispatchCall"]
    );
}

#[test]
fn dropped_events_are_counted() {
    let h = harness(SimConfig::default());
    h.recorder.drop_next(2);
    let reg = h.client.register(V1_0).unwrap();
    reg.capture(WaitTimeout::NoWait, Ctx::Other)
        .unwrap()
        .release();
    reg.deregister();
    assert_eq!(h.recorder.lost_events(), 2);
    assert_eq!(
        names(&h.recorder.events()),
        [
            "CaptureProviderNpiStop",
            "ReleaseProviderNpi",
            "WskDeregisterStart",
            "WskDeregisterStop"
        ]
    );
}

#[test]
fn fault_leaked_capture_hangs_deregister() {
    let h = harness(SimConfig {
        deregister_watchdog: Duration::from_millis(100),
        ..SimConfig::default()
    });
    let reg = h.client.register(V1_0).unwrap();
    reg.capture(WaitTimeout::NoWait, Ctx::Other)
        .unwrap()
        .fault_leak();
    assert_eq!(reg.outstanding_captures(), 1);
    // The real deregister would wait for ever; the simulator records the hang at the
    // watchdog and, told to, lets it return.
    h.sim.end_hangs();
    reg.deregister();
    let events = h.recorder.events();
    assert!(!events
        .iter()
        .any(|e| matches!(e, WskEvent::ReleaseProviderNpi { .. })));
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::WskDeregisterStart {
            captures_outstanding: 1,
            ..
        }
    )));
    let rid = 1;
    assert_eq!(
        h.sim.violations(),
        [SimViolation::DeregisterHung {
            registration: rid,
            captures: 1,
            sockets: 0
        }]
    );
}

#[test]
fn fault_double_release() {
    let h = harness(SimConfig::default());
    let reg = h.client.register(V1_0).unwrap();
    let npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    let cid = npi.capture_id();
    npi.fault_double_release();
    let releases: Vec<u32> = h
        .recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            WskEvent::ReleaseProviderNpi { capture_id, .. } => Some(*capture_id),
            _ => None,
        })
        .collect();
    assert_eq!(releases, [cid, cid]);
    assert_eq!(
        h.sim.violations(),
        [SimViolation::ReleaseWithoutCapture { registration: 1 }]
    );
}

#[test]
fn fault_dispatch_after_release() {
    let h = harness(SimConfig::default());
    let reg = h.client.register(V1_0).unwrap();
    let npi = reg.capture(WaitTimeout::NoWait, Ctx::Other).unwrap();
    let cid = npi.capture_id();
    assert_eq!(
        npi.fault_release_then_dispatch(&ListenParams::default()),
        NtStatus::SUCCESS
    );
    let events = h.recorder.events();
    let n = names(&events);
    let rel = n.iter().position(|x| *x == "ReleaseProviderNpi").unwrap();
    let call = n.iter().position(|x| *x == "DispatchCall").unwrap();
    assert!(rel < call);
    assert!(
        matches!(&events[call], WskEvent::DispatchCall { capture_id, .. } if *capture_id == cid)
    );
    assert_eq!(
        h.sim.violations(),
        [SimViolation::DispatchWithoutCapture { registration: 1 }]
    );
    reg.deregister();
    assert_eq!(h.sim.snapshot().sockets, 0);
}

#[test]
fn captures_from_many_threads_balance() {
    let h = harness(ready_after(30));
    let reg = h.client.register(V1_0).unwrap();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let reg = reg.clone();
            std::thread::spawn(move || {
                let wait = if i % 2 == 0 {
                    WaitTimeout::Infinite
                } else {
                    WaitTimeout::from_ms(1_000)
                };
                let mut npi = reg.capture(wait, Ctx::Other).unwrap();
                let s = npi
                    .create_listening_socket(&ListenParams::default())
                    .unwrap();
                npi.release();
                s.close()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), NtStatus::SUCCESS);
    }
    reg.deregister();
    let events = h.recorder.events();
    assert_balanced(&events);
    assert_eq!(capture_stops(&events).len(), 6);
    assert_pairs_share_activity(&h.recorder.records());
    let recs = h.recorder.records();
    assert!(recs
        .windows(2)
        .all(|w| w[0].timestamp_ns <= w[1].timestamp_ns));
    assert!(h.sim.violations().is_empty());
}

#[test]
fn registrations_are_independent() {
    let h = harness(never_ready());
    let a = h.client.register(V1_0).unwrap();
    let b = h.client.register(V1_0).unwrap();
    assert_ne!(a.id(), b.id());
    let waiter = {
        let b = b.clone();
        std::thread::spawn(move || {
            b.capture(WaitTimeout::Infinite, Ctx::Other)
                .map(|n| n.release())
        })
    };
    assert!(h.sim.wait_until(Duration::from_secs(2), |s| s.waiting == 1));
    // Deregistering A does not cancel B's wait.
    a.deregister();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(h.sim.snapshot().waiting, 1);
    h.sim.set_ready();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    b.deregister();
    let events = h.recorder.events();
    assert_balanced(&events);
    let stops = capture_stops(&events);
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].1, NtStatus::SUCCESS);
    assert!(events
        .iter()
        .filter(|e| matches!(e, WskEvent::CaptureProviderNpiStop { .. }))
        .all(|e| e.registration_id() == Some(b.id())));
    assert!(h.sim.violations().is_empty());
}
