//! Schema tests: provider GUID, drift between the `write_event!` calls and the descriptors,
//! typed view round trips.

use super::*;
use alloc::string::ToString;
use alloc::vec;
use std::collections::HashSet;

/// The EventSource/TraceLogging name hash, computed here with an independent SHA-1:
/// SHA-1 over the fixed namespace bytes then the upper-cased name in UTF-16BE; the first 16
/// bytes, with the version nibble of byte 7 set to 5, read as a little-endian GUID.
fn etw_name_hash(name: &str) -> [u8; 16] {
    let namespace: [u8; 16] = [
        0x48, 0x2C, 0x2D, 0xB2, 0xC3, 0x90, 0x47, 0xC8, 0x87, 0xF8, 0x1A, 0x15, 0xBF, 0xC1, 0x30,
        0xFB,
    ];
    let mut sha = sha1_smol::Sha1::new();
    sha.update(&namespace);
    let upper = name.to_uppercase();
    for unit in upper.encode_utf16() {
        sha.update(&unit.to_be_bytes());
    }
    let digest = sha.digest().bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out[7] = (out[7] & 0x0F) | 0x50;
    out
}

#[test]
fn sha1_is_sha1() {
    // FIPS 180 test vector, so the hash below is the real SHA-1.
    let d = sha1_smol::Sha1::from("abc").digest().to_string();
    assert_eq!(d, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

#[test]
fn provider_guid_is_the_etw_name_hash() {
    let expected_le = etw_name_hash(PROVIDER_NAME);
    assert_eq!(PROVIDER_GUID.to_bytes_le(), expected_le);
    // The id `define_provider!` derived from the name at compile time.
    assert_eq!(*etw_provider().id(), PROVIDER_GUID);
    assert_eq!(etw_provider().name(), PROVIDER_NAME);
    let text = core::str::from_utf8(&PROVIDER_GUID.to_utf8_bytes())
        .unwrap()
        .to_string();
    assert_eq!(text, PROVIDER_GUID_STR);
}

#[test]
fn name_hash_is_case_insensitive_and_name_sensitive() {
    assert_eq!(
        etw_name_hash("wsktrace.wskclient"),
        etw_name_hash(PROVIDER_NAME)
    );
    assert_ne!(
        etw_name_hash("Wsktrace.WskClient2"),
        etw_name_hash(PROVIDER_NAME)
    );
}

/// What one `write_event!` call was given, parsed from [`TLG_EVENT_TEXT`].
#[derive(Debug, PartialEq)]
struct TlgCall {
    name: String,
    level: String,
    opcode: String,
    keywords: Vec<String>,
    /// (option, field name, format)
    fields: Vec<(String, String, Option<String>)>,
}

/// Splits `a(b, c(d)), e` at top-level commas.
fn split_top(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `opt(args)` -> (opt, args)
fn call_parts(item: &str) -> (String, String) {
    let open = item.find('(').expect("option with arguments");
    assert!(item.ends_with(')'), "{item}");
    (
        item[..open].trim().to_string(),
        item[open + 1..item.len() - 1].to_string(),
    )
}

fn parse_tlg(text: &str) -> TlgCall {
    let items = split_top(text);
    let mut call = TlgCall {
        name: items[0].trim_matches('"').to_string(),
        level: String::new(),
        opcode: String::new(),
        keywords: Vec::new(),
        fields: Vec::new(),
    };
    for item in &items[1..] {
        let (opt, args) = call_parts(item);
        match opt.as_str() {
            "level" => call.level = args.trim().to_string(),
            "opcode" => call.opcode = args.trim().to_string(),
            "keyword" => call.keywords.push(args.replace(' ', "")),
            "activity_id" => {}
            _ => {
                let args = split_top(&args);
                let name = args[0].trim_matches('"').to_string();
                let format = args
                    .iter()
                    .skip(2)
                    .find(|a| a.starts_with("format"))
                    .map(|a| call_parts(a).1.trim().to_string());
                call.fields.push((opt, name, format));
            }
        }
    }
    call
}

/// In-type of each `write_event!` field option, from the tracelogging crate's documented
/// option table (numbers written here, not taken from the crate).
fn option_in_type(option: &str) -> u8 {
    match option {
        "str8" => 23, // Str8 (counted UTF-8/ANSI)
        "u8" | "bool8" => 4,
        "u16" => 6,
        "u32" => 8,
        "u64" => 10,
        other => panic!("write_event! option {other} not in the test's table"),
    }
}

/// Out-type of an option without `format(...)`, and of each `format(...)` value.
fn option_out_type(option: &str, format: Option<&str>) -> u8 {
    match format {
        Some("Hex") => 4,
        Some("NtStatus") => 14,
        Some(other) => panic!("format({other}) not in the test's table"),
        None => match option {
            "str8" => 35, // Utf8
            "bool8" => 3, // Boolean
            _ => 0,       // Default
        },
    }
}

fn keyword_value(text: &str) -> u64 {
    match text {
        "keywords::LIFECYCLE" => 0x1,
        "keywords::LATENCY" => 0x2,
        "keywords::DISPATCH" => 0x4,
        "keywords::SOCKET" => 0x8,
        other => panic!("keyword {other}"),
    }
}

#[test]
fn write_event_calls_match_descriptors() {
    assert_eq!(TLG_EVENT_TEXT.len(), DESCRIPTORS.len());
    for (text, d) in TLG_EVENT_TEXT.iter().zip(DESCRIPTORS) {
        let call = parse_tlg(text);
        assert_eq!(call.name, d.name, "{text}");
        assert_eq!(call.level, "Informational");
        assert_eq!(d.level, 4);
        let op = match call.opcode.as_str() {
            "Info" => 0,
            "Start" => 1,
            "Stop" => 2,
            other => panic!("opcode {other}"),
        };
        assert_eq!(op, d.opcode, "{}", d.variant);
        let kw = call
            .keywords
            .iter()
            .fold(0, |acc, k| acc | keyword_value(k));
        assert_eq!(kw, d.keywords, "{}", d.variant);
        assert_eq!(call.fields.len(), d.fields.len(), "{}", d.variant);
        for ((opt, name, format), f) in call.fields.iter().zip(d.fields) {
            assert_eq!(name, f.name, "{}", d.variant);
            assert_eq!(option_in_type(opt), f.in_type(), "{}.{}", d.variant, f.name);
            assert_eq!(
                option_out_type(opt, format.as_deref()),
                f.out_type(),
                "{}.{}",
                d.variant,
                f.name
            );
        }
    }
}

/// The descriptor numbers agree with the tracelogging crate's enum values too.
#[test]
fn kinds_match_tracelogging_enums() {
    use tracelogging::{InType, OutType};
    assert_eq!(FieldKind::Str.in_type(), InType::Str8.as_int());
    assert_eq!(FieldKind::Status.out_type(), OutType::NtStatus.as_int());
    assert_eq!(opcode::START, tracelogging::Opcode::Start.as_int());
    assert_eq!(opcode::STOP, tracelogging::Opcode::Stop.as_int());
    assert_eq!(LEVEL, tracelogging::Level::Informational.as_int());
}

/// One sample of every event, with distinct field values.
pub(crate) fn samples() -> Vec<WskEvent> {
    vec![
        WskEvent::DriverEntryStart {
            client_name: "wsktrace".into(),
        },
        WskEvent::DriverEntryStop {
            client_name: "wsktrace".into(),
            status: NtStatus::SUCCESS,
            duration_ns: 11,
        },
        WskEvent::WskRegister {
            registration_id: 1,
            npi_version: 0x0100,
            status: NtStatus::SUCCESS,
            duration_ns: 12,
        },
        WskEvent::CaptureProviderNpiStart {
            registration_id: 1,
            capture_id: 2,
            wait_timeout_ms: u32::MAX,
            calling_context: 1,
        },
        WskEvent::CaptureProviderNpiStop {
            registration_id: 1,
            capture_id: 2,
            status: NtStatus::DEVICE_NOT_READY,
            wait_ns: 13,
        },
        WskEvent::QueryProviderCharacteristics {
            registration_id: 1,
            status: NtStatus::SUCCESS,
            lowest_version: 0x0100,
            highest_version: 0x0101,
        },
        WskEvent::DispatchCall {
            registration_id: 1,
            capture_id: 2,
            function: "WskSocket".into(),
            status: NtStatus::SUCCESS,
            duration_ns: 14,
        },
        WskEvent::ReleaseProviderNpi {
            registration_id: 1,
            capture_id: 2,
            held_ns: 15,
            dispatch_calls: 3,
            implicit: true,
        },
        WskEvent::WskDeregisterStart {
            registration_id: 1,
            captures_outstanding: 4,
        },
        WskEvent::WskDeregisterStop {
            registration_id: 1,
            wait_ns: 16,
        },
        WskEvent::DriverUnloadStart {},
        WskEvent::DriverUnloadStop { duration_ns: 17 },
        WskEvent::CaptureRefused {
            registration_id: 1,
            wait_timeout_ms: 250,
            calling_context: 2,
            status: NtStatus::INVALID_DEVICE_STATE,
        },
        WskEvent::SocketCreated {
            registration_id: 1,
            capture_id: 2,
            socket_id: 5,
            socket_kind: socket_kind::LISTEN,
            address_family: 2,
        },
        WskEvent::SocketBind {
            registration_id: 1,
            socket_id: 5,
            address: "127.0.0.1".into(),
            port: 40123,
            status: NtStatus::SUCCESS,
            duration_ns: 18,
        },
        WskEvent::AcceptStart {
            registration_id: 1,
            socket_id: 5,
        },
        WskEvent::AcceptStop {
            registration_id: 1,
            socket_id: 5,
            status: NtStatus::SUCCESS,
            accepted_socket_id: 6,
            remote_address: "::1".into(),
            remote_port: 50000,
            wait_ns: 19,
        },
        WskEvent::CloseSocketStart {
            registration_id: 1,
            socket_id: 6,
        },
        WskEvent::CloseSocketStop {
            registration_id: 1,
            socket_id: 6,
            status: NtStatus::CANCELLED,
            duration_ns: 20,
        },
    ]
}

#[test]
fn borrowed_and_owned_events_carry_the_same_fields() {
    for ev in samples() {
        let borrowed = ev.as_borrowed();
        assert_eq!(borrowed.fields(), ev.fields());
        assert_eq!(borrowed.descriptor(), ev.descriptor());
        assert_eq!(borrowed.to_owned_event(), ev);
        assert_eq!(
            borrowed.write_etw(&[0; 16]),
            0,
            "disabled provider on hosts"
        );
    }
}

#[test]
fn typed_view_round_trips_through_fields() {
    let samples = samples();
    assert_eq!(samples.len(), DESCRIPTORS.len(), "one sample per event");
    let mut seen = HashSet::new();
    for ev in &samples {
        let d = ev.descriptor();
        assert!(seen.insert(d.variant), "duplicate sample {}", d.variant);
        let fields = ev.fields();
        assert_eq!(fields.len(), d.fields.len());
        for ((name, value), fd) in fields.iter().zip(d.fields) {
            assert_eq!(*name, fd.name);
            let in_type = match value {
                FieldValue::Str(_) => 23,
                FieldValue::U8(_) => 4,
                FieldValue::U16(_) => 6,
                FieldValue::U32(_) => 8,
                FieldValue::U64(_) => 10,
            };
            assert_eq!(in_type, fd.in_type(), "{}.{}", d.variant, fd.name);
        }
        // Decode from reversed field order: order must not matter.
        let mut reversed = fields.clone();
        reversed.reverse();
        let back = WskEvent::decode(d.name, d.opcode, &reversed).unwrap();
        assert_eq!(&back, ev);
        assert_eq!(find_descriptor(d.name, d.opcode), Some(d));
        // Written to the (disabled / non-Windows) provider: a no-op returning 0.
        assert_eq!(ev.write_etw(&[0; 16]), 0);
    }
}

#[test]
fn names_and_pairs_are_consistent() {
    let mut keys = HashSet::new();
    for d in DESCRIPTORS {
        assert!(
            keys.insert((d.name, d.opcode)),
            "duplicate {} {}",
            d.name,
            d.opcode
        );
        let mut names = HashSet::new();
        for f in d.fields {
            assert!(
                names.insert(f.name),
                "duplicate field {}.{}",
                d.variant,
                f.name
            );
        }
        if d.opcode == opcode::START {
            assert!(
                find_descriptor(d.name, opcode::STOP).is_some(),
                "{} has a Start but no Stop",
                d.name
            );
        }
    }
}

#[test]
fn decode_errors() {
    assert_eq!(
        WskEvent::decode("Nope", 0, &[]),
        Err(DecodeError::UnknownEvent {
            name: "Nope".into(),
            opcode: 0
        })
    );
    assert_eq!(
        WskEvent::decode(
            "WskDeregister",
            opcode::STOP,
            &[("RegistrationId", FieldValue::U32(1))]
        ),
        Err(DecodeError::MissingField {
            event: "WskDeregisterStop",
            field: "WaitNs"
        })
    );
    assert_eq!(
        WskEvent::decode(
            "WskDeregister",
            opcode::STOP,
            &[
                ("RegistrationId", FieldValue::U32(1)),
                ("WaitNs", FieldValue::U32(1))
            ]
        ),
        Err(DecodeError::WrongType {
            event: "WskDeregisterStop",
            field: "WaitNs"
        })
    );
}

#[test]
fn accessors_follow_the_descriptors() {
    for ev in samples() {
        let d = ev.descriptor();
        let has = |name: &str| d.fields.iter().any(|f| f.name == name);
        assert_eq!(
            ev.registration_id().is_some(),
            has("RegistrationId"),
            "{}",
            d.variant
        );
        assert_eq!(ev.capture_id().is_some(), has("CaptureId"), "{}", d.variant);
        assert_eq!(ev.status().is_some(), has("Status"), "{}", d.variant);
    }
    let release = &samples()[7];
    assert_eq!(release.registration_id(), Some(1));
    assert_eq!(release.capture_id(), Some(2));
    assert_eq!(samples()[4].status(), Some(NtStatus::DEVICE_NOT_READY));
}

#[test]
fn positional_build_takes_exactly_the_fields_in_order() {
    for ev in samples() {
        let d = ev.descriptor();
        let values: Vec<FieldValue<'_>> = ev.fields().into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            WskEvent::from_values(d.kind, &values),
            Some(ev.clone()),
            "{}",
            d.variant
        );
        let mut more = values.clone();
        more.push(FieldValue::U8(0));
        assert_eq!(WskEvent::from_values(d.kind, &more), None, "{}", d.variant);
        if let Some((_, fewer)) = values.split_last() {
            assert_eq!(WskEvent::from_values(d.kind, fewer), None, "{}", d.variant);
        }
        assert!(d.fields.len() <= MAX_FIELDS);
    }
    // A value of another type is refused.
    assert_eq!(
        WskEvent::from_values(
            EventKind::WskDeregisterStop,
            &[FieldValue::U32(1), FieldValue::U32(2)]
        ),
        None
    );
}
