//! An example of embedding `wsktrace-driver`: a driver whose WSK client is a subcomponent.
//!
//! The WSK documentation notes that registration need not happen in `DriverEntry`: "if a WSK
//! application is a subcomponent of a complex driver, the registration ... might occur only
//! when the WSK application subcomponent is activated". This driver's `DriverEntry`
//! ([`driver`]) does not touch WSK; its [`subcomponent`] registers, captures the provider NPI
//! with a bounded wait, uses it (a socket created and closed) and releases it when a user-mode
//! program sends [`driver::IOCTL_ACTIVATE`], and deregisters on [`driver::IOCTL_DEACTIVATE`]
//! and at unload. Everything WSK goes through the registration API of `wsktrace-driver`,
//! built without its own `DriverEntry` (its `driver-entry` feature off), so every transition
//! is traced as the main driver's are.
//!
//! Built for the host (tests on the simulator and the `wdk-sys` stand-ins) and, with
//! `tests/windows/build.sh wsktrace-subcomponent`, as a Windows kernel image.
#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

pub mod subcomponent;

// The kernel glue: on Windows with the `kernel` feature, and on every other host over the
// stand-ins.
#[cfg(any(not(windows), feature = "kernel"))]
pub mod driver;
