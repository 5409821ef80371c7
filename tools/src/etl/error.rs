//! Errors of the ETL reader. Every variant carries the byte offset it is about.
//!
//! Offsets are file offsets, except inside a compressed buffer, where a record's offset is the
//! buffer's file offset plus the record's position in the *decompressed* buffer (there is no
//! file byte to point at). The command line prints errors as `wsktrace: <path>: <error>`.

use super::xpress::XpressError;

/// Result of the ETL reader.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What went wrong reading an ETL file.
///
/// A buffer-level error loses that buffer only: the reader goes on with the next one. A
/// record-level error loses the rest of its buffer, except [`Error::UnknownRecordKind`], which
/// skips one record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system failed to read the file.
    #[error("read error at byte offset {offset:#x}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    /// The file ends inside a buffer header.
    #[error(
        "file ends inside the buffer header at byte offset {offset:#x} ({available} bytes left)"
    )]
    TruncatedBufferHeader { offset: u64, available: u64 },
    /// A buffer claims more bytes than the file has left.
    #[error("buffer at byte offset {offset:#x} claims {size} bytes but only {available} remain")]
    TruncatedBuffer {
        offset: u64,
        size: u32,
        available: u64,
    },
    /// A buffer's size field is impossible (smaller than its header or above the 16 MiB cap).
    #[error("buffer at byte offset {offset:#x} has an invalid size {size:#x}")]
    BadBufferSize { offset: u64, size: u32 },
    /// A buffer header is all zero before the end of the written buffers.
    #[error("buffer at byte offset {offset:#x} is zero-filled")]
    ZeroBuffer { offset: u64 },
    /// A buffer's filled length (`Offset` field) is smaller than its header or past its end.
    #[error("buffer at byte offset {offset:#x}: filled length {filled:#x} is outside the buffer (size {size:#x})")]
    BadFilledLength { offset: u64, filled: u32, size: u32 },
    /// A compressed buffer could not be decompressed.
    #[error("buffer at byte offset {offset:#x}: decompression failed: {reason}")]
    Decompress { offset: u64, reason: XpressError },
    /// A compressed buffer decompressed to a different length than its header says.
    #[error(
        "buffer at byte offset {offset:#x}: decompressed to {actual} bytes, header says {expected}"
    )]
    DecompressedSize {
        offset: u64,
        expected: u64,
        actual: u64,
    },
    /// The first buffer does not start with a usable logfile header event.
    #[error("bad logfile header at byte offset {offset:#x}: {reason}")]
    BadLogfileHeader { offset: u64, reason: &'static str },
    /// A record's size runs past the filled part of its buffer.
    #[error("record at byte offset {offset:#x}: size {size} exceeds the {available} bytes left in its buffer")]
    TruncatedRecord {
        offset: u64,
        size: u32,
        available: u32,
    },
    /// A record's size is smaller than its own header.
    #[error(
        "record at byte offset {offset:#x}: size {size} is smaller than its {header}-byte header"
    )]
    RecordTooSmall { offset: u64, size: u32, header: u32 },
    /// A record of a kind this reader does not know; it was skipped.
    #[error(
        "record at byte offset {offset:#x}: unknown header kind (prefix {prefix:#010x}), skipped"
    )]
    UnknownRecordKind { offset: u64, prefix: u32 },
    /// An `EVENT_HEADER` extended data item is malformed.
    #[error("extended data item at byte offset {offset:#x}: {reason}")]
    BadExtendedItem { offset: u64, reason: &'static str },
}

impl Error {
    /// The byte offset the error is about.
    pub fn offset(&self) -> u64 {
        match self {
            Error::Io { offset, .. }
            | Error::TruncatedBufferHeader { offset, .. }
            | Error::TruncatedBuffer { offset, .. }
            | Error::BadBufferSize { offset, .. }
            | Error::ZeroBuffer { offset }
            | Error::BadFilledLength { offset, .. }
            | Error::Decompress { offset, .. }
            | Error::DecompressedSize { offset, .. }
            | Error::BadLogfileHeader { offset, .. }
            | Error::TruncatedRecord { offset, .. }
            | Error::RecordTooSmall { offset, .. }
            | Error::UnknownRecordKind { offset, .. }
            | Error::BadExtendedItem { offset, .. } => *offset,
        }
    }
}
