//! `wsktrace tap-to-etl RECORD -o FILE`: turns the Wine run's ETW tap record into the ETL file
//! ETW would have written (see [`crate::etw_tap`]).
//!
//! Exit status: 0 written, 2 error (unreadable or malformed record, file not writable).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use crate::etw_tap;

/// Arguments of `wsktrace tap-to-etl`.
#[derive(Debug, Clone, clap::Args)]
pub struct TapArgs {
    /// The tap's record file (`C:\wsktrace-tap.bin` of the Wine prefix).
    #[arg(value_name = "RECORD")]
    pub record: PathBuf,
    /// ETL file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Runs `wsktrace tap-to-etl`; returns the exit status.
pub fn run(args: &TapArgs) -> u8 {
    let tap = match etw_tap::read(&args.record) {
        Ok(tap) => tap,
        Err(e) => {
            eprintln!("wsktrace: {}: {e}", args.record.display());
            return 2;
        }
    };
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("wsktrace: {}: {e}", args.output.display());
        2
    };
    let config = match etw_tap::session_config(&tap, &args.output.to_string_lossy()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    let file = match File::create(&args.output) {
        Ok(file) => file,
        Err(e) => return fail(&e),
    };
    match etw_tap::write_etl(&tap, BufWriter::new(file), config) {
        Ok((out, converted)) => {
            if let Err(e) = out.into_inner().map_err(|e| e.into_error()) {
                return fail(&e);
            }
            eprintln!(
                "wsktrace: {}: {} events from {} tap records, {} buffers, {} bytes",
                args.output.display(),
                converted.events,
                tap.records.len(),
                converted.summary.buffers_written,
                converted.summary.bytes
            );
            0
        }
        Err(e) => fail(&e),
    }
}
