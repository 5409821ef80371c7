//! The simulated WSK subsystem.
//!
//! Answers as Microsoft's WSK documentation ("Registering a Winsock Kernel Application") says:
//! - `WskCaptureProviderNPI`: `WSK_NO_WAIT` returns at once; a timeout in ms waits at most
//!   that long; `WSK_INFINITE_WAIT` waits until ready. Not ready in time →
//!   `STATUS_DEVICE_NOT_READY`; ready but the registration's version unsupported →
//!   `STATUS_NOINTERFACE`; a `WskDeregister` on another thread cancels the wait with
//!   `STATUS_DEVICE_NOT_READY`.
//! - `WskDeregister` blocks until every captured NPI is released, every socket closed and
//!   every waiting capture has returned. It has no timeout, like the real one: past
//!   [`SimConfig::deregister_watchdog`] the hang is recorded ([`SimViolation::DeregisterHung`])
//!   and the call goes on waiting, until the test ends it ([`SimWsk::end_hangs`]).
//! - Sockets: `WskSocket` reserves the IRPs the socket's later calls need, and each
//!   `WskAccept` the close IRP of the connection it may return (a fault knob makes either
//!   fail), `WskBind`, `WskAccept` and `WskCloseSocket` complete on another thread when
//!   [`SimConfig::complete_on_other_thread`] is set (the default, as they may on Windows);
//!   `WskAccept` waits for a connection the test makes ([`SimWsk::connect`]) and is cancelled
//!   by the listening socket's close, which completes only after the accept has.
//!
//! Misuse (a release without a capture, a dispatch call with nothing captured, a deregister
//! that would hang forever) is recorded as a [`SimViolation`] instead of crashing.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::lifecycle::{
    Accepted, ListenParams, ProviderCharacteristics, WskApi, WSK_INFINITE_WAIT, WSK_NO_WAIT,
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
    /// A `WskDeregister` still blocked after this long (a leaked capture or socket: it would
    /// hang forever) is recorded as [`SimViolation::DeregisterHung`]; it keeps waiting.
    pub deregister_watchdog: Duration,
    /// Socket calls complete their IRP on another thread (`STATUS_PENDING` first).
    pub complete_on_other_thread: bool,
    /// What `WskAccept` completes with instead of a connection (fault: accept fails).
    pub accept_status: Option<NtStatus>,
    /// What `WskCloseSocket` completes with (the socket is closed regardless).
    pub close_status: NtStatus,
    /// How long a `WskCloseSocket` takes to complete (a graceful disconnect).
    pub close_delay: Duration,
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
            complete_on_other_thread: true,
            accept_status: None,
            close_status: NtStatus::SUCCESS,
            close_delay: Duration::ZERO,
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
    /// A socket call (bind, accept, close) on a socket already closed.
    SocketCallAfterClose {
        /// The simulator's socket number.
        socket: u32,
        /// The call.
        call: &'static str,
    },
    /// `WskCloseSocket` while another call on the same socket was in progress.
    CloseDuringCall {
        /// The simulator's socket number.
        socket: u32,
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
    /// Accepts waiting for a connection.
    pub accepts_pending: u32,
    /// Connections accepted so far.
    pub accepted: u32,
    /// Sockets closed so far.
    pub closes: u32,
}

#[derive(Debug)]
struct RegState {
    version: u16,
    deregistering: bool,
    waiting: u32,
    captured: u32,
    sockets: u32,
}

/// A listening socket's state.
#[derive(Debug, Default)]
struct ListenState {
    closed: bool,
    /// A call (`WskBind`, `WskAccept`) is running on it now.
    calls: u32,
    /// Connections made and not yet accepted.
    backlog: VecDeque<SocketAddr>,
    /// An accept is waiting on it.
    accept_pending: bool,
    bound: Option<SocketAddr>,
}

#[derive(Debug, Default)]
struct State {
    forced_ready: bool,
    ending_hangs: bool,
    next_registration: u32,
    next_socket: u32,
    regs: HashMap<u32, RegState>,
    listeners: HashMap<u32, ListenState>,
    /// IRPs socket creation may still reserve (`None`: no limit).
    irps_left: Option<u32>,
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

/// A simulated listening socket.
#[derive(Debug)]
pub struct SimSocket {
    registration: u32,
    id: u32,
}

impl SimSocket {
    /// The simulator's number for this socket.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// A simulated accepted connection.
#[derive(Debug)]
pub struct SimConnection {
    registration: u32,
}

/// IRPs a listening socket reserves when it is created: one for its calls (`WskSocket`,
/// `WskBind`, each `WskAccept`), one for its own close (needed while an accept is pending).
pub const IRPS_PER_LISTENING_SOCKET: u32 = 2;
/// IRPs each `WskAccept` reserves before it is called: the close IRP of the connection it
/// may return (so the connection's close cannot fail for want of one).
pub const IRPS_PER_CONNECTION: u32 = 1;

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
                    next_socket: 1,
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

    /// FAULT INJECTION: socket creation may reserve `n` more IRPs (`None`: any number);
    /// past that it fails with `STATUS_INSUFFICIENT_RESOURCES`, with no socket created.
    pub fn set_irp_allocations_left(&self, n: Option<u32>) {
        self.lock().irps_left = n;
    }

    /// A TCP client connects to the open listening socket bound to `local` (any open one if
    /// `None`) from `remote`; the connection waits in its backlog for an accept. `false`
    /// when no such socket is open.
    pub fn connect(&self, local: Option<SocketAddr>, remote: SocketAddr) -> bool {
        let mut state = self.lock();
        let target = state
            .listeners
            .values_mut()
            .find(|l| !l.closed && l.bound.is_some() && (local.is_none() || l.bound == local));
        let queued = match target {
            Some(listener) => {
                listener.backlog.push_back(remote);
                true
            }
            None => false,
        };
        drop(state);
        self.notify();
        queued
    }

    /// From now on a `WskDeregister` that the watchdog finds hung returns after recording
    /// the hang (test-only: a real one waits for ever). Without this, it keeps waiting.
    pub fn end_hangs(&self) {
        self.lock().ending_hangs = true;
        self.notify();
    }

    /// Runs `op` as the provider would complete an IRP: on another thread (inheriting the
    /// caller's allocation-fault plan) when configured, the caller waiting for it.
    fn complete<R: Send + 'static>(&self, op: impl FnOnce(&SimWsk) -> R + Send + 'static) -> R {
        if !self.inner.config.dispatch_delay.is_zero() {
            std::thread::sleep(self.inner.config.dispatch_delay);
        }
        if !self.inner.config.complete_on_other_thread {
            return op(self);
        }
        let wsk = self.clone();
        let plan = super::alloc_faults::current();
        std::thread::Builder::new()
            .name("sim-wsk-completion".into())
            .spawn(move || super::alloc_faults::inherit(plan, || op(&wsk)))
            .expect("the host starts the completion thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Starts a call on a listening socket; `false` (and a violation) if it is closed.
    fn begin_call(state: &mut State, socket: u32, call: &'static str) -> bool {
        match state.listeners.get_mut(&socket) {
            Some(l) if !l.closed => {
                l.calls += 1;
                true
            }
            _ => {
                state
                    .violations
                    .push(SimViolation::SocketCallAfterClose { socket, call });
                false
            }
        }
    }

    /// Takes `n` IRPs from the fault budget, or fails with `STATUS_INSUFFICIENT_RESOURCES`
    /// (taking none).
    fn reserve_irps(state: &mut State, n: u32) -> Result<(), NtStatus> {
        match &mut state.irps_left {
            Some(left) if *left < n => Err(NtStatus::INSUFFICIENT_RESOURCES),
            Some(left) => {
                *left -= n;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn end_call(state: &mut State, socket: u32) {
        if let Some(l) = state.listeners.get_mut(&socket) {
            l.calls = l.calls.saturating_sub(1);
        }
    }
}

impl WskApi for SimWsk {
    type Registration = SimRegistration;
    type ProviderNpi = SimProviderNpi;
    type Socket = SimSocket;
    type Connection = SimConnection;

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
        let mut hung = false;
        loop {
            let reg = &state.regs[&id];
            if reg.captured == 0 && reg.sockets == 0 && reg.waiting == 0 {
                break;
            }
            if !hung && Instant::now() >= deadline {
                hung = true;
                let v = SimViolation::DeregisterHung {
                    registration: id,
                    captures: reg.captured,
                    sockets: reg.sockets,
                };
                state.violations.push(v);
            }
            if hung && state.ending_hangs {
                break;
            }
            state = self.wait(state, (!hung).then_some(deadline));
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
        {
            let mut state = self.lock();
            let violation = match state.regs.get(&id) {
                Some(reg) if reg.captured > 0 => None,
                Some(_) => Some(SimViolation::DispatchWithoutCapture { registration: id }),
                None => Some(SimViolation::UnknownRegistration { registration: id }),
            };
            if let Some(v) = violation {
                state.violations.push(v);
            }
            // The socket's IRPs are reserved before `WskSocket` is called.
            SimWsk::reserve_irps(&mut state, IRPS_PER_LISTENING_SOCKET)?;
        }
        self.complete(move |wsk| {
            let status = wsk.inner.config.socket_status;
            if !status.is_success() {
                return Err(status);
            }
            let mut state = wsk.lock();
            match state.regs.get_mut(&id) {
                Some(reg) => reg.sockets += 1,
                None => return Err(NtStatus::INVALID_DEVICE_STATE),
            }
            let socket = state.next_socket;
            state.next_socket += 1;
            state.listeners.insert(socket, ListenState::default());
            Ok(SimSocket {
                registration: id,
                id: socket,
            })
        })
    }

    fn bind(&self, socket: &SimSocket, params: &ListenParams) -> NtStatus {
        let id = socket.id;
        if !SimWsk::begin_call(&mut self.lock(), id, "WskBind") {
            return NtStatus::INVALID_DEVICE_STATE;
        }
        let local = SocketAddr::new(params.address, params.port);
        let status = self.complete(move |wsk| {
            let status = wsk.inner.config.bind_status;
            let mut state = wsk.lock();
            if status.is_success() {
                if let Some(l) = state.listeners.get_mut(&id) {
                    l.bound = Some(local);
                }
            }
            SimWsk::end_call(&mut state, id);
            status
        });
        self.notify();
        status
    }

    fn accept(
        &self,
        socket: &SimSocket,
        issued: &dyn Fn(),
    ) -> Result<Accepted<SimConnection>, NtStatus> {
        let pending = self.begin_accept(socket)?;
        // `WskAccept` returned `STATUS_PENDING`; the IRP completes when a connection comes
        // (made by the test on its thread) or the socket is closed (on the unload thread).
        issued();
        pending.wait()
    }

    fn close_socket(&self, socket: &SimSocket) -> NtStatus {
        let id = socket.id;
        let registration = socket.registration;
        {
            let mut state = self.lock();
            match state.listeners.get_mut(&id) {
                Some(l) if !l.closed => {
                    if l.calls > 0 {
                        state
                            .violations
                            .push(SimViolation::CloseDuringCall { socket: id });
                    }
                }
                _ => {
                    state.violations.push(SimViolation::SocketCallAfterClose {
                        socket: id,
                        call: "WskCloseSocket",
                    });
                    return NtStatus::INVALID_DEVICE_STATE;
                }
            }
        }
        let status = self.complete(move |wsk| {
            let mut state = wsk.lock();
            if let Some(l) = state.listeners.get_mut(&id) {
                l.closed = true;
            }
            drop(state);
            std::thread::sleep(wsk.inner.config.close_delay);
            let mut state = wsk.lock();
            wsk.notify();
            // The pending accept is cancelled and completed before the close completes.
            while state.listeners.get(&id).is_some_and(|l| l.accept_pending) {
                state = wsk.wait(state, None);
            }
            state.listeners.remove(&id);
            wsk.close_counted(&mut state, registration)
        });
        self.notify();
        status
    }

    fn close_connection(&self, connection: SimConnection) -> NtStatus {
        let status = self.complete(move |wsk| {
            std::thread::sleep(wsk.inner.config.close_delay);
            let mut state = wsk.lock();
            wsk.close_counted(&mut state, connection.registration)
        });
        self.notify();
        status
    }
}

/// A `WskAccept` the simulator has taken (its IRP pending): [`PendingAccept::wait`] gives
/// its completion.
#[derive(Debug)]
pub struct PendingAccept {
    wsk: SimWsk,
    socket: u32,
    registration: u32,
}

impl SimWsk {
    /// The first half of `WskAccept`: reserves the connection's close IRP, checks the socket
    /// and marks the accept pending, without waiting. A close of the socket from now on
    /// cancels it.
    pub fn begin_accept(&self, socket: &SimSocket) -> Result<PendingAccept, NtStatus> {
        let id = socket.id;
        let mut state = self.lock();
        // The connection's close IRP is reserved before `WskAccept` is called.
        SimWsk::reserve_irps(&mut state, IRPS_PER_CONNECTION)?;
        if !SimWsk::begin_call(&mut state, id, "WskAccept") {
            return Err(NtStatus::INVALID_DEVICE_STATE);
        }
        if let Some(l) = state.listeners.get_mut(&id) {
            l.accept_pending = true;
        }
        state.counts.accepts_pending += 1;
        SimWsk::end_call(&mut state, id);
        drop(state);
        self.notify();
        Ok(PendingAccept {
            wsk: self.clone(),
            socket: id,
            registration: socket.registration,
        })
    }
}

impl PendingAccept {
    /// The accept's completion: a connection (from the backlog the test fills with
    /// [`SimWsk::connect`]), `STATUS_CANCELLED` once the socket is closed, or the configured
    /// accept fault.
    pub fn wait(self) -> Result<Accepted<SimConnection>, NtStatus> {
        let PendingAccept {
            wsk,
            socket: id,
            registration,
        } = self;
        let fault = wsk.inner.config.accept_status;
        let mut state = wsk.lock();
        let result = loop {
            let Some(l) = state.listeners.get_mut(&id) else {
                break Err(NtStatus::INVALID_DEVICE_STATE);
            };
            if l.closed {
                break Err(NtStatus::CANCELLED);
            }
            if let Some(remote) = l.backlog.pop_front() {
                if let Some(status) = fault {
                    break Err(status);
                }
                match state.regs.get_mut(&registration) {
                    Some(reg) => reg.sockets += 1,
                    None => break Err(NtStatus::INVALID_DEVICE_STATE),
                }
                state.counts.accepted += 1;
                break Ok(Accepted {
                    connection: SimConnection { registration },
                    remote,
                });
            }
            state = wsk.wait(state, None);
        };
        if let Some(l) = state.listeners.get_mut(&id) {
            l.accept_pending = false;
        }
        state.counts.accepts_pending -= 1;
        drop(state);
        wsk.notify();
        result
    }
}

impl SimWsk {
    /// Counts a socket of `registration` closed; the configured close status.
    fn close_counted(&self, state: &mut State, registration: u32) -> NtStatus {
        state.counts.closes += 1;
        match state.regs.get_mut(&registration) {
            Some(reg) if reg.sockets > 0 => {
                reg.sockets -= 1;
                self.inner.config.close_status
            }
            _ => NtStatus::INVALID_PARAMETER,
        }
    }
}
