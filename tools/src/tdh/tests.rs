//! Hand-built layouts, metadata events and manifests: commented bytes in, exact values and
//! exact error variants out.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use super::*;
use crate::tracelogging::{Field, FieldsJson, Guid, PointerSize, Value};

fn str(s: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(s))
}

fn owned(s: &str) -> Value<'static> {
    Value::Str(Cow::Owned(s.to_owned()))
}

fn json(fields: &[Field<'_>]) -> String {
    serde_json::to_string(&FieldsJson(fields)).unwrap()
}

fn values<'a>(fields: &'a [Field<'a>]) -> Vec<(&'a str, Value<'a>)> {
    fields.iter().map(|f| (f.name, f.value.clone())).collect()
}

fn layout(props: Vec<Property>) -> EventLayout {
    let n = props.len() as u16;
    EventLayout::new(Source::Mof, None, None, props, n).unwrap()
}

fn v(name: &str, in_type: TdhInType) -> Property {
    Property::value(name, in_type, TdhOutType::NULL)
}

fn vo(name: &str, in_type: TdhInType, out_type: TdhOutType) -> Property {
    Property::value(name, in_type, out_type)
}

fn err(offset: usize, property: Option<&str>, kind: DecodeErrorKind) -> DecodeError {
    DecodeError {
        offset,
        property: property.map(str::to_owned),
        kind,
    }
}

/// `6a8f7c2b-1d1e-4f0a-9c3e-2b4d5e6f7a8b`.
const PROVIDER: Guid = Guid::from_fields(
    0x6a8f_7c2b,
    0x1d1e,
    0x4f0a,
    [0x9c, 0x3e, 0x2b, 0x4d, 0x5e, 0x6f, 0x7a, 0x8b],
);

/// A `TRACE_EVENT_INFO` of five properties: a count, an array of structs counted by it, a
/// binary whose length it gives, and the struct's two members (a mapped integer and a
/// fixed-length string with a tag).
#[rustfmt::skip]
const EVENT_INFO: &[u8] = &[
    // ProviderGuid 6a8f7c2b-1d1e-4f0a-9c3e-2b4d5e6f7a8b
    0x2b, 0x7c, 0x8f, 0x6a, 0x1e, 0x1d, 0x0a, 0x4f, 0x9c, 0x3e, 0x2b, 0x4d, 0x5e, 0x6f, 0x7a, 0x8b,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // EventGuid: nil (a manifest event)
    0x07, 0x00,             // 32 EventDescriptor.Id = 7
    0x02,                   // 34 Version = 2
    0x10, 0x04, 0x01,       // 35 Channel, Level, Opcode = 1
    0x05, 0x00,             // 38 Task = 5
    0, 0, 0, 0, 0, 0, 0, 0x80, // 40 Keyword
    0, 0, 0, 0,             // 48 DecodingSource = XMLFile (manifest)
    232, 0, 0, 0,           // 52 ProviderNameOffset -> "P"
    0, 0, 0, 0,             // 56 LevelNameOffset: none
    0, 0, 0, 0,             // 60 ChannelNameOffset
    0, 0, 0, 0,             // 64 KeywordsNameOffset
    236, 0, 0, 0,           // 68 TaskNameOffset -> "T"
    240, 0, 0, 0,           // 72 OpcodeNameOffset -> "win:Start"
    0, 0, 0, 0,             // 76 EventMessageOffset
    0, 0, 0, 0,             // 80 ProviderMessageOffset
    0, 0, 0, 0,             // 84 BinaryXMLOffset
    0, 0, 0, 0,             // 88 BinaryXMLSize
    0, 0, 0, 0,             // 92 EventNameOffset: none
    0, 0, 0, 0,             // 96 EventAttributesOffset
    5, 0, 0, 0,             // 100 PropertyCount = 5
    3, 0, 0, 0,             // 104 TopLevelPropertyCount = 3
    0, 0, 0, 0,             // 108 Flags
    // 112 property 0 "n": UINT16
    0x00, 0x00, 0x00, 0x00, // Flags: none
    4, 1, 0, 0,             // NameOffset = 260
    0x06, 0x00, 0x00, 0x00, // InType UINT16, OutType NULL
    0, 0, 0, 0,             // MapNameOffset: none
    0x01, 0x00, 0x02, 0x00, // count 1, length 2
    0, 0, 0, 0,             // Tags
    // 136 property 1 "s": struct of properties 3..5, count = property 0
    0x05, 0x00, 0x00, 0x00, // Flags: PropertyStruct | PropertyParamCount
    8, 1, 0, 0,             // NameOffset = 264
    0x03, 0x00, 0x02, 0x00, // StructStartIndex 3, NumOfStructMembers 2
    0, 0, 0, 0,             // padding
    0x00, 0x00, 0x00, 0x00, // countPropertyIndex 0, length 0
    0, 0, 0, 0,
    // 160 property 2 "b": BINARY, length = property 0
    0x02, 0x00, 0x00, 0x00, // Flags: PropertyParamLength
    12, 1, 0, 0,            // NameOffset = 268
    0x0E, 0x00, 0x0F, 0x00, // InType BINARY, OutType HEXBINARY
    0, 0, 0, 0,
    0x01, 0x00, 0x00, 0x00, // count 1, lengthPropertyIndex 0
    0, 0, 0, 0,
    // 184 property 3 "x": UINT32 shown as HEXINT32, named by map "M"
    0x00, 0x00, 0x00, 0x00,
    16, 1, 0, 0,            // NameOffset = 272
    0x08, 0x00, 0x12, 0x00, // InType UINT32, OutType HEXINT32
    24, 1, 0, 0,            // MapNameOffset = 280 -> "M"
    0x01, 0x00, 0x04, 0x00, // count 1, length 4
    0, 0, 0, 0,
    // 208 property 4 "w": UNICODESTRING of 3 characters, tag 0x123
    0x50, 0x00, 0x00, 0x00, // Flags: PropertyParamFixedLength | PropertyHasTags
    20, 1, 0, 0,            // NameOffset = 276
    0x01, 0x00, 0x00, 0x00, // InType UNICODESTRING, OutType NULL
    0, 0, 0, 0,
    0x01, 0x00, 0x03, 0x00, // count 1, length 3 (characters)
    0x23, 0x01, 0, 0,       // Tags = 0x123
    // 232 strings, NUL-terminated UTF-16
    b'P', 0, 0, 0,          // 232 "P"
    b'T', 0, 0, 0,          // 236 "T"
    b'w', 0, b'i', 0, b'n', 0, b':', 0, b'S', 0, b't', 0, b'a', 0, b'r', 0, b't', 0, 0, 0, // 240
    b'n', 0, 0, 0,          // 260
    b's', 0, 0, 0,          // 264
    b'b', 0, 0, 0,          // 268
    b'x', 0, 0, 0,          // 272
    b'w', 0, 0, 0,          // 276
    b'M', 0, 0, 0,          // 280
];

/// The `EVENT_MAP_INFO` of map "M" (a type-33 `MetaData` payload): 1 -> "one ", 2 -> "two".
#[rustfmt::skip]
const MAP_INFO: &[u8] = &[
    // the provider's GUID
    0x2b, 0x7c, 0x8f, 0x6a, 0x1e, 0x1d, 0x0a, 0x4f, 0x9c, 0x3e, 0x2b, 0x4d, 0x5e, 0x6f, 0x7a, 0x8b,
    32, 0, 0, 0,            // 0 NameOffset = 32 (from the EVENT_MAP_INFO)
    0x01, 0, 0, 0,          // 4 Flag: EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP
    2, 0, 0, 0,             // 8 EntryCount
    0, 0, 0, 0,             // 12 MapEntryValueType: ULONG
    36, 0, 0, 0, 1, 0, 0, 0, // 16 entry: OutputOffset 36, Value 1
    46, 0, 0, 0, 2, 0, 0, 0, // 24 entry: OutputOffset 46, Value 2
    b'M', 0, 0, 0,          // 32 "M"
    b'o', 0, b'n', 0, b'e', 0, b' ', 0, 0, 0, // 36 "one " (trailing space, as message strings have)
    b't', 0, b'w', 0, b'o', 0, 0, 0,          // 46 "two"
];

#[test]
#[rustfmt::skip]
fn event_info_with_struct_array_counts_lengths_and_a_map() {
    let info = parse_event_info(EVENT_INFO).unwrap();
    assert_eq!((info.provider, info.id, info.version, info.opcode), (PROVIDER, 7, 2, 1));
    assert_eq!(info.provider_name.as_deref(), Some("P"));
    assert_eq!(info.map_names, vec![(3, "M".to_owned())]);
    assert_eq!(info.properties[1].kind, PropertyKind::Struct { first: 3, members: 2 });
    assert_eq!(info.properties[1].count, Count::Property(0));
    assert_eq!(info.properties[2].length, Length::Property(0));
    assert_eq!(info.properties[4].length, Length::Fixed(3));
    assert_eq!(info.properties[4].tags, 0x123);

    let mut layouts = Layouts::new();
    layouts.add_metadata(METADATA_EVENT_INFO, EVENT_INFO).unwrap();
    layouts.add_metadata(METADATA_MAP_INFO, MAP_INFO).unwrap();
    let l = layouts.get(&EventKey::new(PROVIDER, 7, 2)).unwrap().clone();
    assert_eq!(l.source, Source::Metadata);
    assert_eq!(l.event_name.as_deref(), Some("T/Start"));
    assert_eq!(l.provider_name.as_deref(), Some("P"));
    let payload: &[u8] = &[
        0x02, 0x00,             // n = 2
        0x01, 0x00, 0x00, 0x00, // s[0].x = 1 -> "one"
        b'a', 0, b'b', 0, 0, 0, // s[0].w = "ab" (3 characters, NUL-padded)
        0x05, 0x00, 0x00, 0x00, // s[1].x = 5 (not in the map)
        b'c', 0, b'd', 0, b'e', 0, // s[1].w = "cde"
        0xAB, 0xCD,             // b: 2 bytes
    ];
    let fields = decode_exact(&l, payload, PointerSize::Eight).unwrap();
    assert_eq!(
        json(&fields),
        r#"{"n":2,"s":[{"x":"one","w":"ab"},{"x":"0x5","w":"cde"}],"b":"0xabcd"}"#
    );
    let Value::Array(items) = &fields[1].value else { panic!("array") };
    let Value::Struct(first) = &items[0] else { panic!("struct") };
    assert_eq!(first[0].value, Value::Mapped(1, Cow::Borrowed("one")));
    assert_eq!(first[1].tags, 0x123);
    assert_eq!(first[0].value.as_u64(), Some(1));

    // The same bytes written back by the encoder read the same.
    let again = encode_event_info(&info).unwrap();
    assert_eq!(parse_event_info(&again).unwrap(), info);
    let (_, name, map) = parse_map_info(MAP_INFO).unwrap().unwrap();
    assert_eq!(name, "M");
    assert_eq!(map.entries(), &[(1, "one".to_owned()), (2, "two".to_owned())]);
    let m2 = encode_map_info(PROVIDER, &name, &map).unwrap();
    assert_eq!(parse_map_info(&m2).unwrap().unwrap().2, map);
}

#[test]
#[rustfmt::skip]
fn event_info_errors_name_their_offset() {
    assert_eq!(
        parse_event_info(&EVENT_INFO[..111]),
        Err(LayoutError::Truncated { offset: 111, what: "TRACE_EVENT_INFO" })
    );
    let patched = |at: usize, bytes: &[u8]| {
        let mut b = EVENT_INFO.to_vec();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        parse_event_info(&b)
    };
    // PropertyCount 9: 112 + 9 * 24 bytes do not fit the 284 given.
    assert_eq!(
        patched(100, &[9, 0, 0, 0]),
        Err(LayoutError::TooMany { offset: 100, count: 9, len: 284, what: "properties" })
    );
    assert!(matches!(patched(104, &[6, 0, 0, 0]), Err(LayoutError::TooMany { offset: 104, .. })));
    // ProviderNameOffset inside the property array, and past the end.
    assert!(matches!(
        patched(52, &[120, 0, 0, 0]),
        Err(LayoutError::BadOffset { offset: 52, value: 120, what: "ProviderNameOffset", .. })
    ));
    assert!(matches!(patched(52, &[0, 2, 0, 0]), Err(LayoutError::BadOffset { .. })));
    // The last string without its NUL.
    assert_eq!(
        parse_event_info(&EVENT_INFO[..EVENT_INFO.len() - 2]),
        Err(LayoutError::UnterminatedString { offset: 280 })
    );
    assert_eq!(patched(48, &[2, 0, 0, 0]), Err(LayoutError::DecodingSource(2)));
    // Struct members 3..7 do not exist; a struct holding itself.
    assert!(matches!(
        patched(144, &[3, 0, 4, 0]),
        Err(LayoutError::Property { index: 1, why: "struct members out of range", .. })
    ));
    assert!(matches!(patched(144, &[1, 0, 1, 0]), Err(LayoutError::Property { index: 1, .. })));
    // A count read from the binary property.
    assert!(matches!(
        patched(152, &[2, 0]),
        Err(LayoutError::Property {
            index: 1,
            why: "count or length read from a property that is not an integer",
            ..
        })
    ));
    // A length read from a property that does not exist.
    assert!(matches!(
        patched(178, &[9, 0]),
        Err(LayoutError::Property { index: 2, why: "count or length index out of range", .. })
    ));
}

#[test]
#[rustfmt::skip]
fn map_info_kinds() {
    let patched = |at: usize, bytes: &[u8]| {
        let mut b = MAP_INFO.to_vec();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        parse_map_info(&b)
    };
    // A manifest bitmap.
    let (_, _, m) = patched(20, &[2, 0, 0, 0]).unwrap().unwrap();
    assert!(m.bitmap);
    // A WMI BitMap names bit positions: 1 -> bit 1, 2 -> bit 2.
    let (_, _, m) = patched(20, &[0x10, 0, 0, 0]).unwrap().unwrap();
    assert_eq!(m.entries(), &[(2, "one".to_owned()), (4, "two".to_owned())]);
    // Pattern maps and string-valued entries are not applied.
    assert_eq!(patched(20, &[4, 0, 0, 0]), Ok(None));
    assert_eq!(patched(28, &[1, 0, 0, 0]), Ok(None));
    assert!(matches!(
        patched(24, &[0xFF, 0, 0, 0]),
        Err(LayoutError::TooMany { what: "map entries", .. })
    ));
    assert!(matches!(parse_map_info(&MAP_INFO[..20]), Err(LayoutError::Truncated { .. })));
}

#[test]
#[rustfmt::skip]
fn every_in_type() {
    use TdhInType as T;
    let l = layout(vec![
        v("a", T::UNICODESTRING),
        v("b", T::ANSISTRING),
        v("c", T::INT8),
        v("d", T::UINT8),
        v("e", T::INT16),
        v("f", T::UINT16),
        v("g", T::INT32),
        v("h", T::UINT32),
        v("i", T::INT64),
        v("j", T::UINT64),
        v("k", T::FLOAT),
        v("l", T::DOUBLE),
        v("m", T::BOOLEAN),
        v("n", T::BINARY).with_length(Length::Fixed(2)),
        v("o", T::GUID),
        v("p", T::POINTER),
        v("q", T::FILETIME),
        v("r", T::SYSTEMTIME),
        v("s", T::SID),
        v("t", T::HEXINT32),
        v("u", T::HEXINT64),
        v("v", T::MANIFEST_COUNTEDSTRING),
        v("w", T::MANIFEST_COUNTEDANSISTRING),
        v("x", T::MANIFEST_COUNTEDBINARY),
        v("y", T::COUNTEDSTRING),
        v("z", T::COUNTEDANSISTRING),
        v("A", T::REVERSEDCOUNTEDSTRING),
        v("B", T::REVERSEDCOUNTEDANSISTRING),
        v("C", T::UNICODECHAR),
        v("D", T::ANSICHAR),
        v("E", T::SIZET),
        v("F", T::HEXDUMP),
        v("G", T::WBEMSID),
        v("H", T::WBEMSID),
        v("I", T::NONNULLTERMINATEDANSISTRING),
    ]);
    let payload: &[u8] = &[
        b'h', 0, 0xAC, 0x20, 0, 0,          // a = "h€", NUL
        b'c', 0x80, 0,                      // b = "c€" (CP1252), NUL
        0xFF,                               // c = -1
        0xFF,                               // d = 255
        0x00, 0x80,                         // e = -32768
        0x34, 0x12,                         // f = 0x1234
        0xFE, 0xFF, 0xFF, 0xFF,             // g = -2
        0x78, 0x56, 0x34, 0x12,             // h = 0x12345678
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, // i = i64::MAX
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // j = u64::MAX
        0x00, 0x00, 0xC0, 0x3F,             // k = 1.5
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xC0, // l = -2.5
        0x01, 0x00, 0x00, 0x00,             // m = TRUE
        0xAB, 0xCD,                         // n = 2 bytes
        0xB3, 0x5E, 0x80, 0x8E, 0x8F, 0x6A, 0x1E, 0x4A, // o = 8e805eb3-6a8f-4a1e-
        0x90, 0xFA, 0xA8, 0x31, 0xD9, 0x4E, 0x54, 0xA1, //     90fa-a831d94e54a1
        0x80, 0x4D, 0xFA, 0xF4, 0x11, 0x02, 0, 0, // p = 0x211f4fa4d80 (8-byte pointer)
        0x70, 0x10, 0xFA, 0x4D, 0x8B, 0xA5, 0xD7, 0x01, // q = 2021-09-09T14:59:35.799Z
        0xE5, 0x07, 0x09, 0x00, 0x04, 0x00, 0x09, 0x00, // r = 2021-09 (Thu) 09
        0x0E, 0x00, 0x3B, 0x00, 0x23, 0x00, 0x1F, 0x03, //     14:59:35.799
        0x01, 0x01, 0, 0, 0, 0, 0, 0x05, 0x12, 0, 0, 0, // s = S-1-5-18
        0xEF, 0xBE, 0xAD, 0xDE,             // t = 0xdeadbeef
        0x01, 0, 0, 0, 0, 0, 0, 0x80,       // u = 0x8000000000000001
        0x04, 0x00, b'o', 0, b'k', 0,       // v = 4 bytes: "ok"
        0x02, 0x00, b'h', b'i',             // w = 2 bytes: "hi"
        0x01, 0x00, 0x7F,                   // x = 1 byte
        0x02, 0x00, b'z', 0,                // y = 2 bytes: "z"
        0x01, 0x00, b'q',                   // z = 1 byte: "q"
        0x00, 0x02, b'Z', 0,                // A = big-endian 2 bytes: "Z"
        0x00, 0x01, b'Q',                   // B = big-endian 1 byte: "Q"
        0x3A, 0x04,                         // C = U+043A 'к'
        0x9F,                               // D = 0x9F 'Ÿ' (CP1252)
        0x10, 0, 0, 0, 0, 0, 0, 0,          // E = 16 (pointer-sized)
        0x03, 0x00, 0x00, 0x00, 1, 2, 3,    // F = u32 count 3, 3 bytes
        0, 0, 0, 0,                         // G = no SID
        0x11, 0, 0, 0, 0, 0, 0, 0,          // H = TOKEN_USER: Sid pointer,
        0, 0, 0, 0, 0, 0, 0, 0,             //     Attributes (two pointers)
        0x01, 0x01, 0, 0, 0, 0, 0, 0x05, 0x12, 0, 0, 0, //  then S-1-5-18
        b'e', b'n', b'd',                   // I = the rest: "end"
    ];
    let fields = decode_exact(&l, payload, PointerSize::Eight).unwrap();
    let sid = &payload[105..117];
    assert_eq!(values(&fields), vec![
        ("a", owned("h€")),
        ("b", owned("c€")),
        ("c", Value::I64(-1)),
        ("d", Value::U64(255)),
        ("e", Value::I64(-32768)),
        ("f", Value::U64(0x1234)),
        ("g", Value::I64(-2)),
        ("h", Value::U64(0x1234_5678)),
        ("i", Value::I64(i64::MAX)),
        ("j", Value::U64(u64::MAX)),
        ("k", Value::F32(1.5)),
        ("l", Value::F64(-2.5)),
        ("m", Value::Bool(1)),
        ("n", Value::Binary(&[0xAB, 0xCD])),
        ("o", Value::Guid(Guid::parse("8e805eb3-6a8f-4a1e-90fa-a831d94e54a1").unwrap())),
        ("p", Value::Hex(0x211_f4fa_4d80)),
        ("q", Value::FileTime(0x01D7_A58B_4DFA_1070)),
        ("r", Value::SystemTime([2021, 9, 4, 9, 14, 59, 35, 799])),
        ("s", Value::Sid(sid)),
        ("t", Value::Hex(0xDEAD_BEEF)),
        ("u", Value::Hex(0x8000_0000_0000_0001)),
        ("v", owned("ok")),
        ("w", str("hi")),
        ("x", Value::Binary(&[0x7F])),
        ("y", owned("z")),
        ("z", str("q")),
        ("A", owned("Z")),
        ("B", str("Q")),
        ("C", Value::Char('к')),
        ("D", Value::Char('Ÿ')),
        ("E", Value::U64(16)),
        ("F", Value::Binary(&[1, 2, 3])),
        ("G", Value::Sid(&[])),
        ("H", Value::Sid(&payload[payload.len() - 15..payload.len() - 3])),
        ("I", str("end")),
    ]);
    // 32-bit: the pointer, the size and the TOKEN_USER take 4 bytes each.
    let l32 = layout(vec![v("p", T::POINTER), v("E", T::SIZET), v("H", T::WBEMSID)]);
    #[rustfmt::skip]
    let p32: &[u8] = &[
        0x78, 0x56, 0x34, 0x12,             // p = 0x12345678
        0x10, 0, 0, 0,                      // E = 16
        0x11, 0, 0, 0, 0, 0, 0, 0,          // H = TOKEN_USER (4 + 4)
        0x01, 0x00, 0, 0, 0, 0, 0, 0x05,    //     S-1-5
    ];
    let f32 = decode_exact(&l32, p32, PointerSize::Four).unwrap();
    assert_eq!(json(&f32), r#"{"p":"0x12345678","E":16,"H":"S-1-5"}"#);
    // The whole event as JSON (TDH-like forms).
    assert_eq!(
        json(&fields[..4]),
        r#"{"a":"h€","b":"c€","c":-1,"d":255}"#
    );
    // The same layout as the trace's metadata carries it: written as a TRACE_EVENT_INFO,
    // parsed back to the same description, and decoding the payload to the same values.
    let info = EventInfo {
        provider: PROVIDER,
        event_guid: Guid::default(),
        id: 7,
        version: 1,
        opcode: 0,
        decoding_source: 0,
        provider_name: Some("Every-InType".into()),
        event_name: Some("All".into()),
        task_name: None,
        opcode_name: None,
        properties: l.properties().to_vec(),
        top_level: l.properties().len() as u16,
        map_names: vec![],
    };
    let bytes = encode_event_info(&info).expect("every in-type has a TRACE_EVENT_INFO form");
    let parsed = parse_event_info(&bytes).unwrap();
    assert_eq!(parsed, info);
    let mut layouts = Layouts::new();
    layouts.add_metadata(METADATA_EVENT_INFO, &bytes).unwrap();
    let from_metadata = layouts.get(&EventKey::new(PROVIDER, 7, 1)).expect("described").clone();
    assert_eq!(from_metadata.source, Source::Metadata);
    assert_eq!(from_metadata.provider_name.as_deref(), Some("Every-InType"));
    let decoded = decode_exact(&from_metadata, payload, PointerSize::Eight).unwrap();
    assert_eq!(values(&decoded), values(&fields));
}

#[test]
#[rustfmt::skip]
fn out_types_select_the_value() {
    use TdhInType as T;
    use TdhOutType as O;
    let l = layout(vec![
        vo("a", T::INT8, O::STRING),
        vo("b", T::UINT8, O::BOOLEAN),
        vo("c", T::UINT16, O::STRING),
        vo("d", T::UINT16, O::PORT),
        vo("e", T::UINT32, O::IPV4),
        vo("f", T::UINT32, O::WIN32ERROR),
        vo("g", T::UINT32, O::NTSTATUS),
        vo("h", T::INT32, O::HRESULT),
        vo("i", T::INT16, O::HEXINT16),
        vo("j", T::UINT64, O::ERRORCODE),
        vo("k", T::BINARY, O::IPV6).with_length(Length::Fixed(16)),
        vo("l", T::BINARY, O::SOCKETADDRESS).with_length(Length::Fixed(8)),
        vo("m", T::ANSISTRING, O::UTF8),
        vo("n", T::UINT32, O::PID),
        vo("o", T::POINTER, O::CODE_POINTER),
    ]);
    let payload: &[u8] = &[
        b'x',                               // a = 'x'
        0x02,                               // b = 2 (true)
        0x41, 0x00,                         // c = 'A'
        0x01, 0xBB,                         // d = port 443 (big-endian)
        10, 0, 0, 1,                        // e = 10.0.0.1 (network order)
        0x05, 0x00, 0x00, 0x00,             // f = ERROR_ACCESS_DENIED (5)
        0x34, 0x00, 0x00, 0xC0,             // g = 0xc0000034
        0x05, 0x40, 0x00, 0x80,             // h = 0x80004005
        0xFF, 0xFF,                         // i = -1 shown as 0xffff
        0x57, 0, 0, 0, 0, 0, 0, 0,          // j = 0x57
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // k = ::1
        0x02, 0x00, 0x00, 0x50, 127, 0, 0, 1, // l = AF_INET, port 80, 127.0.0.1
        0xE2, 0x82, 0xAC, 0x00,             // m = "€" (UTF-8), NUL
        0x10, 0x00, 0x00, 0x00,             // n = 16
        0x00, 0x10, 0, 0, 0, 0, 0, 0,       // o = 0x1000
    ];
    let fields = decode_exact(&l, payload, PointerSize::Eight).unwrap();
    assert_eq!(values(&fields), vec![
        ("a", Value::Char('x')),
        ("b", Value::Bool(2)),
        ("c", Value::Char('A')),
        ("d", Value::Port(443)),
        ("e", Value::Ipv4(Ipv4Addr::new(10, 0, 0, 1))),
        ("f", Value::Win32Error(5)),
        ("g", Value::NtStatus(0xC000_0034)),
        ("h", Value::HResult(0x8000_4005_u32 as i32)),
        ("i", Value::Hex(0xFFFF)),
        ("j", Value::Hex(0x57)),
        ("k", Value::Ipv6(Ipv6Addr::LOCALHOST)),
        ("l", Value::SocketAddress(&payload[48..56])),
        ("m", owned("€")),
        ("n", Value::U64(16)),
        ("o", Value::Hex(0x1000)),
    ]);
    assert_eq!(
        json(&fields[9..]),
        r#"{"j":"0x57","k":"::1","l":"127.0.0.1:80","m":"€","n":16,"o":"0x1000"}"#
    );
}

#[test]
#[rustfmt::skip]
fn count_and_length_forms() {
    use TdhInType as T;
    let l = layout(vec![
        v("n", T::UINT8),                                            // 0
        v("fixed", T::UINT16).with_count(Count::Fixed(2)),           // 1
        v("counted", T::UINT16).with_count(Count::Property(0)),      // 2
        v("one", T::UINT32).with_count(Count::Fixed(1)),             // 3: an array of one
        v("chars", T::UINT8).with_count(Count::Fixed(3)),            // 4: bytes, not characters
        vo("text", T::UINT8, TdhOutType::STRING).with_count(Count::Property(0)), // 5
        vo("wide", T::UINT16, TdhOutType::STRING).with_count(Count::Fixed(2)),   // 6
        v("ansi", T::ANSISTRING).with_length(Length::Property(0)),   // 7: n characters
        v("wfix", T::UNICODESTRING).with_length(Length::Fixed(4)),   // 8: 4 characters
        v("empty", T::UNICODESTRING).with_length(Length::Fixed(0)),  // 9
        v("strs", T::UNICODESTRING).with_count(Count::Fixed(2)),     // 10
        v("bin", T::BINARY).with_length(Length::Property(0)),        // 11
        v("rest", T::POINTER).with_count(Count::Remaining),          // 12
    ]);
    let payload: &[u8] = &[
        0x02,                               // n = 2
        0x01, 0x00, 0x02, 0x00,             // fixed = [1, 2]
        0x03, 0x00, 0x04, 0x00,             // counted = [3, 4] (n = 2)
        0x05, 0x00, 0x00, 0x00,             // one = [5]
        0x61, 0x62, 0x63,                   // chars = [97, 98, 99]
        b'o', b'k',                         // text = "ok" (n = 2 characters)
        b'h', 0, b'i', 0,                   // wide = "hi"
        b'a', b'b',                         // ansi = "ab" (n = 2 characters)
        b'x', 0, b'y', 0, 0, 0, 0, 0,       // wfix = "xy", NUL-padded to 4 characters
                                            // empty = "" (no bytes)
        b'p', 0, 0, 0, b'q', 0, 0, 0,       // strs = ["p", "q"]
        0xEE, 0xFF,                         // bin = 2 bytes (n = 2)
        0x01, 0, 0, 0, 0, 0, 0, 0,          // rest = [1, 2]: the pointers that
        0x02, 0, 0, 0, 0, 0, 0, 0,          //     fill the payload
    ];
    let fields = decode_exact(&l, payload, PointerSize::Eight).unwrap();
    assert_eq!(
        json(&fields),
        concat!(
            r#"{"n":2,"fixed":[1,2],"counted":[3,4],"one":[5],"chars":[97,98,99],"text":"ok","#,
            r#""wide":"hi","ansi":"ab","wfix":"xy","empty":"","strs":["p","q"],"bin":"0xeeff","#,
            r#""rest":["0x1","0x2"]}"#
        )
    );
    // Four pointers of 32-bit.
    let f32 = decode_exact(&l, payload, PointerSize::Four).unwrap();
    assert_eq!(json(&f32[12..]), r#"{"rest":["0x1","0x0","0x2","0x0"]}"#);
}

#[test]
#[rustfmt::skip]
fn payloads_that_do_not_fit_are_errors_with_offsets() {
    use DecodeErrorKind as K;
    use TdhInType as T;
    let two = layout(vec![v("a", T::UINT16), v("b", T::UINT32)]);
    assert_eq!(
        decode_exact(&two, &[1, 0, 2, 0], PointerSize::Eight),
        Err(err(2, Some("b"), K::Truncated { needed: 4, available: 2 }))
    );
    // One byte too many.
    assert_eq!(
        decode_exact(&two, &[1, 0, 2, 0, 0, 0, 9], PointerSize::Eight),
        Err(err(6, None, K::TrailingBytes { count: 1 }))
    );
    // The lenient form counts it.
    assert_eq!(decode(&two, &[1, 0, 2, 0, 0, 0, 9], PointerSize::Eight).unwrap().unread, 1);
    let counted = layout(vec![v("n", T::UINT8), v("x", T::UINT32).with_count(Count::Property(0))]);
    // n = 200 elements of 4 bytes, 4 bytes left.
    assert_eq!(
        decode_exact(&counted, &[200, 1, 2, 3, 4], PointerSize::Eight),
        Err(err(1, Some("x"), K::CountTooLarge { count: 200, available: 4 }))
    );
    let s = layout(vec![v("s", T::UNICODESTRING)]);
    assert_eq!(
        decode_exact(&s, &[b'a', 0, b'b', 0], PointerSize::Eight),
        Err(err(0, Some("s"), K::UnterminatedString))
    );
    let a = layout(vec![v("s", T::ANSISTRING)]);
    assert_eq!(
        decode_exact(&a, b"abc", PointerSize::Eight),
        Err(err(0, Some("s"), K::UnterminatedString))
    );
    let sid = layout(vec![v("s", T::SID)]);
    // 2 sub-authorities announced, one present.
    assert_eq!(
        decode_exact(&sid, &[1, 2, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0], PointerSize::Eight),
        Err(err(0, Some("s"), K::BadSid))
    );
    let wsid = layout(vec![v("s", T::WBEMSID)]);
    assert_eq!(
        decode_exact(&wsid, &[1, 0], PointerSize::Eight),
        Err(err(0, Some("s"), K::BadSid))
    );
    // A length read from a property that comes after.
    let later = EventLayout::new(
        Source::Mof,
        None,
        None,
        vec![v("b", T::BINARY).with_length(Length::Property(1)), v("n", T::UINT8)],
        2,
    )
    .unwrap();
    assert_eq!(
        decode_exact(&later, &[1, 2], PointerSize::Eight),
        Err(err(0, Some("b"), K::ReferenceNotDecoded { reference: "n".into() }))
    );
    let big = layout(vec![v("n", T::UINT64), v("b", T::BINARY).with_length(Length::Property(0))]);
    assert_eq!(
        decode_exact(&big, &[0xFF; 9], PointerSize::Eight),
        Err(err(8, Some("b"), K::Truncated { needed: usize::MAX, available: 1 }))
    );
    let unknown = layout(vec![v("u", TdhInType(24))]);
    assert_eq!(
        decode_exact(&unknown, &[0], PointerSize::Eight),
        Err(err(0, Some("u"), K::UnknownInType(TdhInType(24))))
    );
    // 65535 empty structs cost values, not bytes: the budget stops them.
    let empty = EventLayout::new(
        Source::Mof,
        None,
        None,
        vec![
            Property::structure("e", 1, 1).with_count(Count::Fixed(u16::MAX)),
            Property::structure("f", 2, 0),
        ],
        1,
    )
    .unwrap();
    assert_eq!(
        decode_exact(&empty, &[], PointerSize::Eight).map_err(|e| e.kind),
        Err(K::TooManyValues)
    );
    assert_eq!(
        err(6, Some("b"), K::TrailingBytes { count: 1 }).to_string(),
        r#"payload offset 6 (property "b"): 1 bytes left after the last property"#
    );
}

#[test]
fn layouts_that_contradict_themselves_are_refused() {
    use TdhInType as T;
    let new = |props: Vec<Property>, top| EventLayout::new(Source::Mof, None, None, props, top);
    let why = |r: Result<EventLayout, LayoutError>| match r {
        Err(LayoutError::Property { why, .. }) => why,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        why(new(
            vec![
                v("a", T::BINARY).with_count(Count::Remaining),
                v("b", T::UINT8)
            ],
            2
        )),
        "only the last top-level property may fill the rest of the payload"
    );
    assert_eq!(
        why(new(
            vec![v("a", T::UNICODESTRING).with_count(Count::Remaining)],
            1
        )),
        "only fixed-size values may fill the rest of the payload"
    );
    assert_eq!(
        why(new(
            vec![
                v("a", T::UINT8).with_count(Count::Fixed(2)),
                v("b", T::BINARY).with_length(Length::Property(0))
            ],
            2
        )),
        "count or length read from an array"
    );
    assert_eq!(
        why(new(
            vec![v("a", T::GUID).with_map(Arc::new(ValueMap::new(false, [])))],
            1
        )),
        "value map on a property that is not an integer"
    );
    assert_eq!(
        why(new(
            vec![Property::structure("s", 1, 0).with_length(Length::Fixed(1))],
            1
        )),
        "struct with a length"
    );
    assert!(matches!(
        new(vec![v("a", T::UINT8)], 2),
        Err(LayoutError::TooMany { .. })
    ));
    // 33 nested structs.
    let mut deep: Vec<Property> = (0..33)
        .map(|i| Property::structure("s", i + 1, 1))
        .collect();
    deep.push(v("x", T::UINT8));
    assert!(matches!(
        new(deep.clone(), 1),
        Err(LayoutError::TooDeep { .. })
    ));
    deep.remove(0);
    for (i, p) in deep.iter_mut().enumerate() {
        if let PropertyKind::Struct { first, .. } = &mut p.kind {
            *first = i as u16 + 1;
        }
    }
    assert!(new(deep, 1).is_ok(), "32 levels are allowed");
}

/// A manifest with every `winmeta.xml` in-type, counts and lengths of both forms, a struct
/// array, a value map and a bitmap whose messages come from the string table.
const MANIFEST: &str = include_str!("testdata/all-types.man");

fn manifest_layouts() -> Layouts {
    let m = parse_manifest(MANIFEST).unwrap();
    assert_eq!(m.providers.len(), 1);
    assert_eq!(m.providers[0].name, "Test-Provider");
    assert_eq!(m.providers[0].guid, PROVIDER);
    let mut layouts = Layouts::new();
    layouts.add_manifest(&m);
    layouts
}

#[test]
#[rustfmt::skip]
fn manifest_every_in_type() {
    let mut layouts = manifest_layouts();
    let l = layouts.get(&EventKey::new(PROVIDER, 1, 0)).unwrap().clone();
    assert_eq!(l.source, Source::Manifest);
    assert_eq!(l.event_name.as_deref(), Some("Work/Start"));
    assert_eq!(l.provider_name.as_deref(), Some("Test-Provider"));
    let payload: &[u8] = &[
        b'h', 0, b'i', 0, 0, 0,             // a = "hi"
        b'o', b'k', 0,                      // b = "ok"
        0x80,                               // c = -128
        0x01,                               // d = 1 -> "Busy"
        0xFF, 0x7F,                         // e = 32767
        0x00, 0x50,                         // f = port 80
        0x05, 0x40, 0x00, 0x80,             // g = 0x80004005
        0x07, 0x00, 0x00, 0x00,             // h = 7 -> Read|Write|0x4
        0x01, 0, 0, 0, 0, 0, 0, 0,          // i = 1
        0xFF, 0, 0, 0, 0, 0, 0, 0,          // j = 0xff
        0x00, 0x00, 0x80, 0xBF,             // k = -1.0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, // l = 1.0
        0x00, 0x00, 0x00, 0x00,             // m = FALSE
        0x12, 0x34,                         // n = 2 bytes
        0xB3, 0x5E, 0x80, 0x8E, 0x8F, 0x6A, 0x1E, 0x4A, // o
        0x90, 0xFA, 0xA8, 0x31, 0xD9, 0x4E, 0x54, 0xA1,
        0x78, 0x56, 0x34, 0x12,             // p = 0x12345678 (32-bit pointer)
        0x00, 0x80, 0x3E, 0xD5, 0xDE, 0xB1, 0x9D, 0x01, // q = 1970-01-01T00:00:00Z
        0xE8, 0x07, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, // r = 2024-01 (Mon) 02
        0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06, 0x00, //     03:04:05.006
        0x01, 0x00, 0, 0, 0, 0, 0, 0x05,    // s = S-1-5 (no sub-authority)
        0x0A, 0, 0, 0,                      // t = 0xa
        0x0B, 0, 0, 0, 0, 0, 0, 0,          // u = 0xb
    ];
    let fields = decode_exact(&l, payload, PointerSize::Four).unwrap();
    assert_eq!(
        json(&fields),
        concat!(
            r#"{"a":"hi","b":"ok","c":-128,"d":"Busy","e":32767,"f":80,"g":"0x80004005","#,
            r#""h":"Read|Write|0x4","i":1,"j":"0xff","k":-1.0,"l":1.0,"m":false,"n":"0x1234","#,
            r#""o":"8e805eb3-6a8f-4a1e-90fa-a831d94e54a1","p":"0x12345678","#,
            r#""q":"1970-01-01T00:00:00.000000Z","r":"2024-01-02T03:04:05.006","s":"S-1-5","#,
            r#""t":"0xa","u":"0xb"}"#
        )
    );
    assert_eq!(fields[3].value, Value::Mapped(1, Cow::Borrowed("Busy")));
    // A value neither map names stays a number; 0 in the value map has a name.
    let mut p2 = payload.to_vec();
    p2[10] = 9;
    p2[19] = 0;
    let f2 = decode_exact(&l, &p2, PointerSize::Four).unwrap();
    assert_eq!((&f2[3].value, &f2[7].value), (&Value::U64(9), &Value::U64(0)));
    p2[10] = 0;
    let f3 = decode_exact(&l, &p2, PointerSize::Four).unwrap();
    assert_eq!(f3[3].value, Value::Mapped(0, Cow::Borrowed("Idle")));
}

#[test]
#[rustfmt::skip]
fn manifest_counts_lengths_and_structs() {
    let mut layouts = manifest_layouts();
    let l = layouts.get(&EventKey::new(PROVIDER, 2, 1)).unwrap().clone();
    assert_eq!(l.event_name.as_deref(), Some("FormsEvent"));
    let payload: &[u8] = &[
        0x02, 0x00,                         // Count = 2
        0x03,                               // Len = 3
        b'a', 0, b'b', 0, b'c', 0,          // Name: 3 characters
        b'x', b'y', 0,                      // Fixed: 3 bytes, "xy" and its NUL
        0x0A, 0, 0, 0, 0x0B, 0, 0, 0,       // Values: Count = 2 elements
        0x07, 0x08,                         // Pair
        0x01, 0xAA,                         // Items[0]: Size 1, Data 1 byte
        0x00,                               // Items[1]: Size 0, no Data
    ];
    let fields = decode_exact(&l, payload, PointerSize::Eight).unwrap();
    assert_eq!(
        json(&fields),
        concat!(
            r#"{"Count":2,"Len":3,"Name":"abc","Fixed":"xy","Values":[10,11],"Pair":[7,8],"#,
            r#""Items":[{"Size":1,"Data":"0xaa"},{"Size":0,"Data":""}]}"#
        )
    );
    // An event without a template has no fields, and no bytes.
    let none = layouts.get(&EventKey::new(PROVIDER, 3, 0)).unwrap().clone();
    assert_eq!(decode_exact(&none, &[], PointerSize::Eight).unwrap(), vec![]);
    assert!(decode_exact(&none, &[0], PointerSize::Eight).is_err());
    // Not described: another version, another id.
    assert!(layouts.get(&EventKey::new(PROVIDER, 2, 0)).is_none());
    assert!(layouts.get(&EventKey::new(PROVIDER, 4, 0)).is_none());
}

#[test]
fn manifest_errors_name_line_and_column() {
    let at = |xml: &str| match parse_manifest(xml) {
        Err(LayoutError::Manifest {
            line,
            column,
            message,
        }) => (line, column, message),
        other => panic!("{other:?}"),
    };
    let (line, _, _) = at("<a>\n<b>\n</a>");
    assert_eq!(line, 3);
    let provider = |template: &str, data: &str| {
        format!(
            r#"<instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events"><instrumentation><events>
<provider name="P" guid="{{6a8f7c2b-1d1e-4f0a-9c3e-2b4d5e6f7a8b}}">
<events><event value="1" template="{template}"/></events>
<templates><template tid="T">
{data}
</template></templates></provider></events></instrumentation></instrumentationManifest>"#
        )
    };
    let m = |t: &str, d: &str| at(&provider(t, d));
    assert_eq!(m("X", "").2, r#"template "X" is not defined"#);
    let (line, column, message) = m("T", r#"<data name="a" inType="win:Nope"/>"#);
    assert_eq!((line, column), (5, 1));
    assert_eq!(message, r#"unknown inType "win:Nope""#);
    assert_eq!(
        m("T", r#"<data name="a" inType="win:UInt8" count="later"/><data name="later" inType="win:UInt8"/>"#).2,
        r#"count "later" names no earlier data item"#
    );
    assert_eq!(
        m("T", r#"<data name="a" inType="win:UInt8" map="M"/>"#).2,
        r#"map "M" is not defined"#
    );
    assert_eq!(
        m("T", r#"<data name="a" inType="win:UInt8" length="70000"/>"#).2,
        r#"length "70000" is larger than 65535"#
    );
    assert!(m(
        "T",
        r#"<data name="a" inType="win:GUID"/><data name="b" inType="win:Binary" length="a"/>"#
    )
    .2
    .contains("not an integer"));
    assert_eq!(
        m("T", r#"<data inType="win:UInt8"/>"#).2,
        "<data> without the name attribute"
    );
    let bad_guid = provider("T", "").replace("{6a8f", "{zz8f");
    assert!(at(&bad_guid).2.contains("is not a GUID"));
    // A DTD (and so an entity) is refused.
    assert!(parse_manifest(r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#).is_err());
    // Only an instrumentationManifest in the manifest namespace is a manifest: another root,
    // or the right name in no namespace or another one, is refused where the root starts.
    let (line, column, message) = at("<?xml version=\"1.0\"?>\n  <plist/>");
    assert_eq!((line, column), (2, 3));
    assert!(
        message.contains("the root element is <plist> in no namespace"),
        "{message}"
    );
    let unqualified = provider("T", "").replace(
        r#" xmlns="http://schemas.microsoft.com/win/2004/08/events""#,
        "",
    );
    assert!(at(&unqualified)
        .2
        .contains("<instrumentationManifest> in no namespace"));
    let other = provider("T", "").replace("win/2004/08/events", "win/2004/08/other");
    assert!(at(&other)
        .2
        .contains("in namespace http://schemas.microsoft.com/win/2004/08/other"));
}

#[test]
fn precedence_and_cache() {
    // One layout per source for the same key: a manifest's, then the trace's metadata.
    let mut layouts = manifest_layouts();
    let key = EventKey::new(PROVIDER, 7, 2);
    assert!(layouts.get(&key).is_none());
    let manifest =
        parse_manifest(&MANIFEST.replace(r#"value="2" version="1""#, r#"value="7" version="2""#))
            .unwrap();
    layouts.add_manifest(&manifest);
    assert_eq!(layouts.get(&key).unwrap().source, Source::Manifest);
    layouts
        .add_metadata(METADATA_EVENT_INFO, EVENT_INFO)
        .unwrap();
    for _ in 0..3 {
        assert_eq!(layouts.get(&key).unwrap().source, Source::Metadata);
    }
    assert_eq!(layouts.builds(), 1, "a metadata layout is built once");
    assert_eq!(layouts.metadata_len(), 1);
    // MOF: Process_TypeGroup1 version 3, DCStart; the MOF class GUID is the key.
    let process = EventKey::new(crate::etl::names::PROCESS, 3, 3);
    let l = layouts.get(&process).unwrap();
    assert_eq!(
        (l.source, l.event_name.as_deref()),
        (Source::Mof, Some("DCStart"))
    );
    // Other MetaData event types are ignored; a bad one is an error.
    assert_eq!(layouts.add_metadata(34, &[]), Ok(()));
    assert!(layouts.add_metadata(METADATA_EVENT_INFO, &[0; 10]).is_err());
}

#[test]
#[rustfmt::skip]
fn clr_stack_walk_reads_frame_count_pointers() {
    let clr = r#"<instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events"><instrumentation><events>
<provider name="Microsoft-Windows-DotNETRuntime" guid="{e13c0d23-ccbc-4e12-931b-d9cc2eee27e4}">
<events><event value="82" template="ClrStackWalk" task="CLRStack" opcode="CLRStackWalk"/></events>
<templates><template tid="ClrStackWalk">
 <data name="ClrInstanceID" inType="win:UInt16"/>
 <data name="Reserved1" inType="win:UInt8"/>
 <data name="Reserved2" inType="win:UInt8"/>
 <data name="FrameCount" inType="win:UInt32"/>
 <data name="Stack" inType="win:Pointer" count="2"/>
</template></templates></provider></events></instrumentation></instrumentationManifest>"#;
    let mut layouts = Layouts::new();
    layouts.add_manifest(&parse_manifest(clr).unwrap());
    let guid = Guid::parse("e13c0d23-ccbc-4e12-931b-d9cc2eee27e4").unwrap();
    let l = layouts.get(&EventKey::new(guid, 82, 0)).unwrap().clone();
    let payload: &[u8] = &[
        0x0B, 0x00, 0x00, 0x00,             // ClrInstanceID 11, Reserved1, Reserved2
        0x03, 0x00, 0x00, 0x00,             // FrameCount = 3
        0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0, 0, // three 32-bit frames
    ];
    let fields = decode_exact(&l, payload, PointerSize::Four).unwrap();
    assert_eq!(json(&fields[3..]), r#"{"FrameCount":3,"Stack":["0x10","0x20","0x30"]}"#);
}

#[test]
fn event_names() {
    assert_eq!(
        event_name(Some("Own"), Some("T"), Some("O")).as_deref(),
        Some("Own")
    );
    assert_eq!(
        event_name(None, Some("T"), Some("win:Info")).as_deref(),
        Some("T")
    );
    assert_eq!(
        event_name(None, Some("T"), Some("win:Stop")).as_deref(),
        Some("T/Stop")
    );
    assert_eq!(
        event_name(Some(" "), None, Some("Op")).as_deref(),
        Some("Op")
    );
    assert_eq!(event_name(None, None, None), None);
}

#[test]
#[rustfmt::skip]
fn an_optional_last_property_is_read_when_bytes_are_left() {
    let l = layout(vec![
        v("flags", TdhInType::UINT8),
        v("name", TdhInType::UNICODESTRING).optional(),
    ]);
    // Older Windows: the byte of flags only.
    assert_eq!(json(&decode_exact(&l, &[7], PointerSize::Eight).unwrap()), r#"{"flags":7}"#);
    // Newer: the name follows.
    let payload: &[u8] = &[
        0x07,                               // flags
        b'W', 0, b'k', 0, 0, 0,             // name = "Wk", NUL
    ];
    assert_eq!(
        json(&decode_exact(&l, payload, PointerSize::Eight).unwrap()),
        r#"{"flags":7,"name":"Wk"}"#
    );
    // Bytes that are not a whole name are still an error.
    assert!(decode_exact(&l, &[7, b'W', 0], PointerSize::Eight).is_err());
    let misplaced = EventLayout::new(
        Source::Mof,
        None,
        None,
        vec![v("a", TdhInType::UINT8).optional(), v("b", TdhInType::UINT8)],
        2,
    );
    assert!(matches!(misplaced, Err(LayoutError::Property { why: "only the last top-level property may be optional", .. })));
    // The form exists in MOF tables only: it has no TRACE_EVENT_INFO encoding.
    let info = EventInfo {
        provider: PROVIDER,
        event_guid: Guid::default(),
        id: 1,
        version: 0,
        opcode: 0,
        decoding_source: 0,
        provider_name: None,
        event_name: None,
        task_name: None,
        opcode_name: None,
        properties: l.properties().to_vec(),
        top_level: 2,
        map_names: vec![],
    };
    assert_eq!(encode_event_info(&info), None);
}

/// A fuzzer finding (`tdh_event_info`): a CLR `TRACE_EVENT_INFO` mutated so that a DOUBLE
/// decodes to NaN. Not a decoder bug: the target compared decoded values with `==`, and NaN is
/// not equal to itself; kept so that the lenient and the exact decoder stay in agreement.
#[test]
fn fuzz_finding_nan_double() {
    let data = include_bytes!("testdata/fuzz-event-info-nan.bin");
    let n = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let (meta, payload) = data[2..].split_at(n.min(data.len() - 2));
    let info = parse_event_info(meta).unwrap();
    let layout = info.layout(&|_| None).unwrap();
    for ptr in [PointerSize::Four, PointerSize::Eight] {
        let lenient = decode(&layout, payload, ptr).unwrap();
        let text = json(&lenient.fields);
        assert!(text.contains("NaN"), "{text}");
        match decode_exact(&layout, payload, ptr) {
            Ok(exact) => assert_eq!(json(&exact), json(&lenient.fields)),
            Err(e) => assert_eq!(
                e.kind,
                DecodeErrorKind::TrailingBytes {
                    count: lenient.unread
                }
            ),
        }
    }
}

/// `EVENT_INFO` as another kind (event id `id`), its map name dropped when `mapped` is false.
fn event_info_of(id: u16, mapped: bool) -> Vec<u8> {
    let mut info = parse_event_info(EVENT_INFO).unwrap();
    info.id = id;
    if !mapped {
        info.map_names.clear();
    }
    encode_event_info(&info).unwrap()
}

/// Kinds A (`EVENT_INFO`: event 7) and B (event 8) of one provider, and layouts holding A's
/// description only.
fn kind_a_described() -> (EventKey, EventKey, Layouts) {
    let mut layouts = Layouts::new();
    layouts
        .add_metadata(METADATA_EVENT_INFO, EVENT_INFO)
        .unwrap();
    let (a, b) = (EventKey::new(PROVIDER, 7, 2), EventKey::new(PROVIDER, 8, 2));
    (a, b, layouts)
}

/// Whether the layout's property 3 (the struct member `x`) carries a value map.
fn mapped(l: &EventLayout) -> bool {
    matches!(
        l.properties()[3].kind,
        PropertyKind::Value { map: Some(_), .. }
    )
}

#[test]
fn metadata_for_a_later_kind_keeps_the_layouts_built_before_it() {
    let (a, b, mut layouts) = kind_a_described();
    let first = layouts.get(&a).unwrap().clone();
    assert_eq!(layouts.builds(), 1);
    // Kind B is looked up before its description arrives: no layout, then one.
    assert!(layouts.get(&b).is_none());
    layouts
        .add_metadata(METADATA_EVENT_INFO, &event_info_of(8, false))
        .unwrap();
    let l = layouts.get(&b).expect("described since");
    assert_eq!(l.source, Source::Metadata);
    let payload: &[u8] = &[
        0x01, 0x00, 0x01, 0x00, 0x00, 0x00, b'a', 0, 0, 0, 0, 0, 0xAB,
    ];
    assert_eq!(
        json(&decode_exact(l, payload, PointerSize::Eight).unwrap()),
        r#"{"n":1,"s":[{"x":"0x1","w":"a"}],"b":"0xab"}"#
    );
    assert_eq!(layouts.builds(), 2);
    // A was not built again: B's description does not change it.
    for _ in 0..2 {
        assert!(Arc::ptr_eq(layouts.get(&a).unwrap(), &first));
        assert!(layouts.get(&b).is_some());
    }
    assert_eq!(layouts.builds(), 2, "each kind built once");
    // A second description of a kind is ignored and changes nothing.
    layouts
        .add_metadata(METADATA_EVENT_INFO, &event_info_of(7, false))
        .unwrap();
    assert!(Arc::ptr_eq(layouts.get(&a).unwrap(), &first));
    assert_eq!(layouts.builds(), 2);
}

#[test]
fn a_value_map_arriving_late_rebuilds_only_the_kinds_that_name_it() {
    let (a, b, mut layouts) = kind_a_described();
    layouts
        .add_metadata(METADATA_EVENT_INFO, &event_info_of(8, false))
        .unwrap();
    assert!(!mapped(layouts.get(&a).unwrap()), "map M not known yet");
    let b_first = layouts.get(&b).unwrap().clone();
    assert_eq!(layouts.builds(), 2);
    layouts.add_metadata(METADATA_MAP_INFO, MAP_INFO).unwrap();
    assert!(mapped(layouts.get(&a).unwrap()), "A names M: built again");
    assert!(Arc::ptr_eq(layouts.get(&b).unwrap(), &b_first));
    assert_eq!(layouts.builds(), 3);
    // The same map again is no news.
    layouts.add_metadata(METADATA_MAP_INFO, MAP_INFO).unwrap();
    assert!(mapped(layouts.get(&a).unwrap()));
    assert_eq!(layouts.builds(), 3);
}

#[test]
fn imported_metadata_forgets_only_the_kinds_it_describes() {
    let (a, b, mut layouts) = kind_a_described();
    let first = layouts.get(&a).unwrap().clone();
    assert!(layouts.get(&b).is_none());
    let mut other = Layouts::new();
    other
        .add_metadata(METADATA_EVENT_INFO, &event_info_of(8, true))
        .unwrap();
    other.add_metadata(METADATA_MAP_INFO, MAP_INFO).unwrap();
    layouts.import_metadata(other);
    assert!(mapped(layouts.get(&b).expect("described by the import")));
    assert!(
        Arc::ptr_eq(layouts.get(&a).unwrap(), &first),
        "own kept, not rebuilt"
    );
    assert_eq!(layouts.builds(), 2);
}
