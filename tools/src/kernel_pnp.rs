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
//!
//! These facts are written down once, as an instrumentation manifest of the two events
//! (`kernel_pnp.man`, [`manifest`]), and decoded through the same layout decoder as every other
//! manifest event ([`crate::tdh`]): `dump` uses it as a built-in layout, `boot` through
//! [`DriverInit::decode`].

use std::sync::{Arc, LazyLock};

use crate::etl::format::Guid;
use crate::etl::write::Descriptor;
use crate::tdh::{self, DecodeErrorKind, EventKey, EventLayout, Manifest};
use crate::tracelogging::{PointerSize, Value};

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
    /// The payload does not fit the layout in another way.
    #[error("{0}")]
    Layout(String),
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

    /// Decodes the user data of event `id` (226 or 227) by the version-0 layout of
    /// [`manifest`], whatever the event's version. Bytes after the fields are ignored (a later
    /// event version may add fields). A name that is not valid UTF-16 (the decoder shows it
    /// with U+FFFD) is an error.
    pub fn decode(id: u16, payload: &[u8]) -> Result<DriverInit, PnpError> {
        let layout = layout(id).ok_or(PnpError::NotDriverInit(id))?;
        let d = tdh::decode(layout, payload, PointerSize::Eight).map_err(|e| {
            let what = match e.property.as_deref() {
                Some("DriverNameLength") => "DriverNameLength",
                Some("DriverName") => "DriverName",
                _ => "Status",
            };
            match e.kind {
                DecodeErrorKind::Truncated { .. } => PnpError::Truncated {
                    offset: e.offset,
                    what,
                },
                _ => PnpError::Layout(e.to_string()),
            }
        })?;
        let field = |name: &str| d.fields.iter().find(|f| f.name == name).map(|f| &f.value);
        let driver = match field("DriverName") {
            Some(Value::Str(s)) if !s.contains('\u{FFFD}') => s.to_string(),
            _ => return Err(PnpError::BadName),
        };
        if id == DRIVER_INIT_START {
            return Ok(DriverInit::Start { driver });
        }
        let status = field("Status").and_then(Value::as_u64).unwrap_or_default() as u32;
        Ok(DriverInit::Stop { driver, status })
    }
}

/// The two events as an instrumentation manifest (`kernel_pnp.man`), parsed once.
pub fn manifest() -> &'static Manifest {
    static MANIFEST: LazyLock<Manifest> = LazyLock::new(|| {
        tdh::parse_manifest(include_str!("kernel_pnp.man")).expect("kernel_pnp.man parses (tested)")
    });
    &MANIFEST
}

/// The layout of event `id` (version 0), if it is 226 or 227.
fn layout(id: u16) -> Option<&'static Arc<EventLayout>> {
    manifest().providers[0]
        .events
        .iter()
        .find(|e| e.id == id && e.version == 0)
        .map(|e| &e.layout)
}

/// The key [`manifest`] describes event `id` under.
pub fn event_key(id: u16) -> EventKey {
    EventKey::new(PROVIDER_GUID, id, 0)
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
    fn the_manifest_describes_both_events() {
        let m = manifest();
        assert_eq!(m.providers.len(), 1);
        let p = &m.providers[0];
        assert_eq!(p.name, PROVIDER_NAME);
        assert_eq!(p.guid, PROVIDER_GUID);
        let ids: Vec<_> = p.events.iter().map(|e| (e.id, e.version)).collect();
        assert_eq!(ids, [(DRIVER_INIT_START, 0), (DRIVER_INIT_STOP, 0)]);
        let names: Vec<_> = p
            .events
            .iter()
            .map(|e| e.layout.event_name.clone())
            .collect();
        assert_eq!(
            names,
            [
                Some("DriverInit/Start".to_owned()),
                Some("DriverInit/Stop".to_owned())
            ]
        );
        assert_eq!(event_key(227).id, 227);
        // Trailing bytes are ignored, as before.
        let mut stop = DriverInit::Stop {
            driver: "\\Driver\\A".into(),
            status: 5,
        }
        .encode();
        stop.push(0);
        assert!(DriverInit::decode(227, &stop).is_ok());
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
