//! The simulated WSK subsystem and the host-side platform (non-Windows hosts only).
//!
//! - [`SimWsk`]: a [`WskApi`](crate::lifecycle::WskApi) that answers as the WSK registration
//!   documentation says, on real threads (`std::sync::Condvar`), with fault knobs
//!   ([`SimConfig`]).
//! - [`HostClock`]: a monotonic nanosecond clock (`std::time::Instant`).
//! - [`StdSpawner`]: the worker thread as a `std::thread`.
//! - [`Recorder`]: the host event recorder: every event with its timestamp, thread id and
//!   activity id, in order; can drop events on purpose.
//! - [`SimHarness`]: all of the above wired to a [`WskClient`].
//! - Broken clients (test-only fault injection): `CapturedNpi::fault_leak`,
//!   `CapturedNpi::fault_double_release`, `CapturedNpi::fault_release_then_dispatch`.
#![forbid(unsafe_code)]

pub mod alloc_faults;
mod fault;
mod recorder;
mod wsk;

pub use recorder::{Record, Recorder};
pub use wsk::{
    PendingAccept, SimConfig, SimConnection, SimProviderNpi, SimRegistration, SimSnapshot,
    SimSocket, SimViolation, SimWsk, IRPS_PER_CONNECTION, IRPS_PER_LISTENING_SOCKET,
};

use std::boxed::Box;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

use crate::fallible::{try_box, TryArc};
use crate::lifecycle::{Clock, Driver, Event, Lock, Locking, WorkerSpawner, WskClient};
use crate::ntstatus::NtStatus;

/// Nanoseconds since the clock's epoch (its creation); copies share the epoch.
#[derive(Clone, Copy, Debug)]
pub struct HostClock {
    epoch: Instant,
    epoch_wall: SystemTime,
}

impl HostClock {
    /// A clock whose epoch is now.
    pub fn new() -> HostClock {
        HostClock {
            epoch: Instant::now(),
            epoch_wall: SystemTime::now(),
        }
    }

    /// The epoch.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// The wall-clock time of the epoch (for an ETL header's start time: a record's time is
    /// this plus its `timestamp_ns`).
    pub fn epoch_system_time(&self) -> SystemTime {
        self.epoch_wall
    }
}

impl Default for HostClock {
    fn default() -> Self {
        HostClock::new()
    }
}

impl Clock for HostClock {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Starts the driver's worker as a `std::thread` (which inherits the starting thread's
/// allocation-fault plan); `join` re-raises a worker panic. Its locks are `std` mutexes, its
/// events a mutex and a condition variable (allocated through [`crate::fallible`], as the
/// kernel's resident `KEVENT` is).
#[derive(Clone, Copy, Debug, Default)]
pub struct StdSpawner;

impl WorkerSpawner for StdSpawner {
    type Handle = JoinHandle<()>;

    fn spawn(&self, work: Box<dyn FnOnce() + Send + 'static>) -> Result<Self::Handle, NtStatus> {
        let plan = alloc_faults::current();
        std::thread::Builder::new()
            .name("wsktrace-worker".into())
            .spawn(move || alloc_faults::inherit(plan, work))
            .map_err(|_| NtStatus::INSUFFICIENT_RESOURCES)
    }

    fn join(&self, handle: Self::Handle) {
        if let Err(panic) = handle.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

/// A [`Lock`] over a `std` mutex (poisoning ignored: a test thread that panicked leaves the
/// state usable).
#[derive(Debug)]
pub struct StdLock<T>(Mutex<T>);

impl<T: Send> Lock<T> for StdLock<T> {
    fn new(value: T) -> Self {
        StdLock(Mutex::new(value))
    }
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// An auto-reset [`Event`] over a mutex and a condition variable.
#[derive(Debug)]
pub struct StdEvent(Box<(Mutex<bool>, Condvar)>);

impl Event for StdEvent {
    fn set(&self) {
        *self.0 .0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.0 .1.notify_one();
    }
    fn wait(&self) {
        let mut signalled = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        while !*signalled {
            signalled = self
                .0
                 .1
                .wait(signalled)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *signalled = false;
    }
}

impl Locking for StdSpawner {
    type Lock<T: Send> = StdLock<T>;
    type Event = StdEvent;
    fn event(&self) -> Result<StdEvent, NtStatus> {
        Ok(StdEvent(try_box(
            (Mutex::new(false), Condvar::new()),
            "Event",
        )?))
    }
}

/// The client type on the simulator.
pub type SimClient = WskClient<SimWsk, Arc<Recorder>, HostClock>;
/// The driver type on the simulator.
pub type SimDriver = Driver<SimWsk, Arc<Recorder>, HostClock, StdSpawner>;

/// A simulator, a recorder and a client sharing one clock.
pub struct SimHarness {
    /// The simulated WSK subsystem (a handle; clones share it).
    pub sim: SimWsk,
    /// The recorder the client writes to.
    pub recorder: Arc<Recorder>,
    /// The clock of the client, the simulator and the recorder.
    pub clock: HostClock,
    /// The client.
    pub client: TryArc<SimClient>,
}

impl SimHarness {
    /// Everything for `config`, the recorder enabled for all keywords.
    pub fn new(config: SimConfig) -> SimHarness {
        let clock = HostClock::new();
        let sim = SimWsk::new(config, clock);
        let recorder = Arc::new(Recorder::new(clock));
        let client =
            WskClient::new(sim.clone(), recorder.clone(), clock).expect("memory for the client");
        SimHarness {
            sim,
            recorder,
            clock,
            client,
        }
    }
}
