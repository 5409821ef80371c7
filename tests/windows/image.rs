//! The kernel images, `target/windows/wsktrace_driver.sys` and the example driver's
//! `target/windows/wsktrace_subcomponent.sys`: machine, subsystem, entry point, exports and
//! the import table, read with the `object` crate. Each import table must be exactly its
//! reviewed list (`tests/windows/imports.txt`, `examples/subcomponent/imports.txt`), so a new
//! import is a failing test here rather than a load failure on a Windows machine.

use std::collections::{BTreeMap, BTreeSet};

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile64};
use object::LittleEndian as LE;

use crate::support::{build_output, read_repo_file};

/// Module → imported functions.
type Imports = BTreeMap<String, BTreeSet<String>>;

/// The modules a WDM driver of this kind may import from.
const ALLOWED_MODULES: [&str; 3] = ["ntoskrnl.exe", "HAL.dll", "NETIO.SYS"];

/// An image `tests/windows/build.sh` builds, and its reviewed import list.
struct Image {
    /// The image in `target/windows/`.
    sys: &'static str,
    /// Its stamped INF there.
    inf: &'static str,
    /// `MODULE FUNCTION SINCE` lines, in the repository.
    imports: &'static str,
}

const IMAGES: [Image; 2] = [
    Image {
        sys: "wsktrace_driver.sys",
        inf: "wsktrace_driver.inf",
        imports: "tests/windows/imports.txt",
    },
    Image {
        sys: "wsktrace_subcomponent.sys",
        inf: "wsktrace_subcomponent.inf",
        imports: "examples/subcomponent/imports.txt",
    },
];

/// An image's reviewed list: `MODULE FUNCTION SINCE` lines.
fn expected_imports(list: &str) -> Imports {
    let mut imports = Imports::new();
    for line in read_repo_file(list).lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [module, function, _since] = fields[..] else {
            panic!("{list}: not `MODULE FUNCTION SINCE`: {line}");
        };
        let fresh = imports
            .entry(module.to_string())
            .or_default()
            .insert(function.to_string());
        assert!(fresh, "{list} lists {module} {function} twice");
    }
    imports
}

/// The images that were built, with their bytes.
fn built() -> Vec<(&'static Image, Vec<u8>)> {
    IMAGES
        .iter()
        .filter_map(|image| {
            let path = build_output(image.sys)?;
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Some((image, bytes))
        })
        .collect()
}

/// The image's import table, by name (an import by ordinal fails the test).
fn imports_of(file: &PeFile64<'_>) -> Imports {
    let table = file
        .import_table()
        .expect("readable import table")
        .expect("an import table");
    let mut imports = Imports::new();
    let mut descriptors = table.descriptors().expect("import descriptors");
    while let Some(descriptor) = descriptors.next().expect("import descriptor") {
        let module = table.name(descriptor.name.get(LE)).expect("module name");
        let module = String::from_utf8(module.to_vec()).expect("ASCII module name");
        let mut thunks = table
            .thunks(descriptor.original_first_thunk.get(LE))
            .expect("import lookup table");
        while let Some(thunk) = thunks.next::<pe::ImageNtHeaders64>().expect("thunk") {
            let (_hint, name) = match table.import::<pe::ImageNtHeaders64>(thunk) {
                Ok(object::read::pe::Import::Name(hint, name)) => (hint, name),
                other => panic!("{module}: import not by name: {other:?}"),
            };
            let name = String::from_utf8(name.to_vec()).expect("ASCII function name");
            imports.entry(module.clone()).or_default().insert(name);
        }
    }
    imports
}

#[test]
fn image_is_a_native_amd64_driver() {
    for (image, bytes) in built() {
        native_amd64_driver(image, &bytes);
    }
}

fn native_amd64_driver(image: &Image, bytes: &[u8]) {
    let file = PeFile64::parse(bytes).unwrap_or_else(|e| panic!("{}: {e}", image.sys));
    let headers = file.nt_headers();
    assert_eq!(
        headers.file_header().machine.get(LE),
        pe::IMAGE_FILE_MACHINE_AMD64
    );
    let optional = headers.optional_header();
    assert_eq!(optional.magic(), pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC);
    assert_eq!(optional.subsystem(), pe::IMAGE_SUBSYSTEM_NATIVE);
    // What wdk-build's linker options give a driver: /DYNAMICBASE, /NXCOMPAT, and
    // /INTEGRITYCHECK (the kernel refuses the image unless its signature checks out).
    let wanted = pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE
        | pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT
        | pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY;
    assert_eq!(
        optional.dll_characteristics() & wanted,
        wanted,
        "{}",
        image.sys
    );
}

#[test]
fn entry_point_is_driver_entry() {
    for (image, bytes) in built() {
        enters_driver_entry(image, &bytes);
    }
}

fn enters_driver_entry(image: &Image, bytes: &[u8]) {
    let file = PeFile64::parse(bytes).unwrap_or_else(|e| panic!("{}: {e}", image.sys));
    let entry = file.nt_headers().optional_header().address_of_entry_point();
    let exports = file.export_table().expect("export table").expect("exports");
    let driver_entry = exports
        .exports()
        .expect("exports")
        .into_iter()
        .find(|export| export.name == Some(&b"DriverEntry"[..]))
        .expect("DriverEntry is exported");
    let object::read::pe::ExportTarget::Address(address) = driver_entry.target else {
        panic!("{}: DriverEntry is forwarded", image.sys);
    };
    assert_eq!(
        entry, address,
        "{}: AddressOfEntryPoint is DriverEntry",
        image.sys
    );
}

#[test]
fn import_table_is_the_reviewed_list() {
    for (image, bytes) in built() {
        imports_are_listed(image, &bytes);
    }
}

fn imports_are_listed(image: &Image, bytes: &[u8]) {
    let file = PeFile64::parse(bytes).unwrap_or_else(|e| panic!("{}: {e}", image.sys));
    let actual = imports_of(&file);
    let expected = expected_imports(image.imports);
    for module in actual.keys() {
        assert!(
            ALLOWED_MODULES.contains(&module.as_str()),
            "imports from {module}: only {ALLOWED_MODULES:?} are allowed"
        );
    }
    let flatten = |imports: &Imports| -> BTreeSet<String> {
        imports
            .iter()
            .flat_map(|(module, functions)| functions.iter().map(move |f| format!("{module} {f}")))
            .collect()
    };
    let (actual, expected) = (flatten(&actual), flatten(&expected));
    let new: Vec<_> = actual.difference(&expected).collect();
    let gone: Vec<_> = expected.difference(&actual).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "{}: import table differs from {}:\n  not listed: {new:?}\n  no longer imported: {gone:?}",
        image.sys,
        image.imports
    );
}

/// The stamped INF beside the image: UTF-16LE with a byte order mark, the architecture and
/// `DriverVer` filled in.
#[test]
fn inf_is_stamped() {
    for image in &IMAGES {
        if let Some(path) = build_output(image.inf) {
            stamped(&path);
        }
    }
}

fn stamped(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE byte order mark");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("UTF-16");
    assert!(!text.contains("$ARCH$"), "architecture stamped");
    assert!(text.contains("[DefaultInstall.NTamd64]"));
    let driver_ver = text
        .lines()
        .find_map(|line| line.strip_prefix("DriverVer"))
        .expect("a DriverVer line");
    let (date, version) = driver_ver
        .trim_start_matches([' ', '='])
        .trim()
        .split_once(',')
        .expect("DriverVer = date,version");
    assert_eq!(date.split('/').count(), 3, "mm/dd/yyyy: {date}");
    assert_eq!(version.split('.').count(), 4, "w.x.y.z: {version}");
}
