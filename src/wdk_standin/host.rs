//! The tests' side of the stand-in (not a WDK mirror): install the simulated WSK subsystem
//! and the event recorder, fill the registry, inject faults, and read the accounting.
//!
//! The stand-in's state is process-wide, like the kernel's; tests that drive the glue take
//! [`serial`] first so they do not see each other's objects.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::objects::{self, RegValue};
use super::{REG_DWORD, REG_SZ};
use crate::lifecycle::{ActivityId, EtwSink, EventSink};
use crate::provider::ProviderRegistration;
use crate::schema::WskEventRef;
use crate::sim::{Recorder, SimWsk};

pub use super::objects::Faults;

static SERIAL: Mutex<()> = Mutex::new(());
static WSK: Mutex<Option<SimWsk>> = Mutex::new(None);
static RECORDER: Mutex<Option<Arc<Recorder>>> = Mutex::new(None);

/// Serialises the tests that use the stand-in's global state; resets that state.
pub fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    reset();
    guard
}

/// Forgets the registry, faults, violations, the installed subsystem and recorder. Objects
/// still alive (handles, IRPs, sockets) stay counted, so a leak shows in the next snapshot.
pub fn reset() {
    objects::with(|s| {
        s.registry.clear();
        s.faults = Faults::default();
        s.violations.clear();
    });
    *WSK.lock().unwrap_or_else(PoisonError::into_inner) = None;
    *RECORDER.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// Makes `wsk` the WSK subsystem the NETIO stand-ins talk to.
pub fn install_wsk(wsk: SimWsk) {
    *WSK.lock().unwrap_or_else(PoisonError::into_inner) = Some(wsk);
}

/// The installed WSK subsystem.
pub(crate) fn wsk() -> Option<SimWsk> {
    WSK.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Makes `recorder` receive what the driver's ETW provider writes ([`HostEtwSink`]).
pub fn install_recorder(recorder: Arc<Recorder>) {
    *RECORDER.lock().unwrap_or_else(PoisonError::into_inner) = Some(recorder);
}

fn recorder() -> Option<Arc<Recorder>> {
    RECORDER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Sets a `REG_DWORD` value under `key` (a full path such as
/// `\Registry\Machine\System\CurrentControlSet\Services\wsktrace\Parameters`).
pub fn set_registry_dword(key: &str, name: &str, value: u32) {
    set_registry_value(key, name, REG_DWORD, value.to_le_bytes().to_vec());
}

/// Sets a `REG_SZ` value (UTF-16LE, NUL-terminated) under `key`.
pub fn set_registry_string(key: &str, name: &str, value: &str) {
    let data = value
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    set_registry_value(key, name, REG_SZ, data);
}

/// Sets a value of any `REG_*` type under `key`.
pub fn set_registry_value(key: &str, name: &str, kind: u32, data: Vec<u8>) {
    objects::with(|s| {
        s.registry
            .entry(objects::key_name(key))
            .or_default()
            .insert(name.to_lowercase(), RegValue { kind, data });
    });
}

/// Creates `key` with no values.
pub fn create_registry_key(key: &str) {
    objects::with(|s| {
        s.registry.entry(objects::key_name(key)).or_default();
    });
}

/// Sets the fault knobs.
pub fn set_faults(faults: Faults) {
    objects::with(|s| s.faults = faults);
}

/// Removes and returns the rule violations seen so far.
pub fn take_violations() -> Vec<String> {
    objects::with(|s| core::mem::take(&mut s.violations))
}

/// What the stand-in holds at a moment: after a clean unload everything is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Open handles (keys, threads).
    pub handles: usize,
    /// Object references not dereferenced.
    pub references: usize,
    /// IRPs allocated and not freed.
    pub irps: usize,
    /// System threads still running.
    pub threads_running: usize,
    /// WSK registrations not deregistered.
    pub registrations: usize,
    /// WSK sockets not closed.
    pub sockets: usize,
    /// Device objects not deleted.
    pub devices: usize,
    /// Symbolic links not deleted.
    pub symbolic_links: usize,
}

/// What the I/O manager does when a user-mode program sends `major` (and, for
/// `IRP_MJ_DEVICE_CONTROL`, the control code `ioctl`) to the driver's device named
/// `device` (`\\Device\\Name`, as `IoCreateDevice` got it): an IRP with its stack location
/// filled in, passed to the driver's `MajorFunction[major]` on this thread (at
/// `PASSIVE_LEVEL`, as for a top-level driver), which must complete it. Returns the IRP's
/// final status; `None` if the driver has no such device or no routine for `major`. A routine
/// that returns another status than it completed the IRP with, or does not complete it, is a
/// violation.
pub fn dispatch(device: &str, major: u32, ioctl: u32) -> Option<super::NTSTATUS> {
    use super::ntddk::{IoAllocateIrp, IoFreeIrp};
    let name = device.to_lowercase();
    let (device, driver) = objects::with(|s| {
        s.devices
            .iter()
            .find(|(_, (n, _))| *n == name)
            .map(|(device, (_, driver))| (*device, *driver))
    })?;
    // SAFETY: 1. The driver object outlives its devices (the test owns it and unloads it
    //            after deleting them is the driver's job).
    let driver = unsafe { &*(driver as *const super::DRIVER_OBJECT) };
    let routine = (*driver.MajorFunction.get(major as usize)?)?;
    // SAFETY: 1. One stack location, no quota; PASSIVE_LEVEL.
    let irp = unsafe { IoAllocateIrp(1, 0) };
    if irp.is_null() {
        return None;
    }
    // What IoCallDriver does: the next location becomes the current one.
    // SAFETY: 1. `irp` is live and ours; its one location is below the current (past the
    //            end) one.
    let next = unsafe { crate::wsk_abi::IoGetNextIrpStackLocation(irp) };
    // SAFETY: 1. `next` points into the live IRP's stack array; nothing else refers to it.
    let location = unsafe { &mut *next };
    location.MajorFunction = major as u8;
    location.Parameters.DeviceIoControl.IoControlCode = ioctl;
    location.DeviceObject = device as super::PDEVICE_OBJECT;
    // SAFETY: 1. `irp` is live and ours.
    let irp_ref = unsafe { &mut *irp };
    irp_ref.CurrentLocation -= 1;
    irp_ref
        .Tail
        .Overlay
        .__bindgen_anon_2
        .__bindgen_anon_1
        .CurrentStackLocation = next;
    // SAFETY: 1. The routine the driver installed, called as the I/O manager calls it: its
    //            device object and an IRP for it.
    let returned = unsafe { routine(device as super::PDEVICE_OBJECT, irp) };
    let completed = objects::with(|s| s.completed.remove(&(irp as usize)));
    match completed {
        Some(status) if status == returned => {}
        Some(status) => objects::with(|s| {
            s.violation(alloc::format!(
                "dispatch routine returned {returned:#x} but completed the IRP with {status:#x}"
            ))
        }),
        None => objects::with(|s| {
            s.violation(alloc::format!(
                "dispatch routine returned {returned:#x} without completing the IRP"
            ))
        }),
    }
    // SAFETY: 1. The IRP is ours again (completed), freed once.
    unsafe { IoFreeIrp(irp) };
    Some(returned)
}

/// IRPs `IoAllocateIrp` has handed out so far (a test counts a run's, then fails each one
/// in turn with [`Faults::irp_allocations_left`]).
pub fn irps_allocated() -> u64 {
    objects::with(|s| s.irps_allocated)
}

/// A counted string over `units` (UTF-16, no terminating NUL), as the I/O manager passes a
/// registry path to `DriverEntry`; valid while `units` is.
pub fn unicode_string(units: &mut [u16]) -> super::UNICODE_STRING {
    let bytes = u16::try_from(units.len() * 2).expect("a UNICODE_STRING holds 32767 units");
    super::UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: units.as_mut_ptr(),
    }
}

/// Fails (panics) unless the stand-in holds nothing (every handle closed, reference dropped,
/// IRP freed, thread ended, registration deregistered, socket closed, device and link
/// deleted) and no rule was broken; what a test checks after a driver's unload.
pub fn assert_nothing_left() {
    assert_eq!(
        snapshot(),
        Snapshot::default(),
        "stand-in objects left behind"
    );
    assert_eq!(
        take_violations(),
        Vec::<String>::new(),
        "stand-in rule violations"
    );
}

/// The current accounting.
pub fn snapshot() -> Snapshot {
    objects::with(|s| Snapshot {
        handles: s.handles.len(),
        references: s.references.len(),
        irps: s.irps.len(),
        threads_running: s.threads_running,
        registrations: s.registrations_alive,
        sockets: s.sockets_alive,
        devices: s.devices.len(),
        symbolic_links: s.symbolic_links.len(),
    })
}

/// The host stand-in for the kernel-mode ETW provider the glue writes to: everything an
/// [`EtwSink`] does (on hosts: nothing), plus the events given to the installed recorder
/// ([`install_recorder`]), as if an ETW session had the provider enabled. It also tracks the
/// provider's registration and reports (as violations) a double registration, an
/// unregistration of an unregistered provider and an event written while not registered.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostEtwSink;

static PROVIDER_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether the driver's ETW provider is registered now.
pub fn provider_registered() -> bool {
    PROVIDER_REGISTERED.load(Ordering::SeqCst)
}

impl ProviderRegistration for HostEtwSink {
    unsafe fn register_provider() {
        if PROVIDER_REGISTERED.swap(true, Ordering::SeqCst) {
            objects::with(|s| s.violation(String::from("ETW provider registered twice")));
        }
        // SAFETY: 1. Passed on from the caller.
        unsafe { EtwSink::register_provider() };
    }

    fn unregister_provider() {
        if !PROVIDER_REGISTERED.swap(false, Ordering::SeqCst) {
            objects::with(|s| {
                s.violation(String::from(
                    "ETW provider unregistered while not registered",
                ))
            });
        }
        EtwSink::unregister_provider();
    }
}

impl EventSink for HostEtwSink {
    fn enabled(&self, keywords: u64) -> bool {
        EtwSink.enabled(keywords) || recorder().is_some_and(|r| r.enabled(keywords))
    }

    fn write(&self, activity: &ActivityId, event: &WskEventRef<'_>) {
        if !provider_registered() {
            objects::with(|s| {
                s.violation(alloc::format!(
                    "event {} written while the ETW provider is not registered",
                    event.descriptor().variant
                ))
            });
        }
        if let Some(recorder) = recorder() {
            recorder.write(activity, event);
        }
        EtwSink.write(activity, event);
    }
}
