//! Durations from the performance counter (`KeQueryPerformanceCounter`).

use super::wdk;
use wdk::ntddk::KeQueryPerformanceCounter;
use wdk::LARGE_INTEGER;

use crate::lifecycle::Clock;

/// A [`Clock`] over `KeQueryPerformanceCounter`, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct QpcClock {
    /// Counts per second (fixed at boot).
    frequency: u64,
}

impl QpcClock {
    /// Reads the counter's frequency.
    pub fn new() -> QpcClock {
        let mut frequency = LARGE_INTEGER::default();
        // SAFETY: 1. `frequency` is writable `LARGE_INTEGER` storage for the frequency.
        //         2. `KeQueryPerformanceCounter` may be called at any IRQL.
        let _ = unsafe { KeQueryPerformanceCounter(&mut frequency) };
        // SAFETY: 1. Every bit pattern of the union is a valid `i64`; the call wrote it whole.
        let frequency = unsafe { frequency.QuadPart };
        QpcClock {
            // Never 0 on a running system; 1 keeps the division below defined regardless.
            frequency: u64::try_from(frequency).unwrap_or(1).max(1),
        }
    }

    /// Converts `ticks` at `frequency` counts per second into nanoseconds, without overflow.
    pub const fn ticks_to_ns(ticks: u64, frequency: u64) -> u64 {
        let ns = (ticks as u128 * 1_000_000_000) / frequency as u128;
        if ns > u64::MAX as u128 {
            u64::MAX
        } else {
            ns as u64
        }
    }
}

impl Default for QpcClock {
    fn default() -> Self {
        QpcClock::new()
    }
}

impl Clock for QpcClock {
    fn now_ns(&self) -> u64 {
        // SAFETY: 1. A `NULL` frequency pointer is allowed (the frequency is not returned).
        //         2. Callable at any IRQL.
        let counter = unsafe { KeQueryPerformanceCounter(core::ptr::null_mut()) };
        // SAFETY: 1. Every bit pattern of the union is a valid `i64`.
        let ticks = unsafe { counter.QuadPart };
        QpcClock::ticks_to_ns(u64::try_from(ticks).unwrap_or(0), self.frequency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_conversion() {
        assert_eq!(QpcClock::ticks_to_ns(10_000_000, 10_000_000), 1_000_000_000);
        assert_eq!(QpcClock::ticks_to_ns(3, 3_000_000), 1_000);
        assert_eq!(QpcClock::ticks_to_ns(u64::MAX, 1), u64::MAX);
        assert_eq!(QpcClock::ticks_to_ns(u64::MAX, 10_000_000), u64::MAX);
        assert_eq!(
            QpcClock::ticks_to_ns(123_456_789, 10_000_000),
            12_345_678_900
        );
    }
}
