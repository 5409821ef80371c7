//! The one place where `export` and `compare` read traces: every file of `FILE|DIR…` through
//! the trace pipeline into [`TraceRows`], files in parallel, a progress bar on a terminal.

use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;

use wsktrace_tools::analysis::balance::BalanceConfig;
use wsktrace_tools::export::collect::{unreadable_file, BatchSink, HeaderFacts, Tables, TraceRows};
use wsktrace_tools::pipeline::{self, ReadOptions, TraceError};
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

/// Reads one trace into rows (`file_id` names it in every table).
pub fn trace_rows(
    path: &Path,
    file_id: u32,
    tables: Tables,
    balance: &BalanceConfig,
    options: ReadOptions,
    out: &mut dyn BatchSink,
    on_error: &mut dyn FnMut(&TraceError),
) -> FileOutcome {
    let shown = path.display().to_string();
    // The header facts the pipeline does not hand on; a file without a valid header fails
    // the read below with the same error.
    let header = pipeline::open_file(path)
        .ok()
        .map(|r| HeaderFacts::of(r.info()));
    let mut rows = TraceRows::new(file_id, header, tables, balance.clone(), out);
    match pipeline::read_file(path, &mut rows, options, on_error) {
        Ok(read) => {
            let file = rows.finish(&shown, read);
            FileOutcome {
                status: file.status(),
                read_errors: !file.errors().is_empty(),
            }
        }
        Err(e) => {
            drop(rows);
            on_error(&e);
            unreadable_file(file_id, &shown, &e, out);
            FileOutcome {
                status: FileStatus::Error,
                read_errors: false,
            }
        }
    }
}

/// Rows of every file of `inputs`, in parallel; `sink` gives each file its batch sink.
/// Errors are printed as they happen. Outcomes keep input order.
pub fn fleet_rows<S: BatchSink>(
    inputs: &Inputs,
    tables: Tables,
    balance: &BalanceConfig,
    sink: &(dyn Fn() -> S + Sync),
) -> Vec<FileOutcome> {
    let paths = expand(inputs);
    let pb = progress_bar(paths.len());
    let print = Mutex::new(());
    let options = read_options(paths.len());
    let outcomes = paths
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let file_id = u32::try_from(i).unwrap_or(u32::MAX);
            let mut out = sink();
            let outcome = match p {
                Err((path, e)) => {
                    let _g = print.lock();
                    pb.suspend(|| report_error(path, e));
                    unreadable_file(file_id, &path.display().to_string(), e, &mut out);
                    FileOutcome {
                        status: FileStatus::Error,
                        read_errors: false,
                    }
                }
                Ok(path) => {
                    let mut on_error = |e: &TraceError| {
                        let _g = print.lock();
                        pb.suspend(|| report_error(path, e));
                    };
                    trace_rows(
                        path,
                        file_id,
                        tables,
                        balance,
                        options,
                        &mut out,
                        &mut on_error,
                    )
                }
            };
            pb.inc(1);
            outcome
        })
        .collect();
    pb.finish_and_clear();
    outcomes
}
