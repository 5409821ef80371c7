//! wsktrace driver: an instrumented Winsock Kernel (WSK) client.
//!
//! - [`schema`]: the event contract of the `Wsktrace.WskClient` provider, defined once.
//! - [`ntstatus`]: the `NTSTATUS` codes of the WSK registration functions.
//! - [`lifecycle`]: the portable lifecycle core (registration, capture guard, release,
//!   deregistration, DriverEntry/worker/unload orchestration), generic over the platform.
//! - [`sim`] (non-Windows hosts): the simulated WSK subsystem, host clock, thread spawner and
//!   the host event recorder.
#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(not(windows))]
extern crate std;

pub mod lifecycle;
pub mod ntstatus;
pub mod schema;
#[cfg(not(windows))]
pub mod sim;
