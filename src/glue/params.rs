//! The driver's configuration as it sits in the registry, without touching the registry:
//! the value names (which `inf/wsktrace_driver.inx` must use, a test checks), their
//! defaults (the INF writes the same), how a raw value is accepted, and the client name a
//! registry path gives. Validation itself is [`Policy::from_config`] and
//! [`ListenParams::from_config`].

use alloc::string::String;

use crate::fallible::{try_string, AllocError};
use crate::lifecycle::{ListenParams, Policy, WaitOn};

/// The subkey of the service key the parameters live in.
pub const PARAMETERS_KEY: &str = "Parameters";
/// `REG_DWORD`: the capture's `WaitTimeout` (0 = `WSK_NO_WAIT`, 0xFFFFFFFF =
/// `WSK_INFINITE_WAIT`, else milliseconds; cut to [`Policy::MAX_DRIVER_ENTRY_WAIT_MS`] on the
/// DriverEntry thread).
pub const WAIT_TIMEOUT_MS: &str = "WaitTimeoutMs";
/// `REG_DWORD`: 1 = capture on a worker thread, 0 = on the DriverEntry thread.
pub const WAIT_ON_WORKER: &str = "WaitOnWorker";
/// `REG_DWORD`: the NPI version registered first, `MAKE_WSK_VERSION(major, minor)`.
pub const NPI_VERSION: &str = "NpiVersion";
/// `REG_SZ`: the IPv4 or IPv6 literal the listening socket binds to (not a literal: the
/// default, loopback).
pub const LISTEN_ADDRESS: &str = "ListenAddress";
/// `REG_DWORD`: the port the listening socket binds to; 0 = no listening socket.
pub const LISTEN_PORT: &str = "ListenPort";
/// Every value the driver reads, in the order it reads them.
pub const VALUE_NAMES: [&str; 5] = [
    WAIT_TIMEOUT_MS,
    WAIT_ON_WORKER,
    NPI_VERSION,
    LISTEN_ADDRESS,
    LISTEN_PORT,
];
/// `ListenAddress` as the INF writes it: [`ListenParams::DEFAULT_ADDRESS`] (a test checks).
pub const DEFAULT_LISTEN_ADDRESS: &str = "127.0.0.1";

/// `REG_SZ` (winnt.h).
pub const REG_SZ: u32 = 1;
/// `REG_DWORD` (winnt.h).
pub const REG_DWORD: u32 = 4;

/// A value's default, as the INF writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Default {
    /// A `REG_DWORD`.
    Dword(u32),
    /// A `REG_SZ`.
    Text(&'static str),
}

/// The client name used when the registry path has no last component.
pub const DEFAULT_CLIENT_NAME: &str = "wsktrace";

/// The default of each value in [`VALUE_NAMES`] (what an absent value means), as the INF
/// writes it.
pub fn default_values() -> [(&'static str, Default); 5] {
    let d = Policy::DEFAULT;
    [
        (WAIT_TIMEOUT_MS, Default::Dword(d.wait_timeout.as_ms())),
        (
            WAIT_ON_WORKER,
            Default::Dword(u32::from(d.wait_on == WaitOn::Worker)),
        ),
        (NPI_VERSION, Default::Dword(u32::from(d.npi_version))),
        (LISTEN_ADDRESS, Default::Text(DEFAULT_LISTEN_ADDRESS)),
        (
            LISTEN_PORT,
            Default::Dword(u32::from(ListenParams::DEFAULT_PORT)),
        ),
    ]
}

/// A short registry string (an IP literal), held without allocating: at most
/// [`ShortText::CAPACITY`] bytes of ASCII.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortText {
    bytes: [u8; ShortText::CAPACITY],
    len: usize,
}

impl ShortText {
    /// The longest text kept (the longest IPv6 literal is 45 characters).
    pub const CAPACITY: usize = 64;

    /// `units` (UTF-16, up to the first NUL) as text; `None` if longer than
    /// [`ShortText::CAPACITY`] or not ASCII (no IP literal is).
    pub fn from_utf16(units: &[u16]) -> Option<ShortText> {
        let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        let units = &units[..end];
        let mut text = ShortText {
            bytes: [0; ShortText::CAPACITY],
            len: units.len(),
        };
        let slots = text.bytes.get_mut(..units.len())?;
        for (slot, &unit) in slots.iter_mut().zip(units) {
            *slot = u8::try_from(unit).ok().filter(u8::is_ascii)?;
        }
        Some(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// The values read from the `Parameters` key; `None` = absent or not of the value's type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawParameters {
    /// [`WAIT_TIMEOUT_MS`].
    pub wait_timeout_ms: Option<u32>,
    /// [`WAIT_ON_WORKER`].
    pub wait_on_worker: Option<u32>,
    /// [`NPI_VERSION`].
    pub npi_version: Option<u32>,
    /// [`LISTEN_ADDRESS`].
    pub listen_address: Option<ShortText>,
    /// [`LISTEN_PORT`].
    pub listen_port: Option<u32>,
}

impl RawParameters {
    /// Stores the `REG_DWORD` value of `name` (one of [`VALUE_NAMES`]; others are ignored).
    pub fn set(&mut self, name: &str, value: Option<u32>) {
        match name {
            WAIT_TIMEOUT_MS => self.wait_timeout_ms = value,
            WAIT_ON_WORKER => self.wait_on_worker = value,
            NPI_VERSION => self.npi_version = value,
            LISTEN_PORT => self.listen_port = value,
            _ => {}
        }
    }

    /// Stores the `REG_SZ` value of `name` ([`LISTEN_ADDRESS`]; others are ignored).
    pub fn set_text(&mut self, name: &str, value: Option<ShortText>) {
        if name == LISTEN_ADDRESS {
            self.listen_address = value;
        }
    }

    /// The policy: absent or invalid values take the defaults ([`Policy::from_config`]).
    pub fn policy(&self) -> Policy {
        Policy::from_config(self.wait_timeout_ms, self.wait_on_worker, self.npi_version)
    }

    /// The listening socket ([`ListenParams::from_config`]): `None` = do not listen.
    pub fn listen(&self) -> Option<ListenParams> {
        let address = self.listen_address.as_ref().map(ShortText::as_str);
        ListenParams::from_config(address, self.listen_port)
    }
}

/// A `REG_DWORD` value from its registry type and data: anything else (another type, or
/// data that is not exactly 4 bytes) is treated as absent.
pub fn dword(kind: u32, data: &[u8]) -> Option<u32> {
    match (kind, data) {
        (REG_DWORD, &[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
        _ => None,
    }
}

/// A `REG_SZ` value from its registry type and data (UTF-16LE, NUL-terminated or not):
/// another type, odd data or text [`ShortText`] cannot hold is treated as absent.
pub fn text(kind: u32, data: &[u8]) -> Option<ShortText> {
    if kind != REG_SZ || data.len() % 2 != 0 {
        return None;
    }
    let mut units = [0u16; ShortText::CAPACITY + 1];
    let count = data.len() / 2;
    let slots = units.get_mut(..count)?;
    for (unit, bytes) in slots.iter_mut().zip(data.chunks_exact(2)) {
        *unit = u16::from_le_bytes([bytes[0], bytes[1]]);
    }
    ShortText::from_utf16(&units[..count])
}

/// The client (service) name: the last component of the service's registry path
/// (`\Registry\Machine\System\CurrentControlSet\Services\wsktrace` gives `wsktrace`). Its
/// memory is reserved fallibly.
pub fn client_name(registry_path: &[u16]) -> Result<String, AllocError> {
    let last = registry_path
        .rsplit(|&unit| unit == u16::from(b'\\'))
        .find(|component| !component.is_empty())
        .unwrap_or(&[]);
    if last.is_empty() {
        return copy_text(DEFAULT_CLIENT_NAME);
    }
    let chars = || char::decode_utf16(last.iter().copied()).map(|c| c.unwrap_or('\u{FFFD}'));
    let mut name = try_string(chars().map(char::len_utf8).sum(), "ClientName")?;
    name.extend(chars());
    Ok(name)
}

fn copy_text(text: &str) -> Result<String, AllocError> {
    let mut copy = try_string(text.len(), "ClientName")?;
    copy.push_str(text);
    Ok(copy)
}

/// Writes `text` as UTF-16 into `units`, returning the part written; `None` if it does not
/// fit (for a `UNICODE_STRING` on the stack).
pub fn utf16<'a>(text: &str, units: &'a mut [u16]) -> Option<&'a mut [u16]> {
    let mut len = 0;
    for unit in text.encode_utf16() {
        *units.get_mut(len)? = unit;
        len += 1;
    }
    Some(&mut units[..len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::WaitTimeout;

    fn wide(text: &str) -> alloc::vec::Vec<u16> {
        text.encode_utf16().collect()
    }

    #[test]
    fn client_name_is_the_last_component() {
        let name = |path: &str| client_name(&wide(path)).unwrap();
        assert_eq!(
            name(r"\Registry\Machine\System\CurrentControlSet\Services\wsktrace"),
            "wsktrace"
        );
        assert_eq!(name(r"\Services\other\"), "other");
        assert_eq!(name("\\Services\\caf\u{e9}"), "caf\u{e9}");
        assert_eq!(name(""), DEFAULT_CLIENT_NAME);
        assert_eq!(name(r"\\"), DEFAULT_CLIENT_NAME);
    }

    #[test]
    fn utf16_into_a_stack_buffer() {
        let mut units = [0u16; 8];
        assert_eq!(utf16("Port", &mut units).unwrap(), &wide("Port")[..]);
        assert!(utf16("far too long a name", &mut units).is_none());
    }

    #[test]
    fn only_short_ascii_strings_count() {
        let bytes = |text: &str| -> alloc::vec::Vec<u8> {
            text.encode_utf16().flat_map(u16::to_le_bytes).collect()
        };
        let v = text(REG_SZ, &bytes("::1\0")).unwrap();
        assert_eq!(v.as_str(), "::1");
        assert_eq!(
            text(REG_SZ, &bytes("10.0.0.1")).unwrap().as_str(),
            "10.0.0.1"
        );
        assert_eq!(text(REG_DWORD, &bytes("::1")), None);
        assert_eq!(text(REG_SZ, &[0x31]), None, "odd length");
        assert_eq!(text(REG_SZ, &bytes("caf\u{e9}")), None, "not ASCII");
        let long = "1".repeat(ShortText::CAPACITY + 1);
        assert_eq!(text(REG_SZ, &bytes(&long)), None, "too long");
        let fits = "1".repeat(ShortText::CAPACITY);
        assert_eq!(text(REG_SZ, &bytes(&fits)).unwrap().as_str(), fits);
    }

    #[test]
    fn listen_parameters() {
        let mut raw = RawParameters::default();
        assert_eq!(raw.listen(), Some(ListenParams::DEFAULT));
        raw.set_text(LISTEN_ADDRESS, ShortText::from_utf16(&wide("::")));
        raw.set(LISTEN_PORT, Some(8080));
        let listen = raw.listen().unwrap();
        assert_eq!((listen.address, listen.port), ("::".parse().unwrap(), 8080));
        raw.set(LISTEN_PORT, Some(0));
        assert_eq!(raw.listen(), None, "port 0: no listening socket");
        let default: crate::lifecycle::IpAddr = DEFAULT_LISTEN_ADDRESS.parse().unwrap();
        assert_eq!(default, ListenParams::DEFAULT_ADDRESS);
    }

    #[test]
    fn only_four_byte_dwords_count() {
        assert_eq!(dword(REG_DWORD, &[1, 0, 0, 0]), Some(1));
        assert_eq!(dword(REG_DWORD, &[0xff; 4]), Some(u32::MAX));
        assert_eq!(dword(REG_DWORD, &[1, 0, 0]), None);
        assert_eq!(dword(REG_DWORD, &[1, 0, 0, 0, 0]), None);
        assert_eq!(dword(1, &[1, 0, 0, 0]), None); // REG_SZ
    }

    #[test]
    fn absent_and_invalid_values_take_the_defaults() {
        assert_eq!(RawParameters::default().policy(), Policy::DEFAULT);
        let mut raw = RawParameters::default();
        raw.set(WAIT_ON_WORKER, Some(5));
        raw.set(NPI_VERSION, Some(0x0000_0042));
        raw.set("Unknown", Some(1));
        assert_eq!(raw.policy(), Policy::DEFAULT);

        // On the DriverEntry thread an infinite wait is cut to the maximum.
        let mut raw = RawParameters::default();
        raw.set(WAIT_ON_WORKER, Some(0));
        let policy = raw.policy();
        assert_eq!(policy.wait_on, WaitOn::DriverEntryThread);
        assert_eq!(
            policy.wait_timeout,
            WaitTimeout::Millis(Policy::MAX_DRIVER_ENTRY_WAIT_MS)
        );

        let mut raw = RawParameters::default();
        raw.set(WAIT_TIMEOUT_MS, Some(0));
        raw.set(NPI_VERSION, Some(0x0102));
        let policy = raw.policy();
        assert_eq!(policy.wait_timeout, WaitTimeout::NoWait);
        assert_eq!(policy.npi_version, 0x0102);
    }

    #[test]
    fn defaults_are_what_an_absent_value_means() {
        let mut raw = RawParameters::default();
        for (name, value) in default_values() {
            match value {
                Default::Dword(v) => raw.set(name, Some(v)),
                Default::Text(t) => raw.set_text(name, ShortText::from_utf16(&wide(t))),
            }
        }
        assert_eq!(raw.policy(), Policy::DEFAULT);
        assert_eq!(raw.listen(), Some(ListenParams::DEFAULT));
        assert_eq!(default_values()[0].1, Default::Dword(0xFFFF_FFFF));
        let names: alloc::vec::Vec<&str> = default_values().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, VALUE_NAMES);
    }
}
