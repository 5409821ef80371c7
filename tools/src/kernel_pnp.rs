//! Microsoft-Windows-Kernel-PnP `DriverInit` events: when each driver's `DriverEntry` ran
//! during a boot (event 226 at its start, 227 at its end).
//!
//! Facts from the provider's manifest (as shipped, for example, in the `dissect.etl` package:
//! `manifests/xml/{9c205a39-1250-487d-abd7-e831c6290539}.xml`):
//!
//! - provider `Microsoft-Windows-Kernel-PnP`, GUID `9c205a39-1250-487d-abd7-e831c6290539`;
//! - event 226 `DriverInitStart`: version 0, task `DriverInit` (226), opcode `win:Start` (1),
//!   level `win:Informational` (4), keywords `Performance` (0x20) | `DriverInit` (0x20000),
//!   template `BootInitStartArgs`: `DriverNameLength` (`win:UInt16`), `DriverName`
//!   (`win:UnicodeString`, `length="DriverNameLength"`);
//! - event 227 `DriverInitStop`: the same with opcode `win:Stop` (2) and template
//!   `BootInitStopArgs`, which adds `Status` (`win:UInt32`).
//!
//! The events carry no channel attribute (channel 0). A manifest `length` on a
//! `win:UnicodeString` counts UTF-16 code units; the string is written without a terminating
//! NUL, the way the kernel logs a `UNICODE_STRING` (its `Length / 2` and its buffer). Driver
//! names are object names such as `\Driver\tcpip`.

use crate::etl::format::Guid;
use crate::etl::write::Descriptor;

/// Provider name.
pub const PROVIDER_NAME: &str = "Microsoft-Windows-Kernel-PnP";
/// Provider GUID `9c205a39-1250-487d-abd7-e831c6290539`.
pub const PROVIDER_GUID: Guid = Guid::from_fields(
    0x9c20_5a39,
    0x1250,
    0x487d,
    [0xab, 0xd7, 0xe8, 0x31, 0xc6, 0x29, 0x05, 0x39],
);
/// Event id of `DriverInitStart`.
pub const DRIVER_INIT_START: u16 = 226;
/// Event id of `DriverInitStop`.
pub const DRIVER_INIT_STOP: u16 = 227;
/// Task `DriverInit`.
pub const TASK_DRIVER_INIT: u16 = 226;
/// Keyword `Performance`.
pub const KEYWORD_PERFORMANCE: u64 = 0x20;
/// Keyword `DriverInit`.
pub const KEYWORD_DRIVER_INIT: u64 = 0x2_0000;

/// One decoded `DriverInit` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriverInit {
    /// 226: the driver's initialization began.
    Start {
        /// Driver object name (`\Driver\tcpip`).
        driver: String,
    },
    /// 227: it ended with this NTSTATUS.
    Stop {
        /// Driver object name.
        driver: String,
        /// What `DriverEntry` returned.
        status: u32,
    },
}

/// Why a payload is not a valid `DriverInit` payload; offsets are within the payload.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PnpError {
    /// Not event 226 or 227.
    #[error("event {0} is not a DriverInit event")]
    NotDriverInit(u16),
    /// The payload ends before a field.
    #[error("payload truncated at offset {offset}: {what} missing")]
    Truncated {
        /// Where the missing field starts.
        offset: usize,
        /// Which field.
        what: &'static str,
    },
    /// The driver name is not valid UTF-16.
    #[error("driver name at offset 2 is not valid UTF-16")]
    BadName,
}

impl DriverInit {
    /// The event descriptor Windows logs this event with.
    pub fn descriptor(&self) -> Descriptor {
        let (id, opcode) = match self {
            DriverInit::Start { .. } => (DRIVER_INIT_START, 1),
            DriverInit::Stop { .. } => (DRIVER_INIT_STOP, 2),
        };
        Descriptor {
            id,
            version: 0,
            channel: 0,
            level: 4,
            opcode,
            task: TASK_DRIVER_INIT,
            keywords: KEYWORD_PERFORMANCE | KEYWORD_DRIVER_INIT,
        }
    }

    /// The driver name.
    pub fn driver(&self) -> &str {
        match self {
            DriverInit::Start { driver } | DriverInit::Stop { driver, .. } => driver,
        }
    }

    /// The user data, laid out as the manifest template says. A name longer than 65535 UTF-16
    /// units is cut there (the length field is a `u16`).
    pub fn encode(&self) -> Vec<u8> {
        let units: Vec<u16> = self
            .driver()
            .encode_utf16()
            .take(usize::from(u16::MAX))
            .collect();
        let mut out = Vec::with_capacity(2 + 2 * units.len() + 4);
        out.extend_from_slice(&(units.len() as u16).to_le_bytes());
        out.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        if let DriverInit::Stop { status, .. } = self {
            out.extend_from_slice(&status.to_le_bytes());
        }
        out
    }

    /// Decodes the user data of event `id` (226 or 227). Bytes after the fields are ignored
    /// (a later event version may add fields).
    pub fn decode(id: u16, payload: &[u8]) -> Result<DriverInit, PnpError> {
        if id != DRIVER_INIT_START && id != DRIVER_INIT_STOP {
            return Err(PnpError::NotDriverInit(id));
        }
        let len = payload.get(..2).ok_or(PnpError::Truncated {
            offset: 0,
            what: "DriverNameLength",
        })?;
        let units = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let name = payload.get(2..2 + 2 * units).ok_or(PnpError::Truncated {
            offset: 2,
            what: "DriverName",
        })?;
        let driver = char::decode_utf16(
            name.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]])),
        )
        .collect::<Result<String, _>>()
        .map_err(|_| PnpError::BadName)?;
        if id == DRIVER_INIT_START {
            return Ok(DriverInit::Start { driver });
        }
        let at = 2 + 2 * units;
        let status = payload.get(at..at + 4).ok_or(PnpError::Truncated {
            offset: at,
            what: "Status",
        })?;
        Ok(DriverInit::Stop {
            driver,
            status: u32::from_le_bytes([status[0], status[1], status[2], status[3]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_layout() {
        let start = DriverInit::Start {
            driver: "\\Driver\\A".into(),
        };
        #[rustfmt::skip]
        assert_eq!(start.encode(), [
            9, 0,                                   // DriverNameLength: 9 UTF-16 units
            b'\\', 0, b'D', 0, b'r', 0, b'i', 0, b'v', 0, b'e', 0, b'r', 0, b'\\', 0, b'A', 0,
        ]);
        let stop = DriverInit::Stop {
            driver: "\\Driver\\Ä".into(),
            status: 0xC000_0001,
        };
        let bytes = stop.encode();
        assert_eq!(&bytes[bytes.len() - 4..], &[1, 0, 0, 0xC0]);
        assert_eq!(DriverInit::decode(227, &bytes), Ok(stop.clone()));
        assert_eq!(DriverInit::decode(226, &start.encode()), Ok(start.clone()));
        assert_eq!(stop.descriptor().keywords, 0x20020);
        assert_eq!(start.descriptor().opcode, 1);
        assert_eq!(
            PROVIDER_GUID.to_string(),
            "9c205a39-1250-487d-abd7-e831c6290539"
        );
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert_eq!(DriverInit::decode(1, &[]), Err(PnpError::NotDriverInit(1)));
        assert!(matches!(
            DriverInit::decode(226, &[5]),
            Err(PnpError::Truncated { offset: 0, .. })
        ));
        assert!(matches!(
            DriverInit::decode(226, &[5, 0, b'a', 0]),
            Err(PnpError::Truncated { offset: 2, .. })
        ));
        assert!(matches!(
            DriverInit::decode(227, &[1, 0, b'a', 0, 0]),
            Err(PnpError::Truncated { offset: 4, .. })
        ));
        assert_eq!(
            DriverInit::decode(226, &[1, 0, 0x00, 0xD8]),
            Err(PnpError::BadName)
        );
    }
}
