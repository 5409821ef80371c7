//! Event metadata (extended data item 11, `EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL`): parsing
//! it into a [`Schema`] tree, and encoding a [`Schema`] back into metadata bytes.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! EventMetadata = Size: u16 (whole item, including Size)
//!                 Tags: u8... (7 bits each, most significant first; 0x80 = another follows)
//!                 Name: UTF-8, NUL-terminated
//!                 Fields: FieldMetadata... (until Size)
//! FieldMetadata = Name: UTF-8, NUL-terminated
//!                 InType: u8 (0x1F type, 0x60 count/custom flags, 0x80 = OutType follows)
//!                 OutType: u8 if InType & 0x80 (0x7F type or struct member count,
//!                          0x80 = Tags follow)
//!                 Tags: u8... if OutType & 0x80
//!                 Count: u16 if flags == 0x20 (constant-count array)
//!                 SchemaSize: u16, Schema: [u8] if flags == 0x60 (custom)
//! ```
//!
//! A struct field (in-type 24) has no data of its own; the next N fields (N in the out-type
//! slot, counting a nested struct with its members as one) are its members.

use super::error::{Error, Result, MAX_DEPTH};
use super::types::{InType, OutType, PointerSize};

/// How many values a field holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// One value.
    Scalar,
    /// An array whose element count is in the metadata.
    ConstArray(u16),
    /// An array whose element count (`u16`) precedes the elements in the payload.
    VarArray,
    /// A custom-serialized value: payload is `u16` size + bytes; the metadata carries the
    /// serializer's schema bytes, kept here.
    Custom(Box<[u8]>),
}

/// One field of an event (possibly a struct with members).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldSchema {
    /// Field name.
    pub name: String,
    /// Encoding in the payload.
    pub in_type: InType,
    /// Formatting hint ([`OutType::Default`] for structs, whose slot holds the member count).
    pub out_type: OutType,
    /// 28-bit field tag (0 = none).
    pub tags: u32,
    /// Scalar, array or custom.
    pub shape: Shape,
    /// Struct members (empty unless `in_type` is [`InType::Struct`]).
    pub members: Vec<FieldSchema>,
}

impl FieldSchema {
    /// A scalar field.
    pub fn new(name: impl Into<String>, in_type: InType, out_type: OutType) -> FieldSchema {
        FieldSchema {
            name: name.into(),
            in_type,
            out_type,
            tags: 0,
            shape: Shape::Scalar,
            members: Vec::new(),
        }
    }

    /// A struct field with the given members.
    pub fn structure(name: impl Into<String>, members: Vec<FieldSchema>) -> FieldSchema {
        FieldSchema {
            members,
            ..FieldSchema::new(name, InType::Struct, OutType::Default)
        }
    }

    /// A custom-serialized field (`in_type` names the serializer's protocol, e.g. `Binary`).
    pub fn custom(name: impl Into<String>, in_type: InType, schema: &[u8]) -> FieldSchema {
        FieldSchema {
            shape: Shape::Custom(schema.into()),
            ..FieldSchema::new(name, in_type, OutType::Default)
        }
    }

    /// With a 28-bit field tag.
    pub fn with_tags(mut self, tags: u32) -> FieldSchema {
        self.tags = tags;
        self
    }

    /// As an array of `count` elements, count fixed in the metadata.
    pub fn const_array(mut self, count: u16) -> FieldSchema {
        self.shape = Shape::ConstArray(count);
        self
    }

    /// As an array whose count is written in the payload.
    pub fn var_array(mut self) -> FieldSchema {
        self.shape = Shape::VarArray;
        self
    }

    /// True for a struct field.
    pub fn is_struct(&self) -> bool {
        self.in_type == InType::Struct
    }

    /// Smallest number of payload bytes one element of this field can take.
    pub(crate) fn min_element_size(&self) -> usize {
        if self.is_struct() {
            return self
                .members
                .iter()
                .map(FieldSchema::min_size)
                .fold(0, usize::saturating_add);
        }
        match self.in_type {
            InType::CStr8 => 1,
            InType::CStr16 | InType::Binary | InType::BinaryC | InType::Str16 | InType::Str8 => 2,
            InType::Sid => 8,
            // HexSize: the smaller of the two pointer sizes.
            t => t.fixed_size(PointerSize::Four).unwrap_or(0),
        }
    }

    /// Smallest number of payload bytes the whole field can take.
    pub(crate) fn min_size(&self) -> usize {
        match &self.shape {
            Shape::Scalar => self.min_element_size(),
            Shape::ConstArray(n) => self.min_element_size().saturating_mul(usize::from(*n)),
            Shape::VarArray | Shape::Custom(_) => 2,
        }
    }
}

/// A parsed event schema: what an event's metadata says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schema {
    /// Event name.
    pub name: String,
    /// 28-bit event tag (0 = none).
    pub tags: u32,
    /// Top-level fields, in payload order.
    pub fields: Vec<FieldSchema>,
}

impl Schema {
    /// A schema with no fields.
    pub fn new(name: impl Into<String>) -> Schema {
        Schema {
            name: name.into(),
            tags: 0,
            fields: Vec::new(),
        }
    }

    /// With a 28-bit event tag.
    pub fn with_tags(mut self, tags: u32) -> Schema {
        self.tags = tags;
        self
    }

    /// With one more field.
    pub fn field(mut self, field: FieldSchema) -> Schema {
        self.fields.push(field);
        self
    }

    /// Parses TraceLogging event metadata (the whole extended data item). Bytes after the
    /// metadata's own size are ignored (padding).
    pub fn parse(meta: &[u8]) -> Result<Schema> {
        let declared = match meta.get(..2) {
            Some(b) => u16::from_le_bytes([b[0], b[1]]),
            None => {
                return Err(Error::MetadataTruncated {
                    offset: 0,
                    what: "u16 size",
                })
            }
        };
        if usize::from(declared) > meta.len() || declared < 4 {
            return Err(Error::MetadataSize {
                declared,
                available: meta.len(),
            });
        }
        let mut r = MetaReader {
            buf: &meta[..usize::from(declared)],
            pos: 2,
        };
        let tags = r.tags()?;
        let name = r.name()?;
        // Flat list of fields first; then nest structs.
        let mut flat = Vec::new();
        while r.pos < r.buf.len() {
            flat.push(r.field()?);
        }
        let mut it = flat.into_iter();
        let mut fields = Vec::new();
        while let Some(field) = nest(&mut it, 0) {
            fields.push(field?);
        }
        Ok(Schema { name, tags, fields })
    }

    /// Encodes this schema as TraceLogging event metadata, the same bytes
    /// `TraceLoggingProvider.h` and the `tracelogging` crate produce (tags in their shortest
    /// form, out-type byte only when needed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = vec![0, 0];
        push_tags(&mut out, self.tags, &self.name)?;
        push_name(&mut out, &self.name)?;
        for f in &self.fields {
            push_field(&mut out, f, 0)?;
        }
        let len = u16::try_from(out.len()).map_err(|_| Error::Unencodable {
            what: format!("event {:?}", self.name),
            why: "metadata larger than 65535 bytes",
        })?;
        out[..2].copy_from_slice(&len.to_le_bytes());
        Ok(out)
    }
}

/// A field as read from the metadata, before struct nesting.
struct FlatField {
    offset: usize,
    field: FieldSchema,
    /// Members declared, for structs.
    member_count: u8,
}

type FlatFields = std::vec::IntoIter<FlatField>;

/// Takes the next field and, for a struct, its members; `None` when no field is left.
fn nest(it: &mut FlatFields, depth: usize) -> Option<Result<FieldSchema>> {
    let flat = it.next()?;
    let mut field = flat.field;
    if field.is_struct() {
        if depth >= MAX_DEPTH {
            return Some(Err(Error::TooDeep {
                offset: flat.offset,
            }));
        }
        let mut members = Vec::with_capacity(usize::from(flat.member_count));
        for found in 0..usize::from(flat.member_count) {
            match nest(it, depth + 1) {
                Some(Ok(member)) => members.push(member),
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    return Some(Err(Error::MissingStructMembers {
                        offset: flat.offset,
                        declared: flat.member_count,
                        found,
                    }))
                }
            }
        }
        field.members = members;
    }
    Some(Ok(field))
}

struct MetaReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl MetaReader<'_> {
    fn u8(&mut self, what: &'static str) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or(Error::MetadataTruncated {
            offset: self.pos,
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn bytes(&mut self, n: usize, what: &'static str) -> Result<&[u8]> {
        let b = self
            .buf
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or(Error::MetadataTruncated {
                offset: self.pos,
                what,
            })?;
        self.pos += n;
        Ok(b)
    }

    /// 7-bit chunks, most significant first: chunk i holds tag bits 27-7i .. 21-7i.
    fn tags(&mut self) -> Result<u32> {
        let start = self.pos;
        let mut tags = 0u32;
        for i in 0..4 {
            let b = self.u8("tag byte")?;
            tags |= u32::from(b & 0x7F) << (21 - 7 * i);
            if b & 0x80 == 0 {
                return Ok(tags);
            }
        }
        Err(Error::TagChainTooLong { offset: start })
    }

    fn name(&mut self) -> Result<String> {
        let start = self.pos;
        let rest = &self.buf[start..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(Error::UnterminatedName { offset: start })?;
        let s =
            core::str::from_utf8(&rest[..len]).map_err(|_| Error::InvalidName { offset: start })?;
        self.pos += len + 1;
        Ok(s.to_owned())
    }

    fn field(&mut self) -> Result<FlatField> {
        let offset = self.pos;
        let name = self.name()?;
        let type_offset = self.pos;
        let in_byte = self.u8("in-type")?;
        let in_type = InType(in_byte & InType::TYPE_MASK);
        if !in_type.is_known() {
            return Err(Error::UnknownInType {
                offset: type_offset,
                in_type,
            });
        }
        let mut out_byte = 0u8;
        let mut tags = 0u32;
        if in_byte & InType::CHAIN_FLAG != 0 {
            out_byte = self.u8("out-type")?;
            if out_byte & OutType::CHAIN_FLAG != 0 {
                tags = self.tags()?;
            }
        }
        let shape = match in_byte & InType::FLAG_MASK {
            0 => Shape::Scalar,
            InType::CONSTANT_COUNT_FLAG => Shape::ConstArray(self.u16("constant array count")?),
            InType::VARIABLE_COUNT_FLAG => Shape::VarArray,
            _ => {
                let n = self.u16("custom schema size")?;
                Shape::Custom(self.bytes(usize::from(n), "custom schema")?.into())
            }
        };
        let is_struct = in_type == InType::Struct;
        let out_value = out_byte & OutType::TYPE_MASK;
        Ok(FlatField {
            offset,
            member_count: if is_struct { out_value } else { 0 },
            field: FieldSchema {
                name,
                in_type,
                out_type: if is_struct {
                    OutType::Default
                } else {
                    OutType(out_value)
                },
                tags,
                shape,
                members: Vec::new(),
            },
        })
    }
}

fn push_tags(out: &mut Vec<u8>, tags: u32, what: &str) -> Result<()> {
    if tags > 0x0FFF_FFFF {
        return Err(Error::Unencodable {
            what: what.to_owned(),
            why: "tag larger than 28 bits",
        });
    }
    let mut t = tags;
    loop {
        let chunk = (t >> 21) as u8 & 0x7F;
        if t & 0x1F_FFFF == 0 {
            out.push(chunk);
            return Ok(());
        }
        out.push(chunk | 0x80);
        t = (t << 7) & 0x0FFF_FFFF;
    }
}

fn push_name(out: &mut Vec<u8>, name: &str) -> Result<()> {
    if name.as_bytes().contains(&0) {
        return Err(Error::Unencodable {
            what: format!("name {name:?}"),
            why: "name contains NUL",
        });
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    Ok(())
}

fn push_field(out: &mut Vec<u8>, f: &FieldSchema, depth: usize) -> Result<()> {
    let unencodable = |why| Error::Unencodable {
        what: format!("field {:?}", f.name),
        why,
    };
    // The same limit as `Schema::parse`: a struct at depth MAX_DEPTH is refused.
    if f.is_struct() && depth >= MAX_DEPTH {
        return Err(unencodable("structs nested too deeply"));
    }
    if !f.in_type.is_known() {
        return Err(unencodable("unknown in-type"));
    }
    push_name(out, &f.name)?;
    let flags = match f.shape {
        Shape::Scalar => 0,
        Shape::ConstArray(_) => InType::CONSTANT_COUNT_FLAG,
        Shape::VarArray => InType::VARIABLE_COUNT_FLAG,
        Shape::Custom(_) => InType::CUSTOM_FLAG,
    };
    let out_value = if f.is_struct() {
        if f.members.len() > 127 {
            return Err(unencodable("struct with more than 127 members"));
        }
        if f.out_type != OutType::Default {
            return Err(unencodable("struct out-type slot holds the member count"));
        }
        f.members.len() as u8
    } else {
        if f.out_type.0 > 0x7F {
            return Err(unencodable("out-type larger than 127"));
        }
        f.out_type.0
    };
    let in_byte = f.in_type.0 | flags;
    // A struct always has its out-type byte (the member count), like the C++ builder.
    if f.tags != 0 {
        out.push(in_byte | InType::CHAIN_FLAG);
        out.push(out_value | OutType::CHAIN_FLAG);
        push_tags(out, f.tags, &f.name)?;
    } else if out_value != 0 || f.is_struct() {
        out.push(in_byte | InType::CHAIN_FLAG);
        out.push(out_value);
    } else {
        out.push(in_byte);
    }
    match &f.shape {
        Shape::ConstArray(n) => out.extend_from_slice(&n.to_le_bytes()),
        Shape::Custom(schema) => {
            let n = u16::try_from(schema.len())
                .map_err(|_| unencodable("custom schema over 65535 bytes"))?;
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(schema);
        }
        Shape::Scalar | Shape::VarArray => {}
    }
    for m in &f.members {
        push_field(out, m, depth + 1)?;
    }
    Ok(())
}
