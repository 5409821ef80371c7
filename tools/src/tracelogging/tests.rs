//! Hand-written events: metadata item and payload as commented bytes, exact values and exact
//! error variants.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

fn str(s: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(s))
}

fn field<'a>(name: &'a str, value: Value<'a>) -> Field<'a> {
    Field {
        name,
        tags: 0,
        value,
    }
}

/// [`super::decode`], holding [`validate`] to it first: on the payload, on its prefixes and
/// on copies with one byte set to 0x00 or 0xFF, for both pointer sizes, the size walk
/// gives what decoding gives (the trailing bytes, or the same error). Every test vector here
/// goes through it.
fn decode<'a>(schema: &'a Schema, payload: &'a [u8], ptr: PointerSize) -> Result<DecodedEvent<'a>> {
    assert_validate_agrees(schema, payload);
    super::decode(schema, payload, ptr)
}

pub(crate) fn assert_validate_agrees(schema: &Schema, payload: &[u8]) {
    let agree = |p: &[u8], what: &str| {
        for ptr in [PointerSize::Four, PointerSize::Eight] {
            let want = super::decode(schema, p, ptr).map(|ev| ev.unread);
            assert_eq!(
                validate(schema, p, ptr),
                want,
                "{} {what} {p:02x?}",
                schema.name
            );
            let fits = LengthCheck::of(schema, ptr).and_then(|c| c.fits(p));
            if let Some(fits) = fits {
                let why = format!("{} LengthCheck {what} {p:02x?}", schema.name);
                assert_eq!(fits, want.is_ok(), "{why}");
            }
        }
    };
    agree(payload, "payload");
    // Long payloads: a few places (the sweep is quadratic).
    let len = payload.len();
    let positions: Vec<usize> = if len <= 256 {
        (0..len).collect()
    } else {
        vec![0, 1, 2, len / 2, len - 2, len - 1]
    };
    for n in positions {
        agree(&payload[..n], "prefix");
        for b in [0x00, 0xFF] {
            let mut changed = payload.to_vec();
            changed[n] = b;
            agree(&changed, "changed");
        }
    }
}

/// The metadata with its u16 size patched in.
fn sized(meta: &[u8]) -> Vec<u8> {
    let mut meta = meta.to_vec();
    let n = meta.len() as u16;
    meta[..2].copy_from_slice(&n.to_le_bytes());
    meta
}

/// Decodes with a fresh parse and checks that the encoder gives back the same bytes.
fn roundtrip<'a>(
    schema: &'a Schema,
    meta: &[u8],
    payload: &'a [u8],
    ptr: PointerSize,
) -> DecodedEvent<'a> {
    assert_eq!(schema.to_bytes().unwrap(), meta, "metadata re-encoded");
    let ev = decode(schema, payload, ptr).unwrap();
    assert_eq!(ev.unread, 0);
    let values: Vec<Value<'_>> = ev.fields.iter().map(|f| f.value.clone()).collect();
    let mut out = Vec::new();
    encode_payload(schema, &values, ptr, &mut out).unwrap();
    assert_eq!(out, payload, "payload re-encoded");
    ev
}

#[test]
#[rustfmt::skip]
fn scalars_of_every_kind() {
    let meta: &[u8] = &[
        0x00, 0x00,                         // size, patched below
        0x00,                               // event tags: none
        b'E', 0,                            // event name "E"
        b'a', 0, 0x03,                      // a: I8
        b'b', 0, 0x04,                      // b: U8
        b'c', 0, 0x05,                      // c: I16
        b'd', 0, 0x06,                      // d: U16
        b'e', 0, 0x07,                      // e: I32
        b'f', 0, 0x08,                      // f: U32
        b'g', 0, 0x09,                      // g: I64
        b'h', 0, 0x0A,                      // h: U64
        b'i', 0, 0x0B,                      // i: F32
        b'j', 0, 0x0C,                      // j: F64
        b'k', 0, 0x0D,                      // k: Bool32
        b'l', 0, 0x0F,                      // l: GUID
        b'm', 0, 0x11,                      // m: FILETIME
        b'n', 0, 0x12,                      // n: SYSTEMTIME
        b'o', 0, 0x13,                      // o: SID
        b'p', 0, 0x14,                      // p: Hex32
        b'q', 0, 0x15,                      // q: Hex64
        b'r', 0, 0x10,                      // r: HexSize (pointer)
        b's', 0, 0x01,                      // s: CStr16
        b't', 0, 0x02,                      // t: CStr8 (CP1252)
        b'u', 0, 0x16,                      // u: Str16
        b'v', 0, 0x97, 0x23,                // v: Str8, chained out-type UTF8 (35)
        b'w', 0, 0x0E,                      // w: Binary
        b'x', 0, 0x19,                      // x: BinaryC
    ];
    let meta = sized(meta);
    let payload: &[u8] = &[
        0xFF,                               // a = -1
        0xFF,                               // b = 255
        0x00, 0x80,                         // c = -32768
        0x34, 0x12,                         // d = 0x1234
        0xFE, 0xFF, 0xFF, 0xFF,             // e = -2
        0x78, 0x56, 0x34, 0x12,             // f = 0x12345678
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, // g = i64::MAX
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // h = u64::MAX
        0x00, 0x00, 0xC0, 0x3F,             // i = 1.5f32
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xC0, // j = -2.5f64
        0x02, 0x00, 0x00, 0x00,             // k = 2 (true)
        0xB3, 0x5E, 0x80, 0x8E, 0x8F, 0x6A, 0x1E, 0x4A, // l = 8e805eb3-6a8f-4a1e-
        0x90, 0xFA, 0xA8, 0x31, 0xD9, 0x4E, 0x54, 0xA1, //     90fa-a831d94e54a1
        0x70, 0x10, 0xFA, 0x4D, 0x8B, 0xA5, 0xD7, 0x01, // m = 2021-09-09T14:59:35.799Z
        0xE5, 0x07, 0x09, 0x00, 0x04, 0x00, 0x09, 0x00, // n = 2021-09 (Thu) 09
        0x0E, 0x00, 0x3B, 0x00, 0x23, 0x00, 0x1F, 0x03, //     14:59:35.799
        0x01, 0x01, 0, 0, 0, 0, 0, 0x05,    // o = S-1-5 with 1 sub-authority:
        0x12, 0x00, 0x00, 0x00,             //     18 -> S-1-5-18
        0xEF, 0xBE, 0xAD, 0xDE,             // p = 0xdeadbeef
        0x01, 0, 0, 0, 0, 0, 0, 0x80,       // q = 0x8000000000000001
        0x80, 0x4D, 0xFA, 0xF4, 0x11, 0x02, 0, 0, // r = 0x211f4fa4d80 (8-byte pointer)
        b'h', 0, 0xAC, 0x20, 0, 0,          // s = "h€" UTF-16, NUL
        b'c', 0x80, 0,                      // t = "c€" CP1252, NUL
        0x04, 0x00, b'o', 0, b'k', 0,       // u = 4 bytes: "ok"
        0x03, 0x00, 0xE2, 0x82, 0xAC,       // v = 3 bytes: "€" UTF-8
        0x02, 0x00, 0xAB, 0xCD,             // w = 2 bytes
        0x00, 0x00,                         // x = 0 bytes
    ];
    let schema = Schema::parse(&meta).unwrap();
    let ev = roundtrip(&schema, &meta, payload, PointerSize::Eight);
    assert_eq!(ev.name, "E");
    let values: Vec<_> = ev.fields.iter().map(|f| (f.name, f.value.clone())).collect();
    assert_eq!(values, vec![
        ("a", Value::I64(-1)),
        ("b", Value::U64(255)),
        ("c", Value::I64(-32768)),
        ("d", Value::U64(0x1234)),
        ("e", Value::I64(-2)),
        ("f", Value::U64(0x1234_5678)),
        ("g", Value::I64(i64::MAX)),
        ("h", Value::U64(u64::MAX)),
        ("i", Value::F32(1.5)),
        ("j", Value::F64(-2.5)),
        ("k", Value::Bool(2)),
        ("l", Value::Guid(Guid::parse("8e805eb3-6a8f-4a1e-90fa-a831d94e54a1").unwrap())),
        ("m", Value::FileTime(0x01D7_A58B_4DFA_1070)),
        ("n", Value::SystemTime([2021, 9, 4, 9, 14, 59, 35, 799])),
        ("o", Value::Sid(&payload[86..98])),
        ("p", Value::Hex(0xDEAD_BEEF)),
        ("q", Value::Hex(0x8000_0000_0000_0001)),
        ("r", Value::Hex(0x211_f4fa_4d80)),
        ("s", str("h€")),
        ("t", str("c€")),
        ("u", str("ok")),
        ("v", str("€")),
        ("w", Value::Binary(&[0xAB, 0xCD])),
        ("x", Value::Binary(&[])),
    ]);
    assert_eq!(
        serde_json::to_string(&ev.fields_json()).unwrap(),
        concat!(
            r#"{"a":-1,"b":255,"c":-32768,"d":4660,"e":-2,"f":305419896,"g":9223372036854775807,"#,
            r#""h":18446744073709551615,"i":1.5,"j":-2.5,"k":true,"l":"8e805eb3-6a8f-4a1e-90fa-a831d94e54a1","#,
            r#""m":"2021-09-09T14:59:35.799000Z","n":"2021-09-09T14:59:35.799","o":"S-1-5-18","#,
            r#""p":"0xdeadbeef","q":"0x8000000000000001","r":"0x211f4fa4d80","s":"h€","t":"c€","u":"ok","#,
            r#""v":"€","w":"0xabcd","x":""}"#
        )
    );
    // The same event from a 32-bit process: r is 4 bytes.
    let mut p32 = payload.to_vec();
    p32.drain(114..118);
    let ev32 = decode(&schema, &p32, PointerSize::Four).unwrap();
    assert_eq!(ev32.field("r"), Some(&Value::Hex(0xF4FA_4D80)));
    assert_eq!(ev32.unread, 0);
}

#[test]
#[rustfmt::skip]
fn out_types() {
    let meta: &[u8] = &[
        0x00, 0x00,                         // size, patched below
        0x00,                               // event tags: none
        b'O', 0,                            // event name "O"
        b'c', 0, 0x84, 0x02,                // c: U8, out String -> char
        b'b', 0, 0x84, 0x03,                // b: U8, out Boolean
        b'x', 0, 0x84, 0x04,                // x: U8, out Hex
        b'w', 0, 0x86, 0x02,                // w: U16, out String -> UTF-16 char
        b'p', 0, 0x86, 0x07,                // p: U16, out Port (big-endian)
        b'i', 0, 0x88, 0x08,                // i: U32, out IPv4
        b'e', 0, 0x88, 0x0D,                // e: U32, out Win32Error
        b'n', 0, 0x88, 0x0E,                // n: U32, out NTSTATUS
        b'h', 0, 0x87, 0x0F,                // h: I32, out HRESULT
        b'k', 0, 0x88, 0x05,                // k: U32, out PID -> plain number
        b'y', 0, 0x8A, 0x25,                // y: U64, out CodePointer -> hex
        b'6', 0, 0x99, 0x09,                // 6: BinaryC, out IPv6
        b'a', 0, 0x99, 0x0A,                // a: BinaryC, out SocketAddress
        b'j', 0, 0x82, 0x0C,                // j: CStr8, out JSON (UTF-8)
        b'z', 0, 0x88, 0x63,                // z: U32, out 99 (unknown: default format)
        b'f', 0, 0x8B, 0x04,                // f: F32, out Hex (unsupported: default format)
        b'v', 0, 0x94, 0x0E,                // v: Hex32, out NTSTATUS
        b'q', 0, 0x85, 0x04,                // q: I16, out Hex
        b'r', 0, 0x83, 0x02,                // r: I8, out String
        b'g', 0, 0x83, 0x04,                // g: I8, out Hex
        b'u', 0, 0x82, 0x23,                // u: CStr8, out UTF8, invalid UTF-8 inside
        b'l', 0, 0x99, 0x09,                // l: BinaryC, out IPv6, but 4 bytes -> binary
        b'd', 0, 0x84, 0x00,                // d: U8, chained out-type Default
    ];
    let payload: &[u8] = &[
        b'A',                               // c = 'A'
        0x01,                               // b = true
        0x7F,                               // x = 0x7f
        0xAC, 0x20,                         // w = '€'
        0x01, 0xBB,                         // p = 443
        10, 0, 0, 1,                        // i = 10.0.0.1
        0x05, 0, 0, 0,                      // e = 5
        0x34, 0, 0, 0xC0,                   // n = 0xc0000034
        0x05, 0x40, 0x00, 0x80,             // h = 0x80004005
        0x10, 0, 0, 0,                      // k = 16
        0x00, 0x10, 0, 0, 0, 0, 0, 0,       // y = 0x1000
        0x10, 0x00,                         // 6: 16 bytes
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, //    ::1
        0x10, 0x00,                         // a: 16 bytes, SOCKADDR_IN
        0x02, 0x00, 0x00, 0x50,             //    AF_INET, port 80
        192, 168, 1, 2,                     //    192.168.1.2
        0, 0, 0, 0, 0, 0, 0, 0,             //    zero padding
        b'{', b'}', 0,                      // j = "{}"
        0x07, 0, 0, 0,                      // z = 7
        0x00, 0x00, 0x80, 0x3F,             // f = 1.0
        0x22, 0x01, 0, 0xC0,                // v = 0xc0000122
        0xFF, 0xFF,                         // q = 0xffff
        0x80u8,                             // r = '€' (CP1252 0x80)
        0xFE,                               // g = 0xfe
        b'a', 0xFF, 0,                      // u = "a\u{FFFD}" (lossy)
        0x04, 0x00, 1, 2, 3, 4,             // l = 4 bytes
        0x09,                               // d = 9
    ];
    let meta = sized(meta);
    let schema = Schema::parse(&meta).unwrap();
    // `d` re-encodes without its redundant out-type byte; compare values only.
    let ev = decode(&schema, payload, PointerSize::Eight).unwrap();
    assert_eq!(ev.unread, 0);
    let values: Vec<_> = ev.fields.iter().map(|f| f.value.clone()).collect();
    assert_eq!(values, vec![
        Value::Char('A'),
        Value::Bool(1),
        Value::Hex(0x7F),
        Value::Char('€'),
        Value::Port(443),
        Value::Ipv4(Ipv4Addr::new(10, 0, 0, 1)),
        Value::Win32Error(5),
        Value::NtStatus(0xC000_0034),
        Value::HResult(0x8000_4005_u32 as i32),
        Value::U64(16),
        Value::Hex(0x1000),
        Value::Ipv6(Ipv6Addr::LOCALHOST),
        Value::SocketAddress(&payload[55..71]),
        str("{}"),
        Value::U64(7),
        Value::F32(1.0),
        Value::NtStatus(0xC000_0122),
        Value::Hex(0xFFFF),
        Value::Char('€'),
        Value::Hex(0xFE),
        Value::Str(Cow::Owned("a\u{FFFD}".into())),
        Value::Binary(&[1, 2, 3, 4]),
        Value::U64(9),
    ]);
    let json = serde_json::to_string(&ev.fields_json()).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"c":"A","b":true,"x":"0x7f","w":"€","p":443,"i":"10.0.0.1","e":5,"n":"0xc0000034","#,
            r#""h":"0x80004005","k":16,"y":"0x1000","6":"::1","a":"192.168.1.2:80","j":"{}","z":7,"#,
            r#""f":1.0,"v":"0xc0000122","q":"0xffff","r":"€","g":"0xfe","u":"a"#,
            "\u{FFFD}",
            r#"","l":"0x01020304","d":9}"#
        )
    );
    // All but `u` (lossy) re-encode to the same bytes.
    let mut out = Vec::new();
    let mut values = values;
    values[20] = str("a");
    encode_payload(&schema, &values, PointerSize::Eight, &mut out).unwrap();
    assert_eq!(out[..90], payload[..90]);
    assert_eq!(out[90..92], [b'a', 0]);
    assert_eq!(out[92..], payload[93..]);
}

#[test]
#[rustfmt::skip]
fn tags_arrays_structs_custom() {
    let meta: &[u8] = &[
        0x00, 0x00,                         // size, patched below
        0x81, 0x82, 0x83, 0x04,             // event tags: 4-byte chain = 0x0020_8184
        b'T', 0,                            // event name "T"
        b'k', 0, 0x88, 0x80, 0x0A,          // k: U32, out Default + chain, tag 1-byte 0x0140_0000
        b'c', 0, 0x24, 0x02, 0x00,          // c: U8 const array (0x20), count 2
        b'v', 0, 0x48,                      // v: U32 var array (0x40)
        b's', 0, 0x98, 0x02,                // s: struct (24), 2 members
          b'x', 0, 0x06,                    //    x: U16
          b'n', 0, 0x98, 0x81, 0xFF,        //    n: struct, 1 member, tag 2-byte chain
                   0x01,                    //       = 0x0FE0_4000
            b'z', 0, 0x02,                  //       z: CStr8
        b'a', 0, 0xD8, 0x01,                // a: struct var array (0x40), 1 member
          b'e', 0, 0x03,                    //    e: I8
        b'w', 0, 0xC6, 0x02,                // w: U16 var array, out String -> string
        b'u', 0, 0x6E, 0x03, 0x00,          // u: custom (0x60) Binary, schema 3 bytes
                   0xAA, 0xBB, 0xCC,        //    schema
        b'p', 0, 0x30, 0x00, 0x00,          // p: HexSize const array, count 0
    ];
    let payload: &[u8] = &[
        0x01, 0, 0, 0,                      // k = 1
        0x0A, 0x0B,                         // c = [10, 11]
        0x02, 0x00,                         // v: count 2
        0x01, 0, 0, 0, 0x02, 0, 0, 0,       //    [1, 2]
        0x07, 0x00,                         // s.x = 7
        b'h', b'i', 0,                      // s.n.z = "hi"
        0x02, 0x00,                         // a: count 2
        0xFF,                               //    a[0].e = -1
        0x01,                               //    a[1].e = 1
        0x02, 0x00, b'o', 0, b'k', 0,       // w: 2 chars "ok"
        0x02, 0x00, 0xDE, 0xAD,             // u: 2 bytes
                                            // p: nothing
    ];
    let meta = &sized(meta);
    let schema = Schema::parse(meta).unwrap();
    assert_eq!(schema.tags, 0x0020_8184);
    assert_eq!(schema.fields[0].tags, 0x0140_0000);
    assert_eq!(schema.fields[3].members[1].tags, 0x0FE0_4000);
    assert_eq!(schema.fields[6].shape, Shape::Custom(Box::new([0xAA, 0xBB, 0xCC])));
    assert_eq!(schema.fields[3].members[1].members[0].name, "z");
    let ev = roundtrip(&schema, meta, payload, PointerSize::Eight);
    assert_eq!(ev.tags, 0x0020_8184);
    assert_eq!(ev.fields[0], Field { name: "k", tags: 0x0140_0000, value: Value::U64(1) });
    assert_eq!(ev.fields[1].value, Value::Array(vec![Value::U64(10), Value::U64(11)]));
    assert_eq!(ev.fields[2].value, Value::Array(vec![Value::U64(1), Value::U64(2)]));
    assert_eq!(
        ev.fields[3].value,
        Value::Struct(vec![
            field("x", Value::U64(7)),
            Field { name: "n", tags: 0x0FE0_4000, value: Value::Struct(vec![field("z", str("hi"))]) },
        ])
    );
    assert_eq!(
        ev.fields[4].value,
        Value::Array(vec![
            Value::Struct(vec![field("e", Value::I64(-1))]),
            Value::Struct(vec![field("e", Value::I64(1))]),
        ])
    );
    assert_eq!(ev.fields[5].value, str("ok"));
    assert_eq!(ev.fields[6].value, Value::Custom(&[0xDE, 0xAD]));
    assert_eq!(ev.fields[7].value, Value::Array(vec![]));
    assert_eq!(
        serde_json::to_string(&ev).unwrap(),
        concat!(
            r#"{"name":"T","tags":2130308,"fields":{"k":1,"c":[10,11],"v":[1,2],"s":{"x":7,"n":{"z":"hi"}},"#,
            r#""a":[{"e":-1},{"e":1}],"w":"ok","u":"0xdead","p":[]}}"#
        )
    );
}

#[test]
#[rustfmt::skip]
fn non_minimal_tags_and_padding() {
    // Kernel-mode TraceLoggingProvider.h writes tag 0 as `80 00` (lxcore_kernel.etl); the
    // item may carry bytes after the metadata's own size.
    let meta: &[u8] = &[
        0x08, 0x00,                         // size = 8
        0x80, 0x00,                         // event tags: 0, in two bytes
        b'B', b'P', 0,                      // event name "BP"
        0x00,                               // ?? a field name "" without in-type: cut off
        0xEE, 0xEE,                         // padding after size: ignored
    ];
    assert_eq!(
        Schema::parse(meta),
        Err(Error::MetadataTruncated { offset: 8, what: "in-type" })
    );
    let meta: &[u8] = &[0x07, 0x00, 0x80, 0x00, b'B', b'P', 0, 0xEE];
    let schema = Schema::parse(meta).unwrap();
    assert_eq!(schema, Schema::new("BP"));
    assert_eq!(schema.to_bytes().unwrap(), [0x06, 0x00, 0x00, b'B', b'P', 0]);
}

#[test]
#[rustfmt::skip]
fn metadata_errors() {
    // Too short for a size.
    assert_eq!(Schema::parse(&[0x05]), Err(Error::MetadataTruncated { offset: 0, what: "u16 size" }));
    // Size 9 > 6 bytes. LYING SIZE.
    assert_eq!(
        Schema::parse(&[0x09, 0x00, 0x00, b'E', 0, 0]),
        Err(Error::MetadataSize { declared: 9, available: 6 })
    );
    // Size 3 < minimum 4.
    assert_eq!(
        Schema::parse(&[0x03, 0x00, 0x00, 0x00]),
        Err(Error::MetadataSize { declared: 3, available: 4 })
    );
    // Event name without NUL.
    assert_eq!(
        Schema::parse(&[0x05, 0x00, 0x00, b'E', b'F']),
        Err(Error::UnterminatedName { offset: 3 })
    );
    // Tag chain ends with the item.
    assert_eq!(
        Schema::parse(&[0x05, 0x00, 0x80, 0x80, 0x80]),
        Err(Error::MetadataTruncated { offset: 5, what: "tag byte" })
    );
    // Five chained tag bytes.
    assert_eq!(
        Schema::parse(&[0x09, 0x00, 0x81, 0x81, 0x81, 0x81, 0x01, b'E', 0]),
        Err(Error::TagChainTooLong { offset: 2 })
    );
    // Field name not UTF-8.
    assert_eq!(
        Schema::parse(&[0x08, 0x00, 0x00, b'E', 0, 0xFF, 0, 0x04]),
        Err(Error::InvalidName { offset: 5 })
    );
    // In-type 26: unknown.
    assert_eq!(
        Schema::parse(&[0x08, 0x00, 0x00, b'E', 0, b'f', 0, 0x1A]),
        Err(Error::UnknownInType { offset: 7, in_type: InType(26) })
    );
    // In-type 0 (with chain bit).
    assert_eq!(
        Schema::parse(&[0x09, 0x00, 0x00, b'E', 0, b'f', 0, 0x80, 0x00]),
        Err(Error::UnknownInType { offset: 7, in_type: InType(0) })
    );
    // Chain bit set, out-type missing.
    assert_eq!(
        Schema::parse(&[0x08, 0x00, 0x00, b'E', 0, b'f', 0, 0x84]),
        Err(Error::MetadataTruncated { offset: 8, what: "out-type" })
    );
    // Const array without its count.
    assert_eq!(
        Schema::parse(&[0x09, 0x00, 0x00, b'E', 0, b'f', 0, 0x24, 0x01]),
        Err(Error::MetadataTruncated { offset: 8, what: "constant array count" })
    );
    // Custom schema size 5, 1 byte left.
    assert_eq!(
        Schema::parse(&[0x0B, 0x00, 0x00, b'E', 0, b'f', 0, 0x6E, 0x05, 0x00, 0xAA]),
        Err(Error::MetadataTruncated { offset: 10, what: "custom schema" })
    );
    // Struct declaring 3 members, 1 follows.
    assert_eq!(
        Schema::parse(&[0x0C, 0x00, 0x00, b'E', 0, b's', 0, 0x98, 0x03, b'a', 0, 0x04]),
        Err(Error::MissingStructMembers { offset: 5, declared: 3, found: 1 })
    );
}

#[test]
fn deep_nesting_is_an_error() {
    let nested = |levels: usize| {
        let mut s = FieldSchema::new("leaf", InType::U8, OutType::Default);
        for _ in 0..levels {
            s = FieldSchema::structure("s", vec![s]);
        }
        Schema::new("E").field(s)
    };
    // 33 nested structs: refused by the encoder and, as bytes, by the parser.
    assert!(matches!(
        nested(MAX_DEPTH + 1).to_bytes(),
        Err(Error::Unencodable { .. })
    ));
    let mut meta = vec![0, 0, 0, b'E', 0];
    for _ in 0..40 {
        meta.extend_from_slice(&[b's', 0, 0x98, 0x01]);
    }
    meta.extend_from_slice(&[b'l', 0, 0x04]);
    let n = meta.len() as u16;
    meta[..2].copy_from_slice(&n.to_le_bytes());
    // The struct at depth 32 (the 33rd, name at 5 + 32 * 4) is refused.
    assert_eq!(
        Schema::parse(&meta),
        Err(Error::TooDeep { offset: 5 + 32 * 4 })
    );
    // 32 nested structs (depths 0 to 31) are fine both ways.
    let schema = nested(MAX_DEPTH);
    let bytes = schema.to_bytes().unwrap();
    assert_eq!(Schema::parse(&bytes).unwrap(), schema);
    let ev = decode(&schema, &[7], PointerSize::Eight).unwrap();
    let mut v = &ev.fields[0].value;
    let mut depth = 0;
    while let Value::Struct(m) = v {
        v = &m[0].value;
        depth += 1;
    }
    assert_eq!((depth, v), (MAX_DEPTH, &Value::U64(7)));
}

#[test]
#[rustfmt::skip]
fn payload_errors() {
    let schema = |f: FieldSchema| Schema::new("E").field(f);
    let u32f = FieldSchema::new("f", InType::U32, OutType::Default);
    // 3 bytes for a U32.
    assert_eq!(
        decode(&schema(u32f.clone()), &[1, 2, 3], PointerSize::Eight),
        Err(Error::PayloadTruncated { offset: 0, needed: 4, available: 3 })
    );
    // CStr8 without NUL.
    assert_eq!(
        decode(&schema(FieldSchema::new("f", InType::CStr8, OutType::Default)), b"abc", PointerSize::Eight),
        Err(Error::UnterminatedString { offset: 0 })
    );
    // CStr16 with an odd trailing byte and no NUL unit.
    assert_eq!(
        decode(&schema(FieldSchema::new("f", InType::CStr16, OutType::Default)), &[b'a', 0, 0], PointerSize::Eight),
        Err(Error::UnterminatedString { offset: 0 })
    );
    // Counted string: count 10, 2 bytes follow. LYING COUNT.
    assert_eq!(
        decode(&schema(FieldSchema::new("f", InType::Str8, OutType::Default)), &[10, 0, b'a', b'b'], PointerSize::Eight),
        Err(Error::PayloadTruncated { offset: 2, needed: 10, available: 2 })
    );
    // Var array: 0xFFFF U32 elements, 8 bytes follow. LYING COUNT.
    assert_eq!(
        decode(&schema(u32f.clone().var_array()), &[0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0], PointerSize::Eight),
        Err(Error::CountTooLarge { offset: 0, count: 0xFFFF, available: 8 })
    );
    // Const array of 3 U32, 8 bytes.
    assert_eq!(
        decode(&schema(u32f.clone().const_array(3)), &[0; 8], PointerSize::Eight),
        Err(Error::CountTooLarge { offset: 0, count: 3, available: 8 })
    );
    // SID with 15 sub-authorities, 12 bytes.
    assert_eq!(
        decode(&schema(FieldSchema::new("f", InType::Sid, OutType::Default)), &[1, 15, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0], PointerSize::Eight),
        Err(Error::BadSid { offset: 0 })
    );
    // SID shorter than its 8-byte header.
    assert_eq!(
        decode(&schema(FieldSchema::new("f", InType::Sid, OutType::Default)), &[1, 0, 0], PointerSize::Eight),
        Err(Error::BadSid { offset: 0 })
    );
    // Custom data size 4, 1 byte.
    assert_eq!(
        decode(&schema(FieldSchema::custom("f", InType::Binary, &[])), &[4, 0, 9], PointerSize::Eight),
        Err(Error::PayloadTruncated { offset: 2, needed: 4, available: 1 })
    );
    // Trailing bytes are counted, not an error.
    assert_eq!(decode(&schema(u32f), &[1, 0, 0, 0, 9], PointerSize::Eight).unwrap().unread, 1);
}

#[test]
fn arrays_of_empty_structs_are_bounded() {
    // [65535] of struct { [65535] of struct {} }: no payload, 4 billion values. Refused.
    let inner = FieldSchema::structure("i", vec![]).const_array(0xFFFF);
    let outer = FieldSchema::structure("o", vec![inner]).const_array(0xFFFF);
    let schema = Schema::new("E").field(outer);
    assert!(matches!(
        decode(&schema, &[], PointerSize::Eight),
        Err(Error::TooManyValues { offset: 0 })
    ));
    // Variable counts of empty structs: each inner array needs its 2-byte count.
    let inner = FieldSchema::structure("i", vec![]).var_array();
    let outer = FieldSchema::structure("o", vec![inner]).var_array();
    let schema = Schema::new("E").field(outer);
    let mut payload = vec![0x00, 0x80]; // 32768 outer elements ...
    payload.extend(std::iter::repeat_n([0xFF, 0xFF], 0x8000).flatten()); // ... of 65535 each
    assert!(matches!(
        decode(&schema, &payload, PointerSize::Eight),
        Err(Error::TooManyValues { .. })
    ));
    // The budget grows with the payload: 4000 empty structs need no bytes, 5000 need 14.
    let schema = Schema::new("E").field(FieldSchema::structure("e", vec![]).var_array());
    assert!(decode(&schema, &4000u16.to_le_bytes(), PointerSize::Eight).is_ok());
    assert_eq!(
        decode(&schema, &5000u16.to_le_bytes(), PointerSize::Eight),
        Err(Error::TooManyValues { offset: 2 })
    );
    let mut payload = 5000u16.to_le_bytes().to_vec();
    payload.extend([0u8; 14]);
    assert_eq!(
        decode(&schema, &payload, PointerSize::Eight).map(|e| e.unread),
        Ok(14)
    );
    // But a legitimately large array is fine.
    let schema =
        Schema::new("E").field(FieldSchema::new("b", InType::U8, OutType::Default).var_array());
    let mut payload = vec![0xFF, 0xFF];
    payload.extend([7u8; 0xFFFF]);
    assert!(decode(&schema, &payload, PointerSize::Eight).is_ok());
}

#[test]
#[rustfmt::skip]
fn provider_traits() {
    let item: &[u8] = &[
        0x20, 0x00,                         // size = 32
        b'L', b'x', b'C', b'o', b'r', b'e', 0, // name "LxCore"
        0x13, 0x00,                         // trait size 19
        0x01,                               // type 1: group
        0x1A, 0x73, 0x50, 0x4F, 0xCF, 0x89, 0x82, 0x47, // 4f50731a-89cf-4782-
        0xB3, 0xE0, 0xDC, 0xE8, 0xC9, 0x04, 0x76, 0xBA, // b3e0-dce8c90476ba
        0x04, 0x00,                         // trait size 4
        0x07,                               // type 7 (unknown)
        0x55,                               // data
        0xAB, 0xCD,                         // padding after the size: ignored
    ];
    let t = ProviderTraits::parse(item).unwrap();
    assert_eq!(t.name, "LxCore");
    let g = Guid::parse("4f50731a-89cf-4782-b3e0-dce8c90476ba").unwrap();
    assert_eq!(t.group_guid(), Some(g));
    assert_eq!(t.traits[1], ProviderTrait { trait_type: 7, data: &[0x55] });
    assert_eq!(
        serde_json::to_string(&t.traits).unwrap(),
        r#"[{"type":1,"group_guid":"4f50731a-89cf-4782-b3e0-dce8c90476ba"},{"type":7,"data":"0x55"}]"#
    );
    assert_eq!(t.to_bytes().unwrap(), item[..32]);
    // Name and group only: size 28.
    let mut group_only = item[..28].to_vec();
    group_only[0] = 28;
    assert_eq!(provider_traits_bytes("LxCore", Some(g)).unwrap(), group_only);
    assert_eq!(provider_traits_bytes("P", None).unwrap(), [4, 0, b'P', 0]);

    // Errors.
    assert_eq!(ProviderTraits::parse(&[1]), Err(Error::Traits { offset: 0, what: "no u16 size" }));
    assert_eq!(ProviderTraits::parse(&[9, 0, b'P', 0]), Err(Error::Traits { offset: 0, what: "size does not fit the item" }));
    assert_eq!(ProviderTraits::parse(&[4, 0, b'P', b'Q']), Err(Error::Traits { offset: 2, what: "unterminated provider name" }));
    // Trait claims 19 bytes, 4 left. LYING SIZE.
    assert_eq!(
        ProviderTraits::parse(&[8, 0, b'P', 0, 0x13, 0, 1, 0]),
        Err(Error::Traits { offset: 4, what: "trait size does not fit" })
    );
    // Trait size 0 (would loop forever if accepted).
    assert_eq!(
        ProviderTraits::parse(&[7, 0, b'P', 0, 0, 0, 1]),
        Err(Error::Traits { offset: 4, what: "trait size does not fit" })
    );
    // Trait header cut by the size.
    assert_eq!(
        ProviderTraits::parse(&[6, 0, b'P', 0, 3, 0]),
        Err(Error::Traits { offset: 4, what: "truncated trait header" })
    );
}

#[test]
fn cache_parses_each_schema_once() {
    let a = Schema::new("A")
        .field(FieldSchema::new("x", InType::U8, OutType::Default))
        .to_bytes()
        .unwrap();
    let b = Schema::new("B").to_bytes().unwrap();
    let mut cache = SchemaCache::new();
    for _ in 0..3 {
        assert_eq!(cache.get(&a).unwrap().name, "A");
        assert_eq!(cache.get(&b).unwrap().name, "B");
    }
    assert_eq!(
        cache.get(&[1, 0]).unwrap_err(),
        &Error::MetadataSize {
            declared: 1,
            available: 2
        }
    );
    assert_eq!(
        cache.get(&[1, 0]).unwrap_err(),
        &Error::MetadataSize {
            declared: 1,
            available: 2
        }
    );
    assert_eq!(cache.parses(), 3);
    assert_eq!(cache.len(), 3);
    // A tiny limit clears the cache instead of growing.
    let mut small = SchemaCache::with_byte_limit(a.len());
    small.get(&a).unwrap();
    small.get(&b).unwrap();
    assert_eq!(small.len(), 1);
    small.get(&a).unwrap();
    assert_eq!(small.parses(), 3);
}

#[test]
fn encoder_errors() {
    let u8f = FieldSchema::new("f", InType::U8, OutType::Default);
    let schema = Schema::new("E").field(u8f.clone());
    let mut out = Vec::new();
    let enc = |values: &[Value<'_>], out: &mut Vec<u8>| {
        encode_payload(&schema, values, PointerSize::Eight, out)
    };
    assert_eq!(
        enc(&[Value::U64(256)], &mut out),
        Err(Error::ValueMismatch {
            field: "f".into(),
            in_type: InType::U8
        })
    );
    assert_eq!(
        enc(&[Value::I64(-1)], &mut out),
        Err(Error::ValueMismatch {
            field: "f".into(),
            in_type: InType::U8
        })
    );
    assert_eq!(
        enc(&[str("x")], &mut out),
        Err(Error::ValueMismatch {
            field: "f".into(),
            in_type: InType::U8
        })
    );
    assert_eq!(
        enc(&[], &mut out),
        Err(Error::ValueCount {
            what: "E".into(),
            fields: 1,
            values: 0
        })
    );
    // Struct member path in the error.
    let schema = Schema::new("E").field(FieldSchema::structure("s", vec![u8f.clone().var_array()]));
    let v = Value::Struct(vec![field(
        "f",
        Value::Array(vec![Value::U64(1), str("x")]),
    )]);
    assert_eq!(
        encode_payload(&schema, &[v], PointerSize::Eight, &mut out),
        Err(Error::ValueMismatch {
            field: "s.f[1]".into(),
            in_type: InType::U8
        })
    );
    // NUL inside a NUL-terminated string; names with NUL; tags over 28 bits; 128 members.
    let schema = Schema::new("E").field(FieldSchema::new("f", InType::CStr8, OutType::Default));
    assert!(matches!(
        encode_payload(&schema, &[str("a\0b")], PointerSize::Eight, &mut out),
        Err(Error::Unencodable { .. })
    ));
    assert!(matches!(
        Schema::new("a\0").to_bytes(),
        Err(Error::Unencodable { .. })
    ));
    assert!(matches!(
        Schema::new("a").with_tags(0x1000_0000).to_bytes(),
        Err(Error::Unencodable { .. })
    ));
    let wide = FieldSchema::structure("s", vec![u8f; 128]);
    assert!(matches!(
        Schema::new("a").field(wide).to_bytes(),
        Err(Error::Unencodable { .. })
    ));
    // A non-CP1252 char in a CP1252 string.
    let schema = Schema::new("E").field(FieldSchema::new("f", InType::Str8, OutType::Default));
    assert!(matches!(
        encode_payload(&schema, &[str("\u{4e2d}")], PointerSize::Eight, &mut out),
        Err(Error::ValueMismatch { .. })
    ));
}

#[test]
fn encodes_like_the_tracelogging_crate() {
    // tracelogging_dynamic's `EventBuilder::reset("Ev", .., tag 0x0FE00000)` then
    // `add_u32("a", .., OutType::Hex, 0)`, `add_str8("b", .., Utf8, tag 5)`,
    // `add_struct("s", 1, 0)`, `add_u8("c", .., Default, 0)`.
    let schema = Schema::new("Ev")
        .with_tags(0x0FE0_0000)
        .field(FieldSchema::new("a", InType::U32, OutType::Hex))
        .field(FieldSchema::new("b", InType::Str8, OutType::Utf8).with_tags(5))
        .field(FieldSchema::structure(
            "s",
            vec![FieldSchema::new("c", InType::U8, OutType::Default)],
        ));
    #[rustfmt::skip]
    let want: &[u8] = &[
        0x1C, 0x00,                         // size 28
        0x7F,                               // tag 0x0FE00000: one byte
        b'E', b'v', 0,
        b'a', 0, 0x88, 0x04,                // U32 | chain, Hex
        b'b', 0, 0x97, 0xA3, 0x80, 0x80, 0x80, 0x05, // Str8 | chain, Utf8 | chain, tag 5
        b's', 0, 0x98, 0x01,                // struct | chain, 1 member
        b'c', 0, 0x04,                      // U8
    ];
    let mut want = want.to_vec();
    want[0] = want.len() as u8;
    assert_eq!(schema.to_bytes().unwrap(), want);
}

/// Splits a fuzz input as the `tracelogging` fuzz target does.
fn fuzz_input(data: &[u8]) -> (&[u8], &[u8]) {
    match data {
        [a, b, rest @ ..] if usize::from(u16::from_le_bytes([*a, *b])) <= rest.len() => {
            rest.split_at(usize::from(u16::from_le_bytes([*a, *b])))
        }
        _ => (data, &[][..]),
    }
}

/// Fuzz finding: an event whose payload has 228 unread trailing bytes decodes (the trailing
/// bytes count towards the value budget) but its values re-encoded without them exceed the
/// budget of the shorter payload. Not a decoder bug: the fuzz target now keeps the trailing
/// bytes when it re-encodes. Kept to pin the budget's dependence on the payload length.
#[test]
fn r_fuzz_trailing_bytes_budget() {
    let (meta, payload) = fuzz_input(include_bytes!("testdata/fuzz-trailing-bytes-budget.bin"));
    let schema = Schema::parse(meta).unwrap();
    assert_eq!(schema.name, "Activity1Start");
    for ptr in [PointerSize::Four, PointerSize::Eight] {
        let ev = decode(&schema, payload, ptr).unwrap();
        assert_eq!(ev.unread, 228);
        let values: Vec<Value<'_>> = ev.fields.iter().map(|f| f.value.clone()).collect();
        let mut out = Vec::new();
        encode_payload(&schema, &values, ptr, &mut out).unwrap();
        assert_eq!(out.len(), 228);
        assert_eq!(
            decode(&schema, &out, ptr),
            Err(Error::TooManyValues { offset: 218 })
        );
        out.extend_from_slice(&payload[payload.len() - 228..]);
        assert_eq!(decode(&schema, &out, ptr).unwrap(), ev);
    }
}

/// A real event, byte for byte: the first `PrimitiveTypesTest` event of
/// `microsoft__perfview/primitive-types.etl` (item 11, item 12, user data), as Windows wrote it.
#[test]
#[rustfmt::skip]
fn real_event_primitive_types() {
    let meta: &[u8] = &[
        0xB6, 0x00,                         // size = 182
        0x00,                               // event tags: none
        b'P', b'r', b'i', b'm', b'i', b't', b'i', b'v', b'e', // "PrimitiveTypesTest"
        b'T', b'y', b'p', b'e', b's', b'T', b'e', b's', b't', 0,
        b's', b't', b'r', b'i', b'n', b'g', b'_', b't', b'y', b'p', b'e', 0,
        0x02,                               // string_type: CStr8
        b'b', b'o', b'o', b'l', b'e', b'a', b'n', b'_', b't', b'y', b'p', b'e', 0,
        0x84, 0x03,                         // boolean_type: U8 | chain, Boolean
        b'c', b'h', b'a', b'r', b'_', b't', b'y', b'p', b'e', 0,
        0x84, 0x02,                         // char_type: U8 | chain, String
        b'i', b'n', b't', b'1', b'6', b'_', b't', b'y', b'p', b'e', 0,
        0x05,                               // int16_type: I16
        b'i', b'n', b't', b'3', b'2', b'_', b't', b'y', b'p', b'e', 0,
        0x07,                               // int32_type: I32
        b'u', b'i', b'n', b't', b'1', b'6', b'_', b't', b'y', b'p', b'e', 0,
        0x06,                               // uint16_type: U16
        b'u', b'i', b'n', b't', b'3', b'2', b'_', b't', b'y', b'p', b'e', 0,
        0x08,                               // uint32_type: U32
        b'i', b'n', b't', b'6', b'4', b'_', b't', b'y', b'p', b'e', 0,
        0x0A,                               // int64_type: U64 (sic: the producer said UINT64)
        b'u', b'i', b'n', b't', b'6', b'4', b'_', b't', b'y', b'p', b'e', 0,
        0x0A,                               // uint64_type: U64
        b'g', b'u', b'i', b'd', b'_', b't', b'y', b'p', b'e', 0,
        0x0F,                               // guid_type: GUID
        b'f', b'i', b'l', b'e', b'_', b't', b'i', b'm', b'e', b'_', b't', b'y', b'p', b'e', 0,
        0x11,                               // file_time_type: FILETIME
        b's', b'y', b's', b't', b'e', b'm', b'_', b't', b'i', b'm', b'e', b'_', b't', b'y', b'p', b'e', 0,
        0x12,                               // system_time_type: SYSTEMTIME
    ];
    let traits: &[u8] = &[
        0x0F, 0x00,                         // size = 15
        b's', b'o', b'l', b'a', b'r', b'_', b's', b'y', b's', b't', b'e', b'm', 0, // "solar_system", no traits
    ];
    let payload: &[u8] = &[
        b'M', b'e', b'r', b'c', b'u', b'r', b'y', 0, // string_type = "Mercury"
        0x00,                               // boolean_type = false
        0x4D,                               // char_type = 'M'
        0xCD, 0xFF,                         // int16_type = -51
        0x9A, 0xFF, 0xFF, 0xFF,             // int32_type = -102
        0x33, 0x00,                         // uint16_type = 51
        0x66, 0x00, 0x00, 0x00,             // uint32_type = 102
        0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // int64_type = -204 as UINT64
        0xCC, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // uint64_type = 204
        0xC4, 0x14, 0xD6, 0x0A, 0xF4, 0x0E, 0x25, 0x42, // guid_type = 0ad614c4-0ef4-4225-
        0x80, 0x13, 0xF4, 0x4F, 0x37, 0xCB, 0x03, 0x97, //             8013-f44f37cb0397
        0x70, 0x10, 0xFA, 0x4D, 0x8B, 0xA5, 0xD7, 0x01, // file_time_type
        0xE5, 0x07, 0x09, 0x00, 0x04, 0x00, 0x09, 0x00, // system_time_type = 2021-09 (Thu) 09
        0x0E, 0x00, 0x3B, 0x00, 0x23, 0x00, 0x1F, 0x03, //                    14:59:35.799
    ];
    let t = ProviderTraits::parse(traits).unwrap();
    assert_eq!((t.name, t.traits.len()), ("solar_system", 0));
    let schema = Schema::parse(meta).unwrap();
    let ev = roundtrip(&schema, meta, payload, PointerSize::Eight);
    // The line of EXPECTED-tracelogging.jsonl for this event, "fields" member.
    assert_eq!(
        serde_json::to_string(&ev.fields_json()).unwrap(),
        concat!(
            r#"{"string_type":"Mercury","boolean_type":false,"char_type":"M","int16_type":-51,"#,
            r#""int32_type":-102,"uint16_type":51,"uint32_type":102,"int64_type":18446744073709551412,"#,
            r#""uint64_type":204,"guid_type":"0ad614c4-0ef4-4225-8013-f44f37cb0397","#,
            r#""file_time_type":"2021-09-09T14:59:35.799000Z","system_time_type":"2021-09-09T14:59:35.799"}"#
        )
    );
    assert_eq!(provider_traits_bytes("solar_system", None).unwrap(), traits);
}

/// The schemas [`LengthCheck`] takes, on payloads of every length up to 48 with small counts
/// in them: it says what [`validate`] says, and both answers occur.
#[test]
fn length_check_agrees_with_validate() {
    let f = |name: &str, t: InType| FieldSchema::new(name, t, OutType::Default);
    let schemas = [
        Schema::new("Counted")
            .field(f("Value", InType::U64))
            .field(f("Blob", InType::Binary)),
        Schema::new("Mixed")
            .field(f("A", InType::U32))
            .field(f("S", InType::Str8))
            .field(f("P", InType::HexSize))
            .field(f("W", InType::Str16))
            .field(f("G", InType::Guid)),
        Schema::new("Arrays")
            .field(f("V", InType::U16).var_array())
            .field(f("P", InType::HexSize).var_array())
            .field(f("C", InType::U32).const_array(3))
            .field(FieldSchema::new("Chars", InType::U8, OutType::String).const_array(5))
            .field(FieldSchema::new("Text", InType::U16, OutType::String).var_array()),
        Schema::new("Nested")
            .field(FieldSchema::structure(
                "S",
                vec![f("B", InType::U8), f("Bin", InType::BinaryC)],
            ))
            .field(FieldSchema::custom("Custom", InType::Binary, b"proto"))
            .field(f("End", InType::U16)),
        Schema::new("Fixed")
            .field(f("A", InType::FileTime))
            .field(f("B", InType::SystemTime)),
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut answers = [0usize; 2];
    for schema in &schemas {
        for ptr in [PointerSize::Four, PointerSize::Eight] {
            let check = LengthCheck::of(schema, ptr).expect("a length check");
            for len in 0..48 {
                for _ in 0..64 {
                    // Bytes of 0..3: counts of 0..3 and, one time in four, a few hundred.
                    let payload: Vec<u8> = (0..len)
                        .map(|_| {
                            seed ^= seed << 13;
                            seed ^= seed >> 7;
                            seed ^= seed << 17;
                            (seed >> 40) as u8 % 4
                        })
                        .collect();
                    let want = validate(schema, &payload, ptr).is_ok();
                    assert_eq!(
                        check.fits(&payload),
                        Some(want),
                        "{} {payload:02x?}",
                        schema.name
                    );
                    answers[usize::from(want)] += 1;
                }
            }
        }
    }
    assert!(answers[0] > 0 && answers[1] > 0, "{answers:?}");
    // Fields whose end is found by reading them are left to `validate`.
    for t in [InType::CStr8, InType::CStr16, InType::Sid] {
        let schema = Schema::new("Walked").field(f("X", t));
        assert_eq!(LengthCheck::of(&schema, PointerSize::Eight), None);
    }
    let structs = Schema::new("StructArray")
        .field(FieldSchema::structure("S", vec![f("B", InType::U8)]).var_array());
    assert_eq!(LengthCheck::of(&structs, PointerSize::Eight), None);
}
