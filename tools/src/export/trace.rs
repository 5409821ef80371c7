//! One trace into the tables' rows: the trace pipeline into a [`TraceRows`], the header facts
//! of the `files` table beside it. A file small enough to hold is read once, whole, and both
//! come from those bytes; a larger one goes through [`pipeline::read_file`] (a memory map
//! on every core, or the stream reader) and its header is read apart.

use std::io::Read;
use std::path::Path;

use super::collect::{unreadable_file, BatchSink, HeaderFacts, RowBatches, TraceRows};
use crate::analysis::balance::BalanceConfig;
use crate::etl::slice::SliceReader;
use crate::pipeline::{self, ReadOptions, TraceError, MIN_MAPPED};
use crate::report::FileResult;

/// Reads the trace at `path` into `rows` as file `file_id` (`on_error` gets each error as it
/// is met) and returns its result, the one the renderers take. A file that cannot be read at
/// all is a `files` row with its error.
pub fn trace_rows<S: BatchSink>(
    path: &Path,
    file_id: u32,
    balance: &BalanceConfig,
    options: ReadOptions,
    rows: &mut RowBatches<S>,
    on_error: &mut dyn FnMut(&TraceError),
) -> FileResult {
    let shown = path.display().to_string();
    let read = match small_file(path) {
        Some(bytes) => {
            let header = SliceReader::new(&bytes)
                .ok()
                .map(|r| HeaderFacts::of(r.info()));
            let mut sink = TraceRows::new(file_id, header, balance.clone(), rows);
            pipeline::read_bytes(&bytes, &mut sink, options, on_error).map(|r| (sink, r))
        }
        None => {
            // A file without a valid header fails the read below with the same error.
            let header = pipeline::open_file(path)
                .ok()
                .map(|r| HeaderFacts::of(r.info()));
            let mut sink = TraceRows::new(file_id, header, balance.clone(), rows);
            pipeline::read_file(path, &mut sink, options, on_error).map(|r| (sink, r))
        }
    };
    match read {
        Ok((sink, read)) => sink.finish(&shown, read),
        Err(e) => {
            on_error(&e);
            unreadable_file(file_id, &shown, &e, rows);
            FileResult {
                path: shown,
                result: Err(e),
            }
        }
    }
}

/// The bytes of the regular file at `path` when it is smaller than [`MIN_MAPPED`] (the
/// pipeline streams such files rather than map them); `None` for a larger file, or one that
/// cannot be opened or read (the pipeline then reports why, as for any file).
fn small_file(path: &Path) -> Option<Vec<u8>> {
    let mut file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() >= MIN_MAPPED {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()? + 1);
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}
