//! `wsktrace simulate --scenario NAME -o FILE` (and `--list`): runs the driver's lifecycle core
//! on the simulated WSK subsystem and writes its trace as an ETL file (see
//! [`crate::scenario`]).
//!
//! Exit status: 0 written (or listed), 2 error (unknown scenario, file not writable).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use crate::etl::write::SessionConfig;
use crate::scenario::{self, SCENARIOS};

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

/// Runs `wsktrace simulate`; returns the exit status.
pub fn run(args: &SimulateArgs) -> u8 {
    if args.list {
        let width = SCENARIOS.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for s in SCENARIOS {
            if writeln!(out, "{:width$}  {}", s.name, s.summary).is_err() {
                return 0; // stdout closed (a pipe to `head`): nothing left to say
            }
        }
        return 0;
    }
    let (Some(name), Some(path)) = (&args.scenario, &args.output) else {
        eprintln!("wsktrace: simulate needs --scenario NAME -o FILE, or --list");
        return 2;
    };
    let Some(scenario) = scenario::find(name) else {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        eprintln!(
            "wsktrace: unknown scenario {name:?} (one of: {})",
            names.join(", ")
        );
        return 2;
    };
    let config = SessionConfig {
        buffer_size: args.buffer_kib * 1024,
        processors: args.processors,
        ..scenario::session_config(scenario.name)
    };
    // Open the output first: no point running a scenario whose trace cannot be written.
    // `-` is stdout (the writer streams front to back, no seeking needed).
    let sink: Box<dyn Write> = if path.as_os_str() == "-" {
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            eprintln!("wsktrace: -: refusing to write a binary ETL file to a terminal");
            return 2;
        }
        Box::new(stdout.lock())
    } else {
        match File::create(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("wsktrace: {}: {e}", path.display());
                return 2;
            }
        }
    };
    let trace = scenario.run();
    match scenario::write_etl(&trace, BufWriter::new(sink), config) {
        Ok((out, summary)) => {
            if let Err(e) = out.into_inner().map_err(|e| e.into_error()) {
                eprintln!("wsktrace: {}: {e}", path.display());
                return 2;
            }
            eprintln!(
                "wsktrace: {}: scenario {}: {} events ({} lost), {} buffers, {} bytes",
                path.display(),
                scenario.name,
                trace.records.len() + trace.pnp.len(),
                summary.events_lost,
                summary.buffers_written,
                summary.bytes
            );
            0
        }
        Err(e) => {
            eprintln!("wsktrace: {}: {e}", path.display());
            2
        }
    }
}
