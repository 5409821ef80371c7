//! ETL file reading and writing.

pub mod error;
pub mod format;
mod frame;
mod guid;
pub mod header;
pub mod merge;
pub mod names;
pub mod reader;
pub mod record;
pub mod slice;
#[cfg(test)]
mod tests;
pub mod write;
pub mod xpress;

pub use error::{Error, IoError, Result};
pub use guid::Guid;
pub use header::{Clock, ClockType, LogfileInfo};
pub use reader::{Buffer, EtlReader, ReadStats};
pub use record::{
    ClassicRecord, EventRecord, ExtendedData, ExtendedItem, MessageRecord, Record, SystemRecord,
};
pub use slice::{RawBuffer, SliceReader};
