//! The one place where `export` and `compare` read traces: every file of `FILE|DIR…` through
//! the trace pipeline into [`TraceRows`], files in parallel, a progress bar on a terminal.

use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;

use wsktrace_tools::analysis::balance::BalanceConfig;
use wsktrace_tools::export::collect::{unreadable_file, BatchSink, RowBatches, Tables};
use wsktrace_tools::export::trace::trace_rows;
use wsktrace_tools::pipeline::TraceError;
use wsktrace_tools::report::FileStatus;

use super::files::{expand, progress_bar, read_options, Inputs};
use super::report_error;

/// How one file went, for the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOutcome {
    /// As `check` would say.
    pub status: FileStatus,
    /// Errors were met while reading (the rest was read).
    pub read_errors: bool,
}

impl FileOutcome {
    /// The file could not be read, or not completely.
    pub fn failed(&self) -> bool {
        self.status == FileStatus::Error || self.read_errors
    }
}

/// Rows of every file of `inputs`, in parallel; `sink` gives each reading thread its batch
/// sink (the rows of the files a thread reads go out together). Errors are printed as they
/// happen. Outcomes keep input order.
pub fn fleet_rows<S: BatchSink + Send>(
    inputs: &Inputs,
    tables: Tables,
    balance: &BalanceConfig,
    sink: &(dyn Fn() -> S + Sync),
) -> Vec<FileOutcome> {
    let paths = expand(inputs);
    let pb = progress_bar(paths.len());
    let print = Mutex::new(());
    let options = read_options(paths.len());
    let report = |path: &Path, e: &TraceError| {
        let _g = print.lock();
        pb.suspend(|| report_error(path, e));
    };
    let parts: Vec<Vec<FileOutcome>> = paths
        .par_iter()
        .enumerate()
        .fold(
            || (RowBatches::new(tables, sink()), Vec::new()),
            |(mut rows, mut outcomes), (i, p)| {
                let file_id = u32::try_from(i).unwrap_or(u32::MAX);
                let outcome = match p {
                    Err((path, e)) => {
                        report(path, e);
                        unreadable_file(file_id, &path.display().to_string(), e, &mut rows);
                        FileOutcome {
                            status: FileStatus::Error,
                            read_errors: false,
                        }
                    }
                    Ok(path) => {
                        let mut on_error = |e: &TraceError| report(path, e);
                        let file =
                            trace_rows(path, file_id, balance, options, &mut rows, &mut on_error);
                        FileOutcome {
                            status: file.status(),
                            read_errors: file.result.is_ok() && !file.errors().is_empty(),
                        }
                    }
                };
                pb.inc(1);
                outcomes.push(outcome);
                (rows, outcomes)
            },
        )
        .map(|(rows, outcomes)| {
            rows.finish();
            outcomes
        })
        .collect();
    pb.finish_and_clear();
    parts.concat()
}
