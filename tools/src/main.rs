//! The `wsktrace` command: parse arguments and dispatch; all work lives in the library
//! (`wsktrace_tools`), the commands' glue in [`cli`].

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Read ETL files on any OS, decode TraceLogging, analyse WSK client lifecycles.
///
/// Exit status, the same for every command: 0 clean, 1 findings (`check`; `compare` on a
/// regression), 2 error (an input could not be read completely, or an output not written).
///
/// When both happen, 2 wins over 1. Each command's `--help` says which of them it gives.
#[derive(Debug, Parser)]
#[command(name = "wsktrace", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every record of ETL files as JSON Lines (or a per-file summary).
    #[command(after_help = cli::dump::EXIT_STATUS)]
    Dump(cli::dump::DumpArgs),
    /// Check capture/release balance: a verdict per file, client and registration.
    #[command(after_help = cli::check::EXIT_STATUS)]
    Check(cli::check::CheckArgs),
    /// Capture wait distributions and time held between capture and release.
    #[command(after_help = cli::latency::EXIT_STATUS)]
    Latency(cli::latency::LatencyArgs),
    /// Startup-wait impact per boot trace, and a fleet summary across traces.
    #[command(after_help = cli::boot::EXIT_STATUS)]
    Boot(cli::boot::BootArgs),
    /// Export the analyses as Parquet (or CSV) tables for DuckDB, Spark or a spreadsheet.
    #[command(after_help = cli::export::EXIT_STATUS)]
    Export(cli::export::ExportArgs),
    /// Compare two fleets (files, directories of traces or exports) with gates for CI.
    #[command(after_help = cli::compare::EXIT_STATUS)]
    Compare(cli::compare::CompareArgs),
    /// Write a self-contained HTML report (timelines, histogram, boot impact).
    #[command(after_help = cli::report::EXIT_STATUS)]
    Report(cli::report::ReportArgs),
    /// Run the driver's lifecycle core on the simulated WSK subsystem and write its trace as ETL.
    #[command(after_help = cli::simulate::EXIT_STATUS)]
    Simulate(cli::simulate::SimulateArgs),
    /// Turn the Wine run's ETW tap record into the ETL file ETW would have written.
    #[command(after_help = cli::tap::EXIT_STATUS)]
    TapToEtl(cli::tap::TapArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Dump(args) => cli::dump::run(&args),
        Command::Check(args) => cli::check::run(&args),
        Command::Latency(args) => cli::latency::run(&args),
        Command::Boot(args) => cli::boot::run(&args),
        Command::Export(args) => cli::export::run(&args),
        Command::Compare(args) => cli::compare::run(&args),
        Command::Report(args) => cli::report::run(&args),
        Command::Simulate(args) => cli::simulate::run(&args),
        Command::TapToEtl(args) => cli::tap::run(&args),
    }
    .into()
}
