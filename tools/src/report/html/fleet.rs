//! The fleet page (more than one trace): per-trace distributions of capture wait p99,
//! DriverEntry duration and time blocked on the DriverEntry thread, and the traces worst
//! first, each linked to its detail further down the page (`#trace-<n>`).

use std::cmp::Reverse;
use std::fmt::Write as _;

use super::axis::dur;
use super::histogram::{bars_svg, Bar, Chart};
use crate::analysis::stats::{Histogram, EDGES_NS};
use crate::report::{escape_xml as esc, FileResult, FileStatus};

/// The order of the worst-first table ([`TraceFigures::badness`]), as the page states it.
pub const WORST_ORDER: &str = "Sorted by status (unreadable, then violation, then inconclusive, then the rest), then by time blocked on the DriverEntry thread, then DriverEntry duration, then capture wait p99, longest first; a trace without a figure sorts after those with one.";

/// Traces listed in the worst-first table.
pub const WORST_LISTED: usize = 50;

/// One trace's figures on the fleet page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceFigures {
    /// Index of the file (its detail is `#trace-<index>`).
    pub index: usize,
    /// Its status.
    pub status: Option<FileStatus>,
    /// p99 of its capture waits.
    pub wait_p99: Option<u64>,
    /// Its first DriverEntry's duration.
    pub driver_entry: Option<u64>,
    /// Blocked in capture on that DriverEntry's thread.
    pub blocked: Option<u64>,
    /// Drivers delayed.
    pub delayed: Option<usize>,
}

impl TraceFigures {
    /// The figures of `files[index]`.
    pub fn of(index: usize, f: &FileResult) -> TraceFigures {
        let mut t = TraceFigures {
            index,
            status: Some(f.status()),
            ..Default::default()
        };
        if let Ok(a) = &f.result {
            t.wait_p99 = a
                .latency
                .as_ref()
                .filter(|l| l.all.count > 0)
                .map(|l| l.all.p99);
            if let Some(c) = a.boot.as_ref().and_then(|b| b.clients.first()) {
                t.driver_entry = c.driver_entry_duration_ns;
                t.blocked = Some(c.blocked_in_capture_ns);
                t.delayed = Some(c.delayed_drivers.len());
            }
        }
        t
    }

    /// Worse sorts first ([`WORST_ORDER`] says how to readers of the page).
    fn badness(&self) -> impl Ord {
        let status = match self.status {
            Some(FileStatus::Error) => 3,
            Some(FileStatus::Violation) => 2,
            Some(FileStatus::Inconclusive) => 1,
            _ => 0,
        };
        (status, self.blocked, self.driver_entry, self.wait_p99)
    }
}

/// Bars of a per-trace distribution: `0 ms` first (a wait never blocked), then the
/// logarithmic buckets of the rest.
fn distribution(values: &[u64]) -> Vec<Bar> {
    let zeros = values.iter().filter(|&&v| v == 0).count() as u64;
    let rest: Vec<u64> = values.iter().copied().filter(|&v| v > 0).collect();
    let mut bars = Vec::new();
    if zeros > 0 {
        bars.push(Bar {
            label: "0 ms".to_string(),
            count: zeros,
        });
    }
    bars.extend(Histogram::of(&rest).buckets.iter().map(|b| Bar {
        label: bucket_label(b.le_ns),
        count: b.count,
    }));
    bars
}

/// `≤2.00 ms`, or `>100 s` for the open bucket.
pub fn bucket_label(le_ns: Option<u64>) -> String {
    match le_ns {
        Some(le) => format!("≤{}", dur(le)),
        None => format!(">{}", dur(EDGES_NS[EDGES_NS.len() - 1])),
    }
}

/// One figure of a trace.
type Figure = fn(&TraceFigures) -> Option<u64>;

/// Writes the fleet section.
pub fn section(h: &mut String, files: &[FileResult]) {
    let figures: Vec<TraceFigures> = files
        .iter()
        .enumerate()
        .map(|(i, f)| TraceFigures::of(i, f))
        .collect();
    let _ = writeln!(
        h,
        "<section id=\"fleet\"><h2>Fleet: {} traces</h2>\n<p class=\"muted\">One value per trace: its capture wait p99, its (first) DriverEntry's duration and the time that DriverEntry was blocked in WskCaptureProviderNPI on its own thread.</p>",
        files.len()
    );
    let plots: [(&str, &str, &str, Figure); 3] = [
        (
            "fleet-wait-p99",
            "capture wait p99 per trace (bucket upper edge)",
            "No trace has a capture wait.",
            |t| t.wait_p99,
        ),
        (
            "fleet-driver-entry",
            "DriverEntry duration per trace (bucket upper edge)",
            "No trace has a DriverEntry that returned.",
            |t| t.driver_entry,
        ),
        (
            "fleet-blocked",
            "blocked on the DriverEntry thread per trace (bucket upper edge)",
            "No trace has a DriverEntry.",
            |t| t.blocked,
        ),
    ];
    for (id, caption, empty, get) in plots {
        let values: Vec<u64> = figures.iter().filter_map(get).collect();
        let _ = writeln!(h, "<h3>{}</h3>", esc(caption));
        let chart = Chart {
            id,
            x_caption: caption,
            y_caption: "traces",
            empty,
        };
        bars_svg(h, &chart, &distribution(&values));
    }
    worst_table(h, files, figures);
    h.push_str("</section>\n");
}

fn worst_table(h: &mut String, files: &[FileResult], mut figures: Vec<TraceFigures>) {
    figures.sort_by_key(|t| (Reverse(t.badness()), t.index));
    let _ = writeln!(
        h,
        "<h3>Worst traces first</h3><p class=\"muted\" id=\"worst-order\">{WORST_ORDER}</p><table id=\"worst\"><tr><th>#</th><th>trace</th><th>status</th><th>capture wait p99 (WaitNs)</th><th>DriverEntry took (DurationNs)</th><th>blocked on DriverEntry thread</th><th>drivers delayed</th></tr>"
    );
    let opt = |v: Option<u64>| v.map_or("-".to_string(), dur);
    for (rank, t) in figures.iter().take(WORST_LISTED).enumerate() {
        let st = t.status.map_or("error", FileStatus::as_str);
        let _ = writeln!(
            h,
            "<tr class=\"worst\"><td class=\"num\">{}</td><td class=\"mono\"><a href=\"#trace-{}\">{}</a></td><td class=\"{st}\">{st}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            rank + 1,
            t.index,
            esc(&files[t.index].path),
            opt(t.wait_p99),
            opt(t.driver_entry),
            opt(t.blocked),
            t.delayed.map_or("-".to_string(), |d| d.to_string()),
        );
    }
    h.push_str("</table>\n");
    if figures.len() > WORST_LISTED {
        let _ = writeln!(
            h,
            "<p class=\"muted\">{} more trace(s) not listed here; every trace is in the verdicts table below.</p>",
            figures.len() - WORST_LISTED
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_first() {
        let f = |index, status, blocked| TraceFigures {
            index,
            status: Some(status),
            blocked: Some(blocked),
            ..Default::default()
        };
        let mut v = [
            f(0, FileStatus::Ok, 10),
            f(1, FileStatus::Violation, 0),
            f(2, FileStatus::Ok, 500),
            f(3, FileStatus::Error, 0),
        ];
        v.sort_by_key(|t| Reverse(t.badness()));
        let order: Vec<usize> = v.iter().map(|t| t.index).collect();
        assert_eq!(order, [3, 1, 2, 0]);
    }

    #[test]
    fn distribution_keeps_zero_apart() {
        let bars = distribution(&[0, 0, 1_500, 150_000_000]);
        assert_eq!(
            bars[0],
            Bar {
                label: "0 ms".into(),
                count: 2
            }
        );
        assert_eq!(bars[1].label, "≤2.0 µs");
        assert_eq!(bars.last().unwrap().label, "≤200.00 ms");
    }
}
