//! ETL file reading and writing.
