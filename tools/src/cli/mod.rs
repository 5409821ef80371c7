//! The `wsktrace` command line: what each command's arguments are (their doc comments are the
//! `--help` text), which files they read (directories are walked), where the output goes, and
//! the exit status. Everything else is in the library (`wsktrace_tools`).

pub mod boot;
pub mod check;
pub mod compare;
pub mod dump;
pub mod export;
pub mod files;
pub mod fleet;
pub mod latency;
pub mod report;
pub mod simulate;
pub mod tap;

use std::fmt::Display;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// How a run ended (ruff's `ExitStatus`); the same codes for every command. Ordered, so that
/// the worst of several outcomes is their `max`: an error (2) wins over findings (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Everything read, nothing found (exit 0).
    Success,
    /// Findings: violations, or what a flag asked to fail on (exit 1).
    Failure,
    /// Something could not be read or written, or not completely (exit 2).
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        })
    }
}

/// The one place that prints an error: `wsktrace: <path>: <error>` on stderr (for a trace
/// error, `<error>` is `offset 0x…: message`).
pub fn report_error(path: &Path, e: &dyn Display) {
    report(&format_args!("{}: {e}", path.display()));
}

/// An error that is not about a path: `wsktrace: <error>` on stderr.
pub fn report(e: &dyn Display) {
    eprintln!("wsktrace: {e}");
}

/// Writes to stdout through `f`; a closed pipe ends quietly (ripgrep's rule).
pub fn to_stdout(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), ExitStatus> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match f(&mut w).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(ExitStatus::Success),
        Err(e) => {
            report(&format_args!("writing output: {e}"));
            Err(ExitStatus::Error)
        }
    }
}

/// Writes to a file through `f`.
pub fn to_file(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), ExitStatus> {
    let res = std::fs::File::create(path).and_then(|file| {
        let mut w = io::BufWriter::new(file);
        f(&mut w)?;
        w.flush()
    });
    res.map_err(|e| {
        report_error(path, &e);
        ExitStatus::Error
    })
}
