//! Any record's payload decoded by whatever describes it, in this order: the event's own
//! TraceLogging metadata ([`crate::tracelogging`]); else the trace's KernelTraceControl
//! `MetaData` events, the user's manifests, the documented MOF classes of the NT Kernel
//! Logger, and the built-in Kernel-PnP manifest ([`crate::tdh`]).
//!
//! ```
//! use wsktrace_tools::payload::{Payload, PayloadDecoder};
//! # fn f(records: &[wsktrace_tools::etl::Record<'_>]) {
//! let mut decoder = PayloadDecoder::new(wsktrace_tools::tdh::Layouts::new());
//! for rec in records {
//!     match decoder.decode(rec) {
//!         Payload::Decoded { by, fields, .. } => println!("{} {} fields", by.as_str(), fields.len()),
//!         Payload::Failed { error, .. } => println!("does not fit: {error}"),
//!         Payload::Undescribed => println!("{} raw bytes", rec.payload().len()),
//!     }
//! }
//! # }
//! ```

mod memo;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use memo::LengthMemo;

use crate::etl::format::EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL;
use crate::etl::names::{hook_guid, KTC_METADATA};
use crate::etl::record::EventPeek;
use crate::etl::{EventRecord, Record};
use crate::kernel_pnp;
use crate::tdh::{self, EventKey, Layouts, Source};
use crate::tracelogging::{self, Field, PointerSize, SchemaCache};

/// What described a decoded payload (`decoded_by` in `dump`'s output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodedBy {
    /// The event's own TraceLogging metadata.
    TraceLogging,
    /// The trace's KernelTraceControl `MetaData` events.
    Metadata,
    /// A manifest (the user's, or the built-in Kernel-PnP one).
    Manifest,
    /// A documented MOF class.
    Mof,
}

impl DecodedBy {
    /// `"tracelogging"`, `"metadata"`, `"manifest"` or `"mof"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodedBy::TraceLogging => "tracelogging",
            DecodedBy::Metadata => "metadata",
            DecodedBy::Manifest => "manifest",
            DecodedBy::Mof => "mof",
        }
    }
}

impl From<Source> for DecodedBy {
    fn from(s: Source) -> DecodedBy {
        match s {
            Source::Metadata => DecodedBy::Metadata,
            Source::Manifest => DecodedBy::Manifest,
            Source::Mof => DecodedBy::Mof,
        }
    }
}

/// A record's payload, decoded or not.
#[derive(Debug)]
pub enum Payload<'a> {
    /// Its fields, by what described them.
    Decoded {
        /// The source.
        by: DecodedBy,
        /// The event's name, when the source gives one.
        event_name: Option<&'a str>,
        /// The fields in payload order.
        fields: Vec<Field<'a>>,
    },
    /// Something describes the event and the payload does not fit it (or the description
    /// itself is bad); the raw payload stays in the record.
    Failed {
        /// The source.
        by: DecodedBy,
        /// Why, with the byte offset.
        error: String,
    },
    /// Nothing describes the event.
    Undescribed,
}

impl Payload<'_> {
    /// True for [`Payload::Decoded`].
    pub fn is_decoded(&self) -> bool {
        matches!(self, Payload::Decoded { .. })
    }
}

/// Decodes payloads, holding the parsed TraceLogging schemas and the layouts of one trace.
pub struct PayloadDecoder {
    schemas: SchemaCache,
    layouts: Layouts,
    memo: LengthMemo,
}

/// What [`PayloadDecoder::decodes`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decodes {
    /// The payload decodes.
    Yes,
    /// Something describes the event and the payload does not fit it (or a `MetaData`
    /// record's description is bad).
    No,
    /// Nothing describes the event (its layout key, when it has one).
    Undescribed(Option<EventKey>),
}

impl From<bool> for Decodes {
    fn from(ok: bool) -> Decodes {
        if ok {
            Decodes::Yes
        } else {
            Decodes::No
        }
    }
}

/// Which source describes a record, and the bytes it describes.
enum Described<'r> {
    TraceLogging {
        meta: &'r [u8],
        payload: &'r [u8],
        ptr: u8,
    },
    Metadata {
        event_type: u8,
        payload: &'r [u8],
    },
    Layout {
        key: EventKey,
        payload: &'r [u8],
        ptr: u8,
    },
    Nothing,
}

/// The source [`PayloadDecoder::decode`] tries for a record (the order of the module doc).
fn described<'r>(rec: &Record<'r>) -> Described<'r> {
    if let Record::Event(e) = rec {
        if let Some(meta) = e.extended_item(EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL) {
            return Described::TraceLogging {
                meta: meta.data,
                payload: e.user_data,
                ptr: e.pointer_size(),
            };
        }
    }
    if let Record::Classic(c) = rec {
        if c.header.guid == KTC_METADATA {
            return Described::Metadata {
                event_type: c.header.class_type,
                payload: c.payload,
            };
        }
    }
    let Some(key) = PayloadDecoder::layout_key(rec) else {
        return Described::Nothing;
    };
    let ptr = match rec {
        Record::Event(e) => e.pointer_size(),
        Record::System(s) => s.pointer_size(),
        Record::Classic(c) => c.pointer_size(),
        Record::Message(_) => 8,
    };
    Described::Layout {
        key,
        payload: rec.payload(),
        ptr,
    }
}

fn pointer_size(bytes: u8) -> PointerSize {
    if bytes == 4 {
        PointerSize::Four
    } else {
        PointerSize::Eight
    }
}

impl PayloadDecoder {
    /// A decoder over `layouts` (the trace's metadata and the user's manifests, added by the
    /// caller), with the built-in Kernel-PnP manifest below them.
    pub fn new(mut layouts: Layouts) -> PayloadDecoder {
        layouts.add_builtin(kernel_pnp::manifest());
        PayloadDecoder {
            schemas: SchemaCache::new(),
            layouts,
            memo: LengthMemo::default(),
        }
    }

    /// The layouts, to add metadata as it is read.
    pub fn layouts_mut(&mut self) -> &mut Layouts {
        self.memo.forget_layouts();
        &mut self.layouts
    }

    /// The layouts.
    pub fn layouts(&self) -> &Layouts {
        &self.layouts
    }

    /// Decodes by `layouts` from now on (the schemas parsed so far are kept).
    pub fn set_layouts(&mut self, layouts: Layouts) {
        self.memo.forget_layouts();
        self.layouts = layouts;
    }

    /// The layout key of a record that carries no TraceLogging metadata: an `EVENT_HEADER`
    /// record's provider, id and version; a kernel or classic record's MOF class, event type
    /// and version. `None` for messages.
    pub fn layout_key(rec: &Record<'_>) -> Option<EventKey> {
        Some(match rec {
            Record::Event(e) => event_key(e),
            Record::System(s) => {
                EventKey::new(hook_guid(s.hook_id)?, u16::from(s.event_type()), s.version)
            }
            Record::Classic(c) => EventKey::new(
                c.header.guid,
                u16::from(c.header.class_type),
                c.header.class_version.get(),
            ),
            Record::Message(_) => return None,
        })
    }

    /// The provider name a layout gives a record (a manifest's or the trace metadata's).
    pub fn provider_name(&mut self, rec: &Record<'_>) -> Option<Arc<str>> {
        if is_tracelogging(rec) {
            return None;
        }
        let key = Self::layout_key(rec)?;
        self.layouts.get(&key)?.provider_name.clone()
    }

    /// Decodes a record's payload.
    pub fn decode<'a>(&'a mut self, rec: &Record<'a>) -> Payload<'a> {
        match described(rec) {
            Described::TraceLogging { meta, payload, ptr } => self.tracelogging(meta, payload, ptr),
            Described::Metadata {
                event_type,
                payload,
            } => metadata_record(event_type, payload),
            Described::Layout { key, payload, ptr } => self.by_layout(key, payload, ptr),
            Described::Nothing => Payload::Undescribed,
        }
    }

    /// Whether [`decode`](Self::decode) would give [`Payload::Decoded`], without building the
    /// fields: a TraceLogging payload by its schema's [`tracelogging::LengthCheck`] where it
    /// has one, else walked by [`tracelogging::validate`] (the decoder's walk, building no
    /// values); a layout whose every field has a fixed size decodes or fails the same way for
    /// every payload of one length, so that answer is kept per kind and length; other layouts
    /// decode the payload.
    pub fn decodes(&mut self, rec: &Record<'_>) -> Decodes {
        match described(rec) {
            Described::TraceLogging { meta, payload, ptr } => {
                self.tracelogging_decodes(meta, payload, ptr)
            }
            Described::Metadata {
                event_type,
                payload,
            } => match metadata_record(event_type, payload) {
                Payload::Undescribed => Decodes::Undescribed(Self::layout_key(rec)),
                _ => Decodes::No,
            },
            Described::Layout { key, payload, ptr } => self.layout_decodes(key, payload, ptr).0,
            Described::Nothing => Decodes::Undescribed(None),
        }
    }

    /// [`decodes`](Self::decodes) of a peeked `EVENT_HEADER` record, with the provider name a
    /// layout gives it ([`provider_name`](Self::provider_name)): one lookup for both.
    pub fn decodes_event(&mut self, e: &EventPeek<'_>) -> (Decodes, Option<&str>) {
        let r = &e.record;
        match e.schema {
            Some(meta) => (
                self.tracelogging_decodes(meta, r.user_data, r.pointer_size()),
                None,
            ),
            None => self.layout_decodes(event_key(r), r.user_data, r.pointer_size()),
        }
    }

    /// Whether `payload` decodes by the TraceLogging metadata `meta`.
    fn tracelogging_decodes(&mut self, meta: &[u8], payload: &[u8], ptr: u8) -> Decodes {
        let ptr = pointer_size(ptr);
        Decodes::from(
            self.memo
                .tracelogging(meta, payload, ptr, &mut self.schemas),
        )
    }

    /// Whether `payload` decodes by the layout of `key`, and the provider name it gives.
    fn layout_decodes(
        &mut self,
        key: EventKey,
        payload: &[u8],
        ptr: u8,
    ) -> (Decodes, Option<&str>) {
        let Some(layout) = self.layouts.get(&key) else {
            return (Decodes::Undescribed(Some(key)), None);
        };
        let len = (payload.len(), ptr);
        let ok = match self.memo.layout(&key, layout, len) {
            Some(ok) => ok,
            None => {
                let ok = tdh::decode_exact(layout, payload, pointer_size(ptr)).is_ok();
                self.memo.keep_layout(key, len, ok);
                ok
            }
        };
        (Decodes::from(ok), layout.provider_name.as_deref())
    }

    fn by_layout<'a>(&'a mut self, key: EventKey, payload: &'a [u8], ptr: u8) -> Payload<'a> {
        let Some(layout) = self.layouts.get(&key) else {
            return Payload::Undescribed;
        };
        let by = DecodedBy::from(layout.source);
        match tdh::decode_exact(layout, payload, pointer_size(ptr)) {
            Ok(fields) => Payload::Decoded {
                by,
                event_name: layout.event_name.as_deref(),
                fields,
            },
            Err(e) => Payload::Failed {
                by,
                error: format!("{} layout does not fit: {e}", by.as_str()),
            },
        }
    }

    fn tracelogging<'a>(&'a mut self, meta: &[u8], payload: &'a [u8], ptr: u8) -> Payload<'a> {
        let by = DecodedBy::TraceLogging;
        let schema = match self.schemas.get(meta) {
            Ok(s) => s,
            Err(e) => {
                return Payload::Failed {
                    by,
                    error: e.to_string(),
                }
            }
        };
        match tracelogging::decode(schema, payload, pointer_size(ptr)) {
            Ok(ev) => Payload::Decoded {
                by,
                event_name: Some(ev.name),
                fields: ev.fields,
            },
            Err(e) => Payload::Failed {
                by,
                error: e.to_string(),
            },
        }
    }
}

/// The layout key of an `EVENT_HEADER` record: its provider, event id and version.
fn event_key(e: &EventRecord<'_>) -> EventKey {
    let d = &e.header.event_descriptor;
    EventKey::new(e.header.provider_id, d.id.get(), u16::from(d.version))
}

fn is_tracelogging(rec: &Record<'_>) -> bool {
    matches!(rec, Record::Event(e) if e.extended_item(EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL).is_some())
}

/// A KernelTraceControl `MetaData` record: a description, not an event of its own; only a
/// description that does not parse is reported.
fn metadata_record(event_type: u8, payload: &[u8]) -> Payload<'static> {
    let parsed = match event_type {
        tdh::METADATA_EVENT_INFO => tdh::parse_event_info(payload).map(drop),
        tdh::METADATA_MAP_INFO => tdh::parse_map_info(payload).map(drop),
        _ => Ok(()),
    };
    match parsed {
        Ok(()) => Payload::Undescribed,
        Err(e) => Payload::Failed {
            by: DecodedBy::Metadata,
            error: format!("bad MetaData event: {e}"),
        },
    }
}
