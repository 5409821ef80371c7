//! The host event recorder.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::vec::Vec;

use crate::lifecycle::{ActivityId, Clock, EventSink};
use crate::schema::{WskEvent, WskEventRef};
use crate::sim::HostClock;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Nanoseconds since the recorder clock's epoch.
    pub timestamp_ns: u64,
    /// A small per-thread number (1, 2, ... in order of first event), stable for a thread.
    pub thread_id: u32,
    /// The event's activity id (all zero for none).
    pub activity_id: [u8; 16],
    /// The event.
    pub event: WskEvent,
}

static NEXT_THREAD_ID: AtomicU32 = AtomicU32::new(1);

std::thread_local! {
    static THREAD_ID: Cell<u32> = const { Cell::new(0) };
}

fn current_thread_id() -> u32 {
    THREAD_ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

/// Records every event it is given, in order, thread-safe. Enabled for all keywords when
/// created.
#[derive(Debug)]
pub struct Recorder {
    clock: HostClock,
    enabled: AtomicBool,
    keywords: AtomicU64,
    /// `keywords` while enabled, 0 while disabled: the one word `enabled()` reads.
    mask: AtomicU64,
    drop_next: AtomicU32,
    lost: AtomicU32,
    records: Mutex<Vec<Record>>,
}

impl Recorder {
    /// An enabled recorder timing with `clock`.
    pub fn new(clock: HostClock) -> Recorder {
        Recorder {
            clock,
            enabled: AtomicBool::new(true),
            keywords: AtomicU64::new(u64::MAX),
            mask: AtomicU64::new(u64::MAX),
            drop_next: AtomicU32::new(0),
            lost: AtomicU32::new(0),
            records: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        // A test thread that panicked while recording leaves the records usable.
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enables or disables recording (the "provider enabled" switch).
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
        self.update_mask();
    }

    fn update_mask(&self) {
        let mask = if self.enabled.load(Ordering::Relaxed) {
            self.keywords.load(Ordering::Relaxed)
        } else {
            0
        };
        self.mask.store(mask, Ordering::Relaxed);
    }

    /// Records only events with at least one of these keyword bits (like `-matchanykw`).
    pub fn set_keywords(&self, any: u64) {
        self.keywords.store(any, Ordering::Relaxed);
        self.update_mask();
    }

    /// FAULT INJECTION: the next `n` events are dropped (counted in [`Recorder::lost_events`]),
    /// as a real session drops events when its buffers are full.
    pub fn drop_next(&self, n: u32) {
        self.drop_next.store(n, Ordering::Relaxed);
    }

    /// Events dropped so far.
    pub fn lost_events(&self) -> u32 {
        self.lost.load(Ordering::Relaxed)
    }

    /// The recorder's clock.
    pub fn clock(&self) -> HostClock {
        self.clock
    }

    /// A copy of the records so far, in order.
    pub fn records(&self) -> Vec<Record> {
        self.lock().clone()
    }

    /// The events so far, in order.
    pub fn events(&self) -> Vec<WskEvent> {
        self.lock().iter().map(|r| r.event.clone()).collect()
    }

    /// Removes and returns the records so far.
    pub fn take(&self) -> Vec<Record> {
        core::mem::take(&mut *self.lock())
    }
}

impl EventSink for Recorder {
    #[inline(always)]
    fn enabled(&self, keywords: u64) -> bool {
        self.enabled.load(Ordering::Relaxed)
            && keywords & self.keywords.load(Ordering::Relaxed) != 0
    }

    fn write(&self, activity: &ActivityId, event: &WskEventRef<'_>) {
        if self
            .drop_next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let thread_id = current_thread_id();
        let mut records = self.lock();
        // Timestamp taken under the lock, so the order of the records is timestamp order.
        let timestamp_ns = self.clock.now_ns();
        records.push(Record {
            timestamp_ns,
            thread_id,
            activity_id: activity.0,
            event: event.to_owned_event(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_order_and_drops_on_request() {
        let r = Recorder::new(HostClock::new());
        let e = |d| WskEventRef::DriverUnloadStop { duration_ns: d };
        r.write(&ActivityId::NONE, &e(1));
        r.drop_next(2);
        r.write(&ActivityId::NONE, &e(2));
        r.write(&ActivityId::NONE, &e(3));
        r.write(&ActivityId([7; 16]), &e(4));
        let recs = r.records();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].event, e(4).to_owned_event());
        assert_eq!(recs[1].activity_id, [7; 16]);
        assert!(recs[0].timestamp_ns <= recs[1].timestamp_ns);
        assert_eq!(r.lost_events(), 2);
        let other = std::thread::spawn(current_thread_id).join().unwrap();
        assert_ne!(other, recs[0].thread_id);
        assert!(r.enabled(1));
        r.set_keywords(0x4);
        assert!(!r.enabled(0x1));
        assert!(r.enabled(0x5));
        r.set_enabled(false);
        assert!(!r.enabled(0x4));
    }
}
