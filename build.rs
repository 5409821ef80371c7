//! Build script of the driver package.
//!
//! On a Windows host building for Windows it makes the one call the windows-drivers-rs flow
//! needs, [`wdk_build::configure_wdk_binary_build`]: from the WDK configuration it finds
//! (eWDK or installed WDK, see `docs/install.md`) it tells
//! Cargo how to link `wsktrace_driver.dll` as a kernel driver (`/DRIVER`, the entry point,
//! `ntoskrnl.lib`, ...).
//!
//! Everywhere else it does nothing: `wdk-build` is a Windows-only build dependency (it refuses
//! non-Windows hosts), and the host build of this package is the portable core, the kernel
//! glue over its Linux stand-ins and the tests. The Linux build of the Windows image
//! (`tests/windows/build.sh`) gives the linker the same options itself. A build script runs on
//! the host, so the host is tested with `cfg(windows)` and the target with
//! `CARGO_CFG_TARGET_OS`.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(windows)]
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        if let Err(error) = wdk_build::configure_wdk_binary_build() {
            panic!("wdk_build::configure_wdk_binary_build failed: {error}");
        }
    }
}
