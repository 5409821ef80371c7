//! **Test-only fault injection** for [`crate::fallible`]: fail the n-th allocation.
//!
//! A [`Plan`] is entered on a thread and inherited by the threads the driver starts from it
//! (the simulator's [`crate::sim::StdSpawner`] and completion threads pass it on), so one
//! test's plan never fails another test's allocations. Every allocation site the plan sees is
//! recorded, so a test can walk them all: fail allocation 0, 1, 2, ... until a run sees no
//! more allocations than the index it failed.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::vec::Vec;

/// Which allocation fails, and what was seen.
#[derive(Debug)]
pub struct Plan {
    fail_at: Option<u64>,
    seen: AtomicU64,
    sites: Mutex<Vec<&'static str>>,
}

impl Plan {
    /// A plan that fails allocation number `n` (0 = the first one after entering).
    pub fn fail_at(n: u64) -> Arc<Plan> {
        Arc::new(Plan {
            fail_at: Some(n),
            seen: AtomicU64::new(0),
            sites: Mutex::new(Vec::new()),
        })
    }

    /// A plan that fails nothing and only records the sites.
    pub fn record() -> Arc<Plan> {
        Arc::new(Plan {
            fail_at: None,
            seen: AtomicU64::new(0),
            sites: Mutex::new(Vec::new()),
        })
    }

    /// Allocations seen so far (failed or not).
    pub fn allocations(&self) -> u64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// The site of every allocation seen, in order.
    pub fn sites(&self) -> Vec<&'static str> {
        self.sites
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes this plan the current thread's until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> Entered {
        let previous = PLAN.with(|p| p.replace(Some(self.clone())));
        Entered { previous }
    }
}

/// The current thread's plan while alive; restores the one before when dropped.
#[must_use]
pub struct Entered {
    previous: Option<Arc<Plan>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        PLAN.with(|p| *p.borrow_mut() = previous);
    }
}

std::thread_local! {
    static PLAN: RefCell<Option<Arc<Plan>>> = const { RefCell::new(None) };
}

/// The current thread's plan, to hand to a thread started on its behalf.
pub fn current() -> Option<Arc<Plan>> {
    PLAN.with(|p| p.borrow().clone())
}

/// Runs `f` with `plan` as the current thread's plan (on a thread started on behalf of the
/// thread that had it).
pub fn inherit<R>(plan: Option<Arc<Plan>>, f: impl FnOnce() -> R) -> R {
    match plan {
        Some(plan) => {
            let _entered = plan.enter();
            f()
        }
        None => f(),
    }
}

/// Whether the allocation at `site` fails (called by [`crate::fallible`]).
pub(crate) fn should_fail(site: &'static str) -> bool {
    let Some(plan) = current() else {
        return false;
    };
    plan.sites
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(site);
    let n = plan.seen.fetch_add(1, Ordering::SeqCst);
    plan.fail_at == Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_exactly_the_planned_allocation_on_inheriting_threads() {
        let plan = Plan::fail_at(1);
        let _entered = plan.enter();
        assert!(!should_fail("a"));
        let inherited = current();
        let failed = std::thread::spawn(move || inherit(inherited, || should_fail("b")))
            .join()
            .unwrap();
        assert!(failed);
        assert!(!should_fail("c"));
        assert_eq!(plan.sites(), ["a", "b", "c"]);
        // A thread that did not inherit the plan is never failed.
        assert!(!std::thread::spawn(|| should_fail("d")).join().unwrap());
        assert_eq!(plan.allocations(), 3);
    }
}
