//! TraceLogging metadata, decoding and encoding, on byte slices (no file I/O).
//!
//! A TraceLogging event in an ETL file is an `EVENT_HEADER` record whose extended data
//! holds the event's metadata (item type 11, `EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL`) and
//! its provider's traits (item type 12, `EVENT_HEADER_EXT_TYPE_PROV_TRAITS`: provider
//! name and group GUID). The metadata names the event and describes each field; the user
//! data holds the field values in that order.
//!
//! Reading:
//!
//! ```
//! use wsktrace_tools::tracelogging::{decode, PointerSize, ProviderTraits, SchemaCache};
//! # fn f(item11: &[u8], item12: &[u8], user_data: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let mut cache = SchemaCache::new(); // one per reader; each distinct schema parsed once
//! let provider = ProviderTraits::parse(item12)?;
//! let schema = cache.get(item11).map_err(Clone::clone)?;
//! let event = decode(schema, user_data, PointerSize::Eight)?;
//! println!("{} {} {}", provider.name, event.name, serde_json::to_string(&event.fields_json())?);
//! # Ok(()) }
//! ```
//!
//! Writing (for the ETL writer): build a [`Schema`], take [`Schema::to_bytes`] as item 11,
//! [`provider_traits_bytes`] as item 12, and [`encode_payload`] for the user data:
//!
//! ```
//! use wsktrace_tools::tracelogging::*;
//! # fn f() -> Result<(), Error> {
//! let schema = Schema::new("CaptureProviderNpi")
//!     .field(FieldSchema::new("RegistrationId", InType::U32, OutType::Default))
//!     .field(FieldSchema::new("Status", InType::U32, OutType::NtStatus));
//! let item11 = schema.to_bytes()?;
//! let item12 = provider_traits_bytes("Wsktrace.WskClient", None)?;
//! let mut user_data = Vec::new();
//! encode_payload(&schema, &[Value::U64(1), Value::NtStatus(0xC000_00A3)], PointerSize::Eight, &mut user_data)?;
//! assert_eq!(user_data, [1, 0, 0, 0, 0xA3, 0, 0, 0xC0]);
//! let event = decode(&schema, &user_data, PointerSize::Eight)?;
//! assert_eq!(event.field("Status"), Some(&Value::NtStatus(0xC000_00A3)));
//! # let _ = (item11, item12); Ok(()) }
//! # f().unwrap();
//! ```
//!
//! Errors carry byte offsets within the metadata item or the payload; bad input never
//! panics, and every count is checked against the bytes left before allocating.

pub(crate) mod cache;
mod decode;
mod encode;
mod error;
mod lengths;
mod schema;
mod traits;
mod types;
mod value;

#[cfg(test)]
mod tests;

pub use crate::etl::Guid;
pub use cache::SchemaCache;
/// The string readers the manifest and MOF decoder ([`crate::tdh`]) shares.
pub(crate) use decode::{binary_value, find_nul16, find_nul8, str8, utf16_lossy, value_budget};
pub use decode::{cp1252_byte, cp1252_char, decode, validate};
pub use encode::encode_payload;
pub use error::{Error, Result, MAX_DEPTH, MAX_VALUES, VALUES_BASE, VALUES_PER_BYTE};
pub use lengths::LengthCheck;
pub use schema::{FieldSchema, Schema, Shape};
pub use traits::{provider_traits_bytes, ProviderTrait, ProviderTraits, TRAIT_TYPE_GROUP};
pub use types::{InType, OutType, PointerSize};
pub use value::{
    filetime_string, hex_bytes, sid_string, sockaddr_string, systemtime_string, DecodedEvent,
    Field, FieldsJson, Value,
};

/// `EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL`: the extended data item type of event metadata.
pub const EXT_TYPE_EVENT_SCHEMA_TL: u16 = 11;
/// `EVENT_HEADER_EXT_TYPE_PROV_TRAITS`: the extended data item type of provider traits.
pub const EXT_TYPE_PROV_TRAITS: u16 = 12;
