//! `NTSTATUS` values used by the WSK registration functions.
//!
//! Only the few codes the WSK registration documentation names (and a handful of generic
//! failures the simulator and the kernel glue need) are given names; every other value is
//! still representable.

use core::fmt;

/// An `NTSTATUS` (`LONG` in the WDK). Severity is in the top two bits: values with the top
/// bit set are errors.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NtStatus(pub i32);

impl NtStatus {
    /// `STATUS_SUCCESS`.
    pub const SUCCESS: NtStatus = NtStatus(0);
    /// `STATUS_UNSUCCESSFUL`.
    pub const UNSUCCESSFUL: NtStatus = NtStatus(0xC000_0001_u32 as i32);
    /// `STATUS_INVALID_PARAMETER`.
    pub const INVALID_PARAMETER: NtStatus = NtStatus(0xC000_000D_u32 as i32);
    /// `STATUS_INSUFFICIENT_RESOURCES`.
    pub const INSUFFICIENT_RESOURCES: NtStatus = NtStatus(0xC000_009A_u32 as i32);
    /// `STATUS_DEVICE_NOT_READY`: the WSK subsystem was not ready within the wait, or
    /// `WskDeregister` cancelled the wait.
    pub const DEVICE_NOT_READY: NtStatus = NtStatus(0xC000_00A3_u32 as i32);
    /// `STATUS_NOINTERFACE`: the requested WSK NPI version is not supported.
    pub const NOINTERFACE: NtStatus = NtStatus(0xC000_02B9_u32 as i32);
    /// `STATUS_INVALID_DEVICE_STATE`: a call made in a state that does not allow it (used by
    /// the simulator for a capture after deregistration began, or a double release).
    pub const INVALID_DEVICE_STATE: NtStatus = NtStatus(0xC000_0184_u32 as i32);
    /// `STATUS_CANCELLED`: an IRP cancelled (a pending `WskAccept` when its listening socket
    /// is closed).
    pub const CANCELLED: NtStatus = NtStatus(0xC000_0120_u32 as i32);
    /// `STATUS_NOT_SUPPORTED`: a dispatch function the provider does not implement.
    pub const NOT_SUPPORTED: NtStatus = NtStatus(0xC000_00BB_u32 as i32);
    /// `STATUS_CONNECTION_RESET`: the remote end reset a connection (an accept can fail so).
    pub const CONNECTION_RESET: NtStatus = NtStatus(0xC000_020D_u32 as i32);

    /// `NT_SUCCESS(status)`: success and informational codes.
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }

    /// The value as the unsigned 32-bit number ETW records (`TlgInUINT32` + `TlgOutNTSTATUS`).
    pub const fn to_u32(self) -> u32 {
        self.0 as u32
    }

    /// The status whose bits are `bits`.
    pub const fn from_u32(bits: u32) -> NtStatus {
        NtStatus(bits as i32)
    }

    /// The `STATUS_*` name, for the codes named here.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::SUCCESS => "STATUS_SUCCESS",
            Self::UNSUCCESSFUL => "STATUS_UNSUCCESSFUL",
            Self::INVALID_PARAMETER => "STATUS_INVALID_PARAMETER",
            Self::INSUFFICIENT_RESOURCES => "STATUS_INSUFFICIENT_RESOURCES",
            Self::DEVICE_NOT_READY => "STATUS_DEVICE_NOT_READY",
            Self::NOINTERFACE => "STATUS_NOINTERFACE",
            Self::INVALID_DEVICE_STATE => "STATUS_INVALID_DEVICE_STATE",
            Self::CANCELLED => "STATUS_CANCELLED",
            Self::NOT_SUPPORTED => "STATUS_NOT_SUPPORTED",
            Self::CONNECTION_RESET => "STATUS_CONNECTION_RESET",
            _ => return None,
        })
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "NtStatus({:#010x})", self.to_u32()),
        }
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#010x})", self.to_u32()),
            None => write!(f, "{:#010x}", self.to_u32()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_values() {
        assert_eq!(NtStatus::NOINTERFACE.to_u32(), 0xC000_02B9);
        assert_eq!(NtStatus::DEVICE_NOT_READY.to_u32(), 0xC000_00A3);
        assert!(NtStatus::SUCCESS.is_success());
        assert!(!NtStatus::NOINTERFACE.is_success());
        assert_eq!(NtStatus::from_u32(0xC000_00A3), NtStatus::DEVICE_NOT_READY);
        assert_eq!(
            alloc::format!("{:?}", NtStatus(0x103)),
            "NtStatus(0x00000103)"
        );
    }
}
