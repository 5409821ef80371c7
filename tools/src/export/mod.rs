//! `wsktrace export`: the analyses' results as tables for the engines users already query
//! with — Apache Parquet for DuckDB and Spark, or CSV for spreadsheets. The tables and their
//! columns are defined once in [`table`] and documented in `docs/export.md`.
//!
//! Flow: [`trace::trace_rows`] reads each file through the trace pipeline into a
//! [`collect::TraceRows`] (files in parallel); it turns events into rows as they come and the
//! analyses' results into rows after the last event, into the [`collect::RowBatches`] of its
//! reading thread, which gathers the rows of every trace that thread reads and hands them on
//! in record batches to a [`collect::BatchSink`]. For `export` that sink is
//! [`write::TableWriters`]: one thread per table, fed through a bounded channel, writing row
//! groups as they fill; so memory is bounded by the batches in flight and one trace's state
//! per reading thread, whatever the number of traces. `compare` puts its metrics behind the
//! same sink, and [`read`] gives an export directory's batches back.

pub mod collect;
pub mod read;
pub mod table;
pub mod trace;
pub mod write;

use std::path::PathBuf;

/// What went wrong writing or reading an export directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A file could not be created, written, renamed or opened.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The Parquet writer or reader failed.
    #[error("{}: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// Why.
        source: parquet::errors::ParquetError,
    },
    /// Arrow (CSV writer or reader, batch assembly) failed.
    #[error("{}: {source}", path.display())]
    Arrow {
        /// The file.
        path: PathBuf,
        /// Why.
        source: arrow_schema::ArrowError,
    },
    /// A table does not have the columns of a wsktrace export.
    #[error("{}: not a wsktrace `{table}` table: {what}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// The table it should be.
        table: &'static str,
        /// What is missing or mistyped.
        what: String,
    },
}

/// Output format of the tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Apache Parquet, Snappy-compressed (`<table>.parquet`).
    #[default]
    Parquet,
    /// CSV with a header line (`<table>.csv`).
    Csv,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// The events of one complete registration `r`, for tests: `WskRegister`, one capture (its
/// timeout and calling context vary with `r`), a dispatch call through `function`, the
/// release, the deregistration.
#[cfg(test)]
pub(crate) fn registration_lifecycle(
    r: u32,
    function: &str,
) -> [wsktrace_driver::schema::WskEvent; 7] {
    use wsktrace_driver::ntstatus::NtStatus;
    use wsktrace_driver::schema::WskEvent;
    [
        WskEvent::WskRegister {
            registration_id: r,
            npi_version: 0x100,
            status: NtStatus::SUCCESS,
            duration_ns: 1_000,
        },
        WskEvent::CaptureProviderNpiStart {
            registration_id: r,
            capture_id: r,
            wait_timeout_ms: r % 3 * 100,
            calling_context: (r % 3) as u8,
        },
        WskEvent::CaptureProviderNpiStop {
            registration_id: r,
            capture_id: r,
            status: NtStatus::SUCCESS,
            wait_ns: u64::from(r),
        },
        WskEvent::DispatchCall {
            registration_id: r,
            capture_id: r,
            function: function.to_string(),
            status: NtStatus::SUCCESS,
            duration_ns: 10,
        },
        WskEvent::ReleaseProviderNpi {
            registration_id: r,
            capture_id: r,
            held_ns: 5,
            dispatch_calls: 1,
            implicit: r % 2 == 0,
        },
        WskEvent::WskDeregisterStart {
            registration_id: r,
            captures_outstanding: 0,
        },
        WskEvent::WskDeregisterStop {
            registration_id: r,
            wait_ns: 0,
        },
    ]
}
