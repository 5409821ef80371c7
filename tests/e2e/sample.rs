//! The sample trace bundled for the README's main command, `tests/data/boot-worker.etl`,
//! written by `wsktrace simulate --scenario boot-worker --buffer-kib 4 -o ...` before the
//! socket events existed, and kept as it is (an old trace must still read): it must read
//! cleanly, and regenerating it must give an equivalent file — the same events of the schema
//! it was written with (today's driver adds its socket events, keyword `SOCKET`, which are
//! set aside here) with the same ids and statuses on the same threads, the same Kernel-PnP
//! sequence, the same header facts, and waits within tolerance of each other (the
//! simulation runs on real threads, so timings differ by a few microseconds from run to
//! run).

use std::io::Cursor;
use std::path::PathBuf;

use wsktrace_driver::schema::{keywords, WskEvent};
use wsktrace_tools::etl::write::SessionConfig;
use wsktrace_tools::scenario;

use crate::readback::{read_back, Ev};

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/boot-worker.etl")
}

/// The event without its timings (durations, waits, held times).
fn untimed(e: &Ev) -> (u32, u16, WskEvent) {
    use WskEvent::*;
    let ev = match e.event.clone() {
        DriverEntryStop {
            client_name,
            status,
            ..
        } => DriverEntryStop {
            client_name,
            status,
            duration_ns: 0,
        },
        WskRegister {
            registration_id,
            npi_version,
            status,
            ..
        } => WskRegister {
            registration_id,
            npi_version,
            status,
            duration_ns: 0,
        },
        CaptureProviderNpiStop {
            registration_id,
            capture_id,
            status,
            ..
        } => CaptureProviderNpiStop {
            registration_id,
            capture_id,
            status,
            wait_ns: 0,
        },
        DispatchCall {
            registration_id,
            capture_id,
            function,
            status,
            ..
        } => DispatchCall {
            registration_id,
            capture_id,
            function,
            status,
            duration_ns: 0,
        },
        ReleaseProviderNpi {
            registration_id,
            capture_id,
            dispatch_calls,
            implicit,
            ..
        } => ReleaseProviderNpi {
            registration_id,
            capture_id,
            held_ns: 0,
            dispatch_calls,
            implicit,
        },
        WskDeregisterStop {
            registration_id, ..
        } => WskDeregisterStop {
            registration_id,
            wait_ns: 0,
        },
        DriverUnloadStop { .. } => DriverUnloadStop { duration_ns: 0 },
        other => other,
    };
    (e.tid, e.cpu, ev)
}

fn capture_wait(events: &[Ev]) -> i64 {
    events
        .iter()
        .find_map(|e| match e.event {
            WskEvent::CaptureProviderNpiStop { wait_ns, .. } => Some(wait_ns as i64),
            _ => None,
        })
        .expect("a capture")
}

#[test]
fn sample_trace_regenerates_equivalently() {
    let committed = std::fs::read(sample_path()).expect("tests/data/boot-worker.etl");
    assert!(committed.len() <= 32 * 1024, "the sample stays small");
    let old = read_back(&committed);
    let config = SessionConfig {
        buffer_size: 4096,
        ..scenario::session_config("boot-worker")
    };
    let trace = scenario::find("boot-worker").unwrap().run();
    let (out, _) = scenario::write_etl(&trace, Cursor::new(Vec::new()), config).unwrap();
    let mut new = read_back(out.get_ref());
    let socket_events = new
        .wsk
        .iter()
        .filter(|e| e.keywords & keywords::SOCKET != 0)
        .count();
    assert!(
        socket_events > 0,
        "today's driver records its listening socket"
    );
    assert!(old.wsk.iter().all(|e| e.keywords & keywords::SOCKET == 0));
    new.wsk.retain(|e| e.keywords & keywords::SOCKET == 0);
    new.records -= socket_events;
    let facts = |r: &crate::readback::ReadBack| {
        let i = &r.info;
        (
            i.buffer_size,
            i.number_of_processors,
            i.pointer_size,
            i.logger_name.clone(),
            i.boot_time,
            i.perf_freq,
            i.start_time,
        )
    };
    assert_eq!(facts(&old), facts(&new));
    // Same events on the same threads and processors (sorted: threads interleave freely).
    let mut a: Vec<_> = old.wsk.iter().map(untimed).collect();
    let mut b: Vec<_> = new.wsk.iter().map(untimed).collect();
    let key = |x: &(u32, u16, WskEvent)| format!("{x:?}");
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b);
    let drivers =
        |r: &crate::readback::ReadBack| r.pnp.iter().map(|p| p.event.clone()).collect::<Vec<_>>();
    assert_eq!(drivers(&old), drivers(&new));
    let (wa, wb) = (capture_wait(&old.wsk), capture_wait(&new.wsk));
    assert!(
        (wa - wb).abs() < 100_000_000,
        "capture waits {wa} and {wb} ns"
    );
    assert_eq!(old.records, new.records);
}
