//! Encoding payloads: the inverse of [`super::decode()`].
//!
//! [`encode_payload`] writes values for the fields of a [`Schema`] the way
//! `TraceLoggingProvider.h` and the `tracelogging` crate lay them out: fixed-size values
//! little-endian, NUL-terminated strings with their terminator, counted strings and binary
//! with a `u16` byte count, variable arrays with a `u16` element count, struct members in
//! order, custom fields with a `u16` size.
//!
//! A value is accepted for a field when it is a variant [`super::decode()`] gives for that
//! field's in-type (with any out-type), plus a few natural conversions (`U64` for signed
//! fields within range, `I64` for unsigned ones, `Hex`/`U64` for any integer, `Str` for
//! `Char` fields of one character). Anything else is [`Error::ValueMismatch`].

use super::decode::cp1252_byte;
use super::error::{Error, Result};
use super::schema::{FieldSchema, Schema, Shape};
use super::types::{InType, OutType, PointerSize};
use super::value::Value;

/// Encodes `values` (one per top-level field of `schema`, in order) as an event payload,
/// appending to `out`.
pub fn encode_payload(
    schema: &Schema,
    values: &[Value<'_>],
    pointer_size: PointerSize,
    out: &mut Vec<u8>,
) -> Result<()> {
    if values.len() != schema.fields.len() {
        return Err(Error::ValueCount {
            what: schema.name.clone(),
            fields: schema.fields.len(),
            values: values.len(),
        });
    }
    let mut e = Encoder {
        out,
        ptr: pointer_size,
    };
    for (f, v) in schema.fields.iter().zip(values) {
        e.field(f, v, &f.name)?;
    }
    Ok(())
}

struct Encoder<'o> {
    out: &'o mut Vec<u8>,
    ptr: PointerSize,
}

fn mismatch(f: &FieldSchema, path: &str) -> Error {
    Error::ValueMismatch {
        field: path.to_owned(),
        in_type: f.in_type,
    }
}

fn too_long(path: &str) -> Error {
    Error::Unencodable {
        what: format!("field {path:?}"),
        why: "value longer than 65535 bytes or elements",
    }
}

impl Encoder<'_> {
    fn u16_len(&mut self, n: usize, path: &str) -> Result<()> {
        let n = u16::try_from(n).map_err(|_| too_long(path))?;
        self.out.extend_from_slice(&n.to_le_bytes());
        Ok(())
    }

    fn field(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        match &f.shape {
            Shape::Scalar => self.element(f, v, path),
            Shape::ConstArray(n) => match v {
                Value::Array(items) if items.len() == usize::from(*n) => self.items(f, items, path),
                Value::Str(s) if is_char_array(f) => self.char_array(f, s, Some(*n), path),
                _ => Err(mismatch(f, path)),
            },
            Shape::VarArray => match v {
                Value::Str(s) if is_char_array(f) => self.char_array(f, s, None, path),
                Value::Array(items) => {
                    self.u16_len(items.len(), path)?;
                    self.items(f, items, path)
                }
                _ => Err(mismatch(f, path)),
            },
            Shape::Custom(_) => match v {
                Value::Custom(b) | Value::Binary(b) => {
                    self.u16_len(b.len(), path)?;
                    self.out.extend_from_slice(b);
                    Ok(())
                }
                _ => Err(mismatch(f, path)),
            },
        }
    }

    /// A character array given as a string: its length in characters, then the characters.
    fn char_array(
        &mut self,
        f: &FieldSchema,
        s: &str,
        count: Option<u16>,
        path: &str,
    ) -> Result<()> {
        let units: Vec<u16> = match f.in_type {
            InType::U16 => s.encode_utf16().collect(),
            _ => s
                .chars()
                .map(|c| cp1252_byte(c).map(u16::from))
                .collect::<Option<_>>()
                .ok_or_else(|| mismatch(f, path))?,
        };
        match count {
            Some(n) if usize::from(n) != units.len() => return Err(mismatch(f, path)),
            Some(_) => {}
            None => self.u16_len(units.len(), path)?,
        }
        for u in units {
            if f.in_type == InType::U16 {
                self.out.extend_from_slice(&u.to_le_bytes());
            } else {
                self.out.push(u as u8);
            }
        }
        Ok(())
    }

    fn items(&mut self, f: &FieldSchema, items: &[Value<'_>], path: &str) -> Result<()> {
        for (i, v) in items.iter().enumerate() {
            self.element(f, v, &format!("{path}[{i}]"))?;
        }
        Ok(())
    }

    /// One value of field `f` (an array element, or the field itself).
    fn element(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        match f.in_type {
            InType::Struct => self.members(f, v, path),
            InType::I8
            | InType::U8
            | InType::I16
            | InType::U16
            | InType::I32
            | InType::U32
            | InType::Hex32
            | InType::I64
            | InType::U64
            | InType::Hex64
            | InType::HexSize => self.integer(f, v, path),
            InType::CStr16 | InType::Str16 => self.str16(f, v, path),
            InType::CStr8 | InType::Str8 => self.str8(f, v, path),
            InType::Binary | InType::BinaryC => {
                let octets;
                let b: &[u8] = match v {
                    Value::Binary(b) | Value::SocketAddress(b) => b,
                    Value::Ipv6(a) => {
                        octets = a.octets();
                        &octets
                    }
                    _ => return Err(mismatch(f, path)),
                };
                self.u16_len(b.len(), path)?;
                self.out.extend_from_slice(b);
                Ok(())
            }
            _ => self.fixed(f, v, path),
        }
    }

    /// A struct's members, in schema order.
    fn members(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        let Value::Struct(members) = v else {
            return Err(mismatch(f, path));
        };
        if members.len() != f.members.len() {
            return Err(Error::ValueCount {
                what: path.to_owned(),
                fields: f.members.len(),
                values: members.len(),
            });
        }
        for (m, mv) in f.members.iter().zip(members) {
            self.field(m, &mv.value, &format!("{path}.{}", m.name))?;
        }
        Ok(())
    }

    /// An integer in-type (its value may be any integer-like [`Value`] that fits).
    fn integer(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        let bad = || mismatch(f, path);
        match f.in_type {
            InType::I8 | InType::U8 => {
                let b = match *v {
                    Value::Char(c) => cp1252_byte(c).ok_or_else(bad)?,
                    Value::Bool(b) => u8::try_from(b).map_err(|_| bad())?,
                    _ => int_bits(v, 1, f.in_type == InType::I8).ok_or_else(bad)? as u8,
                };
                self.out.push(b);
            }
            InType::I16 | InType::U16 => {
                let x = match *v {
                    Value::Char(c) => u16::try_from(u32::from(c)).map_err(|_| bad())?,
                    Value::Port(p) => p.swap_bytes(),
                    _ => int_bits(v, 2, f.in_type == InType::I16).ok_or_else(bad)? as u16,
                };
                self.out.extend_from_slice(&x.to_le_bytes());
            }
            InType::I32 | InType::U32 | InType::Hex32 => {
                let x = match *v {
                    Value::HResult(h) => h as u32,
                    Value::NtStatus(s) | Value::Win32Error(s) => s,
                    Value::Ipv4(a) => u32::from_le_bytes(a.octets()),
                    _ => int_bits(v, 4, f.in_type == InType::I32).ok_or_else(bad)? as u32,
                };
                self.out.extend_from_slice(&x.to_le_bytes());
            }
            InType::I64 | InType::U64 | InType::Hex64 => {
                let x = int_bits(v, 8, f.in_type == InType::I64).ok_or_else(bad)?;
                self.out.extend_from_slice(&x.to_le_bytes());
            }
            _ => {
                let n = self.ptr.bytes();
                let x = int_bits(v, n, false).ok_or_else(bad)?;
                self.out.extend_from_slice(&x.to_le_bytes()[..n]);
            }
        }
        Ok(())
    }

    /// A fixed-size non-integer in-type (float, GUID, times, SID), from its own [`Value`].
    fn fixed(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        match (f.in_type, v) {
            (InType::F32, Value::F32(x)) => self.out.extend_from_slice(&x.to_le_bytes()),
            (InType::F64, Value::F64(x)) => self.out.extend_from_slice(&x.to_le_bytes()),
            (InType::Bool32, Value::Bool(x)) => self.out.extend_from_slice(&x.to_le_bytes()),
            (InType::Guid, Value::Guid(g)) => self.out.extend_from_slice(&g.to_bytes_le()),
            (InType::FileTime, Value::FileTime(t)) => self.out.extend_from_slice(&t.to_le_bytes()),
            (InType::SystemTime, Value::SystemTime(t)) => {
                for x in t {
                    self.out.extend_from_slice(&x.to_le_bytes());
                }
            }
            (InType::Sid, Value::Sid(b))
                if b.len() >= 8 && b.len() == 8 + 4 * usize::from(b[1]) =>
            {
                self.out.extend_from_slice(b)
            }
            _ => return Err(mismatch(f, path)),
        }
        Ok(())
    }

    /// A UTF-16 string: counted, or NUL-terminated (`CStr16`).
    fn str16(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        let Value::Str(s) = v else {
            return Err(mismatch(f, path));
        };
        let units: Vec<u16> = s.encode_utf16().collect();
        let terminated = f.in_type == InType::CStr16;
        if terminated {
            if units.contains(&0) {
                return Err(nul_inside(path));
            }
        } else {
            self.u16_len(units.len() * 2, path)?;
        }
        for u in &units {
            self.out.extend_from_slice(&u.to_le_bytes());
        }
        if terminated {
            self.out.extend_from_slice(&[0, 0]);
        }
        Ok(())
    }

    /// An 8-bit string (UTF-8 for the UTF-8, JSON and XML out-types, else code page 1252):
    /// counted, or NUL-terminated (`CStr8`).
    fn str8(&mut self, f: &FieldSchema, v: &Value<'_>, path: &str) -> Result<()> {
        let Value::Str(s) = v else {
            return Err(mismatch(f, path));
        };
        let bytes: Vec<u8> = match f.out_type {
            OutType::Utf8 | OutType::Json | OutType::Xml => s.as_bytes().to_vec(),
            _ => s
                .chars()
                .map(cp1252_byte)
                .collect::<Option<_>>()
                .ok_or_else(|| mismatch(f, path))?,
        };
        if f.in_type == InType::CStr8 {
            if bytes.contains(&0) {
                return Err(nul_inside(path));
            }
            self.out.extend_from_slice(&bytes);
            self.out.push(0);
        } else {
            self.u16_len(bytes.len(), path)?;
            self.out.extend_from_slice(&bytes);
        }
        Ok(())
    }
}

fn nul_inside(path: &str) -> Error {
    Error::Unencodable {
        what: format!("field {path:?}"),
        why: "NUL inside a NUL-terminated string",
    }
}

fn is_char_array(f: &FieldSchema) -> bool {
    f.out_type == OutType::String && matches!(f.in_type, InType::I8 | InType::U8 | InType::U16)
}

/// The low `size` bytes of an integer value, if it fits (signed or unsigned range).
fn int_bits(v: &Value<'_>, size: usize, signed: bool) -> Option<u64> {
    let bits = 8 * size as u32;
    let mask = if size == 8 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match *v {
        Value::I64(x) => {
            let fits = if size == 8 {
                signed || x >= 0
            } else {
                let lo = -(1i64 << (bits - 1));
                let hi = if signed {
                    (1i64 << (bits - 1)) - 1
                } else {
                    (1i64 << bits) - 1
                };
                (if signed { lo } else { 0 }) <= x && x <= hi
            };
            fits.then_some(x as u64 & mask)
        }
        Value::U64(x) => {
            let hi = if signed { mask >> 1 } else { mask };
            (x <= hi).then_some(x)
        }
        // Hex values keep the raw bits (a negative I16 shown as hex is 0xffff, not u64).
        Value::Hex(x) => (x <= mask).then_some(x),
        _ => None,
    }
}
