//! The KernelTraceControl `MetaData` parsers (`TRACE_EVENT_INFO`, `EVENT_MAP_INFO`) and the
//! layout decoder on arbitrary bytes.
//!
//! Input: `[meta_len: u16 LE][meta: meta_len bytes][payload...]` (a short input is all
//! metadata). Checks: no panic; a parsed `TRACE_EVENT_INFO` is written back by the encoder and
//! parses to the same description, and its layout builds; the payload decodes or fails with a
//! typed error under both pointer sizes, a decoded event serializes to JSON, and the exact
//! decoder agrees with the lenient one; a parsed map is written back and reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsktrace_tools::tdh::{
    decode, decode_exact, encode_event_info, encode_map_info, parse_event_info, parse_map_info,
};
use wsktrace_tools::tracelogging::{FieldsJson, PointerSize};

fuzz_target!(|data: &[u8]| {
    let (meta, payload) = match data {
        [a, b, rest @ ..] if usize::from(u16::from_le_bytes([*a, *b])) <= rest.len() => {
            rest.split_at(usize::from(u16::from_le_bytes([*a, *b])))
        }
        _ => (data, &[][..]),
    };
    if let Ok(info) = parse_event_info(meta) {
        let bytes = encode_event_info(&info).expect("a parsed description encodes");
        assert_eq!(
            parse_event_info(&bytes).as_ref(),
            Ok(&info),
            "TRACE_EVENT_INFO re-encoding"
        );
        let layout = info.layout(&|_| None).expect("a parsed description builds");
        for ptr in [PointerSize::Four, PointerSize::Eight] {
            let lenient = decode(&layout, payload, ptr);
            let json = |f| serde_json::to_string(&FieldsJson(f)).expect("JSON");
            let exact = decode_exact(&layout, payload, ptr);
            match (&lenient, &exact) {
                // JSON, not `==`: a NaN float is not equal to itself.
                (Ok(d), Ok(f)) => assert!(d.unread == 0 && json(&d.fields) == json(f)),
                (Ok(d), Err(_)) => {
                    json(&d.fields);
                    assert!(d.unread > 0)
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (Err(_), Ok(_)) => panic!("exact decoding succeeded where lenient failed"),
            }
        }
    }
    if let Ok(Some((provider, name, map))) = parse_map_info(meta) {
        if let Some(bytes) = encode_map_info(provider, &name, &map) {
            let again = parse_map_info(&bytes).expect("re-encoded map parses");
            assert_eq!(again, Some((provider, name, map)), "EVENT_MAP_INFO re-encoding");
        }
    }
});
