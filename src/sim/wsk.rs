//! The simulated WSK subsystem.
//!
//! Answers as Microsoft's WSK documentation ("Registering a Winsock Kernel Application") says:
//! - `WskCaptureProviderNPI`: `WSK_NO_WAIT` returns at once; a timeout in ms waits at most
//!   that long; `WSK_INFINITE_WAIT` waits until ready. Not ready in time →
//!   `STATUS_DEVICE_NOT_READY`; ready but the registration's version unsupported →
//!   `STATUS_NOINTERFACE`; a `WskDeregister` on another thread cancels the wait with
//!   `STATUS_DEVICE_NOT_READY`.
//! - `WskDeregister` blocks until every captured NPI is released, every socket closed and
//!   every waiting capture has returned.
//!
//! Misuse (a release without a capture, a dispatch call with nothing captured, a deregister
//! that would hang forever) is recorded as a [`SimViolation`] instead of crashing.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::lifecycle::{
    ListenParams, ProviderCharacteristics, WskApi, WSK_INFINITE_WAIT, WSK_NO_WAIT,
};
use crate::ntstatus::NtStatus;
use crate::sim::HostClock;

/// The simulator's knobs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The WSK subsystem becomes ready this long after the simulator is created; `None` =
    /// never (until [`SimWsk::set_ready`]).
    pub ready_after: Option<Duration>,
    /// The supported NPI versions.
    pub supported: ProviderCharacteristics,
    /// FAULT: what `WskQueryProviderCharacteristics` reports, if not `supported` (a subsystem
    /// whose answer does not match what it accepts; negotiation must still end).
    pub reported: Option<ProviderCharacteristics>,
    /// What `WskRegister` returns (fault: registration fails).
    pub register_status: NtStatus,
    /// What `WskSocket` completes with (fault: socket creation fails).
    pub socket_status: NtStatus,
    /// What `WskBind` returns.
    pub bind_status: NtStatus,
    /// How long each provider dispatch call takes.
    pub dispatch_delay: Duration,
    /// A `WskDeregister` that would still be blocked after this long (a leaked capture or
    /// socket: it would hang forever) returns, recording [`SimViolation::DeregisterHung`].
    pub deregister_watchdog: Duration,
}

impl Default for SimConfig {
    /// Ready at once, WSK 1.0 only, every call succeeds.
    fn default() -> Self {
        SimConfig {
            ready_after: Some(Duration::ZERO),
            supported: ProviderCharacteristics {
                highest_version: 0x0100,
                lowest_version: 0x0100,
            },
            reported: None,
            register_status: NtStatus::SUCCESS,
            socket_status: NtStatus::SUCCESS,
            bind_status: NtStatus::SUCCESS,
            dispatch_delay: Duration::ZERO,
            deregister_watchdog: Duration::from_secs(2),
        }
    }
}

/// A rule broken by the client, as seen by the simulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimViolation {
    /// `WskReleaseProviderNPI` with no captured NPI outstanding (a double release).
    ReleaseWithoutCapture {
        /// Registration.
        registration: u32,
    },
    /// A provider dispatch call while the registration had no captured NPI (a call after
    /// release).
    DispatchWithoutCapture {
        /// Registration.
        registration: u32,
    },
    /// `WskDeregister` still blocked after the watchdog (captures or sockets never released).
    DeregisterHung {
        /// Registration.
        registration: u32,
        /// Captures still outstanding.
        captures: u32,
        /// Sockets still open.
        sockets: u32,
    },
    /// A call on a registration that is not registered (after its deregister).
    UnknownRegistration {
        /// Registration.
        registration: u32,
    },
}

/// The simulator's counters, for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimSnapshot {
    /// Registrations registered and not yet deregistered.
    pub live_registrations: u32,
    /// Registrations whose deregister has begun and not returned.
    pub deregistering: u32,
    /// Captures blocked waiting.
    pub waiting: u32,
    /// Captured NPIs not released.
    pub captured: u32,
    /// Open sockets.
    pub sockets: u32,
    /// `WskRegister` calls so far.
    pub registers: u32,
    /// Successful captures so far.
    pub captures: u32,
    /// Releases so far.
    pub releases: u32,
}

#[derive(Debug)]
struct RegState {
    version: u16,
    deregistering: bool,
    waiting: u32,
    captured: u32,
    sockets: u32,
}

#[derive(Debug, Default)]
struct State {
    forced_ready: bool,
    next_registration: u32,
    regs: HashMap<u32, RegState>,
    violations: Vec<SimViolation>,
    counts: SimSnapshot,
}

#[derive(Debug)]
struct Inner {
    config: SimConfig,
    clock: HostClock,
    ready_at: Option<Instant>,
    state: Mutex<State>,
    changed: Condvar,
}

/// The simulated WSK subsystem. A cheap handle: clones share one subsystem.
#[derive(Clone, Debug)]
pub struct SimWsk {
    inner: Arc<Inner>,
}

/// A simulated `WSK_REGISTRATION`.
#[derive(Debug)]
pub struct SimRegistration {
    id: u32,
}

impl SimRegistration {
    /// The simulator's number for this registration.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// A simulated `WSK_PROVIDER_NPI`.
#[derive(Debug)]
pub struct SimProviderNpi {
    registration: u32,
}

/// A simulated WSK socket.
#[derive(Debug)]
pub struct SimSocket {
    registration: u32,
}

impl SimWsk {
    /// A subsystem configured by `config`; `ready_after` counts from now.
    pub fn new(config: SimConfig, clock: HostClock) -> SimWsk {
        let ready_at = config.ready_after.map(|d| Instant::now() + d);
        SimWsk {
            inner: Arc::new(Inner {
                config,
                clock,
                ready_at,
                state: Mutex::new(State {
                    next_registration: 1,
                    ..State::default()
                }),
                changed: Condvar::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        until: Option<Instant>,
    ) -> MutexGuard<'a, State> {
        match until {
            None => self
                .inner
                .changed
                .wait(guard)
                .unwrap_or_else(|e| e.into_inner()),
            Some(t) => {
                let d = t.saturating_duration_since(Instant::now());
                self.inner
                    .changed
                    .wait_timeout(guard, d)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        }
    }

    fn ready(&self, state: &State, now: Instant) -> bool {
        state.forced_ready || self.inner.ready_at.is_some_and(|t| now >= t)
    }

    /// Makes the subsystem ready now (wakes waiting captures).
    pub fn set_ready(&self) {
        self.lock().forced_ready = true;
        self.inner.changed.notify_all();
    }

    /// Test harness control: forces readiness on or off (off only undoes [`SimWsk::set_ready`]
    /// and only while `ready_after` is `None`; a real WSK subsystem never becomes unready).
    pub fn force_ready(&self, ready: bool) {
        self.lock().forced_ready = ready;
        self.inner.changed.notify_all();
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// The clock shared with the client.
    pub fn clock(&self) -> HostClock {
        self.inner.clock
    }

    /// Rules broken so far.
    pub fn violations(&self) -> Vec<SimViolation> {
        self.lock().violations.clone()
    }

    /// Current counters.
    pub fn snapshot(&self) -> SimSnapshot {
        let state = self.lock();
        let mut s = state.counts;
        s.live_registrations = state.regs.len() as u32;
        s.deregistering = state.regs.values().filter(|r| r.deregistering).count() as u32;
        s.waiting = state.regs.values().map(|r| r.waiting).sum();
        s.captured = state.regs.values().map(|r| r.captured).sum();
        s.sockets = state.regs.values().map(|r| r.sockets).sum();
        s
    }

    /// Blocks until `pred` holds for the counters, or `timeout` passes; returns whether it
    /// held.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(&SimSnapshot) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.snapshot()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            let guard = self.lock();
            drop(self.wait(
                guard,
                Some(deadline.min(Instant::now() + Duration::from_millis(5))),
            ));
        }
    }

    fn notify(&self) {
        self.inner.changed.notify_all();
    }
}

impl WskApi for SimWsk {
    type Registration = SimRegistration;
    type ProviderNpi = SimProviderNpi;
    type Socket = SimSocket;

    fn register(&self, version: u16) -> Result<SimRegistration, NtStatus> {
        let status = self.inner.config.register_status;
        if !status.is_success() {
            return Err(status);
        }
        let mut state = self.lock();
        let id = state.next_registration;
        state.next_registration += 1;
        state.counts.registers += 1;
        state.regs.insert(
            id,
            RegState {
                version,
                deregistering: false,
                waiting: 0,
                captured: 0,
                sockets: 0,
            },
        );
        drop(state);
        self.notify();
        Ok(SimRegistration { id })
    }

    fn capture(
        &self,
        registration: &SimRegistration,
        wait_timeout_ms: u32,
    ) -> Result<SimProviderNpi, NtStatus> {
        let start = Instant::now();
        let deadline = match wait_timeout_ms {
            WSK_NO_WAIT => Some(start),
            WSK_INFINITE_WAIT => None,
            ms => Some(start + Duration::from_millis(u64::from(ms))),
        };
        let id = registration.id;
        let mut state = self.lock();
        match state.regs.get_mut(&id) {
            None => {
                state
                    .violations
                    .push(SimViolation::UnknownRegistration { registration: id });
                return Err(NtStatus::INVALID_PARAMETER);
            }
            Some(r) => r.waiting += 1,
        }
        let result = loop {
            let now = Instant::now();
            let ready = self.ready(&state, now);
            let supported = self.inner.config.supported;
            let Some(reg) = state.regs.get_mut(&id) else {
                break Err(NtStatus::DEVICE_NOT_READY);
            };
            if reg.deregistering {
                break Err(NtStatus::DEVICE_NOT_READY);
            }
            if ready {
                if supported.supports(reg.version) {
                    reg.captured += 1;
                    state.counts.captures += 1;
                    break Ok(SimProviderNpi { registration: id });
                }
                break Err(NtStatus::NOINTERFACE);
            }
            if deadline.is_some_and(|d| now >= d) {
                break Err(NtStatus::DEVICE_NOT_READY);
            }
            let wake = match (deadline, self.inner.ready_at) {
                (Some(d), Some(r)) => Some(d.min(r)),
                (d, r) => d.or(r),
            };
            state = self.wait(state, wake);
        };
        if let Some(reg) = state.regs.get_mut(&id) {
            reg.waiting -= 1;
        }
        drop(state);
        self.notify();
        result
    }

    fn release(&self, registration: &SimRegistration) {
        let id = registration.id;
        let mut state = self.lock();
        let violation = match state.regs.get_mut(&id) {
            Some(reg) if reg.captured > 0 => {
                reg.captured -= 1;
                None
            }
            Some(_) => Some(SimViolation::ReleaseWithoutCapture { registration: id }),
            None => Some(SimViolation::UnknownRegistration { registration: id }),
        };
        match violation {
            Some(v) => state.violations.push(v),
            None => state.counts.releases += 1,
        }
        drop(state);
        self.notify();
    }

    fn query_characteristics(
        &self,
        registration: &SimRegistration,
    ) -> Result<ProviderCharacteristics, NtStatus> {
        let mut state = self.lock();
        if !state.regs.contains_key(&registration.id) {
            state.violations.push(SimViolation::UnknownRegistration {
                registration: registration.id,
            });
            return Err(NtStatus::INVALID_PARAMETER);
        }
        Ok(self
            .inner
            .config
            .reported
            .unwrap_or(self.inner.config.supported))
    }

    fn deregister(&self, registration: &SimRegistration) {
        let id = registration.id;
        let deadline = Instant::now() + self.inner.config.deregister_watchdog;
        let mut state = self.lock();
        match state.regs.get_mut(&id) {
            Some(reg) => reg.deregistering = true,
            None => {
                state
                    .violations
                    .push(SimViolation::UnknownRegistration { registration: id });
                return;
            }
        }
        // Cancel waiting captures.
        self.notify();
        loop {
            let reg = &state.regs[&id];
            if reg.captured == 0 && reg.sockets == 0 && reg.waiting == 0 {
                break;
            }
            if Instant::now() >= deadline {
                let v = SimViolation::DeregisterHung {
                    registration: id,
                    captures: reg.captured,
                    sockets: reg.sockets,
                };
                state.violations.push(v);
                break;
            }
            state = self.wait(state, Some(deadline));
        }
        state.regs.remove(&id);
        drop(state);
        self.notify();
    }

    fn socket_listen(
        &self,
        npi: &SimProviderNpi,
        _params: &ListenParams,
    ) -> Result<SimSocket, NtStatus> {
        let id = npi.registration;
        if !self.inner.config.dispatch_delay.is_zero() {
            std::thread::sleep(self.inner.config.dispatch_delay);
        }
        let mut state = self.lock();
        let violation = match state.regs.get(&id) {
            Some(reg) if reg.captured > 0 => None,
            Some(_) => Some(SimViolation::DispatchWithoutCapture { registration: id }),
            None => Some(SimViolation::UnknownRegistration { registration: id }),
        };
        if let Some(v) = violation {
            state.violations.push(v);
        }
        let status = self.inner.config.socket_status;
        if !status.is_success() {
            return Err(status);
        }
        match state.regs.get_mut(&id) {
            Some(reg) => reg.sockets += 1,
            None => return Err(NtStatus::INVALID_DEVICE_STATE),
        }
        Ok(SimSocket { registration: id })
    }

    fn bind(&self, _socket: &SimSocket, _params: &ListenParams) -> NtStatus {
        if !self.inner.config.dispatch_delay.is_zero() {
            std::thread::sleep(self.inner.config.dispatch_delay);
        }
        self.inner.config.bind_status
    }

    fn close_socket(&self, socket: SimSocket) -> NtStatus {
        let mut state = self.lock();
        let status = match state.regs.get_mut(&socket.registration) {
            Some(reg) if reg.sockets > 0 => {
                reg.sockets -= 1;
                NtStatus::SUCCESS
            }
            _ => NtStatus::INVALID_PARAMETER,
        };
        drop(state);
        self.notify();
        status
    }
}
