//! Decoding the events of `Wsktrace.WskClient` into the typed view ([`WskEvent`]).
//!
//! Two ways, one result: an event whose TraceLogging metadata is byte-identical to what
//! [`crate::wsk_etl`] encodes from the schema's descriptor has the descriptor's fields, in
//! order, as its payload, and is read directly ([`KnownLayouts`], the fast path); any other
//! event goes through the general TraceLogging decoder and [`WskEvent::decode`], so a driver
//! build whose metadata differs is still read. The test
//! `fast_path_and_general_decoder_agree_on_every_event` holds the two together.

use wsktrace_driver::schema::{self, DecodeError, FieldKind, FieldValue, WskEvent};

use super::error::DecodeFailure;
use crate::etl::record::EventRecord;
use crate::tracelogging::{self, PointerSize, SchemaCache, Value, EXT_TYPE_EVENT_SCHEMA_TL};

/// Converts a decoded TraceLogging value to the schema's field value for `kind`.
fn field_value<'a>(kind: FieldKind, v: &'a Value<'_>) -> Option<FieldValue<'a>> {
    let int = match v {
        Value::U64(x) | Value::Hex(x) => Some(*x),
        Value::I64(x) => u64::try_from(*x).ok(),
        Value::NtStatus(x) | Value::Bool(x) | Value::Win32Error(x) => Some(u64::from(*x)),
        Value::HResult(x) => Some(u64::from(*x as u32)),
        _ => None,
    };
    Some(match kind {
        FieldKind::Str => match v {
            Value::Str(s) => FieldValue::Str(s.as_ref()),
            _ => return None,
        },
        FieldKind::U8 | FieldKind::Bool => FieldValue::U8(u8::try_from(int?).ok()?),
        FieldKind::U16Hex => FieldValue::U16(u16::try_from(int?).ok()?),
        FieldKind::U32 | FieldKind::Status => FieldValue::U32(u32::try_from(int?).ok()?),
        FieldKind::U64 => FieldValue::U64(int?),
    })
}

/// The TraceLogging metadata of every event of the schema, as [`crate::wsk_etl`] encodes it
/// from the descriptors. An event whose metadata item is byte-identical to one of these has
/// the descriptor's fields, in order, as its payload, and is read directly (a fast path: the
/// general decoder builds a value tree first). Any other metadata goes through the general
/// TraceLogging decoder, so a driver build whose metadata differs is still read.
pub struct KnownLayouts {
    pub(super) metas: Vec<(Vec<u8>, Known)>,
}

/// A known layout: the descriptor of its event.
pub(super) type Known = &'static schema::EventDescriptor;

impl Default for KnownLayouts {
    fn default() -> Self {
        KnownLayouts {
            metas: schema::DESCRIPTORS
                .iter()
                .filter_map(|d| {
                    let bytes = crate::wsk_etl::tracelogging_schema(d).to_bytes().ok()?;
                    Some((bytes, d))
                })
                .collect(),
        }
    }
}

impl KnownLayouts {
    pub(super) fn find(&self, meta: &[u8], opcode: u8) -> Option<Known> {
        self.find_index(meta, opcode).map(|i| self.metas[i].1)
    }

    pub(super) fn find_index(&self, meta: &[u8], opcode: u8) -> Option<usize> {
        self.metas
            .iter()
            .position(|(m, d)| d.opcode == opcode && m.len() == meta.len() && m[..] == *meta)
    }
}

/// Reads the payload of an event with a known layout (its descriptor's fields, in order, as
/// `wsk_etl` encodes them); `None` if it does not fit exactly. The fields go straight from
/// the payload into the event (no list of values in between: this runs once per event).
pub(super) fn decode_known(desc: Known, payload: &[u8]) -> Option<WskEvent> {
    let mut rest = payload;
    let event = WskEvent::from_fields(desc.kind, |kind| take_field(kind, &mut rest))?;
    rest.is_empty().then_some(event)
}

/// Takes one field of `kind` off the front of `rest`, as `wsk_etl` encodes it.
#[inline]
fn take_field<'a>(kind: FieldKind, rest: &mut &'a [u8]) -> Option<FieldValue<'a>> {
    fn take<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
        let (head, tail) = rest.split_first_chunk::<N>()?;
        *rest = tail;
        Some(*head)
    }
    Some(match kind {
        FieldKind::U8 | FieldKind::Bool => FieldValue::U8(take::<1>(rest)?[0]),
        FieldKind::U16Hex => FieldValue::U16(u16::from_le_bytes(take(rest)?)),
        FieldKind::U32 | FieldKind::Status => FieldValue::U32(u32::from_le_bytes(take(rest)?)),
        FieldKind::U64 => FieldValue::U64(u64::from_le_bytes(take(rest)?)),
        FieldKind::Str => {
            let n = usize::from(u16::from_le_bytes(take(rest)?));
            let (text, tail) = rest.split_at_checked(n)?;
            *rest = tail;
            FieldValue::Str(std::str::from_utf8(text).ok()?)
        }
    })
}

/// Decodes one event of our provider into the typed view.
pub fn decode_wsk(
    ev: &EventRecord<'_>,
    known: &KnownLayouts,
    cache: &mut SchemaCache,
) -> Result<WskEvent, DecodeFailure> {
    let meta = ev
        .extended_item(EXT_TYPE_EVENT_SCHEMA_TL)
        .ok_or(DecodeFailure::NoMetadata)?;
    if let Some(k) = known.find(meta.data, ev.header.event_descriptor.opcode) {
        if let Some(event) = decode_known(k, ev.user_data) {
            return Ok(event);
        }
    }
    decode_general(ev, meta.data, cache)
}

/// Decodes with the general TraceLogging decoder, then the schema's typed view.
pub(super) fn decode_general(
    ev: &EventRecord<'_>,
    meta: &[u8],
    cache: &mut SchemaCache,
) -> Result<WskEvent, DecodeFailure> {
    let opcode = ev.header.event_descriptor.opcode;
    decode_general_parts(meta, opcode, ev.user_data, pointer_size(ev), cache)
}

/// [`decode_general`] from the parts of the record it reads.
pub(super) fn decode_general_parts(
    meta: &[u8],
    opcode: u8,
    user_data: &[u8],
    ptr: PointerSize,
    cache: &mut SchemaCache,
) -> Result<WskEvent, DecodeFailure> {
    let schema = cache
        .get(meta)
        .map_err(|e| DecodeFailure::TraceLogging(e.clone()))?
        .clone();
    let decoded =
        tracelogging::decode(&schema, user_data, ptr).map_err(DecodeFailure::TraceLogging)?;
    let desc = schema::find_descriptor(decoded.name, opcode).ok_or_else(|| {
        DecodeFailure::Schema(DecodeError::UnknownEvent {
            name: decoded.name.to_string(),
            opcode,
        })
    })?;
    let mut fields = Vec::with_capacity(desc.fields.len());
    for f in desc.fields {
        if let Some(v) = decoded.field(f.name) {
            let fv =
                field_value(f.kind, v).ok_or(DecodeFailure::Schema(DecodeError::WrongType {
                    event: desc.variant,
                    field: f.name,
                }))?;
            fields.push((f.name, fv));
        }
    }
    WskEvent::decode(decoded.name, opcode, &fields).map_err(DecodeFailure::Schema)
}

pub(super) fn pointer_size(ev: &EventRecord<'_>) -> PointerSize {
    if ev.pointer_size() == 4 {
        PointerSize::Four
    } else {
        PointerSize::Eight
    }
}
