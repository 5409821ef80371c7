//! Spans per registration for the HTML timeline: DriverEntry, capture waits, held NPIs,
//! deregistration. Kept for the first [`TimelineCollector::MAX_REGISTRATIONS`] registrations
//! of a trace only (a page with a hundred thousand timelines helps nobody).

use std::collections::HashMap;

use serde::Serialize;
use wsktrace_driver::schema::WskEvent;

use super::{EventSink, TraceEvent};

/// What a span shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpanKind {
    /// DriverEntry, start to stop.
    DriverEntry,
    /// A capture, start to stop (the wait).
    CaptureWait,
    /// A captured NPI, capture stop to release.
    Held,
    /// `WskDeregister`, start to stop.
    Deregister,
}

/// One span (ns since trace start); `end` is `None` when the trace ended first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Kind.
    pub kind: SpanKind,
    /// Start.
    pub start_ns: u64,
    /// End, when seen.
    pub end_ns: Option<u64>,
    /// Capture id for waits and held spans.
    pub capture: Option<u32>,
    /// Short text (status, mode).
    pub label: String,
}

/// The spans of one registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrationTimeline {
    /// Registration id.
    pub registration: u32,
    /// Client of the DriverEntry it was registered in.
    pub client: Option<String>,
    /// Spans, in start order.
    pub spans: Vec<Span>,
}

/// Collects [`RegistrationTimeline`]s.
#[derive(Debug, Default)]
pub struct TimelineCollector {
    timelines: Vec<RegistrationTimeline>,
    /// Open registration id → index in `timelines`.
    open: HashMap<u32, usize>,
    /// The DriverEntry running on each thread: (client, start).
    driver_entry: HashMap<u32, (String, u64)>,
    /// DriverEntry spans: (client, start, end).
    entries: Vec<(String, u64, Option<u64>, u32)>,
    /// Registrations not collected (over the limit).
    pub skipped: u64,
    end_ns: u64,
}

impl TimelineCollector {
    /// Registrations kept per trace.
    pub const MAX_REGISTRATIONS: usize = 50;

    /// The timelines; after [`EventSink::finish`].
    pub fn timelines(&self) -> &[RegistrationTimeline] {
        &self.timelines
    }

    fn span_mut(&mut self, reg: u32, kind: SpanKind, capture: Option<u32>) -> Option<&mut Span> {
        let i = *self.open.get(&reg)?;
        self.timelines[i]
            .spans
            .iter_mut()
            .rev()
            .find(|s| s.kind == kind && s.capture == capture && s.end_ns.is_none())
    }

    fn push(&mut self, reg: u32, span: Span) {
        if let Some(&i) = self.open.get(&reg) {
            self.timelines[i].spans.push(span);
        }
    }
}

impl EventSink for TimelineCollector {
    fn event(&mut self, ev: &TraceEvent) {
        let ts = ev.ts_ns;
        match &ev.event {
            WskEvent::DriverEntryStart { client_name } => {
                self.driver_entry.insert(ev.tid, (client_name.clone(), ts));
                self.entries.push((client_name.clone(), ts, None, ev.tid));
            }
            WskEvent::DriverEntryStop { .. } => {
                self.driver_entry.remove(&ev.tid);
                if let Some(e) = self
                    .entries
                    .iter_mut()
                    .rev()
                    .find(|e| e.3 == ev.tid && e.2.is_none())
                {
                    e.2 = Some(ts);
                }
            }
            WskEvent::WskRegister {
                registration_id,
                status,
                ..
            } if status.is_success() => {
                if self.timelines.len() >= Self::MAX_REGISTRATIONS {
                    self.skipped += 1;
                    return;
                }
                let entry = self
                    .entries
                    .iter()
                    .rev()
                    .find(|e| e.3 == ev.tid && e.2.is_none())
                    .or(self.entries.last())
                    .cloned();
                let mut spans = Vec::new();
                if let Some((client, start, _, tid)) = &entry {
                    spans.push(Span {
                        kind: SpanKind::DriverEntry,
                        start_ns: *start,
                        end_ns: None,
                        capture: None,
                        label: format!("DriverEntry {client} (tid {tid})"),
                    });
                }
                self.open.insert(*registration_id, self.timelines.len());
                self.timelines.push(RegistrationTimeline {
                    registration: *registration_id,
                    client: entry.map(|e| e.0),
                    spans,
                });
            }
            WskEvent::CaptureProviderNpiStart {
                registration_id,
                capture_id,
                wait_timeout_ms,
                ..
            } => self.push(
                *registration_id,
                Span {
                    kind: SpanKind::CaptureWait,
                    start_ns: ts,
                    end_ns: None,
                    capture: Some(*capture_id),
                    label: format!(
                        "capture {capture_id} ({})",
                        super::latency::wait_mode(*wait_timeout_ms)
                    ),
                },
            ),
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                ..
            } => {
                if let Some(s) =
                    self.span_mut(*registration_id, SpanKind::CaptureWait, Some(*capture_id))
                {
                    s.end_ns = Some(ts);
                    s.label = format!("{}: {}", s.label, super::latency::outcome_name(*status));
                }
                if status.is_success() {
                    self.push(
                        *registration_id,
                        Span {
                            kind: SpanKind::Held,
                            start_ns: ts,
                            end_ns: None,
                            capture: Some(*capture_id),
                            label: format!("NPI held (capture {capture_id})"),
                        },
                    );
                }
            }
            WskEvent::ReleaseProviderNpi {
                registration_id,
                capture_id,
                ..
            } => {
                if let Some(s) = self.span_mut(*registration_id, SpanKind::Held, Some(*capture_id))
                {
                    s.end_ns = Some(ts);
                }
            }
            WskEvent::WskDeregisterStart {
                registration_id, ..
            } => self.push(
                *registration_id,
                Span {
                    kind: SpanKind::Deregister,
                    start_ns: ts,
                    end_ns: None,
                    capture: None,
                    label: "WskDeregister".to_string(),
                },
            ),
            WskEvent::WskDeregisterStop {
                registration_id, ..
            } => {
                if let Some(s) = self.span_mut(*registration_id, SpanKind::Deregister, None) {
                    s.end_ns = Some(ts);
                }
                self.open.remove(registration_id);
            }
            _ => {}
        }
    }

    fn finish(&mut self, end_ns: u64) {
        self.end_ns = end_ns;
        // DriverEntry spans get their end from the entry list.
        for t in &mut self.timelines {
            for s in &mut t.spans {
                if s.kind == SpanKind::DriverEntry {
                    if let Some(e) = self.entries.iter().find(|e| e.1 == s.start_ns) {
                        s.end_ns = e.2;
                    }
                }
            }
            t.spans.sort_by_key(|s| s.start_ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testkit::{Seq, MS};
    use crate::analysis::{run, TraceContext};

    #[test]
    fn spans_of_a_clean_lifecycle() {
        let mut s = Seq::new();
        s.clean(10, 1, 1, 5 * MS);
        let mut t = TimelineCollector::default();
        run(&mut t, &TraceContext::default(), &s.events, &[], s.now);
        let tl = &t.timelines()[0];
        let kinds: Vec<SpanKind> = tl.spans.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SpanKind::DriverEntry,
                SpanKind::CaptureWait,
                SpanKind::Held,
                SpanKind::Deregister
            ]
        );
        assert!(tl.spans.iter().all(|s| s.end_ns.is_some()));
        assert_eq!(tl.client.as_deref(), Some("wskclient"));
    }
}
