//! `wsktrace export FILE|DIR… -o OUT_DIR`: the analyses' results as Parquet (or CSV) tables.

use std::path::PathBuf;

use wsktrace_tools::analysis::balance::BalanceConfig;
use wsktrace_tools::export::collect::Tables;
use wsktrace_tools::export::write::TableWriters;
use wsktrace_tools::export::Format;

use super::fleet::fleet_rows;
use super::{report, ExitStatus};

/// What `wsktrace export --help` says about the exit status.
pub const EXIT_STATUS: &str = "Exit status: 0 every input read and every table written; 2 an \
input could not be read completely, no file was found, or a table could not be written (the \
other files are still exported). Never 1: export reports no findings.";

/// Export traces as tables for DuckDB, Spark or a spreadsheet: `files`, `events`,
/// `registrations`, `captures`, `findings` and `boot` (one `<table>.parquet` or `.csv` each in
/// OUT_DIR, replaced if present; columns documented in docs/export.md). Files are read in
/// parallel and rows written as they come, in bounded memory. A file that cannot be read is a
/// row of `files` with its error; the others are still exported.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// ETL files, or directories to search for `*.etl`.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// Directory to write the tables to (created if missing).
    #[arg(short, long, value_name = "OUT_DIR")]
    pub output: PathBuf,
    /// Table format.
    #[arg(long, value_enum, default_value_t = Format::Parquet)]
    pub format: Format,
    /// Warn about capture timeouts above this many milliseconds on the DriverEntry thread.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub long_wait_ms: u32,
}

/// Runs `export`.
pub fn run(args: &ExportArgs) -> ExitStatus {
    let writers = match TableWriters::create(&args.output, args.format) {
        Ok(w) => w,
        Err(e) => {
            report(&e);
            return ExitStatus::Error;
        }
    };
    let balance = BalanceConfig {
        long_wait_ms: args.long_wait_ms,
        keep_ok: true,
    };
    let outcomes = fleet_rows(&args.files, Tables::ALL, &balance, &|| writers.sink());
    if let Err(e) = writers.finish() {
        report(&e);
        return ExitStatus::Error;
    }
    if outcomes.iter().any(|o| o.failed()) {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}
