//! End to end: every `wsktrace simulate` scenario (the driver's real lifecycle core on the
//! simulated WSK subsystem, real threads) written as ETL, read back through the reader, the
//! TraceLogging decoder and the schema, and analysed: the rule a scenario breaks gives exactly
//! that finding, clean scenarios none, a lossy trace inconclusive verdicts; latency and boot
//! figures match the delays the scenarios configure. Then the `wsktrace` binary itself: exit
//! codes, JUnit, and the corpus files (no events of ours).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

#[path = "support/run.rs"]
mod run;
use run::wsktrace;

use wsktrace_driver::schema::WskEvent;
use wsktrace_tools::analyse::{analyse_file, Selection};
use wsktrace_tools::analysis::balance::{BalanceConfig, Rule, Severity, Verdict};
use wsktrace_tools::analysis::latency::LatencyConfig;
use wsktrace_tools::pipeline::ReadOptions;

#[path = "support/corpus.rs"]
mod corpus;
use wsktrace_tools::report::{FileAnalysis, FileStatus};
use wsktrace_tools::scenario;

const MS: u64 = 1_000_000;
/// The simulator runs real threads: a configured delay shows up this much later at most
/// (thread wake-up and scheduling on a 2-core machine that is also compiling: 104 ms late
/// was seen). Still well inside what a missed wake-up would cost: ready-late's wait would run
/// to its 1 s timeout, 880 ms after the provider became ready.
const SCHED_SLACK_NS: u64 = 400 * MS;

fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("wsktrace-scenarios-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

/// Runs each scenario once per test process (under a lock: the traces and the files they
/// were written to must stay paired) and writes its ETL file.
fn run_once(name: &str) -> (PathBuf, scenario::SimTrace) {
    static RUNS: Mutex<Option<HashMap<String, (PathBuf, scenario::SimTrace)>>> = Mutex::new(None);
    let mut runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let runs = runs.get_or_insert_with(HashMap::new);
    if let Some(r) = runs.get(name) {
        return r.clone();
    }
    let s = scenario::find(name).unwrap_or_else(|| panic!("no scenario {name}"));
    let t = s.run();
    let path = dir().join(format!("{name}.etl"));
    let f = std::fs::File::create(&path).unwrap();
    scenario::write_etl(
        &t,
        std::io::BufWriter::new(f),
        scenario::session_config(name),
    )
    .unwrap();
    runs.insert(name.to_string(), (path.clone(), t.clone()));
    (path, t)
}

fn trace(name: &str) -> PathBuf {
    run_once(name).0
}

/// The `WaitNs` of the first capture Stop in a scenario's recorded events.
fn recorded_wait(name: &str) -> u64 {
    run_once(name)
        .1
        .records
        .iter()
        .find_map(|r| match r.event {
            WskEvent::CaptureProviderNpiStop { wait_ns, .. } => Some(wait_ns),
            _ => None,
        })
        .expect("a capture stop")
}

fn analysed(name: &str) -> FileAnalysis {
    let sel = Selection {
        balance: Some(BalanceConfig {
            keep_ok: true,
            ..Default::default()
        }),
        latency: Some(LatencyConfig::default()),
        boot: true,
        timeline: true,
    };
    let r = analyse_file(&trace(name), &sel, ReadOptions::default(), &mut |e| {
        panic!("{name}: {e}")
    });
    r.unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn findings(a: &FileAnalysis) -> Vec<(Rule, Severity)> {
    a.balance
        .as_ref()
        .unwrap()
        .findings()
        .map(|f| (f.rule, f.severity))
        .collect()
}

#[test]
fn clean_scenarios_have_no_findings() {
    for name in [
        "clean",
        "never-ready",
        "ready-late",
        "unsupported-version",
        "deregister-during-capture",
        "unload-during-wait",
        "concurrent-captures",
        "boot-driver-entry",
        "boot-worker",
    ] {
        let a = analysed(name);
        assert!(a.events > 0, "{name}: no events");
        assert_eq!(a.undecodable, 0, "{name}");
        assert_eq!(findings(&a), vec![], "{name}");
        let b = a.balance.as_ref().unwrap();
        assert_eq!(b.verdict, Verdict::Ok, "{name}: {:?}", b.registrations);
        assert_eq!(b.counts.violation + b.counts.inconclusive, 0, "{name}");
    }
}

#[test]
fn each_broken_client_gives_exactly_its_finding() {
    for (name, rule) in [
        ("leaked-capture", Rule::CaptureNotReleased),
        ("double-release", Rule::DoubleRelease),
        ("dispatch-after-release", Rule::DispatchAfterRelease),
    ] {
        let a = analysed(name);
        assert_eq!(findings(&a), vec![(rule, Severity::Violation)], "{name}");
        let b = a.balance.as_ref().unwrap();
        assert_eq!(b.verdict, Verdict::Violation, "{name}");
        let f = b.findings().next().unwrap();
        // Every finding names the registration, the capture, a thread, a time and events.
        assert_eq!(f.registration, Some(1), "{name}");
        assert_eq!(f.capture, Some(1), "{name}");
        assert!(f.tid >= scenario::FIRST_TID, "{name}");
        assert!(f.ts_ns > 0, "{name}");
        assert!(f.events.len() >= 3, "{name}: {:?}", f.events);
    }
}

#[test]
fn lossy_trace_is_inconclusive_not_a_violation() {
    let a = analysed("dropped-events");
    assert_eq!(
        a.trace.events_lost,
        u64::from(scenario::DROPPED_EVENTS),
        "header count"
    );
    let b = a.balance.as_ref().unwrap();
    assert_eq!(b.verdict, Verdict::Inconclusive);
    assert_eq!(b.counts.violation, 0);
    assert!(b.registrations[0].reasons[0].contains("lost"));
    assert!(findings(&a).iter().all(|(_, s)| *s != Severity::Violation));
}

#[test]
fn latency_matches_the_configured_delays() {
    for (name, configured_ms, mode, context) in [
        (
            "ready-late",
            scenario::READY_LATE_MS,
            format!("timeout {} ms", scenario::READY_LATE_TIMEOUT_MS),
            "driver-entry-thread",
        ),
        (
            "never-ready",
            u64::from(scenario::NEVER_READY_TIMEOUT_MS),
            format!("timeout {} ms", scenario::NEVER_READY_TIMEOUT_MS),
            "driver-entry-thread",
        ),
        (
            "deregister-during-capture",
            scenario::CANCEL_AFTER_MS,
            "infinite".to_string(),
            "other-thread",
        ),
    ] {
        let a = analysed(name);
        let l = a.latency.as_ref().unwrap();
        let g = l
            .groups
            .iter()
            .find(|g| g.wait_mode == mode)
            .unwrap_or_else(|| panic!("{name}: no group {mode}: {:?}", l.groups));
        assert_eq!(g.calling_context, context, "{name}");
        assert_eq!(g.wait.count, 1, "{name}");
        let wait = g.wait.max;
        // Exactly what the driver recorded; the configured delay within scheduling slack.
        assert_eq!(wait, recorded_wait(name), "{name}");
        let want = configured_ms * MS;
        assert!(
            wait + 5 * MS >= want && wait <= want + SCHED_SLACK_NS,
            "{name}: wait {wait} ns, configured {want} ns"
        );
        // Field and timestamps agree within the default tolerance (1 ms).
        assert_eq!(l.disagreement_count, 0, "{name}: {:?}", l.disagreements);
        assert!(l.wait_from_timestamps.max.abs_diff(wait) <= MS, "{name}");
    }
    // Outcomes: the cancelled wait and the timed-out one fail with STATUS_DEVICE_NOT_READY.
    for name in ["never-ready", "deregister-during-capture"] {
        let a = analysed(name);
        let l = a.latency.as_ref().unwrap();
        assert!(
            l.groups
                .iter()
                .all(|g| g.outcome == "STATUS_DEVICE_NOT_READY"),
            "{name}"
        );
    }
    let a = analysed("concurrent-captures");
    let l = a.latency.as_ref().unwrap();
    assert_eq!(l.all.count, u64::from(scenario::CONCURRENT_CAPTURES));
    assert_eq!(l.held.count, u64::from(scenario::CONCURRENT_CAPTURES));
}

#[test]
fn boot_impact_matches_the_configured_delays() {
    let ready = scenario::BOOT_READY_MS * MS;
    let a = analysed("boot-driver-entry");
    let b = a.boot.as_ref().unwrap();
    assert_eq!(b.clients.len(), 1);
    let c = &b.clients[0];
    assert!(c.relative_to_boot);
    assert_eq!(c.client, scenario::CLIENT_NAME);
    // DriverEntry ran when the scenario loaded the driver (within the first event's cost).
    assert!(c.driver_entry_start_ns.abs_diff(scenario::LOAD_AT_NS) <= MS);
    let blocked = c.blocked_in_capture_ns;
    assert_eq!(blocked, recorded_wait("boot-driver-entry"));
    assert!(
        blocked + 5 * MS >= ready && blocked <= ready + SCHED_SLACK_NS,
        "blocked {blocked}"
    );
    let wsk_ready = c.wsk_ready_ns.unwrap() - scenario::LOAD_AT_NS;
    assert!(
        wsk_ready >= ready && wsk_ready <= ready + SCHED_SLACK_NS,
        "ready {wsk_ready}"
    );
    // Against the recorded events, within the trace clock's resolution (10 MHz QPC: 100 ns).
    let records = run_once("boot-driver-entry").1.records;
    let at = |f: &dyn Fn(&WskEvent) -> bool| {
        records
            .iter()
            .find(|r| f(&r.event))
            .expect("recorded")
            .timestamp_ns
    };
    let entry = at(&|e| matches!(e, WskEvent::DriverEntryStart { .. }));
    let first_ok = at(
        &|e| matches!(e, WskEvent::CaptureProviderNpiStop { status, .. } if status.is_success()),
    );
    assert!(
        c.driver_entry_start_ns
            .abs_diff(scenario::LOAD_AT_NS + entry)
            <= 100
    );
    assert!(
        c.wsk_ready_ns
            .unwrap()
            .abs_diff(scenario::LOAD_AT_NS + first_ok)
            <= 100
    );
    assert!(c.driver_entry_duration_ns.unwrap() >= blocked);
    // Exactly the drivers after ours, each delayed by our whole blocked time.
    let names: Vec<&str> = c
        .delayed_drivers
        .iter()
        .map(|d| d.driver.as_str())
        .collect();
    let after: Vec<&str> = scenario::BOOT_DRIVERS_AFTER.iter().map(|d| d.0).collect();
    assert_eq!(names, after);
    for (d, (_, dur_ms)) in c.delayed_drivers.iter().zip(scenario::BOOT_DRIVERS_AFTER) {
        assert_eq!(d.delay_ns, blocked);
        let dur = d.init_duration_ns.unwrap();
        assert!(
            dur >= dur_ms * MS && dur <= dur_ms * MS + SCHED_SLACK_NS,
            "{d:?}"
        );
    }
    assert_eq!(c.total_delay_ns, blocked * after.len() as u64);
    assert_eq!(c.max_delay_ns, blocked);

    let a = analysed("boot-worker");
    let c = &a.boot.as_ref().unwrap().clients[0];
    assert_eq!(c.blocked_in_capture_ns, 0);
    assert!(c.delayed_drivers.is_empty());
    assert!(c.driver_entry_duration_ns.unwrap() < 10 * MS);
    let wsk_ready = c.wsk_ready_ns.unwrap() - scenario::LOAD_AT_NS;
    assert!(
        wsk_ready >= ready && wsk_ready <= ready + SCHED_SLACK_NS,
        "ready {wsk_ready}"
    );
}

// --- the binary -----------------------------------------------------------------------------

#[test]
fn check_exit_codes_and_outputs() {
    let clean = trace("clean");
    let broken = trace("double-release");
    let clean_s = clean.to_str().unwrap();
    let broken_s = broken.to_str().unwrap();

    let (code, out, _) = wsktrace(&["check", clean_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": ok ("), "{out}");

    let (code, out, _) = wsktrace(&["check", clean_s, broken_s]);
    assert_eq!(code, 1);
    assert!(out.contains("violation[double-release]"), "{out}");

    // A missing file: reported, the rest still checked, exit 2.
    let missing = dir().join("missing.etl");
    let (code, out, err) = wsktrace(&["check", missing.to_str().unwrap(), broken_s]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("wsktrace: {}: ", missing.display())),
        "{err}"
    );
    assert!(out.contains("violation[double-release]"), "{out}");

    // JSON and JUnit.
    let junit = dir().join("check.xml");
    let (code, out, _) = wsktrace(&[
        "check",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
        clean_s,
        broken_s,
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"][0]["status"], "ok");
    assert_eq!(v["files"][1]["status"], "violation");
    assert_eq!(
        v["files"][1]["balance"]["registrations"][0]["findings"][0]["rule"],
        "double-release"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");

    // A lossy trace alone: inconclusive, exit 0 (1 with --fail-on-inconclusive).
    let lossy = trace("dropped-events");
    let (code, out, _) = wsktrace(&["check", lossy.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("inconclusive"), "{out}");
    let (code, _, _) = wsktrace(&["check", "--fail-on-inconclusive", lossy.to_str().unwrap()]);
    assert_eq!(code, 1);
}

#[test]
fn corpus_files_have_no_events_of_ours() {
    let Some(corpus) = corpus::etl_dir_or_skip("corpus files") else {
        return;
    };
    let (code, out, err) = wsktrace(&["check", corpus.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let files = out.lines().filter(|l| l.contains(".etl: ")).count();
    assert!(files >= 19, "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.contains(".etl: no events of provider Wsktrace.WskClient"))
            .count(),
        files,
        "{out}"
    );
    let (code, _, _) = wsktrace(&["check", "--require-events", corpus.to_str().unwrap()]);
    assert_eq!(code, 1);
    let (code, out, _) = wsktrace(&["check", "--json", corpus.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let statuses: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert!(statuses.iter().all(|s| *s == FileStatus::NoEvents.as_str()));
}

#[test]
fn latency_boot_and_report_commands() {
    let ready_late = trace("ready-late");
    let (code, out, _) = wsktrace(&["latency", "--json", ready_late.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"][0]["latency"]["all"]["count"], 1);

    let boot_dir = dir().join("boots");
    std::fs::create_dir_all(&boot_dir).unwrap();
    for name in ["boot-driver-entry", "boot-worker"] {
        std::fs::copy(trace(name), boot_dir.join(format!("{name}.etl"))).unwrap();
    }
    let (code, out, _) = wsktrace(&["boot", boot_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\\Driver\\tcpip"), "{out}");
    assert!(out.contains("fleet: 2 trace(s)"), "{out}");

    let page = dir().join("report.html");
    let (code, _, err) = wsktrace(&[
        "report",
        boot_dir.to_str().unwrap(),
        trace("double-release").to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("class=\"timeline\""));
    assert!(html.contains("double-release"));
    assert!(html.contains("id=\"boot-impact\""));
}
