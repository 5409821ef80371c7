//! The one fixture every renderer's snapshot test uses: a clean trace, a broken one, one
//! without our events, and one that could not be read.

use super::{FileAnalysis, FileResult};
use crate::analysis::balance::{BalanceChecker, BalanceConfig};
use crate::analysis::testkit::{Seq, MS};
use crate::analysis::{run, AllAnalyses, TraceContext};
use crate::etl;
use crate::pipeline::{ErrorKind, FileStart, TraceError};
use wsktrace_driver::lifecycle::WSK_INFINITE_WAIT;
use wsktrace_driver::ntstatus::NtStatus;

fn analyse(seq: &Seq, ctx: TraceContext, records: u64) -> FileAnalysis {
    let mut all = AllAnalyses {
        balance: BalanceChecker::new(BalanceConfig {
            keep_ok: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    run(&mut all, &ctx, &seq.events, &seq.pnp, seq.now + MS);
    FileAnalysis {
        trace: ctx,
        records,
        events: seq.events.len() as u64,
        undecodable: 0,
        errors: Vec::new(),
        balance: Some(all.balance.into_report()),
        latency: Some(all.latency.report()),
        boot: Some(all.boot.report()),
        timelines: all.timeline.timelines().to_vec(),
        timelines_skipped: all.timeline.skipped,
    }
}

pub fn files() -> Vec<FileResult> {
    let boot = TraceContext {
        start_since_boot_ns: Some(1_500 * MS),
        start_utc: Some("2026-01-02T03:04:05.0000000Z".to_string()),
        events_lost: 0,
        buffers_lost: 0,
    };
    let mut clean = Seq::new();
    clean
        .pnp(4, "\\Driver\\acpi", true)
        .wait(2 * MS)
        .pnp(4, "\\Driver\\acpi", false);
    clean.driver_entry(4, "wskclient").register(4, 1);
    clean.capture(4, 1, 1, 250, 0, 120 * MS, NtStatus::SUCCESS);
    clean.dispatch(4, 1, 1).release(4, 1, 1, 3 * MS);
    clean.driver_entry_stop(4, "wskclient", 125 * MS);
    clean
        .pnp(4, "\\Driver\\disk", true)
        .wait(MS)
        .pnp(4, "\\Driver\\disk", false);
    clean
        .wait(40 * MS)
        .dereg_start(8, 1, 0)
        .dereg_stop(8, 1)
        .unload(8);

    let mut broken = Seq::new();
    broken.driver_entry(4, "brokenclient").register(4, 1);
    broken.capture(4, 1, 1, WSK_INFINITE_WAIT, 0, 30 * MS, NtStatus::SUCCESS);
    broken
        .dispatch(4, 1, 1)
        .release(4, 1, 1, MS)
        .release(4, 1, 1, 0);
    broken.driver_entry_stop(4, "brokenclient", 32 * MS);
    broken.dereg_start(8, 1, 0).dereg_stop(8, 1);
    broken
        .register(8, 2)
        .capture(8, 2, 2, 0, 1, 0, NtStatus::SUCCESS);

    vec![
        FileResult {
            path: "traces/clean.etl".to_string(),
            result: Ok(analyse(&clean, boot, 5_000)),
        },
        FileResult {
            path: "traces/broken.etl".to_string(),
            result: Ok(analyse(&broken, TraceContext::default(), 800)),
        },
        FileResult {
            path: "traces/other.etl".to_string(),
            result: Ok(analyse(&Seq::new(), TraceContext::default(), 1_234)),
        },
        FileResult {
            path: "traces/bad.etl".to_string(),
            result: Err(TraceError::new(
                ErrorKind::NotEtl {
                    start: FileStart::Binary,
                    cause: etl::Error::TruncatedBuffer {
                        offset: 0,
                        size: 0x1_0000,
                        available: 0x200,
                    },
                },
                Some(0),
            )),
        },
    ]
}
