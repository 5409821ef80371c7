//! ETL file reading and writing.

pub mod format;
