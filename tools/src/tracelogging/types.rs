//! The small value types of TraceLogging metadata: in-types, out-types, GUIDs, pointer size.
//!
//! [`InType`] and [`OutType`] are newtypes over the raw byte with associated constants (the
//! style of Microsoft's `tracelogging` crate), so that every byte found in a file can be
//! represented and an unknown one reported instead of causing a panic.

use core::fmt;

/// The encoding of a field's value in the payload (`TlgIn_t` in `TraceLoggingProvider.h`):
/// the low 5 bits of the field's in-type byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct InType(pub u8);

#[allow(non_upper_case_globals)]
impl InType {
    /// `TlgInNULL`: invalid.
    pub const Invalid: InType = InType(0);
    /// `TlgInUNICODESTRING`: NUL-terminated UTF-16LE string.
    pub const CStr16: InType = InType(1);
    /// `TlgInANSISTRING`: NUL-terminated 8-bit string (CP1252 unless the out-type says UTF-8).
    pub const CStr8: InType = InType(2);
    /// `TlgInINT8`.
    pub const I8: InType = InType(3);
    /// `TlgInUINT8`.
    pub const U8: InType = InType(4);
    /// `TlgInINT16`.
    pub const I16: InType = InType(5);
    /// `TlgInUINT16`.
    pub const U16: InType = InType(6);
    /// `TlgInINT32`.
    pub const I32: InType = InType(7);
    /// `TlgInUINT32`.
    pub const U32: InType = InType(8);
    /// `TlgInINT64`.
    pub const I64: InType = InType(9);
    /// `TlgInUINT64`.
    pub const U64: InType = InType(10);
    /// `TlgInFLOAT`: 32-bit IEEE float.
    pub const F32: InType = InType(11);
    /// `TlgInDOUBLE`: 64-bit IEEE float.
    pub const F64: InType = InType(12);
    /// `TlgInBOOL32`: 32-bit Boolean.
    pub const Bool32: InType = InType(13);
    /// `TlgInBINARY`: `u16` byte count, then the bytes.
    pub const Binary: InType = InType(14);
    /// `TlgInGUID`: 16 bytes, Windows (little-endian fields) byte order.
    pub const Guid: InType = InType(15);
    /// `_TlgInPOINTER` (TDH `POINTER`): a hex integer of the event's pointer size.
    pub const HexSize: InType = InType(16);
    /// `TlgInFILETIME`: 64-bit count of 100 ns intervals since 1601-01-01 UTC.
    pub const FileTime: InType = InType(17);
    /// `TlgInSYSTEMTIME`: eight `u16` (year, month, day-of-week, day, hour, minute, second, ms).
    pub const SystemTime: InType = InType(18);
    /// `TlgInSID`: a security identifier, `8 + 4 * sub_authority_count` bytes.
    pub const Sid: InType = InType(19);
    /// `TlgInHEXINT32`: 32-bit integer shown as hex.
    pub const Hex32: InType = InType(20);
    /// `TlgInHEXINT64`: 64-bit integer shown as hex.
    pub const Hex64: InType = InType(21);
    /// `TlgInCOUNTEDSTRING`: `u16` byte count, then UTF-16LE.
    pub const Str16: InType = InType(22);
    /// `TlgInCOUNTEDANSISTRING`: `u16` byte count, then 8-bit characters.
    pub const Str8: InType = InType(23);
    /// `_TlgInSTRUCT`: no data of its own; the out-type slot holds the number of member
    /// fields that follow.
    pub const Struct: InType = InType(24);
    /// `TlgInCOUNTEDBINARY`: like [`InType::Binary`], and allowed in arrays.
    pub const BinaryC: InType = InType(25);

    /// Mask for the type part of an in-type byte.
    pub const TYPE_MASK: u8 = 0x1F;
    /// Mask for the count/custom flags of an in-type byte.
    pub const FLAG_MASK: u8 = 0x60;
    /// Flag: metadata holds a constant element count (`u16`) after the tags.
    pub const CONSTANT_COUNT_FLAG: u8 = 0x20;
    /// Flag: payload holds a `u16` element count before the elements.
    pub const VARIABLE_COUNT_FLAG: u8 = 0x40;
    /// Flag value: custom-serialized field (metadata holds `u16` schema size + schema bytes,
    /// payload holds `u16` data size + data).
    pub const CUSTOM_FLAG: u8 = 0x60;
    /// Chain bit: an out-type byte follows.
    pub const CHAIN_FLAG: u8 = 0x80;

    /// The constant's name as in this crate, or `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 26] = [
            "Invalid",
            "CStr16",
            "CStr8",
            "I8",
            "U8",
            "I16",
            "U16",
            "I32",
            "U32",
            "I64",
            "U64",
            "F32",
            "F64",
            "Bool32",
            "Binary",
            "Guid",
            "HexSize",
            "FileTime",
            "SystemTime",
            "Sid",
            "Hex32",
            "Hex64",
            "Str16",
            "Str8",
            "Struct",
            "BinaryC",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }

    /// True for the types this decoder knows (1 ..= 25).
    pub fn is_known(self) -> bool {
        (1..=25).contains(&self.0)
    }

    /// The encoded size of one value when it is fixed (for `HexSize`, by `pointer_size`).
    pub fn fixed_size(self, pointer_size: PointerSize) -> Option<usize> {
        Some(match self {
            InType::I8 | InType::U8 => 1,
            InType::I16 | InType::U16 => 2,
            InType::I32 | InType::U32 | InType::F32 | InType::Bool32 | InType::Hex32 => 4,
            InType::I64 | InType::U64 | InType::F64 | InType::FileTime | InType::Hex64 => 8,
            InType::Guid | InType::SystemTime => 16,
            InType::HexSize => pointer_size.bytes(),
            _ => return None,
        })
    }
}

impl fmt::Debug for InType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "InType::{n}"),
            None => write!(f, "InType({})", self.0),
        }
    }
}

/// A formatting hint for a field (`TlgOut_t`): the low 7 bits of the out-type byte.
/// Decoders fall back to the in-type's default for combinations they do not support.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct OutType(pub u8);

#[allow(non_upper_case_globals)]
impl OutType {
    /// `TlgOutNULL`: the in-type's default format.
    pub const Default: OutType = OutType(0);
    /// `TlgOutNOPRINT`.
    pub const NoPrint: OutType = OutType(1);
    /// `TlgOutSTRING`: a character (with `I8`/`U8`/`U16`).
    pub const String: OutType = OutType(2);
    /// `TlgOutBOOLEAN` (with `U8`).
    pub const Boolean: OutType = OutType(3);
    /// `TlgOutHEX`.
    pub const Hex: OutType = OutType(4);
    /// `TlgOutPID`.
    pub const Pid: OutType = OutType(5);
    /// `TlgOutTID`.
    pub const Tid: OutType = OutType(6);
    /// `TlgOutPORT`: big-endian `u16`.
    pub const Port: OutType = OutType(7);
    /// `TlgOutIPV4` (with `U32`, network byte order in memory).
    pub const IPv4: OutType = OutType(8);
    /// `TlgOutIPV6` (with `Binary`/`BinaryC`, 16 bytes).
    pub const IPv6: OutType = OutType(9);
    /// `TlgOutSOCKETADDRESS` (with `Binary`/`BinaryC`, a `SOCKADDR`).
    pub const SocketAddress: OutType = OutType(10);
    /// `TlgOutXML`: string; 8-bit strings are UTF-8.
    pub const Xml: OutType = OutType(11);
    /// `TlgOutJSON`: string; 8-bit strings are UTF-8.
    pub const Json: OutType = OutType(12);
    /// `TlgOutWIN32ERROR`.
    pub const Win32Error: OutType = OutType(13);
    /// `TlgOutNTSTATUS`.
    pub const NtStatus: OutType = OutType(14);
    /// `TlgOutHRESULT`.
    pub const HResult: OutType = OutType(15);
    /// `TlgOutFILETIME`.
    pub const DateTime: OutType = OutType(16);
    /// `TlgOutSIGNED`.
    pub const Signed: OutType = OutType(17);
    /// `TlgOutUNSIGNED`.
    pub const Unsigned: OutType = OutType(18);
    /// `TlgOutDATETIME_CULTURE_INSENSITIVE`.
    pub const DateTimeCultureInsensitive: OutType = OutType(33);
    /// `TlgOutUTF8`: 8-bit strings are UTF-8.
    pub const Utf8: OutType = OutType(35);
    /// `TlgOutPKCS7_WITH_TYPE_INFO`.
    pub const Pkcs7WithTypeInfo: OutType = OutType(36);
    /// `TlgOutCODE_POINTER`.
    pub const CodePointer: OutType = OutType(37);
    /// `TlgOutDATETIME_UTC`.
    pub const DateTimeUtc: OutType = OutType(38);

    /// Mask for the type part of an out-type byte.
    pub const TYPE_MASK: u8 = 0x7F;
    /// Chain bit: tag bytes follow.
    pub const CHAIN_FLAG: u8 = 0x80;

    /// The constant's name as in this crate, or `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Default",
            1 => "NoPrint",
            2 => "String",
            3 => "Boolean",
            4 => "Hex",
            5 => "Pid",
            6 => "Tid",
            7 => "Port",
            8 => "IPv4",
            9 => "IPv6",
            10 => "SocketAddress",
            11 => "Xml",
            12 => "Json",
            13 => "Win32Error",
            14 => "NtStatus",
            15 => "HResult",
            16 => "DateTime",
            17 => "Signed",
            18 => "Unsigned",
            33 => "DateTimeCultureInsensitive",
            35 => "Utf8",
            36 => "Pkcs7WithTypeInfo",
            37 => "CodePointer",
            38 => "DateTimeUtc",
            _ => return None,
        })
    }
}

impl fmt::Debug for OutType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "OutType::{n}"),
            None => write!(f, "OutType({})", self.0),
        }
    }
}

/// The pointer size of the process that wrote an event (from the event header's
/// `EVENT_HEADER_FLAG_32_BIT_HEADER`/`64_BIT_HEADER` flags or the logfile header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointerSize {
    /// 32-bit.
    Four,
    /// 64-bit.
    Eight,
}

impl PointerSize {
    /// Size in bytes (4 or 8).
    pub fn bytes(self) -> usize {
        match self {
            PointerSize::Four => 4,
            PointerSize::Eight => 8,
        }
    }

    /// From a size in bytes; `None` unless 4 or 8.
    pub fn from_bytes(n: u32) -> Option<PointerSize> {
        match n {
            4 => Some(PointerSize::Four),
            8 => Some(PointerSize::Eight),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(format!("{:?}", InType::Str8), "InType::Str8");
        assert_eq!(format!("{:?}", InType(30)), "InType(30)");
        assert_eq!(format!("{:?}", OutType::NtStatus), "OutType::NtStatus");
        assert_eq!(format!("{:?}", OutType(99)), "OutType(99)");
        assert!(!InType(26).is_known());
        assert_eq!(InType::HexSize.fixed_size(PointerSize::Four), Some(4));
    }
}
