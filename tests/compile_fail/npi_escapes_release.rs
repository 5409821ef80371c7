// A dispatch call cannot hold on to the provider NPI past the call (and so past the release).
use wsktrace_driver::lifecycle::*;

fn escape<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
    let mut kept = None;
    let _ = npi.call("WskSocket", |_api, raw| {
        kept = Some(raw);
        Ok(())
    });
    npi.release();
    let _ = kept;
}

fn main() {}
