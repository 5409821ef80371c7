//! The `wsktrace simulate` scenarios: the driver's real lifecycle core
//! ([`wsktrace_driver::lifecycle`]) run on the simulated WSK subsystem
//! ([`wsktrace_driver::sim`]) with real threads, its events taken by the host recorder and
//! written as an ETL file ([`crate::wsk_etl`]).
//!
//! Every rule and fault knob of the simulator has a scenario; two boot scenarios add the
//! Microsoft-Windows-Kernel-PnP `DriverInit` events (226/227) of other drivers that
//! initialize one after another around ours, as a boot trace holds them. The delays and
//! timeouts each scenario configures are public constants, so tests can check the waits the
//! trace reports against them.
//!
//! Time: the recorder's clock starts when a scenario starts; in the trace that instant is
//! [`LOAD_AT_NS`] after boot, and the session started [`SessionConfig::start_qpc`] ticks after
//! boot (5 s by default). Thread ids are renumbered in order of first appearance as
//! Windows-like system thread ids ([`FIRST_TID`], step 4) in process 4 (System), and each
//! thread logs on one processor (round robin), so a run's trace does not depend on the host's
//! thread numbering.

use std::io::Write;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use wsktrace_driver::lifecycle::{
    make_wsk_version, CallingContext, CapturedNpi, Clock, Driver, ListenParams, ListenSocket,
    Policy, ProviderCharacteristics, SharedRegistration, WaitOn, WaitTimeout,
};
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;
use wsktrace_driver::sim::{
    HostClock, Record, Recorder, SimConfig, SimHarness, SimWsk, StdSpawner,
};

use crate::etl::write::{Discard, SessionConfig, WriteSummary};
use crate::kernel_pnp::DriverInit;
use crate::wsk_etl::{Context, WskEtlError, WskEtlWriter};

/// Nanoseconds after boot at which a scenario starts (the driver is loaded).
pub const LOAD_AT_NS: u64 = 6_000_000_000;
/// Thread id of the first thread seen in a scenario; the next ones follow in steps of 4.
pub const FIRST_TID: u32 = 0x68;
/// Process id of every event: System, where drivers run.
pub const SYSTEM_PID: u32 = 4;
/// Our driver's service name (`ClientName`) and, as `\Driver\wsktrace`, its object name in the
/// Kernel-PnP events.
pub const CLIENT_NAME: &str = "wsktrace";

/// `clean`: WSK becomes ready after this delay; the worker waits for it.
pub const CLEAN_READY_MS: u64 = 30;
/// `never-ready`: the DriverEntry thread's capture timeout.
pub const NEVER_READY_TIMEOUT_MS: u32 = 80;
/// `ready-late`: WSK becomes ready after this delay ...
pub const READY_LATE_MS: u64 = 120;
/// ... while the DriverEntry thread waits at most this long.
pub const READY_LATE_TIMEOUT_MS: u32 = 1_000;
/// `unsupported-version`: the version the driver asks for first (WSK 2.0) ...
pub const UNSUPPORTED_VERSION: u16 = make_wsk_version(2, 0);
/// ... and the only one the subsystem supports (WSK 1.0).
pub const SUPPORTED_VERSION: u16 = make_wsk_version(1, 0);
/// `deregister-during-capture` and `unload-during-wait`: the deregister (or unload) starts
/// this long after the capture began waiting (in the simulator).
pub const CANCEL_AFTER_MS: u64 = 60;
/// Fault scenarios: a deregister still blocked after this long (a leaked capture) returns.
pub const WATCHDOG_MS: u64 = 100;
/// `dropped-events`: events the recorder drops (the first two of unload).
pub const DROPPED_EVENTS: u32 = 2;
/// `concurrent-captures`: captures held at the same time on one registration.
pub const CONCURRENT_CAPTURES: u32 = 3;
/// `register-fails`, `socket-fails`, `bind-fails`: what the failing call returns.
pub const FAULT_STATUS: NtStatus = NtStatus::INSUFFICIENT_RESOURCES;
/// `slow-dispatch`: how long each provider dispatch call takes.
pub const DISPATCH_DELAY_MS: u64 = 20;
/// Accept scenarios: where the TCP client connects from.
pub const REMOTE_ADDRESS: &str = "127.0.0.1:50001";
/// `unload-pending-accept`: how long the accept has been pending when unload begins.
pub const ACCEPT_PENDING_MS: u64 = 50;
/// `unload-open-connection`: how long closing a socket takes (a graceful disconnect), so
/// the accepted connection is still open when unload begins.
pub const CLOSE_DELAY_MS: u64 = 60;
/// `socket-open-at-deregister`: how long after `WskDeregister` began the socket is closed.
pub const LATE_CLOSE_MS: u64 = 40;
/// Boot scenarios: WSK becomes ready this long after our driver is loaded.
pub const BOOT_READY_MS: u64 = 150;
/// Boot scenarios: the DriverEntry thread's capture timeout (`boot-driver-entry`).
pub const BOOT_TIMEOUT_MS: u32 = 1_000;
/// Boot scenarios: drivers initialized before ours, with their `DriverEntry` durations (ms).
pub const BOOT_DRIVERS_BEFORE: &[(&str, u64)] = &[
    ("\\Driver\\ACPI", 12),
    ("\\Driver\\pci", 8),
    ("\\Driver\\storahci", 15),
];
/// Boot scenarios: drivers initialized after ours, with their durations (ms).
pub const BOOT_DRIVERS_AFTER: &[(&str, u64)] = &[
    ("\\Driver\\tcpip", 20),
    ("\\Driver\\afd", 6),
    ("\\Driver\\NetBT", 4),
];
/// Boot scenarios: the gap between one driver's end and the next one's start (µs).
pub const BOOT_GAP_US: u64 = 200;

/// What a scenario produced.
#[derive(Clone, Debug, Default)]
pub struct SimTrace {
    /// The recorder's events, in order, timestamps on the recorder's clock.
    pub records: Vec<Record>,
    /// Events the recorder dropped.
    pub lost_events: u32,
    /// Kernel-PnP events, timestamps on the recorder's clock (negative: before our driver was
    /// loaded), thread ids in the recorder's numbering.
    pub pnp: Vec<PnpEvent>,
    /// End of the session on the recorder's clock.
    pub end_ns: u64,
}

/// A Kernel-PnP event of a simulated boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PnpEvent {
    /// Time on the recorder's clock (may be before its epoch).
    pub at_ns: i64,
    /// Thread (recorder numbering): the thread that ran the driver's `DriverEntry`.
    pub thread_id: u32,
    /// The event.
    pub event: DriverInit,
}

/// One scenario.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// Name for `--scenario`.
    pub name: &'static str,
    /// What it shows.
    pub summary: &'static str,
    run: fn() -> SimTrace,
}

impl Scenario {
    /// Runs it (real threads: takes about as long as its configured delays).
    pub fn run(&self) -> SimTrace {
        (self.run)()
    }
}

/// Every scenario, in `--list` order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "clean",
        summary: "worker waits for WSK (ready after 30 ms), creates a listening socket, releases, unload deregisters",
        run: clean,
    },
    Scenario {
        name: "never-ready",
        summary: "WSK never ready: the DriverEntry thread's 80 ms capture fails with STATUS_DEVICE_NOT_READY, DriverEntry fails",
        run: never_ready,
    },
    Scenario {
        name: "ready-late",
        summary: "WSK ready after 120 ms while the DriverEntry thread waits (timeout 1000 ms)",
        run: ready_late,
    },
    Scenario {
        name: "unsupported-version",
        summary: "WSK 2.0 requested, only 1.0 supported: STATUS_NOINTERFACE, query, deregister, register 1.0, capture",
        run: unsupported_version,
    },
    Scenario {
        name: "deregister-during-capture",
        summary: "a deregister on another thread cancels a pending infinite capture after 60 ms",
        run: deregister_during_capture,
    },
    Scenario {
        name: "unload-during-wait",
        summary: "driver unloaded 60 ms into the worker's infinite wait (WSK never ready)",
        run: unload_during_wait,
    },
    Scenario {
        name: "concurrent-captures",
        summary: "three captures held at once on one registration, each released exactly once",
        run: concurrent_captures,
    },
    Scenario {
        name: "leaked-capture",
        summary: "BROKEN CLIENT: a capture never released; deregister blocks until the 100 ms watchdog",
        run: leaked_capture,
    },
    Scenario {
        name: "double-release",
        summary: "BROKEN CLIENT: one capture released twice",
        run: double_release,
    },
    Scenario {
        name: "dispatch-after-release",
        summary: "BROKEN CLIENT: WskSocket called through the provider dispatch after the release",
        run: dispatch_after_release,
    },
    Scenario {
        name: "dropped-events",
        summary: "clean run whose recorder drops 2 events (unload's first two): lost events in the trace",
        run: dropped_events,
    },
    Scenario {
        name: "register-fails",
        summary: "WskRegister fails (STATUS_INSUFFICIENT_RESOURCES): DriverEntry fails with it, nothing to undo",
        run: register_fails,
    },
    Scenario {
        name: "socket-fails",
        summary: "WskSocket fails through the provider dispatch: release, deregister, DriverEntry fails",
        run: socket_fails,
    },
    Scenario {
        name: "bind-fails",
        summary: "WskBind fails: the socket is closed, release, deregister, DriverEntry fails",
        run: bind_fails,
    },
    Scenario {
        name: "characteristics-lie",
        summary: "WSK 2.0 requested, 1.0 accepted but 2.0 reported: negotiation ends (STATUS_NOINTERFACE), no endless loop",
        run: characteristics_lie,
    },
    Scenario {
        name: "slow-dispatch",
        summary: "clean run whose provider dispatch calls take 20 ms each",
        run: slow_dispatch,
    },
    Scenario {
        name: "accept-connection",
        summary: "a TCP client connects to 127.0.0.1:40123: accepted, traced and closed; unload cancels the next accept",
        run: accept_connection,
    },
    Scenario {
        name: "unload-pending-accept",
        summary: "unload 50 ms into an accept's wait: the close cancels it, then deregister",
        run: unload_pending_accept,
    },
    Scenario {
        name: "unload-open-connection",
        summary: "unload while an accepted connection is still open (its close takes 60 ms): unload waits for it before deregistering",
        run: unload_open_connection,
    },
    Scenario {
        name: "socket-open-at-deregister",
        summary: "BROKEN CLIENT: deregister begins with the listening socket open; another thread closes it 40 ms later",
        run: socket_open_at_deregister,
    },
    Scenario {
        name: "socket-call-after-close",
        summary: "BROKEN CLIENT: WskBind on the listening socket after its close",
        run: socket_call_after_close,
    },
    Scenario {
        name: "accept-after-close",
        summary: "BROKEN CLIENT: the listening socket's close recorded as returned before its cancelled accept completed",
        run: accept_after_close,
    },
    Scenario {
        name: "boot-driver-entry",
        summary: "boot: ours waits 150 ms for WSK on the DriverEntry thread, delaying the drivers after it (Kernel-PnP 226/227)",
        run: boot_driver_entry,
    },
    Scenario {
        name: "boot-worker",
        summary: "boot: ours waits 150 ms for WSK on a worker, the drivers after it start at once (Kernel-PnP 226/227)",
        run: boot_worker,
    },
];

/// The scenario with this name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The session configuration scenarios are written with (defaults of [`SessionConfig`], the
/// logger named `wsktrace-<scenario>`).
pub fn session_config(scenario: &str) -> SessionConfig {
    SessionConfig {
        logger_name: format!("wsktrace-{scenario}"),
        log_file_name: format!("C:\\wsktrace\\{scenario}.etl"),
        ..SessionConfig::default()
    }
}

/// Writes a scenario's trace as ETL, front to back, on any sink (a dry run first gives the
/// header counts: see [`crate::etl::write`]). Returns the sink and the writer's summary.
pub fn write_etl<W: Write>(
    trace: &SimTrace,
    out: W,
    config: SessionConfig,
) -> Result<(W, WriteSummary), WskEtlError> {
    let mut dry = WskEtlWriter::new(Discard::default(), config.clone())?;
    emit_trace(trace, &mut dry, config.processors)?;
    let (_, summary) = dry.finish(LOAD_AT_NS + trace.end_ns)?;
    let mut w = WskEtlWriter::with_plan(out, config.clone(), summary.plan())?;
    emit_trace(trace, &mut w, config.processors)?;
    w.finish_planned()
}

/// Every event of the trace, in time order, each thread pinned to a processor.
fn emit_trace<W: Write>(
    trace: &SimTrace,
    w: &mut WskEtlWriter<W>,
    processors: u16,
) -> Result<(), WskEtlError> {
    enum Item<'a> {
        Wsk(&'a Record),
        Pnp(&'a PnpEvent),
    }
    let mut items: Vec<(i64, Item<'_>)> = trace
        .records
        .iter()
        .map(|r| (r.timestamp_ns as i64, Item::Wsk(r)))
        .chain(trace.pnp.iter().map(|p| (p.at_ns, Item::Pnp(p))))
        .collect();
    items.sort_by_key(|(t, _)| *t);
    // Threads in order of first appearance (in time).
    let mut threads: Vec<u32> = Vec::new();
    let mut context = |t: i64, thread: u32| {
        let k = threads
            .iter()
            .position(|&x| x == thread)
            .unwrap_or_else(|| {
                threads.push(thread);
                threads.len() - 1
            });
        Context {
            since_boot_ns: (LOAD_AT_NS as i64).saturating_add(t).max(0) as u64,
            processor: (k % usize::from(processors)) as u16,
            thread_id: FIRST_TID + 4 * k as u32,
            process_id: SYSTEM_PID,
        }
    };
    if trace.lost_events > 0 {
        // The recorder does not say where it dropped them: flag the first buffer.
        w.record_lost(0, trace.lost_events)?;
    }
    for (t, item) in &items {
        match item {
            Item::Wsk(r) => w.write_wsk(&context(*t, r.thread_id), r.activity_id, &r.event)?,
            Item::Pnp(p) => w.write_pnp(&context(*t, p.thread_id), &p.event)?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

const MS: Duration = Duration::from_millis(1);

fn sim_config(ready_after: Option<Duration>) -> SimConfig {
    SimConfig {
        ready_after,
        deregister_watchdog: Duration::from_millis(WATCHDOG_MS),
        ..SimConfig::default()
    }
}

fn finish(h: &SimHarness) -> SimTrace {
    // A millisecond of quiet after the last event, as a session stopped a little later.
    thread::sleep(MS);
    let end_ns = h.clock.now_ns();
    SimTrace {
        records: h.recorder.take(),
        lost_events: h.recorder.lost_events(),
        pnp: Vec::new(),
        end_ns,
    }
}

/// Loads the driver with `policy`, waits until bringing WSK up has ended, unloads.
fn load_run_unload(h: &SimHarness, policy: Policy, before_unload: impl FnOnce()) {
    let driver = Driver::driver_entry(
        h.client.clone(),
        StdSpawner,
        CLIENT_NAME,
        policy,
        Some(ListenParams::default()),
    );
    if let Ok(driver) = driver {
        // The worker (if any) has brought WSK up, or failed, within its wait.
        for _ in 0..5_000 {
            if driver.bring_up_status().is_some() {
                break;
            }
            thread::sleep(MS);
        }
        // The listener's accept is armed before unload, so its cancellation is in the trace.
        if driver.has_listening_socket() {
            h.sim
                .wait_until(Duration::from_secs(5), |s| s.accepts_pending == 1);
        }
        before_unload();
        driver.unload();
    }
}

fn clean() -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::from_millis(CLEAN_READY_MS))));
    let policy = Policy {
        wait_timeout: WaitTimeout::Infinite,
        wait_on: WaitOn::Worker,
        npi_version: SUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || {});
    finish(&h)
}

fn never_ready() -> SimTrace {
    let h = SimHarness::new(sim_config(None));
    let policy = Policy {
        wait_timeout: WaitTimeout::Millis(NEVER_READY_TIMEOUT_MS),
        wait_on: WaitOn::DriverEntryThread,
        npi_version: SUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || {});
    finish(&h)
}

fn ready_late() -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::from_millis(READY_LATE_MS))));
    let policy = Policy {
        wait_timeout: WaitTimeout::Millis(READY_LATE_TIMEOUT_MS),
        wait_on: WaitOn::DriverEntryThread,
        npi_version: SUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || {});
    finish(&h)
}

fn unsupported_version() -> SimTrace {
    let h = SimHarness::new(SimConfig {
        supported: ProviderCharacteristics {
            lowest_version: SUPPORTED_VERSION,
            highest_version: SUPPORTED_VERSION,
        },
        ..sim_config(Some(Duration::ZERO))
    });
    let policy = Policy {
        wait_timeout: WaitTimeout::Millis(500),
        wait_on: WaitOn::DriverEntryThread,
        npi_version: UNSUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || {});
    finish(&h)
}

fn deregister_during_capture() -> SimTrace {
    let h = SimHarness::new(sim_config(None));
    if let Ok(registration) = h.client.register(SUPPORTED_VERSION) {
        let waiting = registration.clone();
        let capture = thread::spawn(move || {
            // Cancelled by the deregister: STATUS_DEVICE_NOT_READY, nothing to release.
            let _ = waiting.capture(WaitTimeout::Infinite, CallingContext::Other);
        });
        wait_then_cancel_delay(&h);
        registration.deregister();
        let _ = capture.join();
    }
    finish(&h)
}

fn unload_during_wait() -> SimTrace {
    let h = SimHarness::new(sim_config(None));
    let policy = Policy {
        wait_timeout: WaitTimeout::Infinite,
        wait_on: WaitOn::Worker,
        npi_version: SUPPORTED_VERSION,
    };
    if let Ok(driver) = Driver::driver_entry(
        h.client.clone(),
        StdSpawner,
        CLIENT_NAME,
        policy,
        Some(ListenParams::default()),
    ) {
        wait_then_cancel_delay(&h);
        driver.unload();
    }
    finish(&h)
}

/// Waits until a capture is blocked in the simulator, then [`CANCEL_AFTER_MS`] more: the
/// cancelled wait lasts at least that long, however late its thread was scheduled.
fn wait_then_cancel_delay(h: &SimHarness) {
    h.sim.wait_until(Duration::from_secs(5), |s| s.waiting > 0);
    thread::sleep(Duration::from_millis(CANCEL_AFTER_MS));
}

fn concurrent_captures() -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::ZERO)));
    if let Ok(registration) = h.client.register(SUPPORTED_VERSION) {
        // Every thread holds its capture until all have captured (or failed to).
        let all_captured = Arc::new(Barrier::new(CONCURRENT_CAPTURES as usize));
        let workers: Vec<_> = (0..CONCURRENT_CAPTURES)
            .map(|_| {
                let r = registration.clone();
                let all_captured = all_captured.clone();
                thread::spawn(move || {
                    let npi = r.capture(WaitTimeout::Millis(100), CallingContext::Other);
                    all_captured.wait();
                    if let Ok(npi) = npi {
                        npi.release();
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        registration.deregister();
    }
    finish(&h)
}

/// Registers, captures with no wait (ready at once) and hands the capture to `fault`, then
/// deregisters.
fn broken_client(fault: impl FnOnce(CapturedNpi<SimWsk, Arc<Recorder>, HostClock>)) -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::ZERO)));
    if let Ok(registration) = h.client.register(SUPPORTED_VERSION) {
        if let Ok(npi) = registration.capture(WaitTimeout::NoWait, CallingContext::Other) {
            fault(npi);
        }
        // A leaked capture would hang the deregister for ever: let the simulator end it
        // once the watchdog has recorded the hang.
        h.sim.end_hangs();
        registration.deregister();
    }
    finish(&h)
}

fn leaked_capture() -> SimTrace {
    broken_client(|npi| npi.fault_leak())
}

fn double_release() -> SimTrace {
    broken_client(|npi| npi.fault_double_release())
}

fn dispatch_after_release() -> SimTrace {
    broken_client(|npi| {
        let _ = npi.fault_release_then_dispatch(&ListenParams::default());
    })
}

fn dropped_events() -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::from_millis(CLEAN_READY_MS))));
    let policy = Policy {
        wait_timeout: WaitTimeout::Infinite,
        wait_on: WaitOn::Worker,
        npi_version: SUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || h.recorder.drop_next(DROPPED_EVENTS));
    finish(&h)
}

/// Loads the driver with a bounded wait on the DriverEntry thread on a simulator with `config`.
fn driver_entry_thread(config: SimConfig, npi_version: u16) -> SimTrace {
    let h = SimHarness::new(config);
    let policy = Policy {
        wait_timeout: WaitTimeout::Millis(500),
        wait_on: WaitOn::DriverEntryThread,
        npi_version,
    };
    load_run_unload(&h, policy, || {});
    finish(&h)
}

fn register_fails() -> SimTrace {
    driver_entry_thread(
        SimConfig {
            register_status: FAULT_STATUS,
            ..sim_config(Some(Duration::ZERO))
        },
        SUPPORTED_VERSION,
    )
}

fn socket_fails() -> SimTrace {
    driver_entry_thread(
        SimConfig {
            socket_status: FAULT_STATUS,
            ..sim_config(Some(Duration::ZERO))
        },
        SUPPORTED_VERSION,
    )
}

fn bind_fails() -> SimTrace {
    driver_entry_thread(
        SimConfig {
            bind_status: FAULT_STATUS,
            ..sim_config(Some(Duration::ZERO))
        },
        SUPPORTED_VERSION,
    )
}

fn characteristics_lie() -> SimTrace {
    let only = |v| ProviderCharacteristics {
        lowest_version: v,
        highest_version: v,
    };
    driver_entry_thread(
        SimConfig {
            supported: only(SUPPORTED_VERSION),
            reported: Some(only(UNSUPPORTED_VERSION)),
            ..sim_config(Some(Duration::ZERO))
        },
        UNSUPPORTED_VERSION,
    )
}

fn slow_dispatch() -> SimTrace {
    let h = SimHarness::new(SimConfig {
        dispatch_delay: Duration::from_millis(DISPATCH_DELAY_MS),
        ..sim_config(Some(Duration::ZERO))
    });
    let policy = Policy {
        wait_timeout: WaitTimeout::Infinite,
        wait_on: WaitOn::Worker,
        npi_version: SUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || {});
    finish(&h)
}

fn remote() -> std::net::SocketAddr {
    REMOTE_ADDRESS.parse().expect("a socket address")
}

/// The clean policy (a worker waiting without a time limit) on a subsystem ready at once.
fn accepting(config: SimConfig, during: impl FnOnce(&SimHarness)) -> SimTrace {
    let h = SimHarness::new(config);
    let policy = Policy {
        wait_timeout: WaitTimeout::Infinite,
        wait_on: WaitOn::Worker,
        npi_version: SUPPORTED_VERSION,
    };
    load_run_unload(&h, policy, || during(&h));
    finish(&h)
}

fn accept_connection() -> SimTrace {
    accepting(sim_config(Some(Duration::ZERO)), |h| {
        h.sim.connect(None, remote());
        // Accepted and closed, and the next accept armed.
        h.sim.wait_until(Duration::from_secs(5), |s| {
            s.closes == 1 && s.accepts_pending == 1
        });
    })
}

fn unload_pending_accept() -> SimTrace {
    accepting(sim_config(Some(Duration::ZERO)), |_| {
        thread::sleep(Duration::from_millis(ACCEPT_PENDING_MS));
    })
}

fn unload_open_connection() -> SimTrace {
    let config = SimConfig {
        close_delay: Duration::from_millis(CLOSE_DELAY_MS),
        ..sim_config(Some(Duration::ZERO))
    };
    accepting(config, |h| {
        h.sim.connect(None, remote());
        h.sim
            .wait_until(Duration::from_secs(5), |s| s.accepted == 1);
    })
}

/// Registers, captures, creates the listening socket and releases, then hands the socket
/// (and the registration) to `fault`, which deregisters.
fn broken_socket_client(
    fault: impl FnOnce(
        ListenSocket<SimWsk, Arc<Recorder>, HostClock>,
        SharedRegistration<SimWsk, Arc<Recorder>, HostClock>,
    ),
) -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::ZERO)));
    if let Ok(registration) = h.client.register(SUPPORTED_VERSION) {
        if let Ok(mut npi) = registration.capture(WaitTimeout::NoWait, CallingContext::Other) {
            let socket = npi.create_listening_socket(&ListenParams::default());
            npi.release();
            match socket {
                Ok(socket) => fault(socket, registration),
                Err(_) => registration.deregister(),
            }
        } else {
            registration.deregister();
        }
    }
    finish(&h)
}

fn socket_open_at_deregister() -> SimTrace {
    broken_socket_client(|socket, registration| {
        let closer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(LATE_CLOSE_MS));
            socket.close();
        });
        // Waits for the other thread's close.
        registration.deregister();
        let _ = closer.join();
    })
}

fn socket_call_after_close() -> SimTrace {
    broken_socket_client(|socket, registration| {
        let _ = socket.fault_close_then_bind(&ListenParams::default());
        registration.deregister();
    })
}

fn accept_after_close() -> SimTrace {
    broken_socket_client(|socket, registration| {
        let _ = socket.fault_close_before_accept_recorded();
        registration.deregister();
    })
}

fn boot(wait_on: WaitOn) -> SimTrace {
    let h = SimHarness::new(sim_config(Some(Duration::from_millis(BOOT_READY_MS))));
    let policy = Policy {
        wait_timeout: match wait_on {
            WaitOn::DriverEntryThread => WaitTimeout::Millis(BOOT_TIMEOUT_MS),
            WaitOn::Worker => WaitTimeout::Infinite,
        },
        wait_on,
        npi_version: SUPPORTED_VERSION,
    };
    // The PnP manager's thread runs every driver's DriverEntry, ours included; stay on it
    // until the drivers after ours have run, so the worker (if any) waits meanwhile.
    let driver = Driver::driver_entry(
        h.client.clone(),
        StdSpawner,
        CLIENT_NAME,
        policy,
        Some(ListenParams::default()),
    );
    let after_ours = h.clock.now_ns();
    let after: u64 = BOOT_DRIVERS_AFTER
        .iter()
        .map(|&(_, ms)| ms * 1000 + BOOT_GAP_US)
        .sum();
    thread::sleep(Duration::from_micros(after));
    if let Ok(driver) = driver {
        for _ in 0..5_000 {
            if driver.bring_up_status().is_some() {
                break;
            }
            thread::sleep(MS);
        }
        driver.unload();
    }
    let mut trace = finish(&h);
    trace.pnp = boot_pnp_events(&trace.records, after_ours);
    trace
}

/// The Kernel-PnP events around our driver's DriverEntry: the drivers before it end just
/// before it starts, ours is bracketed by its own 226/227, the drivers after it start when
/// it returns.
fn boot_pnp_events(records: &[Record], fallback_end: u64) -> Vec<PnpEvent> {
    let entry = records
        .iter()
        .find(|r| matches!(r.event, WskEvent::DriverEntryStart { .. }));
    let exit = records
        .iter()
        .find(|r| matches!(r.event, WskEvent::DriverEntryStop { .. }));
    let (start, thread_id) = entry.map_or((0, 0), |r| (r.timestamp_ns as i64, r.thread_id));
    let (end, status) = match exit {
        Some(r) => match &r.event {
            WskEvent::DriverEntryStop { status, .. } => (r.timestamp_ns as i64, status.to_u32()),
            _ => unreachable!("matched above"),
        },
        None => (fallback_end as i64, 0),
    };
    let gap = (BOOT_GAP_US * 1000) as i64;
    let mut out = Vec::new();
    let mut push = |at_ns: i64, event: DriverInit| {
        out.push(PnpEvent {
            at_ns,
            thread_id,
            event,
        })
    };
    let before: i64 = BOOT_DRIVERS_BEFORE
        .iter()
        .map(|&(_, ms)| ms as i64 * 1_000_000 + gap)
        .sum();
    let mut t = start - 1_000 - before;
    for &(name, ms) in BOOT_DRIVERS_BEFORE {
        push(
            t,
            DriverInit::Start {
                driver: name.into(),
            },
        );
        t += ms as i64 * 1_000_000;
        push(
            t,
            DriverInit::Stop {
                driver: name.into(),
                status: 0,
            },
        );
        t += gap;
    }
    let ours = format!("\\Driver\\{CLIENT_NAME}");
    push(
        start - 1_000,
        DriverInit::Start {
            driver: ours.clone(),
        },
    );
    push(
        end + 1_000,
        DriverInit::Stop {
            driver: ours,
            status,
        },
    );
    let mut t = end + 1_000 + gap;
    for &(name, ms) in BOOT_DRIVERS_AFTER {
        push(
            t,
            DriverInit::Start {
                driver: name.into(),
            },
        );
        t += ms as i64 * 1_000_000;
        push(
            t,
            DriverInit::Stop {
                driver: name.into(),
                status: 0,
            },
        );
        t += gap;
    }
    out
}

fn boot_driver_entry() -> SimTrace {
    boot(WaitOn::DriverEntryThread)
}

fn boot_worker() -> SimTrace {
    boot(WaitOn::Worker)
}

/// Scenarios run at once by [`write_fleet`] (they mostly sleep).
const FLEET_PARALLEL: usize = 32;

/// Writes a fleet of scenario traces into `dir`: for each `(scenario, count)` of `plan`,
/// `count` runs as `<scenario>-<n>.etl` (n from 0). Runs differ as real threads do (their
/// waits vary by the scheduling of the moment). Returns the paths, in `plan` order.
pub fn write_fleet(
    dir: &std::path::Path,
    plan: &[(&str, usize)],
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut jobs = Vec::new();
    for &(name, count) in plan {
        let s = find(name).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unknown scenario {name:?}"),
            )
        })?;
        jobs.extend((0..count).map(|n| (s, dir.join(format!("{name}-{n}.etl")))));
    }
    for chunk in jobs.chunks(FLEET_PARALLEL) {
        let runs: Vec<_> = chunk
            .iter()
            .map(|&(s, _)| thread::spawn(move || s.run()))
            .collect();
        for ((s, path), run) in chunk.iter().zip(runs) {
            let trace = run.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            let file = std::fs::File::create(path)?;
            write_etl(
                &trace,
                std::io::BufWriter::new(file),
                session_config(s.name),
            )
            .map_err(std::io::Error::other)?;
        }
    }
    Ok(jobs.into_iter().map(|(_, p)| p).collect())
}
