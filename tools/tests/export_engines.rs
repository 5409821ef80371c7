//! `wsktrace export` read by the engines users already have: the queries of docs/export.md
//! (taken from the page by tests/export_queries.py) run in DuckDB and in PySpark (local mode)
//! over an exported fleet of simulated traces, one of them unreadable, and must give exactly
//! the figures `wsktrace latency --json`, `check --json`, `boot --json` and `compare --json`
//! give for the same files. Then the tables read back in Rust, Parquet and CSV alike.
//!
//! DuckDB and PySpark come from the `.venv` that tests/run.sh makes (tests/requirements.txt);
//! without it the engine tests say so and pass, unless `CI=true`: then they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::{json, Value};
use wsktrace_tools::export::read::{detect, read_table};
use wsktrace_tools::export::table::TableId;
use wsktrace_tools::export::Format;
use wsktrace_tools::scenario::{self, SCENARIOS};

#[path = "support/venv.rs"]
mod venv;
use venv::python_with;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wsktrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsktrace"))
        .args(args)
        .output()
        .expect("run wsktrace")
}

fn json_of(args: &[&str]) -> Value {
    let out = wsktrace(args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "wsktrace {args:?}: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The fleet: every scenario twice and one file that is not ETL; its exports (Parquet and
/// CSV) and the commands' JSON for the same directory.
struct Fleet {
    traces: PathBuf,
    parquet: PathBuf,
    csv: PathBuf,
    latency: Value,
    check: Value,
    boot: Value,
    compare: Value,
}

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wsktrace-export-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let traces = dir.join("traces");
        std::fs::create_dir_all(&traces).unwrap();
        let plan: Vec<(&str, usize)> = SCENARIOS.iter().map(|s| (s.name, 2)).collect();
        scenario::write_fleet(&traces, &plan).expect("fleet");
        std::fs::write(traces.join("not-an-etl-file.etl"), b"not ETL").unwrap();
        let t = traces.to_str().unwrap();
        let (parquet, csv) = (dir.join("parquet"), dir.join("csv"));
        for (out, format) in [(&parquet, "parquet"), (&csv, "csv")] {
            let o = out.to_str().unwrap();
            let run = wsktrace(&["export", t, "-o", o, "--format", format]);
            // The unreadable file: exit 2, everything else exported.
            assert_eq!(
                run.status.code(),
                Some(2),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            assert!(String::from_utf8_lossy(&run.stderr).contains("not-an-etl-file.etl"));
        }
        Fleet {
            latency: json_of(&["latency", "--json", t]),
            check: json_of(&["check", "--json", t]),
            boot: json_of(&["boot", "--json", t]),
            compare: json_of(&["compare", "--json", t, parquet.to_str().unwrap()]),
            traces,
            parquet,
            csv,
        }
    })
}

type Rows = Vec<Vec<Value>>;

fn sorted(mut rows: Rows) -> Rows {
    rows.sort_by_key(|r| serde_json::to_string(r).unwrap());
    rows
}

fn files(v: &Value) -> impl Iterator<Item = &Value> {
    v["files"].as_array().unwrap().iter()
}

/// What each documented query must answer, from the commands' own JSON.
fn expected(f: &Fleet) -> BTreeMap<&'static str, Rows> {
    let mut out = BTreeMap::new();
    let mut groups = Vec::new();
    for file in files(&f.latency) {
        for g in file["latency"]["groups"].as_array().into_iter().flatten() {
            let w = &g["wait"];
            groups.push(vec![
                file["path"].clone(),
                g["wait_mode"].clone(),
                g["outcome"].clone(),
                g["calling_context"].clone(),
                w["count"].clone(),
                w["min"].clone(),
                w["p50"].clone(),
                w["p90"].clone(),
                w["p99"].clone(),
                w["max"].clone(),
            ]);
        }
    }
    out.insert("capture_wait_by_file", groups);

    let mut by_mode = Vec::new();
    for m in f.compare["baseline"]["capture_wait"].as_array().unwrap() {
        if m["calling_context"] == "any" {
            let s = &m["wait"];
            by_mode.push(vec![
                m["wait_mode"].clone(),
                s["count"].clone(),
                s["p50"].clone(),
                s["p90"].clone(),
                s["p99"].clone(),
                s["max"].clone(),
            ]);
        }
    }
    out.insert("capture_wait_p99_by_mode", by_mode);

    let mut findings: BTreeMap<(String, String), (u64, BTreeSet<String>)> = BTreeMap::new();
    for file in files(&f.check) {
        for r in file["balance"]["registrations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for x in r["findings"].as_array().unwrap() {
                let key = (
                    x["rule"].as_str().unwrap().to_string(),
                    x["severity"].as_str().unwrap().to_string(),
                );
                let e = findings.entry(key).or_default();
                e.0 += 1;
                e.1.insert(file["path"].as_str().unwrap().to_string());
            }
        }
    }
    out.insert(
        "findings_by_rule",
        findings
            .into_iter()
            .map(|((rule, sev), (n, files))| {
                vec![json!(rule), json!(sev), json!(n), json!(files.len())]
            })
            .collect(),
    );

    let s = &f.check["summary"];
    out.insert(
        "verdicts",
        ["inconclusive", "ok", "violation"]
            .iter()
            .filter(|v| s[**v].as_u64() != Some(0))
            .map(|v| vec![json!(v), s[*v].clone()])
            .collect(),
    );

    let b = &f.boot["summary"];
    let mut boot = Vec::new();
    for (metric, key) in [
        ("driver_entry_since_boot_ns", "driver_entry_start"),
        ("driver_entry_duration_ns", "driver_entry_duration"),
        ("blocked_in_capture_ns", "blocked_in_capture"),
        ("wsk_ready_since_boot_ns", "wsk_ready"),
        ("max_delay_ns", "max_delay"),
        ("total_delay_ns", "total_delay"),
        ("drivers_delayed", "delayed_drivers"),
    ] {
        let m = &b[key];
        if m["count"].as_u64() != Some(0) {
            boot.push(vec![
                json!(metric),
                m["count"].clone(),
                m["min"].clone(),
                m["p50"].clone(),
                m["p90"].clone(),
                m["p99"].clone(),
                m["max"].clone(),
            ]);
        }
    }
    out.insert("boot_fleet", boot);
    out.insert(
        "boot_traces",
        vec![vec![
            b["traces"].clone(),
            b["traces_with_driver_entry"].clone(),
        ]],
    );
    out
}

fn check_engine(engine: &str, module: &str) {
    let Some(python) = python_with(module) else {
        return;
    };
    let f = fleet();
    let started = Instant::now();
    let out = Command::new(&python)
        .arg(root().join("tests/export_queries.py"))
        .arg(engine)
        .arg(&f.parquet)
        .arg(root().join("docs/export.md"))
        .output()
        .expect("run export_queries.py");
    eprintln!(
        "{engine}: queries answered in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "export_queries.py {engine} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let expected = expected(f);
    let asked: BTreeSet<&str> = answers
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let known: BTreeSet<&str> = expected.keys().copied().collect();
    assert_eq!(
        asked, known,
        "every documented query is checked, and only those"
    );
    for (name, want) in expected {
        let got: Rows = serde_json::from_value(answers[name]["rows"].clone()).unwrap();
        assert!(
            !want.is_empty(),
            "{name}: the fleet gives it something to answer"
        );
        let (got, want) = (sorted(got), sorted(want));
        let only =
            |a: &Rows, b: &Rows| -> Rows { a.iter().filter(|r| !b.contains(r)).cloned().collect() };
        assert!(
            got == want,
            "{engine}: {name}: rows only in the engine's answer: {:?}; only in wsktrace's: {:?}",
            only(&got, &want),
            only(&want, &got)
        );
    }
}

#[test]
fn duckdb_answers_like_the_cli() {
    check_engine("duckdb", "duckdb");
}

#[test]
fn spark_answers_like_the_cli() {
    check_engine("spark", "pyspark");
}

fn count_rows(dir: &Path, format: Format, table: TableId) -> u64 {
    let mut n = 0;
    read_table(dir, format, table, &mut |b| n += b.num_rows() as u64).expect("read back");
    n
}

/// The tables read back (Parquet and CSV alike) hold a row per file, event, registration and
/// finding the commands report.
#[test]
fn tables_read_back_hold_what_the_commands_report() {
    let f = fleet();
    let check = &f.check;
    let n_files = files(check).count() as u64;
    let events: u64 = files(check).filter_map(|x| x["events"].as_u64()).sum();
    let s = &check["summary"];
    let registrations = ["ok", "inconclusive", "violation"]
        .iter()
        .map(|k| s[*k].as_u64().unwrap())
        .sum::<u64>();
    let findings: u64 = files(check)
        .flat_map(|x| {
            x["balance"]["registrations"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .map(|r| r["findings"].as_array().unwrap().len() as u64)
        .sum();
    let captures: u64 = files(&f.latency)
        .flat_map(|x| x["latency"]["groups"].as_array().into_iter().flatten())
        .map(|g| g["wait"]["count"].as_u64().unwrap())
        .sum();
    for (dir, format) in [(&f.parquet, Format::Parquet), (&f.csv, Format::Csv)] {
        assert_eq!(detect(dir), Ok(Some(format)));
        assert_eq!(
            count_rows(dir, format, TableId::Files),
            n_files,
            "{format:?}"
        );
        assert_eq!(
            count_rows(dir, format, TableId::Events),
            events,
            "{format:?}"
        );
        assert_eq!(
            count_rows(dir, format, TableId::Registrations),
            registrations,
            "{format:?}"
        );
        assert_eq!(
            count_rows(dir, format, TableId::Findings),
            findings,
            "{format:?}"
        );
        // Every capture that returned, plus those that did not (no wait).
        assert!(
            count_rows(dir, format, TableId::Captures) >= captures,
            "{format:?}"
        );
    }
    assert_eq!(detect(&f.traces), Ok(None));
}

/// `compare` of the Parquet export against the CSV export of the same traces finds every
/// figure equal (the CSV round trip loses nothing `compare` uses).
#[test]
fn parquet_and_csv_exports_compare_equal() {
    let f = fleet();
    let v = json_of(&[
        "compare",
        "--json",
        f.parquet.to_str().unwrap(),
        f.csv.to_str().unwrap(),
    ]);
    assert_eq!(v["baseline"], v["new"]);
}
