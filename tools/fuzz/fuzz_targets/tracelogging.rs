//! TraceLogging metadata parser and payload decoder on arbitrary bytes.
//!
//! Input: `[meta_len: u16 LE][meta: meta_len bytes][payload...]` (a short input is all
//! metadata). Checks: no panic; the size walk (`validate`) gives what decoding gives, and the
//! schema's `LengthCheck`, where it has one, what decoding gives; a re-encoded schema parses
//! to the same schema; a decoded event serializes to JSON; its values encode again, and
//! decoding that payload and encoding once more gives the same bytes (the encoder and decoder
//! agree on every value the decoder can produce).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsktrace_tools::tracelogging::{
    decode, encode_payload, validate, Error, LengthCheck, PointerSize, Schema, Value,
};

/// Decodes, checks the JSON, encodes the values again and appends the unread trailing bytes
/// (so the payload length, which sizes the decoder's value budget, stays the same).
fn reencode(schema: &Schema, payload: &[u8], ptr: PointerSize) -> Option<Vec<u8>> {
    let ev = decode(schema, payload, ptr).ok()?;
    serde_json::to_string(&ev).expect("JSON");
    let trailing = &payload[payload.len() - ev.unread..];
    let values: Vec<Value<'_>> = ev.fields.into_iter().map(|f| f.value).collect();
    let mut out = Vec::new();
    match encode_payload(schema, &values, ptr, &mut out) {
        Ok(()) => {
            out.extend_from_slice(trailing);
            Some(out)
        }
        // A lossy string can grow past a u16 length when re-encoded; nothing else may fail.
        Err(Error::Unencodable { .. }) => None,
        Err(e) => panic!("decoded value does not encode: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let (meta, payload) = match data {
        [a, b, rest @ ..] if usize::from(u16::from_le_bytes([*a, *b])) <= rest.len() => {
            rest.split_at(usize::from(u16::from_le_bytes([*a, *b])))
        }
        _ => (data, &[][..]),
    };
    let Ok(schema) = Schema::parse(meta) else {
        return;
    };
    // Every parsed schema encodes again (only a size overflow may stop it) and parses back
    // to itself.
    match schema.to_bytes() {
        Ok(bytes) => assert_eq!(
            Schema::parse(&bytes).as_ref(),
            Ok(&schema),
            "metadata re-encoding"
        ),
        Err(Error::Unencodable {
            why: "metadata larger than 65535 bytes",
            ..
        }) => {}
        Err(e) => panic!("parsed schema does not encode: {e}"),
    }
    for ptr in [PointerSize::Four, PointerSize::Eight] {
        // The size walk decides what decoding decides, error for error.
        let decoded = decode(&schema, payload, ptr).map(|ev| ev.unread);
        assert_eq!(validate(&schema, payload, ptr), decoded, "validate disagrees");
        if let Some(fits) = LengthCheck::of(&schema, ptr).and_then(|c| c.fits(payload)) {
            assert_eq!(fits, decoded.is_ok(), "LengthCheck disagrees");
        }
        if let Some(p1) = reencode(&schema, payload, ptr) {
            let p2 = reencode(&schema, &p1, ptr).expect("re-encoded payload decodes");
            assert_eq!(p1, p2, "encode(decode(payload)) is not a fixed point");
        }
    }
});
