//! The driver's kernel glue loaded on the host as the I/O manager loads a kernel service:
//! `DriverEntry` with the service's registry path, the test's work, then the `DriverUnload` it
//! installed, on the `wdk-sys` stand-ins (`wsktrace_driver::wdk_standin`) and the simulated
//! WSK subsystem. Shared by the tests that run the glue (`#[path]` module).

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use wsktrace_driver::glue::{self, params};
use wsktrace_driver::lifecycle::Clock;
use wsktrace_driver::sim::{HostClock, Recorder, SimConfig, SimWsk};
use wsktrace_driver::wdk_standin::host;
use wsktrace_driver::wdk_standin::{DRIVER_OBJECT, STATUS_SUCCESS};
use wsktrace_tools::scenario::SimTrace;

/// The service key the driver is loaded with (its last component is the client name).
pub const SERVICE_KEY: &str = r"\Registry\Machine\System\CurrentControlSet\Services\wsktrace";

/// Sets `parameters` (value name, `REG_DWORD` or `REG_SZ`) in the service's `Parameters` key, runs
/// `DriverEntry` (which must succeed), `between` (with the simulator), then `DriverUnload`
/// (on another thread, failing the test if it does not return within 10 s); checks that
/// nothing is left behind and returns the recorder's trace. The caller holds
/// `host::serial()`.
pub fn run_driver(
    config: SimConfig,
    parameters: &[(&str, params::Default)],
    between: impl FnOnce(&SimWsk),
) -> SimTrace {
    let clock = HostClock::new();
    let sim = SimWsk::new(config, clock);
    let recorder = Arc::new(Recorder::new(clock));
    host::install_wsk(sim.clone());
    host::install_recorder(recorder.clone());
    let key = format!(r"{SERVICE_KEY}\{}", glue::params::PARAMETERS_KEY);
    for (name, value) in parameters {
        match value {
            params::Default::Dword(value) => host::set_registry_dword(&key, name, *value),
            params::Default::Text(value) => host::set_registry_string(&key, name, value),
        }
    }

    let mut driver = DRIVER_OBJECT::default();
    let mut path: Vec<u16> = SERVICE_KEY.encode_utf16().collect();
    let registry_path = host::unicode_string(&mut path);
    // SAFETY: 1. A valid driver object and registry path, alive for the call, as the I/O
    //            manager passes them.
    let status = unsafe { glue::driver_entry(&mut driver, &registry_path) };
    assert_eq!(status, STATUS_SUCCESS);

    between(&sim);

    let unload = driver.DriverUnload.expect("DriverUnload installed");
    let address = &mut driver as *mut DRIVER_OBJECT as usize;
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: 1. Once, after a successful DriverEntry; the driver object outlives the
        //            call (the test waits for it below).
        unsafe { unload(address as *mut DRIVER_OBJECT) };
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(10))
        .expect("DriverUnload returns");

    host::assert_nothing_left();
    assert_eq!(sim.violations(), Vec::new());
    SimTrace {
        records: recorder.records(),
        lost_events: recorder.lost_events(),
        pnp: Vec::new(),
        end_ns: clock.now_ns(),
    }
}
