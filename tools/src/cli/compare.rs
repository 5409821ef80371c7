//! `wsktrace compare BASELINE NEW`: two fleets side by side, with gates for CI.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wsktrace_tools::analysis::balance::BalanceConfig;
use wsktrace_tools::compare::metrics::{FleetMetrics, MetricsBuilder, SharedMetrics};
use wsktrace_tools::compare::{Comparison, Gates, MaxIncrease};
use wsktrace_tools::export::collect::{BatchSink, Tables};
use wsktrace_tools::export::read::{detect, read_table};
use wsktrace_tools::export::table::TableId;
use wsktrace_tools::export::Format;
use wsktrace_tools::report::compare::{self as render, Inputs};

use super::files::Inputs as TraceInputs;
use super::fleet::fleet_rows;
use super::{report, report_error, to_file, to_stdout, ExitStatus};

/// What `wsktrace compare --help` says about the exit status.
pub const EXIT_STATUS: &str = "Exit status: 0 no gate broken; 1 a regression (a gate broken); \
2 an input could not be read completely (an unreadable trace on either side, an export that \
recorded one, a missing or foreign table), or an output could not be written. When both \
happen, 2 wins over 1.";

/// Compare two fleets: files, registrations, findings by rule, capture-wait percentiles per
/// wait mode and calling context, DriverEntry duration, time blocked on the DriverEntry
/// thread, drivers delayed; each with its change. Each side is an ETL file, a directory of
/// traces, or a `wsktrace export` directory (Parquet or CSV).
///
/// Gates: `--fail-on-new-violations` (a rule with more violations than in BASELINE) and
/// `--max-increase METRIC=PERCENT` (any group of METRIC up by more than PERCENT; a group only
/// in NEW is an increase from 0). Metrics: files, unreadable_files, registrations,
/// registrations.{ok,violation,inconclusive} (by verdict), violations, inconclusive, warnings
/// (findings by severity), captures, capture_wait.{p50,p90,p99,max},
/// driver_entry_duration.{…}, blocked_on_driver_entry_thread.{…}, drivers_delayed.{…},
/// max_delay.{…}, total_delay.{…}.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The fleet to compare against: ETL file, directory of traces, or export directory.
    #[arg(value_name = "BASELINE")]
    pub baseline: PathBuf,
    /// The fleet to judge: ETL file, directory of traces, or export directory.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write JUnit XML (one test case per gate check) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A rule with more violations in NEW than in BASELINE is a regression (exit 1).
    #[arg(long)]
    pub fail_on_new_violations: bool,
    /// METRIC may not increase by more than PERCENT (repeatable), e.g.
    /// `capture_wait.p99=10`.
    #[arg(long, value_name = "METRIC=PERCENT")]
    pub max_increase: Vec<MaxIncrease>,
    /// Warn about capture timeouts above this many milliseconds on the DriverEntry thread
    /// (traces only; an export keeps the warnings it was made with).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub long_wait_ms: u32,
    /// Follow symbolic links met inside directories of traces (BASELINE and NEW themselves
    /// are always followed).
    #[arg(short = 'L', long)]
    pub follow: bool,
}

/// One side's figures, and whether all of its input was read.
struct Side {
    metrics: FleetMetrics,
    complete: bool,
}

/// One side from an export directory; `None` after reporting why it cannot be read.
fn from_export(dir: &Path, format: Format) -> Option<Side> {
    let mut m = MetricsBuilder::default();
    for table in TableId::ALL {
        if table == TableId::Events {
            continue;
        }
        // The error names the table's file.
        if let Err(e) = read_table(dir, format, table, &mut |b| m.batch(table, b)) {
            report(&e);
            return None;
        }
    }
    let metrics = m.finish().inspect_err(|e| report_error(dir, e)).ok()?;
    Some(Side {
        complete: metrics.unreadable_files == 0,
        metrics,
    })
}

/// One side from traces (each error is reported as it is met); `None` when the figures
/// cannot be formed.
fn from_traces(path: &Path, args: &CompareArgs) -> Option<Side> {
    let shared = Mutex::new(MetricsBuilder::default());
    let balance = BalanceConfig {
        long_wait_ms: args.long_wait_ms,
        keep_ok: true,
    };
    let inputs = TraceInputs::one(path, args.follow);
    let outcomes = fleet_rows(&inputs, Tables::SUMMARIES, &balance, &|| {
        SharedMetrics(&shared)
    });
    let metrics = shared
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .finish()
        .inspect_err(|e| report_error(path, e))
        .ok()?;
    Some(Side {
        metrics,
        complete: !outcomes.iter().any(|o| o.failed()),
    })
}

/// One side: an export directory's tables, or traces; `None` after reporting why not.
fn side(path: &Path, args: &CompareArgs) -> Option<Side> {
    // The error names the directory.
    match detect(path).inspect_err(|e| report(e)).ok()? {
        Some(format) if path.is_dir() => from_export(path, format),
        _ => from_traces(path, args),
    }
}

/// Runs `compare`.
pub fn run(args: &CompareArgs) -> ExitStatus {
    let sides = [&args.baseline, &args.new].map(|p| side(p, args));
    let [Some(baseline), Some(new)] = sides else {
        return ExitStatus::Error;
    };
    let gates = Gates {
        fail_on_new_violations: args.fail_on_new_violations,
        max_increase: args.max_increase.clone(),
    };
    let complete = baseline.complete && new.complete;
    let c = Comparison::of(baseline.metrics, new.metrics, &gates);
    let (b, n) = (
        args.baseline.display().to_string(),
        args.new.display().to_string(),
    );
    let inputs = Inputs {
        baseline: &b,
        new: &n,
    };
    let written = if args.json {
        to_stdout(|w| render::json(&c, &inputs, w))
    } else {
        to_stdout(|w| render::text(&c, &inputs, w))
    };
    if let Err(s) = written {
        return s;
    }
    if let Some(path) = &args.junit {
        if let Err(s) = to_file(path, |w| render::junit(&c, &inputs, w)) {
            return s;
        }
    }
    if !complete {
        ExitStatus::Error
    } else if c.regressions().next().is_some() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
