//! The core's [`Locking`] for the kernel: events are synchronization `KEVENT`s in their own
//! heap block (a dispatcher object must not move once initialised: its wait list points into
//! itself); the lock guards a few words of state and is never held across a call or a wait.

use alloc::boxed::Box;
use core::cell::UnsafeCell;

use super::wdk;
use super::SystemThreadSpawner;
use wdk::ntddk::{KeInitializeEvent, KeSetEvent, KeWaitForSingleObject};
use wdk::{
    _EVENT_TYPE, _KWAIT_REASON, _MODE, BOOLEAN, FALSE, IO_NO_INCREMENT, KEVENT, KPRIORITY,
    KPROCESSOR_MODE,
};

use crate::fallible::try_box;
use crate::lifecycle::{Event, Lock, Locking};
use crate::ntstatus::NtStatus;

/// A spin lock around `T`.
pub struct KernelLock<T>(spin::Mutex<T>);

impl<T: Send> Lock<T> for KernelLock<T> {
    fn new(value: T) -> Self {
        KernelLock(spin::Mutex::new(value))
    }
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.lock())
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
