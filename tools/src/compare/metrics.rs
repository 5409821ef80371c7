//! The figures `compare` puts side by side, computed from the exported tables' rows (the
//! same batches whether they come straight from traces or from an export directory, so the
//! two give the same figures by construction).

use std::collections::BTreeMap;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray, UInt32Array};
use serde::Serialize;

use crate::analysis::stats::Summary;
use crate::export::collect::BatchSink;
use crate::export::table::TableId;

/// Capture waits of one wait mode and calling context (`any`: every context).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WaitMetric {
    /// `no-wait`, `infinite`, `timeout <n> ms`, `unknown`.
    pub wait_mode: String,
    /// `driver-entry-thread`, `worker-thread`, `other-thread`, `unknown`, or `any`.
    pub calling_context: String,
    /// The waits (`WaitNs`), ns.
    pub wait: Summary,
}

/// Finding counts of one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleCounts {
    /// Rule id.
    pub rule: String,
    /// Findings of severity `violation`.
    pub violations: u64,
    /// Findings of severity `inconclusive`.
    pub inconclusive: u64,
    /// Findings of severity `warning`.
    pub warnings: u64,
}

/// The figures of one side of a comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FleetMetrics {
    /// Files (traces), readable or not.
    pub files: u64,
    /// Files that could not be read, or not completely.
    pub unreadable_files: u64,
    /// Registrations.
    pub registrations: u64,
    /// Registrations by verdict.
    pub verdicts: BTreeMap<String, u64>,
    /// Findings by rule.
    pub rules: Vec<RuleCounts>,
    /// Capture waits by wait mode and calling context.
    pub capture_wait: Vec<WaitMetric>,
    /// DriverEntry duration (the first DriverEntry of each trace), ns.
    pub driver_entry_duration: Summary,
    /// Time blocked in capture on the DriverEntry thread, per trace, ns.
    pub blocked_on_driver_entry_thread: Summary,
    /// Other drivers delayed, per trace.
    pub drivers_delayed: Summary,
    /// The largest delay of another driver (how long the boot waited behind ours), per
    /// trace, ns.
    pub max_delay: Summary,
    /// The sum of their delays, per trace, ns.
    pub total_delay: Summary,
}

/// A column of a batch that is not what the table defines.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("table {table}: column {column} is missing or mistyped")]
pub struct ColumnError {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
}

/// Accumulates [`FleetMetrics`] from table batches (a [`BatchSink`]).
#[derive(Debug, Default)]
pub struct MetricsBuilder {
    files: u64,
    unreadable: u64,
    registrations: u64,
    verdicts: BTreeMap<String, u64>,
    findings: BTreeMap<String, RuleCounts>,
    waits: BTreeMap<(String, String), Vec<u64>>,
    durations: Vec<u64>,
    blocked: Vec<u64>,
    delayed: Vec<u64>,
    max_delay: Vec<u64>,
    delay: Vec<u64>,
    error: Option<ColumnError>,
}

fn column<'b, T: 'static>(
    b: &'b RecordBatch,
    table: TableId,
    name: &'static str,
) -> Result<&'b T, ColumnError> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or(ColumnError {
            table: table.name(),
            column: name,
        })
}

/// A count or duration column's value (a negative one can only come from a foreign file).
fn value(a: &Int64Array, i: usize) -> Option<u64> {
    a.is_valid(i)
        .then(|| u64::try_from(a.value(i)).unwrap_or(0))
}

impl MetricsBuilder {
    fn add(&mut self, table: TableId, b: &RecordBatch) -> Result<(), ColumnError> {
        match table {
            TableId::Files => self.add_files(b),
            TableId::Registrations => self.add_registrations(b),
            TableId::Findings => self.add_findings(b),
            TableId::Captures => self.add_captures(b),
            TableId::Boot => self.add_boot(b),
            TableId::Events => Ok(()),
        }
    }

    fn add_files(&mut self, b: &RecordBatch) -> Result<(), ColumnError> {
        let status = column::<StringArray>(b, TableId::Files, "status")?;
        let errors = column::<UInt32Array>(b, TableId::Files, "read_errors")?;
        for i in 0..b.num_rows() {
            self.files += 1;
            if status.value(i) == "error" || errors.value(i) > 0 {
                self.unreadable += 1;
            }
        }
        Ok(())
    }

    fn add_registrations(&mut self, b: &RecordBatch) -> Result<(), ColumnError> {
        let verdict = column::<StringArray>(b, TableId::Registrations, "verdict")?;
        for i in 0..b.num_rows() {
            self.registrations += 1;
            *self
                .verdicts
                .entry(verdict.value(i).to_string())
                .or_default() += 1;
        }
        Ok(())
    }

    fn add_findings(&mut self, b: &RecordBatch) -> Result<(), ColumnError> {
        let rule = column::<StringArray>(b, TableId::Findings, "rule")?;
        let severity = column::<StringArray>(b, TableId::Findings, "severity")?;
        for i in 0..b.num_rows() {
            let r = self
                .findings
                .entry(rule.value(i).to_string())
                .or_insert_with(|| RuleCounts {
                    rule: rule.value(i).to_string(),
                    ..Default::default()
                });
            match severity.value(i) {
                "violation" => r.violations += 1,
                "inconclusive" => r.inconclusive += 1,
                _ => r.warnings += 1,
            }
        }
        Ok(())
    }

    fn add_captures(&mut self, b: &RecordBatch) -> Result<(), ColumnError> {
        let mode = column::<StringArray>(b, TableId::Captures, "wait_mode")?;
        let ctx = column::<StringArray>(b, TableId::Captures, "calling_context")?;
        let wait = column::<Int64Array>(b, TableId::Captures, "wait_ns")?;
        for i in 0..b.num_rows() {
            let Some(w) = value(wait, i) else { continue };
            for c in [ctx.value(i), ANY] {
                self.waits
                    .entry((mode.value(i).to_string(), c.to_string()))
                    .or_default()
                    .push(w);
            }
        }
        Ok(())
    }

    fn add_boot(&mut self, b: &RecordBatch) -> Result<(), ColumnError> {
        let index = column::<UInt32Array>(b, TableId::Boot, "client_index")?;
        let duration = column::<Int64Array>(b, TableId::Boot, "driver_entry_duration_ns")?;
        let blocked = column::<Int64Array>(b, TableId::Boot, "blocked_in_capture_ns")?;
        let delayed = column::<UInt32Array>(b, TableId::Boot, "drivers_delayed")?;
        let max_delay = column::<Int64Array>(b, TableId::Boot, "max_delay_ns")?;
        let delay = column::<Int64Array>(b, TableId::Boot, "total_delay_ns")?;
        for i in (0..b.num_rows()).filter(|&i| index.value(i) == 0) {
            self.durations.extend(value(duration, i));
            self.blocked.extend(value(blocked, i));
            self.delayed.push(u64::from(delayed.value(i)));
            self.max_delay.extend(value(max_delay, i));
            self.delay.extend(value(delay, i));
        }
        Ok(())
    }

    /// The figures, or the first batch that did not have the table's columns.
    pub fn finish(mut self) -> Result<FleetMetrics, ColumnError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(FleetMetrics {
            files: self.files,
            unreadable_files: self.unreadable,
            registrations: self.registrations,
            verdicts: self.verdicts,
            rules: self.findings.into_values().collect(),
            capture_wait: self
                .waits
                .into_iter()
                .map(|((wait_mode, calling_context), mut v)| WaitMetric {
                    wait_mode,
                    calling_context,
                    wait: Summary::of(&mut v),
                })
                .collect(),
            driver_entry_duration: Summary::of(&mut self.durations),
            blocked_on_driver_entry_thread: Summary::of(&mut self.blocked),
            drivers_delayed: Summary::of(&mut self.delayed),
            max_delay: Summary::of(&mut self.max_delay),
            total_delay: Summary::of(&mut self.delay),
        })
    }
}

/// The calling context of the groups that take every context.
pub const ANY: &str = "any";

impl BatchSink for MetricsBuilder {
    fn batch(&mut self, table: TableId, batch: RecordBatch) {
        if self.error.is_none() {
            if let Err(e) = self.add(table, &batch) {
                self.error = Some(e);
            }
        }
    }
}

/// A [`MetricsBuilder`] shared by the threads reading a fleet.
pub struct SharedMetrics<'m>(pub &'m std::sync::Mutex<MetricsBuilder>);

impl BatchSink for SharedMetrics<'_> {
    fn batch(&mut self, table: TableId, batch: RecordBatch) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .batch(table, batch);
    }
}
