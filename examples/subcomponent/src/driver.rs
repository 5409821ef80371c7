//! The example driver's kernel glue: a `DriverEntry` that does not touch WSK, a device a
//! user-mode program opens, and the IOCTLs that activate and deactivate the subcomponent.
//!
//! - [`driver_entry`] (exported as `DriverEntry`): registers the ETW provider, makes the
//!   (inactive) subcomponent, creates `\Device\WsktraceSubcomponent` and the symbolic link
//!   `\DosDevices\WsktraceSubcomponent` (`\\.\WsktraceSubcomponent` from user mode), and
//!   installs the dispatch routines and `DriverUnload`. No WSK call.
//! - `IRP_MJ_DEVICE_CONTROL`: [`IOCTL_ACTIVATE`] runs [`Subcomponent::activate`] and completes
//!   the IRP with its status; [`IOCTL_DEACTIVATE`] runs [`Subcomponent::deactivate`]. Both
//!   run in the caller's thread at `PASSIVE_LEVEL`, as a top-level driver's dispatch does.
//! - `DriverUnload`: deactivates (deregistering), deletes the link and the device, and
//!   unregisters the provider, last.
//!
//! The platform is chosen as in the embedded crate's glue: `wdk_sys` on Windows, its Linux
//! stand-in (`wsktrace_driver::wdk_standin`) elsewhere, so the host tests run this code.

#[cfg(windows)]
use wdk_sys as wdk;
#[cfg(not(windows))]
use wsktrace_driver::wdk_standin as wdk;

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

use wdk::ntddk::{
    IoCreateDevice, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink, IofCompleteRequest,
};
use wdk::{
    CCHAR, DRIVER_OBJECT, FALSE, FILE_ANY_ACCESS, FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN,
    IO_NO_INCREMENT, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, METHOD_BUFFERED, NTSTATUS,
    PCUNICODE_STRING, PDEVICE_OBJECT, PIRP, STATUS_INVALID_DEVICE_REQUEST, STATUS_SUCCESS,
    UNICODE_STRING,
};
use wsktrace_driver::fallible::try_box;
use wsktrace_driver::glue::{DriverSink, KernelWsk, QpcClock, SystemThreadSpawner};
use wsktrace_driver::lifecycle::WskClient;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::provider::ProviderRegistration;
use wsktrace_driver::wsk_abi::IoGetCurrentIrpStackLocation;

use crate::subcomponent::{Subcomponent, CAPTURE_WAIT};

/// The subcomponent as the kernel runs it.
pub type KernelSubcomponent = Subcomponent<KernelWsk, DriverSink, QpcClock, SystemThreadSpawner>;

/// `CTL_CODE(DeviceType, Function, Method, Access)` (devioctl.h).
pub const fn ctl_code(device_type: u32, function: u32, method: u32, access: u32) -> u32 {
    (device_type << 16) | (access << 14) | (function << 2) | method
}

/// Activates the subcomponent; the IRP completes with the activation's status.
pub const IOCTL_ACTIVATE: u32 =
    ctl_code(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);
/// Deactivates the subcomponent (deregisters); completes with `STATUS_SUCCESS`.
pub const IOCTL_DEACTIVATE: u32 =
    ctl_code(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);

/// The device's name.
pub const DEVICE_NAME: &str = r"\Device\WsktraceSubcomponent";
/// The symbolic link user mode opens (`\\.\WsktraceSubcomponent`).
pub const LINK_NAME: &str = r"\DosDevices\WsktraceSubcomponent";

/// The longest name, in UTF-16 code units.
const MAX_NAME: usize = 64;

/// What DriverEntry leaves for the dispatch routines and unload (`NULL` when not loaded).
static SUBCOMPONENT: AtomicPtr<KernelSubcomponent> = AtomicPtr::new(core::ptr::null_mut());
/// The device (`NULL` when not loaded).
static DEVICE: AtomicPtr<wdk::_DEVICE_OBJECT> = AtomicPtr::new(core::ptr::null_mut());

/// `name` as UTF-16 in `units`, and a `UNICODE_STRING` over it (valid while `units` is).
fn unicode(name: &str, units: &mut [u16; MAX_NAME]) -> UNICODE_STRING {
    let mut len = 0;
    for (slot, unit) in units.iter_mut().zip(name.encode_utf16()) {
        *slot = unit;
        len += 1;
    }
    let bytes = (len * 2) as u16;
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: units.as_mut_ptr(),
    }
}

/// `DriverEntry`: no WSK call; the subcomponent registers when it is activated.
///
/// # Safety
///
/// Called by the I/O manager (or a host test standing in for it) with a valid driver object,
/// at `PASSIVE_LEVEL`, once per load.
// SAFETY: 1. "DriverEntry" is the symbol the kernel's image loader calls; nothing else in the
//            image exports it (the embedded crate is built without its own, `driver-entry`
//            off).
//         2. Off for tests and off Windows, where it is an ordinary function.
#[cfg_attr(all(windows, not(test)), unsafe(export_name = "DriverEntry"))]
pub unsafe extern "system" fn driver_entry(
    driver: &mut DRIVER_OBJECT,
    _registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: 1. Not registered yet (once per load); unregistered before the image unloads
    //            (below on failure, last in `driver_unload`).
    unsafe { DriverSink::register_provider() };
    match start(driver) {
        Ok(()) => STATUS_SUCCESS,
        Err(status) => {
            DriverSink::unregister_provider();
            status.0
        }
    }
}

/// The subcomponent, the device and its link, the routines; undone on failure.
fn start(driver: &mut DRIVER_OBJECT) -> Result<(), NtStatus> {
    let client = WskClient::new(KernelWsk, DriverSink::default(), QpcClock::new())?;
    let subcomponent = try_box(
        KernelSubcomponent::new(client, CAPTURE_WAIT),
        "Subcomponent",
    )?;
    let mut device_units = [0; MAX_NAME];
    let mut device_name = unicode(DEVICE_NAME, &mut device_units);
    let mut device: PDEVICE_OBJECT = core::ptr::null_mut();
    // SAFETY: 1. `driver` is this driver's object; `device_name` a valid `UNICODE_STRING`
    //            over `device_units`, alive for the call; `device` writable storage.
    //         2. No device extension; not exclusive; PASSIVE_LEVEL.
    let status = unsafe {
        IoCreateDevice(
            driver,
            0,
            &mut device_name,
            FILE_DEVICE_UNKNOWN,
            FILE_DEVICE_SECURE_OPEN,
            FALSE as u8,
            &mut device,
        )
    };
    if status < 0 {
        return Err(NtStatus(status));
    }
    let mut link_units = [0; MAX_NAME];
    let mut link_name = unicode(LINK_NAME, &mut link_units);
    // SAFETY: 1. Both names are valid `UNICODE_STRING`s over stack buffers alive for the call.
    let status = unsafe { IoCreateSymbolicLink(&mut link_name, &mut device_name) };
    if status < 0 {
        // SAFETY: 1. `device` was created just above and nothing else refers to it yet.
        unsafe { IoDeleteDevice(device) };
        return Err(NtStatus(status));
    }
    SUBCOMPONENT.store(Box::into_raw(subcomponent), Ordering::Release);
    DEVICE.store(device, Ordering::Release);
    driver.MajorFunction[IRP_MJ_CREATE as usize] = Some(create_close);
    driver.MajorFunction[IRP_MJ_CLOSE as usize] = Some(create_close);
    driver.MajorFunction[IRP_MJ_DEVICE_CONTROL as usize] = Some(device_control);
    driver.DriverUnload = Some(driver_unload);
    Ok(())
}

/// Completes `irp` with `status` (no information) and returns `status`.
///
/// # Safety
///
/// `irp` was dispatched to this driver and is completed once, here.
unsafe fn complete(irp: PIRP, status: NTSTATUS) -> NTSTATUS {
    // SAFETY: 1. The IRP is this driver's to complete (contract).
    let irp_ref = unsafe { &mut *irp };
    irp_ref.IoStatus.__bindgen_anon_1.Status = status;
    irp_ref.IoStatus.Information = 0;
    // SAFETY: 1. Completed once (contract); no priority boost.
    unsafe { IofCompleteRequest(irp, IO_NO_INCREMENT as CCHAR) };
    status
}

/// `IRP_MJ_CREATE` and `IRP_MJ_CLOSE`: any handle may be opened and closed.
///
/// # Safety
///
/// Called by the I/O manager with this driver's device and an IRP dispatched to it.
unsafe extern "C" fn create_close(_device: PDEVICE_OBJECT, irp: PIRP) -> NTSTATUS {
    // SAFETY: 1. Dispatched to this driver (contract), completed once.
    unsafe { complete(irp, STATUS_SUCCESS) }
}

/// `IRP_MJ_DEVICE_CONTROL`: the two IOCTLs; anything else is `STATUS_INVALID_DEVICE_REQUEST`.
///
/// # Safety
///
/// Called by the I/O manager with this driver's device and an IRP dispatched to it, at
/// `PASSIVE_LEVEL` in the caller's thread.
unsafe extern "C" fn device_control(_device: PDEVICE_OBJECT, irp: PIRP) -> NTSTATUS {
    // SAFETY: 1. The IRP was dispatched to this driver: its current location is ours.
    let location = unsafe { IoGetCurrentIrpStackLocation(irp) };
    // SAFETY: 1. The location is in the live IRP, which the driver holds until it completes.
    let location = unsafe { &*location };
    // SAFETY: 1. An `IRP_MJ_DEVICE_CONTROL` location's parameters are `DeviceIoControl`.
    let code = unsafe { location.Parameters.DeviceIoControl.IoControlCode };
    let subcomponent = SUBCOMPONENT.load(Ordering::Acquire);
    let status = if subcomponent.is_null() {
        STATUS_INVALID_DEVICE_REQUEST
    } else {
        // SAFETY: 1. A non-null `SUBCOMPONENT` is the live subcomponent: unload frees it only
        //            after the device is gone, and the I/O manager sends no IRP to a driver
        //            it is unloading.
        let subcomponent = unsafe { &*subcomponent };
        match code {
            IOCTL_ACTIVATE => subcomponent.activate().0,
            IOCTL_DEACTIVATE => {
                subcomponent.deactivate();
                STATUS_SUCCESS
            }
            _ => STATUS_INVALID_DEVICE_REQUEST,
        }
    };
    // SAFETY: 1. Dispatched to this driver (contract), completed once.
    unsafe { complete(irp, status) }
}

/// `DriverUnload`: deactivate, delete the link and the device, free the subcomponent, and
/// unregister the provider last.
///
/// # Safety
///
/// Called by the I/O manager once, after a successful [`driver_entry`], at `PASSIVE_LEVEL`.
unsafe extern "C" fn driver_unload(_driver: *mut DRIVER_OBJECT) {
    let subcomponent = SUBCOMPONENT.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !subcomponent.is_null() {
        // SAFETY: 1. The `Box::into_raw` stored by `start`, taken out by the swap: reclaimed
        //            once.
        let subcomponent = unsafe { Box::from_raw(subcomponent) };
        subcomponent.deactivate();
    }
    let mut link_units = [0; MAX_NAME];
    let mut link_name = unicode(LINK_NAME, &mut link_units);
    // SAFETY: 1. A valid `UNICODE_STRING` over a stack buffer alive for the call.
    let _ = unsafe { IoDeleteSymbolicLink(&mut link_name) };
    let device = DEVICE.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !device.is_null() {
        // SAFETY: 1. The device `start` created, deleted once.
        unsafe { IoDeleteDevice(device) };
    }
    DriverSink::unregister_provider();
}
