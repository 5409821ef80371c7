//! Capture latency: wait distributions by wait mode, outcome and calling context, and the
//! time each NPI was held between capture and release.
//!
//! Every wait is measured twice: the driver's own `WaitNs` field, and the distance between
//! the capture's Start and Stop event timestamps. They should agree within the clock
//! resolution plus the cost of writing an event; when they differ by more than
//! [`LatencyConfig::tolerance_ns`] the capture is listed as a disagreement.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::{CallingContext, WskEvent};

use super::stats::{Histogram, Summary};
use wsktrace_driver::lifecycle::{WSK_INFINITE_WAIT, WSK_NO_WAIT};

use super::{EventSink, TraceEvent};

/// Knobs of the latency analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyConfig {
    /// Largest accepted difference between a wait field and its Start/Stop timestamps.
    pub tolerance_ns: u64,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            tolerance_ns: 1_000_000,
        }
    }
}

/// The wait mode of a capture, as text: `no-wait`, `infinite` or `timeout <n> ms`.
pub fn wait_mode(timeout_ms: u32) -> String {
    match timeout_ms {
        WSK_NO_WAIT => "no-wait".to_string(),
        WSK_INFINITE_WAIT => "infinite".to_string(),
        ms => format!("timeout {ms} ms"),
    }
}

/// Calling context as text.
pub fn context_name(ctx: u8) -> &'static str {
    match CallingContext::from_u8(ctx) {
        CallingContext::DriverEntry => "driver-entry-thread",
        CallingContext::Worker => "worker-thread",
        CallingContext::Other => "other-thread",
    }
}

/// An outcome as text: the status name (`STATUS_SUCCESS`) or its hex value.
pub fn outcome_name(status: NtStatus) -> String {
    match status.name() {
        Some(n) => n.to_string(),
        None => format!("{:#010x}", status.to_u32()),
    }
}

/// A group of captures with the same wait mode, outcome and calling context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitGroup {
    /// `no-wait`, `infinite`, `timeout <n> ms`, or `unknown` (start not in the trace).
    pub wait_mode: String,
    /// Status name.
    pub outcome: String,
    /// `driver-entry-thread`, `worker-thread`, `other-thread`, `unknown`.
    pub calling_context: String,
    /// Wait from the `WaitNs` fields.
    pub wait: Summary,
    /// Histogram of the same.
    pub histogram: Histogram,
}

/// A capture whose `WaitNs` field and Start/Stop timestamps disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    /// Registration id.
    pub registration: u32,
    /// Capture id.
    pub capture: u32,
    /// Thread of the Stop event.
    pub tid: u32,
    /// Stop event time (ns since trace start).
    pub ts_ns: u64,
    /// `WaitNs` (or `HeldNs`) from the event.
    pub field_ns: u64,
    /// From timestamps.
    pub timestamps_ns: u64,
    /// `wait` or `held`.
    pub what: &'static str,
}

/// The result of the latency analysis on one trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LatencyReport {
    /// Every capture wait (`WaitNs` fields).
    pub all: Summary,
    /// Histogram of every capture wait.
    pub histogram: Histogram,
    /// By wait mode, outcome and calling context.
    pub groups: Vec<WaitGroup>,
    /// Waits measured from Start/Stop timestamps (captures with both events).
    pub wait_from_timestamps: Summary,
    /// Time held between capture and release (`HeldNs` fields).
    pub held: Summary,
    /// Histogram of the held times.
    pub held_histogram: Histogram,
    /// Held times from capture-Stop and release timestamps.
    pub held_from_timestamps: Summary,
    /// Tolerance used for the comparison (ns).
    pub tolerance_ns: u64,
    /// Captures/releases whose field and timestamps differ by more than the tolerance
    /// (the first 100).
    pub disagreements: Vec<Disagreement>,
    /// How many disagreements in all.
    pub disagreement_count: u64,
}

const MAX_DISAGREEMENTS: usize = 100;

/// The latency analysis, as an [`EventSink`].
#[derive(Debug, Default)]
pub struct LatencyAnalyzer {
    config: LatencyConfig,
    /// Capture starts not yet stopped: (reg, cap) → (ts, timeout, context).
    waiting: HashMap<(u32, u32), (u64, u32, u8)>,
    /// Successful capture stops not yet released: (reg, cap) → stop ts.
    held_since: HashMap<(u32, u32), u64>,
    groups: BTreeMap<(String, String, String), Vec<u64>>,
    all: Vec<u64>,
    stamps: Vec<u64>,
    held: Vec<u64>,
    held_stamps: Vec<u64>,
    disagreements: Vec<Disagreement>,
    disagreement_count: u64,
    report: Option<LatencyReport>,
}

impl LatencyAnalyzer {
    /// An analyzer with these settings.
    pub fn new(config: LatencyConfig) -> Self {
        LatencyAnalyzer {
            config,
            ..Default::default()
        }
    }

    /// The result; after [`EventSink::finish`].
    pub fn report(&self) -> LatencyReport {
        self.report.clone().unwrap_or_default()
    }

    fn compare(
        &mut self,
        reg: u32,
        cap: u32,
        ev: &TraceEvent,
        field: u64,
        stamps: u64,
        what: &'static str,
    ) {
        if field.abs_diff(stamps) > self.config.tolerance_ns {
            self.disagreement_count += 1;
            if self.disagreements.len() < MAX_DISAGREEMENTS {
                self.disagreements.push(Disagreement {
                    registration: reg,
                    capture: cap,
                    tid: ev.tid,
                    ts_ns: ev.ts_ns,
                    field_ns: field,
                    timestamps_ns: stamps,
                    what,
                });
            }
        }
    }
}

impl EventSink for LatencyAnalyzer {
    fn event(&mut self, ev: &TraceEvent) {
        match &ev.event {
            WskEvent::CaptureProviderNpiStart {
                registration_id,
                capture_id,
                wait_timeout_ms,
                calling_context,
            } => {
                self.waiting.insert(
                    (*registration_id, *capture_id),
                    (ev.ts_ns, *wait_timeout_ms, *calling_context),
                );
            }
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                wait_ns,
            } => {
                let key = (*registration_id, *capture_id);
                let start = self.waiting.remove(&key);
                let (mode, ctx) = match start {
                    Some((_, timeout, ctx)) => (wait_mode(timeout), context_name(ctx).to_string()),
                    None => ("unknown".to_string(), "unknown".to_string()),
                };
                self.groups
                    .entry((mode, outcome_name(*status), ctx))
                    .or_default()
                    .push(*wait_ns);
                self.all.push(*wait_ns);
                if let Some((ts, _, _)) = start {
                    let stamps = ev.ts_ns.saturating_sub(ts);
                    self.stamps.push(stamps);
                    self.compare(key.0, key.1, ev, *wait_ns, stamps, "wait");
                }
                if status.is_success() {
                    self.held_since.insert(key, ev.ts_ns);
                }
            }
            WskEvent::ReleaseProviderNpi {
                registration_id,
                capture_id,
                held_ns,
                ..
            } => {
                let key = (*registration_id, *capture_id);
                self.held.push(*held_ns);
                if let Some(since) = self.held_since.remove(&key) {
                    let stamps = ev.ts_ns.saturating_sub(since);
                    self.held_stamps.push(stamps);
                    self.compare(key.0, key.1, ev, *held_ns, stamps, "held");
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, _end_ns: u64) {
        let groups = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|((wait_mode, outcome, calling_context), mut v)| WaitGroup {
                wait_mode,
                outcome,
                calling_context,
                histogram: Histogram::of(&v),
                wait: Summary::of(&mut v),
            })
            .collect();
        self.report = Some(LatencyReport {
            histogram: Histogram::of(&self.all),
            all: Summary::of(&mut self.all),
            groups,
            wait_from_timestamps: Summary::of(&mut self.stamps),
            held_histogram: Histogram::of(&self.held),
            held: Summary::of(&mut self.held),
            held_from_timestamps: Summary::of(&mut self.held_stamps),
            tolerance_ns: self.config.tolerance_ns,
            disagreements: std::mem::take(&mut self.disagreements),
            disagreement_count: self.disagreement_count,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testkit::{Seq, MS};
    use crate::analysis::{run, TraceContext};

    #[test]
    fn groups_and_percentiles() {
        let mut s = Seq::new();
        s.driver_entry(1, "c").register(1, 1);
        for i in 1..=10u32 {
            s.capture(
                2,
                1,
                i,
                WSK_INFINITE_WAIT,
                1,
                u64::from(i) * MS,
                NtStatus::SUCCESS,
            );
            s.wait(3 * MS);
            s.release(2, 1, i, 3 * MS + 1_000);
        }
        s.capture(1, 1, 11, 50, 0, 50 * MS, NtStatus::DEVICE_NOT_READY);
        let mut a = LatencyAnalyzer::new(LatencyConfig::default());
        run(&mut a, &TraceContext::default(), &s.events, &[], s.now);
        let r = a.report();
        assert_eq!(r.all.count, 11);
        assert_eq!(r.groups.len(), 2);
        let inf = r.groups.iter().find(|g| g.wait_mode == "infinite").unwrap();
        assert_eq!(inf.outcome, "STATUS_SUCCESS");
        assert_eq!(inf.calling_context, "worker-thread");
        assert_eq!(
            (inf.wait.min, inf.wait.p50, inf.wait.max),
            (MS, 5 * MS, 10 * MS)
        );
        let to = r
            .groups
            .iter()
            .find(|g| g.wait_mode == "timeout 50 ms")
            .unwrap();
        assert_eq!(to.outcome, "STATUS_DEVICE_NOT_READY");
        assert_eq!(to.calling_context, "driver-entry-thread");
        assert_eq!(r.held.count, 10);
        assert_eq!(r.held.p50, 3 * MS + 1_000);
        // Timestamps: the stop event lands 1 µs after the wait (see testkit).
        assert_eq!(r.wait_from_timestamps.max, 50 * MS + 1_000);
        assert_eq!(r.disagreement_count, 0);
        assert_eq!(r.histogram.buckets.iter().map(|b| b.count).sum::<u64>(), 11);
    }

    #[test]
    fn disagreement_is_reported() {
        let mut s = Seq::new();
        s.cap_start(1, 1, 1, 100, 1)
            .wait(20 * MS)
            .cap_stop(1, 1, 1, NtStatus::SUCCESS, 5 * MS);
        let mut a = LatencyAnalyzer::new(LatencyConfig::default());
        run(&mut a, &TraceContext::default(), &s.events, &[], s.now);
        let r = a.report();
        assert_eq!(r.disagreement_count, 1);
        assert_eq!(r.disagreements[0].field_ns, 5 * MS);
        assert_eq!(r.disagreements[0].timestamps_ns, 20 * MS + 1_000);
    }
}
