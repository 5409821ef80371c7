//! What the check returns: findings, verdicts per registration and client, the report.

use std::sync::Arc;

use serde::Serialize;

use super::rules::{Rule, Severity};
use crate::analysis::EventRef;

/// One finding: the rule, where, and the events that show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which rule.
    pub rule: Rule,
    /// How sure.
    pub severity: Severity,
    /// When (nanoseconds since trace start): the event that completed the finding.
    pub ts_ns: u64,
    /// On which thread.
    pub tid: u32,
    /// The client (DriverEntry's `ClientName`), when known.
    pub client: Option<Arc<str>>,
    /// Registration id.
    pub registration: Option<u32>,
    /// Capture id.
    pub capture: Option<u32>,
    /// Socket id (the socket rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<u32>,
    /// What happened, in one sentence.
    pub message: String,
    /// Why an inconclusive finding is not a violation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The events involved, in time order.
    pub events: Vec<EventRef>,
}

/// A verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every rule held and the trace shows the whole registration.
    Ok,
    /// Not decidable from this trace (reasons given).
    Inconclusive,
    /// At least one rule broken.
    Violation,
}

/// The verdict for one registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrationVerdict {
    /// Registration id (as the driver numbers them).
    pub registration: u32,
    /// 1, 2, ... in the order registrations appear in the file (ids can be reused).
    pub instance: u32,
    /// Client name.
    pub client: Option<Arc<str>>,
    /// First and last event of the registration (ns since trace start).
    pub first_ts_ns: u64,
    /// Last event.
    pub last_ts_ns: u64,
    /// Captures attempted.
    pub captures: u32,
    /// The verdict.
    pub verdict: Verdict,
    /// Why inconclusive.
    pub reasons: Vec<String>,
    /// Violations, inconclusive findings and warnings.
    pub findings: Vec<Finding>,
}

/// Counts of verdicts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    /// Registrations with verdict ok.
    pub ok: u64,
    /// Registrations with verdict inconclusive.
    pub inconclusive: u64,
    /// Registrations with verdict violation.
    pub violation: u64,
    /// Warnings (all registrations).
    pub warnings: u64,
}

impl VerdictCounts {
    pub(super) fn add(&mut self, v: &RegistrationVerdict) {
        match v.verdict {
            Verdict::Ok => self.ok += 1,
            Verdict::Inconclusive => self.inconclusive += 1,
            Verdict::Violation => self.violation += 1,
        }
        self.warnings += v
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count() as u64;
    }

    /// The worst verdict counted (ok when nothing was counted).
    pub fn worst(&self) -> Verdict {
        if self.violation > 0 {
            Verdict::Violation
        } else if self.inconclusive > 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Ok
        }
    }

    /// Registrations counted.
    pub fn total(&self) -> u64 {
        self.ok + self.inconclusive + self.violation
    }
}

/// The verdicts for one client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientVerdict {
    /// Client name (`None`: events before any DriverEntry).
    pub client: Option<Arc<str>>,
    /// Worst verdict of its registrations.
    pub verdict: Verdict,
    /// Its registrations' verdicts.
    pub counts: VerdictCounts,
}

/// The result of the balance check on one trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BalanceReport {
    /// Events of our provider seen.
    pub events: u64,
    /// Worst verdict of all registrations (ok when there are none).
    pub verdict: Verdict,
    /// All registrations.
    pub counts: VerdictCounts,
    /// Per client.
    pub clients: Vec<ClientVerdict>,
    /// Registrations with a verdict other than ok or with findings (all of them with
    /// [`BalanceConfig::keep_ok`](super::BalanceConfig::keep_ok)), in order of first event.
    pub registrations: Vec<RegistrationVerdict>,
    /// Losses the trace reported.
    pub lost: Vec<String>,
}

impl BalanceReport {
    /// Every finding, in registration order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.registrations.iter().flat_map(|r| r.findings.iter())
    }
}
