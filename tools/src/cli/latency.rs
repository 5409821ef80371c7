//! `wsktrace latency FILE|DIR…`: capture wait distributions and time held.

use super::files::{analyse_all, read_status, Inputs};
use super::{to_stdout, ExitStatus};
use wsktrace_tools::analyse::Selection;
use wsktrace_tools::analysis::latency::LatencyConfig;
use wsktrace_tools::report::{json, text};

/// The exit statuses of `latency`.
pub const EXIT_STATUS: &str = "Exit status: 0 every input read; 2 an input could not be read \
completely, no file was found, or the output could not be written. Never 1: latency reports \
no findings.";

/// Capture wait distributions by wait mode, outcome and calling context (count, min, p50,
/// p90, p99, max, histogram), and time held between capture and release. The waits in the
/// events' fields are compared with their Start/Stop timestamps.
#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Report field/timestamp differences above this many microseconds.
    #[arg(long, value_name = "US", default_value_t = 1000)]
    pub tolerance_us: u64,
}

/// Runs `latency`.
pub fn run(args: &LatencyArgs) -> ExitStatus {
    let sel = Selection {
        latency: Some(LatencyConfig {
            tolerance_ns: args.tolerance_us.saturating_mul(1000),
        }),
        ..Default::default()
    };
    let files = analyse_all(&args.inputs, &sel);
    let written = if args.json {
        to_stdout(|w| json::latency(&files, w))
    } else {
        to_stdout(|w| text::latency(&files, w))
    };
    match written {
        Err(s) => s,
        Ok(()) => read_status(&files),
    }
}
