//! Round-trip property tests of the TraceLogging encoder and decoder, for every field type:
//! random schema and values → metadata + payload bytes → parse + decode → the same schema and
//! values. Plus: arbitrary bytes never make the parser or decoder panic.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use wsktrace_tools::tracelogging::{
    cp1252_char, decode, encode_payload, Field, FieldSchema, Guid, InType, OutType, PointerSize,
    ProviderTrait, ProviderTraits, Schema, Shape, Value,
};

/// (in-type, out-type) pairs: every in-type with its default and every out-type the decoder
/// treats specially, plus a few it ignores (fallback to the default).
const SCALARS: &[(InType, OutType)] = &[
    (InType::I8, OutType::Default),
    (InType::I8, OutType::String),
    (InType::I8, OutType::Hex),
    (InType::U8, OutType::Default),
    (InType::U8, OutType::String),
    (InType::U8, OutType::Boolean),
    (InType::U8, OutType::Hex),
    (InType::I16, OutType::Default),
    (InType::I16, OutType::Hex),
    (InType::U16, OutType::Default),
    (InType::U16, OutType::String),
    (InType::U16, OutType::Hex),
    (InType::U16, OutType::Port),
    (InType::I32, OutType::Default),
    (InType::I32, OutType::HResult),
    (InType::I32, OutType::Hex),
    (InType::U32, OutType::Default),
    (InType::U32, OutType::Pid),
    (InType::U32, OutType::Tid),
    (InType::U32, OutType::IPv4),
    (InType::U32, OutType::Win32Error),
    (InType::U32, OutType::NtStatus),
    (InType::U32, OutType::Hex),
    (InType::U32, OutType::CodePointer),
    (InType::U32, OutType(99)),
    (InType::I64, OutType::Default),
    (InType::I64, OutType::Hex),
    (InType::U64, OutType::Default),
    (InType::U64, OutType::CodePointer),
    (InType::F32, OutType::Default),
    (InType::F32, OutType::Hex),
    (InType::F64, OutType::Default),
    (InType::Bool32, OutType::Default),
    (InType::Binary, OutType::Default),
    (InType::Binary, OutType::IPv6),
    (InType::Binary, OutType::SocketAddress),
    (InType::Guid, OutType::Default),
    (InType::HexSize, OutType::Default),
    (InType::FileTime, OutType::Default),
    (InType::FileTime, OutType::DateTimeUtc),
    (InType::SystemTime, OutType::Default),
    (InType::Sid, OutType::Default),
    (InType::Hex32, OutType::Default),
    (InType::Hex32, OutType::NtStatus),
    (InType::Hex32, OutType::Win32Error),
    (InType::Hex64, OutType::Default),
    (InType::CStr16, OutType::Default),
    (InType::CStr16, OutType::Json),
    (InType::CStr8, OutType::Default),
    (InType::CStr8, OutType::Utf8),
    (InType::CStr8, OutType::Xml),
    (InType::Str16, OutType::Default),
    (InType::Str8, OutType::Default),
    (InType::Str8, OutType::Utf8),
    (InType::BinaryC, OutType::Default),
    (InType::BinaryC, OutType::IPv6),
    (InType::BinaryC, OutType::SocketAddress),
];

fn name() -> impl Strategy<Value = String> {
    // Any characters but NUL, including non-ASCII.
    "[^\u{0}]{0,6}"
}

fn tags() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        0u32..=0x0FFF_FFFF,
        Just(0x0FFF_FFFF),
        Just(0x0FE0_0000),
        Just(1)
    ]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => Just(Shape::Scalar),
        1 => (0u16..4).prop_map(Shape::ConstArray),
        1 => Just(Shape::VarArray),
    ]
}

fn scalar_field() -> impl Strategy<Value = FieldSchema> {
    (name(), prop::sample::select(SCALARS), tags(), shape()).prop_map(|(n, (i, o), t, s)| {
        FieldSchema {
            shape: s,
            ..FieldSchema::new(n, i, o).with_tags(t)
        }
    })
}

fn custom_field() -> impl Strategy<Value = FieldSchema> {
    (name(), prop::collection::vec(any::<u8>(), 0..6), tags())
        .prop_map(|(n, schema, t)| FieldSchema::custom(n, InType::Binary, &schema).with_tags(t))
}

fn field() -> impl Strategy<Value = FieldSchema> {
    let leaf = prop_oneof![8 => scalar_field(), 1 => custom_field()];
    leaf.prop_recursive(3, 24, 4, |inner| {
        (name(), prop::collection::vec(inner, 0..4), tags(), shape()).prop_map(
            |(n, members, t, s)| FieldSchema {
                shape: s,
                ..FieldSchema::structure(n, members).with_tags(t)
            },
        )
    })
}

fn schema() -> impl Strategy<Value = Schema> {
    (name(), tags(), prop::collection::vec(field(), 0..6)).prop_map(|(n, t, fields)| Schema {
        name: n,
        tags: t,
        fields,
    })
}

fn leak(b: Vec<u8>) -> &'static [u8] {
    // Test-only: values borrow their bytes, as decoded values borrow the payload.
    Box::leak(b.into_boxed_slice())
}

fn cp1252_string(max: usize, nul: bool) -> BoxedStrategy<String> {
    let lo = if nul { 0u8 } else { 1 };
    prop::collection::vec(lo..=255u8, 0..=max)
        .prop_map(|b| b.into_iter().map(cp1252_char).collect())
        .boxed()
}

fn utf16_units(n: usize) -> BoxedStrategy<String> {
    // n chars of the BMP outside the surrogates: exactly n UTF-16 code units.
    prop::collection::vec(prop_oneof![0u32..0xD800, 0xE000u32..=0xFFFF], n)
        .prop_map(|v| v.into_iter().map(|c| char::from_u32(c).unwrap()).collect())
        .boxed()
}

/// A value as the decoder gives it for one element of `f`.
fn element(f: &FieldSchema, ptr: PointerSize) -> BoxedStrategy<Value<'static>> {
    use Value as V;
    let (i, o) = (f.in_type, f.out_type);
    if i == InType::Struct {
        let members: Vec<_> = f
            .members
            .iter()
            .map(|m| {
                let name: &'static str = Box::leak(m.name.clone().into_boxed_str());
                let tags = m.tags;
                whole(m, ptr).prop_map(move |value| Field { name, tags, value })
            })
            .collect();
        return members.prop_map(V::Struct).boxed();
    }
    match (i, o) {
        (InType::I8 | InType::U8, OutType::String) => {
            any::<u8>().prop_map(|b| V::Char(cp1252_char(b))).boxed()
        }
        (InType::I8 | InType::U8, OutType::Hex) => (0u64..=0xFF).prop_map(V::Hex).boxed(),
        (InType::I8, _) => any::<i8>().prop_map(|x| V::I64(x.into())).boxed(),
        (InType::U8, OutType::Boolean) => (0u32..=0xFF).prop_map(V::Bool).boxed(),
        (InType::U8, _) => any::<u8>().prop_map(|x| V::U64(x.into())).boxed(),
        (InType::I16 | InType::U16, OutType::Hex) => (0u64..=0xFFFF).prop_map(V::Hex).boxed(),
        (InType::I16, _) => any::<i16>().prop_map(|x| V::I64(x.into())).boxed(),
        (InType::U16, OutType::String) => utf16_units(1)
            .prop_map(|s| V::Char(s.chars().next().unwrap()))
            .boxed(),
        (InType::U16, OutType::Port) => any::<u16>().prop_map(V::Port).boxed(),
        (InType::U16, _) => any::<u16>().prop_map(|x| V::U64(x.into())).boxed(),
        (_, OutType::HResult) if matches!(i, InType::I32 | InType::U32 | InType::Hex32) => {
            any::<i32>().prop_map(V::HResult).boxed()
        }
        (_, OutType::NtStatus) if matches!(i, InType::I32 | InType::U32 | InType::Hex32) => {
            any::<u32>().prop_map(V::NtStatus).boxed()
        }
        (_, OutType::Win32Error) if matches!(i, InType::I32 | InType::U32 | InType::Hex32) => {
            any::<u32>().prop_map(V::Win32Error).boxed()
        }
        (InType::U32, OutType::IPv4) => any::<[u8; 4]>()
            .prop_map(|b| V::Ipv4(Ipv4Addr::from(b)))
            .boxed(),
        (InType::I32 | InType::U32 | InType::Hex32, OutType::Hex | OutType::CodePointer)
        | (InType::Hex32, _) => any::<u32>().prop_map(|x| V::Hex(x.into())).boxed(),
        (InType::I32, _) => any::<i32>().prop_map(|x| V::I64(x.into())).boxed(),
        (InType::U32, _) => any::<u32>().prop_map(|x| V::U64(x.into())).boxed(),
        (InType::I64 | InType::U64, OutType::Hex | OutType::CodePointer) | (InType::Hex64, _) => {
            any::<u64>().prop_map(V::Hex).boxed()
        }
        (InType::I64, _) => any::<i64>().prop_map(V::I64).boxed(),
        (InType::U64, _) => any::<u64>().prop_map(V::U64).boxed(),
        (InType::HexSize, _) => match ptr {
            PointerSize::Four => any::<u32>().prop_map(|x| V::Hex(x.into())).boxed(),
            PointerSize::Eight => any::<u64>().prop_map(V::Hex).boxed(),
        },
        // NaN != NaN; every other bit pattern round-trips.
        (InType::F32, _) => any::<f32>()
            .prop_filter("not NaN", |x| !x.is_nan())
            .prop_map(V::F32)
            .boxed(),
        (InType::F64, _) => any::<f64>()
            .prop_filter("not NaN", |x| !x.is_nan())
            .prop_map(V::F64)
            .boxed(),
        (InType::Bool32, _) => prop_oneof![Just(0u32), Just(1u32), any::<u32>()]
            .prop_map(V::Bool)
            .boxed(),
        (InType::Guid, _) => any::<[u8; 16]>()
            .prop_map(|b| V::Guid(Guid::from_bytes_le(b)))
            .boxed(),
        (InType::FileTime, _) => any::<u64>().prop_map(V::FileTime).boxed(),
        (InType::SystemTime, _) => any::<[u16; 8]>().prop_map(V::SystemTime).boxed(),
        (InType::Sid, _) => (
            any::<u8>(),
            0u8..16,
            any::<[u8; 6]>(),
            prop::collection::vec(any::<u8>(), 60),
        )
            .prop_map(|(rev, n, auth, subs)| {
                let mut b = vec![rev, n];
                b.extend_from_slice(&auth);
                b.extend_from_slice(&subs[..4 * usize::from(n)]);
                V::Sid(leak(b))
            })
            .boxed(),
        (InType::Binary | InType::BinaryC, OutType::IPv6) => any::<[u8; 16]>()
            .prop_map(|b| V::Ipv6(Ipv6Addr::from(b)))
            .boxed(),
        (InType::Binary | InType::BinaryC, OutType::SocketAddress) => {
            prop::collection::vec(any::<u8>(), 0..30)
                .prop_map(|b| V::SocketAddress(leak(b)))
                .boxed()
        }
        (InType::Binary | InType::BinaryC, _) => prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|b| V::Binary(leak(b)))
            .boxed(),
        (InType::CStr16, _) => "[^\u{0}]{0,8}".prop_map(|s| V::Str(Cow::Owned(s))).boxed(),
        (InType::Str16, _) => ".{0,8}".prop_map(|s| V::Str(Cow::Owned(s))).boxed(),
        (InType::CStr8 | InType::Str8, OutType::Utf8 | OutType::Json | OutType::Xml) => {
            let re = if i == InType::CStr8 {
                "[^\u{0}]{0,8}"
            } else {
                ".{0,8}"
            };
            re.prop_map(|s| V::Str(Cow::Owned(s))).boxed()
        }
        (InType::CStr8 | InType::Str8, _) => cp1252_string(8, i == InType::Str8)
            .prop_map(|s| V::Str(Cow::Owned(s)))
            .boxed(),
        _ => unreachable!("{i:?} not generated"),
    }
}

/// A value for the whole field (array or scalar), as the decoder gives it.
fn whole(f: &FieldSchema, ptr: PointerSize) -> BoxedStrategy<Value<'static>> {
    let char_array =
        f.out_type == OutType::String && matches!(f.in_type, InType::I8 | InType::U8 | InType::U16);
    let str_value = |s: String| Value::Str(Cow::Owned(s));
    match &f.shape {
        Shape::Scalar => element(f, ptr),
        Shape::Custom(_) => prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| Value::Custom(leak(b)))
            .boxed(),
        Shape::ConstArray(n) if char_array => match f.in_type {
            InType::U16 => utf16_units(usize::from(*n)).prop_map(str_value).boxed(),
            _ => prop::collection::vec(any::<u8>(), usize::from(*n))
                .prop_map(move |b| str_value(b.into_iter().map(cp1252_char).collect()))
                .boxed(),
        },
        Shape::VarArray if char_array => match f.in_type {
            InType::U16 => ".{0,8}".prop_map(str_value).boxed(),
            _ => cp1252_string(8, true).prop_map(str_value).boxed(),
        },
        Shape::ConstArray(n) => prop::collection::vec(element(f, ptr), usize::from(*n))
            .prop_map(Value::Array)
            .boxed(),
        Shape::VarArray => prop::collection::vec(element(f, ptr), 0..4)
            .prop_map(Value::Array)
            .boxed(),
    }
}

fn event() -> impl Strategy<Value = (Schema, PointerSize, Vec<Value<'static>>)> {
    (
        schema(),
        prop_oneof![Just(PointerSize::Four), Just(PointerSize::Eight)],
    )
        .prop_flat_map(|(s, ptr)| {
            let values: Vec<_> = s.fields.iter().map(|f| whole(f, ptr)).collect();
            (Just(s), Just(ptr), values)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Schema → metadata bytes → Schema.
    #[test]
    fn metadata_round_trips(s in schema()) {
        let bytes = s.to_bytes().unwrap();
        prop_assert_eq!(usize::from(u16::from_le_bytes([bytes[0], bytes[1]])), bytes.len());
        prop_assert_eq!(Schema::parse(&bytes).unwrap(), s);
    }

    /// Values → payload → values, through metadata bytes; and the payload encodes again to
    /// the same bytes.
    #[test]
    fn payload_round_trips((s, ptr, values) in event()) {
        let meta = s.to_bytes().unwrap();
        let parsed = Schema::parse(&meta).unwrap();
        let mut payload = Vec::new();
        encode_payload(&parsed, &values, ptr, &mut payload).unwrap();
        let ev = decode(&parsed, &payload, ptr).unwrap();
        prop_assert_eq!(ev.unread, 0);
        prop_assert_eq!(ev.name, s.name.as_str());
        prop_assert_eq!(ev.tags, s.tags);
        let got: Vec<Value<'_>> = ev.fields.iter().map(|f| f.value.clone()).collect();
        prop_assert_eq!(&got, &values);
        for (f, fs) in ev.fields.iter().zip(&s.fields) {
            prop_assert_eq!(f.name, fs.name.as_str());
            prop_assert_eq!(f.tags, fs.tags);
        }
        // JSON serialization never fails.
        serde_json::to_string(&ev).unwrap();
        // Any truncation is an error, never a panic (or a clean decode of a shorter event).
        for cut in 0..payload.len() {
            let _ = decode(&parsed, &payload[..cut], ptr);
        }
    }

    /// Provider traits → bytes → provider traits.
    #[test]
    fn provider_traits_round_trip(
        name in name(),
        traits in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 0..20)), 0..4),
    ) {
        let traits: Vec<ProviderTrait<'_>> =
            traits.iter().map(|(t, d)| ProviderTrait { trait_type: *t, data: d }).collect();
        let pt = ProviderTraits { name: &name, traits };
        let bytes = pt.to_bytes().unwrap();
        prop_assert_eq!(ProviderTraits::parse(&bytes).unwrap(), pt);
    }

    /// Arbitrary metadata and payload bytes: errors, never panics.
    #[test]
    fn arbitrary_bytes_never_panic(meta in prop::collection::vec(any::<u8>(), 0..64), payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut meta = meta;
        if meta.len() >= 2 {
            let n = meta.len() as u16;
            meta[..2].copy_from_slice(&n.to_le_bytes());
        }
        if let Ok(s) = Schema::parse(&meta) {
            for ptr in [PointerSize::Four, PointerSize::Eight] {
                if let Ok(ev) = decode(&s, &payload, ptr) {
                    serde_json::to_string(&ev).unwrap();
                }
            }
        }
    }
}
