//! The one GUID type of the tools: Windows' in-memory layout, so that it is read from (and
//! written to) buffers as it stands, and the registry text form for people.

use core::fmt;

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A GUID as Windows lays it out: `Data1` to `Data3` little-endian, `Data4` as bytes. Displays
/// and serializes as lower-case `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
#[derive(
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
)]
#[repr(C)]
pub struct Guid {
    /// `Data1`.
    pub data1: U32,
    /// `Data2`.
    pub data2: U16,
    /// `Data3`.
    pub data3: U16,
    /// `Data4`.
    pub data4: [u8; 8],
}

impl Guid {
    /// A GUID from its canonical parts (`data1-data2-data3-data4[0..2]-data4[2..8]`).
    pub const fn from_fields(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Self {
        Guid {
            data1: U32::new(data1),
            data2: U16::new(data2),
            data3: U16::new(data3),
            data4,
        }
    }

    /// From the 16 bytes in Windows (little-endian fields) order.
    pub fn from_bytes_le(bytes: [u8; 16]) -> Guid {
        zerocopy::transmute!(bytes)
    }

    /// The 16 bytes in Windows order.
    #[inline]
    pub fn to_bytes_le(self) -> [u8; 16] {
        zerocopy::transmute!(self)
    }

    /// True for the all-zero GUID.
    pub fn is_nil(&self) -> bool {
        self.as_bytes().iter().all(|&b| b == 0)
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, optionally in braces, any case.
    pub fn parse(s: &str) -> Option<Guid> {
        let s = s
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(s);
        let b = s.as_bytes();
        if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
            return None;
        }
        let hex: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut raw = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            raw[i] = (hi * 16 + lo) as u8;
        }
        // `raw` is in display order; the first three fields are numbers.
        let d1 = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let d2 = u16::from_be_bytes([raw[4], raw[5]]);
        let d3 = u16::from_be_bytes([raw[6], raw[7]]);
        let mut d4 = [0u8; 8];
        d4.copy_from_slice(&raw[8..16]);
        Some(Guid::from_fields(d1, d2, d3, d4))
    }
}

impl fmt::Display for Guid {
    /// Lower-case registry form without braces: `8e805eb3-6a8f-4a1e-90fa-a831d94e54a1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1.get(),
            self.data2.get(),
            self.data3.get(),
            d[0],
            d[1],
            d[2],
            d[3],
            d[4],
            d[5],
            d[6],
            d[7]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_bytes() {
        let g = Guid::parse("{8E805EB3-6A8F-4A1E-90FA-A831D94E54A1}").unwrap();
        assert_eq!(g.to_string(), "8e805eb3-6a8f-4a1e-90fa-a831d94e54a1");
        assert_eq!(Guid::parse(&g.to_string()), Some(g));
        assert_eq!(Guid::parse("8e805eb3-6a8f-4a1e-90fa-a831d94e54a"), None);
        assert_eq!(Guid::parse("8e805eb3-6a8f-4a1e-90fa-a831d94e54ag"), None);
        assert_eq!(g.to_bytes_le()[..4], [0xb3, 0x5e, 0x80, 0x8e]);
        assert_eq!(Guid::from_bytes_le(g.to_bytes_le()), g);
        assert!(Guid::default().is_nil() && !g.is_nil());
    }
}
