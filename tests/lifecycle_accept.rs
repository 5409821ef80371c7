//! The listening socket that accepts: connections accepted, traced and closed; unload with
//! a pending accept, with a connection still closing; allocation and IRP reservation
//! failures at every site, each ending with nothing leaked and nothing hung.

mod lifecycle_support;

use std::net::SocketAddr;
use std::time::Duration;

use lifecycle_support::*;
use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::{socket_kind, WskEvent};
use wsktrace_driver::sim::alloc_faults::Plan;
use wsktrace_driver::sim::{
    SimConfig, SimDriver, SimHarness, StdSpawner, IRPS_PER_CONNECTION, IRPS_PER_LISTENING_SOCKET,
};

const REMOTE: &str = "127.0.0.1:50001";

fn policy(wait_on: WaitOn) -> Policy {
    Policy {
        wait_timeout: WaitTimeout::from_ms(1_000),
        wait_on,
        npi_version: make_wsk_version(1, 0),
    }
}

fn load(h: &SimHarness, wait_on: WaitOn) -> Result<SimDriver, NtStatus> {
    Driver::driver_entry(
        h.client.clone(),
        StdSpawner,
        "wsktrace",
        policy(wait_on),
        Some(ListenParams::DEFAULT),
    )
}

/// Waits until the accept loop has an accept pending.
fn wait_accepting(h: &SimHarness) {
    assert!(
        h.sim
            .wait_until(Duration::from_secs(10), |s| s.accepts_pending == 1),
        "an accept is pending"
    );
}

/// Unloads on another thread; a hang fails the test instead of blocking it.
fn unload(driver: SimDriver) {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        driver.unload();
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("unload returned");
}

fn assert_nothing_left(h: &SimHarness) {
    assert_eq!(h.sim.violations(), Vec::new());
    let s = h.sim.snapshot();
    assert_eq!(
        (
            s.live_registrations,
            s.captured,
            s.sockets,
            s.waiting,
            s.accepts_pending
        ),
        (0, 0, 0, 0, 0),
        "{s:?}"
    );
}

fn count(events: &[WskEvent], f: impl Fn(&WskEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

fn remote() -> SocketAddr {
    REMOTE.parse().unwrap()
}

#[test]
fn connections_are_accepted_traced_and_closed_then_unload_cancels_the_accept() {
    for wait_on in [WaitOn::Worker, WaitOn::DriverEntryThread] {
        let h = harness(SimConfig::default());
        let driver = load(&h, wait_on).unwrap();
        wait_accepting(&h);
        let listen = driver.listening_socket_id().expect("listening");
        for n in 1..=3 {
            assert!(h.sim.connect(None, remote()));
            assert!(h
                .sim
                .wait_until(Duration::from_secs(10), |s| s.accepted == n
                    && s.accepts_pending == 1
                    && s.closes == n));
        }
        unload(driver);
        assert_nothing_left(&h);

        let events = h.recorder.events();
        let accepted: Vec<(NtStatus, u32, String, u32)> = events
            .iter()
            .filter_map(|e| match e {
                WskEvent::AcceptStop {
                    socket_id,
                    status,
                    accepted_socket_id,
                    remote_address,
                    remote_port,
                    ..
                } => {
                    assert_eq!(*socket_id, listen);
                    Some((
                        *status,
                        *accepted_socket_id,
                        remote_address.clone(),
                        *remote_port,
                    ))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            accepted.len(),
            4,
            "three connections, then the cancelled accept"
        );
        for (status, id, address, port) in &accepted[..3] {
            assert_eq!(*status, NtStatus::SUCCESS);
            assert_ne!(*id, 0);
            assert_eq!((address.as_str(), *port), ("127.0.0.1", 50001));
        }
        assert_eq!(accepted[3], (NtStatus::CANCELLED, 0, String::new(), 0));
        // Each accepted connection was created and closed, the listening socket too.
        let connections: Vec<u32> = accepted[..3].iter().map(|a| a.1).collect();
        for id in connections.iter().chain([&listen]) {
            let closes = count(&events, |e| {
                matches!(e, WskEvent::CloseSocketStop { socket_id, status, .. }
                    if socket_id == id && status.is_success())
            });
            assert_eq!(closes, 1, "socket {id} closed once");
        }
        assert_eq!(
            count(&events, |e| matches!(
                e,
                WskEvent::SocketCreated {
                    socket_kind: socket_kind::ACCEPTED,
                    ..
                }
            )),
            3
        );
        assert!(events.iter().any(|e| matches!(e,
            WskEvent::SocketBind { address, port: 40123, status, .. }
                if address == "127.0.0.1" && status.is_success())));
        // The cancelled accept is recorded before the listening socket's close returns,
        // and every socket is closed before the deregister starts.
        let n = names(&events);
        let last_accept = n.iter().rposition(|x| *x == "AcceptStop").unwrap();
        let last_close = n.iter().rposition(|x| *x == "CloseSocketStop").unwrap();
        let dereg = n.iter().position(|x| *x == "WskDeregisterStart").unwrap();
        assert!(last_accept < last_close && last_close < dereg, "{n:?}");
        assert_pairs_share_activity(&h.recorder.records());
    }
}

#[test]
fn unload_while_a_connection_is_still_closing() {
    // Every socket call takes 80 ms, on another thread: unload begins while the accepted
    // connection's close is still in progress, and waits for it.
    let h = harness(SimConfig {
        dispatch_delay: Duration::from_millis(80),
        ..SimConfig::default()
    });
    let driver = load(&h, WaitOn::Worker).unwrap();
    wait_accepting(&h);
    assert!(h.sim.connect(None, remote()));
    assert!(h
        .sim
        .wait_until(Duration::from_secs(10), |s| s.accepted == 1));
    unload(driver);
    assert_nothing_left(&h);
    let n = names(&h.recorder.events());
    let closes = n.iter().filter(|x| **x == "CloseSocketStop").count();
    let dereg = n.iter().position(|x| *x == "WskDeregisterStart").unwrap();
    assert_eq!(closes, 2, "the connection and the listening socket");
    assert!(
        n[..dereg]
            .iter()
            .filter(|x| **x == "CloseSocketStop")
            .count()
            == 2
    );
}

#[test]
fn port_zero_means_no_listener() {
    let h = harness(SimConfig::default());
    let driver = Driver::driver_entry(
        h.client.clone(),
        StdSpawner,
        "wsktrace",
        policy(WaitOn::DriverEntryThread),
        ListenParams::from_config(None, Some(0)),
    )
    .unwrap();
    assert!(!driver.has_listening_socket());
    unload(driver);
    assert_nothing_left(&h);
    let events = h.recorder.events();
    assert_eq!(count(&events, |e| e.socket_id().is_some()), 0);
}

#[test]
fn listen_parameters_from_configuration() {
    assert_eq!(
        ListenParams::from_config(None, None),
        Some(ListenParams::DEFAULT)
    );
    assert_eq!(ListenParams::from_config(None, Some(0)), None);
    let any = ListenParams::from_config(Some("0.0.0.0"), Some(8080)).unwrap();
    assert_eq!(
        (any.address.to_string(), any.port),
        ("0.0.0.0".into(), 8080)
    );
    let v6 = ListenParams::from_config(Some(" ::1 "), Some(1)).unwrap();
    assert_eq!(v6.address_family(), AF_INET6);
    // Not an address, or a port out of range: the defaults, never a wider bind.
    let bad = ListenParams::from_config(Some("localhost"), Some(70_000)).unwrap();
    assert_eq!(bad, ListenParams::DEFAULT);
}

#[test]
fn failing_accepts_stop_the_loop_and_unload_still_cleans_up() {
    let h = harness(SimConfig {
        accept_status: Some(NtStatus::CONNECTION_RESET),
        ..SimConfig::default()
    });
    let driver = load(&h, WaitOn::Worker).unwrap();
    for _ in 0..listener::MAX_ACCEPT_FAILURES {
        wait_accepting(&h);
        h.sim.connect(None, remote());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(h
        .sim
        .wait_until(Duration::from_secs(10), |s| s.accepts_pending == 0));
    unload(driver);
    assert_nothing_left(&h);
    let failed = count(&h.recorder.events(), |e| {
        matches!(
            e,
            WskEvent::AcceptStop {
                status: NtStatus::CONNECTION_RESET,
                ..
            }
        )
    });
    assert_eq!(failed, listener::MAX_ACCEPT_FAILURES as usize);
}

/// Loads (on `wait_on`), accepts one connection, unloads; every allocation the run makes
/// goes through `plan`. Returns DriverEntry's status.
fn run_with(plan: &std::sync::Arc<Plan>, wait_on: WaitOn) -> (SimHarness, NtStatus) {
    let h = harness(SimConfig::default());
    let _entered = plan.enter();
    let status = match load(&h, wait_on) {
        Ok(driver) => {
            let status = loop {
                if let Some(status) = driver.bring_up_status() {
                    break status;
                }
                std::thread::sleep(Duration::from_millis(1));
            };
            if driver.has_listening_socket() {
                h.sim
                    .wait_until(Duration::from_secs(10), |s| s.accepts_pending == 1);
                h.sim.connect(None, remote());
                h.sim.wait_until(Duration::from_secs(10), |s| s.closes == 1);
            }
            unload(driver);
            status
        }
        Err(status) => status,
    };
    (h, status)
}

#[test]
fn every_allocation_site_fails_cleanly() {
    for wait_on in [WaitOn::Worker, WaitOn::DriverEntryThread] {
        let sites = {
            let plan = Plan::record();
            let (h, status) = run_with(&plan, wait_on);
            assert_eq!(status, NtStatus::SUCCESS);
            assert_nothing_left(&h);
            plan.sites()
        };
        assert!(
            sites.len() >= 4,
            "the driver, its registration, listener, event, threads: {sites:?}"
        );
        for n in 0..sites.len() as u64 {
            let plan = Plan::fail_at(n);
            let (h, status) = run_with(&plan, wait_on);
            assert_eq!(
                status,
                NtStatus::INSUFFICIENT_RESOURCES,
                "allocation {n} ({}) failed: the status says so",
                sites[n as usize]
            );
            assert_nothing_left(&h);
            assert!(plan.allocations() > n, "allocation {n} was reached");
        }
    }
}

#[test]
fn every_irp_reservation_fails_cleanly() {
    for n in 0..IRPS_PER_LISTENING_SOCKET {
        let h = harness(SimConfig::default());
        h.sim.set_irp_allocations_left(Some(n));
        let driver = load(&h, WaitOn::DriverEntryThread);
        assert_eq!(driver.err(), Some(NtStatus::INSUFFICIENT_RESOURCES));
        assert_nothing_left(&h);
        let events = h.recorder.events();
        // The capture was released, the registration deregistered, no socket created.
        assert_eq!(
            count(&events, |e| matches!(
                e,
                WskEvent::ReleaseProviderNpi { .. }
            )),
            1
        );
        assert_eq!(
            count(&events, |e| matches!(e, WskEvent::WskDeregisterStop { .. })),
            1
        );
        assert_eq!(count(&events, |e| e.socket_id().is_some()), 0);
    }
    // The socket's IRPs were had, each accept's connection IRP is not: the accepts fail
    // before `WskAccept` is called, the loop gives up, unload closes the socket.
    let h = harness(SimConfig::default());
    h.sim
        .set_irp_allocations_left(Some(IRPS_PER_LISTENING_SOCKET + IRPS_PER_CONNECTION - 1));
    let driver = load(&h, WaitOn::DriverEntryThread).expect("loaded");
    let failed = |events: &[WskEvent]| {
        count(events, |e| {
            matches!(
                e,
                WskEvent::AcceptStop {
                    status: NtStatus::INSUFFICIENT_RESOURCES,
                    ..
                }
            )
        })
    };
    for _ in 0..1_000 {
        if failed(&h.recorder.events()) == listener::MAX_ACCEPT_FAILURES as usize {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    unload(driver);
    assert_nothing_left(&h);
    let events = h.recorder.events();
    assert_eq!(failed(&events), listener::MAX_ACCEPT_FAILURES as usize);
    assert_eq!(h.sim.snapshot().accepted, 0);
    assert_eq!(
        count(&events, |e| matches!(e, WskEvent::CloseSocketStop { .. })),
        1
    );
}
