//! The one error type of the pipeline: what went wrong, at which byte offset, in which buffer.
//!
//! [`TraceError`] stays typed until a renderer prints it: text as `path: offset 0x…: message`
//! ([`TraceError`]'s `Display`), JSON with `kind`, `offset`, `buffer` and `message` fields
//! (its `Serialize`), SARIF with a byte-offset region, JUnit with the [`TraceError::id`] as the
//! error's type.

use core::fmt;

use serde::ser::SerializeStruct;
use wsktrace_driver::schema::{self, DecodeError};

use crate::etl::{self, IoError};
use crate::tracelogging;

/// An error met while reading a trace (or finding the traces to read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    kind: ErrorKind,
    buffer: Option<u64>,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A path could not be opened (or a directory walked).
    Open(IoError),
    /// A directory given to be read holds no `*.etl` file.
    NoTraceFiles,
    /// The input does not start with an ETW buffer holding a logfile header.
    NotEtl {
        /// What the first bytes look like.
        start: FileStart,
        /// What the ETL reader found there.
        cause: etl::Error,
    },
    /// The ETL reader met a bad buffer or record (that buffer, or the rest of it, is lost; the
    /// file goes on).
    Etl(etl::Error),
    /// An event of the `Wsktrace.WskClient` provider could not be decoded (it counts as a lost
    /// event for the verdicts).
    Event {
        /// Byte offset of the event's record.
        offset: u64,
        /// Why it could not be decoded.
        failure: DecodeFailure,
    },
}

/// What the first bytes of an input that is not an ETL file look like (the "why" of
/// [`ErrorKind::NotEtl`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStart {
    /// The input is empty.
    Empty,
    /// Printable text (a text file named `.etl`, say): its first characters.
    Text(String),
    /// Binary data that is not a valid first buffer.
    Binary,
}

/// Characters of a text start quoted in a [`FileStart::Text`].
const TEXT_QUOTE: usize = 24;

impl FileStart {
    /// Classifies the first bytes of an input.
    pub fn of(first: &[u8]) -> FileStart {
        if first.is_empty() {
            return FileStart::Empty;
        }
        // A UTF-8 sequence may be cut at the end of `first`: judge the valid prefix.
        let valid = match std::str::from_utf8(first) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&first[..e.valid_up_to()]).unwrap_or(""),
        };
        let texty = valid.len() + 4 > first.len()
            && !valid.is_empty()
            && valid
                .chars()
                .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
        if texty {
            FileStart::Text(valid.chars().take(TEXT_QUOTE).collect())
        } else {
            FileStart::Binary
        }
    }
}

/// Why an event of our provider could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeFailure {
    /// The event has no TraceLogging metadata (extended item 11).
    NoMetadata,
    /// The TraceLogging metadata or payload is malformed.
    TraceLogging(tracelogging::Error),
    /// The decoded event does not match the schema (unknown event, missing field, wrong type).
    Schema(DecodeError),
}

impl fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeFailure::NoMetadata => f.write_str("no TraceLogging metadata (extended item 11)"),
            DecodeFailure::TraceLogging(e) => e.fmt(f),
            DecodeFailure::Schema(e) => e.fmt(f),
        }
    }
}

impl fmt::Display for ErrorKind {
    /// The message, without the offset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Open(e) => write!(f, "cannot read: {e}"),
            ErrorKind::NoTraceFiles => f.write_str("no *.etl file in this directory"),
            ErrorKind::NotEtl { start, cause } => match start {
                FileStart::Empty => f.write_str("not an ETL file: it is empty"),
                FileStart::Text(t) => {
                    let more = if t.chars().count() >= TEXT_QUOTE {
                        "…"
                    } else {
                        ""
                    };
                    write!(
                        f,
                        "not an ETL file: it is text ({t:?}{more}), not ETW buffers (read as \
                         one, {cause})"
                    )
                }
                FileStart::Binary => write!(f, "not an ETL file: {cause}"),
            },
            ErrorKind::Etl(e) => e.fmt(f),
            ErrorKind::Event { failure, .. } => write!(
                f,
                "event of {} not decodable: {failure}",
                schema::PROVIDER_NAME
            ),
        }
    }
}

impl TraceError {
    /// An error of `kind`, in buffer `buffer` (its [`etl::Buffer::index`]) when it has one.
    pub fn new(kind: ErrorKind, buffer: Option<u64>) -> TraceError {
        TraceError { kind, buffer }
    }

    /// An ETL reader error about buffer `buffer`.
    pub fn etl(e: etl::Error, buffer: Option<u64>) -> TraceError {
        TraceError::new(ErrorKind::Etl(e), buffer)
    }

    /// A path that could not be opened.
    pub fn open(e: std::io::Error) -> TraceError {
        TraceError::new(ErrorKind::Open(e.into()), None)
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The byte offset the error is about (see [`etl::Error`] for offsets inside compressed
    /// buffers); `None` for errors about a path rather than its bytes.
    pub fn offset(&self) -> Option<u64> {
        match &self.kind {
            ErrorKind::Open(_) | ErrorKind::NoTraceFiles => None,
            ErrorKind::NotEtl { cause, .. } => Some(cause.offset()),
            ErrorKind::Etl(e) => Some(e.offset()),
            ErrorKind::Event { offset, .. } => Some(*offset),
        }
    }

    /// Index of the buffer the error is in or about (0 = the file's first buffer), when known.
    pub fn buffer(&self) -> Option<u64> {
        self.buffer
    }

    /// A short kebab-case name of the kind of error, stable across releases: `open`,
    /// `no-trace-files`, `not-etl`, `undecodable-event`, or the ETL reader's
    /// [`etl::Error::id`].
    pub fn id(&self) -> &'static str {
        match &self.kind {
            ErrorKind::Open(_) => "open",
            ErrorKind::NoTraceFiles => "no-trace-files",
            ErrorKind::NotEtl { .. } => "not-etl",
            ErrorKind::Etl(e) => e.id(),
            ErrorKind::Event { .. } => "undecodable-event",
        }
    }

    /// True when the error stopped the whole input from being read (nothing of it was
    /// analysed), rather than losing part of it.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Open(_) | ErrorKind::NoTraceFiles | ErrorKind::NotEtl { .. }
        )
    }
}

impl fmt::Display for TraceError {
    /// `offset 0x…: message`, or the message alone for errors without an offset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset() {
            Some(offset) => write!(f, "offset {offset:#x}: {}", self.kind),
            None => self.kind.fmt(f),
        }
    }
}

impl std::error::Error for TraceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Open(e) => Some(e),
            ErrorKind::NotEtl { cause: e, .. } | ErrorKind::Etl(e) => Some(e),
            ErrorKind::Event {
                failure: DecodeFailure::TraceLogging(e),
                ..
            } => Some(e),
            _ => None,
        }
    }
}

impl serde::Serialize for TraceError {
    /// `{"kind": id, "offset": N|null, "buffer": N|null, "message": text without the offset}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TraceError", 4)?;
        st.serialize_field("kind", self.id())?;
        st.serialize_field("offset", &self.offset())?;
        st.serialize_field("buffer", &self.buffer)?;
        st.serialize_field("message", &self.kind.to_string())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_starts() {
        assert_eq!(FileStart::of(b""), FileStart::Empty);
        assert_eq!(
            FileStart::of(b"# wsktrace notes\nline two and more text here"),
            FileStart::Text("# wsktrace notes\nline tw".into())
        );
        // A multi-byte character cut at the end is still text.
        assert_eq!(
            FileStart::of("Grüße".as_bytes().split_at(3).0),
            FileStart::Text("Gr".into())
        );
        assert_eq!(FileStart::of(&[0xff, 0xff, 0, 0, 0x01]), FileStart::Binary);
        assert_eq!(FileStart::of(b"\x00\x00\x01\x00text"), FileStart::Binary);
    }

    #[test]
    fn display_and_json_carry_the_offset_apart() {
        let e = TraceError::etl(
            etl::Error::BadBufferSize {
                offset: 0x4000,
                size: 3,
            },
            Some(2),
        );
        assert_eq!(
            e.to_string(),
            "offset 0x4000: buffer has an invalid size 0x3"
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "bad-buffer-size", "offset": 16384, "buffer": 2,
                               "message": "buffer has an invalid size 0x3"})
        );
        let text = TraceError::new(
            ErrorKind::NotEtl {
                start: FileStart::of(b"# notes"),
                cause: etl::Error::BadBufferSize {
                    offset: 0,
                    size: 0x6f6e2023,
                },
            },
            Some(0),
        );
        assert_eq!(
            text.to_string(),
            "offset 0x0: not an ETL file: it is text (\"# notes\"), not ETW buffers (read as one, \
             buffer has an invalid size 0x6f6e2023)"
        );
        assert!(text.is_fatal());
        let missing = TraceError::open(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(missing.offset(), None);
        assert_eq!(missing.id(), "open");
    }
}
