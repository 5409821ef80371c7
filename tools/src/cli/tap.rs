//! `wsktrace tap-to-etl RECORD -o FILE`: turns the Wine run's ETW tap record into the ETL file
//! ETW would have written (see [`wsktrace_tools::etw_tap`], `docs/wine.md`).
//!
//! Exit status: 0 written, 2 error (unreadable or malformed record, file not writable); never
//! 1. The success line goes to stderr, as `simulate`'s does.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use wsktrace_tools::etw_tap;

use super::{report_error, ExitStatus};

/// What `wsktrace tap-to-etl --help` says about the exit status.
pub const EXIT_STATUS: &str = "Exit status: 0 the ETL file written; 2 the record could not be \
read or is malformed, or the file could not be written. Never 1.";

/// Arguments of `wsktrace tap-to-etl`.
///
/// Exit status: 0 written, 2 error (unreadable or malformed record, output not writable).
#[derive(Debug, Clone, clap::Args)]
pub struct TapArgs {
    /// The tap's record file (`C:\wsktrace-tap.bin` in the Wine prefix).
    #[arg(value_name = "RECORD")]
    pub record: PathBuf,
    /// ETL file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Runs `wsktrace tap-to-etl`.
pub fn run(args: &TapArgs) -> ExitStatus {
    let tap = match etw_tap::read(&args.record) {
        Ok(tap) => tap,
        Err(e) => {
            report_error(&args.record, &e);
            return ExitStatus::Error;
        }
    };
    let fail = |e: &dyn std::fmt::Display| {
        report_error(&args.output, e);
        ExitStatus::Error
    };
    let config = match etw_tap::session_config(&tap, &args.output.to_string_lossy()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    let file = match File::create(&args.output) {
        Ok(file) => file,
        Err(e) => return fail(&e),
    };
    let (out, converted) = match etw_tap::write_etl(&tap, BufWriter::new(file), config) {
        Ok(written) => written,
        Err(e) => return fail(&e),
    };
    if let Err(e) = out.into_inner() {
        return fail(&e.into_error());
    }
    eprintln!(
        "wrote {}: {} events from {} tap records, {} buffers, {} bytes",
        args.output.display(),
        converted.events,
        tap.records.len(),
        converted.summary.buffers_written,
        converted.summary.bytes
    );
    ExitStatus::Success
}
