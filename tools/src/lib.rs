//! wsktrace tools: read ETL files on any OS, decode TraceLogging, analyse WSK lifecycles.
//!
//! Layers, bottom up: [`etl`] (file, buffers, records) → [`tracelogging`] (self-describing
//! events) → `analysis` (balance, latency, boot impact) → `report` (renderers).

pub mod analysis;
pub mod cli;
pub mod corpus;
pub mod etl;
pub mod kernel_pnp;
pub mod payload;
pub mod report;
pub mod scenario;
pub mod tdh;
pub mod tracelogging;
pub mod wsk_etl;
