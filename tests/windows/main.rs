//! Tests of the Windows kernel image that `tests/windows/build.sh` builds on Linux
//! (`target/windows/`), and of what it was built from:
//!
//! - [`image`]: the PE headers and the import table of `wsktrace_driver.sys`, against the
//!   list kept in `tests/windows/imports.txt`;
//! - [`bindings`]: the Linux stand-in (`src/wdk_standin/`) against the wdk-sys bindings the
//!   glue compiled against (generated from mingw-w64's DDK headers), item by item;
//! - [`layout`]: the `#[repr(C)]` structures the driver hands the kernel and NETIO, against
//!   independent C headers (mingw-w64's DDK, Wine's `wsk.h`), by the mingw-w64 C compiler.
//!
//! Without the build output or the C compiler these tests say so and pass; with `CI=true`
//! they fail (`tests/run.sh` runs the build first and installs the compiler). They use the
//! Linux stand-in, so they build on non-Windows hosts only.
#![cfg(not(windows))]

mod bindings;
mod image;
mod layout;
mod support;
