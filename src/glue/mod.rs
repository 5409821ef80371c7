//! The Windows kernel glue: the only code of the driver that touches the OS.
//!
//! - [`driver_entry`] (exported as `DriverEntry`) and `driver_unload`: register the
//!   `Wsktrace.WskClient` ETW provider first, read the [`Policy`] from the service's
//!   `Parameters` key ([`params`]), hand over to the lifecycle core
//!   ([`crate::lifecycle::Driver`]); unload runs the core's unload (close the socket,
//!   deregister, which cancels a capture still waiting, wait for the worker) and unregisters
//!   the provider last.
//! - [`KernelWsk`]: the core's [`crate::lifecycle::WskApi`] over the NETIO imports and the
//!   provider dispatch; each socket owns the IRPs its calls need, reserved when it is set up
//!   ([`sockets`]), and every call completes through a completion routine ([`irp`]).
//! - [`KernelLock`] and [`KernelEvent`]: the core's lock (an in-stack queued spin lock) and
//!   events (`KEVENT`s).
//! - [`QpcClock`]: durations from `KeQueryPerformanceCounter`.
//! - [`SystemThreadSpawner`]: the worker from `PsCreateSystemThread`, joined by waiting on its
//!   referenced thread object.
//!
//! The platform is chosen in one place, below: `wdk_sys` and the kernel-mode ETW sink on
//! Windows, the stand-ins of [`crate::wdk_standin`] on any other host. There is no other
//! `cfg` in the glue, so the host tests run this very code.
//!
//! Every `unsafe` block performs one unsafe operation and carries a numbered `// SAFETY:`
//! list.

// ---- The platform: the only `cfg` of the glue ------------------------------------------------
#[cfg(not(windows))]
use crate::wdk_standin as wdk;
#[cfg(windows)]
use wdk_sys as wdk;

/// Where the driver's events go: the kernel-mode `tracelogging` provider on Windows; on other
/// hosts the stand-in that also feeds the test recorder. A driver that embeds this crate
/// registers it ([`crate::provider::ProviderRegistration`]) in its own `DriverEntry`.
#[cfg(windows)]
pub type DriverSink = crate::lifecycle::EtwSink;
/// Where the driver's events go (see the Windows definition).
#[cfg(not(windows))]
pub type DriverSink = crate::wdk_standin::host::HostEtwSink;

// `wdk-alloc` and `wdk-panic` make the `no_std` crate a kernel binary.
#[cfg(all(windows, not(test)))]
extern crate wdk_panic;
#[cfg(all(windows, not(test)))]
#[global_allocator]
static GLOBAL_ALLOCATOR: wdk_alloc::WdkAllocator = wdk_alloc::WdkAllocator;
// -----------------------------------------------------------------------------------------------

mod clock;
mod irp;
mod kwsk;
pub mod params;
mod registry;
mod sockets;
mod sync;
mod thread;

pub use clock::QpcClock;
pub use kwsk::{KernelNpi, KernelRegistration, KernelWsk};
pub use sockets::{KernelConnection, KernelSocket};
pub use sync::{KernelEvent, KernelLock};
pub use thread::{SystemThread, SystemThreadSpawner};

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

use wdk::{DRIVER_OBJECT, NTSTATUS, PCUNICODE_STRING, STATUS_SUCCESS};

use crate::fallible::BoxSlot;
use crate::lifecycle::{Driver, Policy, WskClient};
use crate::ntstatus::NtStatus;
use crate::provider::ProviderRegistration;

/// The driver as loaded on this platform.
pub type KernelDriver = Driver<KernelWsk, DriverSink, QpcClock, SystemThreadSpawner>;

/// What DriverEntry leaves for unload (a `Box` pointer; `NULL` when not loaded).
static LOADED: AtomicPtr<KernelDriver> = AtomicPtr::new(core::ptr::null_mut());

/// `DriverEntry`.
///
/// Registers the ETW provider, reads the policy, and runs the core's DriverEntry (register,
/// then capture/socket/release on this thread or on a worker). On failure everything is
/// undone (the core deregisters; the provider is unregistered) and the status returned, so
/// the I/O manager unloads the image without calling unload.
///
/// # Safety
///
/// Called by the I/O manager (or a host test standing in for it) with a valid driver object
/// and the service's registry path, at `PASSIVE_LEVEL`, once per load.
// SAFETY: 1. "DriverEntry" is the symbol name the kernel's image loader calls; no other item in
//            this crate exports it, so the export cannot clash.
//         2. The attribute is off for tests (and there is no export off Windows), where the
//            function is called as an ordinary Rust function, and without the `driver-entry`
//            feature (another driver, embedding this crate, has the `DriverEntry`).
#[cfg_attr(
    all(windows, not(test), feature = "driver-entry"),
    unsafe(export_name = "DriverEntry")
)]
pub unsafe extern "system" fn driver_entry(
    driver: &mut DRIVER_OBJECT,
    registry_path: PCUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: 1. The provider is not registered yet (one DriverEntry per load; a failed
    //            DriverEntry and DriverUnload both unregister it).
    //         2. It is unregistered before the image can unload: below on failure, last in
    //            `driver_unload` otherwise.
    unsafe { DriverSink::register_provider() };

    // SAFETY: 1. `registry_path` is the service key path the I/O manager passes.
    let raw = unsafe { registry::read_parameters(registry_path) };
    let policy: Policy = raw.policy();

    // The loaded driver's box is reserved first: a driver that brought WSK up must not be
    // dropped for want of the memory to keep it.
    // SAFETY: 1. Same `registry_path` as above.
    let loaded = unsafe { registry::client_name(registry_path) }
        .and_then(|name| Ok((name, BoxSlot::<KernelDriver>::new("KernelDriver")?)))
        .map_err(NtStatus::from)
        .and_then(|(client_name, slot)| {
            let client = WskClient::new(KernelWsk, DriverSink::default(), QpcClock::new())?;
            let loaded = KernelDriver::driver_entry(
                client,
                SystemThreadSpawner,
                &client_name,
                policy,
                raw.listen(),
            )?;
            Ok(slot.fill(loaded))
        });
    match loaded {
        Ok(loaded) => {
            let previous = LOADED.swap(Box::into_raw(loaded), Ordering::AcqRel);
            debug_assert!(previous.is_null(), "DriverEntry without unload");
            driver.DriverUnload = Some(driver_unload);
            STATUS_SUCCESS
        }
        Err(status) => {
            DriverSink::unregister_provider();
            status.0
        }
    }
}

/// `DriverUnload`: the core's unload (closes the socket, deregisters, cancelling a capture
/// still waiting and waiting for every release, then waits for the worker thread to end),
/// then unregisters the ETW provider, last.
///
/// # Safety
///
/// Called by the I/O manager once, after a successful [`driver_entry`], at `PASSIVE_LEVEL`.
unsafe extern "C" fn driver_unload(_driver: *mut DRIVER_OBJECT) {
    let loaded = LOADED.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !loaded.is_null() {
        // SAFETY: 1. `loaded` is the `Box::into_raw` stored by `driver_entry`, taken out of
        //            `LOADED` by the swap above, so it is reclaimed exactly once.
        let driver = unsafe { Box::from_raw(loaded) };
        driver.unload();
    }
    DriverSink::unregister_provider();
}

/// The loaded driver's bring-up result (capture, socket, release), once the thread doing it
/// has finished; `None` while it runs or when not loaded. For tests and diagnostics.
pub fn bring_up_status() -> Option<crate::ntstatus::NtStatus> {
    let loaded = LOADED.load(Ordering::Acquire);
    if loaded.is_null() {
        return None;
    }
    // SAFETY: 1. A non-null `LOADED` points to the live driver; only `driver_unload` frees it,
    //            and the I/O manager does not run unload concurrently with other calls into
    //            the driver it is unloading (tests call this only between load and unload).
    let driver = unsafe { &*loaded };
    driver.bring_up_status()
}

#[cfg(all(test, not(windows)))]
mod tests;
