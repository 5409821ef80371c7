//! Capture/release balance: a verdict per registration (and so per client and per file).
//!
//! The rules (DESIGN.md, "What the tools answer"):
//!
//! | rule | kind |
//! |---|---|
//! | a successful capture is never released, and the registration's end (deregister began, or the driver unloaded) was reached | violation |
//! | a release without a successful capture | violation |
//! | a second release of the same capture | violation |
//! | a dispatch call after the capture's release | violation |
//! | a dispatch call through a capture that never succeeded | violation |
//! | a capture started after `WskDeregister` began (the captures it cancelled are fine) | violation |
//! | `WskDeregister` completed while captures were still held | violation |
//! | an infinite wait, or a timeout above the threshold, on the DriverEntry thread | warning |
//! | `STATUS_NOINTERFACE` with no later registration by the same client | warning |
//! | the driver unloaded with the registration never deregistered | warning |
//!
//! Never a false violation: when the trace lost events during a registration, that
//! registration's violations become *inconclusive* findings and its verdict inconclusive. A
//! registration whose `WskRegister` is not in the trace (the trace started later) or whose
//! `WskDeregister` is not (the trace ended first) is inconclusive unless one of its violations
//! does not depend on the missing part (a double release seen whole is a double release).
//!
//! Memory: state is kept per open registration (its captures), plus a short queue of recently
//! closed ones (late events of a deregistration race still find them); finished verdicts are
//! kept only when they are not plain "ok" (or when [`BalanceConfig::keep_ok`] asks for every
//! one, for JUnit's one test case per registration).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde::Serialize;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::{CallingContext, WskEvent};

use super::{EventRef, EventSink, LostEvents, TraceContext, TraceEvent, WSK_INFINITE_WAIT};

/// Knobs of the balance check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceConfig {
    /// A capture timeout on the DriverEntry thread above this (in ms) is a warning.
    pub long_wait_ms: u32,
    /// Keep every registration's verdict, also the plain "ok" ones.
    pub keep_ok: bool,
}

impl Default for BalanceConfig {
    fn default() -> Self {
        BalanceConfig {
            long_wait_ms: 1000,
            keep_ok: false,
        }
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A successful capture never released before the registration's end.
    CaptureNotReleased,
    /// A release with no successful capture of that id.
    ReleaseWithoutCapture,
    /// A capture released twice.
    DoubleRelease,
    /// A dispatch call through a released capture.
    DispatchAfterRelease,
    /// A dispatch call through a capture that never succeeded.
    DispatchWithoutCapture,
    /// A capture started after `WskDeregister` began.
    CaptureAfterDeregister,
    /// `WskDeregister` returned while captures were held.
    DeregisterWithCapturesOutstanding,
    /// `WSK_INFINITE_WAIT` on the DriverEntry thread.
    InfiniteWaitOnDriverEntryThread,
    /// A timeout above the threshold on the DriverEntry thread.
    LongWaitOnDriverEntryThread,
    /// `STATUS_NOINTERFACE` and no registration with another version afterwards.
    NointerfaceWithoutFallback,
    /// The driver unloaded while the registration was never deregistered.
    UnloadWithoutDeregister,
}

impl Rule {
    /// Every rule, in documentation order.
    pub const ALL: [Rule; 11] = [
        Rule::CaptureNotReleased,
        Rule::ReleaseWithoutCapture,
        Rule::DoubleRelease,
        Rule::DispatchAfterRelease,
        Rule::DispatchWithoutCapture,
        Rule::CaptureAfterDeregister,
        Rule::DeregisterWithCapturesOutstanding,
        Rule::InfiniteWaitOnDriverEntryThread,
        Rule::LongWaitOnDriverEntryThread,
        Rule::NointerfaceWithoutFallback,
        Rule::UnloadWithoutDeregister,
    ];

    /// The kebab-case id used in every output format.
    pub fn id(self) -> &'static str {
        match self {
            Rule::CaptureNotReleased => "capture-not-released",
            Rule::ReleaseWithoutCapture => "release-without-capture",
            Rule::DoubleRelease => "double-release",
            Rule::DispatchAfterRelease => "dispatch-after-release",
            Rule::DispatchWithoutCapture => "dispatch-without-capture",
            Rule::CaptureAfterDeregister => "capture-after-deregister",
            Rule::DeregisterWithCapturesOutstanding => "deregister-with-captures-outstanding",
            Rule::InfiniteWaitOnDriverEntryThread => "infinite-wait-on-driverentry-thread",
            Rule::LongWaitOnDriverEntryThread => "long-wait-on-driverentry-thread",
            Rule::NointerfaceWithoutFallback => "nointerface-without-fallback",
            Rule::UnloadWithoutDeregister => "unload-without-deregister",
        }
    }

    /// One sentence describing the rule (SARIF rule text, HTML legend).
    pub fn description(self) -> &'static str {
        match self {
            Rule::CaptureNotReleased => {
                "Every successful WskCaptureProviderNPI needs exactly one WskReleaseProviderNPI."
            }
            Rule::ReleaseWithoutCapture => {
                "WskReleaseProviderNPI may only release a successfully captured NPI."
            }
            Rule::DoubleRelease => "A captured NPI is released exactly once.",
            Rule::DispatchAfterRelease => {
                "Nothing in WSK_PROVIDER_DISPATCH may be called after the NPI's release."
            }
            Rule::DispatchWithoutCapture => {
                "Provider dispatch calls need a successfully captured NPI."
            }
            Rule::CaptureAfterDeregister => {
                "No WskCaptureProviderNPI after WskDeregister began (other than those it cancels)."
            }
            Rule::DeregisterWithCapturesOutstanding => {
                "WskDeregister returns only once every captured NPI has been released."
            }
            Rule::InfiniteWaitOnDriverEntryThread => {
                "DriverEntry must not call WskCaptureProviderNPI with WSK_INFINITE_WAIT."
            }
            Rule::LongWaitOnDriverEntryThread => {
                "DriverEntry must not wait long for the WSK subsystem; wait on a worker thread."
            }
            Rule::NointerfaceWithoutFallback => {
                "On STATUS_NOINTERFACE, query the supported versions and register again."
            }
            Rule::UnloadWithoutDeregister => "A WSK client deregisters before it unloads.",
        }
    }

    /// Violation or warning, when the evidence is complete.
    pub fn severity(self) -> Severity {
        match self {
            Rule::InfiniteWaitOnDriverEntryThread
            | Rule::LongWaitOnDriverEntryThread
            | Rule::NointerfaceWithoutFallback
            | Rule::UnloadWithoutDeregister => Severity::Warning,
            _ => Severity::Violation,
        }
    }
}

/// How sure a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A rule is broken, and the trace shows all of it.
    Violation,
    /// Would be a violation, but the trace misses something that could explain it.
    Inconclusive,
    /// Allowed, but not recommended.
    Warning,
}

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
    fn add(&mut self, v: &RegistrationVerdict) {
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
    /// [`BalanceConfig::keep_ok`]), in order of first event.
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

/// Hashes the u32 ids (registration, capture, thread) with one multiply: the default SipHash
/// was a visible share of `check`'s time. The multiply is a bijection, so distinct ids never
/// share a full hash.
#[derive(Clone, Copy, Debug, Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(26) ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CapState {
    /// Start seen, stop not yet.
    Waiting,
    /// Succeeded, not yet released.
    Held,
    /// Returned an error.
    Failed(NtStatus),
    /// Released.
    Released,
}

/// A capture's Start, Stop or release event, kept compactly (24 bytes instead of a whole
/// event): its time, thread and the fields that are not the capture's ids; the event is
/// rebuilt only when a finding names it.
#[derive(Clone, Copy, Debug)]
struct Seen {
    ts_ns: u64,
    tid: u32,
    /// `WaitNs` (Stop) or `HeldNs` (release).
    a: u64,
    /// `WaitTimeoutMs` (Start), `Status` (Stop) or `DispatchCalls` (release).
    b: u32,
    /// `CallingContext` (Start) or `Implicit` (release).
    c: u8,
}

impl Seen {
    fn of(ev: &TraceEvent) -> Seen {
        let (a, b, c) = match &ev.event {
            WskEvent::CaptureProviderNpiStart {
                wait_timeout_ms,
                calling_context,
                ..
            } => (0, *wait_timeout_ms, *calling_context),
            WskEvent::CaptureProviderNpiStop {
                status, wait_ns, ..
            } => (*wait_ns, status.to_u32(), 0),
            WskEvent::ReleaseProviderNpi {
                held_ns,
                dispatch_calls,
                implicit,
                ..
            } => (*held_ns, *dispatch_calls, u8::from(*implicit)),
            _ => (0, 0, 0),
        };
        Seen {
            ts_ns: ev.ts_ns,
            tid: ev.tid,
            a,
            b,
            c,
        }
    }

    fn event(self, event: WskEvent) -> TraceEvent {
        TraceEvent {
            ts_ns: self.ts_ns,
            tid: self.tid,
            activity: [0; 16],
            event,
        }
    }
}

#[derive(Debug)]
struct Capture {
    state: CapState,
    registration: u32,
    capture: u32,
    start: Option<Seen>,
    stop: Option<Seen>,
    release: Option<Seen>,
    /// Reported already (never released): no second finding.
    reported: bool,
    /// Still held when `WskDeregister` returned (that Stop event).
    held_at_dereg_stop: Option<Box<TraceEvent>>,
}

impl Capture {
    fn new(state: CapState, ev: &TraceEvent, registration: u32, capture: u32) -> Capture {
        let mut c = Capture {
            state,
            registration,
            capture,
            start: None,
            stop: None,
            release: None,
            reported: false,
            held_at_dereg_stop: None,
        };
        c.record(ev);
        c
    }

    /// Keeps `ev` in its slot.
    fn record(&mut self, ev: &TraceEvent) {
        let seen = Some(Seen::of(ev));
        match ev.event {
            WskEvent::CaptureProviderNpiStart { .. } => self.start = seen,
            WskEvent::CaptureProviderNpiStop { .. } => self.stop = seen,
            WskEvent::ReleaseProviderNpi { .. } => self.release = seen,
            _ => {}
        }
    }

    fn start_event(&self) -> Option<TraceEvent> {
        self.start.map(|s| {
            s.event(WskEvent::CaptureProviderNpiStart {
                registration_id: self.registration,
                capture_id: self.capture,
                wait_timeout_ms: s.b,
                calling_context: s.c,
            })
        })
    }

    fn stop_event(&self) -> Option<TraceEvent> {
        self.stop.map(|s| {
            s.event(WskEvent::CaptureProviderNpiStop {
                registration_id: self.registration,
                capture_id: self.capture,
                status: NtStatus::from_u32(s.b),
                wait_ns: s.a,
            })
        })
    }

    fn release_event(&self) -> Option<TraceEvent> {
        self.release.map(|s| {
            s.event(WskEvent::ReleaseProviderNpi {
                registration_id: self.registration,
                capture_id: self.capture,
                held_ns: s.a,
                dispatch_calls: s.b,
                implicit: s.c != 0,
            })
        })
    }

    fn events(&self) -> Vec<EventRef> {
        [self.start_event(), self.stop_event(), self.release_event()]
            .iter()
            .flatten()
            .map(EventRef::of)
            .collect()
    }
}

/// The captures of one registration: a short list (most registrations capture once or
/// twice), turned into a map once it grows past [`CaptureTable::LIST_MAX`].
#[derive(Debug, Default)]
struct CaptureTable {
    list: Vec<Capture>,
    map: IdMap<Capture>,
}

impl CaptureTable {
    const LIST_MAX: usize = 16;

    fn get(&self, id: &u32) -> Option<&Capture> {
        if self.map.is_empty() {
            self.list.iter().find(|c| c.capture == *id)
        } else {
            self.map.get(id)
        }
    }

    fn get_mut(&mut self, id: &u32) -> Option<&mut Capture> {
        if self.map.is_empty() {
            self.list.iter_mut().find(|c| c.capture == *id)
        } else {
            self.map.get_mut(id)
        }
    }

    fn insert(&mut self, id: u32, c: Capture) {
        if self.map.is_empty() {
            if let Some(x) = self.list.iter_mut().find(|x| x.capture == id) {
                *x = c;
                return;
            }
            if self.list.len() < Self::LIST_MAX {
                self.list.push(c);
                return;
            }
            self.map.extend(self.list.drain(..).map(|c| (c.capture, c)));
        }
        self.map.insert(id, c);
    }

    fn iter(&self) -> impl Iterator<Item = (&u32, &Capture)> {
        self.list
            .iter()
            .map(|c| (&c.capture, c))
            .chain(self.map.iter())
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Capture> {
        self.list.iter_mut().chain(self.map.values_mut())
    }
}

#[derive(Debug)]
struct Registration {
    id: u32,
    instance: u32,
    client: Option<Arc<str>>,
    /// `WskRegister` of this registration is in the trace.
    saw_register: bool,
    first_ts: u64,
    last_ts: u64,
    captures: CaptureTable,
    attempts: u32,
    dereg_start: Option<TraceEvent>,
    dereg_stop: Option<TraceEvent>,
    unload: Option<TraceEvent>,
    /// Losses during the registration.
    lost: Vec<String>,
    /// A `STATUS_NOINTERFACE` capture stop not yet followed by a new registration.
    nointerface: Option<(TraceEvent, Option<TraceEvent>)>,
    findings: Vec<Finding>,
}

impl Registration {
    /// Boxed: registrations move between the open map and the recent queue, and are large.
    fn new(
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
            attempts: 0,
            dereg_start: None,
            dereg_stop: None,
            unload: None,
            lost: Vec::new(),
            nointerface: None,
            findings: Vec::new(),
        })
    }

    fn finding(
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
            message,
            reason,
            events,
        });
    }

    /// Why a finding that depends on the registration's history before the trace is uncertain.
    fn history_gap(&self) -> Option<String> {
        (!self.saw_register).then(|| "the trace starts after this registration began".to_string())
    }
}

const RECENT_CLOSED: usize = 256;

/// The balance check, as an [`EventSink`].
#[derive(Debug, Default)]
pub struct BalanceChecker {
    config: BalanceConfig,
    ctx: TraceContext,
    events: u64,
    instances: u32,
    open: IdMap<Box<Registration>>,
    /// Recently deregistered, newest last; late events of a deregister race still reach them.
    recent: VecDeque<Box<Registration>>,
    /// Closed, but a `STATUS_NOINTERFACE` still waits for its client's fallback.
    awaiting_fallback: Vec<Registration>,
    /// Some capture returned `STATUS_NOINTERFACE` (fallbacks need looking for).
    nointerface_seen: bool,
    /// The client of the DriverEntry running on each thread.
    driver_entry: IdMap<Arc<str>>,
    /// Every client name a DriverEntry gave.
    clients_seen: Vec<Arc<str>>,
    /// The client whose DriverEntry started last.
    last_client: Option<Arc<str>>,
    clients: Vec<ClientVerdict>,
    counts: VerdictCounts,
    done: Vec<RegistrationVerdict>,
    lost: Vec<String>,
    end_ns: u64,
}

impl BalanceChecker {
    /// A checker with these settings.
    pub fn new(config: BalanceConfig) -> Self {
        BalanceChecker {
            config,
            ..Default::default()
        }
    }

    /// Registrations currently open (for the memory-bound test and benchmark).
    pub fn open_registrations(&self) -> usize {
        self.open.len()
    }

    /// The result; call after [`EventSink::finish`].
    pub fn report(&self) -> BalanceReport {
        let mut registrations = self.done.clone();
        registrations.sort_by_key(|r| (r.first_ts_ns, r.instance));
        BalanceReport {
            events: self.events,
            verdict: self.counts.worst(),
            counts: self.counts.clone(),
            clients: self.clients.clone(),
            registrations,
            lost: self.lost.clone(),
        }
    }

    /// Takes the result out (no copy); call after [`EventSink::finish`].
    pub fn into_report(mut self) -> BalanceReport {
        self.done.sort_by_key(|r| (r.first_ts_ns, r.instance));
        BalanceReport {
            events: self.events,
            verdict: self.counts.worst(),
            counts: self.counts,
            clients: self.clients,
            registrations: self.done,
            lost: self.lost,
        }
    }

    fn client_for(&self, tid: u32) -> Option<Arc<str>> {
        self.driver_entry
            .get(&tid)
            .cloned()
            .or_else(|| self.last_client.clone())
    }

    fn new_instance(&mut self) -> u32 {
        self.instances += 1;
        self.instances
    }

    /// The registration `id` refers to: open, recently closed, or a new one the trace
    /// missed the start of.
    fn lookup(&mut self, id: u32, ev: &TraceEvent) -> &mut Registration {
        if self.open.contains_key(&id) {
            let reg = self.open.get_mut(&id).expect("checked");
            reg.last_ts = ev.ts_ns;
            return reg;
        }
        if let Some(pos) = self.recent.iter().rposition(|r| r.id == id) {
            return &mut self.recent[pos];
        }
        let instance = self.new_instance();
        let client = self.client_for(ev.tid);
        let mut reg = Registration::new(id, instance, client, ev.ts_ns, false);
        if self.ctx.lossy() {
            reg.lost.push(header_loss(&self.ctx));
        }
        self.open.entry(id).or_insert(reg)
    }

    fn close(&mut self, id: u32) {
        if let Some(reg) = self.open.remove(&id) {
            self.recent.push_back(reg);
            while self.recent.len() > RECENT_CLOSED {
                let old = self.recent.pop_front().expect("non-empty");
                self.retire(old);
            }
        }
    }

    /// A registration will see no more events: wait for a fallback, or give its verdict.
    fn retire(&mut self, reg: Box<Registration>) {
        if reg.nointerface.is_some() {
            self.awaiting_fallback.push(*reg);
        } else {
            self.finalize(*reg);
        }
    }

    fn finalize(&mut self, mut reg: Registration) {
        let mut never: Vec<u32> = reg
            .captures
            .iter()
            .filter(|(_, c)| c.state == CapState::Held && c.held_at_dereg_stop.is_some())
            .map(|(id, _)| *id)
            .collect();
        never.sort_unstable();
        for cap in never {
            let c = reg.captures.get_mut(&cap).expect("listed");
            let stop = c.held_at_dereg_stop.take().expect("filtered");
            c.reported = true;
            let mut events = c.events();
            events.extend(reg.dereg_start.iter().map(EventRef::of));
            events.push(EventRef::of(&stop));
            events.sort_by_key(|e| e.ts_ns);
            let anchor = c.stop_event().unwrap_or_else(|| (*stop).clone());
            reg.finding(
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
        if let Some((stop, query)) = reg.nointerface.take() {
            let capture = match &stop.event {
                WskEvent::CaptureProviderNpiStop { capture_id, .. } => Some(*capture_id),
                _ => None,
            };
            let mut events = vec![EventRef::of(&stop)];
            events.extend(query.as_ref().map(EventRef::of));
            reg.finding(
                Rule::NointerfaceWithoutFallback,
                &stop,
                capture,
                "capture returned STATUS_NOINTERFACE and the client never registered again"
                    .to_string(),
                events,
                None,
            );
        }
        let mut reasons = Vec::new();
        if !reg.lost.is_empty() {
            reasons.extend(reg.lost.iter().cloned());
            for f in &mut reg.findings {
                if f.severity == Severity::Violation {
                    f.severity = Severity::Inconclusive;
                    f.reason = Some("events were lost during this registration".to_string());
                }
            }
        }
        if let Some(gap) = reg.history_gap() {
            reasons.push(gap);
        }
        let ended = reg.dereg_stop.is_some() || reg.unload.is_some();
        if !ended {
            if reg.dereg_start.is_some() {
                reasons.push("the trace ends while WskDeregister is still waiting".to_string());
            } else {
                reasons.push("the trace ends before this registration is deregistered".to_string());
            }
        }
        let any = |s: Severity| reg.findings.iter().any(|f| f.severity == s);
        let verdict = if any(Severity::Violation) {
            Verdict::Violation
        } else if !reasons.is_empty() || any(Severity::Inconclusive) {
            Verdict::Inconclusive
        } else {
            Verdict::Ok
        };
        reg.findings.sort_by_key(|f| (f.ts_ns, f.rule));
        let v = RegistrationVerdict {
            registration: reg.id,
            instance: reg.instance,
            client: reg.client.clone(),
            first_ts_ns: reg.first_ts,
            last_ts_ns: reg.last_ts,
            captures: reg.attempts,
            verdict,
            reasons,
            findings: reg.findings,
        };
        self.counts.add(&v);
        match self
            .clients
            .iter_mut()
            .find(|c| same_client(&c.client, &v.client))
        {
            Some(c) => {
                c.counts.add(&v);
                c.verdict = c.counts.worst();
            }
            None => {
                let mut counts = VerdictCounts::default();
                counts.add(&v);
                self.clients.push(ClientVerdict {
                    client: v.client.clone(),
                    verdict: counts.worst(),
                    counts,
                });
            }
        }
        if self.config.keep_ok || v.verdict != Verdict::Ok || !v.findings.is_empty() {
            self.done.push(v);
        }
    }

    /// A new successful registration of `client`: its earlier `STATUS_NOINTERFACE` had a
    /// fallback.
    fn fallback_seen(&mut self, client: &Option<Arc<str>>) {
        if !self.nointerface_seen {
            // Nothing can be waiting (and this runs for every registration).
            return;
        }
        for reg in self.open.values_mut().chain(self.recent.iter_mut()) {
            if same_client(&reg.client, client) {
                reg.nointerface = None;
            }
        }
        let mut i = 0;
        while i < self.awaiting_fallback.len() {
            if same_client(&self.awaiting_fallback[i].client, client) {
                let mut reg = self.awaiting_fallback.swap_remove(i);
                reg.nointerface = None;
                self.finalize(reg);
            } else {
                i += 1;
            }
        }
    }

    fn on_register(&mut self, ev: &TraceEvent, id: u32, status: NtStatus) {
        if !status.is_success() {
            return;
        }
        let client = self.client_for(ev.tid);
        self.fallback_seen(&client);
        if self.open.contains_key(&id) {
            // The id is reused while we still think it open: the trace missed the
            // deregistration (lost events) or the driver reused ids.
            self.close(id);
        }
        let instance = self.new_instance();
        let mut reg = Registration::new(id, instance, client, ev.ts_ns, true);
        if self.ctx.lossy() {
            reg.lost.push(header_loss(&self.ctx));
        }
        self.open.insert(id, reg);
    }

    fn on_capture_start(&mut self, ev: &TraceEvent, id: u32, cap: u32, timeout: u32, ctx: u8) {
        let long_wait_ms = self.config.long_wait_ms;
        let reg = self.lookup(id, ev);
        reg.attempts += 1;
        if let Some(dereg) = &reg.dereg_start {
            let events = vec![EventRef::of(dereg), EventRef::of(ev)];
            let closed = reg.dereg_stop.is_some();
            reg.finding(
                Rule::CaptureAfterDeregister,
                ev,
                Some(cap),
                format!(
                    "capture {cap} started after WskDeregister {} on registration {id}",
                    if closed { "completed" } else { "began" }
                ),
                events,
                None,
            );
        }
        if CallingContext::from_u8(ctx) == CallingContext::DriverEntry {
            if timeout == WSK_INFINITE_WAIT {
                reg.finding(
                    Rule::InfiniteWaitOnDriverEntryThread,
                    ev,
                    Some(cap),
                    format!("capture {cap} waits with WSK_INFINITE_WAIT on the DriverEntry thread"),
                    vec![EventRef::of(ev)],
                    None,
                );
            } else if timeout > long_wait_ms {
                reg.finding(
                    Rule::LongWaitOnDriverEntryThread,
                    ev,
                    Some(cap),
                    format!(
                        "capture {cap} waits up to {timeout} ms on the DriverEntry thread (threshold {long_wait_ms} ms)"
                    ),
                    vec![EventRef::of(ev)],
                    None,
                );
            }
        }
        reg.captures
            .insert(cap, Capture::new(CapState::Waiting, ev, id, cap));
    }

    fn on_capture_stop(&mut self, ev: &TraceEvent, id: u32, cap: u32, status: NtStatus) {
        let reg = self.lookup(id, ev);
        let state = if status.is_success() {
            CapState::Held
        } else {
            CapState::Failed(status)
        };
        match reg.captures.get_mut(&cap) {
            Some(c) => {
                c.state = state;
                c.record(ev);
            }
            None => {
                reg.attempts += 1;
                reg.captures.insert(cap, Capture::new(state, ev, id, cap));
            }
        }
        let nointerface = status == NtStatus::NOINTERFACE;
        if nointerface {
            reg.nointerface = Some((ev.clone(), None));
        }
        self.nointerface_seen |= nointerface;
    }

    fn on_query(&mut self, ev: &TraceEvent, id: u32) {
        let reg = self.lookup(id, ev);
        if let Some((_, query)) = &mut reg.nointerface {
            *query = Some(ev.clone());
        }
    }

    fn on_dispatch(&mut self, ev: &TraceEvent, id: u32, cap: u32, function: &str) {
        let reg = self.lookup(id, ev);
        let gap = reg.history_gap();
        let (rule, message, mut events) = match reg.captures.get(&cap) {
            Some(c) if c.state == CapState::Held => return,
            Some(c) if c.state == CapState::Released => (
                Rule::DispatchAfterRelease,
                format!("{function} called through capture {cap} after its release"),
                c.events(),
            ),
            Some(c) => (
                Rule::DispatchWithoutCapture,
                format!(
                    "{function} called through capture {cap}, which {}",
                    match c.state {
                        CapState::Waiting => "has not returned yet".to_string(),
                        CapState::Failed(s) => format!("failed ({s:?})"),
                        _ => unreachable!("held and released handled above"),
                    }
                ),
                c.events(),
            ),
            None => (
                Rule::DispatchWithoutCapture,
                format!("{function} called through capture {cap}, which was never captured"),
                Vec::new(),
            ),
        };
        let uncertain = match rule {
            Rule::DispatchWithoutCapture => gap,
            _ => None,
        };
        events.push(EventRef::of(ev));
        reg.finding(rule, ev, Some(cap), message, events, uncertain);
    }

    fn on_release(&mut self, ev: &TraceEvent, id: u32, cap: u32) {
        let reg = self.lookup(id, ev);
        let gap = reg.history_gap();
        let Some(c) = reg.captures.get_mut(&cap) else {
            reg.finding(
                Rule::ReleaseWithoutCapture,
                ev,
                Some(cap),
                format!("release of capture {cap}, which was never captured"),
                vec![EventRef::of(ev)],
                gap,
            );
            let mut c = Capture::new(CapState::Released, ev, id, cap);
            c.reported = true;
            reg.captures.insert(cap, c);
            return;
        };
        match c.state {
            CapState::Held => {
                c.state = CapState::Released;
                c.record(ev);
                if let Some(stop) = c.held_at_dereg_stop.take() {
                    let mut events = c.events();
                    let dereg_start = reg.dereg_start.clone();
                    events.extend(dereg_start.iter().map(EventRef::of));
                    events.push(EventRef::of(&stop));
                    events.sort_by_key(|e| e.ts_ns);
                    reg.finding(
                        Rule::DeregisterWithCapturesOutstanding,
                        &stop,
                        Some(cap),
                        format!(
                            "WskDeregister of registration {id} returned while capture {cap} was still held (released only afterwards)"
                        ),
                        events,
                        None,
                    );
                }
            }
            CapState::Released => {
                let mut events = c.events();
                events.push(EventRef::of(ev));
                reg.finding(
                    Rule::DoubleRelease,
                    ev,
                    Some(cap),
                    format!("capture {cap} released a second time"),
                    events,
                    None,
                );
            }
            CapState::Waiting | CapState::Failed(_) => {
                let what = match c.state {
                    CapState::Failed(s) => format!("failed ({s:?})"),
                    _ => "has not returned yet".to_string(),
                };
                let mut events = c.events();
                events.push(EventRef::of(ev));
                c.state = CapState::Released;
                c.record(ev);
                reg.finding(
                    Rule::ReleaseWithoutCapture,
                    ev,
                    Some(cap),
                    format!("release of capture {cap}, which {what}"),
                    events,
                    None,
                );
            }
        }
    }

    fn on_dereg_start(&mut self, ev: &TraceEvent, id: u32) {
        let reg = self.lookup(id, ev);
        if reg.dereg_start.is_none() {
            reg.dereg_start = Some(ev.clone());
        }
    }

    fn on_dereg_stop(&mut self, ev: &TraceEvent, id: u32) {
        let reg = self.lookup(id, ev);
        reg.dereg_stop = Some(ev.clone());
        // Captures still held: a release may still follow (then the deregister returned too
        // early), or never (then the capture was never released); decided later.
        for c in reg.captures.values_mut() {
            if c.state == CapState::Held && !c.reported {
                c.held_at_dereg_stop = Some(Box::new(ev.clone()));
            }
        }
        if self.open.get(&id).is_some_and(|r| r.dereg_stop.is_some()) {
            self.close(id);
        }
    }

    fn on_unload(&mut self, ev: &TraceEvent) {
        // The unloading driver is the client of the last DriverEntry (one provider instance
        // per driver): every open registration of that client ends here. The event does not
        // name its driver: with several clients in the trace it is not attributed at all
        // (their registrations stay open, so inconclusive, rather than wrongly ended).
        if self.clients_seen.len() > 1 {
            return;
        }
        let client = self.last_client.clone();
        let ids: Vec<u32> = self
            .open
            .values()
            .filter(|r| r.client == client || client.is_none())
            .map(|r| r.id)
            .collect();
        for id in ids {
            let reg = self.open.get_mut(&id).expect("listed");
            reg.unload = Some(ev.clone());
            reg.last_ts = ev.ts_ns;
            held_at_end(reg, ev, false);
            if reg.dereg_start.is_none() {
                reg.finding(
                    Rule::UnloadWithoutDeregister,
                    ev,
                    None,
                    format!("driver unloaded while registration {id} was never deregistered"),
                    vec![EventRef::of(ev)],
                    None,
                );
            }
            self.close(id);
        }
    }
}

/// Client names are shared `Arc`s: the pointer compare settles almost every case.
fn same_client(a: &Option<Arc<str>>, b: &Option<Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    }
}

/// Held captures at the registration's end (deregister pending at trace end, or unload).
fn held_at_end(reg: &mut Registration, at: &TraceEvent, pending_dereg: bool) {
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

fn header_loss(ctx: &TraceContext) -> String {
    format!(
        "the trace lost {} event(s) and {} buffer(s) (logfile header)",
        ctx.events_lost, ctx.buffers_lost
    )
}

impl EventSink for BalanceChecker {
    fn begin(&mut self, ctx: &TraceContext) {
        self.ctx = ctx.clone();
        if ctx.lossy() {
            self.lost.push(header_loss(ctx));
        }
    }

    fn event(&mut self, ev: &TraceEvent) {
        self.events += 1;
        match &ev.event {
            WskEvent::DriverEntryStart { client_name } => {
                let name: Arc<str> = Arc::from(client_name.as_str());
                self.driver_entry.insert(ev.tid, name.clone());
                if !self.clients_seen.contains(&name) {
                    self.clients_seen.push(name.clone());
                }
                self.last_client = Some(name);
            }
            WskEvent::DriverEntryStop { .. } => {
                self.driver_entry.remove(&ev.tid);
            }
            WskEvent::WskRegister {
                registration_id,
                status,
                ..
            } => self.on_register(ev, *registration_id, *status),
            WskEvent::CaptureProviderNpiStart {
                registration_id,
                capture_id,
                wait_timeout_ms,
                calling_context,
            } => self.on_capture_start(
                ev,
                *registration_id,
                *capture_id,
                *wait_timeout_ms,
                *calling_context,
            ),
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                ..
            } => self.on_capture_stop(ev, *registration_id, *capture_id, *status),
            WskEvent::QueryProviderCharacteristics {
                registration_id, ..
            } => self.on_query(ev, *registration_id),
            WskEvent::DispatchCall {
                registration_id,
                capture_id,
                function,
                ..
            } => self.on_dispatch(ev, *registration_id, *capture_id, function),
            WskEvent::ReleaseProviderNpi {
                registration_id,
                capture_id,
                ..
            } => self.on_release(ev, *registration_id, *capture_id),
            WskEvent::WskDeregisterStart {
                registration_id, ..
            } => self.on_dereg_start(ev, *registration_id),
            WskEvent::WskDeregisterStop {
                registration_id, ..
            } => self.on_dereg_stop(ev, *registration_id),
            WskEvent::DriverUnloadStart {} => {}
            WskEvent::DriverUnloadStop { .. } => self.on_unload(ev),
            WskEvent::CaptureRefused { .. }
            | WskEvent::SocketCreated { .. }
            | WskEvent::SocketBind { .. }
            | WskEvent::AcceptStart { .. }
            | WskEvent::AcceptStop { .. }
            | WskEvent::CloseSocketStart { .. }
            | WskEvent::CloseSocketStop { .. } => {}
        }
    }

    fn lost(&mut self, lost: &LostEvents) {
        let what = if lost.count > 0 {
            format!("{} event(s) lost ({})", lost.count, lost.what)
        } else {
            format!("events lost ({})", lost.what)
        };
        if !self.lost.contains(&what) {
            self.lost.push(what.clone());
        }
        for reg in self.open.values_mut() {
            if !reg.lost.contains(&what) {
                reg.lost.push(what.clone());
            }
        }
    }

    fn finish(&mut self, end_ns: u64) {
        self.end_ns = end_ns;
        // Registrations still open: the trace ended first.
        let mut ids: Vec<u32> = self.open.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let mut reg = self.open.remove(&id).expect("listed");
            if reg.dereg_stop.is_none() {
                if let Some(dereg) = reg.dereg_start.clone() {
                    held_at_end(&mut reg, &dereg, true);
                }
            }
            self.recent.push_back(reg);
        }
        while let Some(reg) = self.recent.pop_front() {
            self.retire(reg);
        }
        for reg in std::mem::take(&mut self.awaiting_fallback) {
            self.finalize(reg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testkit::{Seq, MS};
    use crate::analysis::{run, LostEvents};

    fn check(seq: &Seq) -> BalanceReport {
        check_ctx(seq, &TraceContext::default())
    }

    fn check_ctx(seq: &Seq, ctx: &TraceContext) -> BalanceReport {
        let mut c = BalanceChecker::new(BalanceConfig {
            keep_ok: true,
            ..Default::default()
        });
        run(&mut c, ctx, &seq.events, &seq.pnp, seq.now + MS);
        c.into_report()
    }

    fn rules(r: &BalanceReport) -> Vec<(Rule, Severity)> {
        r.findings().map(|f| (f.rule, f.severity)).collect()
    }

    #[test]
    fn clean_lifecycle_is_ok() {
        let mut s = Seq::new();
        s.clean(10, 1, 1, 5 * MS);
        let r = check(&s);
        assert_eq!(rules(&r), vec![]);
        assert_eq!(r.verdict, Verdict::Ok);
        assert_eq!(r.counts.ok, 1);
        assert_eq!(r.registrations[0].client.as_deref(), Some("wskclient"));
        assert_eq!(r.clients.len(), 1);
    }

    #[test]
    fn leaked_capture_at_unload() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
            .driver_entry_stop(10, "c", 2 * MS)
            .dereg_start(11, 1, 1);
        // Deregister blocks forever on the leaked capture; the trace ends.
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::CaptureNotReleased, Severity::Violation)]
        );
        assert_eq!(r.verdict, Verdict::Violation);
        let f = r.findings().next().unwrap();
        assert_eq!(f.registration, Some(1));
        assert_eq!(f.capture, Some(1));
        assert_eq!(f.tid, 10);
        assert!(f.events.iter().any(|e| e.name == "WskDeregister"));

        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
            .driver_entry_stop(10, "c", 2 * MS)
            .dereg_start(11, 1, 1)
            .unload(11);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::CaptureNotReleased, Severity::Violation)]
        );
    }

    #[test]
    fn capture_held_when_trace_ends_is_inconclusive() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS);
        let r = check(&s);
        assert_eq!(rules(&r), vec![]);
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!(r.registrations[0].reasons[0].contains("before this registration is deregistered"));
    }

    #[test]
    fn release_without_capture() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .release(10, 1, 7, 0)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::ReleaseWithoutCapture, Severity::Violation)]
        );
        // The same after a failed capture.
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 0, 0, 0, NtStatus::DEVICE_NOT_READY)
            .release(10, 1, 1, 0)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::ReleaseWithoutCapture, Severity::Violation)]
        );
    }

    #[test]
    fn release_without_capture_when_trace_starts_late_is_inconclusive() {
        let mut s = Seq::new();
        s.release(10, 1, 7, 0)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::ReleaseWithoutCapture, Severity::Inconclusive)]
        );
        assert_eq!(r.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn double_release() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
            .release(10, 1, 1, 0)
            .release(10, 1, 1, 0)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(rules(&r), vec![(Rule::DoubleRelease, Severity::Violation)]);
        assert_eq!(r.findings().next().unwrap().events.len(), 4);
    }

    #[test]
    fn dispatch_after_release() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
            .dispatch(10, 1, 1)
            .release(10, 1, 1, 0)
            .dispatch(10, 1, 1)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::DispatchAfterRelease, Severity::Violation)]
        );
    }

    #[test]
    fn capture_after_deregister_but_not_cancelled_ones() {
        // A worker waits; deregister on another thread cancels it: fine.
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .cap_start(11, 1, 1, WSK_INFINITE_WAIT, 1)
            .dereg_start(10, 1, 0)
            .cap_stop(11, 1, 1, NtStatus::DEVICE_NOT_READY, 3 * MS)
            .dereg_stop(10, 1)
            .unload(10);
        let r = check(&s);
        assert_eq!(rules(&r), vec![]);
        assert_eq!(r.verdict, Verdict::Ok);
        // A capture started after deregister began.
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .dereg_start(10, 1, 0)
            .cap_start(11, 1, 1, 0, 1)
            .cap_stop(11, 1, 1, NtStatus::INVALID_DEVICE_STATE, 0)
            .dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::CaptureAfterDeregister, Severity::Violation)]
        );
    }

    #[test]
    fn late_capture_after_deregister_completed() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1)
            .cap_start(11, 1, 1, 0, 1);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::CaptureAfterDeregister, Severity::Violation)]
        );
    }

    #[test]
    fn deregister_with_captures_outstanding() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 100, 1, MS, NtStatus::SUCCESS)
            .dereg_start(10, 1, 1)
            .dereg_stop(10, 1)
            .release(10, 1, 1, 0);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::DeregisterWithCapturesOutstanding, Severity::Violation)]
        );
    }

    #[test]
    fn deregister_returning_with_a_capture_never_released() {
        // The simulator's leaked-capture scenario: deregister gives up after a watchdog.
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, 0, 2, 1000, NtStatus::SUCCESS)
            .dereg_start(10, 1, 1)
            .wait(100 * MS)
            .dereg_stop(10, 1)
            .unload(10);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::CaptureNotReleased, Severity::Violation)]
        );
        assert_eq!(r.findings().next().unwrap().events.len(), 4);
    }

    #[test]
    fn waits_on_driver_entry_thread() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .capture(10, 1, 1, WSK_INFINITE_WAIT, 0, MS, NtStatus::SUCCESS)
            .release(10, 1, 1, 0)
            .capture(10, 1, 2, 5000, 0, MS, NtStatus::SUCCESS)
            .release(10, 1, 2, 0)
            .capture(10, 1, 3, 1000, 0, MS, NtStatus::SUCCESS)
            .release(10, 1, 3, 0)
            .capture(11, 1, 4, WSK_INFINITE_WAIT, 1, MS, NtStatus::SUCCESS)
            .release(11, 1, 4, 0)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1)
            .unload(10);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![
                (Rule::InfiniteWaitOnDriverEntryThread, Severity::Warning),
                (Rule::LongWaitOnDriverEntryThread, Severity::Warning)
            ]
        );
        // Warnings alone leave the verdict ok.
        assert_eq!(r.verdict, Verdict::Ok);
        assert_eq!(r.counts.warnings, 2);
    }

    #[test]
    fn nointerface_with_and_without_fallback() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register_status(10, 1, 0x300, NtStatus::SUCCESS)
            .capture(10, 1, 1, 100, 0, MS, NtStatus::NOINTERFACE)
            .query(10, 1)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1)
            .register_status(10, 2, 0x100, NtStatus::SUCCESS)
            .capture(10, 2, 2, 100, 0, MS, NtStatus::SUCCESS)
            .release(10, 2, 2, 0)
            .dereg_start(10, 2, 0)
            .dereg_stop(10, 2)
            .unload(10);
        let r = check(&s);
        assert_eq!(rules(&r), vec![]);
        assert_eq!(r.counts.ok, 2);

        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register_status(10, 1, 0x300, NtStatus::SUCCESS)
            .capture(10, 1, 1, 100, 0, MS, NtStatus::NOINTERFACE)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1)
            .unload(10);
        let r = check(&s);
        assert_eq!(
            rules(&r),
            vec![(Rule::NointerfaceWithoutFallback, Severity::Warning)]
        );
    }

    #[test]
    fn lost_events_make_violations_inconclusive() {
        let mut s = Seq::new();
        s.driver_entry(10, "c")
            .register(10, 1)
            .release(10, 1, 7, 0)
            .dereg_start(10, 1, 0)
            .dereg_stop(10, 1);
        let ctx = TraceContext {
            events_lost: 3,
            ..Default::default()
        };
        let r = check_ctx(&s, &ctx);
        assert_eq!(
            rules(&r),
            vec![(Rule::ReleaseWithoutCapture, Severity::Inconclusive)]
        );
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!(r.registrations[0].reasons[0].contains("lost 3 event"));
    }

    #[test]
    fn lost_signal_mid_stream_affects_open_registrations_only() {
        let mut c = BalanceChecker::new(BalanceConfig {
            keep_ok: true,
            ..Default::default()
        });
        let mut a = Seq::new();
        a.clean(10, 1, 1, MS);
        let mut b = Seq::new();
        b.now = a.now;
        b.driver_entry(20, "d").register(20, 2).release(20, 2, 9, 0);
        let mut b2 = Seq::new();
        b2.now = b.now;
        b2.dereg_start(20, 2, 0).dereg_stop(20, 2);
        c.begin(&TraceContext::default());
        a.events.iter().for_each(|e| c.event(e));
        b.events.iter().for_each(|e| c.event(e));
        c.lost(&LostEvents {
            ts_ns: Some(b.now),
            count: 2,
            what: "buffer at byte 0x20000".into(),
        });
        b2.events.iter().for_each(|e| c.event(e));
        c.finish(b2.now);
        let r = c.into_report();
        assert_eq!(r.counts.ok, 1);
        assert_eq!(r.counts.inconclusive, 1);
        assert_eq!(r.counts.violation, 0);
    }

    #[test]
    fn streaming_state_is_bounded_by_open_registrations() {
        let mut c = BalanceChecker::new(BalanceConfig::default());
        c.begin(&TraceContext::default());
        let mut s = Seq::new();
        s.driver_entry(1, "c");
        for e in &s.events {
            c.event(e);
        }
        for i in 0..10_000u32 {
            let mut s = Seq::new();
            s.now = u64::from(i) * 100 * MS;
            s.register(1, i)
                .capture(1, i, i, 100, 1, MS, NtStatus::SUCCESS)
                .release(1, i, i, 0)
                .dereg_start(1, i, 0)
                .dereg_stop(1, i);
            for e in &s.events {
                c.event(e);
            }
            assert!(c.open_registrations() <= 1);
            assert!(c.recent.len() <= RECENT_CLOSED);
        }
        c.finish(u64::MAX / 2);
        let r = c.into_report();
        assert_eq!(r.counts.ok, 10_000);
        assert!(r.registrations.is_empty());
    }

    #[test]
    fn unload_is_not_attributed_when_two_clients_share_the_trace() {
        let mut s = Seq::new();
        s.driver_entry(10, "a")
            .register(10, 1)
            .driver_entry_stop(10, "a", 1000);
        s.driver_entry(20, "b")
            .register(20, 2)
            .driver_entry_stop(20, "b", 1000);
        s.dereg_start(10, 1, 0).dereg_stop(10, 1).unload(10);
        let r = check(&s);
        // "b" did not unload: no warning for it, just an open registration at trace end.
        assert_eq!(rules(&r), vec![]);
        assert_eq!((r.counts.ok, r.counts.inconclusive), (1, 1));
        assert_eq!(r.clients.len(), 2);
    }

    #[test]
    fn many_captures_on_one_registration() {
        // Past the short list: the table turns into a map and keeps every capture.
        let mut s = Seq::new();
        s.driver_entry(10, "c").register(10, 1);
        for cap in 1..=40 {
            s.capture(10, 1, cap, 0, 1, 0, NtStatus::SUCCESS);
        }
        for cap in 1..=40 {
            s.release(10, 1, cap, 0);
        }
        s.release(10, 1, 7, 0);
        s.dereg_start(10, 1, 0).dereg_stop(10, 1);
        let r = check(&s);
        assert_eq!(rules(&r), vec![(Rule::DoubleRelease, Severity::Violation)]);
        assert_eq!(r.registrations[0].captures, 40);
    }

    #[test]
    fn registration_ids_reused_after_deregistration() {
        let mut s = Seq::new();
        s.clean(10, 1, 1, MS);
        s.clean(10, 1, 1, MS);
        let r = check(&s);
        assert_eq!(r.counts.ok, 2);
        assert_eq!(r.registrations[1].instance, 2);
    }
}

/// Property: whatever part of a correct trace is missing — events dropped (and the loss
/// reported), the beginning or the end cut off — the checker never reports a violation.
#[cfg(test)]
mod never_a_false_violation {
    use super::*;
    use crate::analysis::testkit::Seq;
    use proptest::prelude::*;

    /// One correct registration's events (tid, event), in order.
    fn lifecycle(reg: u32, captures: &[(bool, u8)]) -> Vec<(u32, WskEvent)> {
        let tid = 8 + reg * 4;
        let mut s = Seq::new();
        s.register(tid, reg);
        for (i, (ok, dispatches)) in captures.iter().enumerate() {
            let cap = reg * 100 + i as u32;
            let status = if *ok {
                NtStatus::SUCCESS
            } else {
                NtStatus::DEVICE_NOT_READY
            };
            s.capture(tid, reg, cap, 100, 1, 1_000, status);
            if *ok {
                for _ in 0..*dispatches {
                    s.dispatch(tid, reg, cap);
                }
                s.release(tid, reg, cap, 1_000);
            }
        }
        s.dereg_start(tid, reg, 0).dereg_stop(tid, reg);
        s.events.into_iter().map(|e| (e.tid, e.event)).collect()
    }

    fn trace() -> impl Strategy<Value = Vec<(u32, WskEvent)>> {
        (
            prop::collection::vec(prop::collection::vec((any::<bool>(), 0u8..3), 0..4), 1..6),
            prop::collection::vec(any::<u8>(), 64),
        )
            .prop_map(|(regs, picks)| {
                // Interleave the registrations' lifecycles, each in its own order.
                let mut lanes: Vec<std::collections::VecDeque<(u32, WskEvent)>> = regs
                    .iter()
                    .enumerate()
                    .map(|(i, caps)| lifecycle(i as u32 + 1, caps).into())
                    .collect();
                let mut out = vec![(
                    4,
                    WskEvent::DriverEntryStart {
                        client_name: "c".into(),
                    },
                )];
                let mut k = 0;
                while lanes.iter().any(|l| !l.is_empty()) {
                    let live: Vec<usize> =
                        (0..lanes.len()).filter(|&i| !lanes[i].is_empty()).collect();
                    let i = live[usize::from(picks[k % picks.len()]) % live.len()];
                    k += 1;
                    out.push(lanes[i].pop_front().expect("live"));
                }
                out
            })
    }

    fn violations(events: &[(u32, WskEvent)], drops: &[usize], ctx: &TraceContext) -> usize {
        let mut c = BalanceChecker::new(BalanceConfig {
            keep_ok: true,
            ..Default::default()
        });
        c.begin(ctx);
        for (i, (tid, ev)) in events.iter().enumerate() {
            let ts = (i as u64 + 1) * 1_000;
            if drops.contains(&i) {
                c.lost(&LostEvents {
                    ts_ns: Some(ts),
                    count: 1,
                    what: "dropped".into(),
                });
                continue;
            }
            c.event(&TraceEvent {
                ts_ns: ts,
                tid: *tid,
                activity: [0; 16],
                event: ev.clone(),
            });
        }
        c.finish(events.len() as u64 * 1_000 + 1_000);
        let r = c.into_report();
        r.counts.violation as usize
            + r.findings()
                .filter(|f| f.severity == Severity::Violation)
                .count()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn correct_traces_have_no_violation(events in trace()) {
            prop_assert_eq!(violations(&events, &[], &TraceContext::default()), 0);
        }

        #[test]
        fn dropped_events_never_give_a_violation(
            events in trace(),
            drops in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        ) {
            let drops: Vec<usize> = drops.iter().map(|d| d.index(events.len())).collect();
            prop_assert_eq!(violations(&events, &drops, &TraceContext::default()), 0);
        }

        #[test]
        fn cut_traces_never_give_a_violation(
            events in trace(),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let (a, b) = (a.index(events.len()), b.index(events.len()));
            let (from, to) = (a.min(b), a.max(b) + 1);
            prop_assert_eq!(violations(&events[from..to], &[], &TraceContext::default()), 0);
        }

        #[test]
        fn header_loss_never_gives_a_violation(
            events in trace(),
            drop in any::<prop::sample::Index>(),
        ) {
            // Dropped without a notice where it happened: only the header knows.
            let i = drop.index(events.len());
            let mut rest = events.clone();
            rest.remove(i);
            let ctx = TraceContext { events_lost: 1, ..Default::default() };
            prop_assert_eq!(violations(&rest, &[], &ctx), 0);
        }
    }
}
