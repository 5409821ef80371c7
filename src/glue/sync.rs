//! The core's [`Locking`] for the kernel.
//!
//! The lock is an in-stack queued spin lock (`KeAcquireInStackQueuedSpinLock`). What it
//! guards is a few words of state (a slot's handles, a listener's flags), touched for a
//! handful of instructions and never across a call, a wait or an allocation, by threads at
//! `PASSIVE_LEVEL` (DriverEntry, the worker, the accept loop, unload). For that a spin lock
//! is the cheapest correct choice: acquiring it raises the IRQL to `DISPATCH_LEVEL`, so its
//! holder cannot be preempted while others spin (the fault of the untyped spin mutex this
//! replaces); queued, so waiters spin on their own queue entry and take the lock in arrival
//! order. A `FAST_MUTEX` or guarded mutex would let waiters sleep instead, which pays only for
//! long critical sections, and would need memory that never moves (it holds a `KEVENT`); a
//! `KSPIN_LOCK` is one word that may move while no one holds it, so the lock needs none.
//! Code under it therefore runs at `DISPATCH_LEVEL`: it only moves values in and out of the
//! state (dropping nothing that calls the kernel), and the data lives in non-paged pool.
//!
//! Events are synchronization `KEVENT`s in their own heap block (a dispatcher object must not
//! move once initialised: its wait list points into itself).

use alloc::boxed::Box;
use core::cell::UnsafeCell;

use super::wdk;
use super::SystemThreadSpawner;
use wdk::ntddk::{
    KeAcquireInStackQueuedSpinLock, KeInitializeEvent, KeReleaseInStackQueuedSpinLock, KeSetEvent,
    KeWaitForSingleObject,
};
use wdk::{
    _EVENT_TYPE, _KWAIT_REASON, _MODE, BOOLEAN, FALSE, IO_NO_INCREMENT, KEVENT, KLOCK_QUEUE_HANDLE,
    KPRIORITY, KPROCESSOR_MODE, KSPIN_LOCK,
};

use crate::fallible::try_box;
use crate::lifecycle::{Event, Lock, Locking};
use crate::ntstatus::NtStatus;

/// An in-stack queued spin lock around `T`.
pub struct KernelLock<T> {
    lock: UnsafeCell<KSPIN_LOCK>,
    value: UnsafeCell<T>,
}

// SAFETY: 1. The value is reached only under the spin lock (`with`), which gives one thread
//            at a time exclusive access; `T: Send` lets it be used from any of them.
unsafe impl<T: Send> Sync for KernelLock<T> {}
// SAFETY: 1. Moving the lock moves its value to another thread: `T: Send`. A spin lock no
//            one holds (nothing borrows the lock while it moves) is just a zero word.
unsafe impl<T: Send> Send for KernelLock<T> {}

/// Releases the lock when dropped, restoring the IRQL saved at acquisition.
struct Held<'a> {
    handle: &'a mut KLOCK_QUEUE_HANDLE,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // SAFETY: 1. `handle` is the queue handle the acquisition in `with` filled in, on this
        //            thread's stack, not yet released; released once, here, at the
        //            `DISPATCH_LEVEL` the acquisition raised to.
        unsafe { KeReleaseInStackQueuedSpinLock(self.handle) };
    }
}

impl<T: Send> Lock<T> for KernelLock<T> {
    fn new(value: T) -> Self {
        KernelLock {
            // What `KeInitializeSpinLock` does on x64 (an inline function in wdm.h).
            lock: UnsafeCell::new(0),
            value: UnsafeCell::new(value),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut handle = KLOCK_QUEUE_HANDLE::default();
        // SAFETY: 1. `lock` is an initialised spin lock, acquired only as a queued spin lock.
        //         2. `handle` is on this thread's stack and stays there until the release
        //            (`Held` borrows it); it is not used for any other acquisition.
        //         3. IRQL <= DISPATCH_LEVEL (the lock's users run at PASSIVE_LEVEL).
        unsafe { KeAcquireInStackQueuedSpinLock(self.lock.get(), &mut handle) };
        let _held = Held {
            handle: &mut handle,
        };
        // SAFETY: 1. The spin lock is held until `_held` is dropped, after `f` returns: no
        //            other reference to the value exists meanwhile.
        f(unsafe { &mut *self.value.get() })
    }
}

/// A synchronization `KEVENT` that stays where it was initialised.
pub struct KernelEvent(Box<UnsafeCell<KEVENT>>);

// SAFETY: 1. A `KEVENT` may be set and waited on from any thread; the kernel synchronises
//            its state. The block is only reached through the kernel's event functions.
unsafe impl Send for KernelEvent {}
// SAFETY: 1. As for `Send`.
unsafe impl Sync for KernelEvent {}

impl Event for KernelEvent {
    fn set(&self) {
        // SAFETY: 1. The event was initialised in `Locking::event` and stays in its block.
        //         2. `Wait` FALSE: callable at any IRQL up to `DISPATCH_LEVEL`.
        let _ = unsafe { KeSetEvent(self.0.get(), IO_NO_INCREMENT as KPRIORITY, FALSE as BOOLEAN) };
    }
    fn wait(&self) {
        // SAFETY: 1. The event is initialised and alive for the wait (borrowed from `self`).
        //         2. PASSIVE_LEVEL (unload), kernel-mode wait, no timeout.
        let _ = unsafe {
            KeWaitForSingleObject(
                self.0.get().cast(),
                _KWAIT_REASON::Executive,
                _MODE::KernelMode as KPROCESSOR_MODE,
                FALSE as BOOLEAN,
                core::ptr::null_mut(),
            )
        };
    }
}

impl Locking for SystemThreadSpawner {
    type Lock<T: Send> = KernelLock<T>;
    type Event = KernelEvent;
    fn event(&self) -> Result<KernelEvent, NtStatus> {
        let block = try_box(UnsafeCell::new(KEVENT::default()), "Event")?;
        // SAFETY: 1. `block` is writable `KEVENT` storage in its final place; nobody waits on
        //            it yet.
        unsafe {
            KeInitializeEvent(
                block.get(),
                _EVENT_TYPE::SynchronizationEvent,
                FALSE as BOOLEAN,
            )
        };
        Ok(KernelEvent(block))
    }
}
