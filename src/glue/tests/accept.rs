//! The glue's listening socket on the stand-ins: `WskAccept` completing with a connection
//! from another thread, the connection closed through its own dispatch, `ListenAddress` and
//! `ListenPort` read from `Parameters`, and every allocation and IRP allocation failing in
//! turn, each run ending with nothing leaked and nothing hung (the simulator's deregister
//! watchdog is set beyond any test's time: a hang fails the bounded unload instead).

use alloc::string::String;
use alloc::vec::Vec;
use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::glue::params::{LISTEN_ADDRESS, LISTEN_PORT, WAIT_ON_WORKER};
use crate::lifecycle::listener::MAX_ACCEPT_FAILURES;
use crate::lifecycle::ListenParams;
use crate::sim::alloc_faults::Plan;

const CLIENT: &str = "127.0.0.1:50001";

/// A simulator whose deregister never gives up waiting within a test.
fn patient() -> SimConfig {
    SimConfig {
        deregister_watchdog: Duration::from_secs(3_600),
        ..SimConfig::default()
    }
}

fn failed_accepts(world: &World) -> usize {
    world
        .recorder
        .events()
        .iter()
        .filter(|e| matches!(e, WskEvent::AcceptStop { status, .. } if !status.is_success()))
        .count()
}

/// After a successful DriverEntry: waits for the bring-up, connects a client and waits until
/// it has been accepted and closed with the next accept armed, or until the accept loop gave
/// up (an injected failure), or there is no listener.
fn connect_and_settle(world: &World) {
    wait_for(Duration::from_secs(10), "bring-up", || {
        bring_up_status().is_some()
    });
    if bring_up_status() != Some(NtStatus::SUCCESS) {
        return;
    }
    let client: SocketAddr = CLIENT.parse().unwrap();
    let mut connected = false;
    wait_for(Duration::from_secs(10), "accept loop settled", || {
        connected = connected || world.sim.connect(None, client);
        let s = world.sim.snapshot();
        (s.accepted == 1 && s.closes == 1 && s.accepts_pending == 1)
            || failed_accepts(world) >= MAX_ACCEPT_FAILURES as usize
    });
}

#[test]
fn a_connection_is_accepted_traced_and_closed_through_its_dispatch() {
    for inline in [false, true] {
        let _serial = host::serial();
        let world = world(patient());
        host::set_faults(Faults {
            complete_inline: inline,
            ..Faults::default()
        });
        let mut driver = DRIVER_OBJECT::default();
        assert_eq!(load(&mut driver), STATUS_SUCCESS);
        connect_and_settle(&world);
        assert_eq!(world.sim.snapshot().accepted, 1, "inline {inline}");
        unload(&mut driver, Duration::from_secs(10));
        assert_clean(&world);

        let events = world.recorder.events();
        let accepted: Vec<(NtStatus, u32, String, u32)> = events
            .iter()
            .filter_map(|e| match e {
                WskEvent::AcceptStop {
                    status,
                    accepted_socket_id,
                    remote_address,
                    remote_port,
                    ..
                } => Some((
                    *status,
                    *accepted_socket_id,
                    remote_address.clone(),
                    *remote_port,
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            accepted,
            [
                (NtStatus::SUCCESS, 2, String::from("127.0.0.1"), 50001),
                (NtStatus::CANCELLED, 0, String::new(), 0),
            ],
            "the client's address through SOCKADDR_INET, then the cancelled accept"
        );
        let closed: Vec<(u32, NtStatus)> = events
            .iter()
            .filter_map(|e| match e {
                WskEvent::CloseSocketStop {
                    socket_id, status, ..
                } => Some((*socket_id, *status)),
                _ => None,
            })
            .collect();
        assert_eq!(closed, [(2, NtStatus::SUCCESS), (1, NtStatus::SUCCESS)]);
        assert_in_order(
            &names(&events),
            &[
                "Accept/2",
                "CloseSocket/1",
                "CloseSocket/2",
                "Accept/1",
                "DriverUnload/1",
                "CloseSocket/1",
                "Accept/2",
                "CloseSocket/2",
                "WskDeregister/1",
            ],
        );
    }
}

#[test]
fn listen_address_and_port_come_from_parameters() {
    let bound = |address: Option<&str>, port: Option<u32>| {
        let _serial = host::serial();
        let world = world(patient());
        if let Some(address) = address {
            host::set_registry_string(&parameters_key(), LISTEN_ADDRESS, address);
        }
        if let Some(port) = port {
            host::set_registry_dword(&parameters_key(), LISTEN_PORT, port);
        }
        host::set_registry_dword(&parameters_key(), WAIT_ON_WORKER, 0);
        let mut driver = DRIVER_OBJECT::default();
        assert_eq!(load(&mut driver), STATUS_SUCCESS);
        let sockets = host::snapshot().sockets;
        unload(&mut driver, Duration::from_secs(10));
        assert_clean(&world);
        let binds: Vec<(String, u32)> = world
            .recorder
            .events()
            .iter()
            .filter_map(|e| match e {
                WskEvent::SocketBind { address, port, .. } => Some((address.clone(), *port)),
                _ => None,
            })
            .collect();
        assert_eq!(binds.len(), sockets, "one bind per socket");
        binds.into_iter().next()
    };
    let default_port = u32::from(ListenParams::DEFAULT_PORT);
    let lo = || Some((String::from("127.0.0.1"), default_port));
    assert_eq!(bound(None, None), lo(), "the INF's defaults");
    assert_eq!(
        bound(Some("::1"), Some(8080)),
        Some((String::from("::1"), 8080))
    );
    assert_eq!(
        bound(Some("0.0.0.0"), None),
        Some((String::from("0.0.0.0"), default_port)),
        "every interface only when configured"
    );
    assert_eq!(bound(Some("localhost"), None), lo(), "not an IP literal");
    assert_eq!(bound(None, Some(70_000)), lo(), "not a port");
    assert_eq!(bound(None, Some(0)), None, "port 0: no listening socket");
    // A value of the wrong type is absent.
    let _serial = host::serial();
    let world = world(patient());
    host::set_registry_dword(&parameters_key(), LISTEN_ADDRESS, 1);
    host::set_registry_string(&parameters_key(), LISTEN_PORT, "8080");
    assert!(load_and_unload(&world).iter().any(|e| matches!(
        e,
        WskEvent::SocketBind { address, port, .. }
            if address == "127.0.0.1" && *port == default_port
    )));
}

/// What a [`faulty_run`] gave.
struct Run {
    /// DriverEntry's status.
    status: NTSTATUS,
    /// `STATUS_INSUFFICIENT_RESOURCES` shows: DriverEntry's status, the bring-up's, or an
    /// event's.
    reported: bool,
    /// IRPs allocated during the run.
    irps: u64,
}

/// One load with `faults` and, if given, an allocation-fault `plan` entered on the
/// DriverEntry thread: DriverEntry, a client connecting, unload, nothing left behind.
fn faulty_run(worker: bool, faults: Faults, plan: Option<&alloc::sync::Arc<Plan>>) -> Run {
    let _serial = host::serial();
    let irps_before = host::irps_allocated();
    let world = world(patient());
    set_parameters(1_000, u32::from(worker), 0x0100);
    host::set_faults(faults);
    let _entered = plan.map(|p| p.enter());
    let mut driver = DRIVER_OBJECT::default();
    let status = load(&mut driver);
    let mut bring_up = None;
    if status == STATUS_SUCCESS {
        connect_and_settle(&world);
        bring_up = bring_up_status();
        unload(&mut driver, Duration::from_secs(10));
    }
    assert_clean(&world);
    let short = NtStatus::INSUFFICIENT_RESOURCES;
    let in_trace = world.recorder.events().iter().any(|e| {
        e.fields().iter().any(|(name, value)| {
            *name == "Status" && *value == crate::schema::FieldValue::U32(short.to_u32())
        })
    });
    Run {
        status,
        reported: status == short.0 || bring_up == Some(short) || in_trace,
        irps: host::irps_allocated() - irps_before,
    }
}

#[test]
fn every_allocation_site_fails_cleanly() {
    for worker in [true, false] {
        let recorded = Plan::record();
        let run = faulty_run(worker, Faults::default(), Some(&recorded));
        assert_eq!(run.status, STATUS_SUCCESS);
        let sites = recorded.sites();
        for site in [
            "ClientName",
            "KernelDriver",
            "WskRegistration",
            "ListenSocket",
        ] {
            assert!(sites.contains(&site), "{site} in {sites:?}");
        }
        for n in 0..sites.len() as u64 {
            let plan = Plan::fail_at(n);
            let run = faulty_run(worker, Faults::default(), Some(&plan));
            assert!(
                plan.allocations() > n,
                "allocation {n} ({}) reached",
                sites[n as usize]
            );
            assert!(
                run.reported,
                "allocation {n} ({}) failed: STATUS_INSUFFICIENT_RESOURCES is reported",
                sites[n as usize]
            );
        }
    }
}

#[test]
fn every_irp_allocation_fails_cleanly() {
    for worker in [true, false] {
        let run = faulty_run(worker, Faults::default(), None);
        assert_eq!(run.status, STATUS_SUCCESS);
        // The socket's two, the first accept's connection IRP, the second (pending) accept's.
        assert_eq!(run.irps, 4);
        for n in 0..run.irps {
            let faults = Faults {
                irp_allocations_left: Some(n as u32),
                ..Faults::default()
            };
            let failed = faulty_run(worker, faults, None);
            assert!(
                failed.reported,
                "IRP allocation {n} failed: the status says so"
            );
            assert_eq!(
                failed.irps, n,
                "the allocations before {n} succeeded, then none"
            );
        }
    }
}
