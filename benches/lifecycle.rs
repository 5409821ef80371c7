//! Cost per lifecycle transition, with the WSK calls themselves made free (a no-op
//! [`WskApi`]), so only the core and its instrumentation are measured.
//!
//! One cycle = 3 transitions: capture (`CaptureProviderNpi` Start/Stop), one provider dispatch
//! call (`DispatchCall`), release (`ReleaseProviderNpi`).
//! - `uninstrumented`: [`NullSink`], whose `enabled` is a constant `false` (events compile away);
//! - `disabled`: the host recorder switched off (the runtime "provider disabled" branch);
//! - `enabled`: the host recorder recording every event (clock reads, event built, stored).
//!
//! Before the criterion runs, a paired measurement (variants timed alternately, best round
//! kept) prints the per-transition figures, including a disabled sink shaped like the Windows
//! `EtwSink` (one static word read per check).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::{CallingContext, WskEventRef};
use wsktrace_driver::sim::{HostClock, Recorder};

/// Every WSK call succeeds at once.
struct NoopApi;

impl WskApi for NoopApi {
    type Registration = ();
    type ProviderNpi = ();
    type Socket = ();
    type Connection = ();
    fn register(&self, _version: u16) -> Result<(), NtStatus> {
        Ok(())
    }
    fn capture(&self, _r: &(), _wait: u32) -> Result<(), NtStatus> {
        Ok(())
    }
    fn release(&self, _r: &()) {}
    fn query_characteristics(&self, _r: &()) -> Result<ProviderCharacteristics, NtStatus> {
        Ok(ProviderCharacteristics {
            highest_version: 0x100,
            lowest_version: 0x100,
        })
    }
    fn deregister(&self, _r: &()) {}
    fn socket_listen(&self, _n: &(), _p: &ListenParams) -> Result<(), NtStatus> {
        Ok(())
    }
    fn bind(&self, _s: &(), _p: &ListenParams) -> NtStatus {
        NtStatus::SUCCESS
    }
    fn accept(
        &self,
        _s: &(),
        _issued: &dyn Fn(),
    ) -> Result<wsktrace_driver::lifecycle::Accepted<()>, NtStatus> {
        Err(NtStatus::CANCELLED)
    }
    fn close_connection(&self, _c: ()) -> NtStatus {
        NtStatus::SUCCESS
    }
    fn close_socket(&self, _s: &()) -> NtStatus {
        NtStatus::SUCCESS
    }
}

fn cycle<S: EventSink>(reg: &TryArc<Registration<NoopApi, S, HostClock>>) {
    let mut npi = reg
        .capture(WaitTimeout::NoWait, CallingContext::Other)
        .unwrap();
    let r: Result<(), NtStatus> = npi.call("WskControlClient", |_, n| {
        black_box(n);
        Ok(())
    });
    black_box(r).unwrap();
    npi.release();
}

fn bench<S: EventSink>(c: &mut Criterion, name: &str, sink: S, after_batch: impl Fn()) {
    let client = WskClient::new(NoopApi, sink, HostClock::new()).unwrap();
    let reg = client.register(make_wsk_version(1, 0)).unwrap();
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                cycle(black_box(&reg));
            }
            let elapsed = t.elapsed();
            after_batch();
            elapsed
        })
    });
}

fn transitions(c: &mut Criterion) {
    bench(c, "cycle_3_transitions/uninstrumented", NullSink, || {});
    let off = Arc::new(Recorder::new(HostClock::new()));
    off.set_enabled(false);
    bench(c, "cycle_3_transitions/disabled", off, || {});
    let on = Arc::new(Recorder::new(HostClock::new()));
    let on2 = on.clone();
    bench(
        c,
        "cycle_3_transitions/enabled_host_recorder",
        on,
        move || {
            on2.take();
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = transitions
}
/// The shape of the Windows [`EtwSink`]: one static provider state word read per check.
static PROVIDER_ON: AtomicBool = AtomicBool::new(false);

/// A sink like [`EtwSink`]: enabled state in a static, read with one load.
struct StaticFlagSink;

impl EventSink for StaticFlagSink {
    #[inline(always)]
    fn enabled(&self, _keywords: u64) -> bool {
        PROVIDER_ON.load(Ordering::Relaxed)
    }
    fn write(&self, _activity: &ActivityId, event: &WskEventRef<'_>) {
        black_box(event);
    }
}

fn time_cycles<S: EventSink>(
    reg: &TryArc<Registration<NoopApi, S, HostClock>>,
    cycles: u32,
) -> f64 {
    let t = Instant::now();
    for _ in 0..cycles {
        cycle(black_box(reg));
    }
    t.elapsed().as_nanos() as f64
}

/// Paired measurement, less sensitive to load from other processes than separate criterion
/// runs: the variants are timed alternately, many rounds, and the fastest round of each is
/// kept. Prints ns per transition and the disabled-minus-uninstrumented overheads.
fn paired() {
    const CYCLES: u32 = 50_000;
    const ROUNDS: u32 = 200;
    let v = make_wsk_version(1, 0);
    let null = WskClient::new(NoopApi, NullSink, HostClock::new()).unwrap();
    let null_reg = null.register(v).unwrap();
    let flag = WskClient::new(NoopApi, StaticFlagSink, HostClock::new()).unwrap();
    let flag_reg = flag.register(v).unwrap();
    let off = Arc::new(Recorder::new(HostClock::new()));
    off.set_enabled(false);
    let off_client = WskClient::new(NoopApi, off, HostClock::new()).unwrap();
    let off_reg = off_client.register(v).unwrap();
    let on = Arc::new(Recorder::new(HostClock::new()));
    let on_client = WskClient::new(NoopApi, on.clone(), HostClock::new()).unwrap();
    let on_reg = on_client.register(v).unwrap();
    let mut best = [f64::MAX; 4];
    for _ in 0..ROUNDS {
        best[0] = best[0].min(time_cycles(&null_reg, CYCLES));
        best[1] = best[1].min(time_cycles(&flag_reg, CYCLES));
        best[2] = best[2].min(time_cycles(&off_reg, CYCLES));
        best[3] = best[3].min(time_cycles(&on_reg, CYCLES / 20) * 20.0);
        on.take();
    }
    let per = |ns: f64| ns / f64::from(CYCLES) / 3.0;
    println!(
        "paired, best of {ROUNDS} rounds, ns per transition: uninstrumented {:.2}; \
         disabled (static flag, EtwSink shape) {:.2} (+{:.2}); disabled (host recorder) {:.2} \
         (+{:.2}); enabled (host recorder) {:.1}",
        per(best[0]),
        per(best[1]),
        per(best[1]) - per(best[0]),
        per(best[2]),
        per(best[2]) - per(best[0]),
        per(best[3]),
    );
}

fn main() {
    paired();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
