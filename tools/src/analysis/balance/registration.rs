//! One registration: its captures, its deregistration, what was lost during it, its findings,
//! and its verdict once it is over.

use std::sync::Arc;

use wsktrace_driver::schema::WskEvent;

use super::capture::{CapState, CaptureTable};
use super::rules::{Rule, Severity};
use super::socket::SocketTable;
use super::verdict::{Finding, RegistrationVerdict, Verdict};
use crate::analysis::{EventRef, TraceEvent};

/// One registration, from `WskRegister` (or its first event in the trace) to its end.
#[derive(Debug)]
pub(super) struct Registration {
    pub(super) id: u32,
    pub(super) instance: u32,
    pub(super) client: Option<Arc<str>>,
    /// `WskRegister` of this registration is in the trace.
    pub(super) saw_register: bool,
    pub(super) first_ts: u64,
    pub(super) last_ts: u64,
    pub(super) captures: CaptureTable,
    pub(super) sockets: SocketTable,
    pub(super) attempts: u32,
    pub(super) dereg_start: Option<TraceEvent>,
    pub(super) dereg_stop: Option<TraceEvent>,
    pub(super) unload: Option<TraceEvent>,
    /// Losses during the registration.
    pub(super) lost: Vec<String>,
    /// A `STATUS_NOINTERFACE` capture stop not yet followed by a new registration.
    pub(super) nointerface: Option<(TraceEvent, Option<TraceEvent>)>,
    pub(super) findings: Vec<Finding>,
}

impl Registration {
    /// Boxed: registrations move between the open map and the recent queue, and are large.
    pub(super) fn new(
        id: u32,
        instance: u32,
        client: Option<Arc<str>>,
        ts: u64,
        saw_register: bool,
    ) -> Box<Self> {
        Box::new(Registration {
            id,
            instance,
            client,
            saw_register,
            first_ts: ts,
            last_ts: ts,
            captures: CaptureTable::default(),
            sockets: SocketTable::default(),
            attempts: 0,
            dereg_start: None,
            dereg_stop: None,
            unload: None,
            lost: Vec::new(),
            nointerface: None,
            findings: Vec::new(),
        })
    }

    pub(super) fn finding(
        &mut self,
        rule: Rule,
        ev: &TraceEvent,
        capture: Option<u32>,
        message: String,
        events: Vec<EventRef>,
        uncertain: Option<String>,
    ) {
        let (severity, reason) = match (rule.severity(), uncertain) {
            (Severity::Violation, Some(r)) => (Severity::Inconclusive, Some(r)),
            (s, _) => (s, None),
        };
        self.findings.push(Finding {
            rule,
            severity,
            ts_ns: ev.ts_ns,
            tid: ev.tid,
            client: self.client.clone(),
            registration: Some(self.id),
            capture,
            socket: None,
            message,
            reason,
            events,
        });
    }

    /// A finding about socket `socket` (a socket rule; it depends on nothing before the
    /// socket's creation, which the trace shows).
    pub(super) fn socket_finding(
        &mut self,
        rule: Rule,
        ev: &TraceEvent,
        socket: u32,
        message: String,
        mut events: Vec<EventRef>,
    ) {
        events.sort_by_key(|e| e.ts_ns);
        self.finding(rule, ev, None, message, events, None);
        if let Some(f) = self.findings.last_mut() {
            f.socket = Some(socket);
        }
    }

    /// Why a finding that depends on the registration's history before the trace is uncertain.
    pub(super) fn history_gap(&self) -> Option<String> {
        (!self.saw_register).then(|| "the trace starts after this registration began".to_string())
    }
}

/// Held captures at the registration's end (deregister pending at trace end, or unload).
pub(super) fn held_at_end(reg: &mut Registration, at: &TraceEvent, pending_dereg: bool) {
    let mut held: Vec<u32> = reg
        .captures
        .iter()
        .filter(|(_, c)| c.state == CapState::Held && !c.reported)
        .map(|(id, _)| *id)
        .collect();
    held.sort_unstable();
    for cap in held {
        let c = reg.captures.get_mut(&cap).expect("listed");
        c.reported = true;
        let mut events = c.events();
        events.push(EventRef::of(at));
        let message = if pending_dereg {
            format!(
                "capture {cap} was never released; WskDeregister was still waiting for it when the trace ended"
            )
        } else {
            format!("capture {cap} was never released before the driver unloaded")
        };
        let anchor = c.stop_event().unwrap_or_else(|| at.clone());
        reg.finding(
            Rule::CaptureNotReleased,
            &anchor,
            Some(cap),
            message,
            events,
            None,
        );
    }
}

impl Registration {
    /// The findings that need the registration to be over, then its verdict: every rule
    /// held and the whole registration seen is ok; a broken rule is a violation, unless
    /// events were lost during the registration (then inconclusive, with the losses as
    /// reasons); a registration whose start or end the trace misses is inconclusive.
    /// Takes the box: the verdict needs a few fields, and moving the whole registration out
    /// first was a visible copy per registration.
    pub(super) fn into_verdict(mut self: Box<Self>) -> RegistrationVerdict {
        self.report_never_released();
        self.report_nointerface();
        let reasons = self.uncertainty();
        let any = |s: Severity| self.findings.iter().any(|f| f.severity == s);
        let verdict = if any(Severity::Violation) {
            Verdict::Violation
        } else if !reasons.is_empty() || any(Severity::Inconclusive) {
            Verdict::Inconclusive
        } else {
            Verdict::Ok
        };
        self.findings.sort_by_key(|f| (f.ts_ns, f.rule));
        RegistrationVerdict {
            registration: self.id,
            instance: self.instance,
            client: self.client,
            first_ts_ns: self.first_ts,
            last_ts_ns: self.last_ts,
            captures: self.attempts,
            verdict,
            reasons,
            findings: self.findings,
        }
    }

    /// Captures still held when `WskDeregister` returned and never released afterwards.
    fn report_never_released(&mut self) {
        let mut never: Vec<u32> = self
            .captures
            .iter()
            .filter(|(_, c)| c.state == CapState::Held && c.held_at_dereg_stop.is_some())
            .map(|(id, _)| *id)
            .collect();
        never.sort_unstable();
        for cap in never {
            let c = self.captures.get_mut(&cap).expect("listed");
            let stop = c.held_at_dereg_stop.take().expect("filtered");
            c.reported = true;
            let mut events = c.events();
            events.extend(self.dereg_start.iter().map(EventRef::of));
            events.push(EventRef::of(&stop));
            events.sort_by_key(|e| e.ts_ns);
            let anchor = c.stop_event().unwrap_or_else(|| (*stop).clone());
            self.finding(
                Rule::CaptureNotReleased,
                &anchor,
                Some(cap),
                format!(
                    "capture {cap} was never released; WskDeregister returned while it was still held"
                ),
                events,
                None,
            );
        }
    }

    /// A `STATUS_NOINTERFACE` no later registration of the client answered.
    fn report_nointerface(&mut self) {
        let Some((stop, query)) = self.nointerface.take() else {
            return;
        };
        let capture = match &stop.event {
            WskEvent::CaptureProviderNpiStop { capture_id, .. } => Some(*capture_id),
            _ => None,
        };
        let mut events = vec![EventRef::of(&stop)];
        events.extend(query.as_ref().map(EventRef::of));
        self.finding(
            Rule::NointerfaceWithoutFallback,
            &stop,
            capture,
            "capture returned STATUS_NOINTERFACE and the client never registered again".to_string(),
            events,
            None,
        );
    }

    /// Why the trace cannot settle this registration (empty when it can): losses during
    /// it (which also turn its violations inconclusive), a start or end outside the trace.
    fn uncertainty(&mut self) -> Vec<String> {
        let mut reasons = Vec::new();
        if !self.lost.is_empty() {
            reasons.extend(self.lost.iter().cloned());
            for f in &mut self.findings {
                if f.severity == Severity::Violation {
                    f.severity = Severity::Inconclusive;
                    f.reason = Some("events were lost during this registration".to_string());
                }
            }
        }
        if let Some(gap) = self.history_gap() {
            reasons.push(gap);
        }
        let ended = self.dereg_stop.is_some() || self.unload.is_some();
        if !ended {
            if self.dereg_start.is_some() {
                reasons.push("the trace ends while WskDeregister is still waiting".to_string());
            } else {
                reasons.push("the trace ends before this registration is deregistered".to_string());
            }
        }
        reasons
    }
}
