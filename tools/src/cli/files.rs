//! `FILE|DIR…` expansion, and running the selected analyses over every file in parallel with
//! a progress bar (`check`, `latency`, `boot`, `report`).

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use wsktrace_tools::analyse::{analyse_file, FileResult, Selection};
use wsktrace_tools::pipeline::{ErrorKind, ReadOptions, Threads, TraceError};

use super::{report_error, ExitStatus};

/// The `FILE|DIR…` arguments of every command that reads traces.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Inputs {
    /// ETL files, or directories to search for `*.etl`.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// Follow symbolic links met inside directories (a link named on the command line is
    /// always followed). Off by default: a Wine prefix's `dosdevices/z:` links to `/`.
    #[arg(short = 'L', long)]
    pub follow: bool,
}

impl Inputs {
    /// One path, as `compare` names a side.
    pub fn one(path: &Path, follow: bool) -> Self {
        Inputs {
            files: vec![path.to_path_buf()],
            follow,
        }
    }
}

/// One input to read: a file (as given, or found in a directory), or why a path given gave
/// none.
pub type Input = Result<PathBuf, (PathBuf, TraceError)>;

/// Expands `FILE|DIR…`: files as given, directories walked recursively for `*.etl` (sorted).
/// Paths given are followed if they are symbolic links; links inside a directory only with
/// `--follow` (ripgrep's rule; a loop is then a walk error). A path that cannot be read, a
/// walk error, or a directory without any `*.etl` file becomes an error entry (nothing could
/// be read there: exit 2).
pub fn expand(inputs: &Inputs) -> Vec<Input> {
    let mut out = Vec::new();
    for input in &inputs.files {
        match std::fs::metadata(input) {
            Ok(m) if m.is_dir() => walk(input, inputs.follow, &mut out),
            Ok(_) => out.push(Ok(input.clone())),
            Err(e) => out.push(Err((input.clone(), TraceError::open(e)))),
        }
    }
    out
}

/// The `*.etl` files under `dir`, sorted, and the walk's errors.
fn walk(dir: &Path, follow: bool, out: &mut Vec<Input>) {
    let mut found: Vec<PathBuf> = Vec::new();
    let entries = walkdir::WalkDir::new(dir)
        .follow_root_links(true)
        .follow_links(follow);
    for entry in entries {
        match entry {
            Ok(e) => {
                let p = e.path();
                if e.file_type().is_file()
                    && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("etl"))
                {
                    found.push(p.to_path_buf());
                }
            }
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                out.push(Err((path, TraceError::open(io::Error::from(e)))));
            }
        }
    }
    if found.is_empty() {
        let none = TraceError::new(ErrorKind::NoTraceFiles, None);
        out.push(Err((dir.to_path_buf(), none)));
    }
    found.sort();
    out.extend(found.into_iter().map(Ok));
}

/// A files-done bar on stderr when it is a terminal and there are several files (hidden
/// otherwise).
pub fn progress_bar(files: usize) -> ProgressBar {
    let target = if io::stderr().is_terminal() && files > 1 {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(files as u64), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {wide_msg}") {
        pb.set_style(style);
    }
    pb
}

/// How to read each of `files` inputs: one file may use both cores; several are read one
/// thread each (the rayon pool keeps the cores busy already).
pub fn read_options(files: usize) -> ReadOptions {
    ReadOptions {
        threads: if files == 1 {
            Threads::Auto
        } else {
            Threads::One
        },
    }
}

/// Expands `inputs` and analyses every file on the rayon pool, with a progress bar on a
/// terminal (hidden otherwise). Errors are printed as they happen. Results keep input order.
pub fn analyse_all(inputs: &Inputs, sel: &Selection) -> Vec<FileResult> {
    let paths = expand(inputs);
    let pb = progress_bar(paths.len());
    let print = Mutex::new(());
    let options = read_options(paths.len());
    let results = paths
        .par_iter()
        .map(|p| {
            let (path, result) = match p {
                Err((path, e)) => (path, Err(e.clone())),
                Ok(path) => {
                    let mut on_error = |e: &TraceError| {
                        let _g = print.lock();
                        pb.suspend(|| report_error(path, e));
                    };
                    let result = analyse_file(path, sel, options, &mut on_error);
                    (path, result)
                }
            };
            if let Err(e) = &result {
                let _g = print.lock();
                pb.suspend(|| report_error(path, e));
            }
            pb.inc(1);
            FileResult {
                path: path.display().to_string(),
                result,
            }
        })
        .collect();
    pb.finish_and_clear();
    results
}

/// The status for read errors alone: `Error` when any file failed (or partly failed).
pub fn read_status(files: &[FileResult]) -> ExitStatus {
    if files.iter().any(|f| !f.errors().is_empty()) {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}
