//! The one error type of the TraceLogging layer.

use super::types::InType;

/// Maximum struct nesting depth accepted in metadata (structs inside structs).
pub const MAX_DEPTH: usize = 32;

/// Maximum number of values (scalars, array elements, struct members) one event may
/// decode to: `min(MAX_VALUES, VALUES_BASE + VALUES_PER_BYTE * payload length)`. Bounds the
/// work and memory (at most about 15 MiB) that arrays of empty structs could demand, in
/// proportion to the input. Real values take at least a byte each (an ETW event is at most
/// 64 KiB), except empty structs and empty arrays, so real events stay far below.
pub const MAX_VALUES: usize = 1 << 18;

/// Values allowed regardless of the payload length (see [`MAX_VALUES`]).
pub const VALUES_BASE: usize = 4096;

/// Values allowed per payload byte (see [`MAX_VALUES`]): a byte can hold a `U8` inside 32
/// nested structs of one member.
pub const VALUES_PER_BYTE: usize = 64;

/// What went wrong, and where. Offsets are byte offsets within the metadata item (for
/// `Metadata*`/`Traits*` variants) or within the event's user data (for `Payload*`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The metadata item ended before a structure that must be there.
    #[error("event metadata truncated at offset {offset}: expected {what}")]
    MetadataTruncated {
        /// Where the missing item would start.
        offset: usize,
        /// What was expected.
        what: &'static str,
    },
    /// The metadata's own `u16` size is larger than the item or smaller than its header.
    #[error("event metadata size {declared} does not fit the {available}-byte item")]
    MetadataSize {
        /// The size field (offset 0).
        declared: u16,
        /// Bytes in the item.
        available: usize,
    },
    /// A name (event or field) has no NUL terminator inside the metadata.
    #[error("unterminated name at metadata offset {offset}")]
    UnterminatedName {
        /// Where the name starts.
        offset: usize,
    },
    /// A name is not valid UTF-8.
    #[error("name at metadata offset {offset} is not valid UTF-8")]
    InvalidName {
        /// Where the name starts.
        offset: usize,
    },
    /// A tag chain is longer than the 4 bytes a 28-bit tag needs.
    #[error("tag chain at metadata offset {offset} is longer than 4 bytes")]
    TagChainTooLong {
        /// Where the chain starts.
        offset: usize,
    },
    /// The in-type is not one this decoder knows (0, 26..=31).
    #[error("unknown in-type {in_type:?} at metadata offset {offset}")]
    UnknownInType {
        /// Offset of the in-type byte.
        offset: usize,
        /// The type (low 5 bits).
        in_type: InType,
    },
    /// Structs nested deeper than [`MAX_DEPTH`].
    #[error("struct at metadata offset {offset} nested deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// Offset of the struct field's name.
        offset: usize,
    },
    /// A struct declares more member fields than the metadata holds.
    #[error("struct at metadata offset {offset} declares {declared} members, {found} follow")]
    MissingStructMembers {
        /// Offset of the struct field's name.
        offset: usize,
        /// Members declared (out-type slot).
        declared: u8,
        /// Members present.
        found: usize,
    },
    /// The payload ended inside a value.
    #[error("payload truncated at offset {offset}: {needed} bytes needed, {available} left")]
    PayloadTruncated {
        /// Where the value starts.
        offset: usize,
        /// Bytes the value needs (at least).
        needed: usize,
        /// Bytes left in the payload.
        available: usize,
    },
    /// A NUL-terminated string has no terminator inside the payload.
    #[error("unterminated string at payload offset {offset}")]
    UnterminatedString {
        /// Where the string starts.
        offset: usize,
    },
    /// An array count asks for more elements than the remaining payload can hold.
    #[error("array count {count} at payload offset {offset} exceeds the {available} bytes left")]
    CountTooLarge {
        /// Where the count is (payload), or the array's element data starts (const count).
        offset: usize,
        /// The count.
        count: u16,
        /// Bytes left.
        available: usize,
    },
    /// The event would decode to more values than its payload length allows (see
    /// [`MAX_VALUES`]).
    #[error("event decodes to too many values for its payload size (payload offset {offset})")]
    TooManyValues {
        /// Payload offset when the limit was reached.
        offset: usize,
    },
    /// A SID's sub-authority count asks for more bytes than remain.
    #[error("SID at payload offset {offset} is truncated")]
    BadSid {
        /// Where the SID starts.
        offset: usize,
    },
    /// Provider traits blob is malformed.
    #[error("provider traits malformed at offset {offset}: {what}")]
    Traits {
        /// Offset within the traits item.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// Encoding: a value does not fit the field's type (path names the field).
    #[error("value for field {field:?} does not match its type {in_type:?}")]
    ValueMismatch {
        /// Dotted path of the field (`Outer.Inner[2]`).
        field: String,
        /// The field's in-type.
        in_type: InType,
    },
    /// Encoding: the number of values differs from the number of fields.
    #[error("{what:?} has {fields} fields but {values} values were given")]
    ValueCount {
        /// Event or struct field name.
        what: String,
        /// Fields in the schema.
        fields: usize,
        /// Values given.
        values: usize,
    },
    /// Encoding: the schema cannot be expressed (name with NUL, tag over 28 bits, more
    /// than 127 struct members, metadata over 65535 bytes, value over 65535 bytes ...).
    #[error("cannot encode {what}: {why}")]
    Unencodable {
        /// Which item.
        what: String,
        /// Why not.
        why: &'static str,
    },
}

/// Result alias of this module.
pub type Result<T, E = Error> = core::result::Result<T, E>;
