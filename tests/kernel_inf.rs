//! The INF template `inf/wsktrace_driver.inx`: encoding, sections, the service binary, the
//! three start types, and the `Parameters` defaults, whose names and values must be exactly
//! those the kernel glue reads (`wsktrace_driver::glue::params`).

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
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/inf/wsktrace_driver.inx");
    let bytes = std::fs::read(path).expect("inf/wsktrace_driver.inx");
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

/// The three install sections, their services and start types.
#[test]
fn services_with_each_start_type() {
    let (_, inf) = read_inf();
    let binary = binary_name();
    let service_name = value(&inf, "Strings", "ServiceName");
    assert_eq!(service_name, "\"wsktrace\"");
    // (install section, service section, StartType: SERVICE_DEMAND_START 3,
    // SERVICE_SYSTEM_START 1, SERVICE_BOOT_START 0)
    let installs = [
        ("DefaultInstall.NT$ARCH$", "WskTrace_Service_DemandStart", 3),
        (
            "WskTrace_SystemStart.NT$ARCH$",
            "WskTrace_Service_SystemStart",
            1,
        ),
        (
            "WskTrace_BootStart.NT$ARCH$",
            "WskTrace_Service_BootStart",
            0,
        ),
    ];
    for (install, service, start_type) in installs {
        let copy = value(&inf, install, "CopyFiles");
        assert!(
            section(&inf, copy)
                .iter()
                .any(|l| l.key.is_none() && l.value == binary),
            "[{copy}] copies {binary}"
        );
        let add = value(&inf, &format!("{install}.Services"), "AddService");
        let parts: Vec<&str> = add.split(',').map(str::trim).collect();
        assert_eq!(parts[0], "%ServiceName%", "{install}");
        assert_eq!(parts.last().copied(), Some(service), "{install}");
        assert_eq!(
            number(value(&inf, service, "ServiceType")),
            1,
            "SERVICE_KERNEL_DRIVER"
        );
        assert_eq!(
            number(value(&inf, service, "StartType")),
            start_type,
            "{service}"
        );
        assert_eq!(number(value(&inf, service, "ErrorControl")), 1);
        assert_eq!(
            value(&inf, service, "ServiceBinary"),
            format!("%13%\\{binary}")
        );
        assert_eq!(value(&inf, service, "AddReg"), "WskTrace_Parameters");
    }
}

/// `HKR,Parameters,<name>,<flags>,<value>`: exactly the names the glue reads, with the
/// defaults the code uses for absent values, as `REG_DWORD`s.
#[test]
fn parameters_are_exactly_what_the_glue_reads() {
    let (text, inf) = read_inf();
    let mut written = BTreeMap::new();
    for line in section(&inf, "WskTrace_Parameters") {
        assert!(line.key.is_none(), "AddReg lines have no key: {line:?}");
        let parts: Vec<&str> = line.value.split(',').map(str::trim).collect();
        assert_eq!(parts.len(), 5, "{line:?}");
        assert_eq!(parts[0], "HKR");
        assert_eq!(parts[1], params::PARAMETERS_KEY);
        let flags = number(parts[3]);
        assert_eq!(
            flags & 0x0001_0001,
            0x0001_0001,
            "FLG_ADDREG_TYPE_DWORD for {}",
            parts[2]
        );
        assert!(written
            .insert(parts[2].to_string(), number(parts[4]))
            .is_none());
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
