//! What the `lifecycle_*` tests share.
#![allow(dead_code)]

use std::time::Duration;

use wsktrace_driver::lifecycle::*;
use wsktrace_driver::schema::WskEvent;
use wsktrace_driver::sim::{Record, SimConfig, SimHarness};

/// Generous upper slack for waits: the machine is shared and has 2 cores.
pub const SLACK: Duration = Duration::from_millis(300);

pub fn harness(config: SimConfig) -> SimHarness {
    SimHarness::new(config)
}

pub fn ready_after(ms: u64) -> SimConfig {
    SimConfig {
        ready_after: Some(Duration::from_millis(ms)),
        ..SimConfig::default()
    }
}

pub fn never_ready() -> SimConfig {
    SimConfig {
        ready_after: None,
        ..SimConfig::default()
    }
}

/// Asserts `ns` is within [expected, expected + SLACK].
pub fn assert_wait(ns: u64, expected: Duration) {
    let d = Duration::from_nanos(ns);
    assert!(
        d + Duration::from_millis(2) >= expected && d <= expected + SLACK,
        "wait {d:?}, expected about {expected:?}"
    );
}

/// Event variant names in order, e.g. for a compact sequence assertion.
pub fn names(events: &[WskEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.descriptor().variant).collect()
}

/// The records whose event is a `CaptureProviderNpiStop`: (capture id, status, wait ns).
pub fn capture_stops(events: &[WskEvent]) -> Vec<(u32, NtStatus, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            WskEvent::CaptureProviderNpiStop {
                capture_id,
                status,
                wait_ns,
                ..
            } => Some((*capture_id, *status, *wait_ns)),
            _ => None,
        })
        .collect()
}

/// Checks the Start/Stop pairing of records: each Stop shares its Start's activity id.
pub fn assert_pairs_share_activity(records: &[Record]) {
    use wsktrace_driver::schema::opcode;
    for (i, r) in records.iter().enumerate() {
        let d = r.event.descriptor();
        if d.opcode == opcode::STOP {
            let start = records[..i]
                .iter()
                .rev()
                .find(|s| s.activity_id == r.activity_id)
                .unwrap_or_else(|| panic!("stop {} without start", d.variant));
            let sd = start.event.descriptor();
            assert_eq!(sd.name, d.name);
            assert_eq!(sd.opcode, opcode::START);
            assert_ne!(r.activity_id, [0; 16]);
        }
    }
}

/// Every successful capture has exactly one release with the same ids, no other releases.
pub fn assert_balanced(events: &[WskEvent]) {
    let mut captured = std::collections::HashMap::new();
    for e in events {
        match e {
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                ..
            } if status.is_success() => {
                assert!(captured
                    .insert((*registration_id, *capture_id), 0u32)
                    .is_none());
            }
            WskEvent::ReleaseProviderNpi {
                registration_id,
                capture_id,
                ..
            } => {
                let n = captured
                    .get_mut(&(*registration_id, *capture_id))
                    .expect("release without capture");
                *n += 1;
            }
            _ => {}
        }
    }
    for (ids, n) in captured {
        assert_eq!(n, 1, "capture {ids:?} released {n} times");
    }
}
