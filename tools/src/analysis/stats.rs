//! Distributions: nearest-rank percentiles and a fixed logarithmic histogram.

use serde::Serialize;

/// count, min, p50, p90, p99, max of a set of durations (ns).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub count: u64,
    /// Smallest.
    pub min: u64,
    /// Median (nearest rank).
    pub p50: u64,
    /// 90th percentile (nearest rank).
    pub p90: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Summary {
    /// Summarizes `values` (sorted in place).
    pub fn of(values: &mut [u64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        values.sort_unstable();
        Summary {
            count: values.len() as u64,
            min: values[0],
            p50: percentile(values, 50),
            p90: percentile(values, 90),
            p99: percentile(values, 99),
            max: values[values.len() - 1],
        }
    }
}

/// Nearest-rank percentile `p` (0..=100) of sorted, non-empty `sorted`.
pub fn percentile(sorted: &[u64], p: u32) -> u64 {
    let n = sorted.len() as u64;
    // rank = ceil(p/100 * n), at least 1.
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// Upper bucket edges (ns): 1-2-5 steps from 1 µs to 100 s; the last bucket is open.
pub const EDGES_NS: [u64; 25] = [
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    20_000_000_000,
    50_000_000_000,
    100_000_000_000,
];

/// One histogram bucket: values in `(previous edge, le_ns]`; `le_ns` = None is the open end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Upper edge, inclusive (ns); `None` for the last, open bucket.
    pub le_ns: Option<u64>,
    /// Values in the bucket.
    pub count: u64,
}

/// A histogram over [`EDGES_NS`], trimmed to the buckets from the first to the last
/// non-empty one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Histogram {
    /// Buckets in ascending order.
    pub buckets: Vec<Bucket>,
}

impl Histogram {
    /// The histogram of `values`.
    pub fn of(values: &[u64]) -> Histogram {
        let mut counts = [0u64; EDGES_NS.len() + 1];
        for &v in values {
            let i = EDGES_NS.partition_point(|&e| e < v);
            counts[i] += 1;
        }
        let Some(first) = counts.iter().position(|&c| c > 0) else {
            return Histogram::default();
        };
        let last = counts.iter().rposition(|&c| c > 0).expect("non-empty");
        Histogram {
            buckets: (first..=last)
                .map(|i| Bucket {
                    le_ns: EDGES_NS.get(i).copied(),
                    count: counts[i],
                })
                .collect(),
        }
    }
}

/// Human-readable duration, always with a unit: `0 ms`, `850 ns`, `12.3 µs`, `4.56 ms`,
/// `1.234 s`.
pub fn fmt_ns(ns: u64) -> String {
    if ns == 0 {
        "0 ms".to_string()
    } else if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.3} s", ns as f64 / 1e9)
    }
}

/// Timestamp text: seconds with nanosecond digits (`12.000345678s`).
pub fn fmt_ts(ns: u64) -> String {
    format!("{}.{:09}s", ns / 1_000_000_000, ns % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut v: Vec<u64> = (1..=100).collect();
        let s = Summary::of(&mut v);
        assert_eq!(
            (s.count, s.min, s.p50, s.p90, s.p99, s.max),
            (100, 1, 50, 90, 99, 100)
        );
        let mut one = vec![7];
        let s = Summary::of(&mut one);
        assert_eq!((s.p50, s.p99), (7, 7));
        assert_eq!(Summary::of(&mut []), Summary::default());
    }

    #[test]
    fn histogram_edges_are_inclusive() {
        let h = Histogram::of(&[1_000, 1_001, 2_000, 200_000_000_000]);
        assert_eq!(
            h.buckets[0],
            Bucket {
                le_ns: Some(1_000),
                count: 1
            }
        );
        assert_eq!(
            h.buckets[1],
            Bucket {
                le_ns: Some(2_000),
                count: 2
            }
        );
        let last = h.buckets.last().unwrap();
        assert_eq!(
            last,
            &Bucket {
                le_ns: None,
                count: 1
            }
        );
        assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 4);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_ns(0), "0 ms");
        assert_eq!(fmt_ns(850), "850 ns");
        assert_eq!(fmt_ns(4_560_000), "4.56 ms");
        assert_eq!(fmt_ts(12_000_345_678), "12.000345678s");
    }
}
