//! `wsktrace boot FILE|DIR…`: what our DriverEntry's wait for WSK cost each boot.

use super::files::{analyse_all, read_status, Inputs};
use super::{to_stdout, ExitStatus};
use wsktrace_tools::analyse::Selection;
use wsktrace_tools::analysis::boot::{BootReport, FleetSummary};
use wsktrace_tools::report::{json, text};

/// The exit statuses of `boot`.
pub const EXIT_STATUS: &str = "Exit status: 0 every input read; 2 an input could not be read \
completely, no file was found, or the output could not be written. Never 1: boot reports no \
findings.";

/// Per boot trace: DriverEntry start relative to boot, its duration, time blocked in capture
/// on the DriverEntry thread, when WSK became ready, and the drivers (Kernel-PnP DriverInit
/// 226/227) whose initialization waited behind ours. With several traces, a fleet summary
/// (percentiles per metric). Directories are walked; files are read in parallel.
#[derive(Debug, clap::Args)]
pub struct BootArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `boot`.
pub fn run(args: &BootArgs) -> ExitStatus {
    let sel = Selection {
        boot: true,
        ..Default::default()
    };
    let files = analyse_all(&args.inputs, &sel);
    let reports: Vec<&BootReport> = files
        .iter()
        .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
        .collect();
    let fleet = FleetSummary::of(reports);
    let written = if args.json {
        to_stdout(|w| json::boot(&files, &fleet, w))
    } else {
        to_stdout(|w| text::boot(&files, &fleet, w))
    };
    match written {
        Err(s) => s,
        Ok(()) => read_status(&files),
    }
}
