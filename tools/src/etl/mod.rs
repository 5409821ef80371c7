//! ETL file reading and writing.

pub mod format;
pub mod write;
