//! Heap allocation that reports failure instead of ending the system.
//!
//! In the kernel the global allocator returns `NULL` when pool is short; `alloc`'s
//! `handle_alloc_error` then panics, and the driver's panic handler bug-checks the machine.
//! So every allocation on the driver's paths goes through here: reserve first, and answer
//! `STATUS_INSUFFICIENT_RESOURCES` when the pool says no.
//!
//! - [`Reserved`]: memory for one `T`, allocated before the value exists (so a resource that
//!   must not leak, such as a WSK registration, is acquired only once its holder's memory is
//!   there); [`Reserved::arc`] moves the value in without allocating.
//! - [`try_box`]: `Box::new` that can fail; [`BoxSlot`]: a box's memory, reserved first;
//!   [`try_string`]: a `String`'s memory, reserved.
//! - [`TryArc`]: a strong-count-only `Arc` whose creation can fail (`alloc::sync::Arc` has no
//!   stable fallible constructor: `Arc::from(Box)` allocates again).
//!
//! On non-Windows hosts every allocation here passes a fault point
//! ([`crate::sim::alloc_faults`]) that tests use to fail the n-th allocation.

use alloc::alloc::{alloc, dealloc, Layout};
use alloc::boxed::Box;
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicUsize, Ordering};

use crate::ntstatus::NtStatus;

/// An allocation failed (the pool, or an injected fault on hosts, said no).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError {
    /// What the memory was for (a fault-injection site name on hosts).
    pub site: &'static str,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "allocation for {} failed", self.site)
    }
}

impl From<AllocError> for NtStatus {
    fn from(_: AllocError) -> NtStatus {
        NtStatus::INSUFFICIENT_RESOURCES
    }
}

/// Allocates `layout` (non-zero size), or `None`.
fn raw_alloc(layout: Layout, site: &'static str) -> Result<NonNull<u8>, AllocError> {
    #[cfg(not(windows))]
    if crate::sim::alloc_faults::should_fail(site) {
        return Err(AllocError { site });
    }
    if layout.size() == 0 {
        // Zero-sized values need no memory; a dangling, aligned pointer stands for them.
        return NonNull::new(layout.align() as *mut u8).ok_or(AllocError { site });
    }
    // SAFETY: 1. `layout` has a non-zero size (checked above).
    let ptr = unsafe { alloc(layout) };
    NonNull::new(ptr).ok_or(AllocError { site })
}

/// The counted block behind a [`TryArc`].
struct Inner<T> {
    strong: AtomicUsize,
    value: T,
}

/// Memory for one `T`, reserved before the value exists. Dropped unused, it is freed.
pub struct Reserved<T> {
    ptr: NonNull<MaybeUninit<Inner<T>>>,
}

// SAFETY: 1. A `Reserved` owns uninitialised memory only; moving it to another thread moves
//            nothing that could be shared.
unsafe impl<T: Send> Send for Reserved<T> {}

impl<T> Reserved<T> {
    /// Reserves memory for a [`TryArc`] of one `T`.
    pub fn new(site: &'static str) -> Result<Reserved<T>, AllocError> {
        let ptr = raw_alloc(Layout::new::<Inner<T>>(), site)?;
        Ok(Reserved { ptr: ptr.cast() })
    }

    /// Moves `value` into the reserved memory as a [`TryArc`] (no allocation).
    pub fn arc(self, value: T) -> TryArc<T> {
        let ptr = self.ptr.cast::<Inner<T>>();
        core::mem::forget(self);
        // SAFETY: 1. `ptr` is an allocation of `Layout::new::<Inner<T>>()` owned by this
        //            reservation (forgotten above, so it is not freed), valid for writes.
        unsafe {
            ptr.as_ptr().write(Inner {
                strong: AtomicUsize::new(1),
                value,
            })
        };
        TryArc {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Reserved<T> {
    fn drop(&mut self) {
        free(self.ptr.cast::<u8>(), Layout::new::<Inner<T>>());
    }
}

fn free(ptr: NonNull<u8>, layout: Layout) {
    if layout.size() != 0 {
        // SAFETY: 1. `ptr` was allocated by `raw_alloc` with this `layout` and is freed once
        //            (by its only owner).
        unsafe { dealloc(ptr.as_ptr(), layout) };
    }
}

/// Memory for a `Box<T>`, reserved before the value exists (so a value that must not be
/// dropped unused, such as a loaded driver, is made only once its box is there).
pub struct BoxSlot<T> {
    ptr: NonNull<T>,
}

// SAFETY: 1. A `BoxSlot` owns uninitialised memory only.
unsafe impl<T: Send> Send for BoxSlot<T> {}

impl<T> BoxSlot<T> {
    /// Reserves memory for one `T`.
    pub fn new(site: &'static str) -> Result<BoxSlot<T>, AllocError> {
        Ok(BoxSlot {
            ptr: raw_alloc(Layout::new::<T>(), site)?.cast::<T>(),
        })
    }

    /// Moves `value` into the reserved memory (no allocation).
    pub fn fill(self, value: T) -> Box<T> {
        let ptr = self.ptr;
        core::mem::forget(self);
        // SAFETY: 1. `ptr` is a fresh allocation of `Layout::new::<T>()` (or a dangling
        //            aligned pointer for a zero-sized `T`), owned by this slot, now forgotten.
        unsafe { ptr.as_ptr().write(value) };
        // SAFETY: 1. `ptr` holds an initialised `T` in memory from the global allocator with
        //            `T`'s layout, owned by nobody else.
        unsafe { Box::from_raw(ptr.as_ptr()) }
    }
}

impl<T> Drop for BoxSlot<T> {
    fn drop(&mut self) {
        free(self.ptr.cast::<u8>(), Layout::new::<T>());
    }
}

/// `Box::new(value)`, or an error instead of a panic when the allocation fails.
pub fn try_box<T>(value: T, site: &'static str) -> Result<Box<T>, AllocError> {
    let ptr = raw_alloc(Layout::new::<T>(), site)?.cast::<T>();
    // SAFETY: 1. `ptr` is a fresh allocation of `Layout::new::<T>()` (or, for a zero-sized
    //            `T`, a dangling aligned pointer, which `Box` accepts), valid for writes.
    unsafe { ptr.as_ptr().write(value) };
    // SAFETY: 1. `ptr` holds an initialised `T` in memory from the global allocator with
    //            `T`'s layout, owned by nobody else: exactly what `Box::from_raw` requires.
    Ok(unsafe { Box::from_raw(ptr.as_ptr()) })
}

/// An empty `String` with room for `capacity` bytes, or an error when the allocation fails.
pub fn try_string(
    capacity: usize,
    site: &'static str,
) -> Result<alloc::string::String, AllocError> {
    #[cfg(not(windows))]
    if crate::sim::alloc_faults::should_fail(site) {
        return Err(AllocError { site });
    }
    let mut text = alloc::string::String::new();
    text.try_reserve_exact(capacity)
        .map_err(|_| AllocError { site })?;
    Ok(text)
}

/// A shared, reference-counted `T` whose creation can fail. Like `Arc` without weak
/// references: clones share one value; the last one dropped drops it.
pub struct TryArc<T> {
    ptr: NonNull<Inner<T>>,
    _owns: PhantomData<Inner<T>>,
}

// SAFETY: 1. As for `Arc<T>`: the value is shared between threads (needs `Sync`) and dropped
//            by whichever thread drops the last clone (needs `Send`).
unsafe impl<T: Send + Sync> Send for TryArc<T> {}
// SAFETY: 1. As for `Arc<T>`.
unsafe impl<T: Send + Sync> Sync for TryArc<T> {}

impl<T> TryArc<T> {
    /// `Arc::new(value)`, or an error when the allocation fails.
    pub fn try_new(value: T, site: &'static str) -> Result<TryArc<T>, AllocError> {
        Ok(Reserved::new(site)?.arc(value))
    }

    /// Whether both point to the same value.
    pub fn ptr_eq(a: &TryArc<T>, b: &TryArc<T>) -> bool {
        a.ptr == b.ptr
    }

    fn inner(&self) -> &Inner<T> {
        // SAFETY: 1. `ptr` points to an initialised `Inner<T>` kept alive by this clone's
        //            count.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Clone for TryArc<T> {
    fn clone(&self) -> TryArc<T> {
        // Relaxed, as in `Arc::clone`: a new reference is made from an existing one, so the
        // value is already visible to this thread.
        let old = self.inner().strong.fetch_add(1, Ordering::Relaxed);
        // More clones than the address space can hold can only come from leaking them in a
        // loop; stop before the count wraps (as `Arc` does).
        assert!(old < isize::MAX as usize, "TryArc count overflow");
        TryArc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Deref for TryArc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T> Drop for TryArc<T> {
    fn drop(&mut self) {
        if self.inner().strong.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Every other clone's uses happen before the value is dropped (as in `Arc::drop`).
        fence(Ordering::Acquire);
        // SAFETY: 1. This was the last clone: nobody else can reach the value any more; it is
        //            dropped once, here.
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        free(self.ptr.cast::<u8>(), Layout::new::<Inner<T>>());
    }
}

impl<T: fmt::Debug> fmt::Debug for TryArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    #[test]
    fn clones_share_and_the_last_one_drops() {
        let tracker = Arc::new(());
        let a = TryArc::try_new(tracker.clone(), "test").unwrap();
        let b = a.clone();
        assert!(TryArc::ptr_eq(&a, &b));
        assert_eq!(Arc::strong_count(&tracker), 2);
        drop(a);
        assert_eq!(Arc::strong_count(&tracker), 2);
        drop(b);
        assert_eq!(Arc::strong_count(&tracker), 1);
    }

    #[test]
    fn clones_cross_threads() {
        let a = TryArc::try_new(core::sync::atomic::AtomicU32::new(0), "test").unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let a = a.clone();
                std::thread::spawn(move || {
                    a.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(a.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn reservations_and_boxes() {
        let unused: Reserved<[u64; 4]> = Reserved::new("test").unwrap();
        drop(unused);
        let b = try_box(7u8, "test").unwrap();
        assert_eq!(*b, 7);
        let z = try_box((), "test").unwrap();
        assert_eq!(*z, ());
        let zarc = TryArc::try_new((), "test").unwrap();
        let _ = zarc.clone();
    }
}
