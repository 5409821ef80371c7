//! What the example's tests share: their trace written as ETL, read back and balance-checked.

use wsktrace_driver::lifecycle::Clock;
use wsktrace_driver::sim::{HostClock, Recorder};
use wsktrace_tools::analysis::balance::{BalanceChecker, BalanceConfig, Verdict};
use wsktrace_tools::pipeline::{read_bytes, ReadOptions};
use wsktrace_tools::scenario::{self, SimTrace};

/// The recorder's trace written as ETL, read back and balance-checked: its verdict and the
/// number of registrations judged (no finding allowed).
pub fn check(recorder: &Recorder, clock: &HostClock) -> (Verdict, usize) {
    let trace = SimTrace {
        records: recorder.take(),
        lost_events: recorder.lost_events(),
        pnp: Vec::new(),
        end_ns: clock.now_ns(),
    };
    let (bytes, _) = scenario::write_etl(&trace, Vec::new(), scenario::session_config("sub"))
        .expect("ETL written");
    let mut checker = BalanceChecker::new(BalanceConfig {
        keep_ok: true,
        ..BalanceConfig::default()
    });
    read_bytes(&bytes, &mut checker, ReadOptions::default(), &mut |e| {
        panic!("reading back: {e}")
    })
    .expect("read back");
    let report = checker.into_report();
    assert_eq!(report.findings().count(), 0, "{:?}", report.registrations);
    (report.verdict, report.registrations.len())
}
