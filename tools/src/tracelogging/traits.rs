//! Provider traits (extended data item 12, `EVENT_HEADER_EXT_TYPE_PROV_TRAITS`).
//!
//! ```text
//! ProviderTraits = Size: u16 (whole item, including Size)
//!                  Name: UTF-8, NUL-terminated (the provider name)
//!                  Traits: Trait... (until Size)
//! Trait          = Size: u16 (whole trait, including Size and Type)
//!                  Type: u8 (1 = provider group: 16-byte GUID follows)
//!                  Data: [u8; Size - 3]
//! ```

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::error::{Error, Result};
use super::value::hex_bytes;
use crate::etl::Guid;

/// `EtwProviderTraitTypeGroup`: the data is the provider group GUID.
pub const TRAIT_TYPE_GROUP: u8 = 1;

/// Parsed provider traits, borrowing from the item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderTraits<'a> {
    /// Provider name.
    pub name: &'a str,
    /// Trait entries in order.
    pub traits: Vec<ProviderTrait<'a>>,
}

/// One provider trait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderTrait<'a> {
    /// Trait type (1 = group GUID).
    pub trait_type: u8,
    /// Trait data (after size and type).
    pub data: &'a [u8],
}

impl ProviderTrait<'_> {
    /// The group GUID, for a type-1 trait with 16 bytes of data.
    pub fn group_guid(&self) -> Option<Guid> {
        if self.trait_type != TRAIT_TYPE_GROUP {
            return None;
        }
        let b: [u8; 16] = self.data.try_into().ok()?;
        Some(Guid::from_bytes_le(b))
    }
}

/// `{"type": 1, "group_guid": "..."}`, or `{"type": n, "data": "0x..."}` for other types.
impl Serialize for ProviderTrait<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", &self.trait_type)?;
        match self.group_guid() {
            Some(g) => m.serialize_entry("group_guid", &g)?,
            None => m.serialize_entry("data", &hex_bytes(self.data))?,
        }
        m.end()
    }
}

impl<'a> ProviderTraits<'a> {
    /// Parses the whole extended data item. Bytes after the declared size are ignored.
    pub fn parse(item: &'a [u8]) -> Result<ProviderTraits<'a>> {
        let bad = |offset, what| Error::Traits { offset, what };
        let size = item.get(..2).ok_or(bad(0, "no u16 size"))?;
        let size = usize::from(u16::from_le_bytes([size[0], size[1]]));
        if size > item.len() || size < 3 {
            return Err(bad(0, "size does not fit the item"));
        }
        let item = &item[..size];
        let name_len = item[2..]
            .iter()
            .position(|&b| b == 0)
            .ok_or(bad(2, "unterminated provider name"))?;
        let name = core::str::from_utf8(&item[2..2 + name_len])
            .map_err(|_| bad(2, "provider name is not UTF-8"))?;
        let mut pos = 2 + name_len + 1;
        let mut traits = Vec::new();
        while pos < size {
            let head = item
                .get(pos..pos + 3)
                .ok_or(bad(pos, "truncated trait header"))?;
            let len = usize::from(u16::from_le_bytes([head[0], head[1]]));
            if len < 3 || pos + len > size {
                return Err(bad(pos, "trait size does not fit"));
            }
            traits.push(ProviderTrait {
                trait_type: head[2],
                data: &item[pos + 3..pos + len],
            });
            pos += len;
        }
        Ok(ProviderTraits { name, traits })
    }

    /// The provider group GUID, if a group trait is present.
    pub fn group_guid(&self) -> Option<Guid> {
        self.traits.iter().find_map(ProviderTrait::group_guid)
    }

    /// Encodes the traits as the provider metadata `tracelogging` writes (and ETW stores
    /// as item 12).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let unencodable = |why| Error::Unencodable {
            what: format!("provider traits of {:?}", self.name),
            why,
        };
        if self.name.as_bytes().contains(&0) {
            return Err(unencodable("name contains NUL"));
        }
        let mut out = vec![0, 0];
        out.extend_from_slice(self.name.as_bytes());
        out.push(0);
        for t in &self.traits {
            let len = u16::try_from(t.data.len() + 3)
                .map_err(|_| unencodable("trait over 65535 bytes"))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.push(t.trait_type);
            out.extend_from_slice(t.data);
        }
        let len = u16::try_from(out.len()).map_err(|_| unencodable("traits over 65535 bytes"))?;
        out[..2].copy_from_slice(&len.to_le_bytes());
        Ok(out)
    }
}

/// Provider traits bytes for `name`, with a group trait when `group` is given.
pub fn provider_traits_bytes(name: &str, group: Option<Guid>) -> Result<Vec<u8>> {
    let g = group.map(Guid::to_bytes_le);
    let traits = match &g {
        Some(b) => vec![ProviderTrait {
            trait_type: TRAIT_TYPE_GROUP,
            data: b,
        }],
        None => Vec::new(),
    };
    ProviderTraits { name, traits }.to_bytes()
}
