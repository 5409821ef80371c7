//! `wsktrace check FILE|DIR…`: balance verdicts per file, client and registration.

use std::path::PathBuf;

use super::files::{analyse_all, read_status, Inputs};
use super::{to_file, to_stdout, ExitStatus};
use wsktrace_tools::analyse::Selection;
use wsktrace_tools::analysis::balance::{BalanceConfig, Verdict};
use wsktrace_tools::report::{json, junit, sarif, text, FileStatus};

/// The exit statuses of `check` (its `--help` shows them).
pub const EXIT_STATUS: &str = "Exit status: 0 no violation; 1 violations (and, with \
--require-events, a file without events of Wsktrace.WskClient; with --fail-on-inconclusive, an \
inconclusive verdict); 2 an input could not be read completely, no file was found, or an output \
could not be written (the error is printed as `wsktrace: <path>: <error>` and the other files \
are still checked). When both happen, 2 wins over 1.";

/// Check that every WSK capture is released exactly once, nothing is called after release,
/// and deregistration waits for every release.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write JUnit XML (one test case per registration) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write SARIF 2.1.0 to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Warn about capture timeouts above this many milliseconds on the DriverEntry thread.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub long_wait_ms: u32,
    /// A file without events of Wsktrace.WskClient fails the check (exit 1).
    #[arg(long)]
    pub require_events: bool,
    /// Inconclusive verdicts fail the check (exit 1).
    #[arg(long)]
    pub fail_on_inconclusive: bool,
    /// List registrations whose verdict is ok too.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> ExitStatus {
    let sel = Selection {
        balance: Some(BalanceConfig {
            long_wait_ms: args.long_wait_ms,
            // JUnit has a test case per registration; JSON and --verbose list every one.
            keep_ok: args.junit.is_some() || args.json || args.verbose,
        }),
        ..Default::default()
    };
    let files = analyse_all(&args.inputs, &sel);
    let written = if args.json {
        to_stdout(|w| json::check(&files, w))
    } else {
        to_stdout(|w| {
            text::check(
                &files,
                text::CheckText {
                    verbose: args.verbose,
                },
                w,
            )
        })
    };
    if let Err(s) = written {
        return s;
    }
    if let Some(path) = &args.junit {
        let opts = junit::JunitOptions {
            require_events: args.require_events,
        };
        if let Err(s) = to_file(path, |w| junit::check(&files, opts, w)) {
            return s;
        }
    }
    if let Some(path) = &args.sarif {
        if let Err(s) = to_file(path, |w| sarif::check(&files, w)) {
            return s;
        }
    }
    let read = read_status(&files);
    if read == ExitStatus::Error {
        return read;
    }
    let failed = files.iter().any(|f| match f.status() {
        FileStatus::Violation => true,
        FileStatus::NoEvents => args.require_events,
        FileStatus::Inconclusive => args.fail_on_inconclusive,
        _ => false,
    }) || (args.fail_on_inconclusive
        && files.iter().any(|f| {
            f.result.as_ref().is_ok_and(|a| {
                a.balance
                    .as_ref()
                    .is_some_and(|b| b.counts.worst() == Verdict::Inconclusive)
            })
        }));
    if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        args: CheckArgs,
    }

    fn parse(args: &[&str]) -> Result<CheckArgs, clap::Error> {
        T::try_parse_from(std::iter::once("check").chain(args.iter().copied())).map(|t| t.args)
    }

    #[test]
    fn flags() {
        let a = parse(&["a.etl", "dir"]).unwrap();
        assert_eq!(
            a.inputs.files,
            [PathBuf::from("a.etl"), PathBuf::from("dir")]
        );
        assert_eq!(a.long_wait_ms, 1000);
        assert!(
            !a.inputs.follow
                && !a.json
                && !a.require_events
                && !a.fail_on_inconclusive
                && !a.verbose
        );
        let a = parse(&[
            "--json",
            "--junit",
            "j.xml",
            "--sarif=s.sarif",
            "--long-wait-ms",
            "250",
            "--require-events",
            "--fail-on-inconclusive",
            "-v",
            "--follow",
            "x.etl",
        ])
        .unwrap();
        assert!(a.json && a.require_events && a.fail_on_inconclusive && a.verbose);
        assert!(a.inputs.follow);
        assert_eq!(a.junit.as_deref(), Some(std::path::Path::new("j.xml")));
        assert_eq!(a.sarif.as_deref(), Some(std::path::Path::new("s.sarif")));
        assert_eq!(a.long_wait_ms, 250);
        // A file is required; the threshold is a u32 of milliseconds.
        assert!(parse(&[]).is_err());
        assert!(parse(&["--long-wait-ms", "4294967296", "x.etl"]).is_err());
        assert!(parse(&["--long-wait-ms", "-1", "x.etl"]).is_err());
    }
}
