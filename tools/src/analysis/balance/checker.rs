//! The checker's state: open and recently closed registrations, clients, verdict counts;
//! finding a registration by id, closing it, giving it its verdict.

use std::collections::VecDeque;
use std::sync::Arc;

use super::ids::IdMap;
use super::registration::Registration;
use super::verdict::{BalanceReport, ClientVerdict, RegistrationVerdict, Verdict, VerdictCounts};
use crate::analysis::{TraceContext, TraceEvent};

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

/// Deregistered registrations kept for late events of a deregister race.
pub(crate) const RECENT_CLOSED: usize = 256;

/// The balance check, as an [`EventSink`](crate::analysis::EventSink).
#[derive(Debug, Default)]
pub struct BalanceChecker {
    pub(super) config: BalanceConfig,
    pub(super) ctx: TraceContext,
    pub(super) events: u64,
    pub(super) instances: u32,
    pub(super) open: IdMap<Box<Registration>>,
    /// Recently deregistered, newest last; late events of a deregister race still reach them.
    pub(super) recent: VecDeque<Box<Registration>>,
    /// Closed, but a `STATUS_NOINTERFACE` still waits for its client's fallback.
    pub(super) awaiting_fallback: Vec<Registration>,
    /// Some capture returned `STATUS_NOINTERFACE` (fallbacks need looking for).
    pub(super) nointerface_seen: bool,
    /// The client of the DriverEntry running on each thread.
    pub(super) driver_entry: IdMap<Arc<str>>,
    /// Every client name a DriverEntry gave.
    pub(super) clients_seen: Vec<Arc<str>>,
    /// The client whose DriverEntry started last.
    pub(super) last_client: Option<Arc<str>>,
    pub(super) clients: Vec<ClientVerdict>,
    pub(super) counts: VerdictCounts,
    pub(super) done: Vec<RegistrationVerdict>,
    pub(super) lost: Vec<String>,
    pub(super) end_ns: u64,
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

    /// The result; call after [`EventSink::finish`](crate::analysis::EventSink::finish).
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

    /// True when verdicts were given since the last [`BalanceChecker::take_verdicts`].
    pub fn has_verdicts(&self) -> bool {
        !self.done.is_empty()
    }

    /// Moves the verdicts given so far (those the config keeps) to the end of `into`, in the
    /// order they were given: a caller that turns them into rows as they come holds no
    /// more than the registrations still open, whatever the trace's length. Those taken
    /// are not in the report; the counts still are.
    pub fn take_verdicts(&mut self, into: &mut Vec<RegistrationVerdict>) {
        into.append(&mut self.done);
    }

    /// Takes the result out (no copy); call after [`EventSink::finish`](crate::analysis::EventSink::finish).
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

    pub(super) fn client_for(&self, tid: u32) -> Option<Arc<str>> {
        self.driver_entry
            .get(&tid)
            .cloned()
            .or_else(|| self.last_client.clone())
    }

    pub(super) fn new_instance(&mut self) -> u32 {
        self.instances += 1;
        self.instances
    }

    /// The registration `id` refers to: open, recently closed, or a new one the trace
    /// missed the start of.
    pub(super) fn lookup(&mut self, id: u32, ev: &TraceEvent) -> &mut Registration {
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

    pub(super) fn close(&mut self, id: u32) {
        if let Some(reg) = self.open.remove(&id) {
            self.recent.push_back(reg);
            while self.recent.len() > RECENT_CLOSED {
                let old = self.recent.pop_front().expect("non-empty");
                self.retire(old);
            }
        }
    }

    /// A registration will see no more events: wait for a fallback, or give its verdict.
    pub(super) fn retire(&mut self, reg: Box<Registration>) {
        if reg.nointerface.is_some() {
            self.awaiting_fallback.push(*reg);
        } else {
            self.finalize(reg);
        }
    }

    /// Gives `reg` its verdict and counts it, per client too.
    pub(super) fn finalize(&mut self, reg: Box<Registration>) {
        let v = reg.into_verdict();
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
    pub(super) fn fallback_seen(&mut self, client: &Option<Arc<str>>) {
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
                let mut reg = Box::new(self.awaiting_fallback.swap_remove(i));
                reg.nointerface = None;
                self.finalize(reg);
            } else {
                i += 1;
            }
        }
    }
}

/// Client names are shared `Arc`s: the pointer compare settles almost every case.
pub(super) fn same_client(a: &Option<Arc<str>>, b: &Option<Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    }
}

pub(super) fn header_loss(ctx: &TraceContext) -> String {
    format!(
        "the trace lost {} event(s) and {} buffer(s) (logfile header)",
        ctx.events_lost, ctx.buffers_lost
    )
}
