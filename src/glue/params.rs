//! The driver's configuration as it sits in the registry, without touching the registry:
//! the value names (which `inf/wsktrace_driver.inx` must use, a test checks), their
//! defaults (the INF writes the same), how a raw value is accepted, and the client name a
//! registry path gives. Validation itself is [`Policy::from_config`].

use alloc::string::String;
use alloc::vec::Vec;

use crate::lifecycle::{Policy, WaitOn};

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
/// Every value the driver reads, in the order it reads them.
pub const VALUE_NAMES: [&str; 3] = [WAIT_TIMEOUT_MS, WAIT_ON_WORKER, NPI_VERSION];

/// `REG_DWORD` (winnt.h).
pub const REG_DWORD: u32 = 4;

/// The client name used when the registry path has no last component.
pub const DEFAULT_CLIENT_NAME: &str = "wsktrace";

/// The default of each value in [`VALUE_NAMES`] (what an absent value means), as the INF
/// writes it.
pub fn default_values() -> [(&'static str, u32); 3] {
    let d = Policy::DEFAULT;
    [
        (WAIT_TIMEOUT_MS, d.wait_timeout.as_ms()),
        (WAIT_ON_WORKER, u32::from(d.wait_on == WaitOn::Worker)),
        (NPI_VERSION, u32::from(d.npi_version)),
    ]
}

/// The values read from the `Parameters` key; `None` = absent or not a 4-byte `REG_DWORD`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawParameters {
    /// [`WAIT_TIMEOUT_MS`].
    pub wait_timeout_ms: Option<u32>,
    /// [`WAIT_ON_WORKER`].
    pub wait_on_worker: Option<u32>,
    /// [`NPI_VERSION`].
    pub npi_version: Option<u32>,
}

impl RawParameters {
    /// Stores the value of `name` (one of [`VALUE_NAMES`]; others are ignored).
    pub fn set(&mut self, name: &str, value: Option<u32>) {
        match name {
            WAIT_TIMEOUT_MS => self.wait_timeout_ms = value,
            WAIT_ON_WORKER => self.wait_on_worker = value,
            NPI_VERSION => self.npi_version = value,
            _ => {}
        }
    }

    /// The policy: absent or invalid values take the defaults ([`Policy::from_config`]).
    pub fn policy(&self) -> Policy {
        Policy::from_config(self.wait_timeout_ms, self.wait_on_worker, self.npi_version)
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

/// The client (service) name: the last component of the service's registry path
/// (`\Registry\Machine\System\CurrentControlSet\Services\wsktrace` gives `wsktrace`).
pub fn client_name(registry_path: &[u16]) -> String {
    let last = registry_path
        .rsplit(|&unit| unit == u16::from(b'\\'))
        .find(|component| !component.is_empty())
        .unwrap_or(&[]);
    if last.is_empty() {
        String::from(DEFAULT_CLIENT_NAME)
    } else {
        String::from_utf16_lossy(last)
    }
}

/// `text` as UTF-16 code units (for a `UNICODE_STRING`).
pub fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::WaitTimeout;

    #[test]
    fn client_name_is_the_last_component() {
        let path = utf16(r"\Registry\Machine\System\CurrentControlSet\Services\wsktrace");
        assert_eq!(client_name(&path), "wsktrace");
        assert_eq!(client_name(&utf16(r"\Services\other\")), "other");
        assert_eq!(client_name(&utf16("")), DEFAULT_CLIENT_NAME);
        assert_eq!(client_name(&utf16(r"\\")), DEFAULT_CLIENT_NAME);
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
            raw.set(name, Some(value));
        }
        assert_eq!(raw.policy(), Policy::DEFAULT);
        assert_eq!(default_values()[0].1, 0xFFFF_FFFF);
    }
}
