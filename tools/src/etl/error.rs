//! Errors of the ETL reader. Every variant carries the byte offset it is about
//! ([`Error::offset`]); the message ([`Display`](core::fmt::Display)) does not repeat it, so a
//! renderer can place the offset where its format wants it (text: `offset 0x…: message`,
//! JSON and SARIF: a field of its own).
//!
//! Offsets are file offsets, except inside a compressed buffer, where a record's offset is the
//! buffer's file offset plus the record's position in the *decompressed* buffer (there is no
//! file byte to point at).

use std::sync::Arc;

use super::xpress::XpressError;

/// An I/O error that can be cloned and compared (by kind and OS error code), so that errors
/// holding one stay plain data.
#[derive(Clone, Debug)]
pub struct IoError(Arc<std::io::Error>);

impl IoError {
    /// The underlying error.
    pub fn get(&self) -> &std::io::Error {
        &self.0
    }

    /// Its kind.
    pub fn kind(&self) -> std::io::ErrorKind {
        self.0.kind()
    }
}

impl From<std::io::Error> for IoError {
    fn from(e: std::io::Error) -> Self {
        IoError(Arc::new(e))
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.0.raw_os_error() == other.0.raw_os_error()
    }
}

impl Eq for IoError {}

impl core::fmt::Display for IoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Result of the ETL reader.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What went wrong reading an ETL file.
///
/// A buffer-level error loses that buffer only: the reader goes on with the next one. A
/// record-level error loses the rest of its buffer, except [`Error::UnknownRecordKind`], which
/// skips one record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system failed to read the file.
    #[error("read error: {source}")]
    Io {
        /// Where the failed read started.
        offset: u64,
        /// What the operating system said.
        #[source]
        source: IoError,
    },
    /// The file ends inside a buffer header.
    #[error("file ends inside a buffer header ({available} bytes left)")]
    TruncatedBufferHeader {
        /// Where the header starts.
        offset: u64,
        /// Bytes the file has from there.
        available: u64,
    },
    /// A buffer claims more bytes than the file has left.
    #[error("buffer claims {size} bytes but only {available} remain")]
    TruncatedBuffer {
        /// Where the buffer starts.
        offset: u64,
        /// Its size field.
        size: u32,
        /// Bytes the file has from there.
        available: u64,
    },
    /// A buffer's size field is impossible (smaller than its header or above the 16 MiB cap).
    #[error("buffer has an invalid size {size:#x}")]
    BadBufferSize {
        /// Where the buffer starts.
        offset: u64,
        /// Its size field.
        size: u32,
    },
    /// A buffer header is all zero before the end of the written buffers.
    #[error("buffer is zero-filled")]
    ZeroBuffer {
        /// Where the buffer starts.
        offset: u64,
    },
    /// A buffer's filled length (`Offset` field) is smaller than its header or past its end.
    #[error("buffer's filled length {filled:#x} is outside the buffer (size {size:#x})")]
    BadFilledLength {
        /// Where the buffer starts.
        offset: u64,
        /// Its filled-length field.
        filled: u32,
        /// Its size field.
        size: u32,
    },
    /// A compressed buffer could not be decompressed.
    #[error("buffer decompression failed: {reason}")]
    Decompress {
        /// Where the buffer starts.
        offset: u64,
        /// What the decompressor found.
        reason: XpressError,
    },
    /// A compressed buffer decompressed to a different length than its header says.
    #[error("buffer decompressed to {actual} bytes, its header says {expected}")]
    DecompressedSize {
        /// Where the buffer starts.
        offset: u64,
        /// Bytes after the header, from the header's filled length.
        expected: u64,
        /// Bytes the decompressor produced.
        actual: u64,
    },
    /// The first buffer does not start with a usable logfile header event.
    #[error("bad logfile header: {reason}")]
    BadLogfileHeader {
        /// Where the header event is (or should be).
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A record's size runs past the filled part of its buffer.
    #[error("record size {size} exceeds the {available} bytes left in its buffer")]
    TruncatedRecord {
        /// Where the record starts.
        offset: u64,
        /// Its size field.
        size: u32,
        /// Bytes left in the buffer from there.
        available: u32,
    },
    /// A record's size is smaller than its own header.
    #[error("record size {size} is smaller than its {header}-byte header")]
    RecordTooSmall {
        /// Where the record starts.
        offset: u64,
        /// Its size field.
        size: u32,
        /// The size of its header kind.
        header: u32,
    },
    /// A record of a kind this reader does not know; it was skipped.
    #[error("record of unknown header kind (prefix {prefix:#010x}), skipped")]
    UnknownRecordKind {
        /// Where the record starts.
        offset: u64,
        /// Its first four bytes, little-endian.
        prefix: u32,
    },
    /// An `EVENT_HEADER` extended data item is malformed.
    #[error("extended data item: {reason}")]
    BadExtendedItem {
        /// Where the item starts.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
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

    /// A short kebab-case name of the kind of error, stable across releases (JUnit `type`,
    /// JSON `kind`).
    pub fn id(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::TruncatedBufferHeader { .. } => "truncated-buffer-header",
            Error::TruncatedBuffer { .. } => "truncated-buffer",
            Error::BadBufferSize { .. } => "bad-buffer-size",
            Error::ZeroBuffer { .. } => "zero-buffer",
            Error::BadFilledLength { .. } => "bad-filled-length",
            Error::Decompress { .. } => "decompress",
            Error::DecompressedSize { .. } => "decompressed-size",
            Error::BadLogfileHeader { .. } => "bad-logfile-header",
            Error::TruncatedRecord { .. } => "truncated-record",
            Error::RecordTooSmall { .. } => "record-too-small",
            Error::UnknownRecordKind { .. } => "unknown-record-kind",
            Error::BadExtendedItem { .. } => "bad-extended-item",
        }
    }
}
