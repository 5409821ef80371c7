//! `wsktrace report FILE|DIR… -o report.html`: one self-contained HTML page.

use std::path::PathBuf;

use super::files::{analyse_all, read_status, Inputs};
use super::{to_file, ExitStatus};
use wsktrace_tools::analyse::Selection;
use wsktrace_tools::analysis::balance::BalanceConfig;
use wsktrace_tools::analysis::boot::{BootReport, FleetSummary};
use wsktrace_tools::analysis::latency::LatencyConfig;
use wsktrace_tools::report::html;

/// The exit statuses of `report`.
pub const EXIT_STATUS: &str = "Exit status: 0 every input read and the page written; 2 an input \
could not be read completely, no file was found, or the page could not be written. Never 1: \
the page shows the findings, the status does not.";

/// Write an HTML report: verdicts and findings, a timeline per registration (DriverEntry,
/// capture waits, held NPIs, deregistration), the capture-wait histogram and the boot-impact
/// table. The page needs no network access (inline CSS and SVG, no script).
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Where to write the page.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Warn about capture timeouts above this many milliseconds on the DriverEntry thread.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub long_wait_ms: u32,
}

/// Runs `report`.
pub fn run(args: &ReportArgs) -> ExitStatus {
    let sel = Selection {
        balance: Some(BalanceConfig {
            long_wait_ms: args.long_wait_ms,
            keep_ok: false,
        }),
        latency: Some(LatencyConfig::default()),
        boot: true,
        timeline: true,
    };
    let files = analyse_all(&args.inputs, &sel);
    let reports: Vec<&BootReport> = files
        .iter()
        .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
        .collect();
    let fleet = FleetSummary::of(reports);
    if let Err(s) = to_file(&args.output, |w| html::report(&files, &fleet, w)) {
        return s;
    }
    read_status(&files)
}
