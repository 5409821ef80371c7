//! The IRQL each host thread runs at, as far as the glue changes it: `PASSIVE_LEVEL` until it
//! takes a spin lock, `DISPATCH_LEVEL` while it holds one. Routines documented for a lower
//! IRQL report a call above it as a violation (the kernel would bug-check, `IRQL_NOT_LESS_OR_EQUAL`
//! or Driver Verifier's IRQL checks).

use alloc::format;
use core::cell::Cell;

use super::objects;
use super::KIRQL;

/// `PASSIVE_LEVEL` (wdm.h).
pub(crate) const PASSIVE_LEVEL: KIRQL = 0;
/// `APC_LEVEL` (wdm.h).
pub(crate) const APC_LEVEL: KIRQL = 1;
/// `DISPATCH_LEVEL` (wdm.h).
pub(crate) const DISPATCH_LEVEL: KIRQL = 2;

std::thread_local! {
    static CURRENT: Cell<KIRQL> = const { Cell::new(PASSIVE_LEVEL) };
}

/// The current thread's IRQL.
pub(crate) fn current() -> KIRQL {
    CURRENT.with(Cell::get)
}

/// Raises the current thread to `DISPATCH_LEVEL`; returns the IRQL it was at.
pub(crate) fn raise_to_dispatch() -> KIRQL {
    CURRENT.with(|c| c.replace(DISPATCH_LEVEL))
}

/// Returns the current thread to `old` (what [`raise_to_dispatch`] returned).
pub(crate) fn lower(old: KIRQL) {
    CURRENT.with(|c| c.set(old));
}

/// Reports a violation if the current thread runs above `max` when calling `routine`.
pub(crate) fn require(max: KIRQL, routine: &str) {
    let now = current();
    if now > max {
        objects::with(|s| {
            s.violation(format!(
                "{routine} called at IRQL {now} (allowed up to {max})"
            ))
        });
    }
}
