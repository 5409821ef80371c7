//! The worker thread: `PsCreateSystemThread`, then a counted reference to its thread object
//! (`ObReferenceObjectByHandle`), which unload waits on (`KeWaitForSingleObject`): the object
//! is signalled only once the thread has left the driver's code entirely, so the image can
//! unload after that wait.
//!
//! The reference is taken with a `NULL` object type, as Microsoft's `echosrv` WSK sample does
//! for its thread handle: the handle is the one `PsCreateSystemThread` just returned, so there
//! is no type to check, and the driver needs no data import of `PsThreadType` (an exported
//! variable, which the linker reaches only through its `__imp_` pointer).

use alloc::boxed::Box;
use core::mem::size_of;

use super::wdk;
use wdk::ntddk::{
    KeWaitForSingleObject, ObReferenceObjectByHandle, ObfDereferenceObject, PsCreateSystemThread,
    ZwClose, ZwWaitForSingleObject,
};
use wdk::{
    _KWAIT_REASON, _MODE, BOOLEAN, FALSE, HANDLE, KPROCESSOR_MODE, OBJECT_ATTRIBUTES,
    OBJ_KERNEL_HANDLE, PVOID, SYNCHRONIZE, THREAD_ALL_ACCESS,
};

use crate::fallible::try_box;
use crate::lifecycle::WorkerSpawner;
use crate::ntstatus::NtStatus;

/// The work a worker runs (double-boxed so one thin pointer carries it).
type Work = Box<dyn FnOnce() + Send + 'static>;

/// Starts workers with `PsCreateSystemThread`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemThreadSpawner;

/// A started worker: its referenced thread object, or (if referencing failed) its handle.
#[derive(Debug)]
pub struct SystemThread(Join);

#[derive(Debug)]
enum Join {
    Object(PVOID),
    Handle(HANDLE),
}

// SAFETY: 1. The pointer/handle is a kernel object reference (kernel handle), valid on any
//            thread; only `join` uses it, once.
unsafe impl Send for SystemThread {}

/// The system thread's start routine: runs the work and returns (which ends the thread).
///
/// # Safety
///
/// `context` is the `Box::into_raw` of a `Box<Work>` made by `spawn`, passed exactly once.
unsafe extern "C" fn worker_start(context: PVOID) {
    // SAFETY: 1. `context` is the `Box<Work>` pointer `spawn` leaked for this thread, reclaimed
    //            once, here.
    let work = unsafe { Box::from_raw(context.cast::<Work>()) };
    work();
}

impl WorkerSpawner for SystemThreadSpawner {
    type Handle = SystemThread;

    fn spawn(&self, work: Work) -> Result<SystemThread, NtStatus> {
        let context = Box::into_raw(try_box(work, "SystemThread")?);
        let mut attributes = OBJECT_ATTRIBUTES {
            Length: size_of::<OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: core::ptr::null_mut(),
            ObjectName: core::ptr::null_mut(),
            Attributes: OBJ_KERNEL_HANDLE,
            SecurityDescriptor: core::ptr::null_mut(),
            SecurityQualityOfService: core::ptr::null_mut(),
        };
        let mut handle: HANDLE = core::ptr::null_mut();
        // SAFETY: 1. `handle` is writable storage for the thread handle.
        //         2. `attributes` asks for a kernel handle (`OBJ_KERNEL_HANDLE`).
        //         3. NULL process handle and client id: a system-process thread.
        //         4. `worker_start` takes ownership of `context` (a leaked `Box<Work>`).
        let status = unsafe {
            PsCreateSystemThread(
                &mut handle,
                THREAD_ALL_ACCESS,
                &mut attributes,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                Some(worker_start),
                context.cast(),
            )
        };
        if status < 0 {
            // The thread was not created, so `worker_start` never owned `context`.
            // SAFETY: 1. `context` is the `Box::into_raw` above, not handed to any thread.
            drop(unsafe { Box::from_raw(context) });
            return Err(NtStatus(status));
        }
        let mut object: PVOID = core::ptr::null_mut();
        // SAFETY: 1. `handle` is the thread's kernel handle just returned; a `NULL` object type
        //            skips the type check, which this handle does not need.
        //         2. `KernelMode` access on a kernel handle; `object` is writable storage.
        //         3. A NULL handle-information pointer is allowed.
        let referenced = unsafe {
            ObReferenceObjectByHandle(
                handle,
                SYNCHRONIZE,
                core::ptr::null_mut(),
                _MODE::KernelMode as KPROCESSOR_MODE,
                &mut object,
                core::ptr::null_mut(),
            )
        };
        if referenced < 0 {
            // Keep the handle instead: `join` waits on it.
            return Ok(SystemThread(Join::Handle(handle)));
        }
        // The reference keeps the thread object; the handle is not needed any more.
        // SAFETY: 1. `handle` is the thread's kernel handle, closed once, here.
        let _ = unsafe { ZwClose(handle) };
        Ok(SystemThread(Join::Object(object)))
    }

    fn join(&self, thread: SystemThread) {
        match thread.0 {
            Join::Object(object) => {
                // SAFETY: 1. `object` is a referenced thread object (a dispatcher object),
                //            kept alive by that reference during the wait.
                //         2. PASSIVE_LEVEL (unload); no timeout.
                let _ = unsafe {
                    KeWaitForSingleObject(
                        object,
                        _KWAIT_REASON::Executive,
                        _MODE::KernelMode as KPROCESSOR_MODE,
                        FALSE as BOOLEAN,
                        core::ptr::null_mut(),
                    )
                };
                // SAFETY: 1. Releases the reference `spawn` took, once.
                let _ = unsafe { ObfDereferenceObject(object) };
            }
            Join::Handle(handle) => {
                // SAFETY: 1. `handle` is the thread's open kernel handle; no timeout.
                let _ = unsafe {
                    ZwWaitForSingleObject(handle, FALSE as BOOLEAN, core::ptr::null_mut())
                };
                // SAFETY: 1. `handle` is closed once, here.
                let _ = unsafe { ZwClose(handle) };
            }
        }
    }
}
