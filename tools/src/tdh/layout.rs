//! The layout model every source produces: a `TRACE_EVENT_INFO` from the trace, an
//! instrumentation manifest, or a documented MOF class all become one [`EventLayout`].
//!
//! Properties are kept flat, the way `TRACE_EVENT_INFO` holds them: the first
//! [`EventLayout::top_level`] are the event's fields in payload order, a struct names the
//! range of the list that holds its members, and a count or a length read from another
//! property names that property by index. [`EventLayout::new`] checks that all of this is
//! consistent (indices in range, members after their struct, nesting bounded, counts and
//! lengths read from integer properties), so the decoder can trust it.

use std::sync::Arc;

use super::error::{LayoutError, MAX_DEPTH};
use super::types::{TdhInType, TdhOutType};
use crate::tracelogging::PointerSize;

/// Where a layout came from (`decoded_by` in `dump`'s output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The trace's own KernelTraceControl `MetaData` events (`TRACE_EVENT_INFO`).
    Metadata,
    /// An instrumentation manifest.
    Manifest,
    /// A documented MOF class of the NT Kernel Logger.
    Mof,
}

impl Source {
    /// `"metadata"`, `"manifest"` or `"mof"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Metadata => "metadata",
            Source::Manifest => "manifest",
            Source::Mof => "mof",
        }
    }
}

/// How many values a property holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Count {
    /// One value (not an array).
    Scalar,
    /// An array of this many elements.
    Fixed(u16),
    /// An array whose element count is the value of the property at this index.
    Property(u16),
    /// An array of as many elements as the rest of the payload holds (a MOF class's
    /// `Stack1` … `Stack192`); only the last top-level property may have it.
    Remaining,
}

/// The size of a string or binary value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Length {
    /// The type's own: fixed for numbers, NUL-terminated for strings, zero for binary.
    Natural,
    /// This many characters (strings) or bytes (binary).
    Fixed(u16),
    /// The value of the property at this index, in characters or bytes.
    Property(u16),
}

/// A value map (`valueMap`/`bitMap` of a manifest, `EVENT_MAP_INFO` of the trace, a MOF
/// `ValueMap`): integer values to names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValueMap {
    /// True when each entry is a bit (a value shows as the names of its set bits).
    pub bitmap: bool,
    /// Entries sorted by value.
    entries: Vec<(u64, String)>,
}

impl ValueMap {
    /// A map from `(value, name)` pairs; names are trimmed (message strings often end in a
    /// space), and for a repeated value the first entry wins.
    pub fn new(bitmap: bool, entries: impl IntoIterator<Item = (u64, String)>) -> ValueMap {
        let mut entries: Vec<(u64, String)> = entries
            .into_iter()
            .map(|(v, n)| (v, n.trim().to_owned()))
            .collect();
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        ValueMap { bitmap, entries }
    }

    /// The entries, sorted by value.
    pub fn entries(&self) -> &[(u64, String)] {
        &self.entries
    }

    /// The name of a value in a value map.
    pub fn get(&self, value: u64) -> Option<&str> {
        self.entries
            .binary_search_by_key(&value, |e| e.0)
            .ok()
            .map(|i| self.entries[i].1.as_str())
    }
}

/// What a property is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PropertyKind {
    /// A value of an in-type, shown as the out-type says, its integers optionally named by a
    /// map.
    Value {
        /// Encoding in the payload.
        in_type: TdhInType,
        /// Formatting hint.
        out_type: TdhOutType,
        /// Names for integer values.
        map: Option<Arc<ValueMap>>,
    },
    /// A struct whose members are `members` properties from index `first` on.
    Struct {
        /// Index of the first member.
        first: u16,
        /// Number of members.
        members: u16,
    },
}

/// One property of a layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Property {
    /// Its name (the field name in the output).
    pub name: String,
    /// Value or struct.
    pub kind: PropertyKind,
    /// Scalar or array.
    pub count: Count,
    /// Size of a string or binary value.
    pub length: Length,
    /// 28-bit field tag (0 = none).
    pub tags: u32,
    /// Present only when payload bytes are left for it (the last top-level property of a MOF
    /// class that newer Windows versions extend without a new version number).
    pub optional: bool,
}

impl Property {
    /// A scalar value with the in-type's natural size.
    pub fn value(name: impl Into<String>, in_type: TdhInType, out_type: TdhOutType) -> Property {
        Property {
            name: name.into(),
            kind: PropertyKind::Value {
                in_type,
                out_type,
                map: None,
            },
            count: Count::Scalar,
            length: Length::Natural,
            tags: 0,
            optional: false,
        }
    }

    /// A struct of `members` properties from index `first` on.
    pub fn structure(name: impl Into<String>, first: u16, members: u16) -> Property {
        Property {
            name: name.into(),
            kind: PropertyKind::Struct { first, members },
            count: Count::Scalar,
            length: Length::Natural,
            tags: 0,
            optional: false,
        }
    }

    /// Present only when payload bytes are left for it.
    pub fn optional(mut self) -> Property {
        self.optional = true;
        self
    }

    /// With this count.
    pub fn with_count(mut self, count: Count) -> Property {
        self.count = count;
        self
    }

    /// With this length.
    pub fn with_length(mut self, length: Length) -> Property {
        self.length = length;
        self
    }

    /// With this value map (for a value property).
    pub fn with_map(mut self, value_map: Arc<ValueMap>) -> Property {
        if let PropertyKind::Value { map, .. } = &mut self.kind {
            *map = Some(value_map);
        }
        self
    }

    /// The in-type, for a value property.
    pub fn in_type(&self) -> Option<TdhInType> {
        match self.kind {
            PropertyKind::Value { in_type, .. } => Some(in_type),
            PropertyKind::Struct { .. } => None,
        }
    }
}

/// How an event is laid out, wherever that came from. Built (and checked) once per distinct
/// event kind, then shared.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventLayout {
    /// The source.
    pub source: Source,
    /// The provider's name, when the source gives one.
    pub provider_name: Option<Arc<str>>,
    /// The event's name: its own, else task and opcode (`GarbageCollection/GCAllocationTick`),
    /// else a MOF class's event type name (`DCStart`).
    pub event_name: Option<String>,
    properties: Vec<Property>,
    top_level: u16,
    /// True when some count or length is read from a property.
    has_references: bool,
    /// Fewest payload bytes one element of each property takes (a bound for array counts).
    min_sizes: Vec<usize>,
}

impl EventLayout {
    /// Checks a flat property list and builds the layout; the first `top_level` properties
    /// are the event's fields.
    pub fn new(
        source: Source,
        provider_name: Option<Arc<str>>,
        event_name: Option<String>,
        properties: Vec<Property>,
        top_level: u16,
    ) -> Result<EventLayout, LayoutError> {
        if usize::from(top_level) > properties.len() {
            return Err(LayoutError::TooMany {
                offset: 0,
                count: u32::from(top_level),
                len: properties.len(),
                what: "top-level properties",
            });
        }
        let mut has_references = false;
        for (i, p) in properties.iter().enumerate() {
            has_references |= check_property(&properties, i, p, top_level)?;
        }
        check_depth(&properties)?;
        let min_sizes = min_sizes(&properties);
        Ok(EventLayout {
            source,
            provider_name,
            event_name,
            properties,
            top_level,
            has_references,
            min_sizes,
        })
    }

    /// All properties, flat.
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// The event's own fields (the first [`EventLayout::top_level`] properties).
    pub fn top_level(&self) -> &[Property] {
        &self.properties[..usize::from(self.top_level)]
    }

    /// True when a count or length is read from another property.
    pub fn has_references(&self) -> bool {
        self.has_references
    }

    /// Fewest payload bytes one element of property `index` takes, whatever the pointer size.
    pub(crate) fn min_element_size(&self, index: usize) -> usize {
        self.min_sizes[index]
    }
}

/// An event's display name: its own, else its task's and its opcode's
/// (`GarbageCollection/GCAllocationTick`; a `win:` prefix is dropped and `Info`, the opcode of
/// most events, left out), else the opcode's alone.
pub fn event_name(name: Option<&str>, task: Option<&str>, opcode: Option<&str>) -> Option<String> {
    fn present(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    if let Some(n) = present(name) {
        return Some(n.to_owned());
    }
    let opcode = present(opcode)
        .map(|o| o.strip_prefix("win:").unwrap_or(o))
        .filter(|o| *o != "Info");
    match (present(task), opcode) {
        (Some(t), Some(o)) => Some(format!("{t}/{o}")),
        (Some(t), None) => Some(t.to_owned()),
        (None, o) => o.map(str::to_owned),
    }
}

/// Checks one property; returns whether it reads a count or length from another.
fn check_property(
    all: &[Property],
    index: usize,
    p: &Property,
    top_level: u16,
) -> Result<bool, LayoutError> {
    let bad = |why| LayoutError::Property {
        index,
        name: p.name.clone(),
        why,
    };
    let referenced = |at: u16| -> Result<(), LayoutError> {
        let r = all
            .get(usize::from(at))
            .ok_or_else(|| bad("count or length index out of range"))?;
        if usize::from(at) == index || !r.in_type().is_some_and(TdhInType::is_integer) {
            return Err(bad(
                "count or length read from a property that is not an integer",
            ));
        }
        if r.count != Count::Scalar {
            return Err(bad("count or length read from an array"));
        }
        Ok(())
    };
    match &p.kind {
        PropertyKind::Struct { first, members } => {
            let end = usize::from(*first) + usize::from(*members);
            if usize::from(*first) <= index || end > all.len() {
                return Err(bad("struct members out of range"));
            }
            if p.length != Length::Natural {
                return Err(bad("struct with a length"));
            }
        }
        PropertyKind::Value {
            in_type,
            map: Some(_),
            ..
        } if !in_type.is_integer() => {
            return Err(bad("value map on a property that is not an integer"))
        }
        PropertyKind::Value { .. } => {}
    }
    if p.optional && index + 1 != usize::from(top_level) {
        return Err(bad("only the last top-level property may be optional"));
    }
    if p.count == Count::Remaining {
        if index + 1 != usize::from(top_level) {
            return Err(bad(
                "only the last top-level property may fill the rest of the payload",
            ));
        }
        if p.in_type()
            .and_then(|t| t.fixed_size(PointerSize::Four))
            .is_none()
        {
            return Err(bad(
                "only fixed-size values may fill the rest of the payload",
            ));
        }
    }
    let mut refs = false;
    if let Count::Property(at) = p.count {
        referenced(at)?;
        refs = true;
    }
    if let Length::Property(at) = p.length {
        referenced(at)?;
        refs = true;
    }
    Ok(refs)
}

/// Struct nesting depth, bottom-up (members come after their struct, so one pass from the
/// end sees every member before its struct); the bound keeps the decoder's recursion short.
fn check_depth(all: &[Property]) -> Result<(), LayoutError> {
    let mut depth = vec![0usize; all.len()];
    for index in (0..all.len()).rev() {
        if let PropertyKind::Struct { first, members } = all[index].kind {
            let range = usize::from(first)..usize::from(first) + usize::from(members);
            let d = 1 + depth[range].iter().copied().max().unwrap_or(0);
            if d > MAX_DEPTH {
                return Err(LayoutError::TooDeep { index });
            }
            depth[index] = d;
        }
    }
    Ok(())
}

/// Fewest bytes one element of each property takes, bottom-up like [`check_depth`]; pointers
/// count as 4 bytes, the smaller size.
fn min_sizes(all: &[Property]) -> Vec<usize> {
    let mut sizes = vec![0usize; all.len()];
    for index in (0..all.len()).rev() {
        let p = &all[index];
        sizes[index] = match &p.kind {
            PropertyKind::Struct { first, members } => {
                let range = usize::from(*first)..usize::from(*first) + usize::from(*members);
                range
                    .map(|m| match all[m].count {
                        Count::Scalar => sizes[m],
                        Count::Fixed(n) => sizes[m].saturating_mul(usize::from(n)),
                        Count::Property(_) | Count::Remaining => 0,
                    })
                    .fold(0, usize::saturating_add)
            }
            PropertyKind::Value { in_type, .. } => value_min_size(*in_type, p.length),
        };
    }
    sizes
}

fn value_min_size(t: TdhInType, length: Length) -> usize {
    if let Some(n) = t.fixed_size(PointerSize::Four) {
        return n;
    }
    match (t, length) {
        (TdhInType::UNICODESTRING, Length::Fixed(n)) => 2 * usize::from(n),
        (TdhInType::UNICODESTRING, Length::Natural) => 2,
        (TdhInType::ANSISTRING | TdhInType::BINARY, Length::Fixed(n)) => usize::from(n),
        (TdhInType::ANSISTRING, Length::Natural) => 1,
        (TdhInType::HEXDUMP | TdhInType::WBEMSID, _) => 4,
        (TdhInType::SID, _) => 8,
        (
            TdhInType::MANIFEST_COUNTEDSTRING
            | TdhInType::MANIFEST_COUNTEDANSISTRING
            | TdhInType::MANIFEST_COUNTEDBINARY
            | TdhInType::COUNTEDSTRING
            | TdhInType::COUNTEDANSISTRING
            | TdhInType::REVERSEDCOUNTEDSTRING
            | TdhInType::REVERSEDCOUNTEDANSISTRING,
            _,
        ) => 2,
        _ => 0,
    }
}
