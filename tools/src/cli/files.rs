//! Shared by `check`, `latency`, `boot` and `report`: the exit status, `FILE|DIR…` expansion,
//! and running the selected analyses over every file in parallel with a progress bar.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::source::{read_file_with, Threads};
use crate::analysis::balance::{BalanceChecker, BalanceConfig};
use crate::analysis::boot::BootAnalyzer;
use crate::analysis::latency::{LatencyAnalyzer, LatencyConfig};
use crate::analysis::timeline::TimelineCollector;
use crate::analysis::{EventSink, LostEvents, PnpDriverInit, TraceContext, TraceEvent};
use crate::report::{FileAnalysis, FileResult};

/// How a run ended (ruff's `ExitStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Every file read, nothing found (exit 0).
    Success,
    /// Violations found (exit 1).
    Failure,
    /// A file could not be read, or not completely (exit 2).
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(u8::from(s))
    }
}

impl From<ExitStatus> for u8 {
    fn from(s: ExitStatus) -> u8 {
        match s {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Prints a per-file error the way every subcommand does.
pub fn report_error(path: &str, e: &dyn std::fmt::Display) {
    eprintln!("wsktrace: {path}: {e}");
}

/// Expands `FILE|DIR…`: files as given, directories walked recursively for `*.etl` (sorted).
/// A path that does not exist, or a walk error, becomes an error entry.
pub fn expand(inputs: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, String)>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in walkdir::WalkDir::new(input).follow_links(true) {
                match entry {
                    Ok(e) => {
                        let p = e.path();
                        if e.file_type().is_file()
                            && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("etl"))
                        {
                            found.push(p.to_path_buf());
                        }
                    }
                    Err(e) => out.push(Err((
                        e.path().unwrap_or(input).to_path_buf(),
                        e.to_string(),
                    ))),
                }
            }
            found.sort();
            out.extend(found.into_iter().map(Ok));
        } else if input.exists() {
            out.push(Ok(input.clone()));
        } else {
            out.push(Err((
                input.clone(),
                "no such file or directory".to_string(),
            )));
        }
    }
    out
}

/// Which analyses a subcommand runs.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Balance check with these settings.
    pub balance: Option<BalanceConfig>,
    /// Latency with these settings.
    pub latency: Option<LatencyConfig>,
    /// Boot impact.
    pub boot: bool,
    /// Timelines (HTML).
    pub timeline: bool,
}

/// The selected analyses as one sink.
#[derive(Default)]
pub struct Selected {
    balance: Option<BalanceChecker>,
    latency: Option<LatencyAnalyzer>,
    boot: Option<BootAnalyzer>,
    timeline: Option<TimelineCollector>,
}

impl Selected {
    /// Sinks for `sel`.
    pub fn new(sel: &Selection) -> Selected {
        Selected {
            balance: sel.balance.clone().map(BalanceChecker::new),
            latency: sel.latency.clone().map(LatencyAnalyzer::new),
            boot: sel.boot.then(BootAnalyzer::default),
            timeline: sel.timeline.then(TimelineCollector::default),
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $body:expr) => {
        if let Some($s) = &mut $self.balance {
            $body;
        }
        if let Some($s) = &mut $self.latency {
            $body;
        }
        if let Some($s) = &mut $self.boot {
            $body;
        }
        if let Some($s) = &mut $self.timeline {
            $body;
        }
    };
}

impl EventSink for Selected {
    fn begin(&mut self, ctx: &TraceContext) {
        each!(self, s => s.begin(ctx));
    }
    fn event(&mut self, ev: &TraceEvent) {
        each!(self, s => s.event(ev));
    }
    fn pnp(&mut self, ev: &PnpDriverInit) {
        each!(self, s => s.pnp(ev));
    }
    fn lost(&mut self, lost: &LostEvents) {
        each!(self, s => s.lost(lost));
    }
    fn finish(&mut self, end_ns: u64) {
        each!(self, s => s.finish(end_ns));
    }
}

/// Reads one file with the selected analyses.
pub fn analyse(path: &Path, sel: &Selection, on_error: &mut dyn FnMut(&str)) -> FileResult {
    analyse_with(path, sel, Threads::Pipelined, on_error)
}

/// [`analyse`], choosing how threads are used (see [`Threads`]).
pub fn analyse_with(
    path: &Path,
    sel: &Selection,
    threads: Threads,
    on_error: &mut dyn FnMut(&str),
) -> FileResult {
    let mut sink = Selected::new(sel);
    let shown = path.display().to_string();
    match read_file_with(path, &mut sink, on_error, threads) {
        Err(e) => FileResult {
            path: shown,
            result: Err(e),
        },
        Ok(o) => FileResult {
            path: shown,
            result: Ok(FileAnalysis {
                timelines_skipped: sink.timeline.as_ref().map_or(0, |t| t.skipped),
                trace: o.trace,
                records: o.records,
                events: o.events,
                undecodable: o.undecodable,
                errors: o.errors,
                balance: sink.balance.map(BalanceChecker::into_report),
                latency: sink.latency.map(|l| l.report()),
                boot: sink.boot.map(|b| b.report()),
                timelines: sink
                    .timeline
                    .map(|t| t.timelines().to_vec())
                    .unwrap_or_default(),
            }),
        },
    }
}

/// Expands `inputs` and analyses every file on the rayon pool, with a progress bar on a
/// terminal (hidden otherwise). Errors are printed as they happen. Results keep input order.
pub fn analyse_all(inputs: &[PathBuf], sel: &Selection) -> Vec<FileResult> {
    let paths = expand(inputs);
    let pb = ProgressBar::with_draw_target(
        Some(paths.len() as u64),
        if io::stderr().is_terminal() && paths.len() > 1 {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {wide_msg}") {
        pb.set_style(style);
    }
    let print = Mutex::new(());
    // One file: its walk and its analysis on two threads; several: one thread per file (the
    // rayon pool keeps the cores busy already).
    let threads = if paths.len() == 1 {
        Threads::Pipelined
    } else {
        Threads::One
    };
    let results = paths
        .par_iter()
        .map(|p| {
            let r = match p {
                Err((path, e)) => {
                    let shown = path.display().to_string();
                    let _g = print.lock();
                    pb.suspend(|| report_error(&shown, e));
                    FileResult {
                        path: shown,
                        result: Err(e.clone()),
                    }
                }
                Ok(path) => {
                    let shown = path.display().to_string();
                    let mut on_error = |e: &str| {
                        let _g = print.lock();
                        pb.suspend(|| report_error(&shown, &e));
                    };
                    let r = analyse_with(path, sel, threads, &mut on_error);
                    if let Err(e) = &r.result {
                        on_error(e);
                    }
                    r
                }
            };
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    results
}

/// The status for read errors alone: `Error` when any file failed (or partly failed).
pub fn read_status(files: &[FileResult]) -> ExitStatus {
    let failed = files.iter().any(|f| match &f.result {
        Err(_) => true,
        Ok(a) => !a.errors.is_empty(),
    });
    if failed {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}

/// Writes to stdout through `f`; a closed pipe ends quietly (ripgrep's rule).
pub fn to_stdout(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), ExitStatus> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    match f(&mut w).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(ExitStatus::Success),
        Err(e) => {
            eprintln!("wsktrace: writing output: {e}");
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
        report_error(&path.display().to_string(), &e);
        ExitStatus::Error
    })
}
