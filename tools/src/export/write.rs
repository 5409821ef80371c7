//! The table writers: one thread per table, each fed record batches through a bounded
//! channel ([`CHANNEL_DEPTH`] batches), so that encoding and compression run beside the
//! reading and analysing threads and a slow disk holds the readers back instead of filling
//! memory. Parquet row groups are closed every [`ROW_GROUP_ROWS`] rows. Each table is written
//! as `<table>.<ext>.partial` and renamed when complete, so a reader never sees half a table.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use clap::ValueEnum;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::collect::{BatchSink, MadeRows, PendingRows, BATCH_ROWS};
use super::table::TableId;
use super::{ExportError, Format};

/// Batches queued per table before the producers wait.
pub const CHANNEL_DEPTH: usize = 4;
/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Columns whose row groups carry min/max statistics (`file_id` in every table, the events'
/// time).
const STATISTICS_COLUMNS: [&str; 2] = ["file_id", "ts_ns"];
/// How UTC instants are written in CSV (RFC 3339, microseconds).
pub const CSV_TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// One table's file.
pub fn table_path(dir: &Path, table: TableId, format: Format) -> PathBuf {
    dir.join(format!("{}.{}", table.name(), format.extension()))
}

/// Removes the tables an export writes, in every format but `format`, from `dir`: an export
/// in CSV over an earlier one in Parquet (or the other way round) must not leave the stale
/// set beside the new one. Other files are left alone.
pub fn remove_other_formats(dir: &Path, format: Format) -> Result<(), ExportError> {
    let others = Format::value_variants().iter().filter(|f| **f != format);
    for path in others.flat_map(|f| TableId::ALL.map(|t| table_path(dir, t, *f))) {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ExportError::Io { path, source: e })
            }
            _ => {}
        }
    }
    Ok(())
}

/// One table being written.
trait TableFile: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError>;
    fn close(self: Box<Self>) -> Result<(), ExportError>;
}

struct ParquetFile {
    path: PathBuf,
    writer: ArrowWriter<File>,
}

impl TableFile for ParquetFile {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.writer
            .write(batch)
            .map_err(|source| ExportError::Parquet {
                path: self.path.clone(),
                source,
            })
    }
    fn close(self: Box<Self>) -> Result<(), ExportError> {
        let path = self.path;
        self.writer
            .close()
            .map(|_| ())
            .map_err(|source| ExportError::Parquet { path, source })
    }
}

struct CsvFile {
    path: PathBuf,
    writer: arrow_csv::Writer<BufWriter<File>>,
}

impl TableFile for CsvFile {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.writer
            .write(batch)
            .map_err(|source| ExportError::Arrow {
                path: self.path.clone(),
                source,
            })
    }
    fn close(self: Box<Self>) -> Result<(), ExportError> {
        let path = self.path;
        self.writer
            .into_inner()
            .flush()
            .map_err(|source| ExportError::Io { path, source })
    }
}

/// How a table is encoded in Parquet: Snappy pages, row groups of [`ROW_GROUP_ROWS`],
/// dictionaries for text, deltas for integers and instants, statistics for the columns
/// queries narrow by.
pub fn parquet_properties(table: TableId) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(concat!("wsktrace ", env!("CARGO_PKG_VERSION")).to_string())
        .set_write_batch_size(BATCH_ROWS)
        .set_dictionary_enabled(false)
        // Min/max statistics cost a compare per value and column (a fifth of the
        // `events` encoding); a row group's are kept for the columns a query over
        // many files or runs narrows by.
        .set_statistics_enabled(EnabledStatistics::None);
    for field in table.schema().fields() {
        let column = ColumnPath::from(field.name().as_str());
        if STATISTICS_COLUMNS.contains(&field.name().as_str()) {
            props = props.set_column_statistics_enabled(column.clone(), EnabledStatistics::Chunk);
        }
        props = match field.data_type() {
            // Dictionaries for the text columns (names, statuses, modes: few values).
            DataType::Utf8 => props.set_column_dictionary_enabled(column, true),
            DataType::Boolean => props,
            // Integers and instants as deltas: times, sequence numbers and ids grow
            // steadily within a trace, so their differences pack into a few bits (the
            // `events` table of the bench trace: 0.23 MB, against 17.5 MB all PLAIN; PLAIN
            // for every integer but the times and `seq` saves a tenth of the encoding's CPU
            // and makes it 2.6 MB).
            _ => props.set_column_encoding(column, Encoding::DELTA_BINARY_PACKED),
        };
    }
    props.build()
}

fn open_table(
    path: &Path,
    table: TableId,
    format: Format,
) -> Result<Box<dyn TableFile>, ExportError> {
    let file = File::create(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match format {
        Format::Parquet => {
            let props = parquet_properties(table);
            let writer =
                ArrowWriter::try_new(file, table.schema(), Some(props)).map_err(|source| {
                    ExportError::Parquet {
                        path: path.to_path_buf(),
                        source,
                    }
                })?;
            Box::new(ParquetFile {
                path: path.to_path_buf(),
                writer,
            })
        }
        Format::Csv => {
            let writer = arrow_csv::WriterBuilder::new()
                .with_header(true)
                .with_timestamp_tz_format(CSV_TIMESTAMP_FORMAT.to_string())
                .build(BufWriter::with_capacity(1 << 20, file));
            Box::new(CsvFile {
                path: path.to_path_buf(),
                writer,
            })
        }
    })
}

fn drain(
    rx: Receiver<Box<dyn PendingRows>>,
    mut file: Box<dyn TableFile>,
) -> Result<u64, ExportError> {
    let mut rows = 0u64;
    for pending in rx {
        let batch = pending.into_batch();
        rows += batch.num_rows() as u64;
        // On error the receiver is dropped with this thread: producers' sends then fail
        // quietly, and `finish` reports this error.
        file.write(&batch)?;
    }
    file.close()?;
    Ok(rows)
}

/// One written table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Which.
    pub table: TableId,
    /// Where.
    pub path: PathBuf,
    /// Rows.
    pub rows: u64,
}

struct Writer {
    table: TableId,
    partial: PathBuf,
    path: PathBuf,
    thread: JoinHandle<Result<u64, ExportError>>,
}

/// The six table writers of one export.
pub struct TableWriters {
    senders: WriterSink,
    writers: Vec<Writer>,
}

impl TableWriters {
    /// Creates `dir` (if needed) and starts one writer per table.
    pub fn create(dir: &Path, format: Format) -> Result<TableWriters, ExportError> {
        std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        remove_other_formats(dir, format)?;
        let mut senders = Vec::new();
        let mut writers = Vec::new();
        for table in TableId::ALL {
            let path = table_path(dir, table, format);
            let partial = path.with_extension(format!("{}.partial", format.extension()));
            let file = open_table(&partial, table, format)?;
            let (tx, rx) = sync_channel(CHANNEL_DEPTH);
            let thread = std::thread::Builder::new()
                .name(format!("write {}", table.name()))
                .spawn(move || drain(rx, file))
                .map_err(|source| ExportError::Io {
                    path: partial.clone(),
                    source,
                })?;
            senders.push(tx);
            writers.push(Writer {
                table,
                partial,
                path,
                thread,
            });
        }
        Ok(TableWriters {
            senders: WriterSink { senders },
            writers,
        })
    }

    /// A sink feeding the writers (one per producing thread).
    pub fn sink(&self) -> WriterSink {
        self.senders.clone()
    }

    /// Waits for every table to be written (all sinks must be dropped first) and moves them
    /// into place. The first error wins; the other tables are still finished.
    pub fn finish(self) -> Result<Vec<Written>, ExportError> {
        drop(self.senders);
        let mut written = Vec::new();
        let mut first_error = None;
        for w in self.writers {
            let result = w
                .thread
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
                .and_then(|rows| {
                    std::fs::rename(&w.partial, &w.path).map_err(|source| ExportError::Io {
                        path: w.path.clone(),
                        source,
                    })?;
                    Ok(rows)
                });
            match result {
                Ok(rows) => written.push(Written {
                    table: w.table,
                    path: w.path,
                    rows,
                }),
                Err(e) => {
                    let _ = std::fs::remove_file(&w.partial);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}

/// Hands batches to the table writers (rows still in their builders are made batches by the
/// writer's thread).
#[derive(Clone)]
pub struct WriterSink {
    senders: Vec<SyncSender<Box<dyn PendingRows>>>,
}

impl std::fmt::Debug for WriterSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriterSink({} tables)", self.senders.len())
    }
}

impl BatchSink for WriterSink {
    fn batch(&mut self, table: TableId, batch: RecordBatch) {
        self.rows(Box::new(MadeRows(table, batch)));
    }

    fn rows(&mut self, rows: Box<dyn PendingRows>) {
        // A closed channel: that writer failed; `TableWriters::finish` says why.
        let _ = self.senders[rows.table() as usize].send(rows);
    }
}
