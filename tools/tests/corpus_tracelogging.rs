//! Every TraceLogging event of the public corpus, decoded and compared field for field with
//! `EXPECTED-tracelogging.jsonl` (written by an independent decoder).
//!
//! The corpus is found at `$WSKTRACE_CORPUS` (the corpus root or its `etl/public` folder) or
//! `../shared/corpus` beside the repository. Without it the test prints a notice and passes,
//! unless `CI=true`, where a missing corpus fails.
//!
//! `EXPECTED-tracelogging.jsonl` lists, per file, the first TraceLogging events in file order
//! (not all of them: 200 of the 13841 in the ebpf file, 60 of 256 in diaghub). Every TL event
//! of every listed file must decode; the listed ones must match.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use wsktrace_tools::tracelogging::{
    decode, encode_payload, Guid, PointerSize, ProviderTraits, Schema, SchemaCache, Value,
};

fn corpus_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(c) = std::env::var_os("WSKTRACE_CORPUS") {
        let c = PathBuf::from(c);
        candidates.push(c.join("etl/public"));
        candidates.push(c);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    candidates.push(repo.join("../shared/corpus/etl/public"));
    candidates
        .into_iter()
        .find(|c| c.join("EXPECTED-tracelogging.jsonl").is_file())
}

/// One TraceLogging event as the test needs it.
struct TlRecord {
    offset: usize,
    provider: Guid,
    pid: u32,
    tid: u32,
    pointer_size: PointerSize,
    meta: Vec<u8>,
    traits: Option<Vec<u8>>,
    user_data: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Test-only extraction of `EVENT_HEADER` records with a TraceLogging schema item, in file
/// order (uncompressed files only; every corpus file with TraceLogging events is).
/// TODO(H2): use the `etl` reader once it exposes records with their extended items.
fn tl_records(file: &[u8]) -> Vec<TlRecord> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 0x48 <= file.len() {
        let size = u32_at(file, pos).unwrap() as usize;
        let filled = u32_at(file, pos + 0x30).unwrap() as usize;
        if size < 0x48 {
            break;
        }
        let end = (pos + filled.min(size)).min(file.len());
        let mut r = pos + 0x48;
        while r + 8 <= end {
            let (ht, mf) = (file[r + 2], file[r + 3]);
            let len = match ht {
                0x01..=0x04 | 0x10 | 0x11 => u16_at(file, r + 4).unwrap(),
                _ => u16_at(file, r).unwrap(),
            } as usize;
            if len == 0 || len == 0xFFFF || r + len > end {
                break;
            }
            if matches!(ht, 0x12 | 0x13) && mf & 0xC0 == 0xC0 {
                let rec = &file[r..r + len];
                let flags = u16_at(rec, 4).unwrap();
                let mut q = 80;
                let (mut meta, mut traits) = (None, None);
                if flags & 1 != 0 {
                    loop {
                        let step = usize::from(u16_at(rec, q).unwrap());
                        let ext_type = u16_at(rec, q + 2).unwrap();
                        let linkage = u16_at(rec, q + 4).unwrap();
                        let ds = usize::from(u16_at(rec, q + 6).unwrap());
                        let data = rec[q + 8..q + 8 + ds].to_vec();
                        match ext_type {
                            11 => meta = Some(data),
                            12 => traits = Some(data),
                            _ => {}
                        }
                        q += step;
                        if linkage & 1 == 0 {
                            break;
                        }
                    }
                }
                if let Some(meta) = meta {
                    out.push(TlRecord {
                        offset: r,
                        provider: Guid(rec[24..40].try_into().unwrap()),
                        tid: u32_at(rec, 8).unwrap(),
                        pid: u32_at(rec, 12).unwrap(),
                        pointer_size: if flags & 0x20 != 0 {
                            PointerSize::Four
                        } else {
                            PointerSize::Eight
                        },
                        meta,
                        traits,
                        user_data: rec[q..].to_vec(),
                    });
                }
            }
            r += (len + 7) & !7;
        }
        pos += size;
    }
    out
}

#[test]
fn corpus_tracelogging_matches_expected() {
    let Some(dir) = corpus_dir() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("corpus not found (set WSKTRACE_CORPUS); CI=true requires it");
        }
        eprintln!(
            "corpus_tracelogging: corpus not found (../shared/corpus or $WSKTRACE_CORPUS): skipped"
        );
        return;
    };
    let expected_text = std::fs::read_to_string(dir.join("EXPECTED-tracelogging.jsonl")).unwrap();
    let mut expected: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for line in expected_text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Json = serde_json::from_str(line).unwrap();
        expected
            .entry(v["file"].as_str().unwrap().to_owned())
            .or_default()
            .push(v);
    }

    let mut cache = SchemaCache::new();
    let (mut decoded, mut compared, mut mismatches) = (0usize, 0usize, Vec::new());
    let mut non_minimal_tags = 0usize;
    for (file, exp) in &expected {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let records = tl_records(&bytes);
        assert!(
            records.len() >= exp.len(),
            "{file}: {} TL events, EXPECTED lists {}",
            records.len(),
            exp.len()
        );
        for (i, rec) in records.iter().enumerate() {
            let schema = cache
                .get(&rec.meta)
                .unwrap_or_else(|e| panic!("{file}: record at {:#x}: metadata: {e}", rec.offset));
            let ev = decode(schema, &rec.user_data, rec.pointer_size)
                .unwrap_or_else(|e| panic!("{file}: record at {:#x}: payload: {e}", rec.offset));
            assert_eq!(
                ev.unread, 0,
                "{file}: record at {:#x}: unread payload bytes",
                rec.offset
            );
            decoded += 1;
            // The encoder reproduces Windows' bytes: metadata (up to the tag encoding, which
            // some producers write non-minimally, e.g. `80 00` for tag 0) and payload.
            let declared = usize::from(u16::from_le_bytes([rec.meta[0], rec.meta[1]]));
            let meta = schema.to_bytes().unwrap();
            if meta != rec.meta[..declared] {
                assert_eq!(
                    Schema::parse(&meta).as_ref(),
                    Ok(&**schema),
                    "{file}: record at {:#x}: metadata re-encoded",
                    rec.offset
                );
                assert!(
                    meta.len() < declared,
                    "{file}: record at {:#x}: re-encoded metadata",
                    rec.offset
                );
                non_minimal_tags += 1;
            }
            let values: Vec<Value<'_>> = ev.fields.iter().map(|f| f.value.clone()).collect();
            let mut payload = Vec::new();
            encode_payload(schema, &values, rec.pointer_size, &mut payload)
                .unwrap_or_else(|e| panic!("{file}: record at {:#x}: re-encode: {e}", rec.offset));
            assert_eq!(
                payload, rec.user_data,
                "{file}: record at {:#x}: payload re-encoded",
                rec.offset
            );
            let Some(want) = exp.get(i) else { continue };
            compared += 1;
            let traits = rec
                .traits
                .as_deref()
                .map(|t| ProviderTraits::parse(t).unwrap());
            let got_fields = serde_json::to_value(ev.fields_json()).unwrap();
            let mut problems = Vec::new();
            if want["name"] != ev.name {
                problems.push(format!("name {} != {:?}", want["name"], ev.name));
            }
            if want["provider"] != rec.provider.to_string().as_str() {
                problems.push(format!("provider {} != {}", want["provider"], rec.provider));
            }
            if want["pid"] != rec.pid || want["tid"] != rec.tid {
                problems.push(format!(
                    "pid/tid {}/{} != {}/{}",
                    want["pid"], want["tid"], rec.pid, rec.tid
                ));
            }
            if let Some(t) = &traits {
                if want["provider_name"] != t.name {
                    problems.push(format!(
                        "provider_name {} != {:?}",
                        want["provider_name"], t.name
                    ));
                }
                let got_traits = serde_json::to_value(&t.traits).unwrap();
                let want_traits = want
                    .get("provider_traits")
                    .cloned()
                    .unwrap_or(Json::Array(vec![]));
                if got_traits != want_traits {
                    problems.push(format!("provider_traits {want_traits} != {got_traits}"));
                }
            }
            if want["fields"] != got_fields {
                problems.push(format!(
                    "fields\n  want {}\n  got  {got_fields}",
                    want["fields"]
                ));
            }
            if !problems.is_empty() {
                mismatches.push(format!(
                    "{file} TL event #{i} at {:#x}: {}",
                    rec.offset,
                    problems.join("; ")
                ));
            }
        }
    }
    eprintln!(
        "corpus_tracelogging: {decoded} TraceLogging events decoded and re-encoded, {compared} compared with \
         EXPECTED, {} mismatches, {} distinct schemas, {non_minimal_tags} events with non-minimal tag bytes",
        mismatches.len(),
        cache.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
