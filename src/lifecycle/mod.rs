//! The portable lifecycle core (`no_std` + `alloc`, no `cfg`, no `unsafe`).
//!
//! - [`api`]: the platform traits ([`WskApi`], [`Clock`], [`WorkerSpawner`]) and WSK values.
//! - [`sink`]: where events go ([`EventSink`], [`EtwSink`], [`NullSink`]).
//! - [`client`]: [`WskClient`], [`Registration`], the capture guard [`CapturedNpi`].
//! - [`driver`]: DriverEntry / worker / unload orchestration under a [`Policy`].
#![forbid(unsafe_code)]

pub mod api;
pub mod client;
pub mod driver;
pub mod sink;

pub use crate::ntstatus::NtStatus;
pub use crate::schema::{CallingContext, WskEvent};
pub use api::{
    make_wsk_version, wsk_major_version, wsk_minor_version, Clock, ListenParams,
    ProviderCharacteristics, WaitTimeout, WorkerSpawner, WskApi, AF_INET, AF_INET6,
    WSK_INFINITE_WAIT, WSK_NO_WAIT,
};
pub use client::{
    negotiate_version, CapturedNpi, Registration, WskClient, MAX_REGISTRATION_ATTEMPTS,
};
pub use driver::{Driver, Policy, WaitOn};
pub use sink::{ActivityId, ActivityIds, EtwSink, EventSink, NullSink};
