//! Decoding the events TraceLogging does not describe: manifest events by the trace's own
//! metadata or a user's manifest, and the NT Kernel Logger's classic events by their
//! documented MOF classes — what Windows' TDH (Trace Data Helper) does, without Windows and
//! without anyone's manifest database.
//!
//! Every source becomes the same [`EventLayout`] (a flat property list with TDH in-types and
//! out-types, counts, lengths, structs and value maps), and one decoder turns a layout and a
//! payload into the values the TraceLogging decoder produces:
//!
//! | source | parser | keyed by |
//! |---|---|---|
//! | KernelTraceControl `MetaData` events (`TRACE_EVENT_INFO`, `EVENT_MAP_INFO`) | [`parse_event_info`], [`parse_map_info`] | provider, event id, version |
//! | an instrumentation manifest | [`parse_manifest`] | provider, event id, version |
//! | the documented MOF classes | [`mof`] (tables) | class GUID, event type, version |
//!
//! ```
//! use wsktrace_tools::tdh::{decode_exact, parse_manifest, EventKey, Layouts};
//! use wsktrace_tools::tracelogging::{Guid, PointerSize};
//! # fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let manifest = parse_manifest(r#"
//!   <instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events">
//!    <instrumentation><events>
//!     <provider name="Demo" guid="{6a8f7c2b-1d1e-4f0a-9c3e-2b4d5e6f7a8b}" symbol="DEMO">
//!      <events><event value="1" template="T"/></events>
//!      <templates><template tid="T">
//!        <data name="Size" inType="win:UInt16"/>
//!        <data name="Bytes" inType="win:Binary" length="Size"/>
//!      </template></templates>
//!     </provider>
//!   </events></instrumentation></instrumentationManifest>"#)?;
//! let mut layouts = Layouts::new();
//! layouts.add_manifest(&manifest);
//! let key = EventKey::new(manifest.providers[0].guid, 1, 0);
//! let layout = layouts.get(&key).expect("described");
//! let fields = decode_exact(layout, &[2, 0, 0xAB, 0xCD], PointerSize::Eight)?;
//! assert_eq!(serde_json::to_string(&wsktrace_tools::tracelogging::FieldsJson(&fields))?,
//!            r#"{"Size":2,"Bytes":"0xabcd"}"#);
//! # Ok(()) }
//! # f().unwrap();
//! ```
//!
//! A layout that does not fit its payload (too short, a count beyond the data, bytes left
//! over) is a [`DecodeError`] with the payload offset; bad metadata or manifests are
//! [`LayoutError`]s. Neither panics, and counts are checked against the bytes left before
//! anything is allocated.

mod corrections;
mod decode;
mod error;
mod event_info;
mod layout;
mod manifest;
pub mod mof;
mod registry;
mod types;

#[cfg(test)]
mod tests;

pub use decode::{decode, decode_exact, Decoded};
pub use error::{DecodeError, DecodeErrorKind, LayoutError, MAX_DEPTH};
pub use event_info::{
    encode_event_info, encode_map_info, parse_event_info, parse_map_info, EventInfo,
    METADATA_EVENT_INFO, METADATA_MAP_INFO,
};
pub use layout::{
    event_name, Count, EventLayout, Length, Property, PropertyKind, Source, ValueMap,
};
pub use manifest::{parse_manifest, Manifest, ManifestEvent, ManifestProvider, MANIFEST_NAMESPACE};
pub use registry::{EventKey, Layouts};
pub use types::{TdhInType, TdhOutType};
