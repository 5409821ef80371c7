//! Startup-wait impact: what our DriverEntry cost a boot.
//!
//! Per client (DriverEntry `ClientName`) in a trace: when DriverEntry started relative to boot,
//! how long it ran, how long it was blocked in `WskCaptureProviderNPI` on its own thread, when
//! WSK became ready (the first successful capture stop), and which other drivers'
//! initialization (Microsoft-Windows-Kernel-PnP DriverInit, events 226/227) was delayed while
//! ours blocked.
//!
//! "Delayed": the I/O manager initializes boot drivers one after another on one thread, so a
//! driver whose DriverInit starts on the thread our DriverEntry ran on, after our DriverEntry
//! began, waited for every nanosecond our DriverEntry was blocked before it started. Drivers
//! that initialized on other threads are not counted (they ran alongside ours). The delay
//! reported is our blocked time on the DriverEntry thread before the driver's start.

use std::collections::HashMap;

use serde::Serialize;
use wsktrace_driver::schema::{CallingContext, WskEvent};

use super::balance::ids::IdKeyed;
use super::stats::Summary;
use super::{EventSink, PnpDriverInit, TraceContext, TraceEvent};

/// Another driver delayed by our DriverEntry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DelayedDriver {
    /// Driver name from the PnP event.
    pub driver: String,
    /// Its DriverInit start (ns since boot, or since trace start without boot time).
    pub init_start_ns: u64,
    /// Its initialization time, when the 227 event is in the trace.
    pub init_duration_ns: Option<u64>,
    /// Our blocked time before its start.
    pub delay_ns: u64,
}

/// Boot impact of one client in one trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BootImpact {
    /// Client name.
    pub client: String,
    /// Whether the `*_since_boot` times are relative to boot (true) or to trace start.
    pub relative_to_boot: bool,
    /// DriverEntry start.
    pub driver_entry_start_ns: u64,
    /// DriverEntry thread.
    pub driver_entry_tid: u32,
    /// DriverEntry duration (`DurationNs` of the Stop event; timestamps without it).
    pub driver_entry_duration_ns: Option<u64>,
    /// Time blocked in capture on the DriverEntry thread during DriverEntry.
    pub blocked_in_capture_ns: u64,
    /// First successful capture stop (any thread).
    pub wsk_ready_ns: Option<u64>,
    /// Drivers delayed while ours blocked.
    pub delayed_drivers: Vec<DelayedDriver>,
    /// The largest of their delays: the boot waited this long behind our DriverEntry (at
    /// most the blocked time).
    pub max_delay_ns: u64,
    /// The sum of their delays: the same blocked time counted once per driver that waited
    /// behind it, so not a time the boot lost (see `max_delay_ns`).
    pub total_delay_ns: u64,
}

/// The result of the boot analysis on one trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BootReport {
    /// Trace start since boot, when the header tells the boot time.
    pub trace_start_since_boot_ns: Option<u64>,
    /// One entry per DriverEntry seen.
    pub clients: Vec<BootImpact>,
    /// Kernel-PnP DriverInit starts seen (other drivers).
    pub pnp_driver_inits: u64,
}

#[derive(Debug)]
struct Entry {
    client: String,
    tid: u32,
    start: u64,
    stop: Option<u64>,
    duration: Option<u64>,
    /// Blocked intervals on the DriverEntry thread (trace time).
    blocked: Vec<(u64, u64)>,
    wsk_ready: Option<u64>,
}

/// The boot analysis, as an [`EventSink`].
#[derive(Debug, Default)]
pub struct BootAnalyzer {
    since_boot: Option<u64>,
    entries: Vec<Entry>,
    /// Capture starts: (reg, cap) → (ts, tid, context).
    waiting: IdKeyed<(u32, u32), (u64, u32, u8)>,
    /// PnP DriverInit starts: (tid, driver) → ts.
    pnp_open: HashMap<(u32, String), u64>,
    /// Completed or started inits: (driver, tid, start, duration).
    pnp: Vec<(String, u32, u64, Option<u64>)>,
    report: Option<BootReport>,
}

impl BootAnalyzer {
    /// The result; after [`EventSink::finish`].
    pub fn report(&self) -> BootReport {
        self.report.clone().unwrap_or_default()
    }

    fn rel(&self, ts: u64) -> u64 {
        ts.saturating_add(self.since_boot.unwrap_or(0))
    }
}

impl EventSink for BootAnalyzer {
    fn begin(&mut self, ctx: &TraceContext) {
        self.since_boot = ctx.start_since_boot_ns;
    }

    fn event(&mut self, ev: &TraceEvent) {
        match &ev.event {
            WskEvent::DriverEntryStart { client_name } => self.entries.push(Entry {
                client: client_name.clone(),
                tid: ev.tid,
                start: ev.ts_ns,
                stop: None,
                duration: None,
                blocked: Vec::new(),
                wsk_ready: None,
            }),
            WskEvent::DriverEntryStop { duration_ns, .. } => {
                if let Some(e) = self
                    .entries
                    .iter_mut()
                    .rev()
                    .find(|e| e.tid == ev.tid && e.stop.is_none())
                {
                    e.stop = Some(ev.ts_ns);
                    e.duration = Some(*duration_ns);
                }
            }
            WskEvent::CaptureProviderNpiStart {
                registration_id,
                capture_id,
                calling_context,
                ..
            } => {
                self.waiting.insert(
                    (*registration_id, *capture_id),
                    (ev.ts_ns, ev.tid, *calling_context),
                );
            }
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                wait_ns,
            } => {
                let start = self.waiting.remove(&(*registration_id, *capture_id));
                if let Some(e) = self.entries.last_mut() {
                    if status.is_success() && e.wsk_ready.is_none() {
                        e.wsk_ready = Some(ev.ts_ns);
                    }
                }
                // Blocked on the DriverEntry thread while DriverEntry runs.
                let (from, tid, ctx) = match start {
                    Some((ts, tid, ctx)) => (ts, tid, ctx),
                    None => (ev.ts_ns.saturating_sub(*wait_ns), ev.tid, u8::MAX),
                };
                if let Some(e) = self
                    .entries
                    .iter_mut()
                    .rev()
                    .find(|e| e.tid == tid && e.stop.is_none())
                {
                    if ctx == CallingContext::DriverEntry as u8 || ctx == u8::MAX {
                        // The field is the driver's own measurement (timestamps also hold the
                        // event write): the interval of that length ending at the stop event.
                        let _ = from;
                        e.blocked
                            .push((ev.ts_ns.saturating_sub(*wait_ns), ev.ts_ns));
                    }
                }
            }
            _ => {}
        }
    }

    fn pnp(&mut self, ev: &PnpDriverInit) {
        if ev.start {
            self.pnp_open.insert((ev.tid, ev.driver.clone()), ev.ts_ns);
            self.pnp.push((ev.driver.clone(), ev.tid, ev.ts_ns, None));
        } else if let Some(start) = self.pnp_open.remove(&(ev.tid, ev.driver.clone())) {
            if let Some(p) = self
                .pnp
                .iter_mut()
                .rev()
                .find(|p| p.0 == ev.driver && p.2 == start)
            {
                p.3 = Some(ev.ts_ns.saturating_sub(start));
            }
        }
    }

    fn finish(&mut self, _end_ns: u64) {
        let mut clients = Vec::new();
        for e in &self.entries {
            let blocked_total = sat_sum(e.blocked.iter().map(|(a, b)| b - a));
            let mut delayed = Vec::new();
            for (driver, tid, start, duration) in &self.pnp {
                if *tid != e.tid || *start < e.start || is_same_driver(driver, &e.client) {
                    continue;
                }
                let delay = sat_sum(
                    e.blocked
                        .iter()
                        .map(|&(a, b)| b.min(*start).saturating_sub(a)),
                );
                if delay > 0 {
                    delayed.push(DelayedDriver {
                        driver: driver.clone(),
                        init_start_ns: self.rel(*start),
                        init_duration_ns: *duration,
                        delay_ns: delay,
                    });
                }
            }
            clients.push(BootImpact {
                client: e.client.clone(),
                relative_to_boot: self.since_boot.is_some(),
                driver_entry_start_ns: self.rel(e.start),
                driver_entry_tid: e.tid,
                driver_entry_duration_ns: e.duration.or(e.stop.map(|s| s.saturating_sub(e.start))),
                blocked_in_capture_ns: blocked_total,
                wsk_ready_ns: e.wsk_ready.map(|t| self.rel(t)),
                max_delay_ns: delayed.iter().map(|d| d.delay_ns).max().unwrap_or(0),
                total_delay_ns: sat_sum(delayed.iter().map(|d| d.delay_ns)),
                delayed_drivers: delayed,
            });
        }
        self.report = Some(BootReport {
            trace_start_since_boot_ns: self.since_boot,
            clients,
            pnp_driver_inits: self.pnp.len() as u64,
        });
    }
}

/// A sum that stops at `u64::MAX` (durations come from the file).
fn sat_sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

/// `\Driver\wskclient` names the driver whose client is `wskclient`.
fn is_same_driver(pnp_name: &str, client: &str) -> bool {
    let base = pnp_name.rsplit(['\\', '/']).next().unwrap_or(pnp_name);
    let base = base.strip_suffix(".sys").unwrap_or(base);
    base.eq_ignore_ascii_case(client)
}

/// Percentiles per metric across many traces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FleetSummary {
    /// Traces analysed.
    pub traces: u64,
    /// Traces with a DriverEntry of ours.
    pub traces_with_driver_entry: u64,
    /// DriverEntry start since boot.
    pub driver_entry_start: Summary,
    /// DriverEntry duration.
    pub driver_entry_duration: Summary,
    /// Blocked in capture on the DriverEntry thread.
    pub blocked_in_capture: Summary,
    /// WSK ready since boot.
    pub wsk_ready: Summary,
    /// Largest delay of another driver, per trace.
    pub max_delay: Summary,
    /// Sum of the other drivers' delays, per trace (see [`BootImpact::total_delay_ns`]).
    pub total_delay: Summary,
    /// Drivers delayed, per trace.
    pub delayed_drivers: Summary,
}

impl FleetSummary {
    /// The time metrics with their labels, in the order every renderer prints them.
    pub fn metrics(&self) -> [(&'static str, &Summary); 5] {
        [
            ("DriverEntry start since boot", &self.driver_entry_start),
            ("DriverEntry duration", &self.driver_entry_duration),
            ("blocked in capture", &self.blocked_in_capture),
            ("WSK ready since boot", &self.wsk_ready),
            ("largest delay of another driver", &self.max_delay),
        ]
    }

    /// Summarizes the boot reports of many traces (the first DriverEntry of each).
    pub fn of<'a>(reports: impl IntoIterator<Item = &'a BootReport>) -> FleetSummary {
        let (mut start, mut dur, mut blocked, mut ready) = (vec![], vec![], vec![], vec![]);
        let (mut max_delay, mut delay, mut count) = (vec![], vec![], vec![]);
        let mut traces = 0;
        for r in reports {
            traces += 1;
            let Some(c) = r.clients.first() else { continue };
            if c.relative_to_boot {
                start.push(c.driver_entry_start_ns);
                ready.extend(c.wsk_ready_ns);
            }
            dur.extend(c.driver_entry_duration_ns);
            blocked.push(c.blocked_in_capture_ns);
            max_delay.push(c.max_delay_ns);
            delay.push(c.total_delay_ns);
            count.push(c.delayed_drivers.len() as u64);
        }
        FleetSummary {
            traces,
            traces_with_driver_entry: blocked.len() as u64,
            driver_entry_start: Summary::of(&mut start),
            driver_entry_duration: Summary::of(&mut dur),
            blocked_in_capture: Summary::of(&mut blocked),
            wsk_ready: Summary::of(&mut ready),
            max_delay: Summary::of(&mut max_delay),
            total_delay: Summary::of(&mut delay),
            delayed_drivers: Summary::of(&mut count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::run;
    use crate::analysis::testkit::{Seq, MS};
    use wsktrace_driver::lifecycle::WSK_INFINITE_WAIT;
    use wsktrace_driver::ntstatus::NtStatus;

    const BOOT_OFFSET: u64 = 2_000 * MS;

    fn analyse(s: &Seq) -> BootReport {
        let mut a = BootAnalyzer::default();
        let ctx = TraceContext {
            start_since_boot_ns: Some(BOOT_OFFSET),
            ..Default::default()
        };
        run(&mut a, &ctx, &s.events, &s.pnp, s.now);
        a.report()
    }

    #[test]
    fn blocking_driver_entry_delays_drivers_behind_it() {
        let mut s = Seq::new();
        s.pnp(4, "\\Driver\\early", true)
            .wait(MS)
            .pnp(4, "\\Driver\\early", false);
        s.pnp(4, "\\Driver\\wskclient", true);
        let de_start = s.now + 1_000;
        s.driver_entry(4, "wskclient").register(4, 1);
        s.capture(4, 1, 1, WSK_INFINITE_WAIT, 0, 300 * MS, NtStatus::SUCCESS);
        let ready = s.now;
        s.release(4, 1, 1, 0)
            .driver_entry_stop(4, "wskclient", 301 * MS);
        s.pnp(4, "\\Driver\\wskclient", false);
        s.pnp(4, "\\Driver\\afterone", true)
            .wait(2 * MS)
            .pnp(4, "\\Driver\\afterone", false);
        s.pnp(4, "\\Driver\\aftertwo", true)
            .pnp(4, "\\Driver\\aftertwo", false);
        // A driver initializing on another thread is not delayed.
        s.pnp(9, "\\Driver\\parallel", true)
            .pnp(9, "\\Driver\\parallel", false);
        let r = analyse(&s);
        assert_eq!(r.clients.len(), 1);
        let c = &r.clients[0];
        assert!(c.relative_to_boot);
        assert_eq!(c.driver_entry_start_ns, BOOT_OFFSET + de_start);
        assert_eq!(c.driver_entry_duration_ns, Some(301 * MS));
        assert_eq!(c.blocked_in_capture_ns, 300 * MS);
        assert_eq!(c.wsk_ready_ns, Some(BOOT_OFFSET + ready));
        let names: Vec<_> = c
            .delayed_drivers
            .iter()
            .map(|d| d.driver.as_str())
            .collect();
        assert_eq!(names, ["\\Driver\\afterone", "\\Driver\\aftertwo"]);
        assert!(c.delayed_drivers.iter().all(|d| d.delay_ns == 300 * MS));
        assert_eq!(c.delayed_drivers[0].init_duration_ns, Some(2 * MS + 1_000));
        assert_eq!(c.total_delay_ns, 600 * MS);
        assert_eq!(c.max_delay_ns, 300 * MS);
        assert_eq!(r.pnp_driver_inits, 5);
    }

    #[test]
    fn worker_wait_delays_nobody() {
        let mut s = Seq::new();
        s.driver_entry(4, "wskclient")
            .register(4, 1)
            .driver_entry_stop(4, "wskclient", 5_000);
        s.pnp(4, "\\Driver\\next", true);
        s.capture(7, 1, 1, WSK_INFINITE_WAIT, 1, 300 * MS, NtStatus::SUCCESS);
        s.pnp(4, "\\Driver\\next", false);
        let r = analyse(&s);
        let c = &r.clients[0];
        assert_eq!(c.blocked_in_capture_ns, 0);
        assert!(c.delayed_drivers.is_empty());
        assert!(c.wsk_ready_ns.is_some());
    }

    #[test]
    fn fleet_percentiles() {
        let reports: Vec<BootReport> = (1..=10u64)
            .map(|i| {
                let mut s = Seq::new();
                s.driver_entry(4, "c").register(4, 1);
                s.capture(4, 1, 1, 1000, 0, i * 10 * MS, NtStatus::SUCCESS);
                s.driver_entry_stop(4, "c", i * 10 * MS + MS);
                analyse(&s)
            })
            .collect();
        let f = FleetSummary::of(&reports);
        assert_eq!(f.traces, 10);
        assert_eq!(f.blocked_in_capture.p50, 50 * MS);
        assert_eq!(f.blocked_in_capture.max, 100 * MS);
        assert_eq!(f.driver_entry_duration.p90, 91 * MS);
    }
}
