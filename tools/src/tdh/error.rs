//! The errors of the decoding layer: a layout that cannot be used ([`LayoutError`]) and a
//! payload that does not fit its layout ([`DecodeError`]).

use std::fmt;

use super::types::TdhInType;

/// Deepest struct nesting a layout may have (structs inside structs), as for TraceLogging.
pub const MAX_DEPTH: usize = crate::tracelogging::MAX_DEPTH;

/// Why a layout could not be built: malformed `TRACE_EVENT_INFO` or `EVENT_MAP_INFO` bytes
/// (offsets within that payload), a manifest that is not one (line and column), or a
/// property list that contradicts itself (property index).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The bytes end before a structure that must be there.
    #[error("event information truncated at offset {offset}: expected {what}")]
    Truncated {
        /// Where the missing structure would start.
        offset: usize,
        /// What was expected.
        what: &'static str,
    },
    /// A string offset points outside the bytes (or into the fixed part).
    #[error(
        "{what} offset {value:#x} (at byte {offset}) is outside the {len}-byte event information"
    )]
    BadOffset {
        /// Where the offset field is.
        offset: usize,
        /// Its value.
        value: u32,
        /// Bytes given.
        len: usize,
        /// Which string.
        what: &'static str,
    },
    /// A UTF-16 string has no terminating NUL inside the bytes.
    #[error("string at offset {offset} has no terminating NUL")]
    UnterminatedString {
        /// Where the string starts.
        offset: usize,
    },
    /// More properties or map entries are declared than the bytes can hold.
    #[error("{count} {what} declared at offset {offset} do not fit the {len} bytes given")]
    TooMany {
        /// Where the count is.
        offset: usize,
        /// The count.
        count: u32,
        /// Bytes given.
        len: usize,
        /// What is counted.
        what: &'static str,
    },
    /// The event information describes a kind of event this decoder does not read.
    #[error("decoding source {0} (WPP or unknown) is not supported")]
    DecodingSource(u32),
    /// A property contradicts the rest of the layout.
    #[error("property {index} ({name:?}): {why}")]
    Property {
        /// Index in the flat property list.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Structs nest deeper than [`MAX_DEPTH`].
    #[error("structs nested deeper than {MAX_DEPTH} levels at property {index}")]
    TooDeep {
        /// The struct that goes too deep.
        index: usize,
    },
    /// A manifest that is not well-formed XML or not an instrumentation manifest.
    #[error("manifest line {line}, column {column}: {message}")]
    Manifest {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
}

/// A payload that does not fit its layout: where, in which property, and how. The raw
/// payload stays with the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset within the payload (user data).
    pub offset: usize,
    /// The property being decoded, `None` for the event as a whole.
    pub property: Option<String>,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// What went wrong in a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The payload ends inside a value.
    Truncated {
        /// Bytes the value needs (at least).
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A NUL-terminated string has no terminator inside the payload.
    UnterminatedString,
    /// An array count asks for more elements than the remaining bytes can hold.
    CountTooLarge {
        /// The count.
        count: u64,
        /// Bytes left.
        available: usize,
    },
    /// A count or length refers to a property that was not decoded before this one.
    ReferenceNotDecoded {
        /// The property the count or length is read from.
        reference: String,
    },
    /// A SID's sub-authority count asks for more bytes than remain.
    BadSid,
    /// The in-type is not one the decoder knows.
    UnknownInType(TdhInType),
    /// The event would decode to more values than its size allows (the same bound as
    /// TraceLogging decoding: [`crate::tracelogging::MAX_VALUES`]).
    TooManyValues,
    /// Bytes are left after the last property.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "payload offset {}", self.offset)?;
        if let Some(p) = &self.property {
            write!(f, " (property {p:?})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Truncated { needed, available } => {
                write!(f, "truncated: {needed} bytes needed, {available} left")
            }
            DecodeErrorKind::UnterminatedString => f.write_str("string has no terminating NUL"),
            DecodeErrorKind::CountTooLarge { count, available } => {
                write!(f, "count {count} exceeds the {available} bytes left")
            }
            DecodeErrorKind::ReferenceNotDecoded { reference } => {
                write!(
                    f,
                    "count or length property {reference:?} not decoded before"
                )
            }
            DecodeErrorKind::BadSid => f.write_str("SID truncated"),
            DecodeErrorKind::UnknownInType(t) => write!(f, "unknown in-type {t:?}"),
            DecodeErrorKind::TooManyValues => f.write_str("too many values for the payload size"),
            DecodeErrorKind::TrailingBytes { count } => {
                write!(f, "{count} bytes left after the last property")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
