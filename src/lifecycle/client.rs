//! The WSK client: registration, capture guards, release, deregistration, each transition
//! recorded through the [`EventSink`].

use crate::fallible::{Reserved, TryArc};
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use crate::lifecycle::api::{Clock, ListenParams, ProviderCharacteristics, WaitTimeout, WskApi};
use crate::lifecycle::sink::{ActivityId, ActivityIds, EventSink};
use crate::lifecycle::socket::{self, ListenSocket};
use crate::ntstatus::NtStatus;
use crate::schema::{keywords, socket_kind, CallingContext, WskEventRef};

pub(crate) const KW_LIFECYCLE: u64 = keywords::LIFECYCLE;
const KW_CAPTURE: u64 = keywords::LIFECYCLE | keywords::LATENCY;
pub(crate) const KW_DISPATCH: u64 = keywords::DISPATCH;
pub(crate) const KW_SOCKET: u64 = keywords::SOCKET;

/// The most registrations [`WskClient::register_and_capture`] makes while negotiating a
/// version (the first one included).
pub const MAX_REGISTRATION_ATTEMPTS: u32 = 3;

/// The driver's WSK client: the platform's [`WskApi`], the event sink and the clock, plus the
/// id counters. Shared (in a [`TryArc`]) by DriverEntry, the worker and unload.
pub struct WskClient<A: WskApi, S: EventSink, C: Clock> {
    pub(crate) api: A,
    sink: S,
    pub(crate) clock: C,
    activities: ActivityIds,
    next_registration_id: AtomicU32,
    next_capture_id: AtomicU32,
    next_socket_id: AtomicU32,
}

/// A started Start/Stop pair: its activity and, if the provider was enabled at the start,
/// when it started. A Stop is written only if its Start was.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub(crate) activity: ActivityId,
    pub(crate) start_ns: Option<u64>,
}

impl<A: WskApi, S: EventSink, C: Clock> WskClient<A, S, C> {
    /// A client over `api`, recording into `sink`, timing with `clock`;
    /// `STATUS_INSUFFICIENT_RESOURCES` when its memory cannot be had.
    pub fn new(api: A, sink: S, clock: C) -> Result<TryArc<Self>, NtStatus> {
        let seed = clock.now_ns();
        Ok(TryArc::try_new(
            WskClient {
                api,
                sink,
                clock,
                activities: ActivityIds::new(seed),
                next_registration_id: AtomicU32::new(1),
                next_capture_id: AtomicU32::new(1),
                next_socket_id: AtomicU32::new(1),
            },
            "WskClient",
        )?)
    }

    /// A new socket id (1, 2, ... per client).
    pub(crate) fn next_socket_id(&self) -> u32 {
        self.next_socket_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The platform's WSK functions.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// The event sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Writes an Info event if the sink takes `kw` (the event is built only then, out of
    /// line in a cold function, so the disabled path is the `enabled` test and one branch).
    #[inline(always)]
    pub(crate) fn info<'a>(
        &self,
        kw: u64,
        activity: &ActivityId,
        make: impl FnOnce() -> WskEventRef<'a>,
    ) {
        if self.sink.enabled(kw) {
            self.write_cold(activity, make);
        }
    }

    #[cold]
    #[inline(never)]
    fn write_cold<'a>(&self, activity: &ActivityId, make: impl FnOnce() -> WskEventRef<'a>) {
        self.sink.write(activity, &make());
    }

    /// Starts a Start/Stop pair: writes the Start (built only if enabled).
    #[inline(always)]
    pub(crate) fn start<'a>(&self, kw: u64, make: impl FnOnce() -> WskEventRef<'a>) -> Span {
        if self.sink.enabled(kw) {
            self.start_cold(make)
        } else {
            Span {
                activity: ActivityId::NONE,
                start_ns: None,
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn start_cold<'a>(&self, make: impl FnOnce() -> WskEventRef<'a>) -> Span {
        let activity = self.activities.next();
        self.sink.write(&activity, &make());
        Span {
            activity,
            start_ns: Some(self.clock.now_ns()),
        }
    }

    /// Ends a pair started with [`WskClient::start`]: the Stop gets the elapsed time.
    #[inline(always)]
    pub(crate) fn stop<'a>(&self, kw: u64, span: &Span, make: impl FnOnce(u64) -> WskEventRef<'a>) {
        if let Some(start) = span.start_ns {
            if self.sink.enabled(kw) {
                self.stop_cold(start, &span.activity, make);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn stop_cold<'a>(
        &self,
        start: u64,
        activity: &ActivityId,
        make: impl FnOnce(u64) -> WskEventRef<'a>,
    ) {
        let elapsed = self.clock.now_ns().saturating_sub(start);
        self.sink.write(activity, &make(elapsed));
    }

    /// Writes a timed Info event whose start time `t0` came from [`WskClient::time_if`]: only
    /// if the provider was enabled then (no second `enabled` test on this path).
    #[inline(always)]
    pub(crate) fn finish<'a>(
        &self,
        t0: Option<u64>,
        activity: &ActivityId,
        make: impl FnOnce(u64) -> WskEventRef<'a>,
    ) {
        if let Some(t0) = t0 {
            self.stop_cold(t0, activity, make);
        }
    }

    /// The time now if the sink takes `kw`, for an Info event's duration.
    #[inline(always)]
    pub(crate) fn time_if(&self, kw: u64) -> Option<u64> {
        if self.sink.enabled(kw) {
            Some(self.clock.now_ns())
        } else {
            None
        }
    }
}

/// A shared registration handle.
pub type SharedRegistration<A, S, C> = TryArc<Registration<A, S, C>>;

impl<A: WskApi, S: EventSink, C: Clock> TryArc<WskClient<A, S, C>> {
    /// `WskRegister` with NPI version `version`. The registration is deregistered when
    /// [`Registration::deregister`] is called or, failing that, when its last reference goes.
    /// Its memory is reserved before `WskRegister` is called, so a registration never exists
    /// without its holder.
    pub fn register(&self, version: u16) -> Result<SharedRegistration<A, S, C>, NtStatus> {
        let id = self.next_registration_id.fetch_add(1, Ordering::Relaxed);
        let memory = Reserved::new("Registration")?;
        let t0 = self.time_if(KW_LIFECYCLE);
        let result = self.api.register(version);
        let status = match &result {
            Ok(_) => NtStatus::SUCCESS,
            Err(status) => *status,
        };
        self.finish(t0, &ActivityId::NONE, |duration_ns| {
            WskEventRef::WskRegister {
                registration_id: id,
                npi_version: version,
                status,
                duration_ns,
            }
        });
        let raw = result?;
        Ok(memory.arc(Registration {
            client: self.clone(),
            id,
            version,
            raw,
            outstanding: AtomicU32::new(0),
            state: AtomicU8::new(STATE_ACTIVE),
        }))
    }

    /// Registers with `version` and captures, negotiating the version on
    /// `STATUS_NOINTERFACE`: query the supported range, deregister, register again with a
    /// supported version ([`negotiate_version`]). At most [`MAX_REGISTRATION_ATTEMPTS`]
    /// registrations, and never the same version twice.
    ///
    /// `on_registered` is called with each new registration before its capture (the driver
    /// publishes it there so unload can cancel the wait); returning `false` stops the
    /// attempt with `STATUS_DEVICE_NOT_READY` and the registration is deregistered.
    pub fn register_and_capture(
        &self,
        version: u16,
        wait: WaitTimeout,
        context: CallingContext,
        mut on_registered: impl FnMut(&SharedRegistration<A, S, C>) -> bool,
    ) -> Result<CapturedNpi<A, S, C>, NtStatus> {
        let mut tried = [0u16; MAX_REGISTRATION_ATTEMPTS as usize];
        let mut version = version;
        for attempt in 0..MAX_REGISTRATION_ATTEMPTS as usize {
            tried[attempt] = version;
            let registration = self.register(version)?;
            if !on_registered(&registration) {
                registration.deregister();
                return Err(NtStatus::DEVICE_NOT_READY);
            }
            match registration.capture(wait, context) {
                Ok(npi) => return Ok(npi),
                Err(NtStatus::NOINTERFACE) => {
                    let characteristics = registration.query_characteristics();
                    registration.deregister();
                    let next = match characteristics {
                        Ok(c) => negotiate_version(version, &c),
                        Err(_) => None,
                    };
                    match next {
                        Some(v) if !tried[..=attempt].contains(&v) => version = v,
                        _ => return Err(NtStatus::NOINTERFACE),
                    }
                }
                Err(status) => return Err(status),
            }
        }
        Err(NtStatus::NOINTERFACE)
    }
}

pub(crate) fn elapsed<C: Clock>(clock: &C, t0: Option<u64>) -> u64 {
    match t0 {
        Some(t0) => clock.now_ns().saturating_sub(t0),
        None => 0,
    }
}

/// The version to register with after `STATUS_NOINTERFACE` for `requested`, given the
/// supported range: the requested one if supported, else the highest supported version not
/// above it, else the lowest supported one; `None` if the range is empty.
pub const fn negotiate_version(requested: u16, supported: &ProviderCharacteristics) -> Option<u16> {
    if supported.lowest_version > supported.highest_version {
        None
    } else if supported.supports(requested) {
        Some(requested)
    } else if requested > supported.highest_version {
        Some(supported.highest_version)
    } else {
        Some(supported.lowest_version)
    }
}

const STATE_ACTIVE: u8 = 0;
const STATE_DEREGISTERING: u8 = 1;
const STATE_DEREGISTERED: u8 = 2;

/// A WSK registration (`WskRegister` succeeded). Shared: one thread may wait in a capture
/// while another deregisters.
pub struct Registration<A: WskApi, S: EventSink, C: Clock> {
    pub(crate) client: TryArc<WskClient<A, S, C>>,
    pub(crate) id: u32,
    version: u16,
    pub(crate) raw: A::Registration,
    outstanding: AtomicU32,
    state: AtomicU8,
}

impl<A: WskApi, S: EventSink, C: Clock> Registration<A, S, C> {
    /// Registration id, as recorded.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The NPI version registered with.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The client.
    pub fn client(&self) -> &TryArc<WskClient<A, S, C>> {
        &self.client
    }

    /// Captured NPIs not yet released.
    pub fn outstanding_captures(&self) -> u32 {
        self.outstanding.load(Ordering::Acquire)
    }

    /// Whether [`Registration::deregister`] has begun.
    pub fn is_deregistering(&self) -> bool {
        self.state.load(Ordering::Acquire) != STATE_ACTIVE
    }

    /// `WskQueryProviderCharacteristics`.
    pub fn query_characteristics(&self) -> Result<ProviderCharacteristics, NtStatus> {
        let result = self.client.api.query_characteristics(&self.raw);
        self.client.info(KW_LIFECYCLE, &ActivityId::NONE, || {
            let (status, c) = match &result {
                Ok(c) => (NtStatus::SUCCESS, *c),
                Err(s) => (
                    *s,
                    ProviderCharacteristics {
                        highest_version: 0,
                        lowest_version: 0,
                    },
                ),
            };
            WskEventRef::QueryProviderCharacteristics {
                registration_id: self.id,
                status,
                lowest_version: c.lowest_version,
                highest_version: c.highest_version,
            }
        });
        result
    }

    /// `WskDeregister`: cancels captures waiting on other threads and blocks until every
    /// captured NPI is released and every socket closed. Only the first call deregisters;
    /// later calls return at once. Must not be called by a thread that holds a capture of
    /// this registration (it would wait for itself, as with WSK).
    pub fn deregister(&self) {
        if self
            .state
            .compare_exchange(
                STATE_ACTIVE,
                STATE_DEREGISTERING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return;
        }
        let client = &self.client;
        let span = client.start(KW_LIFECYCLE, || WskEventRef::WskDeregisterStart {
            registration_id: self.id,
            captures_outstanding: self.outstanding.load(Ordering::Acquire),
        });
        client.api.deregister(&self.raw);
        client.stop(KW_LIFECYCLE, &span, |wait_ns| {
            WskEventRef::WskDeregisterStop {
                registration_id: self.id,
                wait_ns,
            }
        });
        self.state.store(STATE_DEREGISTERED, Ordering::Release);
    }
}

impl<A: WskApi, S: EventSink, C: Clock> TryArc<Registration<A, S, C>> {
    /// `WskCaptureProviderNPI` with `wait`, from `context`. Each success is a guard that must
    /// be released once ([`CapturedNpi::release`]; dropping it releases too). After
    /// deregistration began, fails with `STATUS_INVALID_DEVICE_STATE` without calling WSK
    /// (recorded as `CaptureRefused`).
    #[inline]
    pub fn capture(
        &self,
        wait: WaitTimeout,
        context: CallingContext,
    ) -> Result<CapturedNpi<A, S, C>, NtStatus> {
        let client = &self.client;
        if self.is_deregistering() {
            let status = NtStatus::INVALID_DEVICE_STATE;
            client.info(KW_LIFECYCLE, &ActivityId::NONE, || {
                WskEventRef::CaptureRefused {
                    registration_id: self.id,
                    wait_timeout_ms: wait.as_ms(),
                    calling_context: context as u8,
                    status,
                }
            });
            return Err(status);
        }
        let capture_id = client.next_capture_id.fetch_add(1, Ordering::Relaxed);
        let wait_ms = wait.as_ms();
        let span = client.start(KW_CAPTURE, || WskEventRef::CaptureProviderNpiStart {
            registration_id: self.id,
            capture_id,
            wait_timeout_ms: wait_ms,
            calling_context: context as u8,
        });
        let result = client.api.capture(&self.raw, wait_ms);
        if result.is_ok() {
            self.outstanding.fetch_add(1, Ordering::AcqRel);
        }
        let status = match &result {
            Ok(_) => NtStatus::SUCCESS,
            Err(status) => *status,
        };
        client.stop(KW_CAPTURE, &span, |wait_ns| {
            WskEventRef::CaptureProviderNpiStop {
                registration_id: self.id,
                capture_id,
                status,
                wait_ns,
            }
        });
        let npi = result?;
        Ok(CapturedNpi {
            registration: self.clone(),
            npi,
            capture_id,
            activity: span.activity,
            captured_at: span.start_ns.map(|_| client.clock.now_ns()),
            dispatch_calls: 0,
            released: false,
        })
    }
}

impl<A: WskApi, S: EventSink, C: Clock> Drop for Registration<A, S, C> {
    /// A registration never outlives its `WskDeregister`: the last reference deregisters.
    fn drop(&mut self) {
        self.deregister();
    }
}

/// A captured provider NPI. Provider dispatch calls go through it; [`CapturedNpi::release`]
/// consumes it, so nothing can be called through it after its release, and it cannot be
/// released twice. Dropping it without `release` releases it too, and records the release as
/// implicit.
///
/// # Compile-fail proofs
///
/// Each `compile_fail` example below comes with a control that compiles: the same statements,
/// in the allowed order (or without the offending one). So the failure can only come from the
/// rule being enforced, not from anything else in the example.
///
/// A dispatch call after release does not compile; before release it does:
///
/// ```
/// # use wsktrace_driver::lifecycle::*;
/// fn ok<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
///     let _ = npi.create_listening_socket(&ListenParams::default());
///     npi.release();
/// }
/// ```
/// ```compile_fail
/// # use wsktrace_driver::lifecycle::*;
/// fn dispatch_after_release<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
///     npi.release();
///     let _ = npi.create_listening_socket(&ListenParams::default());
/// }
/// ```
///
/// The same for any provider dispatch function ([`CapturedNpi::call`]):
///
/// ```
/// # use wsktrace_driver::lifecycle::*;
/// fn ok<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
///     let _ = npi.call("WskControlClient", |_api, _npi| Ok(()));
///     npi.release();
/// }
/// ```
/// ```compile_fail
/// # use wsktrace_driver::lifecycle::*;
/// fn call_after_release<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
///     npi.release();
///     let _ = npi.call("WskControlClient", |_api, _npi| Ok(()));
/// }
/// ```
///
/// One release compiles, a second release of the same guard does not:
///
/// ```
/// # use wsktrace_driver::lifecycle::*;
/// fn ok<A: WskApi, S: EventSink, C: Clock>(npi: CapturedNpi<A, S, C>) {
///     npi.release();
/// }
/// ```
/// ```compile_fail
/// # use wsktrace_driver::lifecycle::*;
/// fn double_release<A: WskApi, S: EventSink, C: Clock>(npi: CapturedNpi<A, S, C>) {
///     npi.release();
///     npi.release();
/// }
/// ```
///
/// The raw provider NPI handed to a dispatch call can be used in the call but cannot escape
/// it (so it cannot be used after the release either):
///
/// ```
/// # use wsktrace_driver::lifecycle::*;
/// fn ok<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
///     let mut kept = None;
///     let _ = npi.call("WskSocket", |_api, raw| {
///         kept = Some(core::ptr::eq(raw, raw));
///         Ok(())
///     });
///     npi.release();
///     let _ = kept;
/// }
/// ```
/// ```compile_fail
/// # use wsktrace_driver::lifecycle::*;
/// fn npi_escapes<A: WskApi, S: EventSink, C: Clock>(mut npi: CapturedNpi<A, S, C>) {
///     let mut kept = None;
///     let _ = npi.call("WskSocket", |_api, raw| {
///         kept = Some(raw);
///         Ok(())
///     });
///     npi.release();
///     let _ = kept;
/// }
/// ```
pub struct CapturedNpi<A: WskApi, S: EventSink, C: Clock> {
    registration: SharedRegistration<A, S, C>,
    npi: A::ProviderNpi,
    capture_id: u32,
    activity: ActivityId,
    captured_at: Option<u64>,
    dispatch_calls: u32,
    released: bool,
}

impl<A: WskApi, S: EventSink, C: Clock> CapturedNpi<A, S, C> {
    /// Capture id, as recorded.
    pub fn capture_id(&self) -> u32 {
        self.capture_id
    }

    /// The registration this NPI was captured from.
    pub fn registration(&self) -> &SharedRegistration<A, S, C> {
        &self.registration
    }

    /// Provider dispatch calls made so far.
    pub fn dispatch_calls(&self) -> u32 {
        self.dispatch_calls
    }

    /// Calls a `WSK_PROVIDER_DISPATCH` function (named `function` in the trace, e.g.
    /// `"WskControlClient"`) through this NPI, and records it.
    #[inline]
    pub fn call<R>(
        &mut self,
        function: &'static str,
        f: impl FnOnce(&A, &A::ProviderNpi) -> Result<R, NtStatus>,
    ) -> Result<R, NtStatus> {
        let client = &self.registration.client;
        let t0 = client.time_if(KW_DISPATCH);
        let result = f(&client.api, &self.npi);
        self.dispatch_calls = self.dispatch_calls.saturating_add(1);
        let status = match &result {
            Ok(_) => NtStatus::SUCCESS,
            Err(s) => *s,
        };
        self.record_call(function, status, t0);
        result
    }

    #[inline(always)]
    fn record_call(&self, function: &'static str, status: NtStatus, t0: Option<u64>) {
        let client = &self.registration.client;
        client.finish(t0, &self.activity, |duration_ns| {
            WskEventRef::DispatchCall {
                registration_id: self.registration.id,
                capture_id: self.capture_id,
                function,
                status,
                duration_ns,
            }
        });
    }

    /// Creates and sets up a listening socket (`WskSocket` with `WSK_FLAG_LISTEN_SOCKET`,
    /// then `WskBind` to `params`), as in the documentation's example: both are recorded as
    /// `DispatchCall`s of this NPI, the socket's creation as `SocketCreated` and the bind as
    /// `SocketBind`. On a bind failure the socket is closed again (recorded). Close the
    /// returned socket with [`ListenSocket::close`] before deregistering.
    pub fn create_listening_socket(
        &mut self,
        params: &ListenParams,
    ) -> Result<ListenSocket<A, S, C>, NtStatus> {
        let raw = self.call("WskSocket", |api, npi| api.socket_listen(npi, params))?;
        let registration = self.registration.clone();
        let id = registration.client.next_socket_id();
        socket::record_created(
            &registration,
            self.capture_id,
            id,
            socket_kind::LISTEN,
            &params.address,
        );
        let socket = ListenSocket::new(registration, raw, id);
        let bound = self.call("WskBind", |_, _| {
            let status = socket.bind(params);
            if status.is_success() {
                Ok(())
            } else {
                Err(status)
            }
        });
        match bound {
            Ok(()) => Ok(socket),
            Err(status) => {
                let _ = socket.close();
                Err(status)
            }
        }
    }

    /// `WskReleaseProviderNPI`: releases this capture. Consumes the guard.
    #[inline]
    pub fn release(mut self) {
        self.release_inner(false);
    }

    #[inline]
    pub(crate) fn release_inner(&mut self, implicit: bool) {
        if self.released {
            return;
        }
        self.released = true;
        self.registration.outstanding.fetch_sub(1, Ordering::AcqRel);
        self.release_call(implicit);
    }

    /// The release's effects outside the guard: `WskReleaseProviderNPI`, and its event.
    #[inline]
    pub(crate) fn release_call(&self, implicit: bool) {
        let registration = &self.registration;
        let client = &registration.client;
        client.api.release(&registration.raw);
        client.info(KW_LIFECYCLE, &self.activity, || {
            WskEventRef::ReleaseProviderNpi {
                registration_id: registration.id,
                capture_id: self.capture_id,
                held_ns: elapsed(&client.clock, self.captured_at),
                dispatch_calls: self.dispatch_calls,
                implicit,
            }
        });
    }
}

/// What the simulator's broken clients (`sim::fault`, host builds only) need of the guard.
#[cfg(not(windows))]
impl<A: WskApi, S: EventSink, C: Clock> CapturedNpi<A, S, C> {
    /// Makes the guard's drop do nothing: the capture stays outstanding and WSK is never told.
    pub(crate) fn disarm(&mut self) {
        self.released = true;
    }
}

impl<A: WskApi, S: EventSink, C: Clock> Drop for CapturedNpi<A, S, C> {
    /// A guard dropped without an explicit release releases, recorded with `Implicit = true`.
    #[inline]
    fn drop(&mut self) {
        self.release_inner(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_negotiation_choices() {
        let c = |lo, hi| ProviderCharacteristics {
            lowest_version: lo,
            highest_version: hi,
        };
        assert_eq!(negotiate_version(0x0200, &c(0x0100, 0x0100)), Some(0x0100));
        assert_eq!(negotiate_version(0x0100, &c(0x0100, 0x0101)), Some(0x0100));
        assert_eq!(negotiate_version(0x0001, &c(0x0100, 0x0101)), Some(0x0100));
        assert_eq!(negotiate_version(0x0100, &c(0x0200, 0x0100)), None);
    }
}
