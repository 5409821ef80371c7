//! The portable lifecycle core (`no_std` + `alloc`, no `cfg`, no `unsafe`).
//!
//! - [`api`]: the platform traits ([`WskApi`], [`Clock`], [`WorkerSpawner`]) and WSK values.
//! - [`sink`]: where events go ([`EventSink`], [`EtwSink`], [`NullSink`]).
//! - [`client`]: [`WskClient`], [`Registration`], the capture guard [`CapturedNpi`].
//! - [`socket`]: the listening socket and accepted connections, their calls traced.
//! - [`listener`]: the accept loop (`WskAccept` re-armed after each completion) and its
//!   shutdown.
//! - [`driver`]: DriverEntry / worker / unload orchestration under a [`Policy`].
#![forbid(unsafe_code)]

pub mod api;
pub mod client;
pub mod driver;
pub mod listener;
pub mod sink;
pub mod socket;

pub use crate::fallible::TryArc;
pub use crate::ntstatus::NtStatus;
pub use crate::schema::{CallingContext, WskEvent};
pub use api::{
    make_wsk_version, wsk_major_version, wsk_minor_version, Accepted, Clock, Event, IpAddr,
    Ipv4Addr, Ipv6Addr, ListenParams, Lock, Locking, ProviderCharacteristics, SocketAddr,
    WaitTimeout, WorkerSpawner, WskApi, AF_INET, AF_INET6, WSK_INFINITE_WAIT, WSK_NO_WAIT,
};
pub use client::{
    negotiate_version, CapturedNpi, Registration, SharedRegistration, WskClient,
    MAX_REGISTRATION_ATTEMPTS,
};
pub use driver::{Driver, Policy, WaitOn};
pub use listener::Listener;
pub use sink::{ActivityId, ActivityIds, EtwSink, EventSink, NullSink};
pub use socket::{Connection, ListenSocket};
