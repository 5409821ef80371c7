//! wsktrace driver: an instrumented Winsock Kernel (WSK) client.
#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(not(windows))]
extern crate std;
