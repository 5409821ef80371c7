//! Axes: "nice" tick steps (1-2-5 times a power of ten) and duration text with units.

use crate::analysis::stats::fmt_ns;

/// Width of every chart and timeline on the page, px.
pub const WIDTH: f64 = 900.0;
/// Font size of their labels, px.
pub const FONT: f64 = 11.0;

/// A duration for the page, with its unit ([`fmt_ns`]).
pub fn dur(ns: u64) -> String {
    fmt_ns(ns)
}

/// The smallest 1-2-5 step with at most `max_ticks` steps in `span`.
pub fn nice_step(span: u64, max_ticks: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if span / s < max_ticks.max(1) {
                return s;
            }
        }
        if step > u64::MAX / 10 {
            return u64::MAX;
        }
        step *= 10;
    }
}

/// Tick label for `t` ns when ticks are `step` apart: the unit follows the step, so every
/// label on one axis has the same unit (`0 ms`, `50 ms`, `100 ms`).
pub fn tick_label(t: u64, step: u64) -> String {
    let (div, unit) = if step >= 1_000_000_000 {
        (1e9, "s")
    } else if step >= 1_000_000 {
        (1e6, "ms")
    } else if step >= 1_000 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    };
    // The step is a whole number of the unit it picked: whole labels.
    format!("{:.0} {unit}", t as f64 / div)
}

/// A rough width of `text` at `px` font size (system sans-serif averages ~0.6 em per
/// character); enough to keep labels apart.
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.62
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_labels() {
        assert_eq!(nice_step(150_000_000, 8), 20_000_000);
        assert_eq!(nice_step(12_000, 8), 2_000);
        assert_eq!(nice_step(1, 8), 1);
        assert_eq!(tick_label(40_000_000, 20_000_000), "40 ms");
        assert_eq!(tick_label(0, 20_000_000), "0 ms");
        assert_eq!(tick_label(2_500, 500), "2500 ns");
        assert_eq!(tick_label(3_000_000_000, 1_000_000_000), "3 s");
        assert_eq!(tick_label(1_500_000, 500_000), "1500 µs");
        assert_eq!(dur(0), "0 ms");
        assert_eq!(dur(12_000), "12.0 µs");
    }
}
