//! Waiting on dispatcher objects (`KEVENT`s and thread objects): one process-wide lock and
//! condition variable, as coarse as the kernel's old dispatcher lock and as correct.

use core::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{_DISPATCHER_HEADER, NTSTATUS, STATUS_SUCCESS, STATUS_TIMEOUT};

/// `EventNotificationObject` (ntosdef.h `KOBJECTS`).
pub(crate) const EVENT_NOTIFICATION_OBJECT: u8 = 0;
/// `EventSynchronizationObject`.
pub(crate) const EVENT_SYNCHRONIZATION_OBJECT: u8 = 1;
/// `ThreadObject`.
pub(crate) const THREAD_OBJECT: u8 = 6;

static LOCK: Mutex<()> = Mutex::new(());
static CHANGED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets the object's signal state to `state` and wakes every waiter; returns the old state.
pub(crate) fn set_state(header: &_DISPATCHER_HEADER, state: i32) -> i32 {
    let _guard = lock();
    let old = header.SignalState.swap(state, Ordering::SeqCst);
    CHANGED.notify_all();
    old
}

/// Waits until the object is signalled (consuming the signal of a synchronization event), or
/// until `timeout` has passed.
pub(crate) fn wait(header: &_DISPATCHER_HEADER, timeout: Option<Duration>) -> NTSTATUS {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut guard = lock();
    loop {
        if header.SignalState.load(Ordering::SeqCst) != 0 {
            if header.Type == EVENT_SYNCHRONIZATION_OBJECT {
                header.SignalState.store(0, Ordering::SeqCst);
            }
            return STATUS_SUCCESS;
        }
        guard = match deadline {
            None => CHANGED.wait(guard).unwrap_or_else(PoisonError::into_inner),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return STATUS_TIMEOUT;
                }
                CHANGED
                    .wait_timeout(guard, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
    }
}

/// The wait a `PLARGE_INTEGER` timeout asks for: `None` (a `NULL` pointer) waits forever, a
/// negative value is relative in 100 ns units, a positive one absolute system time (treated
/// here as "now", which is what a past absolute time means).
pub(crate) fn timeout_from_100ns(value: Option<i64>) -> Option<Duration> {
    value.map(|v| {
        if v < 0 {
            Duration::from_nanos(v.unsigned_abs().saturating_mul(100))
        } else {
            Duration::ZERO
        }
    })
}
