//! The driver's orchestration: DriverEntry, the optional worker thread that waits for an
//! early-start system, and unload, driven by a [`Policy`] read from configuration.

use alloc::string::String;
use alloc::sync::Arc;

use crate::lifecycle::api::{
    make_wsk_version, Clock, ListenParams, WaitTimeout, WorkerSpawner, WskApi,
};
use crate::lifecycle::client::{CapturedNpi, Registration, WskClient};
use crate::lifecycle::sink::EventSink;
use crate::ntstatus::NtStatus;
use crate::schema::{keywords, CallingContext, WskEvent};

/// Which thread waits for the WSK subsystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitOn {
    /// DriverEntry itself captures (with a bounded wait).
    DriverEntryThread,
    /// A worker thread started by DriverEntry captures; DriverEntry returns at once.
    Worker,
}

/// How the driver brings WSK up. Read from the service's `Parameters` key on Windows
/// ([`Policy::from_config`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The capture's `WaitTimeout`.
    pub wait_timeout: WaitTimeout,
    /// Where the capture waits.
    pub wait_on: WaitOn,
    /// The NPI version registered first (`MAKE_WSK_VERSION`).
    pub npi_version: u16,
}

impl Policy {
    /// The longest capture wait allowed on the DriverEntry thread (the documentation forbids
    /// `WSK_INFINITE_WAIT` or an excessive wait there); longer waits are cut to this.
    pub const MAX_DRIVER_ENTRY_WAIT_MS: u32 = 2_000;

    /// Defaults: wait on a worker, without a time limit, for WSK 1.0.
    pub const DEFAULT: Policy = Policy {
        wait_timeout: WaitTimeout::Infinite,
        wait_on: WaitOn::Worker,
        npi_version: make_wsk_version(1, 0),
    };

    /// The policy from the configuration values (registry `REG_DWORD`s; `None` = absent):
    /// `WaitTimeoutMs` (0 = no wait, 0xFFFFFFFF = infinite), `WaitOnWorker` (0 = DriverEntry
    /// thread, 1 = worker), `NpiVersion` (`MAKE_WSK_VERSION`, major 1..=255). Absent or invalid
    /// values take the default; the result is [`Policy::sanitized`].
    pub fn from_config(
        wait_timeout_ms: Option<u32>,
        wait_on_worker: Option<u32>,
        npi_version: Option<u32>,
    ) -> Policy {
        let d = Policy::DEFAULT;
        Policy {
            wait_timeout: wait_timeout_ms.map_or(d.wait_timeout, WaitTimeout::from_ms),
            wait_on: match wait_on_worker {
                Some(0) => WaitOn::DriverEntryThread,
                Some(1) => WaitOn::Worker,
                _ => d.wait_on,
            },
            npi_version: match npi_version {
                Some(v) if (0x0100..=0xFFFF).contains(&v) => v as u16,
                _ => d.npi_version,
            },
        }
        .sanitized()
    }

    /// The policy with its wait made safe for its thread: on the DriverEntry thread, an
    /// infinite or excessive wait becomes [`Policy::MAX_DRIVER_ENTRY_WAIT_MS`].
    pub const fn sanitized(self) -> Policy {
        let wait_timeout = match (self.wait_on, self.wait_timeout) {
            (WaitOn::DriverEntryThread, WaitTimeout::Infinite) => {
                WaitTimeout::Millis(Self::MAX_DRIVER_ENTRY_WAIT_MS)
            }
            (WaitOn::DriverEntryThread, WaitTimeout::Millis(ms))
                if ms > Self::MAX_DRIVER_ENTRY_WAIT_MS =>
            {
                WaitTimeout::Millis(Self::MAX_DRIVER_ENTRY_WAIT_MS)
            }
            (_, w) => w,
        };
        Policy {
            wait_timeout,
            ..self
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

/// What the registration/socket slot holds; shared by DriverEntry, the worker and unload.
struct Slot<A: WskApi, S: EventSink, C: Clock> {
    unloading: bool,
    registration: Option<Arc<Registration<A, S, C>>>,
    socket: Option<A::Socket>,
    bring_up: Option<NtStatus>,
}

struct Shared<A: WskApi, S: EventSink, C: Clock> {
    client: Arc<WskClient<A, S, C>>,
    policy: Policy,
    listen: ListenParams,
    slot: spin::Mutex<Slot<A, S, C>>,
}

/// A loaded driver: what DriverEntry leaves behind for unload.
pub struct Driver<A: WskApi, S: EventSink, C: Clock, W: WorkerSpawner> {
    shared: Arc<Shared<A, S, C>>,
    spawner: W,
    worker: Option<W::Handle>,
}

impl<A: WskApi, S: EventSink, C: Clock, W: WorkerSpawner> Driver<A, S, C, W> {
    /// DriverEntry: registers, then captures, creates the listening socket and releases,
    /// either on this thread (bounded wait; a failure fails DriverEntry after cleaning up) or
    /// on a worker started here (DriverEntry returns at once). `client_name` is the service
    /// name recorded in the trace.
    pub fn driver_entry(
        client: Arc<WskClient<A, S, C>>,
        spawner: W,
        client_name: &str,
        policy: Policy,
        listen: ListenParams,
    ) -> Result<Self, NtStatus> {
        let policy = policy.sanitized();
        let span = client.start(keywords::LIFECYCLE, || WskEvent::DriverEntryStart {
            client_name: String::from(client_name),
        });
        let shared = Arc::new(Shared {
            client: client.clone(),
            policy,
            listen,
            slot: spin::Mutex::new(Slot {
                unloading: false,
                registration: None,
                socket: None,
                bring_up: None,
            }),
        });
        let result = match policy.wait_on {
            WaitOn::DriverEntryThread => {
                let status = shared.bring_up(CallingContext::DriverEntry);
                if status.is_success() {
                    Ok(Driver {
                        shared,
                        spawner,
                        worker: None,
                    })
                } else {
                    shared.shut_down();
                    Err(status)
                }
            }
            WaitOn::Worker => {
                let for_worker = shared.clone();
                match spawner.spawn(alloc::boxed::Box::new(move || {
                    for_worker.bring_up(CallingContext::Worker);
                })) {
                    Ok(handle) => Ok(Driver {
                        shared,
                        spawner,
                        worker: Some(handle),
                    }),
                    Err(status) => Err(status),
                }
            }
        };
        let status = match &result {
            Ok(_) => NtStatus::SUCCESS,
            Err(s) => *s,
        };
        client.stop(keywords::LIFECYCLE, &span, |duration_ns| {
            WskEvent::DriverEntryStop {
                client_name: String::from(client_name),
                status,
                duration_ns,
            }
        });
        result
    }

    /// What bringing WSK up ended with (capture, socket, release), once it has ended.
    pub fn bring_up_status(&self) -> Option<NtStatus> {
        self.shared.slot.lock().bring_up
    }

    /// Whether a listening socket is open.
    pub fn has_listening_socket(&self) -> bool {
        self.shared.slot.lock().socket.is_some()
    }

    /// The policy in force.
    pub fn policy(&self) -> Policy {
        self.shared.policy
    }

    /// DriverUnload: closes the socket, deregisters (which cancels a capture the worker is
    /// still waiting in, and waits for every release), then waits for the worker to finish.
    pub fn unload(mut self) {
        let client = self.shared.client.clone();
        let span = client.start(keywords::LIFECYCLE, || WskEvent::DriverUnloadStart {});
        self.shared.shut_down();
        if let Some(handle) = self.worker.take() {
            self.spawner.join(handle);
        }
        client.stop(keywords::LIFECYCLE, &span, |duration_ns| {
            WskEvent::DriverUnloadStop { duration_ns }
        });
    }
}

impl<A: WskApi, S: EventSink, C: Clock> Shared<A, S, C> {
    /// Capture (negotiating the version), listening socket, release. Runs on DriverEntry's
    /// thread or the worker.
    fn bring_up(&self, context: CallingContext) -> NtStatus {
        let status = self.bring_up_inner(context);
        self.slot.lock().bring_up = Some(status);
        status
    }

    fn bring_up_inner(&self, context: CallingContext) -> NtStatus {
        let captured = self.client.register_and_capture(
            self.policy.npi_version,
            self.policy.wait_timeout,
            context,
            |registration| self.publish(registration),
        );
        let mut npi: CapturedNpi<A, S, C> = match captured {
            Ok(npi) => npi,
            Err(status) => return status,
        };
        let socket = npi.create_listening_socket(&self.listen);
        let registration = npi.registration().clone();
        npi.release();
        match socket {
            Ok(socket) => {
                let mut slot = self.slot.lock();
                if slot.unloading {
                    drop(slot);
                    let _ = registration.close_socket(socket);
                    NtStatus::DEVICE_NOT_READY
                } else {
                    slot.socket = Some(socket);
                    NtStatus::SUCCESS
                }
            }
            Err(status) => status,
        }
    }

    /// Puts a new registration in the slot, replacing (and deregistering) an old one; refuses
    /// once unload has begun.
    fn publish(&self, registration: &Arc<Registration<A, S, C>>) -> bool {
        let old = {
            let mut slot = self.slot.lock();
            if slot.unloading {
                return false;
            }
            slot.registration.replace(registration.clone())
        };
        if let Some(old) = old {
            old.deregister();
        }
        true
    }

    /// Unload's half: no new registration from now on; close the socket and deregister.
    fn shut_down(&self) {
        let (registration, socket) = {
            let mut slot = self.slot.lock();
            slot.unloading = true;
            (slot.registration.take(), slot.socket.take())
        };
        if let Some(registration) = registration {
            if let Some(socket) = socket {
                let _ = registration.close_socket(socket);
            }
            registration.deregister();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_from_config() {
        assert_eq!(Policy::from_config(None, None, None), Policy::DEFAULT);
        let p = Policy::from_config(Some(0xFFFF_FFFF), Some(0), Some(0x0100));
        assert_eq!(p.wait_on, WaitOn::DriverEntryThread);
        assert_eq!(
            p.wait_timeout,
            WaitTimeout::Millis(Policy::MAX_DRIVER_ENTRY_WAIT_MS)
        );
        let p = Policy::from_config(Some(0), Some(7), Some(0x42));
        assert_eq!(p.wait_timeout, WaitTimeout::NoWait);
        assert_eq!(p.wait_on, WaitOn::Worker);
        assert_eq!(p.npi_version, 0x0100);
        let p = Policy::from_config(Some(250), Some(1), Some(0x0201));
        assert_eq!(p.wait_timeout, WaitTimeout::Millis(250));
        assert_eq!(p.npi_version, 0x0201);
        let p = Policy::from_config(Some(1500), Some(0), None);
        assert_eq!(p.wait_timeout, WaitTimeout::Millis(1500));
    }
}
