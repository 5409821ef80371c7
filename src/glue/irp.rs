//! IRPs the driver allocates for its WSK calls, and how one call runs with one.
//!
//! A [`ReservedIrp`] is allocated (`IoAllocateIrp`) when the socket that needs it is set up,
//! not when the call is made, and reused for each call (`IoReuseIrp`, as Microsoft's echosrv
//! WSK sample does): a call, and above all a socket's close, can then never fail for want of
//! an IRP. Each call puts a completion routine in the IRP's next stack location (what
//! `wdm.h`'s inline `IoSetCompletionRoutine` does) that signals a `KEVENT` on the caller's
//! stack and returns `STATUS_MORE_PROCESSING_REQUIRED`, so the IRP stays the driver's; if the
//! call returns `STATUS_PENDING` the caller waits for the event, then reads `IoStatus`.

use core::ptr::NonNull;

use super::wdk;
use wdk::ntddk::{
    IoAllocateIrp, IoFreeIrp, IoReuseIrp, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject,
};
use wdk::{
    _EVENT_TYPE, _KWAIT_REASON, _MODE, BOOLEAN, FALSE, IO_NO_INCREMENT, KEVENT, KPRIORITY,
    KPROCESSOR_MODE, NTSTATUS, PDEVICE_OBJECT, PIO_COMPLETION_ROUTINE, PVOID, SL_INVOKE_ON_CANCEL,
    SL_INVOKE_ON_ERROR, SL_INVOKE_ON_SUCCESS, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING, STATUS_UNSUCCESSFUL,
};

use crate::ntstatus::NtStatus;
use crate::wsk_abi::{self, PIRP};

/// An IRP with one stack location, owned by the driver from allocation to `IoFreeIrp`.
#[derive(Debug)]
pub(super) struct ReservedIrp(NonNull<wdk::IRP>);

// SAFETY: 1. The IRP is pool memory owned by this value; it may be used and freed from any
//            thread, one call at a time (`call`'s contract).
unsafe impl Send for ReservedIrp {}
// SAFETY: 1. Shared references only run calls, which their contract keeps to one at a time
//            per IRP (the socket that owns the IRP serialises them).
unsafe impl Sync for ReservedIrp {}

impl ReservedIrp {
    /// `IoAllocateIrp(1, FALSE)`: one stack location (WSK calls need one), no quota charge.
    pub(super) fn allocate() -> Result<ReservedIrp, NtStatus> {
        // SAFETY: 1. Any stack size and quota flag may be asked for; IRQL <= DISPATCH_LEVEL.
        let irp = unsafe { IoAllocateIrp(1, FALSE as BOOLEAN) };
        NonNull::new(irp)
            .map(ReservedIrp)
            .ok_or(NtStatus(STATUS_INSUFFICIENT_RESOURCES))
    }

    /// Runs one WSK call that takes this IRP: `call` gets it ready (completion routine set),
    /// `issued` runs once the call has returned (its IRP may still be pending), then the
    /// completion is waited for. Returns the final status and `IoStatus.Information`.
    ///
    /// # Safety
    ///
    /// No other call runs with this IRP until this one returns; `call` passes the IRP to a
    /// WSK function (which completes it exactly once) or not at all.
    pub(super) unsafe fn call(
        &self,
        call: impl FnOnce(PIRP) -> NTSTATUS,
        issued: impl FnOnce(),
    ) -> (NtStatus, u64) {
        let irp = self.0.as_ptr();
        // SAFETY: 1. The IRP came from `IoAllocateIrp` without quota and no call uses it now
        //            (contract): it may be reinitialised. The status is what a call that never
        //            completes it leaves.
        unsafe { IoReuseIrp(irp, STATUS_UNSUCCESSFUL) };
        let mut event = KEVENT::default();
        // SAFETY: 1. `event` is writable `KEVENT` storage on this stack frame, which outlives
        //            every use of it (the wait below); nobody waits on it yet.
        unsafe { KeInitializeEvent(&mut event, _EVENT_TYPE::NotificationEvent, FALSE as BOOLEAN) };
        let context: PVOID = (&raw mut event).cast();
        // SAFETY: 1. The IRP was just reinitialised with its one stack location, not passed on.
        //         2. `signal_event` gets `context`, the event that outlives the completion.
        unsafe { set_completion_routine(irp, Some(signal_event), context) };
        let returned = call(irp);
        issued();
        if returned == STATUS_PENDING {
            // SAFETY: 1. `context` is the initialised `KEVENT` above, alive for the wait.
            //         2. PASSIVE_LEVEL, kernel-mode wait (the stack holding the event stays
            //            resident), no timeout: WSK always completes a pending IRP.
            let _ = unsafe {
                KeWaitForSingleObject(
                    context,
                    _KWAIT_REASON::Executive,
                    _MODE::KernelMode as KPROCESSOR_MODE,
                    FALSE as BOOLEAN,
                    core::ptr::null_mut(),
                )
            };
        }
        // The completion routine has run (within the call, or before the event was set), or
        // the call failed without taking the IRP; either way the IRP is the driver's again.
        // SAFETY: 1. The IRP is live and not used by the provider any more.
        let irp_ref = unsafe { &*irp };
        let status = if returned == STATUS_PENDING {
            // SAFETY: 1. The provider completed the IRP with `IoStatus.Status` set.
            unsafe { irp_ref.IoStatus.__bindgen_anon_1.Status }
        } else {
            // Not pending: the call's status is the IRP's (and is all there is if the call
            // never took the IRP).
            returned
        };
        (NtStatus(status), irp_ref.IoStatus.Information)
    }
}

impl Drop for ReservedIrp {
    fn drop(&mut self) {
        // SAFETY: 1. The IRP came from `IoAllocateIrp`; no call is running with it (its owner
        //            is being dropped) and it is freed once, here.
        unsafe { IoFreeIrp(self.0.as_ptr()) };
    }
}

/// The completion routine of every call: signals the caller's event and keeps the IRP.
///
/// # Safety
///
/// `context` is the `KEVENT` [`ReservedIrp::call`] waits on, alive until that wait returns.
unsafe extern "C" fn signal_event(_device: PDEVICE_OBJECT, _irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: 1. `context` is the caller's initialised `KEVENT` (contract).
    //         2. `KeSetEvent` with `Wait` FALSE may be called at `DISPATCH_LEVEL`, where
    //            completion routines can run.
    let _ = unsafe {
        KeSetEvent(
            context.cast(),
            IO_NO_INCREMENT as KPRIORITY,
            FALSE as BOOLEAN,
        )
    };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// `IoSetCompletionRoutine(irp, routine, context, TRUE, TRUE, TRUE)` (an inline function in
/// `wdm.h`, so not in `wdk-sys`): fills the next stack location.
///
/// # Safety
///
/// `irp` is a live IRP the caller owns, with at least one stack location below the current
/// one (an `IoAllocateIrp(1, ...)` IRP before it is passed on).
unsafe fn set_completion_routine(irp: PIRP, routine: PIO_COMPLETION_ROUTINE, context: PVOID) {
    // SAFETY: 1. `irp` is live, owned by the caller and not queued, with a location below the
    //            current one (contract).
    let next = unsafe { wsk_abi::IoGetNextIrpStackLocation(irp) };
    // SAFETY: 1. `next` points into the IRP's stack array, which the caller owns; no other
    //            reference to it exists.
    let next = unsafe { &mut *next };
    next.CompletionRoutine = routine;
    next.Context = context;
    next.Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
}
