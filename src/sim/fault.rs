//! **Test-only fault injection**: deliberately broken clients (host builds only).

use std::sync::{Condvar, Mutex, PoisonError};

use crate::lifecycle::{CapturedNpi, Clock, EventSink, ListenParams, ListenSocket, WskApi};
use crate::ntstatus::NtStatus;

/// Deliberately broken clients, for the balance checks' test traces. **Test-only fault
/// injection**: these inherent methods of the core's guard live in the host-only `sim`
/// module, so they exist in host builds only, never in the driver; each bypasses the guard
/// on purpose and breaks a WSK rule, through the guard's own operations (so the events are the
/// ones a real client would cause).
impl<A: WskApi, S: EventSink, C: Clock> CapturedNpi<A, S, C> {
    /// FAULT INJECTION: forgets the capture without releasing it (no release call, no event);
    /// the registration keeps counting it as outstanding.
    pub fn fault_leak(mut self) {
        self.disarm();
    }

    /// FAULT INJECTION: releases twice (two `WskReleaseProviderNPI` calls, two release events
    /// with the same ids).
    pub fn fault_double_release(mut self) {
        self.release_inner(false);
        self.release_call(false);
    }

    /// FAULT INJECTION: releases, then makes a provider dispatch call (`WskSocket`) through
    /// the released NPI, recorded like any dispatch call. A socket it creates is closed.
    pub fn fault_release_then_dispatch(mut self, params: &ListenParams) -> NtStatus {
        self.release_inner(false);
        let called = self.call("WskSocket", |api, npi| {
            let socket = api.socket_listen(npi, params)?;
            let _ = api.close_socket(&socket);
            Ok(())
        });
        called.err().unwrap_or(NtStatus::SUCCESS)
    }
}

/// Deliberately broken socket use, for the socket rules' test traces (host builds only, as
/// above).
impl<A: WskApi, S: EventSink, C: Clock> ListenSocket<A, S, C> {
    /// FAULT INJECTION: closes the socket, then calls `WskBind` on it (recorded as
    /// `SocketBind` with whatever the provider answers).
    pub fn fault_close_then_bind(self, params: &ListenParams) -> NtStatus {
        let _ = self.close_in_place(|| {});
        self.bind(params)
    }

    /// FAULT INJECTION: an accept pending on another thread, then the socket closed with its
    /// `CloseSocket` Stop written at once, and only then that cancelled accept's `Accept`
    /// Stop: a trace in which the accept completes after the close returned (the order the
    /// driver's listener never lets its events take). Returns the accept's status.
    pub fn fault_close_before_accept_recorded(self) -> NtStatus {
        #[derive(Default)]
        struct Step {
            issued: bool,
            closed: bool,
        }
        let step = Mutex::new(Step::default());
        let changed = Condvar::new();
        let set = |f: fn(&mut Step)| {
            f(&mut step.lock().unwrap_or_else(PoisonError::into_inner));
            changed.notify_all();
        };
        let wait = |done: fn(&Step) -> bool| {
            let mut s = step.lock().unwrap_or_else(PoisonError::into_inner);
            while !done(&s) {
                s = changed.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
        };
        std::thread::scope(|scope| {
            let accepting = scope.spawn(|| {
                // An accept that fails before it is issued lets the close go ahead too.
                let recorded_late = || {
                    set(|s| s.issued = true);
                    wait(|s| s.closed);
                };
                self.accept_then(&|| set(|s| s.issued = true), recorded_late)
                    .err()
                    .unwrap_or(NtStatus::SUCCESS)
            });
            wait(|s| s.issued);
            let _ = self.close_in_place(|| {});
            set(|s| s.closed = true);
            accepting.join().unwrap_or(NtStatus::UNSUCCESSFUL)
        })
    }
}
