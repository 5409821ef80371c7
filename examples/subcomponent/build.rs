//! Build script of the example driver: on a Windows host building for Windows, links its
//! cdylib as a kernel driver ([`wdk_build::configure_wdk_binary_build`]); the Linux build of
//! the image (`tests/windows/build.sh wsktrace-subcomponent`) gives the linker the same
//! options itself. Building for the host it does nothing.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(windows)]
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        if let Err(error) = wdk_build::configure_wdk_binary_build() {
            panic!("wdk_build::configure_wdk_binary_build failed: {error}");
        }
    }
}
