//! Where the core's events go: the [`EventSink`] trait, the ETW sink that writes through the
//! `tracelogging` provider, and the no-op sink of an uninstrumented build.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::schema::{self, WskEventRef};

/// An ETW activity id (a GUID, in the byte order ETW writes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ActivityId(pub [u8; 16]);

impl ActivityId {
    /// No activity (all zero).
    pub const NONE: ActivityId = ActivityId([0; 16]);
}

/// Hands out unique activity ids: a per-load seed and a counter, laid out as a version-4
/// style GUID so tools show them as ordinary GUIDs.
#[derive(Debug)]
pub struct ActivityIds {
    seed: u64,
    next: AtomicU64,
}

impl ActivityIds {
    /// A generator whose ids embed `seed` (e.g. the clock at driver load).
    pub const fn new(seed: u64) -> ActivityIds {
        ActivityIds {
            seed,
            next: AtomicU64::new(1),
        }
    }

    /// The next id; never [`ActivityId::NONE`].
    pub fn next(&self) -> ActivityId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&n.to_le_bytes());
        b[8..].copy_from_slice(&self.seed.to_le_bytes());
        // Version 4, variant 10xx, as in a random GUID.
        b[7] = (b[7] & 0x0F) | 0x40;
        b[8] = (b[8] & 0x3F) | 0x80;
        ActivityId(b)
    }
}

/// Receives the core's events.
///
/// The core calls [`EventSink::enabled`] once per transition, before it builds the event or
/// reads the clock: that branch is all a disabled provider costs.
pub trait EventSink: Send + Sync + 'static {
    /// Whether an event with these keywords would be recorded now.
    fn enabled(&self, keywords: u64) -> bool;
    /// Records one event (only called after `enabled` returned true). The event borrows
    /// its text: writing allocates nothing.
    fn write(&self, activity: &ActivityId, event: &WskEventRef<'_>);
}

/// The sink of an uninstrumented build: never enabled, so every event compiles away.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    #[inline(always)]
    fn enabled(&self, _keywords: u64) -> bool {
        false
    }
    #[inline(always)]
    fn write(&self, _activity: &ActivityId, _event: &WskEventRef<'_>) {}
}

/// Writes through the `Wsktrace.WskClient` `tracelogging` provider
/// ([`schema::etw_provider`]): ETW on Windows (kernel mode with the driver's features), a
/// disabled provider elsewhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct EtwSink;

impl EventSink for EtwSink {
    #[inline(always)]
    fn enabled(&self, keywords: u64) -> bool {
        schema::etw_provider().enabled(tracelogging::Level::Informational, keywords)
    }
    fn write(&self, activity: &ActivityId, event: &WskEventRef<'_>) {
        // An ETW write failure (session buffers full) is counted by ETW as a lost event;
        // nothing for the driver to do about it.
        let _ = event.write_etw(&activity.0);
    }
}

impl<T: EventSink> EventSink for alloc::sync::Arc<T> {
    #[inline(always)]
    fn enabled(&self, keywords: u64) -> bool {
        (**self).enabled(keywords)
    }
    #[inline(always)]
    fn write(&self, activity: &ActivityId, event: &WskEventRef<'_>) {
        (**self).write(activity, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_ids_are_unique_and_not_none() {
        let ids = ActivityIds::new(0x1234);
        let a = ids.next();
        let b = ids.next();
        assert_ne!(a, b);
        assert_ne!(a, ActivityId::NONE);
        assert_eq!(a.0[7] >> 4, 4);
    }

    #[test]
    fn etw_sink_is_disabled_on_hosts() {
        assert!(!EtwSink.enabled(u64::MAX));
        assert!(!NullSink.enabled(1));
    }
}
