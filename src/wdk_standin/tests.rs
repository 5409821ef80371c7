//! The stand-ins behave as the WDK documents the routines they mirror, and report misuse.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::host::{self, Snapshot};
use super::ntddk::*;
use super::*;

#[test]
fn events_signal_and_time_out() {
    let _serial = host::serial();
    let mut event = KEVENT::default();
    // SAFETY: 1. `event` is writable `KEVENT` storage nobody waits on.
    unsafe { KeInitializeEvent(&mut event, _EVENT_TYPE::SynchronizationEvent, 0) };
    let object: PVOID = (&raw mut event).cast();
    let mut timeout = LARGE_INTEGER {
        QuadPart: -10 * 1000 * 20,
    }; // 20 ms, relative
    let start = Instant::now();
    // SAFETY: 1. `object` is an initialised event; `timeout` a valid `LARGE_INTEGER`.
    let status = unsafe { KeWaitForSingleObject(object, 0, 0, 0, &mut timeout) };
    assert_eq!(status, STATUS_TIMEOUT);
    assert!(start.elapsed() >= Duration::from_millis(15));
    // SAFETY: 1. `event` is initialised.
    let previous = unsafe { KeSetEvent(&mut event, 0, 0) };
    assert_eq!(previous, 0);
    // SAFETY: 1. As above.
    let status = unsafe { KeWaitForSingleObject(object, 0, 0, 0, &mut timeout) };
    assert_eq!(status, STATUS_SUCCESS);
    // A synchronization event resets when a wait is satisfied.
    // SAFETY: 1. As above.
    let status = unsafe { KeWaitForSingleObject(object, 0, 0, 0, &mut timeout) };
    assert_eq!(status, STATUS_TIMEOUT);
}

#[test]
fn registry_query_reports_sizes_like_the_configuration_manager() {
    let _serial = host::serial();
    host::set_registry_value(r"\Registry\Machine\X\Key", "Big", REG_DWORD, vec![1; 40]);
    host::set_registry_dword(r"\Registry\Machine\X\Key", "Small", 7);
    let mut path: Vec<u16> = r"\REGISTRY\MACHINE\x\key".encode_utf16().collect();
    let mut name = host::unicode_string(&mut path);
    let mut attributes = OBJECT_ATTRIBUTES {
        Length: core::mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
        ObjectName: &mut name,
        ..OBJECT_ATTRIBUTES::default()
    };
    let mut key: HANDLE = core::ptr::null_mut();
    // SAFETY: 1. Valid out pointer and initialised attributes over a live name.
    let status = unsafe { ZwOpenKey(&mut key, KEY_READ, &mut attributes) };
    assert_eq!(status, STATUS_SUCCESS);

    let mut buffer = [0u64; 4]; // 32 bytes, 8-aligned
    let mut query = |value: &str, length: u32| -> (NTSTATUS, u32) {
        let mut needed = 0u32;
        let mut units: Vec<u16> = value.encode_utf16().collect();
        let mut value_name = host::unicode_string(&mut units);
        // SAFETY: 1. `buffer` has at least `length` bytes, aligned; the other pointers are
        //            valid for the call.
        let status = unsafe {
            ZwQueryValueKey(
                key,
                &mut value_name,
                _KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation,
                buffer.as_mut_ptr().cast(),
                length,
                &mut needed,
            )
        };
        (status, needed)
    };
    assert_eq!(query("small", 32), (STATUS_SUCCESS, 16));
    assert_eq!(query("Big", 32), (STATUS_BUFFER_OVERFLOW, 12 + 40));
    assert_eq!(query("Big", 8).0, STATUS_BUFFER_TOO_SMALL);
    assert_eq!(query("Absent", 32).0, STATUS_OBJECT_NAME_NOT_FOUND);
    // SAFETY: 1. `key` is open; closed once.
    assert_eq!(unsafe { ZwClose(key) }, STATUS_SUCCESS);
    // SAFETY: 1. Closing it again is the misuse being tested; the stand-in only looks it up.
    assert_eq!(unsafe { ZwClose(key) }, STATUS_INVALID_HANDLE);
    assert_eq!(host::take_violations().len(), 1);
    assert_eq!(host::snapshot(), Snapshot::default());
}

/// A completion routine that (wrongly) lets the IRP complete further.
unsafe extern "C" fn lets_it_go(_d: PDEVICE_OBJECT, _i: PIRP, _c: PVOID) -> NTSTATUS {
    STATUS_SUCCESS
}

#[test]
fn irp_completion_runs_the_routine_and_flags_misuse() {
    let _serial = host::serial();
    // SAFETY: 1. A one-location IRP; freed below.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    assert!(!irp.is_null());
    assert_eq!(host::snapshot().irps, 1);
    // Put the routine where a client puts it: the next (only) stack location.
    // SAFETY: 1. `irp` is live and ours.
    let irp_ref = unsafe { &mut *irp };
    assert_eq!((irp_ref.StackCount, irp_ref.CurrentLocation), (1, 2));
    // SAFETY: 1. `irp` is live, ours and not queued; StackCount 1 leaves one location below
    //            the current one.
    let next = unsafe { crate::wsk_abi::IoGetNextIrpStackLocation(irp) };
    // SAFETY: 1. `next` points into the live IRP's stack array.
    let next = unsafe { &mut *next };
    next.CompletionRoutine = Some(lets_it_go);
    next.Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR) as u8;
    // SAFETY: 1. `irp` is live and was "passed to the provider".
    unsafe { complete_irp(irp, STATUS_SUCCESS, 42) };
    let violations = host::take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("STATUS_MORE_PROCESSING_REQUIRED"));
    // SAFETY: 1. `irp` is live (not freed yet).
    let irp_ref = unsafe { &*irp };
    // SAFETY: 1. The completion wrote `Status`.
    let status = unsafe { irp_ref.IoStatus.__bindgen_anon_1.Status };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: 1. Completed; freed once.
    unsafe { IoFreeIrp(irp) };
    // SAFETY: 1. Freeing again is the misuse being tested; the stand-in only looks it up.
    unsafe { IoFreeIrp(irp) };
    assert_eq!(host::take_violations().len(), 1);
    assert_eq!(host::snapshot(), Snapshot::default());
}

#[test]
fn system_thread_object_is_signalled_when_the_routine_returns() {
    let _serial = host::serial();
    static FINISHED: AtomicBool = AtomicBool::new(false);
    unsafe extern "C" fn sleeper(_context: PVOID) {
        std::thread::sleep(Duration::from_millis(20));
        FINISHED.store(true, Ordering::SeqCst);
    }
    let mut handle: HANDLE = core::ptr::null_mut();
    // SAFETY: 1. Valid out pointer; the routine ignores its context.
    let status = unsafe {
        PsCreateSystemThread(
            &mut handle,
            THREAD_ALL_ACCESS,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            Some(sleeper),
            core::ptr::null_mut(),
        )
    };
    assert_eq!(status, STATUS_SUCCESS);
    let mut object: PVOID = core::ptr::null_mut();
    // SAFETY: 1. A live thread handle, no object type (as the glue passes), a valid out pointer.
    let status = unsafe {
        ObReferenceObjectByHandle(
            handle,
            SYNCHRONIZE,
            core::ptr::null_mut(),
            0,
            &mut object,
            core::ptr::null_mut(),
        )
    };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: 1. Closed once.
    assert_eq!(unsafe { ZwClose(handle) }, STATUS_SUCCESS);
    // SAFETY: 1. A referenced thread object.
    let status = unsafe { KeWaitForSingleObject(object, 0, 0, 0, core::ptr::null_mut()) };
    assert_eq!(status, STATUS_SUCCESS);
    assert!(
        FINISHED.load(Ordering::SeqCst),
        "signalled only after the routine returned"
    );
    assert_eq!(host::snapshot().threads_running, 0);
    // SAFETY: 1. Releases the one reference.
    let _ = unsafe { ObfDereferenceObject(object) };
    assert_eq!(host::snapshot(), Snapshot::default());
    assert!(host::take_violations().is_empty());
}

#[test]
fn wsk_registration_that_moves_is_reported() {
    use crate::sim::{HostClock, SimConfig, SimWsk};
    use crate::wsk_abi::{WSK_CLIENT_DISPATCH, WSK_CLIENT_NPI, WSK_PROVIDER_NPI, WSK_REGISTRATION};
    let _serial = host::serial();
    host::install_wsk(SimWsk::new(SimConfig::default(), HostClock::new()));
    let dispatch = WSK_CLIENT_DISPATCH {
        Version: 0x0100,
        Reserved: 0,
        WskClientEvent: None,
    };
    let mut npi = WSK_CLIENT_NPI {
        ClientContext: core::ptr::null_mut(),
        Dispatch: &dispatch,
    };
    let mut first = WSK_REGISTRATION::zeroed();
    // SAFETY: 1. `npi`, `dispatch` and `first` are valid for the calls below.
    let status = unsafe { super::netio::WskRegister(&mut npi, &mut first) };
    assert_eq!(status, STATUS_SUCCESS);
    // Moving the registration (here: a bitwise copy used instead) breaks the WSK rule.
    let mut moved = WSK_REGISTRATION {
        ReservedRegistrationState: first.ReservedRegistrationState,
        ReservedRegistrationContext: first.ReservedRegistrationContext,
        ReservedRegistrationLock: first.ReservedRegistrationLock,
    };
    let mut provider = WSK_PROVIDER_NPI::empty();
    // SAFETY: 1. `moved` holds the registered state; `provider` is writable.
    let status = unsafe { super::netio::WskCaptureProviderNPI(&mut moved, 0, &mut provider) };
    assert_eq!(status, STATUS_SUCCESS);
    let violations = host::take_violations();
    assert!(
        violations.iter().any(|v| v.contains("moved")),
        "{violations:?}"
    );
    // SAFETY: 1. Releases the capture through the original registration.
    unsafe { super::netio::WskReleaseProviderNPI(&mut first) };
    // SAFETY: 1. Deregisters once, through the original registration.
    unsafe { super::netio::WskDeregister(&mut first) };
    assert!(host::take_violations().is_empty());
    assert_eq!(host::snapshot(), Snapshot::default());
}
