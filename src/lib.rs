//! wsktrace driver: an instrumented Winsock Kernel (WSK) client.
//!
//! - [`schema`]: the event contract of the `Wsktrace.WskClient` provider, defined once.
//! - [`ntstatus`]: the `NTSTATUS` codes of the WSK registration functions.
#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(not(windows))]
extern crate std;

pub mod ntstatus;
pub mod schema;
