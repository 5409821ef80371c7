//! The INF template `inf/wsktrace_driver.inx`: encoding, sections, the one install section and
//! service, the stated minimum Windows version against the image's imports, and the
//! `Parameters` defaults, whose names and values must be exactly those the kernel glue reads
//! (`wsktrace_driver::glue::params`).

use std::collections::{BTreeMap, BTreeSet};

use wsktrace_driver::glue::params;
use wsktrace_driver::lifecycle::Policy;

/// One INF line: `key = value` or a bare value list.
#[derive(Debug, Clone)]
struct Line {
    key: Option<String>,
    value: String,
}

/// Sections by lower-cased name, lines in order.
type Inf = BTreeMap<String, Vec<Line>>;

/// Removes a `;` comment (outside double quotes).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse(text: &str) -> Inf {
    let mut inf = Inf::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name.strip_suffix(']').expect("section header ends with ]");
            let name = name.trim().to_lowercase();
            assert!(!inf.contains_key(&name), "duplicate section [{name}]");
            inf.insert(name.clone(), Vec::new());
            current = Some(name);
            continue;
        }
        let section = current.as_ref().expect("line before the first section");
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (Some(k.trim().to_string()), v.trim().to_string()),
            None => (None, line.to_string()),
        };
        inf.get_mut(section).unwrap().push(Line { key, value });
    }
    inf
}

fn read_inf() -> (String, Inf) {
    read_inf_at("inf/wsktrace_driver.inx")
}

/// An INF template of the repository (`name` from its root).
fn read_inf_at(name: &str) -> (String, Inf) {
    let path = format!("{}/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE byte order mark");
    assert_eq!(bytes.len() % 2, 0);
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let text = String::from_utf16(&units).expect("valid UTF-16");
    assert!(text.contains("\r\n"), "CRLF line ends");
    let inf = parse(&text);
    (text, inf)
}

fn section<'a>(inf: &'a Inf, name: &str) -> &'a [Line] {
    inf.get(&name.to_lowercase())
        .unwrap_or_else(|| panic!("section [{name}] missing"))
}

fn value<'a>(inf: &'a Inf, section_name: &str, key: &str) -> &'a str {
    section(inf, section_name)
        .iter()
        .find(|l| {
            l.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
        .map(|l| l.value.as_str())
        .unwrap_or_else(|| panic!("[{section_name}] has no {key}"))
}

fn number(text: &str) -> u32 {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).expect("hex number"),
        None => text.parse().expect("decimal number"),
    }
}

/// The driver binary cargo builds: the package's library name plus `.sys`.
fn binary_name() -> String {
    format!("{}.sys", env!("CARGO_PKG_NAME").replace('-', "_"))
}

#[test]
fn version_and_files() {
    let (_, inf) = read_inf();
    assert_eq!(value(&inf, "Version", "Signature"), "\"$WINDOWS NT$\"");
    assert_eq!(value(&inf, "Version", "PnpLockDown"), "1");
    let catalog = binary_name().replace(".sys", ".cat");
    assert_eq!(value(&inf, "Version", "CatalogFile"), catalog);
    assert_eq!(value(&inf, "DestinationDirs", "DefaultDestDir"), "13");
    let binary = binary_name();
    assert!(
        section(&inf, "SourceDisksFiles")
            .iter()
            .any(|l| l.key.as_deref() == Some(binary.as_str())),
        "[SourceDisksFiles] lists {binary}"
    );
}

/// One install section, `[DefaultInstall.NT$ARCH$]` (what `pnputil /add-driver ... /install`
/// runs for a primitive driver), installing one demand-start kernel service; no other section
/// installs a service (InfVerif flags unreachable install sections and a service defined more
/// than once). The start type is changed with `sc config`, which the INF documents.
#[test]
fn one_install_section_installs_the_service() {
    let (text, inf) = read_inf();
    let binary = binary_name();
    assert_eq!(value(&inf, "Strings", "ServiceName"), "\"wsktrace\"");
    let install = "DefaultInstall.NT$ARCH$";
    let copy = value(&inf, install, "CopyFiles");
    assert!(
        section(&inf, copy)
            .iter()
            .any(|l| l.key.is_none() && l.value == binary),
        "[{copy}] copies {binary}"
    );
    let add_services: Vec<(&String, &Line)> = inf
        .iter()
        .flat_map(|(name, lines)| lines.iter().map(move |line| (name, line)))
        .filter(|(_, line)| {
            line.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("AddService"))
        })
        .collect();
    assert_eq!(
        add_services.len(),
        1,
        "one AddService in the INF: {add_services:?}"
    );
    let (services_section, add) = add_services[0];
    assert_eq!(
        *services_section,
        format!("{install}.Services").to_lowercase()
    );
    let parts: Vec<&str> = add.value.split(',').map(str::trim).collect();
    assert_eq!(parts[0], "%ServiceName%");
    let service = *parts.last().expect("a service section");
    let install_sections: Vec<&String> = inf
        .keys()
        .filter(|name| {
            inf[*name]
                .iter()
                .any(|l| l.key.as_deref() == Some("CopyFiles"))
        })
        .collect();
    assert_eq!(
        install_sections,
        [&install.to_lowercase()],
        "one install section"
    );
    assert_eq!(
        number(value(&inf, service, "ServiceType")),
        1,
        "SERVICE_KERNEL_DRIVER"
    );
    assert_eq!(
        number(value(&inf, service, "StartType")),
        3,
        "SERVICE_DEMAND_START"
    );
    assert_eq!(number(value(&inf, service, "ErrorControl")), 1);
    assert_eq!(
        value(&inf, service, "ServiceBinary"),
        format!("%13%\\{binary}")
    );
    assert_eq!(value(&inf, service, "AddReg"), "WskTrace_Parameters");
    for start in ["system", "boot", "demand"] {
        assert!(
            text.contains(&format!("sc config wsktrace start= {start}")),
            "the INF documents `sc config wsktrace start= {start}`"
        );
    }
    assert!(
        !text.contains("InstallHinfSection"),
        "no setupapi install route"
    );
}

/// The first Windows release documented for each import in `tests/windows/imports.txt`,
/// oldest first, with how the INF and the docs name it.
const RELEASES: [(&str, &str); 7] = [
    ("2000", "Windows 2000"),
    ("XP", "Windows XP"),
    ("Vista", "Windows Vista"),
    ("7", "Windows 7"),
    ("8", "Windows 8"),
    ("10", "Windows 10"),
    ("10-2004", "Windows 10 version 2004 (build 19041)"),
];

/// A driver's minimum Windows version: the newest release among the imports of its list.
fn minimum_windows(imports: &str) -> &'static str {
    let path = format!("{}/{imports}", env!("CARGO_MANIFEST_DIR"));
    let list = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let newest = list
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let since = line
                .split_whitespace()
                .nth(2)
                .expect("MODULE FUNCTION SINCE");
            RELEASES
                .iter()
                .position(|(key, _)| *key == since)
                .unwrap_or_else(|| panic!("imports.txt: unknown release {since:?} in {line:?}"))
        })
        .max()
        .expect("imports listed");
    RELEASES[newest].1
}

#[test]
fn stated_minimum_windows_version_is_what_the_imports_need() {
    // The example driver's INF states its own image's minimum.
    let (text, _) = read_inf_at("examples/subcomponent/inf/wsktrace_subcomponent.inx");
    let minimum = minimum_windows("examples/subcomponent/imports.txt");
    let flat = text.replace("\r\n; ", " ").replace("\r\n", " ");
    assert!(flat.contains(minimum), "the example's INF states {minimum}");

    let minimum = minimum_windows("tests/windows/imports.txt");
    assert_eq!(minimum, "Windows 10 version 2004 (build 19041)");
    let (text, _) = read_inf();
    let flat = text.replace("\r\n; ", " ").replace("\r\n", " ");
    assert!(
        flat.contains(minimum),
        "the INF states the minimum: {minimum}"
    );
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/windows-build.md");
    let docs = std::fs::read_to_string(docs).expect("docs/windows-build.md");
    assert!(
        docs.replace('\n', " ").contains(minimum),
        "docs/windows-build.md states {minimum}"
    );
    for older in ["1903", "1909"] {
        assert!(
            !flat.contains(older),
            "the INF still names Windows 10 {older}"
        );
    }
}

/// `HKR,Parameters,<name>,<flags>,<value>`: exactly the names the glue reads, with the
/// defaults the code uses for absent values, each of its registry type (`REG_DWORD` numbers,
/// `REG_SZ` quoted strings), none overwriting what an administrator set.
#[test]
fn parameters_are_exactly_what_the_glue_reads() {
    const FLG_ADDREG_TYPE_MASK: u32 = 0xFFFF_0001;
    const FLG_ADDREG_TYPE_SZ: u32 = 0;
    const FLG_ADDREG_TYPE_DWORD: u32 = 0x0001_0001;
    const FLG_ADDREG_NOCLOBBER: u32 = 0x2;
    let (text, inf) = read_inf();
    let mut written = BTreeMap::new();
    for line in section(&inf, "WskTrace_Parameters") {
        assert!(line.key.is_none(), "AddReg lines have no key: {line:?}");
        let parts: Vec<&str> = line.value.split(',').map(str::trim).collect();
        assert_eq!(parts.len(), 5, "{line:?}");
        assert_eq!(parts[0], "HKR");
        assert_eq!(parts[1], params::PARAMETERS_KEY);
        let flags = number(parts[3]);
        assert_ne!(
            flags & FLG_ADDREG_NOCLOBBER,
            0,
            "FLG_ADDREG_NOCLOBBER for {}",
            parts[2]
        );
        let value = match flags & FLG_ADDREG_TYPE_MASK {
            FLG_ADDREG_TYPE_DWORD => params::Default::Dword(number(parts[4])),
            FLG_ADDREG_TYPE_SZ => {
                let quoted = parts[4].strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                params::Default::Text(quoted.expect("a quoted string").to_string().leak())
            }
            other => panic!("{}: registry type flags {other:#x}", parts[2]),
        };
        assert!(written.insert(parts[2].to_string(), value).is_none());
    }
    let names: BTreeSet<&str> = written.keys().map(String::as_str).collect();
    let read: BTreeSet<&str> = params::VALUE_NAMES.into_iter().collect();
    assert_eq!(names, read, "INF value names = names the glue reads");
    for (name, default) in params::default_values() {
        assert_eq!(written[name], default, "INF default of {name}");
    }
    // The comment about the DriverEntry-thread limit states the code's limit.
    assert!(text.contains(&format!("{} ms", Policy::MAX_DRIVER_ENTRY_WAIT_MS)));
}

/// Every `%string%` used is defined in `[Strings]`.
#[test]
fn strings_are_defined() {
    let (text, inf) = read_inf();
    let defined: BTreeSet<String> = section(&inf, "Strings")
        .iter()
        .filter_map(|l| l.key.as_ref().map(|k| k.to_lowercase()))
        .collect();
    for raw in text.lines() {
        let line = strip_comment(raw);
        let mut parts = line.split('%');
        parts.next();
        while let (Some(name), Some(_)) = (parts.next(), parts.next()) {
            if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
                continue; // %% or a DIRID like %13%
            }
            assert!(defined.contains(&name.to_lowercase()), "%{name}% undefined");
        }
    }
}
