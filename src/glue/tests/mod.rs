//! The kernel glue run on the Linux stand-ins: the exported `DriverEntry` and the
//! `DriverUnload` it installs, against the simulated WSK subsystem, with the events read back
//! from the recorder the stand-in ETW sink feeds.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::params::{NPI_VERSION, WAIT_ON_WORKER, WAIT_TIMEOUT_MS};
use super::*;
use crate::lifecycle::{ProviderCharacteristics, WskEvent};
use crate::ntstatus::NtStatus;
use crate::schema::CallingContext;
use crate::sim::{HostClock, Recorder, SimConfig, SimWsk};
use crate::wdk_standin::host::{self, Faults};
use crate::wdk_standin::{REG_DWORD, REG_SZ};

mod accept;

const SERVICE_KEY: &str = r"\Registry\Machine\System\CurrentControlSet\Services\wsktrace";

pub(super) fn parameters_key() -> String {
    alloc::format!(r"{SERVICE_KEY}\Parameters")
}

/// The world a test drives the glue in: the simulated subsystem and the recorder.
pub(super) struct World {
    pub(super) sim: SimWsk,
    pub(super) recorder: Arc<Recorder>,
}

pub(super) fn world(config: SimConfig) -> World {
    let clock = HostClock::new();
    let sim = SimWsk::new(config, clock);
    let recorder = Arc::new(Recorder::new(clock));
    host::install_wsk(sim.clone());
    host::install_recorder(recorder.clone());
    World { sim, recorder }
}

pub(super) fn set_parameters(wait_timeout_ms: u32, wait_on_worker: u32, npi_version: u32) {
    let key = parameters_key();
    host::set_registry_dword(&key, WAIT_TIMEOUT_MS, wait_timeout_ms);
    host::set_registry_dword(&key, WAIT_ON_WORKER, wait_on_worker);
    host::set_registry_dword(&key, NPI_VERSION, npi_version);
}

/// Calls `DriverEntry` the way the I/O manager does.
pub(super) fn load(driver: &mut DRIVER_OBJECT) -> NTSTATUS {
    let mut path: Vec<u16> = SERVICE_KEY.encode_utf16().collect();
    let registry_path = host::unicode_string(&mut path);
    // SAFETY: 1. `driver` is a valid driver object and `registry_path` a valid
    //            `UNICODE_STRING` over `path`, both alive for the call.
    unsafe { driver_entry(driver, &registry_path) }
}

/// A world whose WSK subsystem is not ready, and the driver loaded in it with an infinite
/// capture wait on its worker thread, once the worker waits.
pub(super) fn loaded_with_the_worker_waiting(driver: &mut DRIVER_OBJECT) -> World {
    let world = world(SimConfig {
        ready_after: None,
        ..SimConfig::default()
    });
    set_parameters(0xFFFF_FFFF, 1, 0x0100);
    assert_eq!(load(driver), STATUS_SUCCESS);
    assert!(world
        .sim
        .wait_until(Duration::from_secs(10), |s| s.waiting == 1));
    world
}

/// Loads the driver (`DriverEntry` succeeds) and waits for its bring-up to end.
pub(super) fn load_and_bring_up(driver: &mut DRIVER_OBJECT) {
    assert_eq!(load(driver), STATUS_SUCCESS);
    wait_for(Duration::from_secs(10), "bring-up", || {
        bring_up_status().is_some()
    });
}

/// Loads the driver with what the registry holds, waits for its bring-up to end, unloads it
/// and checks nothing is left: the events it recorded.
pub(super) fn load_and_unload(world: &World) -> Vec<WskEvent> {
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(world);
    world.recorder.events()
}

/// Calls the `DriverUnload` that `DriverEntry` installed, on another thread, failing the
/// test (instead of hanging it) if it does not return within `limit`.
pub(super) fn unload(driver: &mut DRIVER_OBJECT, limit: Duration) {
    let unload = driver
        .DriverUnload
        .expect("DriverEntry installs DriverUnload");
    let address = driver as *mut DRIVER_OBJECT as usize;
    let (done, finished) = mpsc::channel();
    let plan = crate::sim::alloc_faults::current();
    std::thread::spawn(move || {
        crate::sim::alloc_faults::inherit(plan, || {
            // SAFETY: 1. Called once after a successful DriverEntry; the driver object
            //            outlives the call (the test waits for `finished` before returning).
            unsafe { unload(address as *mut DRIVER_OBJECT) }
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(limit)
        .expect("DriverUnload returned in time");
}

pub(super) fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Event names with opcodes (`DriverEntry/1`, ...), for readable order checks.
pub(super) fn names(events: &[WskEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| alloc::format!("{}/{}", e.descriptor().name, e.descriptor().opcode))
        .collect()
}

/// `expected` occurs in `events` in this order (other events may come between).
pub(super) fn assert_in_order(events: &[String], expected: &[&str]) {
    let mut rest = events.iter();
    for want in expected {
        assert!(
            rest.any(|e| e == want),
            "{want} missing or out of order in {events:?}"
        );
    }
}

pub(super) fn assert_clean(world: &World) {
    assert!(
        !host::provider_registered(),
        "the ETW provider is unregistered at the end"
    );
    host::assert_nothing_left();
    assert_eq!(world.sim.violations(), Vec::new());
    let s = world.sim.snapshot();
    assert_eq!(
        (s.live_registrations, s.captured, s.sockets, s.waiting),
        (0, 0, 0, 0)
    );
}

#[test]
fn worker_captures_creates_socket_and_unload_cleans_up() {
    let _serial = host::serial();
    let mut driver = DRIVER_OBJECT::default();
    let world = loaded_with_the_worker_waiting(&mut driver);
    // WSK becomes ready 25 ms later.
    std::thread::sleep(Duration::from_millis(25));
    world.sim.set_ready();
    wait_for(Duration::from_secs(10), "bring-up", || {
        bring_up_status().is_some()
    });
    assert_eq!(bring_up_status(), Some(NtStatus::SUCCESS));
    // Loaded: one registration, the listening socket open with its accept pending, the
    // worker's thread object still referenced (for unload's wait), its handle closed. IRPs:
    // the socket's two (its calls, the pending accept's; its close) and the one the pending
    // accept reserved for its connection's close.
    wait_for(Duration::from_secs(10), "the accept", || {
        world.sim.snapshot().accepts_pending == 1
    });
    let loaded = host::snapshot();
    assert_eq!(
        (loaded.registrations, loaded.sockets, loaded.irps),
        (1, 1, 3)
    );
    assert_eq!((loaded.references, loaded.handles), (1, 0));

    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);

    let events = world.recorder.events();
    assert_in_order(
        &names(&events),
        &[
            "DriverEntry/1",
            "CaptureProviderNpi/1",
            "CaptureProviderNpi/2",
            "DispatchCall/0",
            "ReleaseProviderNpi/0",
            "DriverUnload/1",
            "WskDeregister/1",
            "WskDeregister/2",
            "DriverUnload/2",
        ],
    );
    // DriverEntry returns while the worker waits: its Stop may come before or after the
    // capture's Start.
    assert_in_order(
        &names(&events),
        &["DriverEntry/1", "DriverEntry/2", "DriverUnload/1"],
    );
    assert!(matches!(
        &events[0],
        WskEvent::DriverEntryStart { client_name } if client_name == "wsktrace"
    ));
    let capture_start = events
        .iter()
        .find_map(|e| match e {
            WskEvent::CaptureProviderNpiStart {
                wait_timeout_ms,
                calling_context,
                ..
            } => Some((*wait_timeout_ms, *calling_context)),
            _ => None,
        })
        .expect("capture start");
    assert_eq!(capture_start, (0xFFFF_FFFF, CallingContext::Worker as u8));
    let (capture_status, wait_ns) = events
        .iter()
        .find_map(|e| match e {
            WskEvent::CaptureProviderNpiStop {
                status, wait_ns, ..
            } => Some((*status, *wait_ns)),
            _ => None,
        })
        .expect("capture stop");
    assert_eq!(capture_status, NtStatus::SUCCESS);
    // The subsystem became ready at least 25 ms into the wait; the wait is timed with the
    // stand-in's KeQueryPerformanceCounter (10 MHz).
    assert!(wait_ns >= 25_000_000, "capture wait {wait_ns} ns");
    let functions: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            WskEvent::DispatchCall {
                function, status, ..
            } => {
                assert_eq!(*status, NtStatus::SUCCESS, "{function}");
                Some(function.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(functions.contains(&"WskSocket"), "{functions:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::WskRegister { npi_version: 0x0100, status, .. } if status.is_success()
    )));
}

#[test]
fn unload_while_the_worker_still_waits() {
    let _serial = host::serial();
    let mut driver = DRIVER_OBJECT::default();
    let world = loaded_with_the_worker_waiting(&mut driver);
    assert_eq!(bring_up_status(), None, "the worker is still waiting");

    // Deregistration cancels the infinite wait; unload then waits for the worker thread.
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);

    let events = world.recorder.events();
    assert_in_order(
        &names(&events),
        &[
            "DriverEntry/1",
            "CaptureProviderNpi/1",
            "DriverUnload/1",
            "WskDeregister/1",
            "WskDeregister/2",
            "DriverUnload/2",
        ],
    );
    // The cancelled capture's Stop and the deregister's Stop are written by two threads that
    // return at about the same time: only "cancelled after deregister began" is fixed.
    assert_in_order(
        &names(&events),
        &["WskDeregister/1", "CaptureProviderNpi/2"],
    );
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::CaptureProviderNpiStop {
            status: NtStatus::DEVICE_NOT_READY,
            ..
        }
    )));
    assert!(!events
        .iter()
        .any(|e| matches!(e, WskEvent::ReleaseProviderNpi { .. })));
}

#[test]
fn bounded_wait_on_the_driver_entry_thread_fails_cleanly() {
    let _serial = host::serial();
    let world = world(SimConfig {
        ready_after: None,
        ..SimConfig::default()
    });
    // An infinite wait on the DriverEntry thread is cut to the maximum; use a short one.
    set_parameters(40, 0, 0x0100);

    let mut driver = DRIVER_OBJECT::default();
    let status = load(&mut driver);
    assert_eq!(status, NtStatus::DEVICE_NOT_READY.0);
    assert!(
        driver.DriverUnload.is_none(),
        "a failed DriverEntry installs no unload"
    );
    assert_clean(&world);

    let events = world.recorder.events();
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::CaptureProviderNpiStart {
            wait_timeout_ms: 40,
            calling_context: 0,
            ..
        }
    )));
    assert!(matches!(
        events.last(),
        Some(WskEvent::DriverEntryStop {
            status: NtStatus::DEVICE_NOT_READY,
            ..
        })
    ));
}

#[test]
fn driver_entry_thread_capture_succeeds_and_keeps_the_socket_until_unload() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    set_parameters(0xFFFF_FFFF, 0, 0x0100);

    let mut driver = DRIVER_OBJECT::default();
    assert_eq!(load(&mut driver), STATUS_SUCCESS);
    assert_eq!(bring_up_status(), Some(NtStatus::SUCCESS));
    assert_eq!(host::snapshot().sockets, 1);
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);
    let events = world.recorder.events();
    // Cut from infinite to the DriverEntry maximum.
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::CaptureProviderNpiStart { wait_timeout_ms, calling_context: 0, .. }
            if *wait_timeout_ms == crate::lifecycle::Policy::MAX_DRIVER_ENTRY_WAIT_MS
    )));
}

#[test]
fn absent_or_mistyped_parameters_take_the_defaults() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    // No DWORD values at all; one value of the wrong type.
    host::set_registry_value(
        &parameters_key(),
        WAIT_ON_WORKER,
        REG_SZ,
        "0\0".encode_utf16().flat_map(u16::to_le_bytes).collect(),
    );
    // A DWORD too long for the query buffer (STATUS_BUFFER_OVERFLOW), and one too short.
    host::set_registry_value(
        &parameters_key(),
        NPI_VERSION,
        REG_DWORD,
        alloc::vec![2; 40],
    );
    host::set_registry_value(
        &parameters_key(),
        WAIT_TIMEOUT_MS,
        REG_DWORD,
        alloc::vec![0; 2],
    );

    let events = load_and_unload(&world);
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::CaptureProviderNpiStart {
            wait_timeout_ms: 0xFFFF_FFFF,
            calling_context: 1,
            ..
        }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::WskRegister {
            npi_version: 0x0100,
            ..
        }
    )));
}

#[test]
fn no_service_key_at_all_takes_the_defaults() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    assert_eq!(bring_up_status(), Some(NtStatus::SUCCESS));
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);
}

#[test]
fn socket_calls_completed_inline_through_the_completion_routine() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    host::set_faults(Faults {
        complete_inline: true,
        ..Faults::default()
    });
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    assert_eq!(bring_up_status(), Some(NtStatus::SUCCESS));
    assert_eq!(host::snapshot().sockets, 1);
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);
}

#[test]
fn version_negotiation_through_the_netio_imports() {
    let _serial = host::serial();
    let world = world(SimConfig {
        supported: ProviderCharacteristics {
            highest_version: 0x0100,
            lowest_version: 0x0100,
        },
        ..SimConfig::default()
    });
    set_parameters(0xFFFF_FFFF, 1, 0x0102);
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    assert_eq!(bring_up_status(), Some(NtStatus::SUCCESS));
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);

    let events = world.recorder.events();
    let registered: Vec<(u16, NtStatus)> = events
        .iter()
        .filter_map(|e| match e {
            WskEvent::WskRegister {
                npi_version,
                status,
                ..
            } => Some((*npi_version, *status)),
            _ => None,
        })
        .collect();
    assert_eq!(
        registered,
        [(0x0102, NtStatus::SUCCESS), (0x0100, NtStatus::SUCCESS)]
    );
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::QueryProviderCharacteristics {
            lowest_version: 0x0100,
            highest_version: 0x0100,
            ..
        }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::CaptureProviderNpiStop {
            status: NtStatus::NOINTERFACE,
            ..
        }
    )));
}

#[test]
fn thread_creation_failure_fails_driver_entry_with_nothing_left() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    host::set_faults(Faults {
        fail_thread_creation: true,
        ..Faults::default()
    });
    let mut driver = DRIVER_OBJECT::default();
    assert_eq!(load(&mut driver), NtStatus::INSUFFICIENT_RESOURCES.0);
    assert!(driver.DriverUnload.is_none());
    assert_clean(&world);
}

#[test]
fn thread_object_reference_failure_joins_through_the_handle() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    host::set_faults(Faults {
        fail_object_reference: true,
        ..Faults::default()
    });
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    assert_eq!(
        host::snapshot().handles,
        1,
        "the thread handle is kept for the join"
    );
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);
}

#[test]
fn irp_allocation_failure_fails_the_socket_and_releases_everything() {
    let _serial = host::serial();
    let world = world(SimConfig::default());
    host::set_faults(Faults {
        irp_allocations_left: Some(0),
        ..Faults::default()
    });
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    assert_eq!(bring_up_status(), Some(NtStatus::INSUFFICIENT_RESOURCES));
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);
    // The capture was still released, once.
    let releases = world
        .recorder
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e,
                WskEvent::ReleaseProviderNpi {
                    implicit: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(releases, 1);
}

#[test]
fn bind_failure_closes_the_socket() {
    let _serial = host::serial();
    let world = world(SimConfig {
        bind_status: NtStatus::INVALID_PARAMETER,
        ..SimConfig::default()
    });
    let mut driver = DRIVER_OBJECT::default();
    load_and_bring_up(&mut driver);
    assert_eq!(bring_up_status(), Some(NtStatus::INVALID_PARAMETER));
    assert_eq!(
        host::snapshot().sockets,
        0,
        "the socket is closed after the failed bind"
    );
    unload(&mut driver, Duration::from_secs(10));
    assert_clean(&world);
}

#[test]
fn a_registration_dropped_without_deregister_is_deregistered_first() {
    use crate::lifecycle::WskApi;
    let _serial = host::serial();
    let world = world(SimConfig::default());
    let registration = KernelWsk.register(0x0100).expect("registered");
    assert_eq!(host::snapshot().registrations, 1);
    drop(registration);
    assert_clean(&world);
}

#[test]
fn a_failed_register_leaves_nothing() {
    use crate::lifecycle::WskApi;
    let _serial = host::serial();
    let world = world(SimConfig {
        register_status: NtStatus::INSUFFICIENT_RESOURCES,
        ..SimConfig::default()
    });
    assert_eq!(
        KernelWsk.register(0x0100).err(),
        Some(NtStatus::INSUFFICIENT_RESOURCES)
    );
    assert_clean(&world);
}

#[test]
fn kernel_wsk_capture_release_and_query_through_netio() {
    use crate::lifecycle::{ListenParams, WskApi};
    let _serial = host::serial();
    let world = world(SimConfig::default());
    let wsk = KernelWsk;
    let registration = wsk.register(0x0100).expect("registered");
    let range = wsk.query_characteristics(&registration).expect("query");
    assert_eq!(
        (range.lowest_version, range.highest_version),
        (0x0100, 0x0100)
    );
    let npi = wsk
        .capture(&registration, 0)
        .expect("captured (ready, no wait)");
    let v6 = ListenParams {
        address: crate::lifecycle::IpAddr::V6(crate::lifecycle::Ipv6Addr::LOCALHOST),
        port: 0,
    };
    let socket = wsk.socket_listen(&npi, &v6).expect("IPv6 listening socket");
    assert_eq!(wsk.bind(&socket, &v6), NtStatus::SUCCESS);
    assert_eq!(wsk.close_socket(&socket), NtStatus::SUCCESS);
    drop(socket);
    wsk.release(&registration);
    wsk.deregister(&registration);
    drop(registration);
    assert_clean(&world);
}
