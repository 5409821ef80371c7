//! Every `wsktrace simulate` scenario, read back from its ETL file and checked event by event:
//! each thread's sequence of events with their ids and statuses, and the waits against the
//! delays the scenario configured.

use wsktrace_driver::schema::{keywords, WskEvent};
use wsktrace_tools::kernel_pnp::DriverInit;
use wsktrace_tools::scenario::*;

use crate::readback::{run, Ev, ReadBack};

const MS: i64 = 1_000_000;
/// How much earlier than configured a delay may end: none (the simulator waits at least as
/// long as configured), but timestamps are rounded to the 100 ns clock ticks.
const EARLY_NS: i64 = MS;
/// How much later: a loaded machine schedules threads late.
const LATE_NS: i64 = 250 * MS;

/// One event as a compact tag: name, ids, status (no timings).
fn tag(e: &WskEvent) -> String {
    use WskEvent::*;
    let st = |s: &wsktrace_driver::ntstatus::NtStatus| {
        s.name()
            .map(|n| n.trim_start_matches("STATUS_").to_owned())
            .unwrap_or_else(|| format!("{:#x}", s.to_u32()))
    };
    match e {
        DriverEntryStart { client_name } => format!("DriverEntryStart({client_name})"),
        DriverEntryStop { status, .. } => format!("DriverEntryStop({})", st(status)),
        WskRegister {
            registration_id,
            npi_version,
            status,
            ..
        } => {
            format!(
                "Register({registration_id},{npi_version:#x},{})",
                st(status)
            )
        }
        CaptureProviderNpiStart {
            registration_id,
            capture_id,
            wait_timeout_ms,
            calling_context,
        } => {
            format!("CaptureStart({registration_id},{capture_id},{wait_timeout_ms:#x},{calling_context})")
        }
        CaptureProviderNpiStop {
            registration_id,
            capture_id,
            status,
            ..
        } => {
            format!("CaptureStop({registration_id},{capture_id},{})", st(status))
        }
        QueryProviderCharacteristics {
            registration_id,
            status,
            lowest_version,
            highest_version,
        } => {
            format!(
                "Query({registration_id},{},{lowest_version:#x},{highest_version:#x})",
                st(status)
            )
        }
        DispatchCall {
            registration_id,
            capture_id,
            function,
            status,
            ..
        } => {
            format!(
                "Dispatch({registration_id},{capture_id},{function},{})",
                st(status)
            )
        }
        ReleaseProviderNpi {
            registration_id,
            capture_id,
            dispatch_calls,
            implicit,
            ..
        } => {
            format!("Release({registration_id},{capture_id},{dispatch_calls},{implicit})")
        }
        WskDeregisterStart {
            registration_id,
            captures_outstanding,
        } => {
            format!("DeregisterStart({registration_id},{captures_outstanding})")
        }
        WskDeregisterStop {
            registration_id, ..
        } => format!("DeregisterStop({registration_id})"),
        DriverUnloadStart {} => "UnloadStart".into(),
        DriverUnloadStop { .. } => "UnloadStop".into(),
        CaptureRefused {
            registration_id,
            status,
            ..
        } => format!("CaptureRefused({registration_id},{})", st(status)),
        SocketCreated {
            registration_id,
            socket_id,
            socket_kind,
            ..
        } => format!("SocketCreated({registration_id},{socket_id},{socket_kind})"),
        SocketBind {
            registration_id,
            socket_id,
            address,
            port,
            status,
            ..
        } => format!(
            "Bind({registration_id},{socket_id},{address}:{port},{})",
            st(status)
        ),
        AcceptStart {
            registration_id,
            socket_id,
        } => format!("AcceptStart({registration_id},{socket_id})"),
        AcceptStop {
            registration_id,
            socket_id,
            status,
            accepted_socket_id,
            remote_address,
            ..
        } => format!(
            "AcceptStop({registration_id},{socket_id},{},{accepted_socket_id},{remote_address})",
            st(status)
        ),
        CloseSocketStart {
            registration_id,
            socket_id,
        } => format!("CloseStart({registration_id},{socket_id})"),
        CloseSocketStop {
            registration_id,
            socket_id,
            status,
            ..
        } => format!("CloseStop({registration_id},{socket_id},{})", st(status)),
    }
}

/// Each thread's lifecycle events (socket events, keyword `SOCKET`, aside: see
/// [`sockets`]) as tags, threads in order of their first event.
fn threads(rb: &ReadBack) -> Vec<Vec<String>> {
    let lifecycle: Vec<&Ev> = rb
        .wsk
        .iter()
        .filter(|e| e.keywords & keywords::SOCKET == 0)
        .collect();
    let mut tids: Vec<u32> = Vec::new();
    for e in &lifecycle {
        if !tids.contains(&e.tid) {
            tids.push(e.tid);
        }
    }
    tids.iter()
        .map(|t| {
            lifecycle
                .iter()
                .filter(|e| e.tid == *t)
                .map(|e| tag(&e.event))
                .collect()
        })
        .collect()
}

/// The socket events as tags, in timestamp order.
fn sockets(rb: &ReadBack) -> Vec<String> {
    rb.wsk
        .iter()
        .filter(|e| e.keywords & keywords::SOCKET != 0)
        .map(|e| tag(&e.event))
        .collect()
}

fn find(rb: &ReadBack, f: impl Fn(&WskEvent) -> bool) -> Vec<&Ev> {
    rb.wsk.iter().filter(|e| f(&e.event)).collect()
}

/// The wait of the (only) capture stop with this capture id, checked against the start/stop
/// timestamps and the start's activity id.
fn capture_wait(rb: &ReadBack, capture: u32) -> i64 {
    let start = find(
        rb,
        |e| matches!(e, WskEvent::CaptureProviderNpiStart { capture_id, .. } if *capture_id == capture),
    );
    let stop = find(
        rb,
        |e| matches!(e, WskEvent::CaptureProviderNpiStop { capture_id, .. } if *capture_id == capture),
    );
    assert_eq!(
        (start.len(), stop.len()),
        (1, 1),
        "capture {capture}: one start, one stop"
    );
    let WskEvent::CaptureProviderNpiStop { wait_ns, .. } = stop[0].event else {
        unreachable!()
    };
    assert_eq!(
        start[0].activity, stop[0].activity,
        "start/stop share the activity id"
    );
    assert_ne!(start[0].activity, [0; 16]);
    let between = stop[0].since_boot_ns - start[0].since_boot_ns;
    assert!(
        (between - wait_ns as i64).abs() < 2 * MS,
        "WaitNs {wait_ns} vs timestamps {between}"
    );
    wait_ns as i64
}

fn assert_about(what: &str, got_ns: i64, configured_ms: u64) {
    let want = configured_ms as i64 * MS;
    assert!(
        got_ns >= want - EARLY_NS && got_ns <= want + LATE_NS,
        "{what}: {:.1} ms, configured {configured_ms} ms",
        got_ns as f64 / 1e6
    );
}

/// Something that ends when a delay configured from the scenario's start has passed (WSK
/// becomes ready, the deregister starts): it ended that long after the scenario started
/// ([`LOAD_AT_NS`] after boot, when the simulator was created), give or take scheduling.
fn assert_ended_at(what: &str, ev: &Ev, configured_ms: u64) {
    assert_about(what, ev.since_boot_ns - LOAD_AT_NS as i64, configured_ms);
}

/// The capture with this id ended `configured_ms` after the scenario started, and its wait
/// (which began a little after the start) is no longer than that.
fn assert_capture_ended_at(rb: &ReadBack, capture: u32, configured_ms: u64) {
    let wait = capture_wait(rb, capture);
    let stop = find(
        rb,
        |e| matches!(e, WskEvent::CaptureProviderNpiStop { capture_id, .. } if *capture_id == capture),
    )[0];
    assert_ended_at("capture", stop, configured_ms);
    assert!(
        wait <= stop.since_boot_ns - LOAD_AT_NS as i64 + MS,
        "wait {wait} ns"
    );
}

/// DriverEntry starts when the scenario starts: LOAD_AT_NS after boot.
fn assert_loaded_at(rb: &ReadBack) {
    let first = rb.wsk.first().expect("events");
    assert!(
        (first.since_boot_ns - LOAD_AT_NS as i64).abs() < 50 * MS,
        "first event {} ns after boot",
        first.since_boot_ns
    );
}

fn v(tags: &[&str]) -> Vec<String> {
    tags.iter().map(|s| s.to_string()).collect()
}

const ENTRY: &str = "DriverEntryStart(wsktrace)";

#[test]
fn clean() {
    let rb = run("clean");
    // The listening socket: created and bound on 127.0.0.1:40123, its accept armed, then
    // cancelled by the close at unload (recorded before the close's Stop).
    assert_eq!(
        sockets(&rb),
        v(&[
            "SocketCreated(1,1,0)",
            "Bind(1,1,127.0.0.1:40123,SUCCESS)",
            "AcceptStart(1,1)",
            "CloseStart(1,1)",
            "AcceptStop(1,1,CANCELLED,0,)",
            "CloseStop(1,1,SUCCESS)",
        ])
    );
    assert_loaded_at(&rb);
    assert_eq!(
        threads(&rb),
        [
            v(&[
                ENTRY,
                "DriverEntryStop(SUCCESS)",
                "UnloadStart",
                "DeregisterStart(1,0)",
                "DeregisterStop(1)",
                "UnloadStop"
            ]),
            v(&[
                "Register(1,0x100,SUCCESS)",
                "CaptureStart(1,1,0xffffffff,1)",
                "CaptureStop(1,1,SUCCESS)",
                "Dispatch(1,1,WskSocket,SUCCESS)",
                "Dispatch(1,1,WskBind,SUCCESS)",
                "Release(1,1,2,false)"
            ]),
        ]
    );
    assert_capture_ended_at(&rb, 1, CLEAN_READY_MS);
    assert_eq!(rb.info.events_lost, 0);
    assert_eq!(rb.buffers_with_lost_events, 0);
}

#[test]
fn never_ready() {
    let rb = run("never-ready");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x50,0)",
            "CaptureStop(1,1,DEVICE_NOT_READY)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "DriverEntryStop(DEVICE_NOT_READY)"
        ])]
    );
    assert_about(
        "timed-out wait",
        capture_wait(&rb, 1),
        u64::from(NEVER_READY_TIMEOUT_MS),
    );
}

#[test]
fn ready_late() {
    let rb = run("ready-late");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x3e8,0)",
            "CaptureStop(1,1,SUCCESS)",
            "Dispatch(1,1,WskSocket,SUCCESS)",
            "Dispatch(1,1,WskBind,SUCCESS)",
            "Release(1,1,2,false)",
            "DriverEntryStop(SUCCESS)",
            "UnloadStart",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "UnloadStop"
        ])]
    );
    assert_capture_ended_at(&rb, 1, READY_LATE_MS);
    // DriverEntry lasted as long as it waited.
    let stop = find(&rb, |e| matches!(e, WskEvent::DriverEntryStop { .. }));
    let WskEvent::DriverEntryStop { duration_ns, .. } = stop[0].event else {
        unreachable!()
    };
    assert_ended_at("DriverEntry", stop[0], READY_LATE_MS);
    assert!(duration_ns as i64 <= stop[0].since_boot_ns - LOAD_AT_NS as i64 + MS);
}

#[test]
fn unsupported_version_is_negotiated() {
    let rb = run("unsupported-version");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x200,SUCCESS)",
            "CaptureStart(1,1,0x1f4,0)",
            "CaptureStop(1,1,NOINTERFACE)",
            "Query(1,SUCCESS,0x100,0x100)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "Register(2,0x100,SUCCESS)",
            "CaptureStart(2,2,0x1f4,0)",
            "CaptureStop(2,2,SUCCESS)",
            "Dispatch(2,2,WskSocket,SUCCESS)",
            "Dispatch(2,2,WskBind,SUCCESS)",
            "Release(2,2,2,false)",
            "DriverEntryStop(SUCCESS)",
            "UnloadStart",
            "DeregisterStart(2,0)",
            "DeregisterStop(2)",
            "UnloadStop"
        ])]
    );
    assert_eq!(UNSUPPORTED_VERSION, 0x200);
    assert_eq!(SUPPORTED_VERSION, 0x100);
}

#[test]
fn deregister_cancels_a_pending_capture() {
    let rb = run("deregister-during-capture");
    assert_eq!(
        threads(&rb),
        [
            v(&[
                "Register(1,0x100,SUCCESS)",
                "DeregisterStart(1,0)",
                "DeregisterStop(1)"
            ]),
            v(&[
                "CaptureStart(1,1,0xffffffff,2)",
                "CaptureStop(1,1,DEVICE_NOT_READY)"
            ]),
        ]
    );
    assert_capture_ended_at(&rb, 1, CANCEL_AFTER_MS);
    // The cancel came that long after the capture began waiting.
    assert_about("cancelled wait", capture_wait(&rb, 1), CANCEL_AFTER_MS);
    // The deregister began during the wait. (Its stop event and the capture's may be logged
    // in either order: the capture returns inside WSK before the deregister does, but each
    // thread logs after its call returned.)
    let at = |f: fn(&WskEvent) -> bool| find(&rb, f)[0].since_boot_ns;
    let dereg_start = at(|e| matches!(e, WskEvent::WskDeregisterStart { .. }));
    let capture_stop = at(|e| matches!(e, WskEvent::CaptureProviderNpiStop { .. }));
    assert!(dereg_start <= capture_stop);
}

#[test]
fn unload_during_a_wait() {
    let rb = run("unload-during-wait");
    assert_eq!(
        threads(&rb),
        [
            v(&[
                ENTRY,
                "DriverEntryStop(SUCCESS)",
                "UnloadStart",
                "DeregisterStart(1,0)",
                "DeregisterStop(1)",
                "UnloadStop"
            ]),
            v(&[
                "Register(1,0x100,SUCCESS)",
                "CaptureStart(1,1,0xffffffff,1)",
                "CaptureStop(1,1,DEVICE_NOT_READY)"
            ]),
        ]
    );
    assert_capture_ended_at(&rb, 1, CANCEL_AFTER_MS);
    // The cancel came that long after the capture began waiting.
    assert_about("cancelled wait", capture_wait(&rb, 1), CANCEL_AFTER_MS);
}

#[test]
fn concurrent_captures_each_released_once() {
    let rb = run("concurrent-captures");
    let t = threads(&rb);
    assert_eq!(
        t[0],
        v(&[
            "Register(1,0x100,SUCCESS)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)"
        ])
    );
    assert_eq!(t.len(), 1 + CONCURRENT_CAPTURES as usize);
    let mut ids: Vec<u32> = Vec::new();
    for worker in &t[1..] {
        // CaptureStart(1,N,0x64,2), CaptureStop(1,N,SUCCESS), Release(1,N,0,false)
        let id: u32 = worker[0].split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(
            worker,
            &v(&[
                &format!("CaptureStart(1,{id},0x64,2)"),
                &format!("CaptureStop(1,{id},SUCCESS)"),
                &format!("Release(1,{id},0,false)"),
            ])
        );
        ids.push(id);
    }
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    // At some instant, all of them were held.
    let mut held = 0;
    let mut most = 0;
    for e in &rb.wsk {
        match e.event {
            WskEvent::CaptureProviderNpiStop { .. } => held += 1,
            WskEvent::ReleaseProviderNpi { .. } => held -= 1,
            _ => {}
        }
        most = most.max(held);
    }
    assert_eq!(most, CONCURRENT_CAPTURES, "captures held at once");
}

#[test]
fn leaked_capture() {
    let rb = run("leaked-capture");
    assert_eq!(
        threads(&rb),
        [v(&[
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x0,2)",
            "CaptureStop(1,1,SUCCESS)",
            "DeregisterStart(1,1)",
            "DeregisterStop(1)"
        ])]
    );
    let stop = find(&rb, |e| matches!(e, WskEvent::WskDeregisterStop { .. }));
    let WskEvent::WskDeregisterStop { wait_ns, .. } = stop[0].event else {
        unreachable!()
    };
    assert_about(
        "deregister blocked by the leak",
        wait_ns as i64,
        WATCHDOG_MS,
    );
}

#[test]
fn double_release() {
    let rb = run("double-release");
    assert_eq!(
        threads(&rb),
        [v(&[
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x0,2)",
            "CaptureStop(1,1,SUCCESS)",
            "Release(1,1,0,false)",
            "Release(1,1,0,false)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)"
        ])]
    );
}

#[test]
fn dispatch_after_release() {
    let rb = run("dispatch-after-release");
    let t = threads(&rb);
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0][..4],
        v(&[
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x0,2)",
            "CaptureStop(1,1,SUCCESS)",
            "Release(1,1,0,false)"
        ])
    );
    assert!(
        t[0][4].starts_with("Dispatch(1,1,WskSocket,"),
        "{}",
        t[0][4]
    );
    assert_eq!(t[0][5..], v(&["DeregisterStart(1,0)", "DeregisterStop(1)"]));
}

#[test]
fn dropped_events_are_marked_lost() {
    let rb = run("dropped-events");
    assert_eq!(
        rb.info.events_lost, DROPPED_EVENTS,
        "logfile header EventsLost"
    );
    assert_eq!(
        rb.buffers_with_lost_events, 1,
        "one buffer flagged EVENTS_LOST"
    );
    // Unload's first two events (UnloadStart, the listening socket's CloseStart) are
    // missing.
    assert_eq!(
        threads(&rb)[0],
        v(&[
            ENTRY,
            "DriverEntryStop(SUCCESS)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "UnloadStop"
        ])
    );
    assert!(!sockets(&rb).iter().any(|t| t.starts_with("CloseStart")));
}

/// The boot scenarios: every driver's DriverInit pair, one after another on one thread, ours
/// included and bracketing our DriverEntry.
fn check_boot(rb: &ReadBack) -> i64 {
    assert_loaded_at(rb);
    let names: Vec<String> = rb
        .pnp
        .iter()
        .map(|p| {
            format!(
                "{}{}",
                match p.event {
                    DriverInit::Start { .. } => "+",
                    DriverInit::Stop { .. } => "-",
                },
                p.event.driver()
            )
        })
        .collect();
    let mut want = Vec::new();
    let ours = format!("\\Driver\\{CLIENT_NAME}");
    for (d, _) in BOOT_DRIVERS_BEFORE
        .iter()
        .chain([(ours.as_str(), 0)].iter())
        .chain(BOOT_DRIVERS_AFTER)
    {
        want.push(format!("+{d}"));
        want.push(format!("-{d}"));
    }
    assert_eq!(names, want);
    let entry = find(rb, |e| matches!(e, WskEvent::DriverEntryStart { .. }))[0];
    assert!(
        rb.pnp.iter().all(|p| p.tid == entry.tid),
        "PnP runs every DriverEntry on one thread"
    );
    // Configured durations of the other drivers.
    for (i, (_, ms)) in BOOT_DRIVERS_BEFORE
        .iter()
        .chain(BOOT_DRIVERS_AFTER)
        .enumerate()
    {
        let k = if i < BOOT_DRIVERS_BEFORE.len() {
            2 * i
        } else {
            2 * i + 2
        };
        let d = rb.pnp[k + 1].since_boot_ns - rb.pnp[k].since_boot_ns;
        assert!(
            (d - *ms as i64 * MS).abs() <= 100,
            "driver {i} lasted {d} ns, configured {ms} ms"
        );
    }
    let our_start = rb.pnp[2 * BOOT_DRIVERS_BEFORE.len()].since_boot_ns;
    let our_stop = rb.pnp[2 * BOOT_DRIVERS_BEFORE.len() + 1].since_boot_ns;
    assert!(our_start < entry.since_boot_ns);
    let DriverInit::Stop { status, .. } = rb.pnp[2 * BOOT_DRIVERS_BEFORE.len() + 1].event else {
        unreachable!()
    };
    assert_eq!(status, 0);
    // Gap between the last driver before ours and the first after it: our DriverEntry.
    let before_end = rb.pnp[2 * BOOT_DRIVERS_BEFORE.len() - 1].since_boot_ns;
    let after_start = rb.pnp[2 * BOOT_DRIVERS_BEFORE.len() + 2].since_boot_ns;
    assert!(before_end < our_start && our_stop < after_start);
    after_start - before_end
}

#[test]
fn boot_waiting_on_the_driver_entry_thread_delays_later_drivers() {
    let rb = run("boot-driver-entry");
    let gap = check_boot(&rb);
    assert_capture_ended_at(&rb, 1, BOOT_READY_MS);
    assert_about("later drivers delayed by", gap, BOOT_READY_MS);
    let start = find(&rb, |e| {
        matches!(e, WskEvent::CaptureProviderNpiStart { .. })
    })[0];
    let WskEvent::CaptureProviderNpiStart {
        calling_context,
        wait_timeout_ms,
        ..
    } = start.event
    else {
        unreachable!()
    };
    assert_eq!((calling_context, wait_timeout_ms), (0, BOOT_TIMEOUT_MS));
}

#[test]
fn boot_waiting_on_a_worker_delays_nothing() {
    let rb = run("boot-worker");
    let gap = check_boot(&rb);
    assert_capture_ended_at(&rb, 1, BOOT_READY_MS);
    assert!(
        gap < 60 * MS,
        "later drivers start at once ({} ms)",
        gap / MS
    );
    let start = find(&rb, |e| {
        matches!(e, WskEvent::CaptureProviderNpiStart { .. })
    })[0];
    let WskEvent::CaptureProviderNpiStart {
        calling_context, ..
    } = start.event
    else {
        unreachable!()
    };
    assert_eq!(calling_context, 1);
    // The worker was still waiting when the drivers after ours started.
    let stop = find(&rb, |e| {
        matches!(e, WskEvent::CaptureProviderNpiStop { .. })
    })[0];
    assert!(stop.since_boot_ns > rb.pnp[2 * BOOT_DRIVERS_BEFORE.len() + 2].since_boot_ns);
}

#[test]
fn register_failure_fails_driver_entry() {
    let rb = run("register-fails");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x100,INSUFFICIENT_RESOURCES)",
            "DriverEntryStop(INSUFFICIENT_RESOURCES)"
        ])]
    );
    assert_eq!(FAULT_STATUS.name(), Some("STATUS_INSUFFICIENT_RESOURCES"));
}

#[test]
fn socket_failure_releases_and_deregisters() {
    let rb = run("socket-fails");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x1f4,0)",
            "CaptureStop(1,1,SUCCESS)",
            "Dispatch(1,1,WskSocket,INSUFFICIENT_RESOURCES)",
            "Release(1,1,1,false)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "DriverEntryStop(INSUFFICIENT_RESOURCES)"
        ])]
    );
}

#[test]
fn bind_failure_releases_and_deregisters() {
    let rb = run("bind-fails");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0x1f4,0)",
            "CaptureStop(1,1,SUCCESS)",
            "Dispatch(1,1,WskSocket,SUCCESS)",
            "Dispatch(1,1,WskBind,INSUFFICIENT_RESOURCES)",
            "Release(1,1,2,false)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "DriverEntryStop(INSUFFICIENT_RESOURCES)"
        ])]
    );
}

#[test]
fn lying_characteristics_end_the_negotiation() {
    let rb = run("characteristics-lie");
    assert_eq!(
        threads(&rb),
        [v(&[
            ENTRY,
            "Register(1,0x200,SUCCESS)",
            "CaptureStart(1,1,0x1f4,0)",
            "CaptureStop(1,1,NOINTERFACE)",
            "Query(1,SUCCESS,0x200,0x200)",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "DriverEntryStop(NOINTERFACE)"
        ])]
    );
}

#[test]
fn slow_dispatch_calls_are_timed() {
    let rb = run("slow-dispatch");
    let calls = find(&rb, |e| matches!(e, WskEvent::DispatchCall { .. }));
    assert_eq!(calls.len(), 2);
    for c in &calls {
        let WskEvent::DispatchCall { duration_ns, .. } = c.event else {
            unreachable!()
        };
        assert_about("dispatch call", duration_ns as i64, DISPATCH_DELAY_MS);
    }
    let release = find(&rb, |e| matches!(e, WskEvent::ReleaseProviderNpi { .. }));
    let WskEvent::ReleaseProviderNpi { held_ns, .. } = release[0].event else {
        unreachable!()
    };
    assert_about(
        "held across both calls",
        held_ns as i64,
        2 * DISPATCH_DELAY_MS,
    );
}

/// Every event's tag, in timestamp order.
fn timeline(rb: &ReadBack) -> Vec<String> {
    rb.wsk.iter().map(|e| tag(&e.event)).collect()
}

/// Where `tag` is in the timeline (the only one).
fn at(timeline: &[String], tag: &str) -> usize {
    let found: Vec<usize> = (0..timeline.len())
        .filter(|&i| timeline[i] == tag)
        .collect();
    assert_eq!(found.len(), 1, "one {tag} in {timeline:?}");
    found[0]
}

/// The lifecycle of the clean scenarios on a subsystem ready at once (worker, no limit).
fn accepting_threads() -> [Vec<String>; 2] {
    [
        v(&[
            ENTRY,
            "DriverEntryStop(SUCCESS)",
            "UnloadStart",
            "DeregisterStart(1,0)",
            "DeregisterStop(1)",
            "UnloadStop",
        ]),
        v(&[
            "Register(1,0x100,SUCCESS)",
            "CaptureStart(1,1,0xffffffff,1)",
            "CaptureStop(1,1,SUCCESS)",
            "Dispatch(1,1,WskSocket,SUCCESS)",
            "Dispatch(1,1,WskBind,SUCCESS)",
            "Release(1,1,2,false)",
        ]),
    ]
}

#[test]
fn a_connection_is_accepted_traced_and_closed() {
    let rb = run("accept-connection");
    assert_eq!(threads(&rb), accepting_threads());
    assert_eq!(
        sockets(&rb),
        v(&[
            "SocketCreated(1,1,0)",
            "Bind(1,1,127.0.0.1:40123,SUCCESS)",
            "AcceptStart(1,1)",
            "AcceptStop(1,1,SUCCESS,2,127.0.0.1)",
            "SocketCreated(1,2,1)",
            "CloseStart(1,2)",
            "CloseStop(1,2,SUCCESS)",
            "AcceptStart(1,1)",
            "CloseStart(1,1)",
            "AcceptStop(1,1,CANCELLED,0,)",
            "CloseStop(1,1,SUCCESS)",
        ])
    );
    let accepted = find(&rb, |e| {
        matches!(
            e,
            WskEvent::AcceptStop {
                accepted_socket_id: 2,
                ..
            }
        )
    });
    let WskEvent::AcceptStop { remote_port, .. } = accepted[0].event else {
        unreachable!()
    };
    assert_eq!(
        format!("127.0.0.1:{remote_port}"),
        REMOTE_ADDRESS,
        "the client's address and port"
    );
    // Accept and close pairs share their activity ids, as WPA's regions need.
    let pairs = find(&rb, |e| {
        matches!(
            e,
            WskEvent::CloseSocketStart { socket_id: 2, .. }
                | WskEvent::CloseSocketStop { socket_id: 2, .. }
        )
    });
    assert_eq!(pairs[0].activity, pairs[1].activity);
    assert_ne!(pairs[0].activity, [0; 16]);
}

#[test]
fn unload_cancels_a_pending_accept() {
    let rb = run("unload-pending-accept");
    assert_eq!(threads(&rb), accepting_threads());
    assert_eq!(
        sockets(&rb),
        v(&[
            "SocketCreated(1,1,0)",
            "Bind(1,1,127.0.0.1:40123,SUCCESS)",
            "AcceptStart(1,1)",
            "CloseStart(1,1)",
            "AcceptStop(1,1,CANCELLED,0,)",
            "CloseStop(1,1,SUCCESS)",
        ])
    );
    let t = timeline(&rb);
    assert!(at(&t, "CloseStop(1,1,SUCCESS)") < at(&t, "DeregisterStart(1,0)"));
    let cancelled = find(&rb, |e| matches!(e, WskEvent::AcceptStop { .. }));
    let WskEvent::AcceptStop { wait_ns, .. } = cancelled[0].event else {
        unreachable!()
    };
    assert_about(
        "the cancelled accept's wait",
        wait_ns as i64,
        ACCEPT_PENDING_MS,
    );
}

#[test]
fn unload_waits_for_an_open_connection() {
    let rb = run("unload-open-connection");
    assert_eq!(threads(&rb), accepting_threads());
    let t = timeline(&rb);
    let mut socket_events = sockets(&rb);
    socket_events.sort();
    let mut want = v(&[
        "SocketCreated(1,1,0)",
        "Bind(1,1,127.0.0.1:40123,SUCCESS)",
        "AcceptStart(1,1)",
        "AcceptStop(1,1,SUCCESS,2,127.0.0.1)",
        "SocketCreated(1,2,1)",
        "CloseStart(1,2)",
        "CloseStop(1,2,SUCCESS)",
        "CloseStart(1,1)",
        "CloseStop(1,1,SUCCESS)",
    ]);
    want.sort();
    assert_eq!(socket_events, want);
    // Unload began while the connection was open; it deregistered only after both closes.
    let dereg = at(&t, "DeregisterStart(1,0)");
    assert!(
        at(&t, "UnloadStart") < at(&t, "CloseStop(1,2,SUCCESS)"),
        "{t:?}"
    );
    assert!(at(&t, "CloseStop(1,2,SUCCESS)") < dereg, "{t:?}");
    assert!(at(&t, "CloseStop(1,1,SUCCESS)") < dereg, "{t:?}");
    let close = find(&rb, |e| {
        matches!(e, WskEvent::CloseSocketStop { socket_id: 2, .. })
    });
    let WskEvent::CloseSocketStop { duration_ns, .. } = close[0].event else {
        unreachable!()
    };
    assert_about("the connection's close", duration_ns as i64, CLOSE_DELAY_MS);
}

/// The broken socket clients' lifecycle thread: register, capture, socket and bind, release,
/// deregister.
fn broken_socket_thread() -> Vec<String> {
    v(&[
        "Register(1,0x100,SUCCESS)",
        "CaptureStart(1,1,0x0,2)",
        "CaptureStop(1,1,SUCCESS)",
        "Dispatch(1,1,WskSocket,SUCCESS)",
        "Dispatch(1,1,WskBind,SUCCESS)",
        "Release(1,1,2,false)",
        "DeregisterStart(1,0)",
        "DeregisterStop(1)",
    ])
}

#[test]
fn socket_open_at_deregister() {
    let rb = run("socket-open-at-deregister");
    assert_eq!(threads(&rb), [broken_socket_thread()]);
    let t = timeline(&rb);
    let (dereg, close) = (at(&t, "DeregisterStart(1,0)"), at(&t, "CloseStart(1,1)"));
    assert!(
        dereg < close && close < at(&t, "DeregisterStop(1)"),
        "{t:?}"
    );
    let stop = find(&rb, |e| matches!(e, WskEvent::WskDeregisterStop { .. }));
    let WskEvent::WskDeregisterStop { wait_ns, .. } = stop[0].event else {
        unreachable!()
    };
    assert_about(
        "deregister waiting for the close",
        wait_ns as i64,
        LATE_CLOSE_MS,
    );
}

#[test]
fn socket_call_after_close() {
    let rb = run("socket-call-after-close");
    assert_eq!(threads(&rb), [broken_socket_thread()]);
    assert_eq!(
        sockets(&rb),
        v(&[
            "SocketCreated(1,1,0)",
            "Bind(1,1,127.0.0.1:40123,SUCCESS)",
            "CloseStart(1,1)",
            "CloseStop(1,1,SUCCESS)",
            "Bind(1,1,127.0.0.1:40123,INVALID_DEVICE_STATE)",
        ])
    );
}

#[test]
fn accept_after_close() {
    let rb = run("accept-after-close");
    assert_eq!(threads(&rb), [broken_socket_thread()]);
    assert_eq!(
        sockets(&rb),
        v(&[
            "SocketCreated(1,1,0)",
            "Bind(1,1,127.0.0.1:40123,SUCCESS)",
            "AcceptStart(1,1)",
            "CloseStart(1,1)",
            "CloseStop(1,1,SUCCESS)",
            "AcceptStop(1,1,CANCELLED,0,)",
        ])
    );
}

#[test]
fn every_scenario_has_a_test() {
    let tested = [
        "clean",
        "never-ready",
        "ready-late",
        "unsupported-version",
        "deregister-during-capture",
        "unload-during-wait",
        "concurrent-captures",
        "leaked-capture",
        "double-release",
        "dispatch-after-release",
        "dropped-events",
        "register-fails",
        "socket-fails",
        "bind-fails",
        "characteristics-lie",
        "slow-dispatch",
        "accept-connection",
        "unload-pending-accept",
        "unload-open-connection",
        "socket-open-at-deregister",
        "socket-call-after-close",
        "accept-after-close",
        "boot-driver-entry",
        "boot-worker",
    ];
    let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    assert_eq!(names, tested);
}
