//! The trace's own layouts: KernelTraceControl `MetaData` events.
//!
//! When xperf, WPR or PerfView merge a trace, KernelTraceControl injects one classic event
//! (class `MetaData`, GUID `bbccf6c1-6cd1-48c4-80ff-839482e37671`) per kind of event the
//! trace holds, with what `TdhGetEventInformation` returned for it: type 32 carries a
//! `TRACE_EVENT_INFO`, type 33 the provider GUID followed by an `EVENT_MAP_INFO` for each value
//! map the properties name. Layouts of `tdh.h` (all integers little-endian, offsets from the
//! start of the structure):
//!
//! ```text
//! TRACE_EVENT_INFO  0 ProviderGuid   16 EventGuid   32 EVENT_DESCRIPTOR (Id u16, Version u8,
//!                   Channel u8, Level u8, Opcode u8, Task u16, Keyword u64)
//!                  48 DecodingSource  52 ProviderNameOffset  56 LevelNameOffset
//!                  60 ChannelNameOffset  64 KeywordsNameOffset  68 TaskNameOffset
//!                  72 OpcodeNameOffset  76 EventMessageOffset  80 ProviderMessageOffset
//!                  84 BinaryXMLOffset  88 BinaryXMLSize  92 EventNameOffset
//!                  96 EventAttributesOffset  100 PropertyCount  104 TopLevelPropertyCount
//!                 108 Flags  112 EVENT_PROPERTY_INFO[PropertyCount]
//! EVENT_PROPERTY_INFO (24 bytes)  0 Flags  4 NameOffset
//!                  8 InType u16, OutType u16, MapNameOffset u32   (structs: StructStartIndex
//!                    u16, NumOfStructMembers u16, padding u32)
//!                 16 count / countPropertyIndex u16  18 length / lengthPropertyIndex u16
//!                 20 Tags (low 28 bits, with PropertyHasTags)
//! EVENT_MAP_INFO    0 NameOffset  4 Flag  8 EntryCount  12 MapEntryValueType
//!                  16 EVENT_MAP_ENTRY[EntryCount] (OutputOffset u32, Value u32)
//! ```
//!
//! Strings are NUL-terminated UTF-16 at their offsets; offset 0 means absent. `PROPERTY_FLAGS`
//! say how to read count and length: `PropertyParamCount` (0x4) / `PropertyParamLength` (0x2)
//! make them indices of other properties; `PropertyParamFixedCount` (0x20) marks an array even
//! of one element and `PropertyParamFixedLength` (0x10) a fixed length even of zero (both are
//! new in the Windows 10 SDK; before that a count above 1 is an array and a non-zero length
//! of a string or binary property is fixed). [`encode_event_info`] writes the same form, for
//! tests and for fuzzing the parser against itself.

use std::sync::Arc;

use super::error::LayoutError;
use super::layout::{
    event_name, Count, EventLayout, Length, Property, PropertyKind, Source, ValueMap,
};
use super::types::{TdhInType, TdhOutType};
use crate::tracelogging::Guid;

/// KernelTraceControl `MetaData` event type of a `TRACE_EVENT_INFO`.
pub const METADATA_EVENT_INFO: u8 = 32;
/// KernelTraceControl `MetaData` event type of an `EVENT_MAP_INFO`.
pub const METADATA_MAP_INFO: u8 = 33;

/// Size of the fixed part of `TRACE_EVENT_INFO`.
const HEADER: usize = 112;
/// Size of one `EVENT_PROPERTY_INFO`.
const PROPERTY: usize = 24;

/// `PROPERTY_FLAGS`.
const PROPERTY_STRUCT: u32 = 0x1;
const PROPERTY_PARAM_LENGTH: u32 = 0x2;
const PROPERTY_PARAM_COUNT: u32 = 0x4;
const PROPERTY_PARAM_FIXED_LENGTH: u32 = 0x10;
const PROPERTY_PARAM_FIXED_COUNT: u32 = 0x20;
const PROPERTY_HAS_TAGS: u32 = 0x40;

/// `DECODING_SOURCE` values this decoder reads.
const DECODING_SOURCE_XML_FILE: u32 = 0;
const DECODING_SOURCE_WBEM: u32 = 1;
const DECODING_SOURCE_TLG: u32 = 3;

/// `MAP_FLAGS`.
const MAP_MANIFEST_VALUEMAP: u32 = 0x1;
const MAP_MANIFEST_BITMAP: u32 = 0x2;
const MAP_WBEM_VALUEMAP: u32 = 0x8;
const MAP_WBEM_BITMAP: u32 = 0x10;
const MAP_WBEM_FLAG: u32 = 0x20;

/// What a `TRACE_EVENT_INFO` says about one kind of event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// `ProviderGuid`.
    pub provider: Guid,
    /// `EventGuid`: the MOF class of a classic event, nil for manifest events.
    pub event_guid: Guid,
    /// `EventDescriptor.Id`.
    pub id: u16,
    /// `EventDescriptor.Version`.
    pub version: u8,
    /// `EventDescriptor.Opcode` (the event type of a classic event).
    pub opcode: u8,
    /// `DecodingSource` (0 manifest, 1 WBEM/MOF, 3 TraceLogging).
    pub decoding_source: u32,
    /// The provider's name.
    pub provider_name: Option<String>,
    /// The event's name (Windows 10 and later, for events that have one).
    pub event_name: Option<String>,
    /// Its task's name.
    pub task_name: Option<String>,
    /// Its opcode's name.
    pub opcode_name: Option<String>,
    /// The properties, checked, without their value maps (see [`EventInfo::layout`]).
    pub properties: Vec<Property>,
    /// `TopLevelPropertyCount`.
    pub top_level: u16,
    /// The value map each mapped property names: `(property index, map name)`.
    pub map_names: Vec<(u16, String)>,
}

impl EventInfo {
    /// The layout, each map name resolved through `maps` (a map the trace does not hold
    /// leaves its property unmapped).
    pub fn layout(
        &self,
        maps: &dyn Fn(&str) -> Option<Arc<ValueMap>>,
    ) -> Result<EventLayout, LayoutError> {
        let mut properties = self.properties.clone();
        for (index, name) in &self.map_names {
            let p = &mut properties[usize::from(*index)];
            if !p.in_type().is_some_and(TdhInType::is_integer) {
                continue;
            }
            if let Some(m) = maps(name) {
                *p = p.clone().with_map(m);
            }
        }
        EventLayout::new(
            Source::Metadata,
            self.provider_name.as_deref().map(Arc::from),
            event_name(
                self.event_name.as_deref(),
                self.task_name.as_deref(),
                self.opcode_name.as_deref(),
            ),
            properties,
            self.top_level,
        )
    }
}

/// Reads little-endian integers and UTF-16 strings of one structure, with offsets.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u16(&self, at: usize, what: &'static str) -> Result<u16, LayoutError> {
        match self.0.get(at..at + 2) {
            Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
            None => Err(LayoutError::Truncated { offset: at, what }),
        }
    }

    fn u32(&self, at: usize, what: &'static str) -> Result<u32, LayoutError> {
        match self.0.get(at..at + 4) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(LayoutError::Truncated { offset: at, what }),
        }
    }

    fn guid(&self, at: usize, what: &'static str) -> Result<Guid, LayoutError> {
        let b = self
            .0
            .get(at..at + 16)
            .ok_or(LayoutError::Truncated { offset: at, what })?;
        let mut g = [0u8; 16];
        g.copy_from_slice(b);
        Ok(Guid::from_bytes_le(g))
    }

    /// The string whose offset is at `at` (`None` for offset 0); it may not start before
    /// `min`, the end of the fixed part.
    fn string_at(
        &self,
        at: usize,
        min: usize,
        what: &'static str,
    ) -> Result<Option<String>, LayoutError> {
        let off = self.u32(at, what)?;
        if off == 0 {
            return Ok(None);
        }
        let start = off as usize;
        if start < min || start >= self.0.len() {
            return Err(LayoutError::BadOffset {
                offset: at,
                value: off,
                len: self.0.len(),
                what,
            });
        }
        let rest = &self.0[start..];
        let units = crate::tracelogging::find_nul16(rest)
            .ok_or(LayoutError::UnterminatedString { offset: start })?;
        Ok(Some(crate::tracelogging::utf16_lossy(&rest[..2 * units])))
    }
}

/// Parses the payload of a `MetaData` type-32 event: one `TRACE_EVENT_INFO`.
pub fn parse_event_info(payload: &[u8]) -> Result<EventInfo, LayoutError> {
    let b = Bytes(payload);
    if payload.len() < HEADER {
        return Err(LayoutError::Truncated {
            offset: payload.len(),
            what: "TRACE_EVENT_INFO",
        });
    }
    let decoding_source = b.u32(48, "DecodingSource")?;
    if !matches!(
        decoding_source,
        DECODING_SOURCE_XML_FILE | DECODING_SOURCE_WBEM | DECODING_SOURCE_TLG
    ) {
        return Err(LayoutError::DecodingSource(decoding_source));
    }
    let count = b.u32(100, "PropertyCount")?;
    let top = b.u32(104, "TopLevelPropertyCount")?;
    let end = (count as usize)
        .checked_mul(PROPERTY)
        .and_then(|n| n.checked_add(HEADER))
        .filter(|&e| e <= payload.len() && count <= u32::from(u16::MAX));
    let Some(end) = end else {
        return Err(LayoutError::TooMany {
            offset: 100,
            count,
            len: payload.len(),
            what: "properties",
        });
    };
    if top > count {
        return Err(LayoutError::TooMany {
            offset: 104,
            count: top,
            len: payload.len(),
            what: "top-level properties",
        });
    }
    let string = |at, what| b.string_at(at, end, what);
    let mut properties = Vec::with_capacity(count as usize);
    let mut map_names = Vec::new();
    for i in 0..count as usize {
        let (p, map) = parse_property(&b, HEADER + PROPERTY * i, end)?;
        if let Some(m) = map {
            map_names.push((i as u16, m));
        }
        properties.push(p);
    }
    let info = EventInfo {
        provider: b.guid(0, "ProviderGuid")?,
        event_guid: b.guid(16, "EventGuid")?,
        id: b.u16(32, "EventDescriptor")?,
        version: payload[34],
        opcode: payload[37],
        decoding_source,
        provider_name: string(52, "ProviderNameOffset")?,
        task_name: string(68, "TaskNameOffset")?,
        opcode_name: string(72, "OpcodeNameOffset")?,
        event_name: string(92, "EventNameOffset")?,
        properties,
        top_level: top as u16,
        map_names,
    };
    // Checks the properties now, so that a bad layout is an error of its MetaData event.
    info.layout(&|_| None)?;
    Ok(info)
}

/// One `EVENT_PROPERTY_INFO` at `at`; strings may not start before `min`.
fn parse_property(
    b: &Bytes<'_>,
    at: usize,
    min: usize,
) -> Result<(Property, Option<String>), LayoutError> {
    let flags = b.u32(at, "EVENT_PROPERTY_INFO")?;
    let name = b.string_at(at + 4, min, "NameOffset")?.unwrap_or_default();
    let a = b.u16(at + 8, "InType")?;
    let c = b.u16(at + 10, "OutType")?;
    let count = b.u16(at + 16, "count")?;
    let length = b.u16(at + 18, "length")?;
    let tags = if flags & PROPERTY_HAS_TAGS != 0 {
        b.u32(at + 20, "Tags")? & 0x0FFF_FFFF
    } else {
        0
    };
    let (kind, map) = if flags & PROPERTY_STRUCT != 0 {
        (
            PropertyKind::Struct {
                first: a,
                members: c,
            },
            None,
        )
    } else {
        let kind = PropertyKind::Value {
            in_type: TdhInType(a),
            out_type: TdhOutType(c),
            map: None,
        };
        (kind, b.string_at(at + 12, min, "MapNameOffset")?)
    };
    let count = if flags & PROPERTY_PARAM_COUNT != 0 {
        Count::Property(count)
    } else if flags & PROPERTY_PARAM_FIXED_COUNT != 0 || count > 1 {
        Count::Fixed(count)
    } else {
        Count::Scalar
    };
    let takes_length =
        matches!(kind, PropertyKind::Value { in_type, .. } if in_type.takes_length());
    let length = if flags & PROPERTY_PARAM_LENGTH != 0 {
        Length::Property(length)
    } else if takes_length && (length > 0 || flags & PROPERTY_PARAM_FIXED_LENGTH != 0) {
        Length::Fixed(length)
    } else {
        Length::Natural
    };
    let p = Property {
        name,
        kind,
        count,
        length,
        tags,
        optional: false,
    };
    Ok((p, map))
}

/// Parses the payload of a `MetaData` type-33 event: the provider GUID, then one
/// `EVENT_MAP_INFO`. Returns the provider, the map's name and the map; `None` for a map kind
/// this decoder does not apply (pattern maps, string-valued entries).
pub fn parse_map_info(payload: &[u8]) -> Result<Option<(Guid, String, ValueMap)>, LayoutError> {
    let provider = Bytes(payload).guid(0, "provider GUID")?;
    let map = Bytes(&payload[16..]);
    let flags = map.u32(4, "Flag")?;
    let entries = map.u32(8, "EntryCount")?;
    let value_type = map.u32(12, "MapEntryValueType")?;
    let end = (entries as usize)
        .checked_mul(8)
        .and_then(|n| n.checked_add(16))
        .filter(|&e| e <= map.0.len());
    let Some(end) = end else {
        return Err(LayoutError::TooMany {
            offset: 16 + 8,
            count: entries,
            len: payload.len(),
            what: "map entries",
        });
    };
    let name = map.string_at(0, end, "NameOffset")?.unwrap_or_default();
    let bitmap = flags & (MAP_MANIFEST_BITMAP | MAP_WBEM_BITMAP | MAP_WBEM_FLAG) != 0;
    let value_map = flags
        & (MAP_MANIFEST_VALUEMAP | MAP_MANIFEST_BITMAP | MAP_WBEM_VALUEMAP | MAP_WBEM_BITMAP)
        != 0;
    if !value_map || value_type != 0 {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(entries as usize);
    for i in 0..entries as usize {
        let at = 16 + 8 * i;
        let text = map.string_at(at, end, "OutputOffset")?.unwrap_or_default();
        let mut value = u64::from(map.u32(at + 4, "Value")?);
        if flags & MAP_WBEM_BITMAP != 0 {
            // A WMI BitMap names bit positions.
            value = 1u64.checked_shl(value as u32).unwrap_or(0);
        }
        out.push((value, text));
    }
    Ok(Some((provider, name, ValueMap::new(bitmap, out))))
}

/// Writes `info` as a `TRACE_EVENT_INFO` (the form [`parse_event_info`] reads), for tests
/// and fuzzing. `None` when a property cannot be expressed there (a count filling the rest
/// of the payload, an optional property: MOF-only forms).
pub fn encode_event_info(info: &EventInfo) -> Option<Vec<u8>> {
    let n = info.properties.len();
    let mut out = vec![0u8; HEADER + PROPERTY * n];
    out[0..16].copy_from_slice(&info.provider.to_bytes_le());
    out[16..32].copy_from_slice(&info.event_guid.to_bytes_le());
    out[32..34].copy_from_slice(&info.id.to_le_bytes());
    out[34] = info.version;
    out[37] = info.opcode;
    put32(&mut out, 48, info.decoding_source);
    put32(&mut out, 100, u32::try_from(n).ok()?);
    put32(&mut out, 104, u32::from(info.top_level));
    for (at, s) in [
        (52, &info.provider_name),
        (68, &info.task_name),
        (72, &info.opcode_name),
        (92, &info.event_name),
    ] {
        if let Some(s) = s {
            let off = push_string(&mut out, s)?;
            put32(&mut out, at, off);
        }
    }
    for (i, p) in info.properties.iter().enumerate() {
        let at = HEADER + PROPERTY * i;
        let map = info.map_names.iter().find(|m| usize::from(m.0) == i);
        encode_property(&mut out, at, p, map.map(|m| m.1.as_str()))?;
    }
    Some(out)
}

fn encode_property(out: &mut Vec<u8>, at: usize, p: &Property, map: Option<&str>) -> Option<()> {
    if p.optional {
        return None;
    }
    let mut flags = 0u32;
    let (a, c) = match &p.kind {
        PropertyKind::Struct { first, members } => {
            flags |= PROPERTY_STRUCT;
            (*first, *members)
        }
        PropertyKind::Value {
            in_type, out_type, ..
        } => (in_type.0, out_type.0),
    };
    let count = match p.count {
        Count::Scalar => 1,
        Count::Fixed(n) => {
            flags |= PROPERTY_PARAM_FIXED_COUNT;
            n
        }
        Count::Property(i) => {
            flags |= PROPERTY_PARAM_COUNT;
            i
        }
        Count::Remaining => return None,
    };
    let length = match p.length {
        Length::Natural => 0,
        Length::Fixed(n) => {
            flags |= PROPERTY_PARAM_FIXED_LENGTH;
            n
        }
        Length::Property(i) => {
            flags |= PROPERTY_PARAM_LENGTH;
            i
        }
    };
    if p.tags != 0 {
        flags |= PROPERTY_HAS_TAGS;
    }
    let name = push_string(out, &p.name)?;
    let map = match map {
        Some(m) => push_string(out, m)?,
        None => 0,
    };
    put32(out, at, flags);
    put32(out, at + 4, name);
    out[at + 8..at + 10].copy_from_slice(&a.to_le_bytes());
    out[at + 10..at + 12].copy_from_slice(&c.to_le_bytes());
    put32(out, at + 12, map);
    out[at + 16..at + 18].copy_from_slice(&count.to_le_bytes());
    out[at + 18..at + 20].copy_from_slice(&length.to_le_bytes());
    put32(out, at + 20, p.tags);
    Some(())
}

/// Writes a map as a type-33 payload (provider GUID, `EVENT_MAP_INFO`), for tests.
pub fn encode_map_info(provider: Guid, name: &str, map: &ValueMap) -> Option<Vec<u8>> {
    let n = map.entries().len();
    let mut m = vec![0u8; 16 + 8 * n];
    let flag = if map.bitmap {
        MAP_MANIFEST_BITMAP
    } else {
        MAP_MANIFEST_VALUEMAP
    };
    let off = push_string(&mut m, name)?;
    put32(&mut m, 0, off);
    put32(&mut m, 4, flag);
    put32(&mut m, 8, u32::try_from(n).ok()?);
    for (i, (v, text)) in map.entries().iter().enumerate() {
        let off = push_string(&mut m, text)?;
        put32(&mut m, 16 + 8 * i, off);
        put32(&mut m, 16 + 8 * i + 4, u32::try_from(*v).ok()?);
    }
    let mut out = provider.to_bytes_le().to_vec();
    out.extend_from_slice(&m);
    Some(out)
}

fn put32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Appends a NUL-terminated UTF-16 string; returns its offset. `None` when the string holds a
/// NUL (it would read back shorter) or the offset does not fit a `u32`.
fn push_string(out: &mut Vec<u8>, s: &str) -> Option<u32> {
    if s.contains('\0') {
        return None;
    }
    let off = u32::try_from(out.len()).ok()?;
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    out.extend_from_slice(&[0, 0]);
    Some(off)
}
