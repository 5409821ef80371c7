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

/// A known layout: its descriptor and the variant it builds (resolved once, not per event).
#[derive(Clone, Copy, Debug)]
pub(super) struct Known {
    desc: &'static schema::EventDescriptor,
    variant: Variant,
}

/// The [`WskEvent`] variants the fast path builds (by position, see [`build`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    DriverEntryStart,
    DriverEntryStop,
    WskRegister,
    CaptureProviderNpiStart,
    CaptureProviderNpiStop,
    QueryProviderCharacteristics,
    DispatchCall,
    ReleaseProviderNpi,
    WskDeregisterStart,
    WskDeregisterStop,
    DriverUnloadStart,
    DriverUnloadStop,
}

impl Variant {
    /// The variant named `name` (a descriptor's `variant`); `None` for one this file does not
    /// know (its events then go through the general decoder).
    fn of(name: &str) -> Option<Variant> {
        Some(match name {
            "DriverEntryStart" => Variant::DriverEntryStart,
            "DriverEntryStop" => Variant::DriverEntryStop,
            "WskRegister" => Variant::WskRegister,
            "CaptureProviderNpiStart" => Variant::CaptureProviderNpiStart,
            "CaptureProviderNpiStop" => Variant::CaptureProviderNpiStop,
            "QueryProviderCharacteristics" => Variant::QueryProviderCharacteristics,
            "DispatchCall" => Variant::DispatchCall,
            "ReleaseProviderNpi" => Variant::ReleaseProviderNpi,
            "WskDeregisterStart" => Variant::WskDeregisterStart,
            "WskDeregisterStop" => Variant::WskDeregisterStop,
            "DriverUnloadStart" => Variant::DriverUnloadStart,
            "DriverUnloadStop" => Variant::DriverUnloadStop,
            _ => return None,
        })
    }
}

impl Default for KnownLayouts {
    fn default() -> Self {
        KnownLayouts {
            metas: schema::DESCRIPTORS
                .iter()
                .filter_map(|d| {
                    let bytes = crate::wsk_etl::tracelogging_schema(d).to_bytes().ok()?;
                    let variant = Variant::of(d.variant)?;
                    Some((bytes, Known { desc: d, variant }))
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
            .position(|(m, k)| k.desc.opcode == opcode && m.len() == meta.len() && m[..] == *meta)
    }
}

/// Reads the payload of an event with a known layout; `None` if it does not fit exactly.
pub(super) fn decode_known(known: Known, payload: &[u8]) -> Option<WskEvent> {
    const MAX_FIELDS: usize = 8;
    let desc = known.desc;
    if desc.fields.len() > MAX_FIELDS {
        return None;
    }
    let mut fields: [FieldValue<'_>; MAX_FIELDS] = [FieldValue::U8(0); MAX_FIELDS];
    let mut pos = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let b = payload.get(pos..pos.checked_add(n)?)?;
        pos += n;
        Some(b)
    };
    for (slot, f) in fields.iter_mut().zip(desc.fields) {
        *slot = match f.kind {
            FieldKind::U8 | FieldKind::Bool => FieldValue::U8(take(1)?[0]),
            FieldKind::U16Hex => FieldValue::U16(u16::from_le_bytes(take(2)?.try_into().ok()?)),
            FieldKind::U32 | FieldKind::Status => {
                FieldValue::U32(u32::from_le_bytes(take(4)?.try_into().ok()?))
            }
            FieldKind::U64 => FieldValue::U64(u64::from_le_bytes(take(8)?.try_into().ok()?)),
            FieldKind::Str => {
                let n = u16::from_le_bytes(take(2)?.try_into().ok()?);
                FieldValue::Str(std::str::from_utf8(take(usize::from(n))?).ok()?)
            }
        };
    }
    if pos != payload.len() {
        return None;
    }
    build(known.variant, &fields[..desc.fields.len()])
}

/// The typed event from its field values in schema order (what `WskEvent::decode` does by
/// name; positional here, since the layout was matched). The test
/// `fast_path_and_general_decoder_agree_on_every_event` holds the two together, and a
/// schema change that renames or adds a field fails to compile here.
fn build(variant: Variant, v: &[FieldValue<'_>]) -> Option<WskEvent> {
    use wsktrace_driver::ntstatus::NtStatus;
    let u8_ = |i: usize| match v.get(i)? {
        FieldValue::U8(x) => Some(*x),
        _ => None,
    };
    let u16_ = |i: usize| match v.get(i)? {
        FieldValue::U16(x) => Some(*x),
        _ => None,
    };
    let u32_ = |i: usize| match v.get(i)? {
        FieldValue::U32(x) => Some(*x),
        _ => None,
    };
    let u64_ = |i: usize| match v.get(i)? {
        FieldValue::U64(x) => Some(*x),
        _ => None,
    };
    let str_ = |i: usize| match v.get(i)? {
        FieldValue::Str(x) => Some(x.to_string()),
        _ => None,
    };
    let st = |i: usize| u32_(i).map(NtStatus::from_u32);
    Some(match variant {
        Variant::DriverEntryStart => WskEvent::DriverEntryStart {
            client_name: str_(0)?,
        },
        Variant::DriverEntryStop => WskEvent::DriverEntryStop {
            client_name: str_(0)?,
            status: st(1)?,
            duration_ns: u64_(2)?,
        },
        Variant::WskRegister => WskEvent::WskRegister {
            registration_id: u32_(0)?,
            npi_version: u16_(1)?,
            status: st(2)?,
            duration_ns: u64_(3)?,
        },
        Variant::CaptureProviderNpiStart => WskEvent::CaptureProviderNpiStart {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            wait_timeout_ms: u32_(2)?,
            calling_context: u8_(3)?,
        },
        Variant::CaptureProviderNpiStop => WskEvent::CaptureProviderNpiStop {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            status: st(2)?,
            wait_ns: u64_(3)?,
        },
        Variant::QueryProviderCharacteristics => WskEvent::QueryProviderCharacteristics {
            registration_id: u32_(0)?,
            status: st(1)?,
            lowest_version: u16_(2)?,
            highest_version: u16_(3)?,
        },
        Variant::DispatchCall => WskEvent::DispatchCall {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            function: str_(2)?,
            status: st(3)?,
            duration_ns: u64_(4)?,
        },
        Variant::ReleaseProviderNpi => WskEvent::ReleaseProviderNpi {
            registration_id: u32_(0)?,
            capture_id: u32_(1)?,
            held_ns: u64_(2)?,
            dispatch_calls: u32_(3)?,
            implicit: u8_(4)? != 0,
        },
        Variant::WskDeregisterStart => WskEvent::WskDeregisterStart {
            registration_id: u32_(0)?,
            captures_outstanding: u32_(1)?,
        },
        Variant::WskDeregisterStop => WskEvent::WskDeregisterStop {
            registration_id: u32_(0)?,
            wait_ns: u64_(1)?,
        },
        Variant::DriverUnloadStart => WskEvent::DriverUnloadStart {},
        Variant::DriverUnloadStop => WskEvent::DriverUnloadStop {
            duration_ns: u64_(0)?,
        },
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
