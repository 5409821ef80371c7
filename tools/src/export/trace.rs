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
/// is met) and returns its result, the one the renderers take (without the registrations'
/// verdicts, which are rows). A file that cannot be read at all is a `files` row with its
/// error.
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Mutex;

    use arrow_array::RecordBatch;
    use rayon::prelude::*;

    use super::*;
    use crate::etl::write::SessionConfig;
    use crate::export::collect::{Tables, BATCH_ROWS};
    use crate::export::table::TableId;
    use crate::wsk_etl::{Context, WskEtlWriter};

    /// Every batch handed on, by table.
    #[derive(Default)]
    struct Collected(BTreeMap<TableId, Vec<RecordBatch>>);

    impl BatchSink for &Mutex<Collected> {
        fn batch(&mut self, table: TableId, batch: RecordBatch) {
            let mut c = self.lock().unwrap();
            c.0.entry(table).or_default().push(batch);
        }
    }

    /// Each table's rows as CSV lines, sorted (the order of the rows of different traces,
    /// and of their batches, depends on the threads).
    fn rows(c: Collected) -> BTreeMap<TableId, Vec<String>> {
        TableId::ALL
            .into_iter()
            .map(|t| {
                let mut csv = Vec::new();
                let mut w = arrow_csv::WriterBuilder::new()
                    .with_header(false)
                    .build(&mut csv);
                for b in c.0.get(&t).into_iter().flatten() {
                    assert_eq!(b.schema(), t.schema(), "{}", t.name());
                    w.write(b).unwrap();
                }
                drop(w);
                let mut lines: Vec<String> = String::from_utf8(csv)
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect();
                lines.sort();
                (t, lines)
            })
            .collect()
    }

    /// A trace larger than [`MIN_MAPPED`] (read through the memory map, on every core with
    /// the default options) of `registrations` registrations on four processors (their
    /// dispatch calls name a long function, so that few events make many bytes).
    fn large_trace(path: &Path, registrations: u32) {
        let function = "WskSocket".repeat(120);
        let config = SessionConfig {
            buffer_size: 16 * 1024,
            processors: 4,
            ..Default::default()
        };
        let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let mut w = WskEtlWriter::new(file, config).unwrap();
        let mut ns = 6_000_000_000u64;
        for r in 1..=registrations {
            let events = crate::export::registration_lifecycle(r, &function);
            for event in &events {
                ns += 1_000;
                let at = Context {
                    since_boot_ns: ns,
                    processor: (r % 4) as u16,
                    thread_id: 8 + r % 5,
                    process_id: 4,
                };
                w.write_wsk(&at, [0; 16], event).unwrap();
            }
        }
        w.finish(ns + 1_000).unwrap();
    }

    /// Exports `paths` as file ids 0, 1, …: on the rayon pool (`parallel`) or in order on
    /// this thread, with a `RowBatches` per reading thread or per file (`per_file`), in
    /// batches of `batch_rows`.
    fn export(
        paths: &[PathBuf],
        parallel: bool,
        per_file: bool,
        batch_rows: usize,
        options: ReadOptions,
    ) -> BTreeMap<TableId, Vec<String>> {
        let out = Mutex::new(Collected::default());
        let balance = BalanceConfig {
            keep_ok: true,
            ..Default::default()
        };
        let read = |rows: &mut RowBatches<&Mutex<Collected>>, (i, path): (usize, &PathBuf)| {
            trace_rows(path, i as u32, &balance, options, rows, &mut |_| {});
        };
        let new = || RowBatches::with_batch_rows(Tables::ALL, &out, batch_rows);
        let one = |item| {
            let mut rows = new();
            read(&mut rows, item);
            rows.finish();
        };
        match (parallel, per_file) {
            (true, true) => paths.par_iter().enumerate().for_each(one),
            (true, false) => paths
                .par_iter()
                .enumerate()
                .fold(new, |mut rows, item| {
                    read(&mut rows, item);
                    rows
                })
                .for_each(|rows| {
                    rows.finish();
                }),
            (false, true) => paths.iter().enumerate().for_each(one),
            (false, false) => {
                let mut rows = new();
                paths
                    .iter()
                    .enumerate()
                    .for_each(|item| read(&mut rows, item));
                rows.finish();
            }
        }
        rows(out.into_inner().unwrap())
    }

    /// The tables of a multi-file input (every scenario, a trace read through the memory
    /// map, a file that is not ETL, one that is missing) hold the same rows however the files
    /// are spread over threads and batches, and whether a trace is read on one thread or
    /// on every core.
    #[test]
    fn tables_do_not_depend_on_threads_or_batches() {
        let dir = std::env::temp_dir().join(format!("wsktrace-export-ways-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let plan: Vec<(&str, usize)> = crate::scenario::SCENARIOS
            .iter()
            .map(|s| (s.name, 1))
            .collect();
        let mut paths = crate::scenario::write_fleet(&dir, &plan).unwrap();
        let large = dir.join("large.etl");
        large_trace(&large, 3_600);
        assert!(std::fs::metadata(&large).unwrap().len() >= MIN_MAPPED);
        paths.insert(3, large);
        let junk = dir.join("notes.etl");
        std::fs::write(&junk, b"# not a trace").unwrap();
        paths.insert(1, junk);
        paths.push(dir.join("missing.etl"));

        let one = ReadOptions::one_thread();
        let reference = export(&paths, false, false, BATCH_ROWS, one);
        let files = &reference[&TableId::Files];
        assert_eq!(files.len(), paths.len());
        assert_eq!(files.iter().filter(|l| l.contains(",error,")).count(), 2);
        assert!(reference[&TableId::Events].len() > 7 * 3_600);
        for t in TableId::ALL.into_iter().filter(|t| *t != TableId::Findings) {
            assert!(!reference[&t].is_empty(), "{}", t.name());
        }
        let ways = [
            (false, true, BATCH_ROWS, one),
            (false, false, 64, one),
            (true, false, BATCH_ROWS, one),
            (true, true, 100, ReadOptions::default()),
        ];
        for (parallel, per_file, batch_rows, options) in ways {
            let got = export(&paths, parallel, per_file, batch_rows, options);
            for t in TableId::ALL {
                assert!(
                    got[&t] == reference[&t],
                    "{}: parallel {parallel}, per file {per_file}, batches of {batch_rows}, {options:?}",
                    t.name()
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
