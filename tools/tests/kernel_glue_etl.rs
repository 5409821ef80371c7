//! The driver's kernel glue (`wsktrace_driver::glue`: the exported DriverEntry and the
//! DriverUnload it installs) run on the Linux stand-ins of `wdk-sys` and NETIO
//! (`wsktrace_driver::wdk_standin`), its events written as an ETL file and read back by the
//! tools: DriverEntry → worker capture → listening socket (WskSocket/WskBind through the
//! provider dispatch, IRPs with completion routines) → release → unload; and an unload while
//! the worker still waits for WSK.

#![cfg(not(windows))]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wsktrace_driver::glue::{self, params};
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;
use wsktrace_driver::sim::{SimConfig, SimWsk};
use wsktrace_driver::wdk_standin::host;
use wsktrace_tools::analysis::balance::{BalanceChecker, Verdict};
use wsktrace_tools::analysis::{EventSink, LostEvents, TraceContext, TraceEvent};
use wsktrace_tools::pipeline::{read_file, ReadOptions, TraceError};
use wsktrace_tools::scenario::{self, SimTrace};

#[path = "support/glue_host.rs"]
mod glue_host;

/// The service's `Parameters`: capture on the worker, without a time limit, for WSK 1.0.
const PARAMETERS: [(&str, params::Default); 3] = [
    (params::WAIT_TIMEOUT_MS, params::Default::Dword(0xFFFF_FFFF)),
    (params::WAIT_ON_WORKER, params::Default::Dword(1)),
    (params::NPI_VERSION, params::Default::Dword(0x0100)),
];

fn run_driver(config: SimConfig, between: impl FnOnce(&SimWsk)) -> SimTrace {
    glue_host::run_driver(config, &PARAMETERS, between)
}

/// Collects the events read back and runs the balance check on them.
#[derive(Default)]
struct Collect {
    events: Vec<TraceEvent>,
    balance: BalanceChecker,
    lost: Vec<LostEvents>,
}

impl EventSink for Collect {
    fn begin(&mut self, ctx: &TraceContext) {
        self.balance.begin(ctx);
    }
    fn event(&mut self, ev: &TraceEvent) {
        self.events.push(ev.clone());
        self.balance.event(ev);
    }
    fn lost(&mut self, lost: &LostEvents) {
        self.lost.push(lost.clone());
        self.balance.lost(lost);
    }
    fn finish(&mut self, end_ns: u64) {
        self.balance.finish(end_ns);
    }
}

/// Writes the trace as ETL, reads it back with the tools, and checks it event by event
/// against what the driver recorded; returns the events and the balance verdict.
fn through_etl(trace: &SimTrace, name: &str) -> (Vec<WskEvent>, Verdict) {
    let path: PathBuf =
        std::env::temp_dir().join(format!("wsktrace-{name}-{}.etl", std::process::id()));
    let file = std::fs::File::create(&path).expect("create ETL");
    scenario::write_etl(trace, file, scenario::session_config(name)).expect("write ETL");
    let mut sink = Collect::default();
    let mut errors = Vec::new();
    let outcome = read_file(&path, &mut sink, ReadOptions::default(), &mut |e| {
        errors.push(e.clone())
    })
    .expect("read ETL");
    let _ = std::fs::remove_file(&path);
    assert_eq!(errors, Vec::<TraceError>::new());
    assert_eq!(outcome.undecodable, 0);
    assert!(sink.lost.is_empty());
    let events: Vec<WskEvent> = sink.events.iter().map(|e| e.event.clone()).collect();
    let recorded: Vec<WskEvent> = trace.records.iter().map(|r| r.event.clone()).collect();
    assert_eq!(
        events, recorded,
        "the ETL holds exactly what the driver wrote, in order"
    );
    for (read, written) in sink.events.iter().zip(&trace.records) {
        assert_eq!(read.activity, written.activity_id, "{:?}", read.event);
    }
    let report = sink.balance.into_report();
    assert_eq!(report.findings().count(), 0, "{report:?}");
    (events, report.verdict)
}

fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn driver_entry_worker_capture_socket_release_unload_as_etl() {
    let _serial = host::serial();
    let trace = run_driver(
        SimConfig {
            ready_after: Some(Duration::from_millis(20)),
            ..SimConfig::default()
        },
        |_| {
            wait_for(Duration::from_secs(10), || {
                glue::bring_up_status().is_some()
            });
            assert_eq!(glue::bring_up_status(), Some(NtStatus::SUCCESS));
        },
    );
    let (events, verdict) = through_etl(&trace, "kernel-glue-clean");
    assert_eq!(verdict, Verdict::Ok);
    let functions: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            WskEvent::DispatchCall {
                function, status, ..
            } if status.is_success() => Some(function.as_str()),
            _ => None,
        })
        .collect();
    assert!(functions.contains(&"WskSocket"), "{functions:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::ReleaseProviderNpi {
            implicit: false,
            ..
        }
    )));
    assert!(matches!(
        events.last(),
        Some(WskEvent::DriverUnloadStop { .. })
    ));
}

#[test]
fn unload_while_the_worker_waits_as_etl() {
    let _serial = host::serial();
    let trace = run_driver(
        SimConfig {
            ready_after: None,
            ..SimConfig::default()
        },
        |sim| {
            assert!(sim.wait_until(Duration::from_secs(10), |s| s.waiting == 1));
        },
    );
    let (events, verdict) = through_etl(&trace, "kernel-glue-unload-waiting");
    assert_eq!(verdict, Verdict::Ok);
    assert!(events.iter().any(|e| matches!(
        e,
        WskEvent::CaptureProviderNpiStop {
            status: NtStatus::DEVICE_NOT_READY,
            ..
        }
    )));
    assert!(!events
        .iter()
        .any(|e| matches!(e, WskEvent::ReleaseProviderNpi { .. })));
}
