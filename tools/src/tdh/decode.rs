//! Decoding a payload by an [`EventLayout`] into the values the TraceLogging decoder
//! produces ([`crate::tracelogging::Value`]), so that both print and analyse alike.
//!
//! In-type and out-type select the value, as TDH formats them:
//!
//! | in-type | out-type | value |
//! |---|---|---|
//! | `INT8`…`INT64` | hex out-types, `ERRORCODE`, `CODE_POINTER` | `Hex` |
//! | `INT8`…`INT64` | other | `I64` |
//! | `UINT8`…`UINT64`, `SIZET` | hex out-types | `Hex` |
//! | `UINT8`, `INT8` | `STRING` | `Char` (CP1252) |
//! | `UINT8` | `BOOLEAN` | `Bool` |
//! | `UINT16` | `STRING` / `PORT` | `Char` / `Port` (big-endian) |
//! | `UINT32`, `INT32`, `HEXINT32` | `WIN32ERROR`, `NTSTATUS`, `HRESULT` | same-named variant |
//! | `UINT32` | `IPV4` | `Ipv4` |
//! | other unsigned | other | `U64` |
//! | `HEXINT32`, `HEXINT64`, `POINTER` | any | `Hex` (pointers by the event's pointer size) |
//! | `FLOAT`, `DOUBLE`, `GUID`, `FILETIME`, `SYSTEMTIME`, `SID` | any | same-named variant |
//! | `BOOLEAN` | any | `Bool` (4 bytes) |
//! | `UNICODESTRING`, `ANSISTRING` | any | `Str`: NUL-terminated, or the length's characters cut at the first NUL; 8-bit strings are UTF-8 with out-types `UTF8`, `JSON`, `XML`, CP1252 otherwise |
//! | counted strings (`MANIFEST_COUNTED*`, `COUNTED*`: `u16` byte count; `REVERSEDCOUNTED*`: big-endian) | any | `Str` |
//! | `NONNULLTERMINATED*STRING` | any | `Str`, the rest of the payload |
//! | `UNICODECHAR`, `ANSICHAR` | any | `Char` |
//! | `BINARY` (the length's bytes), `MANIFEST_COUNTEDBINARY` (`u16` count), `HEXDUMP` (`u32` count) | `IPV6` (16 bytes) / `SOCKETADDRESS` / other | `Ipv6` / `SocketAddress` / `Binary` |
//! | `WBEMSID` | any | `Sid`: a `TOKEN_USER` (two pointers) then the SID, or 4 zero bytes for none (`Sid` of no bytes) |
//! | a struct | — | `Struct` |
//!
//! An integer with a value map becomes `Mapped` (raw value and name) when the map names it.
//! Arrays give `Array`, except arrays of characters, which give `Str` as TDH shows them.
//! Every count is checked against the bytes left before anything is allocated, and the
//! values of one event are bounded as in TraceLogging decoding.

use std::borrow::Cow;
use std::net::Ipv4Addr;
use std::ops::Range;

use super::error::{DecodeError, DecodeErrorKind};
use super::layout::{Count, EventLayout, Length, Property, PropertyKind, ValueMap};
use super::types::{TdhInType, TdhOutType};
use crate::tracelogging::{
    binary_value, cp1252_char, find_nul16, find_nul8, str8, utf16_lossy, value_budget, Field, Guid,
    OutType, PointerSize, Value,
};

/// The fields of a decoded event and the bytes left after them.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<'a> {
    /// Top-level fields in payload order.
    pub fields: Vec<Field<'a>>,
    /// Payload bytes after the last field.
    pub unread: usize,
}

/// Decodes `payload` by `layout`; bytes left after the last property are counted in
/// [`Decoded::unread`], not an error (see [`decode_exact`]).
pub fn decode<'a>(
    layout: &'a EventLayout,
    payload: &'a [u8],
    pointer_size: PointerSize,
) -> Result<Decoded<'a>> {
    let props = layout.properties();
    let mut d = Decoder {
        layout,
        props,
        buf: payload,
        pos: 0,
        ptr: pointer_size,
        values: 0,
        max_values: value_budget(payload.len()),
        ints: if layout.has_references() {
            vec![None; props.len()]
        } else {
            Vec::new()
        },
    };
    let fields = d.fields(0..layout.top_level().len())?;
    Ok(Decoded {
        fields,
        unread: payload.len() - d.pos,
    })
}

/// Decodes `payload` by `layout` and requires the layout to account for every byte: bytes
/// left after the last property are [`DecodeErrorKind::TrailingBytes`].
pub fn decode_exact<'a>(
    layout: &'a EventLayout,
    payload: &'a [u8],
    pointer_size: PointerSize,
) -> Result<Vec<Field<'a>>> {
    let d = decode(layout, payload, pointer_size)?;
    if d.unread != 0 {
        return Err(DecodeError {
            offset: payload.len() - d.unread,
            property: None,
            kind: DecodeErrorKind::TrailingBytes { count: d.unread },
        });
    }
    Ok(d.fields)
}

struct Decoder<'a> {
    layout: &'a EventLayout,
    props: &'a [Property],
    buf: &'a [u8],
    pos: usize,
    ptr: PointerSize,
    values: usize,
    max_values: usize,
    /// The integer value of each scalar decoded so far, when counts or lengths refer to them.
    ints: Vec<Option<u64>>,
}

type Result<T> = core::result::Result<T, DecodeError>;

impl<'a> Decoder<'a> {
    fn err(&self, p: &Property, at: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: at,
            property: Some(p.name.clone()),
            kind,
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, p: &Property, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(self.err(
                p,
                self.pos,
                DecodeErrorKind::Truncated {
                    needed: n,
                    available: self.left(),
                },
            ));
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn array<const N: usize>(&mut self, p: &Property) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(p, N)?);
        Ok(a)
    }

    fn count_values(&mut self, n: usize) -> Result<()> {
        self.values = self.values.saturating_add(n);
        if self.values > self.max_values {
            return Err(DecodeError {
                offset: self.pos,
                property: None,
                kind: DecodeErrorKind::TooManyValues,
            });
        }
        Ok(())
    }

    fn fields(&mut self, range: Range<usize>) -> Result<Vec<Field<'a>>> {
        self.count_values(range.len())?;
        let mut out = Vec::with_capacity(range.len());
        for i in range {
            let p = &self.props[i];
            if p.optional && self.left() == 0 {
                continue;
            }
            out.push(Field {
                name: &p.name,
                tags: p.tags,
                value: self.property(i, p)?,
            });
        }
        Ok(out)
    }

    /// The value of the integer property `at`, for a count or length of `p`.
    fn reference(&self, p: &Property, at: u16) -> Result<u64> {
        match self.ints.get(usize::from(at)).copied().flatten() {
            Some(v) => Ok(v),
            None => Err(self.err(
                p,
                self.pos,
                DecodeErrorKind::ReferenceNotDecoded {
                    reference: self.props[usize::from(at)].name.clone(),
                },
            )),
        }
    }

    fn property(&mut self, i: usize, p: &'a Property) -> Result<Value<'a>> {
        let at = self.pos;
        let n = match p.count {
            Count::Scalar => return self.element(i, p),
            Count::Fixed(n) => u64::from(n),
            Count::Property(r) => self.reference(p, r)?,
            Count::Remaining => {
                // A fixed-size in-type (checked by the layout).
                let size = p
                    .in_type()
                    .and_then(|t| t.fixed_size(self.ptr))
                    .unwrap_or(1);
                (self.left() / size) as u64
            }
        };
        let fits = usize::try_from(n)
            .ok()
            .filter(|&n| self.min_element_size(i).saturating_mul(n) <= self.left());
        let Some(n) = fits else {
            return Err(self.err(
                p,
                at,
                DecodeErrorKind::CountTooLarge {
                    count: n,
                    available: self.left(),
                },
            ));
        };
        if let Some(s) = self.char_array(p, n)? {
            return Ok(Value::Str(s));
        }
        self.count_values(n)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.element(i, p)?);
        }
        Ok(Value::Array(items))
    }

    /// An array of characters is a string, as TDH shows it.
    fn char_array(&mut self, p: &Property, n: usize) -> Result<Option<Cow<'a, str>>> {
        let PropertyKind::Value {
            in_type, out_type, ..
        } = p.kind
        else {
            return Ok(None);
        };
        let string = out_type == TdhOutType::STRING;
        Ok(match in_type {
            TdhInType::ANSICHAR => Some(str8(self.take(p, n)?, OutType::Default)),
            TdhInType::INT8 | TdhInType::UINT8 if string => {
                Some(str8(self.take(p, n)?, OutType::Default))
            }
            TdhInType::UNICODECHAR => Some(Cow::Owned(utf16_lossy(self.take(p, 2 * n)?))),
            TdhInType::UINT16 if string => Some(Cow::Owned(utf16_lossy(self.take(p, 2 * n)?))),
            _ => None,
        })
    }

    /// Fewest bytes one element of property `i` takes (a bound for array counts).
    fn min_element_size(&self, i: usize) -> usize {
        self.layout.min_element_size(i)
    }

    fn element(&mut self, i: usize, p: &'a Property) -> Result<Value<'a>> {
        match &p.kind {
            PropertyKind::Struct { first, members } => {
                let first = usize::from(*first);
                Ok(Value::Struct(
                    self.fields(first..first + usize::from(*members))?,
                ))
            }
            PropertyKind::Value {
                in_type,
                out_type,
                map,
            } => {
                if in_type.is_integer() {
                    let raw = self.integer(p, *in_type)?;
                    if let Some(slot) = self.ints.get_mut(i) {
                        *slot = Some(raw);
                    }
                    if let Some(name) = map.as_deref().and_then(|m| map_name(m, raw)) {
                        return Ok(Value::Mapped(raw, name));
                    }
                    return Ok(integer_value(raw, *in_type, *out_type));
                }
                self.other(p, *in_type, *out_type)
            }
        }
    }

    /// An integer's raw bits, sign-extended for signed types.
    fn integer(&mut self, p: &Property, t: TdhInType) -> Result<u64> {
        let size = t.fixed_size(self.ptr).unwrap_or(8);
        let b = self.take(p, size)?;
        let mut le = [0u8; 8];
        le[..size].copy_from_slice(b);
        let raw = u64::from_le_bytes(le);
        Ok(if t.is_signed() && size < 8 {
            let shift = 64 - 8 * size as u32;
            (((raw << shift) as i64) >> shift) as u64
        } else {
            raw
        })
    }

    fn length(&self, p: &Property) -> Result<Option<usize>> {
        match p.length {
            Length::Natural => Ok(None),
            Length::Fixed(n) => Ok(Some(usize::from(n))),
            // A length beyond the payload is caught as truncation when the value is taken.
            Length::Property(r) => Ok(Some(
                usize::try_from(self.reference(p, r)?).unwrap_or(usize::MAX),
            )),
        }
    }

    fn other(&mut self, p: &'a Property, t: TdhInType, out: TdhOutType) -> Result<Value<'a>> {
        let utf8 = if matches!(out, TdhOutType::UTF8 | TdhOutType::JSON | TdhOutType::XML) {
            OutType::Utf8
        } else {
            OutType::Default
        };
        Ok(match t {
            TdhInType::FLOAT => Value::F32(f32::from_le_bytes(self.array(p)?)),
            TdhInType::DOUBLE => Value::F64(f64::from_le_bytes(self.array(p)?)),
            TdhInType::BOOLEAN => Value::Bool(u32::from_le_bytes(self.array(p)?)),
            TdhInType::GUID => Value::Guid(Guid::from_bytes_le(self.array(p)?)),
            TdhInType::FILETIME => Value::FileTime(u64::from_le_bytes(self.array(p)?)),
            TdhInType::SYSTEMTIME => {
                let b: [u8; 16] = self.array(p)?;
                let mut st = [0u16; 8];
                for (i, v) in st.iter_mut().enumerate() {
                    *v = u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
                }
                Value::SystemTime(st)
            }
            TdhInType::UNICODECHAR => {
                let u = u16::from_le_bytes(self.array(p)?);
                Value::Char(char::from_u32(u32::from(u)).unwrap_or('\u{FFFD}'))
            }
            TdhInType::ANSICHAR => Value::Char(cp1252_char(self.array::<1>(p)?[0])),
            TdhInType::UNICODESTRING => Value::Str(self.utf16_string(p)?),
            TdhInType::ANSISTRING => Value::Str(self.ansi_string(p, utf8)?),
            TdhInType::MANIFEST_COUNTEDSTRING | TdhInType::COUNTEDSTRING => {
                let n = usize::from(u16::from_le_bytes(self.array(p)?));
                Value::Str(Cow::Owned(utf16_lossy(self.take(p, n)?)))
            }
            TdhInType::REVERSEDCOUNTEDSTRING => {
                let n = usize::from(u16::from_be_bytes(self.array(p)?));
                Value::Str(Cow::Owned(utf16_lossy(self.take(p, n)?)))
            }
            TdhInType::MANIFEST_COUNTEDANSISTRING | TdhInType::COUNTEDANSISTRING => {
                let n = usize::from(u16::from_le_bytes(self.array(p)?));
                Value::Str(str8(self.take(p, n)?, utf8))
            }
            TdhInType::REVERSEDCOUNTEDANSISTRING => {
                let n = usize::from(u16::from_be_bytes(self.array(p)?));
                Value::Str(str8(self.take(p, n)?, utf8))
            }
            TdhInType::NONNULLTERMINATEDSTRING => {
                let n = self.left();
                Value::Str(Cow::Owned(utf16_lossy(self.take(p, n)?)))
            }
            TdhInType::NONNULLTERMINATEDANSISTRING => {
                let n = self.left();
                Value::Str(str8(self.take(p, n)?, utf8))
            }
            TdhInType::BINARY => {
                let n = self.length(p)?.unwrap_or(0);
                binary(self.take(p, n)?, out)
            }
            TdhInType::MANIFEST_COUNTEDBINARY => {
                let n = usize::from(u16::from_le_bytes(self.array(p)?));
                binary(self.take(p, n)?, out)
            }
            TdhInType::HEXDUMP => {
                let n = u32::from_le_bytes(self.array(p)?) as usize;
                binary(self.take(p, n)?, out)
            }
            TdhInType::SID => Value::Sid(self.sid(p)?),
            TdhInType::WBEMSID => self.wbem_sid(p)?,
            t => {
                return Err(self.err(p, self.pos, DecodeErrorKind::UnknownInType(t)));
            }
        })
    }

    /// UTF-16: NUL-terminated, or the length's characters cut at the first NUL.
    fn utf16_string(&mut self, p: &Property) -> Result<Cow<'a, str>> {
        let at = self.pos;
        let units = match self.length(p)? {
            Some(n) => {
                let b = self.take(p, n.saturating_mul(2))?;
                let end = find_nul16(b).map_or(b.len(), |u| 2 * u);
                return Ok(Cow::Owned(utf16_lossy(&b[..end])));
            }
            None => find_nul16(&self.buf[at..])
                .ok_or_else(|| self.err(p, at, DecodeErrorKind::UnterminatedString))?,
        };
        self.pos += 2 * units + 2;
        Ok(Cow::Owned(utf16_lossy(&self.buf[at..at + 2 * units])))
    }

    /// 8-bit: NUL-terminated, or the length's bytes cut at the first NUL.
    fn ansi_string(&mut self, p: &Property, enc: OutType) -> Result<Cow<'a, str>> {
        let at = self.pos;
        let len = match self.length(p)? {
            Some(n) => {
                let b = self.take(p, n)?;
                let end = find_nul8(b).unwrap_or(b.len());
                return Ok(str8(&b[..end], enc));
            }
            None => find_nul8(&self.buf[at..])
                .ok_or_else(|| self.err(p, at, DecodeErrorKind::UnterminatedString))?,
        };
        self.pos += len + 1;
        Ok(str8(&self.buf[at..at + len], enc))
    }

    /// A SID: revision, sub-authority count, authority, sub-authorities.
    fn sid(&mut self, p: &Property) -> Result<&'a [u8]> {
        let at = self.pos;
        let bad = |d: &Self| d.err(p, at, DecodeErrorKind::BadSid);
        let count = *self.buf.get(at + 1).ok_or_else(|| bad(self))?;
        let len = 8 + 4 * usize::from(count);
        if len > self.left() {
            return Err(bad(self));
        }
        self.take(p, len)
    }

    /// The MOF `Sid` extension: a zero `u32` for no SID, else a `TOKEN_USER` (two pointers)
    /// followed by the SID.
    fn wbem_sid(&mut self, p: &Property) -> Result<Value<'a>> {
        let at = self.pos;
        let head = self
            .buf
            .get(at..at + 4)
            .ok_or_else(|| self.err(p, at, DecodeErrorKind::BadSid))?;
        if head == [0, 0, 0, 0] {
            self.pos += 4;
            return Ok(Value::Sid(&[]));
        }
        self.take(p, 2 * self.ptr.bytes())?;
        Ok(Value::Sid(self.sid(p)?))
    }
}

/// An integer shown as its out-type says.
fn integer_value<'a>(raw: u64, t: TdhInType, out: TdhOutType) -> Value<'a> {
    let hex_in = matches!(
        t,
        TdhInType::HEXINT32 | TdhInType::HEXINT64 | TdhInType::POINTER
    );
    match (t, out) {
        (TdhInType::INT8 | TdhInType::UINT8, TdhOutType::STRING) => {
            Value::Char(cp1252_char(raw as u8))
        }
        (TdhInType::UINT8, TdhOutType::BOOLEAN) => Value::Bool(raw as u32),
        (TdhInType::UINT16, TdhOutType::STRING) => {
            Value::Char(char::from_u32(raw as u32).unwrap_or('\u{FFFD}'))
        }
        (TdhInType::UINT16, TdhOutType::PORT) => Value::Port((raw as u16).swap_bytes()),
        (TdhInType::INT32 | TdhInType::UINT32 | TdhInType::HEXINT32, TdhOutType::HRESULT) => {
            Value::HResult(raw as u32 as i32)
        }
        (TdhInType::INT32 | TdhInType::UINT32 | TdhInType::HEXINT32, TdhOutType::NTSTATUS) => {
            Value::NtStatus(raw as u32)
        }
        (TdhInType::INT32 | TdhInType::UINT32 | TdhInType::HEXINT32, TdhOutType::WIN32ERROR) => {
            Value::Win32Error(raw as u32)
        }
        (TdhInType::UINT32, TdhOutType::IPV4) => {
            Value::Ipv4(Ipv4Addr::from((raw as u32).to_le_bytes()))
        }
        _ if hex_in || out.is_hex() => Value::Hex(unsigned_bits(raw, t)),
        _ if t.is_signed() => Value::I64(raw as i64),
        _ => Value::U64(raw),
    }
}

/// The raw value without sign extension (a negative `INT16` in hex is `0xffff`).
fn unsigned_bits(raw: u64, t: TdhInType) -> u64 {
    match t {
        TdhInType::INT8 => raw & 0xFF,
        TdhInType::INT16 => raw & 0xFFFF,
        TdhInType::INT32 => raw & 0xFFFF_FFFF,
        _ => raw,
    }
}

/// Binary data as its out-type says.
fn binary(b: &[u8], out: TdhOutType) -> Value<'_> {
    binary_value(b, out == TdhOutType::IPV6, out == TdhOutType::SOCKETADDRESS)
}

/// The name a map gives a value: a value map's entry; for a bitmap the names of the set bits
/// (bits no entry names as hex), or the entry for 0. `None` when the map names nothing.
fn map_name(map: &ValueMap, raw: u64) -> Option<Cow<'_, str>> {
    if !map.bitmap || raw == 0 {
        return map.get(raw).map(Cow::Borrowed);
    }
    let mut names = Vec::new();
    let mut rest = raw;
    for (v, name) in map.entries() {
        if *v != 0 && raw & v == *v {
            names.push(name.as_str());
            rest &= !v;
        }
    }
    if names.is_empty() {
        return None;
    }
    let mut s = names.join("|");
    if rest != 0 {
        s.push_str(&format!("|{rest:#x}"));
    }
    Some(Cow::Owned(s))
}
