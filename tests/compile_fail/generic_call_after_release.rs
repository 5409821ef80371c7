// Any provider dispatch call (`call`) after release does not compile, for every platform.
use wsktrace_driver::lifecycle::*;

fn use_after_release<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
    npi.release();
    let _ = npi.call("WskControlClient", |_api, _npi| Ok(()));
}

fn main() {}
