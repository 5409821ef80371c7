//! The Wine run's acceptance: what `tests/windows/wine-run.sh OUT_DIR` wrote, checked.
//!
//! For every configuration of `tests/windows/wine-configurations.txt` the driver image ran
//! under Wine's kernel against Wine's WSK, its ETW calls answered by the tap and turned into
//! `NAME.etl` (docs/wine.md). Here, per configuration:
//!
//! - `wsktrace check` says ok (exit 0); `wsktrace latency` and `wsktrace boot` give the
//!   capture's wait;
//! - the events equal, event by event and field by field (durations aside), what the same
//!   driver code records when the host runs it on the `wdk-sys` stand-ins and the simulator,
//!   with the same `Parameters` and the simulator configured as Wine's netio.sys behaves;
//! - dissect.etl (an independent reader) finds the same records;
//! - Wine's log has no call into an unimplemented function, no unhandled exception, no
//!   unresolved import, and shows the driver and the tap loaded in winedevice.exe;
//! - when the driver unregistered its provider (last in its unload), the worker thread it
//!   started had ended;
//! - the service was installed from the INF with the INF's values.
//!
//! The run's directory is `$WSKTRACE_WINE_OUT`, else `target/wine-run` (where `tests/run.sh`
//! puts it). Without it the tests say so and pass, unless `CI=true`: then they fail.

#![cfg(not(windows))]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use wsktrace_driver::glue::{self, params};
use wsktrace_driver::lifecycle::{make_wsk_version, ProviderCharacteristics};
use wsktrace_driver::schema::FieldKind;
use wsktrace_driver::schema::{CallingContext, FieldValue, WskEvent, DESCRIPTORS};
use wsktrace_driver::sim::{SimConfig, SimSnapshot};
use wsktrace_driver::wdk_standin::host;
use wsktrace_tools::analysis::{latency, EventSink, TraceEvent};
use wsktrace_tools::etw_tap::{self, TapCall, ThreadState};
use wsktrace_tools::pipeline::{read_file, ReadOptions};

#[path = "support/glue_host.rs"]
mod glue_host;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Wine run's output directory, if the run completed.
fn out_dir(test: &str) -> Option<PathBuf> {
    // A relative `$WSKTRACE_WINE_OUT` is taken from the repository root, like the script's.
    let dir = std::env::var_os("WSKTRACE_WINE_OUT")
        .map(|d| repo().join(d))
        .unwrap_or_else(|| repo().join("target/wine-run"));
    if dir.join("wine-run.ok").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: no completed Wine run in {} (tests/run.sh runs tests/windows/wine-run.sh; \
         required with CI=true)",
        dir.display()
    );
    eprintln!(
        "{test}: no completed Wine run in {} (run `bash tests/windows/wine-run.sh {}`): skipped",
        dir.display(),
        dir.display()
    );
    None
}

/// One line of `tests/windows/wine-configurations.txt`: the `Parameters` values it sets
/// (`None`: as the INF installed it) and how many TCP clients connect to the listener.
#[derive(Clone, Debug)]
struct Configuration {
    name: String,
    values: [(&'static str, Option<u32>); 3],
    clients: usize,
}

fn configurations() -> Vec<Configuration> {
    let path = repo().join("tests/windows/wine-configurations.txt");
    let text = std::fs::read_to_string(&path).expect("wine-configurations.txt");
    let value = |word: &str| {
        (word != "-").then(|| match word.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).expect("a hexadecimal number"),
            None => word.parse::<u32>().expect("a number or -"),
        })
    };
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(
                words.len(),
                5,
                "name WaitTimeoutMs WaitOnWorker NpiVersion Clients: {line}"
            );
            // The columns are the value names the driver reads, in its order.
            let names = params::VALUE_NAMES;
            Configuration {
                name: words[0].to_owned(),
                values: [
                    (names[0], value(words[1])),
                    (names[1], value(words[2])),
                    (names[2], value(words[3])),
                ],
                clients: words[4].parse().expect("a number of clients"),
            }
        })
        .collect()
}

/// One configuration's output of the Wine run.
struct Run {
    c: Configuration,
    dir: PathBuf,
}

impl Run {
    /// `NAME.<extension>` of the configuration.
    fn file(&self, extension: &str) -> PathBuf {
        self.dir.join(format!("{}.{extension}", self.c.name))
    }

    /// The numbers of `NAME.<extension>`, one a line.
    fn numbers(&self, extension: &str) -> Vec<u16> {
        let path = self.file(extension);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .map(|l| l.trim().parse().expect("a port number"))
            .collect()
    }

    /// The port the script picked for the listener (`ListenPort`).
    fn listen_port(&self) -> u16 {
        self.numbers("port")[0]
    }

    /// The ports the TCP clients connected from, in order.
    fn client_ports(&self) -> Vec<u16> {
        let ports = self.numbers("clients");
        assert_eq!(ports.len(), self.c.clients, "{}: clients", self.c.name);
        ports
    }
}

/// Every configuration's output; none (after a skip notice) without a completed Wine run.
fn runs(test: &str) -> Vec<Run> {
    let Some(dir) = out_dir(test) else {
        return Vec::new();
    };
    configurations()
        .into_iter()
        .map(|c| Run {
            c,
            dir: dir.clone(),
        })
        .collect()
}

/// Runs `wsktrace ARGS`; returns the exit code and stdout.
fn wsktrace(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wsktrace"))
        .args(args)
        .output()
        .expect("wsktrace runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

/// The provider's events of an ETL file, in the reader's (timestamp) order.
fn read_events(path: &Path) -> Vec<TraceEvent> {
    #[derive(Default)]
    struct Collect(Vec<TraceEvent>);
    impl EventSink for Collect {
        fn event(&mut self, ev: &TraceEvent) {
            self.0.push(ev.clone());
        }
    }
    let mut sink = Collect::default();
    let mut errors = Vec::new();
    let outcome = read_file(path, &mut sink, ReadOptions::default(), &mut |e| {
        errors.push(e.to_string())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(errors, Vec::<String>::new(), "{}", path.display());
    assert_eq!(outcome.undecodable, 0, "{}", path.display());
    sink.0
}

// ---- The expected run: the same glue on the stand-ins and the simulator ----------------------

/// The simulator configured as Wine 8.0's netio.sys behaves for this driver:
/// `WskCaptureProviderNPI` returns at once with success whatever the timeout (the subsystem is
/// "ready" from the start: `ready_after` zero) and whatever version the client registered
/// (Wine never looks at it: every version a driver can ask for is "supported", so the
/// `STATUS_NOINTERFACE` fallback, and with it the characteristics stub, is never reached);
/// `WskSocket`, `WskBind` (of the IPv4 loopback address the driver binds by default: Wine
/// passes `sizeof(SOCKADDR)`, which fits IPv4 only) and `WskCloseSocket` succeed. `WskDeregister` not
/// waiting makes no difference here: nothing is outstanding when the driver deregisters.
fn wine_netio() -> SimConfig {
    SimConfig {
        ready_after: Some(Duration::ZERO),
        supported: ProviderCharacteristics {
            lowest_version: make_wsk_version(1, 0),
            highest_version: u16::MAX,
        },
        ..SimConfig::default()
    }
}

/// What the host records when it loads the driver with the run's `Parameters`, waits for its
/// bring-up to end and its accept to be armed (as the Wine run waits for them), connects the
/// run's clients from their ports one after the other (each accepted and closed, the next
/// accept armed), and unloads it: (thread number, activity id, event) in the order the
/// recorder saw them.
fn expected(run: &Run) -> Vec<(u32, [u8; 16], WskEvent)> {
    let configuration = &run.c;
    let _serial = host::serial();
    // The registry as the Wine run leaves it: the INF's defaults (tests/kernel_inf.rs checks
    // that they are these), the configuration's values, the port the run picked.
    let mut parameters: Vec<(&str, params::Default)> = params::default_values().to_vec();
    for (name, value) in &configuration.values {
        if let Some(value) = value {
            let slot = parameters
                .iter_mut()
                .find(|(n, _)| n == name)
                .expect("a value");
            slot.1 = params::Default::Dword(*value);
        }
    }
    let port = parameters
        .iter_mut()
        .find(|(n, _)| *n == params::LISTEN_PORT)
        .expect("ListenPort");
    port.1 = params::Default::Dword(u32::from(run.listen_port()));
    let clients = run.client_ports();
    let name = &configuration.name;
    let trace = glue_host::run_driver(wine_netio(), &parameters, |sim| {
        let until = |what: &str, done: &dyn Fn(&SimSnapshot) -> bool| {
            assert!(
                sim.wait_until(Duration::from_secs(10), done),
                "{name}: {what}"
            );
        };
        until("bring-up", &|_| glue::bring_up_status().is_some());
        until("the accept armed", &|s| s.accepts_pending == 1);
        for (k, port) in clients.iter().enumerate() {
            let client = SocketAddr::from(([127, 0, 0, 1], *port));
            assert!(
                sim.connect(None, client),
                "{name}: a listener to connect to"
            );
            until("the connection accepted and closed", &|s| {
                s.closes == k as u32 + 1 && s.accepts_pending == 1
            });
        }
    });
    trace
        .records
        .into_iter()
        .map(|r| (r.thread_id, r.activity_id, r.event))
        .collect()
}

// ---- Comparing two runs -----------------------------------------------------------------------

/// An event with its durations taken out: name, opcode and every field but the `U64`
/// (nanosecond) ones, with the activity id as the order in which it first appeared (so two
/// runs compare by which events share an activity, not by the ids' random bits).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Comparable {
    event: String,
    fields: Vec<(&'static str, String)>,
    activity: Option<usize>,
}

/// The runs' events in an order scheduling cannot change: up to `DriverUnload` Start, each
/// thread's events together (threads in the order they first logged), then the unload's
/// events in order. Only the interleaving of the DriverEntry thread and the worker depends on
/// scheduling; each thread's own order, and everything before or after unload, does not.
fn canonical(events: &[(u32, [u8; 16], WskEvent)]) -> Vec<Comparable> {
    let unload = events
        .iter()
        .position(|(_, _, e)| matches!(e, WskEvent::DriverUnloadStart {}))
        .unwrap_or(events.len());
    let mut threads: Vec<u32> = Vec::new();
    for (tid, _, _) in &events[..unload] {
        if !threads.contains(tid) {
            threads.push(*tid);
        }
    }
    let mut ordered: Vec<&(u32, [u8; 16], WskEvent)> = events[..unload].iter().collect();
    ordered.sort_by_key(|(tid, _, _)| threads.iter().position(|t| t == tid));
    ordered.extend(&events[unload..]);
    let mut activities: Vec<[u8; 16]> = Vec::new();
    ordered
        .into_iter()
        .map(|(_, activity, event)| {
            let activity = (*activity != [0; 16]).then(|| {
                activities
                    .iter()
                    .position(|a| a == activity)
                    .unwrap_or_else(|| {
                        activities.push(*activity);
                        activities.len() - 1
                    })
            });
            comparable(event, activity)
        })
        .collect()
}

fn comparable(event: &WskEvent, activity: Option<usize>) -> Comparable {
    let d = event.descriptor();
    let kinds = &DESCRIPTORS
        .iter()
        .find(|x| x.variant == d.variant)
        .expect("descriptor")
        .fields;
    let fields = event
        .fields()
        .into_iter()
        .zip(kinds.iter())
        .filter(|(_, f)| f.kind != FieldKind::U64)
        .map(|((name, value), f)| (name, shown(value, f.kind)))
        .collect();
    Comparable {
        event: format!("{}/{}", d.name, d.opcode),
        fields,
        activity,
    }
}

/// A field's value as its TraceLogging out-type shows it (statuses and versions in hex).
fn shown(value: FieldValue<'_>, kind: FieldKind) -> String {
    let number = match value {
        FieldValue::Str(s) => return s.to_owned(),
        FieldValue::U8(x) => u64::from(x),
        FieldValue::U16(x) => u64::from(x),
        FieldValue::U32(x) => u64::from(x),
        FieldValue::U64(x) => x,
    };
    match kind {
        FieldKind::Status => format!("{number:#010x}"),
        FieldKind::U16Hex => format!("{number:#06x}"),
        FieldKind::Bool => (number != 0).to_string(),
        _ => number.to_string(),
    }
}

// ---- The tests ---------------------------------------------------------------------------------

#[test]
fn check_says_ok_for_every_configuration() {
    for run in runs("wine check") {
        let c = &run.c;
        let etl = run.file("etl");
        let (code, stdout) = wsktrace(&["check", "--require-events", etl.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: wsktrace check:\n{stdout}", c.name);
        assert!(stdout.contains(": ok ("), "{}: {stdout}", c.name);
    }
}

/// Per configuration with clients: the listening socket bound the run's loopback port; each
/// Linux client was accepted, in order, with its address and port; each connection closed
/// with success; the last accept cancelled by the listening socket's close, which succeeded
/// after it.
#[test]
fn the_linux_clients_are_accepted_and_both_closes_traced() {
    use wsktrace_driver::ntstatus::NtStatus;
    use wsktrace_driver::schema::socket_kind;
    for run in runs("wine accept").iter().filter(|r| r.c.clients > 0) {
        let name = &run.c.name;
        let events: Vec<WskEvent> = read_events(&run.file("etl"))
            .into_iter()
            .map(|e| e.event)
            .collect();
        let listener = events
            .iter()
            .find_map(|e| match e {
                WskEvent::SocketCreated {
                    socket_id,
                    socket_kind: socket_kind::LISTEN,
                    ..
                } => Some(*socket_id),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name}: a listening socket"));
        assert!(
            events.iter().any(
                |e| matches!(e, WskEvent::SocketBind { socket_id, address, port, status, .. }
                if *socket_id == listener && address == "127.0.0.1"
                    && *port == u32::from(run.listen_port()) && status.is_success())
            ),
            "{name}: the listener bound 127.0.0.1:{}",
            run.listen_port()
        );
        let accepts: Vec<&WskEvent> = events
            .iter()
            .filter(
                |e| matches!(e, WskEvent::AcceptStop { socket_id, .. } if *socket_id == listener),
            )
            .collect();
        let (last, accepted) = accepts.split_last().expect("accepts");
        assert!(
            matches!(
                last,
                WskEvent::AcceptStop {
                    status: NtStatus::CANCELLED,
                    accepted_socket_id: 0,
                    remote_address,
                    remote_port: 0,
                    ..
                } if remote_address.is_empty()
            ),
            "{name}: the last accept, cancelled: {last:?}"
        );
        let clients = run.client_ports();
        assert_eq!(
            accepted.len(),
            clients.len(),
            "{name}: accepts {accepted:?}"
        );
        let mut connections = Vec::new();
        for (accept, client) in accepted.iter().zip(clients) {
            let WskEvent::AcceptStop {
                status,
                accepted_socket_id,
                remote_address,
                remote_port,
                ..
            } = accept
            else {
                unreachable!("filtered")
            };
            assert_eq!(
                (*status, remote_address.as_str(), *remote_port),
                (NtStatus::SUCCESS, "127.0.0.1", u32::from(client)),
                "{name}: the client from port {client} accepted"
            );
            connections.push(*accepted_socket_id);
        }
        let closed = |socket: u32| {
            events.iter().position(|e| {
                matches!(e, WskEvent::CloseSocketStop { socket_id, status, .. }
                    if *socket_id == socket && status.is_success())
            })
        };
        for connection in connections {
            assert!(
                closed(connection).is_some(),
                "{name}: connection {connection} closed"
            );
        }
        let last_accept = events
            .iter()
            .rposition(|e| matches!(e, WskEvent::AcceptStop { .. }))
            .unwrap();
        let listener_closed = closed(listener).unwrap_or_else(|| panic!("{name}: listener closed"));
        assert!(
            listener_closed > last_accept,
            "{name}: the listener's close returned after its cancelled accept"
        );
    }
}

#[test]
fn latency_and_boot_give_the_capture_wait() {
    for run in runs("wine latency/boot") {
        let c = &run.c;
        let etl = run.file("etl");
        let events = read_events(&etl);
        let (wait_ns, timeout, context) = capture(&events);
        let (code, stdout) = wsktrace(&["latency", "--json", etl.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: wsktrace latency", c.name);
        let latency: Value = serde_json::from_str(&stdout).expect("latency JSON");
        let groups = &latency["files"][0]["latency"]["groups"];
        assert_eq!(
            groups.as_array().map(Vec::len),
            Some(1),
            "{}: {groups}",
            c.name
        );
        let g = &groups[0];
        // The group is the capture's: its wait mode and calling context as the ETL says.
        assert_eq!(
            g["wait_mode"],
            latency::wait_mode(timeout).as_str(),
            "{}: {g}",
            c.name
        );
        assert_eq!(g["outcome"], "STATUS_SUCCESS", "{}", c.name);
        assert_eq!(
            g["calling_context"],
            latency::context_name(context),
            "{}",
            c.name
        );
        assert_eq!(g["wait"]["count"], 1, "{}", c.name);
        assert_eq!(
            g["wait"]["max"], wait_ns,
            "{}: the capture's WaitNs",
            c.name
        );

        let (code, stdout) = wsktrace(&["boot", "--json", etl.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: wsktrace boot", c.name);
        let boot: Value = serde_json::from_str(&stdout).expect("boot JSON");
        let client = &boot["files"][0]["boot"]["clients"][0];
        assert_eq!(client["client"], "wsktrace", "{}: {client}", c.name);
        assert!(
            client["driver_entry_duration_ns"].is_u64(),
            "{}: {client}",
            c.name
        );
        assert!(client["wsk_ready_ns"].is_u64(), "{}: {client}", c.name);
        // Blocked in capture on the DriverEntry thread: the whole wait there, none on a worker.
        let on_entry_thread = CallingContext::from_u8(context) == CallingContext::DriverEntry;
        let blocked = if on_entry_thread { wait_ns } else { 0 };
        assert_eq!(
            client["blocked_in_capture_ns"], blocked,
            "{}: {client}",
            c.name
        );
    }
}

/// The one capture's `WaitNs`, wait timeout and calling context.
fn capture(events: &[TraceEvent]) -> (u64, u32, u8) {
    let start = events.iter().find_map(|e| match &e.event {
        WskEvent::CaptureProviderNpiStart {
            wait_timeout_ms,
            calling_context,
            ..
        } => Some((*wait_timeout_ms, *calling_context)),
        _ => None,
    });
    let stop = events.iter().find_map(|e| match &e.event {
        WskEvent::CaptureProviderNpiStop { wait_ns, .. } => Some(*wait_ns),
        _ => None,
    });
    let ((timeout, context), wait) = start.zip(stop).expect("one capture");
    (wait, timeout, context)
}

#[test]
fn events_are_the_simulators_event_by_event() {
    for run in runs("wine event sequence") {
        let c = &run.c;
        let wine: Vec<(u32, [u8; 16], WskEvent)> = read_events(&run.file("etl"))
            .into_iter()
            .map(|e| (e.tid, e.activity, e.event))
            .collect();
        let host = expected(&run);
        let (wine, host) = (canonical(&wine), canonical(&host));
        for (i, (w, h)) in wine.iter().zip(&host).enumerate() {
            assert_eq!(w, h, "{}: event {i} (Wine, then the simulator)", c.name);
        }
        assert_eq!(
            wine.len(),
            host.len(),
            "{}: {wine:#?}\nvs {host:#?}",
            c.name
        );
    }
}

#[test]
fn unload_leaves_no_thread_behind() {
    for run in runs("wine threads") {
        let c = &run.c;
        let tap = etw_tap::read(&run.file("tap")).expect("tap record");
        let events = read_events(&run.file("etl"));
        let entry_thread = events
            .iter()
            .find(|e| matches!(e.event, WskEvent::DriverEntryStart { .. }))
            .map(|e| e.tid)
            .expect("DriverEntry Start");
        let unload_thread = events
            .iter()
            .find(|e| matches!(e.event, WskEvent::DriverUnloadStart {}))
            .map(|e| e.tid)
            .expect("DriverUnload Start");
        // The driver's own threads: every thread that logged but the I/O manager's two (the
        // DriverEntry thread and the unload's).
        let mut own: Vec<u32> = events
            .iter()
            .map(|e| e.tid)
            .filter(|tid| *tid != entry_thread && *tid != unload_thread)
            .collect();
        own.sort_unstable();
        own.dedup();
        let unregisters: Vec<&Vec<(u32, ThreadState)>> = tap
            .records
            .iter()
            .filter_map(|r| match &r.call {
                TapCall::Unregister { threads } => Some(threads),
                _ => None,
            })
            .collect();
        assert_eq!(unregisters.len(), 1, "{}: one EtwUnregister", c.name);
        let states: BTreeMap<u32, ThreadState> = unregisters[0].iter().copied().collect();
        for thread in &own {
            assert_eq!(
                states.get(thread),
                Some(&ThreadState::Ended),
                "{}: the driver's thread {thread:#x} ended before unregistration",
                c.name
            );
        }
        for (tid, state) in &states {
            if !own.contains(tid) {
                assert!(
                    *tid == entry_thread || *state == ThreadState::Caller,
                    "{}: thread {tid:#x} ({state:?}) is neither the driver's nor Wine's",
                    c.name
                );
            }
        }
        // One thread of its own: the worker that captured and then accepts, or (capturing on
        // the DriverEntry thread) the accept loop's.
        assert_eq!(own.len(), 1, "{}: the driver's threads {own:x?}", c.name);
        let worker_captured = events.iter().any(|e| {
            matches!(e.event, WskEvent::CaptureProviderNpiStart { calling_context, .. }
                if CallingContext::from_u8(calling_context) == CallingContext::Worker)
        });
        let expect_worker = c.values[1].1.unwrap_or(1) == 1;
        assert_eq!(worker_captured, expect_worker, "{}: worker", c.name);
    }
}

#[test]
fn wine_log_is_clean() {
    for run in runs("wine log") {
        assert_log_is_clean(&run.c.name, &run.file("wine.log"), "wsktrace_driver.sys");
    }
}

/// Wine's log of a run: no call into a stub, no unresolved import, no unhandled exception;
/// the driver `image` and the tap loaded in a `winedevice.exe` process, and unloaded.
fn assert_log_is_clean(name: &str, path: &Path, image: &str) {
    let log = std::fs::read_to_string(path).expect("Wine log");
    // What Wine prints for a call into a stub ("Call from ... to unimplemented function",
    // "Unimplemented function ... called ..., starting debugger"), an import it cannot
    // resolve (warn:module "No implementation for ..."), an exception nobody handles, a
    // module that does not load, a crash dump.
    for bad in [
        "unimplemented function",
        "no implementation for",
        "unhandled exception",
        "unhandled page fault",
        "unhandled illegal instruction",
        "unhandled stack overflow",
        "starting debugger",
        "err:seh",
        "err:module",
        "backtrace:",
    ] {
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.to_lowercase().contains(bad))
            .collect();
        assert!(
            lines.is_empty(),
            "{name}: Wine log has {bad:?}:\n{}",
            lines.join("\n")
        );
    }
    // The lines come from the process that loaded the driver and the tap: winedevice.exe.
    let loaded = |module: &str| {
        log.lines()
            .find(|l| l.contains("Loaded") && l.to_lowercase().contains(module))
            .and_then(|l| l.split(':').next())
            .map(str::to_owned)
    };
    let driver = loaded(&format!(r"drivers\\{image}")).expect("driver loaded");
    assert_eq!(
        loaded(r"drivers\\wsktap.sys"),
        Some(driver.clone()),
        "{name}"
    );
    let in_driver_process = |what: &str, module: &str| {
        log.lines()
            .any(|l| l.starts_with(&format!("{driver}:")) && l.contains(what) && l.contains(module))
    };
    assert!(
        in_driver_process("Loaded", "winedevice.exe"),
        "{name}: the driver's process {driver} is not winedevice.exe"
    );
    // `net stop` unloaded the image (after DriverUnload returned), and the tap with it.
    assert!(in_driver_process("Unloaded", image), "{name}");
    assert!(in_driver_process("Unloaded", "wsktap.sys"), "{name}");
}

// ---- The example driver: its subcomponent activated by a user-mode program ------------------

/// What `wsksub.exe` sent (tests/windows/wine-run.sh), in order.
const ACTIVATIONS: usize = 3;

/// The host replay of the example driver's Wine run: its glue (`DriverEntry`, the IOCTLs from
/// user mode, the unload) on the stand-ins and the simulator configured as Wine's netio.sys:
/// (thread, activity, event) as recorded.
fn subcomponent_expected() -> Vec<(u32, [u8; 16], WskEvent)> {
    use wsktrace_driver::sim::{HostClock, Recorder, SimWsk};
    use wsktrace_driver::wdk_standin::{
        DRIVER_OBJECT, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, STATUS_SUCCESS,
    };
    use wsktrace_subcomponent::driver::{
        driver_entry, DEVICE_NAME, IOCTL_ACTIVATE, IOCTL_DEACTIVATE,
    };
    let _serial = host::serial();
    let clock = HostClock::new();
    let recorder = std::sync::Arc::new(Recorder::new(clock));
    host::install_wsk(SimWsk::new(wine_netio(), clock));
    host::install_recorder(recorder.clone());
    let mut driver = DRIVER_OBJECT::default();
    // SAFETY: 1. A valid driver object, as the I/O manager passes it (the registry path is not
    //            read).
    assert_eq!(
        unsafe { driver_entry(&mut driver, std::ptr::null()) },
        STATUS_SUCCESS
    );
    let send = |major, code| host::dispatch(DEVICE_NAME, major, code);
    assert_eq!(send(IRP_MJ_CREATE, 0), Some(STATUS_SUCCESS));
    for _ in 0..ACTIVATIONS {
        assert_eq!(
            send(IRP_MJ_DEVICE_CONTROL, IOCTL_ACTIVATE),
            Some(STATUS_SUCCESS)
        );
        assert_eq!(
            send(IRP_MJ_DEVICE_CONTROL, IOCTL_DEACTIVATE),
            Some(STATUS_SUCCESS)
        );
    }
    assert_eq!(send(IRP_MJ_CLOSE, 0), Some(STATUS_SUCCESS));
    let unload = driver.DriverUnload.expect("DriverUnload installed");
    // SAFETY: 1. Once, after a successful DriverEntry.
    unsafe { unload(&mut driver) };
    host::assert_nothing_left();
    recorder
        .records()
        .into_iter()
        .map(|r| (r.thread_id, r.activity_id, r.event))
        .collect()
}

#[test]
fn the_subcomponent_is_activated_from_user_mode() {
    let Some(dir) = out_dir("wine subcomponent") else {
        return;
    };
    let out = std::fs::read_to_string(dir.join("subcomponent.out")).expect("wsksub's output");
    let lines: Vec<&str> = out.lines().collect();
    let want: Vec<&str> = ["activate 0x00000000", "deactivate 0x00000000"].repeat(ACTIVATIONS);
    assert_eq!(lines, want, "every IOCTL succeeded");
    let etl = dir.join("subcomponent.etl");
    let (code, stdout) = wsktrace(&["check", "--require-events", etl.to_str().unwrap()]);
    assert_eq!(code, 0, "wsktrace check:\n{stdout}");
    assert!(
        stdout.contains("registrations: 3 ok, 0 violation"),
        "{stdout}"
    );
    // Event by event as the same glue records them on the host.
    let wine: Vec<(u32, [u8; 16], WskEvent)> = read_events(&etl)
        .into_iter()
        .map(|e| (e.tid, e.activity, e.event))
        .collect();
    let (wine, host) = (canonical(&wine), canonical(&subcomponent_expected()));
    for (i, (w, h)) in wine.iter().zip(&host).enumerate() {
        assert_eq!(w, h, "subcomponent: event {i} (Wine, then the simulator)");
    }
    assert_eq!(wine.len(), host.len(), "{wine:#?}\nvs {host:#?}");
    assert_log_is_clean(
        "subcomponent",
        &dir.join("subcomponent.wine.log"),
        "wsktrace_subcomponent.sys",
    );
}

#[test]
fn the_service_is_installed_from_the_inf() {
    let Some(dir) = out_dir("wine service") else {
        return;
    };
    let bytes = std::fs::read(dir.join("service.reg")).expect("service.reg");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("UTF-16 export");
    let dword = |name: &str| {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("\"{name}\"=dword:")))
            .unwrap_or_else(|| panic!("{name} in service.reg:\n{text}"));
        u32::from_str_radix(line.rsplit(':').next().unwrap().trim(), 16).unwrap()
    };
    // SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL.
    assert_eq!(
        (dword("Type"), dword("Start"), dword("ErrorControl")),
        (1, 3, 1)
    );
    for (name, value) in params::default_values() {
        match value {
            params::Default::Dword(value) => assert_eq!(
                dword(name),
                value,
                "Parameters\\{name} as the INF writes it"
            ),
            params::Default::Text(value) => assert!(
                text.contains(&format!("\"{name}\"=\"{value}\"")),
                "Parameters\\{name} as the INF writes it: {text}"
            ),
        }
    }
    assert!(
        text.contains(r#""ImagePath"="C:\\windows\\system32\\drivers\\wsktrace_driver.sys""#),
        "{text}"
    );
}

#[test]
fn dissect_reads_the_same_records() {
    let runs = runs("wine dissect.etl");
    if runs.is_empty() {
        return;
    }
    let python = std::env::var_os("WSKTRACE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    let has_dissect = Command::new(&python)
        .args(["-c", "import dissect.etl"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_dissect {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} with dissect.etl not found (tests/run.sh creates it; required with CI=true)",
            python.display()
        );
        eprintln!(
            "wine dissect.etl: {} has no dissect.etl: skipped",
            python.display()
        );
        return;
    }
    for run in &runs {
        let (c, etl) = (&run.c, run.file("etl"));
        let out = Command::new(&python)
            .arg(repo().join("tests/dissect_diff.py"))
            .arg(&etl)
            .output()
            .expect("runs dissect_diff.py");
        assert!(
            out.status.success(),
            "{}: dissect_diff.py: {}",
            c.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
        // Ours: every record `wsktrace dump` prints, by provider.
        let (code, dump) = wsktrace(&["dump", etl.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: wsktrace dump", c.name);
        let mut providers: BTreeMap<String, u64> = BTreeMap::new();
        for line in dump.lines() {
            let record: Value = serde_json::from_str(line).expect("JSON line");
            let guid = record["provider_guid"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *providers.entry(guid).or_default() += 1;
        }
        let records: u64 = providers.values().sum();
        assert_eq!(theirs["events"], records, "{}: records", c.name);
        let theirs: BTreeMap<String, u64> =
            serde_json::from_value(theirs["providers"].clone()).expect("providers");
        assert_eq!(theirs, providers, "{}: records per provider", c.name);
    }
}
