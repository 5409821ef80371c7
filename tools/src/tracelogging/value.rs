//! Decoded values and their JSON form.
//!
//! JSON (as `wsktrace dump` prints and `EXPECTED-tracelogging.jsonl` shows):
//!
//! | value | JSON |
//! |---|---|
//! | signed, unsigned integers, PID/TID, port | number |
//! | hex integers, pointers, code pointers | `"0x1f"` (lower case, no padding) |
//! | NTSTATUS, HRESULT | `"0xc0000034"` (8 digits) |
//! | Win32 error | number |
//! | float | number (`"NaN"`, `"inf"`, `"-inf"` as strings) |
//! | Boolean | `true`/`false` (any non-zero value is true) |
//! | char, string | string |
//! | binary, custom | `"0x0102..."` (empty: `""`) |
//! | GUID | `"0ad614c4-0ef4-4225-8013-f44f37cb0397"` |
//! | FILETIME | `"2021-09-09T14:59:35.799000Z"` (7 fraction digits when the 100 ns digit is not 0) |
//! | SYSTEMTIME | `"2021-09-09T14:59:35.799"` |
//! | SID | `"S-1-5-18"` |
//! | IPv4, IPv6, socket address | `"10.0.0.1"`, `"::1"`, `"10.0.0.1:80"`, `"[::1]:443"` |
//! | array | array |
//! | struct | object (member name → value) |
//! | mapped integer | its name (string) |

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::etl::Guid;

/// One decoded value. The variant follows the field's in-type and out-type (see
/// [`super::decode`]); each keeps the raw value, so encoding it again gives the same bytes.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// Signed integer (`I8`..`I64`).
    I64(i64),
    /// Unsigned integer (`U8`..`U64`, also with out-types PID, TID).
    U64(u64),
    /// Integer shown as hex (`Hex32`, `Hex64`, `HexSize`, or out-types Hex, CodePointer).
    Hex(u64),
    /// 32-bit float.
    F32(f32),
    /// 64-bit float.
    F64(f64),
    /// Boolean (`Bool32`, or `U8` + Boolean); the raw value.
    Bool(u32),
    /// A character (`I8`/`U8` as CP1252, `U16` as UTF-16 code unit, with out-type String).
    Char(char),
    /// A string, borrowed from the payload when it is already UTF-8.
    Str(Cow<'a, str>),
    /// Binary data.
    Binary(&'a [u8]),
    /// A GUID.
    Guid(Guid),
    /// FILETIME: 100 ns intervals since 1601-01-01 UTC.
    FileTime(u64),
    /// SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds.
    SystemTime([u16; 8]),
    /// A SID, its bytes.
    Sid(&'a [u8]),
    /// Win32 error code.
    Win32Error(u32),
    /// NTSTATUS.
    NtStatus(u32),
    /// HRESULT.
    HResult(i32),
    /// IPv4 address.
    Ipv4(Ipv4Addr),
    /// IPv6 address.
    Ipv6(Ipv6Addr),
    /// IP port (host order; stored big-endian in the payload).
    Port(u16),
    /// A `SOCKADDR` (bytes).
    SocketAddress(&'a [u8]),
    /// Array elements.
    Array(Vec<Value<'a>>),
    /// Struct members.
    Struct(Vec<Field<'a>>),
    /// Custom-serialized data (the serializer's schema is in the [`super::Shape::Custom`]).
    Custom(&'a [u8]),
    /// An integer a value map names (manifest, trace metadata or MOF layouts, see
    /// [`crate::tdh`]): the raw value and its name (`"Running"`, for a bitmap the set bits'
    /// names joined by `|`). Serializes as the name.
    Mapped(u64, Cow<'a, str>),
}

/// A decoded field.
#[derive(Clone, Debug, PartialEq)]
pub struct Field<'a> {
    /// Field name.
    pub name: &'a str,
    /// 28-bit field tag.
    pub tags: u32,
    /// Its value.
    pub value: Value<'a>,
}

/// A decoded event: names borrowed from the [`super::Schema`], values from the payload.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedEvent<'a> {
    /// Event name.
    pub name: &'a str,
    /// 28-bit event tag.
    pub tags: u32,
    /// Top-level fields.
    pub fields: Vec<Field<'a>>,
    /// Payload bytes after the last field (0 for a well-formed event).
    pub unread: usize,
}

impl<'a> Value<'a> {
    /// The value as an unsigned integer, when it is one that fits (integers, hex, Booleans,
    /// status codes, ports).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(x) | Value::Hex(x) => Some(x),
            Value::I64(x) => u64::try_from(x).ok(),
            Value::Bool(x) | Value::Win32Error(x) | Value::NtStatus(x) => Some(u64::from(x)),
            Value::HResult(x) => Some(u64::from(x as u32)),
            Value::Port(x) => Some(u64::from(x)),
            Value::Mapped(x, _) => Some(x),
            _ => None,
        }
    }

    /// The value as a string slice, for strings.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'a> DecodedEvent<'a> {
    /// The fields as a JSON object (name → value), as in `EXPECTED-tracelogging.jsonl`.
    pub fn fields_json(&self) -> FieldsJson<'_, 'a> {
        FieldsJson(&self.fields)
    }

    /// The first top-level field called `name`.
    pub fn field(&self, name: &str) -> Option<&Value<'a>> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }
}

/// Serializes fields as a JSON object, name → value (see [`DecodedEvent::fields_json`]).
#[derive(Clone, Copy, Debug)]
pub struct FieldsJson<'f, 'a>(pub &'f [Field<'a>]);

impl Serialize for FieldsJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for f in self.0 {
            m.serialize_entry(f.name, &f.value)?;
        }
        m.end()
    }
}

/// `{"name": ..., "tags": n (only when non-zero), "fields": {...}}`.
impl Serialize for DecodedEvent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", self.name)?;
        if self.tags != 0 {
            m.serialize_entry("tags", &self.tags)?;
        }
        m.serialize_entry("fields", &self.fields_json())?;
        m.end()
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::I64(v) => s.serialize_i64(*v),
            Value::U64(v) => s.serialize_u64(*v),
            Value::Hex(v) => s.serialize_str(hex_u64(*v, 1, &mut [0; 18])),
            // f32 through `serialize_f32`: its shortest form (0.1, not 0.10000000149011612).
            Value::F32(v) if v.is_finite() => s.serialize_f32(*v),
            Value::F32(v) => float(s, f64::from(*v)),
            Value::F64(v) => float(s, *v),
            Value::Bool(v) => s.serialize_bool(*v != 0),
            Value::Char(c) => s.serialize_char(*c),
            Value::Str(v) => s.serialize_str(v),
            Value::Binary(b) | Value::Custom(b) => s.serialize_str(&hex_bytes(b)),
            Value::Guid(g) => g.serialize(s),
            Value::FileTime(t) => s.serialize_str(&filetime_string(*t)),
            Value::SystemTime(t) => s.serialize_str(&systemtime_string(t)),
            Value::Sid(b) => s.serialize_str(&sid_string(b)),
            Value::Win32Error(v) => s.serialize_u32(*v),
            Value::NtStatus(v) => s.serialize_str(hex_u64(u64::from(*v), 8, &mut [0; 18])),
            Value::HResult(v) => s.serialize_str(hex_u64(u64::from(*v as u32), 8, &mut [0; 18])),
            Value::Ipv4(a) => s.collect_str(a),
            Value::Ipv6(a) => s.collect_str(a),
            Value::Port(p) => s.serialize_u16(*p),
            Value::SocketAddress(b) => s.serialize_str(&sockaddr_string(b)),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Struct(fields) => FieldsJson(fields).serialize(s),
            Value::Mapped(_, name) => s.serialize_str(name),
        }
    }
}

fn float<S: Serializer>(s: S, v: f64) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(v)
    } else if v.is_nan() {
        s.serialize_str("NaN")
    } else if v > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

/// `0x` and at least `digits` lower-case hex digits of `v`, written into `buf` (what
/// `format!("{v:#0w$x}")` gives, without the formatting machinery: dumps write millions).
fn hex_u64(v: u64, digits: usize, buf: &mut [u8; 18]) -> &str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = (16 - v.leading_zeros() as usize / 4)
        .max(digits)
        .clamp(1, 16);
    buf[0] = b'0';
    buf[1] = b'x';
    for i in 0..n {
        buf[1 + n - i] = HEX[((v >> (4 * i)) & 0xF) as usize];
    }
    // ASCII only.
    core::str::from_utf8(&buf[..2 + n]).unwrap_or_default()
}

/// `0x` + lower-case hex digits; `""` for no bytes.
pub fn hex_bytes(b: &[u8]) -> String {
    if b.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(2 + 2 * b.len());
    out.push_str("0x");
    for x in b {
        let _ = write!(out, "{x:02x}");
    }
    out
}

/// FILETIME as ISO 8601 UTC: 6 fraction digits, 7 when the 100 ns digit is not zero.
pub fn filetime_string(ft: u64) -> String {
    // 1601-01-01 is 134774 days before 1970-01-01.
    let ticks = ft % 10_000_000;
    let secs = (ft / 10_000_000) as i64;
    let days = secs.div_euclid(86_400) - 134_774;
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = crate::etl::header::civil_from_days(days);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    if ticks % 10 == 0 {
        format!(
            "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            ticks / 10
        )
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ticks:07}Z")
    }
}

/// SYSTEMTIME as ISO 8601 without zone: `YYYY-MM-DDTHH:MM:SS.mmm` (fields as stored).
pub fn systemtime_string(t: &[u16; 8]) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t[0], t[1], t[3], t[4], t[5], t[6], t[7]
    )
}

/// SID in `S-R-A-S1-S2...` form; raw hex if too short to be a SID.
pub fn sid_string(b: &[u8]) -> String {
    if b.len() < 8 || b.len() < 8 + 4 * usize::from(b[1]) {
        return hex_bytes(b);
    }
    let auth = b[2..8].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut out = format!("S-{}-{}", b[0], auth);
    for i in 0..usize::from(b[1]) {
        let o = 8 + 4 * i;
        let sub = u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let _ = write!(out, "-{sub}");
    }
    out
}

/// `SOCKADDR_IN` (family 2) / `SOCKADDR_IN6` (family 23) as `addr:port`; hex otherwise.
pub fn sockaddr_string(b: &[u8]) -> String {
    let family = b.get(..2).map(|f| u16::from_le_bytes([f[0], f[1]]));
    match family {
        Some(2) if b.len() >= 8 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            format!("{}:{port}", Ipv4Addr::new(b[4], b[5], b[6], b[7]))
        }
        Some(23) if b.len() >= 24 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            format!("[{}]:{port}", Ipv6Addr::from(a))
        }
        _ => hex_bytes(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_formats() {
        // 2021-09-09T14:59:35.799000Z, from primitive-types.etl.
        assert_eq!(
            filetime_string(132_756_731_757_990_000),
            "2021-09-09T14:59:35.799000Z"
        );
        assert_eq!(
            filetime_string(132_756_731_757_990_001),
            "2021-09-09T14:59:35.7990001Z"
        );
        assert_eq!(filetime_string(0), "1601-01-01T00:00:00.000000Z");
        assert_eq!(
            filetime_string(116_444_736_000_000_000),
            "1970-01-01T00:00:00.000000Z"
        );
        // Largest FILETIME: no panic, a far-future year.
        assert!(filetime_string(u64::MAX).starts_with("60056-"));
    }

    #[test]
    fn other_formats() {
        assert_eq!(
            systemtime_string(&[2021, 9, 4, 9, 14, 59, 35, 799]),
            "2021-09-09T14:59:35.799"
        );
        assert_eq!(
            sid_string(&[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]),
            "S-1-5-18"
        );
        assert_eq!(sid_string(&[1, 2, 0, 0, 0, 0, 0, 5]), "0x0102000000000005");
        assert_eq!(
            sockaddr_string(&[2, 0, 0, 80, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            "10.0.0.1:80"
        );
        assert_eq!(hex_bytes(&[]), "");
        assert_eq!(hex_bytes(&[0xab, 1]), "0xab01");
    }

    #[test]
    fn hex_forms() {
        for (v, digits) in [
            (0u64, 1),
            (1, 1),
            (0x1f, 1),
            (u64::MAX, 1),
            (0x34, 8),
            (0xc000_0034, 8),
        ] {
            let want = format!("{v:#0w$x}", w = digits + 2);
            assert_eq!(hex_u64(v, digits, &mut [0; 18]), want);
        }
    }

    #[test]
    fn accessors_and_floats() {
        assert_eq!(Value::NtStatus(0xC000_0034).as_u64(), Some(0xC000_0034));
        assert_eq!(Value::I64(-1).as_u64(), None);
        assert_eq!(Value::Str(Cow::Borrowed("x")).as_str(), Some("x"));
        assert_eq!(Value::U64(1).as_str(), None);
        assert_eq!(serde_json::to_string(&Value::F32(0.1)).unwrap(), "0.1");
        assert_eq!(
            serde_json::to_string(&Value::F32(f32::NEG_INFINITY)).unwrap(),
            r#""-inf""#
        );
        assert_eq!(serde_json::to_string(&Value::F64(0.1)).unwrap(), "0.1");
    }

    #[test]
    fn json_forms() {
        let ev = DecodedEvent {
            name: "E",
            tags: 0,
            fields: vec![
                Field {
                    name: "h",
                    tags: 0,
                    value: Value::Hex(0x211f4fa4d80),
                },
                Field {
                    name: "s",
                    tags: 0,
                    value: Value::NtStatus(0xC000_0034),
                },
                Field {
                    name: "b",
                    tags: 0,
                    value: Value::Bool(0),
                },
                Field {
                    name: "n",
                    tags: 0,
                    value: Value::F64(f64::NAN),
                },
                Field {
                    name: "st",
                    tags: 0,
                    value: Value::Struct(vec![Field {
                        name: "a",
                        tags: 0,
                        value: Value::Array(vec![Value::I64(-1)]),
                    }]),
                },
            ],
            unread: 0,
        };
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            r#"{"name":"E","fields":{"h":"0x211f4fa4d80","s":"0xc0000034","b":false,"n":"NaN","st":{"a":[-1]}}}"#
        );
    }
}
