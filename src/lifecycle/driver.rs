//! The driver's orchestration: DriverEntry, the optional worker thread that waits for an
//! early-start system, and unload, driven by a [`Policy`] read from configuration.

use alloc::boxed::Box;

use crate::fallible::TryArc;
use crate::lifecycle::api::{
    make_wsk_version, Clock, ListenParams, Lock, Locking, WaitTimeout, WorkerSpawner, WskApi,
};
use crate::lifecycle::client::{CapturedNpi, SharedRegistration, WskClient};
use crate::lifecycle::listener::Listener;
use crate::lifecycle::sink::EventSink;
use crate::ntstatus::NtStatus;
use crate::schema::{keywords, CallingContext, WskEventRef};

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

/// What the registration/listener slot holds; shared by DriverEntry, the worker and unload.
struct Slot<A: WskApi, S: EventSink, C: Clock, W: Locking> {
    unloading: bool,
    registration: Option<SharedRegistration<A, S, C>>,
    listener: Option<TryArc<Listener<A, S, C, W>>>,
    bring_up: Option<NtStatus>,
}

struct Shared<A: WskApi, S: EventSink, C: Clock, W: Locking> {
    client: TryArc<WskClient<A, S, C>>,
    policy: Policy,
    listen: Option<ListenParams>,
    locking: W,
    slot: W::Lock<Slot<A, S, C, W>>,
}

/// A loaded driver: what DriverEntry leaves behind for unload.
pub struct Driver<A: WskApi, S: EventSink, C: Clock, W: WorkerSpawner + Locking + Clone> {
    shared: TryArc<Shared<A, S, C, W>>,
    spawner: W,
    thread: Option<W::Handle>,
}

impl<A, S, C, W> Driver<A, S, C, W>
where
    A: WskApi,
    S: EventSink,
    C: Clock,
    W: WorkerSpawner + Locking + Clone,
{
    /// DriverEntry: registers, then captures, creates the listening socket (unless `listen`
    /// is `None`) and releases, either on this thread (bounded wait; a failure fails
    /// DriverEntry after cleaning up; the accept loop then gets a thread of its own) or on a
    /// worker started here, which goes on to run the accept loop (DriverEntry returns at
    /// once). `client_name` is the service name recorded in the trace. Memory is reserved
    /// up front: when it cannot be had, DriverEntry fails with
    /// `STATUS_INSUFFICIENT_RESOURCES` and nothing is left behind.
    pub fn driver_entry(
        client: TryArc<WskClient<A, S, C>>,
        spawner: W,
        client_name: &str,
        policy: Policy,
        listen: Option<ListenParams>,
    ) -> Result<Self, NtStatus> {
        let policy = policy.sanitized();
        let span = client.start(keywords::LIFECYCLE, || WskEventRef::DriverEntryStart {
            client_name,
        });
        let result = Self::enter(client.clone(), spawner, policy, listen);
        let status = match &result {
            Ok(_) => NtStatus::SUCCESS,
            Err(s) => *s,
        };
        client.stop(keywords::LIFECYCLE, &span, |duration_ns| {
            WskEventRef::DriverEntryStop {
                client_name,
                status,
                duration_ns,
            }
        });
        result
    }

    fn enter(
        client: TryArc<WskClient<A, S, C>>,
        spawner: W,
        policy: Policy,
        listen: Option<ListenParams>,
    ) -> Result<Self, NtStatus> {
        let shared = TryArc::try_new(
            Shared {
                client,
                policy,
                listen,
                locking: spawner.clone(),
                slot: W::Lock::new(Slot {
                    unloading: false,
                    registration: None,
                    listener: None,
                    bring_up: None,
                }),
            },
            "DriverShared",
        )?;
        let mut driver = Driver {
            shared,
            spawner,
            thread: None,
        };
        match policy.wait_on {
            WaitOn::DriverEntryThread => {
                let status = driver.shared.bring_up(CallingContext::DriverEntry);
                let status = if status.is_success() {
                    driver.start_accepting()
                } else {
                    status
                };
                if !status.is_success() {
                    driver.shared.shut_down();
                    return Err(status);
                }
            }
            WaitOn::Worker => {
                let for_worker = driver.shared.clone();
                driver.thread = Some(driver.spawn(move || {
                    if for_worker.bring_up(CallingContext::Worker).is_success() {
                        for_worker.accept_loop();
                    }
                })?);
            }
        }
        Ok(driver)
    }

    /// Starts `work` on a thread of its own (its closure's memory reserved first).
    fn spawn(&self, work: impl FnOnce() + Send + 'static) -> Result<W::Handle, NtStatus> {
        let work: Box<dyn FnOnce() + Send + 'static> = crate::fallible::try_box(work, "Thread")?;
        self.spawner.spawn(work)
    }

    /// On the DriverEntry thread's path: the accept loop's thread, if there is a listener.
    fn start_accepting(&mut self) -> NtStatus {
        if self.shared.slot.with(|s| s.listener.is_none()) {
            return NtStatus::SUCCESS;
        }
        let for_thread = self.shared.clone();
        match self.spawn(move || for_thread.accept_loop()) {
            Ok(handle) => {
                self.thread = Some(handle);
                NtStatus::SUCCESS
            }
            Err(status) => status,
        }
    }

    /// What bringing WSK up ended with (capture, socket, release), once it has ended.
    pub fn bring_up_status(&self) -> Option<NtStatus> {
        self.shared.slot.with(|s| s.bring_up)
    }

    /// Whether a listening socket is open.
    pub fn has_listening_socket(&self) -> bool {
        self.shared.slot.with(|s| s.listener.is_some())
    }

    /// The listening socket's id, while it is open.
    pub fn listening_socket_id(&self) -> Option<u32> {
        self.shared
            .slot
            .with(|s| s.listener.as_ref().map(|l| l.socket().id()))
    }

    /// The policy in force.
    pub fn policy(&self) -> Policy {
        self.shared.policy
    }

    /// DriverUnload: closes the listening socket (cancelling its pending accept, waiting for
    /// it and for the last connection's close), deregisters (which cancels a capture the
    /// worker is still waiting in, and waits for every release), then waits for the thread
    /// that brought WSK up or accepted to finish.
    pub fn unload(mut self) {
        let client = self.shared.client.clone();
        let span = client.start(keywords::LIFECYCLE, || WskEventRef::DriverUnloadStart {});
        self.shared.shut_down();
        if let Some(handle) = self.thread.take() {
            self.spawner.join(handle);
        }
        client.stop(keywords::LIFECYCLE, &span, |duration_ns| {
            WskEventRef::DriverUnloadStop { duration_ns }
        });
    }
}

impl<A: WskApi, S: EventSink, C: Clock, W: Locking> Shared<A, S, C, W> {
    /// Capture (negotiating the version), listening socket, release. Runs on DriverEntry's
    /// thread or the worker.
    fn bring_up(&self, context: CallingContext) -> NtStatus {
        let status = self.bring_up_inner(context);
        self.slot.with(|s| s.bring_up = Some(status));
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
        let Some(listen) = self.listen else {
            npi.release();
            return NtStatus::SUCCESS;
        };
        if self.slot.with(|s| s.unloading) {
            npi.release();
            return NtStatus::DEVICE_NOT_READY;
        }
        let socket = npi.create_listening_socket(&listen);
        npi.release();
        let listener = match socket {
            Ok(socket) => match Listener::new(socket, &self.locking) {
                Ok(listener) => listener,
                Err(status) => return status,
            },
            Err(status) => return status,
        };
        // Nothing is dropped under the lock (in the kernel it is a spin lock: a drop that
        // closed a socket there would call WSK at DISPATCH_LEVEL).
        let (refused, replaced) = self.slot.with(|s| {
            if s.unloading {
                (Some(listener.clone()), None)
            } else {
                (None, s.listener.replace(listener.clone()))
            }
        });
        drop(replaced);
        match refused {
            Some(listener) => {
                listener.close();
                NtStatus::DEVICE_NOT_READY
            }
            None => NtStatus::SUCCESS,
        }
    }

    /// The accept loop of the published listener (returns at once if there is none, or it is
    /// closing).
    fn accept_loop(&self) {
        if let Some(listener) = self.slot.with(|s| s.listener.clone()) {
            listener.run();
        }
    }

    /// Puts a new registration in the slot, replacing (and deregistering) an old one; refuses
    /// once unload has begun.
    fn publish(&self, registration: &SharedRegistration<A, S, C>) -> bool {
        let old = self.slot.with(|s| {
            if s.unloading {
                Err(())
            } else {
                Ok(s.registration.replace(registration.clone()))
            }
        });
        match old {
            Err(()) => false,
            Ok(old) => {
                if let Some(old) = old {
                    old.deregister();
                }
                true
            }
        }
    }

    /// Unload's half: no new registration from now on; close the listener (the accept loop
    /// ends, its connections closed), then deregister.
    fn shut_down(&self) {
        let (registration, listener) = self.slot.with(|s| {
            s.unloading = true;
            (s.registration.take(), s.listener.take())
        });
        if let Some(listener) = listener {
            listener.close();
        }
        if let Some(registration) = registration {
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
