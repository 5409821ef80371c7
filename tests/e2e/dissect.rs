//! Differential test: dissect.etl (an independent ETL parser from PyPI, installed into `.venv`
//! by `tests/run.sh`, driven by `tests/dissect_diff.py`) reads the writer's files and must find
//! the same logfile header facts, the same number of records, the same providers with the
//! same counts and the same timestamps as our reader — and the same Kernel-PnP payloads,
//! which the script decodes by hand from the manifest template.
//!
//! Without the virtualenv the test says so and passes, unless `CI=true`: then it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wsktrace_tools::kernel_pnp::DriverInit;
use wsktrace_tools::scenario::SCENARIOS;

use crate::readback::{read_back, simulate, tmp_dir};
use crate::venv::python_with;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The JSON lines a harness script of `tests/` prints for `args`.
fn script(python: &Path, name: &str, args: &[&std::ffi::OsStr]) -> Vec<Value> {
    let out = Command::new(python)
        .arg(root().join("tests").join(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("runs {name}: {e}"));
    assert!(
        out.status.success(),
        "{name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn dissect(python: &Path, files: &[PathBuf]) -> Vec<Value> {
    let args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    script(python, "dissect_diff.py", &args)
}

#[test]
fn dissect_reads_what_we_read() {
    let Some(python) = python_with("dissect.etl") else {
        return;
    };
    let dir = tmp_dir("dissect");
    // Every scenario, run in parallel (they mostly sleep).
    let runs: Vec<_> = SCENARIOS
        .iter()
        .map(|s| std::thread::spawn(move || (s.name, simulate(s.name).1)))
        .collect();
    let mut files = Vec::new();
    let mut images = Vec::new();
    for r in runs {
        let (name, bytes) = r.join().expect("scenario ran");
        let path = dir.join(format!("{name}.etl"));
        std::fs::write(&path, &bytes).expect("write");
        files.push(path);
        images.push(bytes);
    }
    let theirs = dissect(&python, &files);
    assert_eq!(theirs.len(), files.len());
    for ((path, bytes), t) in files.iter().zip(&images).zip(&theirs) {
        let name = path.display();
        let ours = read_back(bytes);
        let h = &t["header"];
        let info = &ours.info;
        assert_eq!(h["buffer_size"], info.buffer_size, "{name}");
        assert_eq!(h["buffers_written"], info.buffers_written, "{name}");
        assert_eq!(h["buffers_written"].as_u64(), Some(ours.buffers), "{name}");
        assert_eq!(h["pointer_size"], info.pointer_size, "{name}");
        assert_eq!(h["start_time"], info.start_time, "{name}");
        assert_eq!(h["end_time"], info.end_time, "{name}");
        assert_eq!(h["boot_time"], info.boot_time, "{name}");
        assert_eq!(h["perf_freq"], info.perf_freq, "{name}");
        assert_eq!(h["events_lost"], info.events_lost, "{name}");
        assert_eq!(h["processors"], info.number_of_processors, "{name}");
        assert_eq!(h["logger_name"], info.logger_name.as_str(), "{name}");
        assert_eq!(h["log_file_name"], info.log_file_name.as_str(), "{name}");
        assert_eq!(
            t["events"].as_u64(),
            Some(ours.records as u64),
            "{name}: records"
        );
        let providers: std::collections::BTreeMap<String, usize> =
            serde_json::from_value(t["providers"].clone()).expect("providers");
        assert_eq!(providers, ours.providers, "{name}: providers");
        let records = t["records"].as_array().expect("records");
        assert_eq!(records.len(), ours.timestamps.len());
        for (r, (guid, filetime)) in records.iter().zip(&ours.timestamps) {
            assert_eq!(
                r[0].as_str(),
                Some(guid.as_str()),
                "{name}: provider, file order"
            );
            // dissect scales with a float; at the writer's 10 MHz clock the scale is exactly 1.
            let theirs = r[1].as_i64().expect("filetime");
            assert!(
                (theirs - filetime).abs() <= 1,
                "{name}: timestamp {theirs} vs {filetime}"
            );
        }
        let pnp: Vec<(u64, String, Option<u64>)> = t["pnp"]
            .as_array()
            .expect("pnp")
            .iter()
            .map(|p| {
                (
                    p["id"].as_u64().unwrap(),
                    p["driver"].as_str().unwrap().to_owned(),
                    p["status"].as_u64(),
                )
            })
            .collect();
        let mut ours_pnp: Vec<_> = ours.pnp.iter().map(|p| p.event.clone()).collect();
        // Compare as multisets (file order is per processor, ours is sorted by time).
        let mut theirs_pnp: Vec<DriverInit> = pnp
            .into_iter()
            .map(|(id, driver, status)| match id {
                226 => DriverInit::Start { driver },
                _ => DriverInit::Stop {
                    driver,
                    status: status.unwrap() as u32,
                },
            })
            .collect();
        let key = |d: &DriverInit| format!("{d:?}");
        ours_pnp.sort_by_key(key);
        theirs_pnp.sort_by_key(key);
        assert_eq!(theirs_pnp, ours_pnp, "{name}: Kernel-PnP payloads");
    }
}

/// dissect.etl also reads a real Windows file the same way (the harness itself is sound).
#[test]
fn harness_agrees_on_a_real_windows_file() {
    let Some(python) = python_with("dissect.etl") else {
        return;
    };
    let Some(corpus) = crate::corpus::etl_dir_or_skip("dissect harness") else {
        return;
    };
    let file = corpus.join("airbus-cert__etl-parser/lxcore_kernel.etl");
    let t = &dissect(&python, std::slice::from_ref(&file))[0];
    let ours = read_back(&std::fs::read(&file).unwrap());
    assert_eq!(t["events"].as_u64(), Some(ours.records as u64));
    let providers: std::collections::BTreeMap<String, usize> =
        serde_json::from_value(t["providers"].clone()).unwrap();
    assert_eq!(providers, ours.providers);
}

/// Whether our value is the one dissect.etl read: numbers by value (ours may show them as hex
/// or name them with a map), strings as they are, GUIDs and binary by their bytes.
fn same(ours: &wsktrace_tools::tracelogging::Value<'_>, theirs: &Value) -> bool {
    use wsktrace_tools::tracelogging::Value as V;
    match (ours, theirs) {
        (V::Str(s), Value::String(t)) => s == t,
        (V::Guid(g), Value::String(t)) => {
            wsktrace_tools::tracelogging::hex_bytes(&g.to_bytes_le())[2..] == **t
        }
        (V::Binary(b), Value::String(t)) => {
            b.is_empty() && t.is_empty() || wsktrace_tools::tracelogging::hex_bytes(b)[2..] == **t
        }
        (V::I64(v), Value::Number(n)) => n.as_i64() == Some(*v),
        (v, Value::Number(n)) => v.as_u64().is_some() && v.as_u64() == n.as_u64(),
        _ => false,
    }
}

/// Our decoding of the corpus's manifest events agrees with dissect.etl's where dissect knows
/// the manifest (its bundled database; of the corpus's providers only the CLR rundown's
/// compiles and reads payloads whole): `net.4.5.2.x64.etl` decoded by the file's own metadata,
/// `gcrundownevents…` and the 32-bit `smallEtlFile.etl` by dissect's manifest given to us as a
/// user's `--manifest` (in this test only; no manifest is shipped).
#[test]
fn corpus_fields_agree_with_dissect() {
    use wsktrace_tools::etl::{EtlReader, Record};
    use wsktrace_tools::payload::{Payload, PayloadDecoder};
    use wsktrace_tools::pipeline::summary::read_metadata;
    use wsktrace_tools::tdh::{parse_manifest, Layouts};
    let Some(python) = python_with("dissect.etl") else {
        return;
    };
    let Some(corpus) = crate::corpus::etl_dir_or_skip("dissect fields") else {
        return;
    };
    let out = Command::new(&python)
        .arg(root().join("tests/dissect_fields.py"))
        .args(["--manifest-path", "a669021c-c450-4609-a035-5af59af4df18"])
        .output()
        .expect("runs dissect_fields.py");
    let xml = std::fs::read_to_string(String::from_utf8_lossy(&out.stdout).trim())
        .expect("dissect.etl's CLR rundown manifest");
    let clr_rundown = parse_manifest(&xml).expect("dissect.etl's CLR rundown manifest parses");
    for (file, manifest, at_least) in [
        ("microsoft__perfview/net.4.5.2.x64.etl", false, 16_000),
        (
            "microsoft__perfview/gcrundownevents.PerfViewData.clrRundown.etl",
            true,
            100,
        ),
        ("microsoft__perfview/smallEtlFile.etl", true, 1),
    ] {
        let path = corpus.join(file);
        let theirs: std::collections::HashMap<u64, Value> =
            script(&python, "dissect_fields.py", &[path.as_os_str()])
                .into_iter()
                .map(|v| (v["i"].as_u64().unwrap(), v))
                .collect();
        let mut layouts = Layouts::new();
        if manifest {
            layouts.add_manifest(&clr_rundown);
        } else {
            read_metadata(std::fs::File::open(&path).unwrap(), &mut layouts);
        }
        let mut decoder = PayloadDecoder::new(layouts);
        let mut reader = EtlReader::open(&path).unwrap();
        let (mut i, mut events, mut fields) = (0u64, 0, 0);
        let mut wrong = Vec::new();
        while let Some(b) = reader.next_buffer() {
            for rec in b.unwrap().records() {
                let rec = rec.unwrap();
                if !matches!(rec, Record::Event(_)) {
                    continue;
                }
                if let Some(t) = theirs.get(&i) {
                    let Payload::Decoded { fields: ours, .. } = decoder.decode(&rec) else {
                        panic!("{file}: event {i} not decoded by us");
                    };
                    events += 1;
                    for (name, tv) in t["fields"].as_object().unwrap() {
                        let ov = ours.iter().find(|f| f.name == name).map(|f| &f.value);
                        fields += 1;
                        if !ov.is_some_and(|ov| same(ov, tv)) {
                            wrong.push(format!("event {i} {name}: ours {ov:?}, dissect {tv}"));
                        }
                    }
                }
                i += 1;
            }
        }
        assert!(events >= at_least, "{file}: only {events} events compared");
        assert!(
            wrong.is_empty(),
            "{file}: {} of {fields} fields differ: {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
        eprintln!("{file}: {events} events, {fields} fields agree with dissect.etl");
    }
}
