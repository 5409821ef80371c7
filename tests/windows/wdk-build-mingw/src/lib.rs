//! A Linux stand-in for `wdk-build` 0.6.0: the build configuration the real windows-drivers-rs
//! crates ask for from their build scripts, answered with an independent header set instead of
//! the WDK.
//!
//! The real crate finds an installed WDK (and refuses to compile on anything but Windows). The
//! real `wdk-sys` build script then runs bindgen over `ntifs.h`, `ntddk.h` and `ntstrsafe.h`
//! with the builder [`BuilderExt::wdk_default`] returns, and `wdk-sys`, `wdk-alloc`,
//! `wdk-panic` and `wdk` compile their kernel-mode code under the `driver_model__driver_type`
//! cfg that [`configure_wdk_library_build`] emits. This stand-in offers the same items with
//! the same signatures, so those crates build unchanged, and differs in what it points at:
//!
//! - Headers: mingw-w64's DDK (`$MINGW_SYSROOT/include/ddk`, then `$MINGW_SYSROOT/include`;
//!   `MINGW_SYSROOT` defaults to Debian's `/usr/x86_64-w64-mingw32`), followed by
//!   `include/wdk-supplement.h` of this crate, which declares the few kernel items newer than
//!   mingw-w64 10 that the real crates use (see that file).
//! - Parsing: clang for Cargo's target (`x86_64-pc-windows-msvc`, so the C ABI is the one the
//!   WDK is compiled for: `int` enums, MSVC bit-field and struct layout) with wdk-build's
//!   Microsoft-compatibility flags, plus `-fgnuc-version`: mingw-w64's headers are written for
//!   GCC-compatible compilers, and without it the intrinsics headers they include do not
//!   parse. `__tile1024i` (clang's AMX intrinsics, which mingw-w64's `intrin.h` brings in)
//!   is left out.
//! - Versions: `_WIN32_WINNT` and `NTDDI_VERSION` are Windows 10 version 2004
//!   ([`NTDDI_VERSION`]), the driver's stated minimum; mingw-w64's default is older.
//! - Driver models: WDM only (mingw-w64 has no WDF headers); KMDF and UMDF are errors.
//! - Libraries: the link directives name the import libraries `tests/windows/build.sh` makes
//!   from the `.def` files in `tests/windows/imports/` (`ntoskrnl`, `hal`); the WDK's
//!   `BufferOverflowFastFailK` and `wmilib` static libraries do not exist here, and nothing in
//!   a Rust driver calls into them.
//!
//! Everything else (the bindgen options, the blocklist entries that concern these headers,
//! `must_use` types, enum style, Rust target and edition, the cfg names) follows wdk-build
//! 0.6.0, so the bindings keep wdk-sys's shape:
//! functions in `wdk_sys::ntddk`, types, constants and exported variables at the crate root,
//! bindgen's names for anonymous members.

use std::borrow::Borrow;
use std::fmt;
use std::path::{Path, PathBuf};

/// `_WIN32_WINNT` for the headers: `_WIN32_WINNT_WIN10`.
pub const WIN32_WINNT: &str = "0x0A00";
/// `NTDDI_VERSION` for the headers: `NTDDI_WIN10_VB`, Windows 10 version 2004, the first with
/// `ExAllocatePool2` (which `wdk-alloc` calls).
pub const NTDDI_VERSION: &str = "0x0A000008";
/// Where Debian's `mingw-w64-x86-64-dev` installs the headers, unless `MINGW_SYSROOT` says
/// otherwise.
const DEFAULT_MINGW_SYSROOT: &str = "/usr/x86_64-w64-mingw32";

/// The driver model, from `[package.metadata.wdk.driver-model]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DriverConfig {
    /// Windows Driver Model.
    Wdm,
    /// Kernel Mode Driver Framework (not supported by this stand-in).
    Kmdf(KmdfConfig),
    /// User Mode Driver Framework (not supported by this stand-in).
    Umdf(UmdfConfig),
}

/// KMDF versions (the fields wdk-sys's build script matches on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KmdfConfig {
    /// Major KMDF version.
    pub kmdf_version_major: u8,
    /// Target minor KMDF version.
    pub target_kmdf_version_minor: u8,
    /// Minimum minor KMDF version.
    pub minimum_kmdf_version_minor: Option<u8>,
}

/// UMDF versions (the fields wdk-sys's build script matches on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UmdfConfig {
    /// Major UMDF version.
    pub umdf_version_major: u8,
    /// Target minor UMDF version.
    pub target_umdf_version_minor: u8,
    /// Minimum minor UMDF version.
    pub minimum_umdf_version_minor: Option<u8>,
}

/// The groups of WDK headers wdk-sys generates bindings for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiSubset {
    /// `ntifs.h`, `ntddk.h`, `ntstrsafe.h` for kernel-mode drivers.
    Base,
    /// WDF (none for WDM).
    Wdf,
    /// GPIO.
    Gpio,
    /// HID.
    Hid,
    /// Parallel ports.
    ParallelPorts,
    /// SPB.
    Spb,
    /// Storage.
    Storage,
    /// USB.
    Usb,
}

/// An I/O failure with the path it concerns.
#[derive(Debug)]
pub struct IoError {
    path: PathBuf,
    source: std::io::Error,
}

impl IoError {
    /// An I/O failure on `path`.
    pub fn with_path(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IoError {
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Why the build could not be configured.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read or written.
    Io(IoError),
    /// `cargo metadata` failed.
    CargoMetadata(cargo_metadata::Error),
    /// The workspace's packages declare different driver models.
    ConflictingDriverModels,
    /// `driver-type` is missing or not one of `WDM`, `KMDF`, `UMDF`.
    InvalidDriverModel(String),
    /// A driver model this stand-in has no headers for.
    UnsupportedDriverModel(DriverConfig),
    /// A required header directory does not exist.
    MissingHeaders(PathBuf),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io(error) => write!(f, "{error}"),
            ConfigError::CargoMetadata(error) => write!(f, "cargo metadata: {error}"),
            ConfigError::ConflictingDriverModels => {
                f.write_str("the workspace declares more than one driver model")
            }
            ConfigError::InvalidDriverModel(what) => write!(f, "invalid driver model: {what}"),
            ConfigError::UnsupportedDriverModel(model) => write!(
                f,
                "driver model {model:?}: the mingw-w64 headers support WDM drivers only"
            ),
            ConfigError::MissingHeaders(path) => write!(
                f,
                "{}: no mingw-w64 DDK headers (Debian: mingw-w64-x86-64-dev; or set MINGW_SYSROOT)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<IoError> for ConfigError {
    fn from(error: IoError) -> Self {
        ConfigError::Io(error)
    }
}

impl From<cargo_metadata::Error> for ConfigError {
    fn from(error: cargo_metadata::Error) -> Self {
        ConfigError::CargoMetadata(error)
    }
}

/// The build configuration: the driver model and where the headers are.
#[derive(Debug, Clone)]
pub struct Config {
    /// The driver model.
    pub driver_config: DriverConfig,
    mingw_sysroot: PathBuf,
}

impl Config {
    /// The configuration of the workspace being built: its driver model from
    /// `[package.metadata.wdk.driver-model]` (read with `cargo metadata`, as wdk-build does),
    /// the headers from `MINGW_SYSROOT`.
    pub fn from_env_auto() -> Result<Config, ConfigError> {
        let manifest = find_top_level_cargo_manifest();
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(&manifest)
            .no_deps()
            .exec()?;
        println!("cargo::rerun-if-changed={}", manifest.display());
        println!("cargo::rerun-if-env-changed=MINGW_SYSROOT");
        let mut model = None;
        for package in &metadata.packages {
            let Some(declared) = package.metadata.pointer("/wdk/driver-model") else {
                continue;
            };
            let declared = parse_driver_model(declared)?;
            if model
                .replace(declared.clone())
                .is_some_and(|m| m != declared)
            {
                return Err(ConfigError::ConflictingDriverModels);
            }
        }
        let driver_config = model.ok_or_else(|| {
            ConfigError::InvalidDriverModel(String::from("no [package.metadata.wdk.driver-model]"))
        })?;
        let mingw_sysroot = std::env::var_os("MINGW_SYSROOT")
            .map_or_else(|| PathBuf::from(DEFAULT_MINGW_SYSROOT), PathBuf::from);
        Ok(Config {
            driver_config,
            mingw_sysroot,
        })
    }

    /// The header directories, in search order.
    pub fn include_paths(&self) -> Result<impl Iterator<Item = PathBuf>, ConfigError> {
        self.require_wdm()?;
        let include = self.mingw_sysroot.join("include");
        let paths = [include.join("ddk"), include, supplement_dir()];
        if let Some(missing) = paths.iter().find(|path| !path.is_dir()) {
            return Err(ConfigError::MissingHeaders(missing.clone()));
        }
        Ok(paths.into_iter())
    }

    /// The preprocessor definitions of a WDM x64 build (as the WDK's property sheets set
    /// them), plus the Windows version the headers are read for.
    pub fn preprocessor_definitions(&self) -> impl Iterator<Item = (String, Option<String>)> {
        [
            ("_WIN64", None),
            ("_AMD64_", None),
            ("AMD64", None),
            ("_KERNEL_MODE", None),
            ("_WIN32_WINNT", Some(WIN32_WINNT)),
            ("NTDDI_VERSION", Some(NTDDI_VERSION)),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.map(str::to_string)))
    }

    /// The clang flags for parsing the headers: wdk-build's, and the GCC version mingw-w64's
    /// headers check for.
    pub fn wdk_bindgen_compiler_flags() -> impl Iterator<Item = String> {
        [
            "-fms-compatibility",
            "-fms-extensions",
            "-fdelayed-template-parsing",
            "-fgnuc-version=4.2.1",
            "-Wno-nonportable-include-path",
            "-Wno-pragma-pack",
            "-Wno-ignored-attributes",
            "-Wno-ignored-pragma-intrinsic",
            "-Wno-visibility",
            "-Wno-switch",
            "-Wno-comment",
            "-Wno-deprecated-declarations",
            "-Wno-invalid-token-paste",
            "-Wno-microsoft",
        ]
        .into_iter()
        .map(str::to_string)
    }

    /// The headers of `api_subset`.
    pub fn headers(
        &self,
        api_subset: ApiSubset,
    ) -> Result<impl Iterator<Item = String>, ConfigError> {
        self.require_wdm()?;
        let headers: &[&str] = match api_subset {
            ApiSubset::Base => &["ntifs.h", "ntddk.h", "ntstrsafe.h", "wdk-supplement.h"],
            _ => &[],
        };
        Ok(headers.iter().map(|header| header.to_string()))
    }

    /// `#include` lines for the headers of `api_subsets`.
    pub fn bindgen_header_contents(
        &self,
        api_subsets: impl IntoIterator<Item = ApiSubset> + fmt::Debug,
    ) -> Result<String, ConfigError> {
        let mut contents = String::new();
        for subset in api_subsets {
            for header in self.headers(subset)? {
                contents.push_str(&format!("#include \"{header}\"\n"));
            }
        }
        Ok(contents)
    }

    /// Link directives (raw Rust lines) for `api_subset`: the import libraries of the kernel
    /// and the HAL for [`ApiSubset::Base`], as `kind = "static"` libraries the way wdk-build
    /// writes them (an import library is an archive).
    pub fn bindgen_library_link_raw_lines(&self, api_subset: ApiSubset) -> Option<String> {
        match (api_subset, &self.driver_config) {
            (ApiSubset::Base, DriverConfig::Wdm) => Some(
                ["ntoskrnl", "hal"]
                    .iter()
                    .map(|name| {
                        format!(
                            "#[cfg(not(any(test, feature = \"suppress-wdk-linking\")))]\n\
                             #[link(name = \"{name}\", kind = \"static\", modifiers = \"-bundle\")]\n\
                             unsafe extern \"C\" {{}}\n"
                        )
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The `WdfFunctions_*` symbol name: none for WDM.
    pub fn compute_wdffunctions_symbol_name(&self) -> Option<String> {
        None
    }

    /// Emits the driver-model cfg for a library's build script.
    pub fn configure_library_build(&self) -> Result<(), ConfigError> {
        self.require_wdm()?;
        emit_check_cfg_settings();
        println!("cargo::rustc-cfg=driver_model__driver_type=\"WDM\"");
        Ok(())
    }

    fn require_wdm(&self) -> Result<(), ConfigError> {
        match self.driver_config {
            DriverConfig::Wdm => Ok(()),
            ref other => Err(ConfigError::UnsupportedDriverModel(other.clone())),
        }
    }
}

/// Declares the cfg values [`Config::configure_library_build`] can emit (`check-cfg`).
pub fn emit_check_cfg_settings() {
    println!(
        "cargo::rustc-check-cfg=cfg(driver_model__driver_type, values(\"WDM\", \"KMDF\", \"UMDF\"))"
    );
}

/// The directory of `wdk-supplement.h`.
fn supplement_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// `{ "driver-type": "WDM" }` and the like.
fn parse_driver_model(value: &serde_json::Value) -> Result<DriverConfig, ConfigError> {
    match value.get("driver-type").and_then(serde_json::Value::as_str) {
        Some("WDM") => Ok(DriverConfig::Wdm),
        Some("KMDF") => Ok(DriverConfig::Kmdf(KmdfConfig {
            kmdf_version_major: 1,
            target_kmdf_version_minor: 33,
            minimum_kmdf_version_minor: None,
        })),
        Some("UMDF") => Ok(DriverConfig::Umdf(UmdfConfig {
            umdf_version_major: 2,
            target_umdf_version_minor: 33,
            minimum_umdf_version_minor: None,
        })),
        _ => Err(ConfigError::InvalidDriverModel(value.to_string())),
    }
}

/// The workspace manifest: next to the first `Cargo.lock` above `OUT_DIR` (the target
/// directory lies inside the workspace), as wdk-build finds it.
pub fn find_top_level_cargo_manifest() -> PathBuf {
    let out_dir =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    out_dir
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .expect("the target directory lies inside the workspace")
        .join("Cargo.toml")
}

/// The bindgen builder for WDK headers.
pub trait BuilderExt {
    /// A builder configured for `config`'s headers, with wdk-build's options.
    fn wdk_default(
        config: impl Borrow<Config> + fmt::Debug,
    ) -> Result<bindgen::Builder, ConfigError>;
}

impl BuilderExt for bindgen::Builder {
    fn wdk_default(
        config: impl Borrow<Config> + fmt::Debug,
    ) -> Result<bindgen::Builder, ConfigError> {
        let config = config.borrow();
        let includes = config
            .include_paths()?
            .map(|path| format!("-I{}", path.display()))
            .collect::<Vec<_>>();
        let defines = config
            .preprocessor_definitions()
            .map(|(key, value)| match value {
                Some(value) => format!("-D{key}={value}"),
                None => format!("-D{key}"),
            });
        let builder = bindgen::Builder::default()
            .use_core()
            .derive_default(true)
            .generate_cstr(true)
            .detect_include_paths(false)
            // `size_t` in the signatures of `memcpy` and the like as `usize`.
            .clang_arg("-fno-builtin")
            .clang_args(includes)
            .clang_args(defines)
            .clang_args(Config::wdk_bindgen_compiler_flags())
            // Deprecated pool allocators, left out as wdk-build leaves them out.
            .blocklist_item("ExAllocatePoolWithTag")
            .blocklist_item("ExAllocatePoolWithQuotaTag")
            .blocklist_item("ExAllocatePoolWithTagPriority")
            .blocklist_item("ExAllocatePool")
            .opaque_type("_KGDTENTRY64")
            .opaque_type("_KIDTENTRY64")
            // clang's AMX intrinsics type, which mingw-w64's `intrin.h` brings in (the WDK's
            // does not) and bindgen cannot lay out (packed and aligned); no kernel API uses it.
            .blocklist_type("__tile1024i.*")
            .must_use_type("NTSTATUS")
            .must_use_type("HRESULT")
            .default_enum_style(bindgen::EnumVariation::ModuleConsts)
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
            .formatter(bindgen::Formatter::Prettyplease)
            .rust_target(rust_target())
            .rust_edition(bindgen::RustEdition::Edition2024);
        Ok(builder)
    }
}

/// The Rust version bindgen writes for: this package's `rust-version` (wdk-build's).
fn rust_target() -> bindgen::RustTarget {
    let version = env!("CARGO_PKG_RUST_VERSION");
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u64>().unwrap_or(0));
    let (_, minor, patch) = (
        parts.next(),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    bindgen::RustTarget::stable(minor, patch).expect("bindgen supports wdk-build's rust-version")
}

/// Configures a library's build script (emits the driver-model cfg).
pub fn configure_wdk_library_build() -> Result<(), ConfigError> {
    Config::from_env_auto()?.configure_library_build()
}

/// Configures a library's build script, then runs `f` with the configuration.
pub fn configure_wdk_library_build_and_then<F, E>(mut f: F) -> Result<(), E>
where
    F: FnMut(Config) -> Result<(), E>,
    E: From<ConfigError>,
{
    let config = Config::from_env_auto()?;
    config.configure_library_build()?;
    f(config)
}
