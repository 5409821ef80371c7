//! **Test-only fault injection**: deliberately broken clients (host builds only).

use crate::lifecycle::client::{elapsed, CapturedNpi, KW_DISPATCH, KW_LIFECYCLE};
use crate::lifecycle::{Clock, EventSink, ListenParams, WskApi};
use crate::ntstatus::NtStatus;
use crate::schema::WskEvent;

/// Deliberately broken clients, for the balance checks' test traces. **Test-only fault
/// injection**: these inherent methods of the core's guard live in the host-only `sim`
/// module, so they exist in host builds only, never in the driver; each bypasses the guard
/// on purpose and breaks a WSK rule.
impl<A: WskApi, S: EventSink, C: Clock> CapturedNpi<A, S, C> {
    /// FAULT INJECTION: forgets the capture without releasing it (no release call, no event);
    /// the registration keeps counting it as outstanding.
    pub fn fault_leak(mut self) {
        // Marked released so the guard's drop does nothing; WSK is never told.
        self.released = true;
    }

    /// FAULT INJECTION: releases twice (two `WskReleaseProviderNPI` calls, two release events
    /// with the same ids).
    pub fn fault_double_release(mut self) {
        self.release_inner(false);
        let registration = &self.registration;
        let client = &registration.client;
        client.api.release(&registration.raw);
        client.info(KW_LIFECYCLE, &self.activity, || {
            WskEvent::ReleaseProviderNpi {
                registration_id: registration.id,
                capture_id: self.capture_id,
                held_ns: elapsed(&client.clock, self.captured_at),
                dispatch_calls: self.dispatch_calls,
                implicit: false,
            }
        });
    }

    /// FAULT INJECTION: releases, then makes a provider dispatch call (`WskSocket`) through
    /// the released NPI, recorded like any dispatch call. A socket it creates is closed.
    pub fn fault_release_then_dispatch(mut self, params: &ListenParams) -> NtStatus {
        self.release_inner(false);
        let client = self.registration.client.clone();
        let t0 = client.time_if(KW_DISPATCH);
        let result = client.api.socket_listen(&self.npi, params);
        self.dispatch_calls = self.dispatch_calls.saturating_add(1);
        let status = match result {
            Ok(socket) => {
                let _ = client.api.close_socket(&socket);
                NtStatus::SUCCESS
            }
            Err(s) => s,
        };
        self.record_call("WskSocket", status, t0);
        status
    }
}
