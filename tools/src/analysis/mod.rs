//! Analyses over decoded events: capture/release balance ([`balance`]), capture latency
//! ([`latency`]) and startup-wait impact in boot traces ([`boot`]).
//!
//! Nothing here touches a file. An analysis is an [`EventSink`]: whoever reads a trace (the
//! CLI's ETL glue, or a test with a hand-built sequence) calls [`EventSink::begin`] with the
//! facts of the trace, then [`EventSink::event`] for each event of our provider in timestamp
//! order, [`EventSink::pnp`] for Kernel-PnP DriverInit events of other drivers,
//! [`EventSink::lost`] where the reader learns that events were lost, and finally
//! [`EventSink::finish`]. This is ripgrep's searcher/sink split: the reader never formats, the
//! analyses never read, and the renderers in [`crate::report`] only print what the analyses
//! return.

pub mod balance;
pub mod boot;
pub mod latency;
pub mod stats;
pub mod timeline;

use serde::Serialize;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::{FieldKind, FieldValue, WskEvent};

/// One event of the `Wsktrace.WskClient` provider, with the ETW header facts the analyses need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// Nanoseconds since the trace started (from the ETW header's timestamp).
    pub ts_ns: u64,
    /// Thread id from the ETW header.
    pub tid: u32,
    /// Activity id from the ETW header (all zero when absent).
    pub activity: [u8; 16],
    /// The typed event.
    pub event: WskEvent,
}

/// Facts about the whole trace, known before its events are read (from the logfile header).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TraceContext {
    /// Nanoseconds from system boot to the trace start, when the header tells the boot time.
    pub start_since_boot_ns: Option<u64>,
    /// Trace start as RFC 3339 UTC text, when known.
    pub start_utc: Option<String>,
    /// Events the logger reported lost (logfile header).
    pub events_lost: u64,
    /// Buffers the logger reported lost (logfile header).
    pub buffers_lost: u64,
}

impl TraceContext {
    /// True when the header reports any loss.
    pub fn lossy(&self) -> bool {
        self.events_lost != 0 || self.buffers_lost != 0
    }
}

/// Start (Kernel-PnP event 226) or end (227) of another driver's initialization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PnpDriverInit {
    /// Nanoseconds since trace start.
    pub ts_ns: u64,
    /// Thread id from the ETW header.
    pub tid: u32,
    /// Driver name as the event gives it (`\Driver\Foo` or a service name).
    pub driver: String,
    /// `true` for 226 (DriverInit start), `false` for 227 (stop).
    pub start: bool,
}

/// Events lost somewhere in the trace, found while reading (a buffer flag, a gap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostEvents {
    /// Roughly where (nanoseconds since trace start), when known.
    pub ts_ns: Option<u64>,
    /// How many, when known (0 = unknown count).
    pub count: u64,
    /// Where the reader saw it (for the reason text), e.g. "buffer at byte 0x10000".
    pub what: String,
}

/// Receives a trace's events; implemented by every analysis.
pub trait EventSink {
    /// Called once before any event.
    fn begin(&mut self, _ctx: &TraceContext) {}
    /// One event of our provider, in timestamp order.
    fn event(&mut self, ev: &TraceEvent);
    /// One Kernel-PnP DriverInit event of another driver.
    fn pnp(&mut self, _ev: &PnpDriverInit) {}
    /// The reader found lost events.
    fn lost(&mut self, _lost: &LostEvents) {}
    /// Called once after the last event; `end_ns` is the trace end (since trace start).
    fn finish(&mut self, _end_ns: u64) {}
}

/// Every analysis at once (one pass over the file for `report`).
#[derive(Debug, Default)]
pub struct AllAnalyses {
    /// Balance verdicts.
    pub balance: balance::BalanceChecker,
    /// Capture latency.
    pub latency: latency::LatencyAnalyzer,
    /// Boot impact.
    pub boot: boot::BootAnalyzer,
    /// Timelines for the HTML report.
    pub timeline: timeline::TimelineCollector,
}

impl EventSink for AllAnalyses {
    fn begin(&mut self, ctx: &TraceContext) {
        self.balance.begin(ctx);
        self.latency.begin(ctx);
        self.boot.begin(ctx);
        self.timeline.begin(ctx);
    }
    fn event(&mut self, ev: &TraceEvent) {
        self.balance.event(ev);
        self.latency.event(ev);
        self.boot.event(ev);
        self.timeline.event(ev);
    }
    fn pnp(&mut self, ev: &PnpDriverInit) {
        self.boot.pnp(ev);
    }
    fn lost(&mut self, lost: &LostEvents) {
        self.balance.lost(lost);
        self.latency.lost(lost);
        self.boot.lost(lost);
    }
    fn finish(&mut self, end_ns: u64) {
        self.balance.finish(end_ns);
        self.latency.finish(end_ns);
        self.boot.finish(end_ns);
        self.timeline.finish(end_ns);
    }
}

/// Feeds a whole hand-built or collected trace to a sink (tests, small traces).
pub fn run<S: EventSink>(
    sink: &mut S,
    ctx: &TraceContext,
    events: &[TraceEvent],
    pnp: &[PnpDriverInit],
    end_ns: u64,
) {
    sink.begin(ctx);
    let (mut i, mut j) = (0, 0);
    while i < events.len() || j < pnp.len() {
        let take_event = j >= pnp.len() || (i < events.len() && events[i].ts_ns <= pnp[j].ts_ns);
        if take_event {
            sink.event(&events[i]);
            i += 1;
        } else {
            sink.pnp(&pnp[j]);
            j += 1;
        }
    }
    sink.finish(end_ns);
}

/// One event named in a finding, in a form every renderer can print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventRef {
    /// Nanoseconds since trace start.
    pub ts_ns: u64,
    /// Thread id.
    pub tid: u32,
    /// ETW event name (`CaptureProviderNpi`).
    pub name: &'static str,
    /// `Start`, `Stop` or `Info`.
    pub opcode: &'static str,
    /// The fields as `Name=value` text.
    pub fields: String,
}

impl EventRef {
    /// Describes `ev`.
    pub fn of(ev: &TraceEvent) -> EventRef {
        let desc = ev.event.descriptor();
        let mut fields = String::new();
        for (i, (name, value)) in ev.event.fields().iter().enumerate() {
            if i > 0 {
                fields.push(' ');
            }
            let kind = desc.fields.get(i).map(|f| f.kind);
            fields.push_str(name);
            fields.push('=');
            fields.push_str(&format_value(kind, value));
        }
        EventRef {
            ts_ns: ev.ts_ns,
            tid: ev.tid,
            name: desc.name,
            opcode: opcode_name(desc.opcode),
            fields,
        }
    }
}

fn format_value(kind: Option<FieldKind>, value: &FieldValue<'_>) -> String {
    match (kind, value) {
        (Some(FieldKind::Status), FieldValue::U32(v)) => {
            let st = NtStatus::from_u32(*v);
            match st.name() {
                Some(n) => n.to_string(),
                None => format!("{v:#010x}"),
            }
        }
        (Some(FieldKind::U16Hex), FieldValue::U16(v)) => format!("{v:#06x}"),
        (Some(FieldKind::Bool), FieldValue::U8(v)) => (*v != 0).to_string(),
        (_, FieldValue::Str(s)) => format!("{s:?}"),
        (_, FieldValue::U8(v)) => v.to_string(),
        (_, FieldValue::U16(v)) => v.to_string(),
        (_, FieldValue::U32(v)) => v.to_string(),
        (_, FieldValue::U64(v)) => v.to_string(),
    }
}

/// `Start`/`Stop`/`Info` for an opcode byte.
pub fn opcode_name(op: u8) -> &'static str {
    match op {
        1 => "Start",
        2 => "Stop",
        _ => "Info",
    }
}

#[cfg(test)]
pub(crate) mod testkit;
