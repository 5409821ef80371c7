//! **Test-only fault injection**: deliberately broken clients (host builds only).

use crate::lifecycle::{CapturedNpi, Clock, EventSink, ListenParams, WskApi};
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
            let _ = api.close_socket(socket);
            Ok(())
        });
        called.err().unwrap_or(NtStatus::SUCCESS)
    }
}
