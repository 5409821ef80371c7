//! The instrumentation-manifest parser and the layout decoder on arbitrary input.
//!
//! Input: `[xml_len: u16 LE][xml: xml_len bytes, read as UTF-8 (lossy)][payload...]` (a short
//! input is all XML). Checks: no panic; every event of a parsed manifest has a layout the
//! registry returns, and the payload decodes or fails with a typed error under both pointer
//! sizes, a decoded event serializing to JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsktrace_tools::tdh::{decode, parse_manifest, EventKey, Layouts};
use wsktrace_tools::tracelogging::{FieldsJson, PointerSize};

fuzz_target!(|data: &[u8]| {
    let (xml, payload) = match data {
        [a, b, rest @ ..] if usize::from(u16::from_le_bytes([*a, *b])) <= rest.len() => {
            rest.split_at(usize::from(u16::from_le_bytes([*a, *b])))
        }
        _ => (data, &[][..]),
    };
    let Ok(manifest) = parse_manifest(&String::from_utf8_lossy(xml)) else {
        return;
    };
    let mut layouts = Layouts::new();
    layouts.add_manifest(&manifest);
    for p in &manifest.providers {
        for e in &p.events {
            let key = EventKey::new(p.guid, e.id, u16::from(e.version));
            let layout = layouts.get(&key).expect("every manifest event has a layout").clone();
            for ptr in [PointerSize::Four, PointerSize::Eight] {
                if let Ok(d) = decode(&layout, payload, ptr) {
                    serde_json::to_string(&FieldsJson(&d.fields)).expect("JSON");
                }
            }
        }
    }
});
