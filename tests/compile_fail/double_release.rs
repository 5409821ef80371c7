// Releasing the same captured NPI twice does not compile.
use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::CallingContext;
use wsktrace_driver::sim::{SimConfig, SimHarness};

fn main() {
    let h = SimHarness::new(SimConfig::default());
    let reg = h.client.register(make_wsk_version(1, 0)).unwrap();
    let npi = reg.capture(WaitTimeout::NoWait, CallingContext::Other).unwrap();
    npi.release();
    npi.release();
}
