//! wsktrace tools: read ETL files on any OS, decode TraceLogging, analyse WSK lifecycles.
//!
//! Layers, bottom up: [`etl`] (file, buffers, records) → [`tracelogging`] (self-describing
//! events) → [`pipeline`] (any byte source in, timestamp-ordered decoded events out) →
//! [`analysis`] (balance, latency, boot impact: sinks over decoded events, no I/O) →
//! [`analyse`] (the selected analyses over one trace) → [`report`] (renderers) and
//! [`export`] (Parquet/CSV tables), [`compare`] (two fleets' figures and gates). The
//! `wsktrace` command line is the binary crate over these (arguments, file walking, exit
//! codes).

#![warn(missing_docs)]

pub mod analyse;
pub mod analysis;
pub mod compare;
pub mod etl;
pub mod etw_tap;
pub mod export;
pub mod kernel_pnp;
pub mod payload;
pub mod pipeline;
pub mod report;
pub mod scenario;
pub mod tdh;
pub mod tracelogging;
pub mod wsk_etl;

#[cfg(test)]
#[path = "../tests/support/corpus.rs"]
mod corpus;
#[cfg(test)]
mod test_rng;
