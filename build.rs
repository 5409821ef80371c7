//! Build script of the driver package.
//!
//! On a Windows host building for Windows it makes the one call the windows-drivers-rs flow
//! needs, [`wdk_build::configure_wdk_binary_build`]: from the WDK configuration it finds
//! (eWDK or installed WDK, see `docs/install.md`) it tells
//! Cargo how to link `wsktrace_driver.dll` as a kernel driver (`/DRIVER`, the entry point,
//! `ntoskrnl.lib`, ...). The Linux build of the Windows image (`tests/windows/build.sh`) gives
//! the linker the same options itself.
//!
//! Built as a library for another driver (the `driver-entry` feature off), the package's cdylib
//! is still linked, as a by-product of that driver's build, with the same driver options, but
//! it has no `DriverEntry`: the entry point is then `wsktrace_library_entry` (`src/lib.rs`, a
//! stub that refuses to load), through `/ALTERNATENAME`, which only applies to a symbol no
//! object defines. Cargo passes this package's cdylib link arguments on to the embedding
//! driver's link too, where `DriverEntry` is defined and the alias does nothing.
//!
//! Building for the host it does nothing: `wdk-build` is a Windows-only build dependency (it
//! refuses non-Windows hosts), and the host build of this package is the portable core, the
//! kernel glue over its Linux stand-ins and the tests. A build script runs on the host, so the
//! host is tested with `cfg(windows)` and the target with `CARGO_CFG_TARGET_OS`.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    #[cfg(windows)]
    if let Err(error) = wdk_build::configure_wdk_binary_build() {
        panic!("wdk_build::configure_wdk_binary_build failed: {error}");
    }
    if std::env::var_os("CARGO_FEATURE_DRIVER_ENTRY").is_none() {
        println!("cargo::rustc-link-arg-cdylib=/ALTERNATENAME:DriverEntry=wsktrace_library_entry");
    }
}
