//! Decoding an event's user data (payload) by its [`Schema`].
//!
//! In-type and out-type select the [`Value`] variant:
//!
//! | in-type | out-type | value |
//! |---|---|---|
//! | `I8`, `U8` | String | `Char` (CP1252) |
//! | `U8` | Boolean | `Bool` |
//! | `U16` | String | `Char` (UTF-16 code unit; U+FFFD for a lone surrogate) |
//! | `U16` | Port | `Port` (big-endian in the payload) |
//! | `I32`, `U32`, `Hex32` | HResult | `HResult` |
//! | `U32`, `Hex32`, `I32` | NtStatus / Win32Error | `NtStatus` / `Win32Error` |
//! | `U32` | IPv4 | `Ipv4` |
//! | integers | Hex, CodePointer | `Hex` |
//! | `I8`..`I64` | other | `I64` |
//! | `U8`..`U64` | other | `U64` |
//! | `Hex32`, `Hex64`, `HexSize` | other | `Hex` (`HexSize` by the event's pointer size) |
//! | `F32`, `F64`, `Bool32`, `Guid`, `FileTime`, `SystemTime`, `Sid` | any | same-named variant |
//! | `CStr16`, `Str16` | any | `Str` (UTF-16, lossy) |
//! | `CStr8`, `Str8` | Utf8, Json, Xml | `Str` (UTF-8, lossy) |
//! | `CStr8`, `Str8` | other | `Str` (CP1252) |
//! | `Binary`, `BinaryC` | IPv6 (16 bytes) | `Ipv6` |
//! | `Binary`, `BinaryC` | SocketAddress | `SocketAddress` |
//! | `Binary`, `BinaryC` | other | `Binary` |
//! | `Struct` | — | `Struct` |
//!
//! Arrays give `Array` of the element values, except arrays of characters (`I8`, `U8`,
//! `U16` with out-type String), which give `Str` as TDH shows them; custom fields give
//! `Custom`.
//! Every count is checked against the bytes left before anything is allocated.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::{Error, Result, MAX_VALUES, VALUES_BASE, VALUES_PER_BYTE};
use super::schema::{FieldSchema, Schema, Shape};
use super::types::{InType, OutType, PointerSize};
use super::value::{DecodedEvent, Field, Value};
use crate::etl::Guid;

/// Decodes `payload` (the event's user data) by `schema`. `pointer_size` is the event's
/// (it sizes `HexSize` fields). Trailing bytes are not an error; their number is in
/// [`DecodedEvent::unread`].
pub fn decode<'a>(
    schema: &'a Schema,
    payload: &'a [u8],
    pointer_size: PointerSize,
) -> Result<DecodedEvent<'a>> {
    let mut d = Decoder::<Values>::new(payload, pointer_size);
    let fields = d.fields(&schema.fields)?;
    Ok(DecodedEvent {
        name: &schema.name,
        tags: schema.tags,
        fields,
        unread: payload.len() - d.pos,
    })
}

/// Whether `payload` decodes by `schema`, without building its values: the same walk as
/// [`decode`] (the same sizes, counts and budget), giving the same error where it fails, or
/// the number of trailing bytes ([`DecodedEvent::unread`]) where it does not.
pub fn validate(schema: &Schema, payload: &[u8], pointer_size: PointerSize) -> Result<usize> {
    let mut d = Decoder::<Sizes>::new(payload, pointer_size);
    d.fields(&schema.fields)?;
    Ok(payload.len() - d.pos)
}

/// What a walk of a payload makes of what it reads: [`Values`] builds the values ([`decode`]),
/// [`Sizes`] nothing ([`validate`]). The walk alone decides where each value ends and what
/// fails.
trait Make<'a> {
    type Value;
    type Fields;
    type Items;
    fn fields(capacity: usize) -> Self::Fields;
    fn field(fields: &mut Self::Fields, f: &'a FieldSchema, value: Self::Value);
    fn items(capacity: usize) -> Self::Items;
    fn item(items: &mut Self::Items, value: Self::Value);
    fn array(items: Self::Items) -> Self::Value;
    fn structure(fields: Self::Fields) -> Self::Value;
    /// An array of 8-bit characters, as a string.
    fn chars8(bytes: &'a [u8]) -> Self::Value;
    /// An array of UTF-16 code units, as a string.
    fn chars16(bytes: &'a [u8]) -> Self::Value;
    fn custom(bytes: &'a [u8]) -> Self::Value;
    /// One element that is not a struct, from exactly its bytes ([`Decoder::element_bytes`]).
    fn element(f: &'a FieldSchema, bytes: &'a [u8], ptr: PointerSize) -> Self::Value;
}

/// Builds [`Value`]s.
struct Values;

impl<'a> Make<'a> for Values {
    type Value = Value<'a>;
    type Fields = Vec<Field<'a>>;
    type Items = Vec<Value<'a>>;
    fn fields(capacity: usize) -> Self::Fields {
        Vec::with_capacity(capacity)
    }
    fn field(fields: &mut Self::Fields, f: &'a FieldSchema, value: Value<'a>) {
        fields.push(Field {
            name: &f.name,
            tags: f.tags,
            value,
        });
    }
    fn items(capacity: usize) -> Self::Items {
        Vec::with_capacity(capacity)
    }
    fn item(items: &mut Self::Items, value: Value<'a>) {
        items.push(value);
    }
    fn array(items: Self::Items) -> Value<'a> {
        Value::Array(items)
    }
    fn structure(fields: Self::Fields) -> Value<'a> {
        Value::Struct(fields)
    }
    fn chars8(bytes: &'a [u8]) -> Value<'a> {
        Value::Str(str8(bytes, OutType::Default))
    }
    fn chars16(bytes: &'a [u8]) -> Value<'a> {
        Value::Str(Cow::Owned(utf16_lossy(bytes)))
    }
    fn custom(bytes: &'a [u8]) -> Value<'a> {
        Value::Custom(bytes)
    }
    fn element(f: &'a FieldSchema, bytes: &'a [u8], ptr: PointerSize) -> Value<'a> {
        element_value(f, bytes, ptr)
    }
}

/// Builds nothing.
struct Sizes;

impl<'a> Make<'a> for Sizes {
    type Value = ();
    type Fields = ();
    type Items = ();
    fn fields(_: usize) {}
    fn field(_: &mut (), _: &'a FieldSchema, _: ()) {}
    fn items(_: usize) {}
    fn item(_: &mut (), _: ()) {}
    fn array(_: ()) {}
    fn structure(_: ()) {}
    fn chars8(_: &'a [u8]) {}
    fn chars16(_: &'a [u8]) {}
    fn custom(_: &'a [u8]) {}
    fn element(_: &'a FieldSchema, _: &'a [u8], _: PointerSize) {}
}

struct Decoder<'a, M> {
    buf: &'a [u8],
    pos: usize,
    ptr: PointerSize,
    values: usize,
    max_values: usize,
    make: core::marker::PhantomData<M>,
}

impl<'a, M: Make<'a>> Decoder<'a, M> {
    fn new(payload: &'a [u8], ptr: PointerSize) -> Self {
        Decoder {
            buf: payload,
            pos: 0,
            ptr,
            values: 0,
            max_values: value_budget(payload.len()),
            make: core::marker::PhantomData,
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(Error::PayloadTruncated {
                offset: self.pos,
                needed: n,
                available: self.left(),
            });
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// A `u16` byte count and that many bytes.
    fn counted(&mut self) -> Result<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    fn count(&mut self, n: usize) -> Result<()> {
        self.values += n;
        if self.values > self.max_values {
            return Err(Error::TooManyValues { offset: self.pos });
        }
        Ok(())
    }

    fn fields(&mut self, fields: &'a [FieldSchema]) -> Result<M::Fields> {
        self.count(fields.len())?;
        let mut out = M::fields(fields.len());
        for f in fields {
            let value = self.field(f)?;
            M::field(&mut out, f, value);
        }
        Ok(out)
    }

    fn field(&mut self, f: &'a FieldSchema) -> Result<M::Value> {
        match &f.shape {
            Shape::Scalar => self.element(f),
            Shape::ConstArray(n) => self.elements(f, *n, self.pos),
            Shape::VarArray => {
                let at = self.pos;
                let n = self.u16()?;
                self.elements(f, n, at)
            }
            Shape::Custom(_) => Ok(M::custom(self.counted()?)),
        }
    }

    fn elements(&mut self, f: &'a FieldSchema, n: u16, at: usize) -> Result<M::Value> {
        let n = usize::from(n);
        if f.min_element_size().saturating_mul(n) > self.left() {
            return Err(Error::CountTooLarge {
                offset: at,
                count: n as u16,
                available: self.left(),
            });
        }
        if f.out_type == OutType::String {
            // An array of characters (`TraceLoggingCharArray`, `TraceLoggingWCharArray`) is a
            // string, as TDH shows it.
            match f.in_type {
                InType::I8 | InType::U8 => return Ok(M::chars8(self.take(n)?)),
                InType::U16 => return Ok(M::chars16(self.take(2 * n)?)),
                _ => {}
            }
        }
        self.count(n)?;
        let mut items = M::items(n);
        for _ in 0..n {
            let value = self.element(f)?;
            M::item(&mut items, value);
        }
        Ok(M::array(items))
    }

    fn element(&mut self, f: &'a FieldSchema) -> Result<M::Value> {
        if f.in_type == InType::Struct {
            return Ok(M::structure(self.fields(&f.members)?));
        }
        let bytes = self.element_bytes(f.in_type)?;
        Ok(M::element(f, bytes, self.ptr))
    }

    /// The bytes of one element of `in_type` (not a struct), the payload's position moved past
    /// it: the one definition of each in-type's size. For NUL-terminated strings the bytes
    /// exclude the terminator, for counted ones the count.
    fn element_bytes(&mut self, in_type: InType) -> Result<&'a [u8]> {
        if let Some(n) = in_type.fixed_size(self.ptr) {
            return self.take(n);
        }
        let at = self.pos;
        match in_type {
            InType::Sid => {
                let head = self
                    .buf
                    .get(at..at + 8)
                    .ok_or(Error::BadSid { offset: at })?;
                let len = 8 + 4 * usize::from(head[1]);
                self.take(len).map_err(|_| Error::BadSid { offset: at })
            }
            InType::CStr16 => {
                let rest = &self.buf[at..];
                let units = find_nul16(rest).ok_or(Error::UnterminatedString { offset: at })?;
                self.pos += 2 * units + 2;
                Ok(&rest[..2 * units])
            }
            InType::CStr8 => {
                let rest = &self.buf[at..];
                let len = find_nul8(rest).ok_or(Error::UnterminatedString { offset: at })?;
                self.pos += len + 1;
                Ok(&rest[..len])
            }
            InType::Str16 | InType::Str8 | InType::Binary | InType::BinaryC => self.counted(),
            // Schema::parse rejects unknown in-types; a hand-built schema may still hold one.
            t => Err(Error::UnknownInType {
                offset: at,
                in_type: t,
            }),
        }
    }
}

/// The first `N` bytes of `b` (zeros past its end: `b` holds at least `N` where this is used).
fn le<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = b.len().min(N);
    a[..n].copy_from_slice(&b[..n]);
    a
}

/// The value of one element (not a struct) of field `f` from its bytes (see the table of the
/// module doc).
fn element_value<'a>(f: &FieldSchema, b: &'a [u8], ptr: PointerSize) -> Value<'a> {
    let out = f.out_type;
    match f.in_type {
        InType::I8 => {
            let v = le::<1>(b)[0];
            match out {
                OutType::String => Value::Char(cp1252_char(v)),
                OutType::Hex => Value::Hex(u64::from(v)),
                _ => Value::I64(i64::from(v as i8)),
            }
        }
        InType::U8 => {
            let v = le::<1>(b)[0];
            match out {
                OutType::String => Value::Char(cp1252_char(v)),
                OutType::Boolean => Value::Bool(u32::from(v)),
                OutType::Hex => Value::Hex(u64::from(v)),
                _ => Value::U64(u64::from(v)),
            }
        }
        InType::I16 => {
            let v = i16::from_le_bytes(le(b));
            match out {
                OutType::Hex => Value::Hex(u64::from(v as u16)),
                _ => Value::I64(i64::from(v)),
            }
        }
        InType::U16 => {
            let v = u16::from_le_bytes(le(b));
            match out {
                OutType::String => Value::Char(char::from_u32(u32::from(v)).unwrap_or('\u{FFFD}')),
                OutType::Hex => Value::Hex(u64::from(v)),
                OutType::Port => Value::Port(v.swap_bytes()),
                _ => Value::U64(u64::from(v)),
            }
        }
        InType::I32 | InType::U32 | InType::Hex32 => {
            let b: [u8; 4] = le(b);
            let v = u32::from_le_bytes(b);
            match (f.in_type, out) {
                (_, OutType::HResult) => Value::HResult(v as i32),
                (_, OutType::NtStatus) => Value::NtStatus(v),
                (_, OutType::Win32Error) => Value::Win32Error(v),
                (InType::U32, OutType::IPv4) => Value::Ipv4(Ipv4Addr::from(b)),
                (InType::Hex32, _) | (_, OutType::Hex | OutType::CodePointer) => {
                    Value::Hex(u64::from(v))
                }
                (InType::I32, _) => Value::I64(i64::from(v as i32)),
                _ => Value::U64(u64::from(v)),
            }
        }
        InType::I64 | InType::U64 | InType::Hex64 => {
            let v = u64::from_le_bytes(le(b));
            match (f.in_type, out) {
                (InType::Hex64, _) | (_, OutType::Hex | OutType::CodePointer) => Value::Hex(v),
                (InType::I64, _) => Value::I64(v as i64),
                _ => Value::U64(v),
            }
        }
        InType::HexSize => match ptr {
            PointerSize::Four => Value::Hex(u64::from(u32::from_le_bytes(le(b)))),
            PointerSize::Eight => Value::Hex(u64::from_le_bytes(le(b))),
        },
        InType::F32 => Value::F32(f32::from_le_bytes(le(b))),
        InType::F64 => Value::F64(f64::from_le_bytes(le(b))),
        InType::Bool32 => Value::Bool(u32::from_le_bytes(le(b))),
        InType::Guid => Value::Guid(Guid::from_bytes_le(le(b))),
        InType::FileTime => Value::FileTime(u64::from_le_bytes(le(b))),
        InType::SystemTime => {
            let b: [u8; 16] = le(b);
            let mut t = [0u16; 8];
            for (i, v) in t.iter_mut().enumerate() {
                *v = u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
            }
            Value::SystemTime(t)
        }
        InType::Sid => Value::Sid(b),
        // An odd byte count: the last byte is not a whole code unit; it is ignored.
        InType::CStr16 | InType::Str16 => Value::Str(Cow::Owned(utf16_lossy(b))),
        InType::CStr8 | InType::Str8 => Value::Str(str8(b, out)),
        InType::Binary | InType::BinaryC => {
            binary_value(b, out == OutType::IPv6, out == OutType::SocketAddress)
        }
        // `element_bytes` gives no bytes for any other in-type.
        _ => Value::Binary(b),
    }
}

/// The most values a payload of `len` bytes may decode to (see [`MAX_VALUES`]).
pub(crate) fn value_budget(len: usize) -> usize {
    MAX_VALUES.min(VALUES_BASE.saturating_add(len.saturating_mul(VALUES_PER_BYTE)))
}

/// Binary data shown as an IPv6 address (when asked and 16 bytes long), a socket address, or
/// bytes.
pub(crate) fn binary_value(b: &[u8], ipv6: bool, socket_address: bool) -> Value<'_> {
    match <[u8; 16]>::try_from(b) {
        Ok(a) if ipv6 => Value::Ipv6(Ipv6Addr::from(a)),
        _ if socket_address => Value::SocketAddress(b),
        _ => Value::Binary(b),
    }
}

/// Index of the first 0 byte. Eight bytes at a time: a word has a zero byte when
/// `(x - 0x01..01) & !x & 0x80..80` is not zero.
pub(crate) fn find_nul8(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut skip = 0;
    for c in b.chunks_exact(8) {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        skip += 8;
    }
    b[skip..].iter().position(|&c| c == 0).map(|i| skip + i)
}

/// Index (in code units) of the first 0 UTF-16 code unit at an even offset; four units at a
/// time, like [`find_nul8`] with 16-bit lanes.
pub(crate) fn find_nul16(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0001_0001_0001_0001;
    const HI: u64 = 0x8000_8000_8000_8000;
    let mut skip = 0;
    for c in b.chunks_exact(8) {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        skip += 4;
    }
    b[2 * skip..]
        .chunks_exact(2)
        .position(|c| c == [0, 0])
        .map(|i| skip + i)
}

/// 8-bit string: UTF-8 when the out-type says so, CP1252 otherwise. Borrowed when the
/// bytes are already valid UTF-8 in the chosen decoding (always for ASCII).
pub(crate) fn str8(b: &[u8], out: OutType) -> Cow<'_, str> {
    if b.is_ascii() {
        // Safety net without unsafe: ASCII is valid UTF-8.
        return Cow::Borrowed(core::str::from_utf8(b).unwrap_or_default());
    }
    match out {
        OutType::Utf8 | OutType::Json | OutType::Xml => String::from_utf8_lossy(b),
        _ => Cow::Owned(b.iter().map(|&c| cp1252_char(c)).collect()),
    }
}

pub(crate) fn utf16_lossy(b: &[u8]) -> String {
    let b = &b[..b.len() & !1];
    // Most strings are ASCII (paths, names): their low bytes are the UTF-8.
    if b.chunks_exact(2).all(|c| c[1] == 0 && c[0] < 0x80) {
        let ascii: Vec<u8> = b.iter().step_by(2).copied().collect();
        return String::from_utf8(ascii).unwrap_or_default();
    }
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{FFFD}'))
        .collect()
}

/// Windows-1252 bytes 0x80..=0x9F; the five undefined ones map to the same code point
/// (as Windows' `MultiByteToWideChar` does), so the mapping is one-to-one.
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
];

/// One CP1252 byte as a char.
pub fn cp1252_char(b: u8) -> char {
    match b {
        0x80..=0x9F => {
            char::from_u32(u32::from(CP1252_HIGH[usize::from(b - 0x80)])).unwrap_or('\u{FFFD}')
        }
        _ => char::from(b),
    }
}

/// A char as one CP1252 byte, if it has one.
pub fn cp1252_byte(c: char) -> Option<u8> {
    let u = u32::from(c);
    if u < 0x80 || (0xA0..=0xFF).contains(&u) {
        return Some(u as u8);
    }
    CP1252_HIGH
        .iter()
        .position(|&x| u32::from(x) == u)
        .map(|i| 0x80 + i as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_search() {
        for len in 0..40 {
            for nul in 0..=len {
                let mut b = vec![0x80u8; len];
                if nul < len {
                    b[nul] = 0;
                }
                let want = (nul < len).then_some(nul);
                assert_eq!(find_nul8(&b), want, "len {len} nul {nul}");
                assert_eq!(find_nul8(&b), b.iter().position(|&c| c == 0));
                // UTF-16: units 0x0100 and 0x0080 hold zero bytes but are not NUL; odd offsets
                // (0x00 0x00 across two units) do not count.
                let mut w: Vec<u8> = (0..len)
                    .flat_map(|i| {
                        if i % 2 == 0 {
                            [0x00, 0x01]
                        } else {
                            [0x80, 0x00]
                        }
                    })
                    .collect();
                if nul < len {
                    w[2 * nul] = 0;
                    w[2 * nul + 1] = 0;
                }
                assert_eq!(find_nul16(&w), want, "utf16 len {len} nul {nul}");
                w.push(0); // odd trailing byte
                assert_eq!(find_nul16(&w), want);
            }
        }
    }
}
