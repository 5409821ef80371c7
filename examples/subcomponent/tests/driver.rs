//! The example driver's glue on the `wdk-sys` stand-ins: `DriverEntry` makes its device and
//! touches no WSK; IOCTLs from "user mode" (the stand-in's dispatch, as the I/O manager sends
//! them) activate and deactivate the subcomponent several times; unload leaves nothing.

use std::sync::Arc;

use wsktrace_driver::schema::WskEvent;
use wsktrace_driver::sim::{HostClock, Recorder, SimConfig, SimWsk};
use wsktrace_driver::wdk_standin::host;
use wsktrace_driver::wdk_standin::{
    DRIVER_OBJECT, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_SUCCESS,
};
use wsktrace_subcomponent::driver::{driver_entry, DEVICE_NAME, IOCTL_ACTIVATE, IOCTL_DEACTIVATE};
use wsktrace_tools::analysis::balance::Verdict;

mod common;

fn ioctl(code: u32) -> i32 {
    host::dispatch(DEVICE_NAME, IRP_MJ_DEVICE_CONTROL, code).expect("the device and its routine")
}

#[test]
fn activations_through_ioctls_and_unload() {
    let _serial = host::serial();
    let clock = HostClock::new();
    let sim = SimWsk::new(SimConfig::default(), clock);
    let recorder = Arc::new(Recorder::new(clock));
    host::install_wsk(sim.clone());
    host::install_recorder(recorder.clone());

    let mut driver = DRIVER_OBJECT::default();
    // SAFETY: 1. A valid driver object, as the I/O manager passes it (the registry path is
    //            not read).
    let status = unsafe { driver_entry(&mut driver, core::ptr::null()) };
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(
        sim.snapshot().registers,
        0,
        "DriverEntry does not touch WSK"
    );
    assert!(recorder.events().is_empty());
    let loaded = host::snapshot();
    assert_eq!((loaded.devices, loaded.symbolic_links), (1, 1));

    assert_eq!(
        host::dispatch(DEVICE_NAME, IRP_MJ_CREATE, 0),
        Some(STATUS_SUCCESS)
    );
    for _ in 0..3 {
        assert_eq!(ioctl(IOCTL_ACTIVATE), STATUS_SUCCESS);
        assert_eq!(sim.snapshot().live_registrations, 1);
        assert_eq!(ioctl(IOCTL_DEACTIVATE), STATUS_SUCCESS);
        assert_eq!(sim.snapshot().live_registrations, 0);
    }
    assert_eq!(ioctl(0x1234), STATUS_INVALID_DEVICE_REQUEST);
    // Left active: unload deregisters.
    assert_eq!(ioctl(IOCTL_ACTIVATE), STATUS_SUCCESS);
    assert_eq!(
        host::dispatch(DEVICE_NAME, IRP_MJ_CLOSE, 0),
        Some(STATUS_SUCCESS)
    );
    let unload = driver.DriverUnload.expect("DriverUnload installed");
    // SAFETY: 1. Once, after a successful DriverEntry, with its driver object.
    unsafe { unload(&mut driver) };

    host::assert_nothing_left();
    assert_eq!(sim.violations(), Vec::new());
    assert!(!host::provider_registered());
    let deregisters = recorder
        .events()
        .iter()
        .filter(|e| matches!(e, WskEvent::WskDeregisterStop { .. }))
        .count();
    assert_eq!(deregisters, 4, "three deactivations and the unload's");
    assert_eq!(common::check(&recorder, &clock), (Verdict::Ok, 4));
}

#[test]
fn the_user_mode_program_sends_the_drivers_control_codes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/client/wsksub.c");
    let source = std::fs::read_to_string(path).expect("client/wsksub.c");
    for (name, code) in [
        ("WSKSUB_IOCTL_ACTIVATE", IOCTL_ACTIVATE),
        ("WSKSUB_IOCTL_DEACTIVATE", IOCTL_DEACTIVATE),
    ] {
        // CTL_CODE(DeviceType, Function, Method, Access): the same four parts.
        let (device, function, method, access) =
            (code >> 16, (code >> 2) & 0xFFF, code & 3, (code >> 14) & 3);
        assert_eq!(
            (device, method, access),
            (0x22, 0, 0),
            "{name}: unknown device, buffered, any access"
        );
        let define = format!(
            "#define {name} CTL_CODE(FILE_DEVICE_UNKNOWN, {function:#x}, METHOD_BUFFERED, FILE_ANY_ACCESS)"
        );
        assert!(source.contains(&define), "client/wsksub.c: {define}");
    }
}
