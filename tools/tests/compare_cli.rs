//! `wsktrace compare` on simulated fleets: the DriverEntry-thread boot scenario against the
//! worker one is a regression the gates catch (exit 1, JUnit failures); two runs of the same
//! scenarios are not (exit 0); an export directory stands for its traces; unreadable input
//! exits 2, over a regression.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use wsktrace_tools::scenario;

fn wsktrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsktrace"))
        .args(args)
        .output()
        .expect("run wsktrace")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsktrace-compare-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fleet(name: &str, plan: &[(&str, usize)]) -> PathBuf {
    let d = tmp(name);
    scenario::write_fleet(&d, plan).expect("fleet");
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn compare(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["compare", "--json"];
    all.extend_from_slice(args);
    let out = wsktrace(&all);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

/// `(gate, metric, group)` of every regression.
fn regressions(v: &Value) -> Vec<(String, String, Option<String>)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["regression"] == true)
        .map(|c| {
            (
                c["gate"].as_str().unwrap().to_string(),
                c["delta"]["metric"].as_str().unwrap().to_string(),
                c["delta"]["group"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn driver_entry_thread_boot_is_a_regression_against_the_worker_one() {
    let base = fleet("worker", &[("boot-worker", 4)]);
    let new = fleet("driver-entry", &[("boot-driver-entry", 4)]);
    let junit = tmp("junit").join("compare.xml");
    let gates = [
        "--fail-on-new-violations",
        "--max-increase",
        "driver_entry_duration.p99=50",
        "--max-increase",
        "blocked_on_driver_entry_thread.p99=10",
        "--max-increase",
        "drivers_delayed.max=0",
    ];
    let mut args = vec![s(&base), s(&new), "--junit", s(&junit)];
    args.extend(gates);
    let (code, v) = compare(&args);
    assert_eq!(code, Some(1));
    let broke = regressions(&v);
    for metric in [
        "driver_entry_duration.p99",
        "blocked_on_driver_entry_thread.p99",
        "drivers_delayed.max",
    ] {
        assert!(
            broke.iter().any(|r| r.0 == "max-increase" && r.1 == metric),
            "{metric} not flagged: {broke:?}"
        );
    }
    // Neither side breaks a rule: no new violations.
    assert!(!broke.iter().any(|r| r.0 == "new-violations"), "{broke:?}");
    assert_eq!(v["regressions"].as_u64(), Some(broke.len() as u64));
    // The figures behind it: 150 ms blocked per boot, three drivers delayed.
    let blocked = &v["new"]["blocked_on_driver_entry_thread"];
    assert!(blocked["p50"].as_u64().unwrap() >= 150_000_000, "{blocked}");
    assert_eq!(v["baseline"]["blocked_on_driver_entry_thread"]["max"], 0);
    assert_eq!(v["new"]["drivers_delayed"]["min"], 3);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure").count(), broke.len(), "{xml}");
    assert!(xml.contains("failures=\"3\""), "{xml}");

    // The other way round nothing regresses; text output says so.
    let out = wsktrace(&[&["compare", s(&new), s(&base)][..], &gates[..]].concat());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no regression"), "{text}");
    assert!(
        text.contains("blocked_on_driver_entry_thread.p99"),
        "{text}"
    );
}

#[test]
fn two_runs_of_the_same_scenarios_are_not_a_regression() {
    let plan = [
        ("clean", 3),
        ("boot-worker", 3),
        ("ready-late", 3),
        ("double-release", 2),
    ];
    let (a, b) = (fleet("run-a", &plan), fleet("run-b", &plan));
    // Gates on figures scheduling cannot move by much: counts, and waits of 30 ms or more.
    let (code, v) = compare(&[
        s(&a),
        s(&b),
        "--fail-on-new-violations",
        "--max-increase",
        "captures=0",
        "--max-increase",
        "violations=0",
        "--max-increase",
        "driver_entry_duration.p99=25",
        "--max-increase",
        "blocked_on_driver_entry_thread.p99=25",
        "--max-increase",
        "drivers_delayed.max=0",
    ]);
    assert_eq!(code, Some(0), "{:?}", regressions(&v));
    assert!(v["checks"].as_array().unwrap().len() > 5);
    assert_eq!(v["baseline"]["files"], 11);
    assert_eq!(v["baseline"]["rules"], v["new"]["rules"]);

    // One more broken client in the new fleet: a new violation.
    scenario::write_fleet(&b, &[("leaked-capture", 1)]).unwrap();
    let (code, v) = compare(&[s(&a), s(&b), "--fail-on-new-violations"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        regressions(&v),
        [(
            "new-violations".to_string(),
            "violations".to_string(),
            Some("capture-not-released".to_string())
        )]
    );
}

#[test]
fn an_export_directory_stands_for_its_traces() {
    let traces = fleet("export-side", &[("boot-worker", 2), ("double-release", 1)]);
    let export = tmp("export-side-out");
    assert_eq!(
        wsktrace(&["export", s(&traces), "-o", s(&export)])
            .status
            .code(),
        Some(0)
    );
    let (code, v) = compare(&[s(&export), s(&traces), "--fail-on-new-violations"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["baseline"], v["new"]);
    assert_eq!(v["baseline"]["rules"][0]["rule"], "double-release");
    // A table that cannot be read: one error line naming its file, exit 2.
    let table = export.join("captures.parquet");
    std::fs::write(&table, b"not parquet").unwrap();
    let out = wsktrace(&["compare", s(&export), s(&traces)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("wsktrace: {}: ", s(&table))),
        "{err}"
    );
}

#[test]
fn unreadable_input_exits_2_over_a_regression() {
    let base = fleet("unreadable-base", &[("clean", 1)]);
    let new = fleet("unreadable-new", &[("double-release", 1)]);
    std::fs::write(new.join("broken.etl"), b"not ETL").unwrap();
    let (code, v) = compare(&[s(&base), s(&new), "--fail-on-new-violations"]);
    assert_eq!(code, Some(2));
    assert_eq!(v["new"]["unreadable_files"], 1);
    assert_eq!(v["regressions"], 1);
    let out = wsktrace(&["compare", s(&base), "/nonexistent/fleet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/fleet"));
    // A bad gate is a usage error.
    let out = wsktrace(&["compare", s(&base), s(&base), "--max-increase", "p99=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown metric"));
}

/// A registration made inconclusive by lost events has no finding; the verdict rows count it
/// all the same, from traces and from their export (Parquet and CSV), in text, JSON and
/// JUnit, as `check` does.
#[test]
fn inconclusive_verdicts_without_findings_are_compared() {
    let base = fleet("verdicts-base", &[("clean", 1)]);
    let new = fleet("verdicts-new", &[("clean", 1), ("dropped-events", 1)]);
    let check = wsktrace(&["check", "--json", s(&new)]);
    let check: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(check["summary"]["inconclusive"], 1, "{check}");
    let parquet = tmp("verdicts-parquet");
    let csv = tmp("verdicts-csv");
    for (out, format) in [(&parquet, "parquet"), (&csv, "csv")] {
        let export = wsktrace(&["export", s(&new), "-o", s(out), "--format", format]);
        assert_eq!(export.status.code(), Some(0), "{export:?}");
    }
    let gate = ["--max-increase", "registrations.inconclusive=0"];
    for side in [&new, &parquet, &csv] {
        let junit = tmp("verdicts-junit").join("compare.xml");
        let (code, v) = compare(&[&[s(&base), s(side), "--junit", s(&junit)][..], &gate].concat());
        assert_eq!(code, Some(1), "{}", side.display());
        let row = |metric: &str| {
            v["deltas"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["metric"] == metric && d["group"].is_null())
                .map(|d| (d["baseline"].as_u64(), d["new"].as_u64()))
        };
        assert_eq!(row("registrations.inconclusive"), Some((Some(0), Some(1))));
        assert_eq!(row("registrations.ok"), Some((Some(1), Some(1))));
        assert_eq!(row("registrations.violation"), Some((Some(0), Some(0))));
        // No finding says so: the findings' severity row stays where it was.
        assert_eq!(row("inconclusive"), Some((Some(0), Some(0))));
        assert_eq!(
            regressions(&v),
            [(
                "max-increase".to_string(),
                "registrations.inconclusive".to_string(),
                None
            )]
        );
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(
            xml.contains("<failure type=\"max-increase\" message=\"max-increase registrations.inconclusive: 0 -&gt; 1"),
            "{xml}"
        );
    }
    let out = wsktrace(&["compare", s(&base), s(&new)]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("registrations.inconclusive "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["registrations.inconclusive", "0", "1", "+1", "(new)"],
        "{text}"
    );
}

/// Exporting into a directory in one format, then the other, leaves only the second set (and
/// any other file); a directory holding both sets is refused, naming it.
#[test]
fn exporting_in_the_other_format_replaces_the_tables() {
    use wsktrace_tools::export::table::TableId;
    use wsktrace_tools::export::write::table_path;
    use wsktrace_tools::export::Format;

    let traces = fleet("formats-traces", &[("clean", 1), ("double-release", 1)]);
    let out = tmp("formats-out");
    std::fs::write(out.join("notes.csv"), b"kept").unwrap();
    let tables = |format| {
        TableId::ALL
            .into_iter()
            .filter(|t| table_path(&out, *t, format).is_file())
            .count()
    };
    for (format, other, name) in [
        (Format::Parquet, Format::Csv, "parquet"),
        (Format::Csv, Format::Parquet, "csv"),
        (Format::Parquet, Format::Csv, "parquet"),
    ] {
        let export = wsktrace(&["export", s(&traces), "-o", s(&out), "--format", name]);
        assert_eq!(export.status.code(), Some(0), "{export:?}");
        assert_eq!((tables(format), tables(other)), (6, 0), "after {name}");
        let (code, v) = compare(&[s(&out), s(&traces)]);
        assert_eq!(code, Some(0), "{name}");
        assert_eq!(v["baseline"], v["new"], "{name}");
    }
    assert!(out.join("notes.csv").is_file());

    // A stale CSV table beside the Parquet set: neither is read.
    let csv = tmp("formats-csv");
    let export = wsktrace(&["export", s(&traces), "-o", s(&csv), "--format", "csv"]);
    assert_eq!(export.status.code(), Some(0));
    let stale = table_path(&out, TableId::Findings, Format::Csv);
    std::fs::copy(table_path(&csv, TableId::Findings, Format::Csv), &stale).unwrap();
    for args in [[s(&out), s(&traces)], [s(&traces), s(&out)]] {
        let refused = wsktrace(&[&["compare"][..], &args].concat());
        assert_eq!(refused.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains(&format!("{}: ", out.display())) && stderr.contains("both formats"),
            "{stderr}"
        );
    }
}
