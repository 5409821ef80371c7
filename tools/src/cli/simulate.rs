//! `wsktrace simulate --scenario NAME -o FILE` (and `--list`): runs the driver's lifecycle core
//! on the simulated WSK subsystem and writes its trace as an ETL file (see
//! [`wsktrace_tools::scenario`]).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use wsktrace_tools::etl::write::SessionConfig;
use wsktrace_tools::scenario::{self, SCENARIOS};

use super::{report, report_error, ExitStatus};

/// The exit statuses of `simulate`.
pub const EXIT_STATUS: &str = "Exit status: 0 the trace written (or the scenarios listed); 2 an \
unknown scenario, or the output could not be written. Never 1.";

/// Arguments of `wsktrace simulate`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["scenario", "list"])))]
pub struct SimulateArgs {
    /// Scenario to run (see `--list`).
    #[arg(long, value_name = "NAME", requires = "output")]
    pub scenario: Option<String>,
    /// ETL file to write (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
    /// Buffer size of the written file, in KiB (1 to 1024).
    #[arg(long, value_name = "KIB", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub buffer_kib: u32,
    /// Processors of the simulated machine (one open buffer each).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub processors: u16,
}

/// Runs `wsktrace simulate`.
pub fn run(args: &SimulateArgs) -> ExitStatus {
    if args.list {
        let width = SCENARIOS.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for s in SCENARIOS {
            if writeln!(out, "{:width$}  {}", s.name, s.summary).is_err() {
                break; // stdout closed (a pipe to `head`): nothing left to say
            }
        }
        return ExitStatus::Success;
    }
    let (Some(name), Some(path)) = (&args.scenario, &args.output) else {
        report(&"simulate needs --scenario NAME -o FILE, or --list");
        return ExitStatus::Error;
    };
    let Some(scenario) = scenario::find(name) else {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        report(&format_args!(
            "unknown scenario {name:?} (one of: {})",
            names.join(", ")
        ));
        return ExitStatus::Error;
    };
    let config = SessionConfig {
        buffer_size: args.buffer_kib * 1024,
        processors: args.processors,
        ..scenario::session_config(scenario.name)
    };
    // Open the output first: no point running a scenario whose trace cannot be written.
    let Some(sink) = output(path) else {
        return ExitStatus::Error;
    };
    let trace = scenario.run();
    let (out, summary) = match scenario::write_etl(&trace, BufWriter::new(sink), config) {
        Ok(written) => written,
        Err(e) => {
            report_error(path, &e);
            return ExitStatus::Error;
        }
    };
    if let Err(e) = out.into_inner() {
        report_error(path, &e.into_error());
        return ExitStatus::Error;
    }
    eprintln!(
        "wrote {}: scenario {}: {} events ({} lost), {} buffers, {} bytes",
        path.display(),
        scenario.name,
        trace.records.len() + trace.pnp.len(),
        summary.events_lost,
        summary.buffers_written,
        summary.bytes
    );
    ExitStatus::Success
}

/// The output: a file, or stdout for `-` (the writer streams front to back, no seeking
/// needed). `None` after reporting why it cannot be written.
fn output(path: &std::path::Path) -> Option<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            report_error(path, &"refusing to write a binary ETL file to a terminal");
            return None;
        }
        return Some(Box::new(stdout.lock()));
    }
    match File::create(path) {
        Ok(f) => Some(Box::new(f)),
        Err(e) => {
            report_error(path, &e);
            None
        }
    }
}
