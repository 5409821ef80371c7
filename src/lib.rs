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
#![warn(missing_docs)]

// A kernel driver cannot unwind (wdk-panic bug-checks on a panic, and the kernel has no unwinder):
// refuse a kernel build that would. The driver builds set it (Makefile.toml,
// tests/windows/build.sh); Cargo.toml says why the workspace profiles do not.
#[cfg(all(windows, feature = "kernel", not(test), not(panic = "abort")))]
compile_error!(
    "the kernel driver must be built with panic = \"abort\" (CARGO_PROFILE_<NAME>_PANIC=abort, as Makefile.toml sets it)"
);

// Built as a library for another driver (`driver-entry` off), this crate's own cdylib is a
// by-product of that driver's build and has no `DriverEntry`; build.rs makes this stub its
// entry point (`/ALTERNATENAME`), so it links as a driver that refuses to load
// (`STATUS_NOT_SUPPORTED`). Not exported, and unreferenced (so discarded) in the embedding
// driver's image, which has a `DriverEntry` of its own.
#[cfg(all(
    windows,
    target_arch = "x86_64",
    feature = "kernel",
    not(feature = "driver-entry")
))]
core::arch::global_asm!(
    ".globl wsktrace_library_entry",
    "wsktrace_library_entry:",
    "mov eax, 0xC00000BB",
    "ret",
);

extern crate alloc;
#[cfg(not(windows))]
extern crate std;

pub mod fallible;
pub mod lifecycle;
pub mod ntstatus;
pub mod schema;
#[cfg(not(windows))]
pub mod sim;

// The kernel glue: `glue` is the only code that touches the OS; `wsk_abi` the hand-written
// WSK structures and NETIO imports; `provider` the ETW provider's registration; `wdk_standin`
// the Linux stand-in for the `wdk-sys` items the glue uses.
#[cfg(any(not(windows), feature = "kernel"))]
pub mod glue;
#[cfg(any(not(windows), feature = "kernel"))]
pub mod provider;
#[cfg(not(windows))]
pub mod wdk_standin;
#[cfg(any(not(windows), feature = "kernel"))]
pub mod wsk_abi;
