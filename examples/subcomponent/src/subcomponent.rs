//! The WSK client as a subcomponent of a bigger driver: it registers only while it is active.
//!
//! [`Subcomponent::activate`] registers, captures the provider NPI with a bounded wait, uses
//! the provider (creates a listening socket bound to an ephemeral loopback port, then closes
//! it) and releases the NPI; the registration stays until [`Subcomponent::deactivate`]
//! deregisters it. Both may be called from any thread at `PASSIVE_LEVEL`, concurrently:
//!
//! - a deactivation during an activation's capture wait deregisters, which cancels the wait
//!   (`STATUS_DEVICE_NOT_READY`); the activation then leaves nothing behind;
//! - a deactivation while an activation uses the provider deregisters too: `WskDeregister`
//!   waits for that activation's release, and the activation completes;
//! - an activation while an earlier deactivation's deregister still waits registers anew (a
//!   registration is never reused once its deregistration began);
//! - an activation while active changes nothing (`STATUS_SUCCESS`).
//!
//! Everything here is the portable core's API ([`wsktrace_driver::lifecycle`]): the same
//! code runs in the kernel over the glue's WSK and on the host over the simulator.

use wsktrace_driver::fallible::TryArc;
use wsktrace_driver::lifecycle::{
    make_wsk_version, CallingContext, Clock, EventSink, Ipv4Addr, ListenParams, Lock, Locking,
    SharedRegistration, WaitTimeout, WskApi, WskClient,
};
use wsktrace_driver::ntstatus::NtStatus;

/// The NPI version the subcomponent registers.
pub const NPI_VERSION: u16 = make_wsk_version(1, 0);
/// How long an activation waits for the WSK subsystem (bounded: it runs in a caller's
/// request, such as an IOCTL).
pub const CAPTURE_WAIT: WaitTimeout = WaitTimeout::Millis(1_000);
/// The socket an activation creates and closes: loopback, a port the stack picks.
pub const PROBE_SOCKET: ListenParams = ListenParams {
    address: wsktrace_driver::lifecycle::IpAddr::V4(Ipv4Addr::LOCALHOST),
    port: 0,
};

/// A WSK client that is registered only while active.
pub struct Subcomponent<A: WskApi, S: EventSink, C: Clock, L: Locking> {
    client: TryArc<WskClient<A, S, C>>,
    wait: WaitTimeout,
    /// The registration of the current activation (`None`: inactive).
    active: L::Lock<Option<SharedRegistration<A, S, C>>>,
}

impl<A: WskApi, S: EventSink, C: Clock, L: Locking> Subcomponent<A, S, C, L> {
    /// An inactive subcomponent of `client` whose activations wait at most `wait` for WSK.
    pub fn new(client: TryArc<WskClient<A, S, C>>, wait: WaitTimeout) -> Self {
        Subcomponent {
            client,
            wait,
            active: L::Lock::new(None),
        }
    }

    /// Whether an activation's registration is in place.
    pub fn is_active(&self) -> bool {
        self.active.with(|a| a.is_some())
    }

    /// Registers, captures with the bounded wait, creates and closes a socket, releases. The
    /// registration stays until [`Subcomponent::deactivate`]. On failure nothing is left: no
    /// capture, no socket, and the registration is deregistered (unless a deactivation
    /// already took it). Returns the first failure's status.
    pub fn activate(&self) -> NtStatus {
        if self.is_active() {
            return NtStatus::SUCCESS;
        }
        let registration = match self.client.register(NPI_VERSION) {
            Ok(registration) => registration,
            Err(status) => return status,
        };
        // Published before the capture, so a deactivation can deregister it (which cancels
        // the wait). Nothing is dropped under the lock (a spin lock in the kernel).
        let raced = self.active.with(|a| match a {
            Some(_) => Some(registration.clone()),
            None => {
                *a = Some(registration.clone());
                None
            }
        });
        if let Some(ours) = raced {
            // Another activation got there first: keep its registration, drop ours.
            ours.deregister();
            return NtStatus::SUCCESS;
        }
        let status = self.use_provider(&registration);
        if !status.is_success() {
            self.retire(&registration);
        }
        status
    }

    /// The activation's work with the registration: capture, socket, release.
    fn use_provider(&self, registration: &SharedRegistration<A, S, C>) -> NtStatus {
        let mut npi = match registration.capture(self.wait, CallingContext::Other) {
            Ok(npi) => npi,
            Err(status) => return status,
        };
        let socket = npi.create_listening_socket(&PROBE_SOCKET);
        npi.release();
        match socket {
            Ok(socket) => socket.close(),
            Err(status) => status,
        }
    }

    /// Takes `registration` out (if it is still the active one) and deregisters it.
    fn retire(&self, registration: &SharedRegistration<A, S, C>) {
        let taken = self.active.with(|a| match a {
            Some(current) if TryArc::ptr_eq(current, registration) => a.take(),
            _ => None,
        });
        if let Some(taken) = taken {
            taken.deregister();
        }
    }

    /// Deregisters the current activation's registration (waiting, as `WskDeregister` does,
    /// for a capture another thread still holds, and cancelling one still waiting). Returns
    /// whether there was one.
    pub fn deactivate(&self) -> bool {
        let taken = self.active.with(|a| a.take());
        match taken {
            Some(registration) => {
                registration.deregister();
                true
            }
            None => false,
        }
    }
}
