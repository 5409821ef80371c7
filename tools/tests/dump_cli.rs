//! `wsktrace dump` decoding what TraceLogging does not describe: a simulated boot trace's
//! Kernel-PnP events through the built-in manifest, a user's `--manifest`, the summary's
//! decoded counts, and a manifest that cannot be read.

use std::path::{Path, PathBuf};

use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;

use cli::wsktrace;

fn tmp(name: &str) -> PathBuf {
    cli::tmp("dump_cli", name)
}

/// A boot scenario's trace (our TraceLogging events and Kernel-PnP DriverInit events), in a
/// file of the calling test's own.
fn boot_trace(test: &str) -> PathBuf {
    let path = tmp(&format!("{test}.etl"));
    cli::succeeds(
        wsktrace()
            .args(["simulate", "--scenario", "boot-worker", "-o"])
            .arg(&path),
    );
    path
}

fn dump(args: &[&str], file: &Path) -> (Vec<Value>, String, Option<i32>) {
    let out = wsktrace()
        .arg("dump")
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn kernel_pnp_events_decode_through_the_built_in_manifest() {
    let trace = boot_trace("built-in");
    let (records, stderr, code) = dump(&["--json"], &trace);
    assert_eq!(code, Some(0), "{stderr}");
    let pnp: Vec<&Value> = records
        .iter()
        .filter(|r| r["provider_guid"] == "9c205a39-1250-487d-abd7-e831c6290539")
        .collect();
    assert!(!pnp.is_empty());
    for r in &pnp {
        assert_eq!(r["provider_name"], "Microsoft-Windows-Kernel-PnP");
        assert_eq!(r["decoded_by"], "manifest");
        assert!(r.get("payload_hex").is_none(), "{r}");
        let name = r["fields"]["DriverName"].as_str().unwrap();
        assert_eq!(r["fields"]["DriverNameLength"], name.encode_utf16().count());
        match r["id"].as_u64() {
            Some(226) => assert_eq!(r["event_name"], "DriverInit/Start"),
            Some(227) => {
                assert_eq!(r["event_name"], "DriverInit/Stop");
                assert!(r["fields"]["Status"].is_u64());
            }
            other => panic!("{other:?}"),
        }
    }
    // Our own events still say TraceLogging.
    assert!(records
        .iter()
        .any(|r| r["provider_name"] == "Wsktrace.WskClient" && r["decoded_by"] == "tracelogging"));
    // The summary counts them decoded.
    let (summary, _, code) = dump(&["--summary", "--json"], &trace);
    assert_eq!(code, Some(0));
    let providers = summary[0]["providers"].as_array().unwrap();
    let p = providers
        .iter()
        .find(|p| p["name"] == "Microsoft-Windows-Kernel-PnP")
        .expect("Kernel-PnP in the summary");
    assert_eq!(p["count"], pnp.len());
    assert_eq!(
        (p["decoded"].as_u64(), p["undecoded"].as_u64()),
        (Some(pnp.len() as u64), Some(0))
    );
    // The filter finds them by the name the manifest gives.
    let (only, _, _) = dump(
        &["--json", "--provider", "microsoft-windows-kernel-pnp"],
        &trace,
    );
    assert_eq!(only.len(), pnp.len());
}

#[test]
fn a_users_manifest_decodes_its_events_and_wins_over_the_built_in_one() {
    let trace = boot_trace("user");
    let manifest = tmp("pnp-renamed.man");
    let xml = include_str!("../src/kernel_pnp.man")
        .replace("Microsoft-Windows-Kernel-PnP", "Their-Kernel-PnP")
        .replace(r#"name="DriverName""#, r#"name="Name""#);
    std::fs::write(&manifest, xml).unwrap();
    let (records, stderr, code) = dump(
        &["--json", "--manifest", manifest.to_str().unwrap()],
        &trace,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let r = records
        .iter()
        .find(|r| r["provider_guid"] == "9c205a39-1250-487d-abd7-e831c6290539")
        .unwrap();
    assert_eq!(r["provider_name"], "Their-Kernel-PnP");
    assert!(r["fields"]["Name"].is_string(), "{r}");
}

#[test]
fn a_manifest_that_cannot_be_read_is_an_error_with_its_line() {
    let trace = boot_trace("bad");
    let bad = tmp("bad.man");
    std::fs::write(
        &bad,
        "<instrumentationManifest>\n<oops></instrumentationManifest>",
    )
    .unwrap();
    let (records, stderr, code) = dump(&["--json", "--manifest", bad.to_str().unwrap()], &trace);
    assert_eq!(code, Some(2));
    assert!(records.is_empty());
    assert!(stderr.contains("bad.man: manifest line 2"), "{stderr}");
    let (_, stderr, code) = dump(&["--json", "--manifest", "/nonexistent.man"], &trace);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/nonexistent.man"), "{stderr}");
}

#[test]
fn a_file_that_is_not_an_instrumentation_manifest_is_an_error_naming_it() {
    let trace = boot_trace("not_manifest");
    for (name, xml) in [
        (
            "plist.man",
            "<?xml version=\"1.0\"?>\n<plist version=\"1.0\"/>",
        ),
        (
            "unqualified.man",
            "<instrumentationManifest><instrumentation/></instrumentationManifest>",
        ),
    ] {
        let path = tmp(name);
        std::fs::write(&path, xml).unwrap();
        let (records, stderr, code) =
            dump(&["--json", "--manifest", path.to_str().unwrap()], &trace);
        assert_eq!(code, Some(2), "{name}");
        assert!(records.is_empty(), "{name}");
        assert!(
            stderr.contains(&format!("{name}: manifest line"))
                && stderr.contains("not an instrumentation manifest"),
            "{stderr}"
        );
    }
}

#[test]
fn metadata_from_a_trace_without_metadata_events_is_an_error_naming_it() {
    let trace = boot_trace("metadata_from");
    let (records, stderr, code) = dump(
        &["--json", "--metadata-from", trace.to_str().unwrap()],
        &trace,
    );
    assert_eq!(code, Some(2));
    assert!(records.is_empty());
    assert!(
        stderr.contains("metadata_from.etl: no KernelTraceControl MetaData events"),
        "{stderr}"
    );
    let (_, stderr, code) = dump(&["--json", "--metadata-from", "/nonexistent.etl"], &trace);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/nonexistent.etl"), "{stderr}");
}

/// A trace with one TraceLogging provider whose events decode (3), do not fit their metadata
/// (3: a `U32` cut short, a string without its NUL, metadata that does not parse) or carry no
/// metadata at all (4, nothing describes them).
fn mixed_trace(path: &Path) {
    use wsktrace_tools::etl::format::{
        Guid, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
    };
    use wsktrace_tools::etl::write::{Descriptor, EtlWriter, Event, ExtItem, SessionConfig};
    use wsktrace_tools::tracelogging::{
        provider_traits_bytes, FieldSchema, InType, OutType, Schema,
    };

    let schema = Schema::new("Mixed")
        .field(FieldSchema::new("Value", InType::U32, OutType::Default))
        .field(FieldSchema::new("Name", InType::CStr8, OutType::Default));
    let meta = schema.to_bytes().unwrap();
    // Size 6 (the whole item), no tags, then a name with no NUL: does not parse.
    let bad_meta = [6, 0, 0, b'B', b'a', b'd'];
    let traits = provider_traits_bytes("Test.Mixed", None).unwrap();
    let item = |ext_type, data| ExtItem { ext_type, data };
    let with_meta = [
        item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS, &traits[..]),
        item(EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, &meta[..]),
    ];
    let with_bad_meta = [
        item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS, &traits[..]),
        item(EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, &bad_meta[..]),
    ];
    let traits_only = [item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS, &traits[..])];
    let events: [(&[ExtItem<'_>], &[u8]); 10] = [
        (&with_meta, b"\x01\0\0\0one\0"),
        (&with_meta, b"\x02\0\0\0\0"),
        (
            &with_meta,
            b"\x03\0\0\0three\0 trailing bytes are not an error",
        ),
        (&with_meta, b"\x04\0"),           // U32 cut short
        (&with_meta, b"\x05\0\0\0five"),   // no NUL
        (&with_bad_meta, b"\x06\0\0\0\0"), // metadata that does not parse
        (&traits_only, b"\x07\0\0\0"),
        (&traits_only, b""),
        (&traits_only, b"\x09"),
        (&traits_only, b"\x0a\0\0\0\0\0\0\0"),
    ];
    let config = SessionConfig::default();
    let file = std::fs::File::create(path).unwrap();
    let mut w = EtlWriter::new(std::io::BufWriter::new(file), config.clone()).unwrap();
    for (i, (ext, payload)) in events.into_iter().enumerate() {
        let ev = Event {
            provider_id: Guid::from_fields(0x5eed_0001, 1, 2, [3, 4, 5, 6, 7, 8, 9, 10]),
            descriptor: Descriptor {
                id: 7,
                level: 4,
                ..Descriptor::default()
            },
            timestamp: config.start_qpc + 1000 * (i as i64 + 1),
            processor: (i % 2) as u16,
            thread_id: 8,
            process_id: 4,
            activity_id: Guid::default(),
            ext,
            payload,
        };
        w.write_event(&ev).unwrap();
    }
    w.finish(config.start_qpc + 100_000).unwrap();
}

#[test]
fn the_summary_counts_decoded_undecoded_and_erroneous_events_as_full_dump_decides() {
    let trace = tmp("mixed.etl");
    mixed_trace(&trace);
    let (records, stderr, code) = dump(&["--json"], &trace);
    assert_eq!(code, Some(0), "{stderr}");
    let mine: Vec<&Value> = records
        .iter()
        .filter(|r| r["provider_name"] == "Test.Mixed")
        .collect();
    let tally = |pred: fn(&Value) -> bool| mine.iter().filter(|r| pred(r)).count() as u64;
    let from_dump = (
        mine.len() as u64,
        tally(|r| r.get("fields").is_some()),
        tally(|r| r.get("decode_error").is_some()),
        tally(|r| r.get("fields").is_none() && r.get("decode_error").is_none()),
    );
    assert_eq!(from_dump, (10, 3, 3, 4), "what full dump says");

    let (summary, stderr, code) = dump(&["--summary", "--json"], &trace);
    assert_eq!(code, Some(0), "{stderr}");
    let providers = summary[0]["providers"].as_array().unwrap();
    let p = providers
        .iter()
        .find(|p| p["name"] == "Test.Mixed")
        .expect("Test.Mixed in the summary");
    let n = |k: &str| p[k].as_u64().unwrap();
    let from_summary = (n("count"), n("decoded"), n("decode_errors"), n("undecoded"));
    assert_eq!(from_summary, from_dump, "{p}");
}
