//! TDH in-types and out-types: the vocabulary every layout source shares.
//!
//! The values are those of `TDH_IN_TYPE` and `TDH_OUT_TYPE` in `tdh.h` (the enumerations'
//! order, with the WBEM in-types starting at 300 and the last two out-types at 300). A
//! `TRACE_EVENT_INFO` carries them as numbers, an instrumentation manifest by the names of
//! the Windows SDK's `winmeta.xml` (`win:UInt32`, `xs:hexBinary`, ...), and the MOF tables
//! of [`super::mof`] choose them from each property's documented qualifiers. Like the
//! TraceLogging types, they are newtypes over the raw number, so that any value found in a
//! file can be represented and an unknown one reported.

use core::fmt;

use crate::tracelogging::PointerSize;

/// How a property's value is encoded in the payload (`TDH_IN_TYPE`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct TdhInType(pub u16);

/// How a property's value is meant to be shown (`TDH_OUT_TYPE`); 0 means the in-type's
/// default.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct TdhOutType(pub u16);

/// `(value, constant name, manifest name)`; the manifest name is empty for types a manifest
/// cannot name.
type Names = [(u16, &'static str, &'static str)];

const IN_TYPES: &Names = &[
    (0, "NULL", ""),
    (1, "UNICODESTRING", "win:UnicodeString"),
    (2, "ANSISTRING", "win:AnsiString"),
    (3, "INT8", "win:Int8"),
    (4, "UINT8", "win:UInt8"),
    (5, "INT16", "win:Int16"),
    (6, "UINT16", "win:UInt16"),
    (7, "INT32", "win:Int32"),
    (8, "UINT32", "win:UInt32"),
    (9, "INT64", "win:Int64"),
    (10, "UINT64", "win:UInt64"),
    (11, "FLOAT", "win:Float"),
    (12, "DOUBLE", "win:Double"),
    (13, "BOOLEAN", "win:Boolean"),
    (14, "BINARY", "win:Binary"),
    (15, "GUID", "win:GUID"),
    (16, "POINTER", "win:Pointer"),
    (17, "FILETIME", "win:FILETIME"),
    (18, "SYSTEMTIME", "win:SYSTEMTIME"),
    (19, "SID", "win:SID"),
    (20, "HEXINT32", "win:HexInt32"),
    (21, "HEXINT64", "win:HexInt64"),
    (22, "MANIFEST_COUNTEDSTRING", ""),
    (23, "MANIFEST_COUNTEDANSISTRING", ""),
    (24, "RESERVED24", ""),
    (25, "MANIFEST_COUNTEDBINARY", ""),
    (300, "COUNTEDSTRING", ""),
    (301, "COUNTEDANSISTRING", ""),
    (302, "REVERSEDCOUNTEDSTRING", ""),
    (303, "REVERSEDCOUNTEDANSISTRING", ""),
    (304, "NONNULLTERMINATEDSTRING", ""),
    (305, "NONNULLTERMINATEDANSISTRING", ""),
    (306, "UNICODECHAR", ""),
    (307, "ANSICHAR", ""),
    (308, "SIZET", ""),
    (309, "HEXDUMP", ""),
    (310, "WBEMSID", ""),
];

const OUT_TYPES: &Names = &[
    (0, "NULL", ""),
    (1, "STRING", "xs:string"),
    (2, "DATETIME", "xs:dateTime"),
    (3, "BYTE", "xs:byte"),
    (4, "UNSIGNEDBYTE", "xs:unsignedByte"),
    (5, "SHORT", "xs:short"),
    (6, "UNSIGNEDSHORT", "xs:unsignedShort"),
    (7, "INT", "xs:int"),
    (8, "UNSIGNEDINT", "xs:unsignedInt"),
    (9, "LONG", "xs:long"),
    (10, "UNSIGNEDLONG", "xs:unsignedLong"),
    (11, "FLOAT", "xs:float"),
    (12, "DOUBLE", "xs:double"),
    (13, "BOOLEAN", "xs:boolean"),
    (14, "GUID", "xs:GUID"),
    (15, "HEXBINARY", "xs:hexBinary"),
    (16, "HEXINT8", "win:HexInt8"),
    (17, "HEXINT16", "win:HexInt16"),
    (18, "HEXINT32", "win:HexInt32"),
    (19, "HEXINT64", "win:HexInt64"),
    (20, "PID", "win:PID"),
    (21, "TID", "win:TID"),
    (22, "PORT", "win:Port"),
    (23, "IPV4", "win:IPv4"),
    (24, "IPV6", "win:IPv6"),
    (25, "SOCKETADDRESS", "win:SocketAddress"),
    (26, "CIMDATETIME", "win:CIMDateTime"),
    (27, "ETWTIME", "win:ETWTIME"),
    (28, "XML", "win:Xml"),
    (29, "ERRORCODE", "win:ErrorCode"),
    (30, "WIN32ERROR", "win:Win32Error"),
    (31, "NTSTATUS", "win:NTSTATUS"),
    (32, "HRESULT", "win:HResult"),
    (
        33,
        "CULTURE_INSENSITIVE_DATETIME",
        "win:DateTimeCultureInsensitive",
    ),
    (34, "JSON", "win:Json"),
    (35, "UTF8", "win:Utf8"),
    (36, "PKCS7_WITH_TYPE_INFO", "win:Pkcs7WithTypeInfo"),
    (37, "CODE_POINTER", "win:CodePointer"),
    (38, "DATETIME_UTC", "win:DateTimeUtc"),
    (300, "REDUCEDSTRING", ""),
    (301, "NOPRINT", ""),
];

fn name_of(table: &Names, v: u16) -> Option<&'static str> {
    table.iter().find(|e| e.0 == v).map(|e| e.1)
}

/// By manifest name; the prefix before `:` is not compared (manifests bind `win:` and `xs:` to
/// their namespaces under other prefixes too) and the rest compares case-insensitively (the
/// documentation itself writes `xs:datetime` and `xs:dateTime`).
fn by_manifest_name(table: &Names, name: &str) -> Option<u16> {
    let local = |n: &'_ str| -> usize { n.rfind(':').map_or(0, |i| i + 1) };
    let want = &name[local(name)..];
    table
        .iter()
        .find(|e| !e.2.is_empty() && e.2[local(e.2)..].eq_ignore_ascii_case(want))
        .map(|e| e.0)
}

#[allow(missing_docs)]
impl TdhInType {
    pub const NULL: TdhInType = TdhInType(0);
    pub const UNICODESTRING: TdhInType = TdhInType(1);
    pub const ANSISTRING: TdhInType = TdhInType(2);
    pub const INT8: TdhInType = TdhInType(3);
    pub const UINT8: TdhInType = TdhInType(4);
    pub const INT16: TdhInType = TdhInType(5);
    pub const UINT16: TdhInType = TdhInType(6);
    pub const INT32: TdhInType = TdhInType(7);
    pub const UINT32: TdhInType = TdhInType(8);
    pub const INT64: TdhInType = TdhInType(9);
    pub const UINT64: TdhInType = TdhInType(10);
    pub const FLOAT: TdhInType = TdhInType(11);
    pub const DOUBLE: TdhInType = TdhInType(12);
    pub const BOOLEAN: TdhInType = TdhInType(13);
    pub const BINARY: TdhInType = TdhInType(14);
    pub const GUID: TdhInType = TdhInType(15);
    pub const POINTER: TdhInType = TdhInType(16);
    pub const FILETIME: TdhInType = TdhInType(17);
    pub const SYSTEMTIME: TdhInType = TdhInType(18);
    pub const SID: TdhInType = TdhInType(19);
    pub const HEXINT32: TdhInType = TdhInType(20);
    pub const HEXINT64: TdhInType = TdhInType(21);
    pub const MANIFEST_COUNTEDSTRING: TdhInType = TdhInType(22);
    pub const MANIFEST_COUNTEDANSISTRING: TdhInType = TdhInType(23);
    pub const MANIFEST_COUNTEDBINARY: TdhInType = TdhInType(25);
    pub const COUNTEDSTRING: TdhInType = TdhInType(300);
    pub const COUNTEDANSISTRING: TdhInType = TdhInType(301);
    pub const REVERSEDCOUNTEDSTRING: TdhInType = TdhInType(302);
    pub const REVERSEDCOUNTEDANSISTRING: TdhInType = TdhInType(303);
    pub const NONNULLTERMINATEDSTRING: TdhInType = TdhInType(304);
    pub const NONNULLTERMINATEDANSISTRING: TdhInType = TdhInType(305);
    pub const UNICODECHAR: TdhInType = TdhInType(306);
    pub const ANSICHAR: TdhInType = TdhInType(307);
    pub const SIZET: TdhInType = TdhInType(308);
    pub const HEXDUMP: TdhInType = TdhInType(309);
    pub const WBEMSID: TdhInType = TdhInType(310);
}

impl TdhInType {
    /// The `TDH_INTYPE_` constant's name without that prefix, `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        name_of(IN_TYPES, self.0)
    }

    /// The type a manifest's `inType` names (`win:UInt32`), if it is one of `winmeta.xml`'s.
    pub fn from_manifest_name(name: &str) -> Option<TdhInType> {
        by_manifest_name(IN_TYPES, name).map(TdhInType)
    }

    /// The `winmeta.xml` name, for the types a manifest can name.
    pub fn manifest_name(self) -> Option<&'static str> {
        IN_TYPES
            .iter()
            .find(|e| e.0 == self.0 && !e.2.is_empty())
            .map(|e| e.2)
    }

    /// True for the types the decoder knows (everything but `NULL` and `RESERVED24`).
    pub fn is_known(self) -> bool {
        self.0 != 0 && self.0 != 24 && self.name().is_some()
    }

    /// True for the integer types a count or a length can be read from, and a map applies to.
    pub fn is_integer(self) -> bool {
        matches!(self.0, 3..=10 | 20 | 21 | 16 | 308)
    }

    /// True for signed integers.
    pub fn is_signed(self) -> bool {
        matches!(self.0, 3 | 5 | 7 | 9)
    }

    /// The encoded size of one value when it is fixed (pointers by `pointer_size`).
    pub fn fixed_size(self, pointer_size: PointerSize) -> Option<usize> {
        Some(match self.0 {
            3 | 4 | 307 => 1,
            5 | 6 | 306 => 2,
            7 | 8 | 11 | 13 | 20 => 4,
            9 | 10 | 12 | 17 | 21 => 8,
            15 | 18 => 16,
            16 | 308 => pointer_size.bytes(),
            _ => return None,
        })
    }

    /// True for the string and binary types whose size a length attribute gives.
    pub fn takes_length(self) -> bool {
        matches!(self.0, 1 | 2 | 14)
    }
}

#[allow(missing_docs)]
impl TdhOutType {
    pub const NULL: TdhOutType = TdhOutType(0);
    pub const STRING: TdhOutType = TdhOutType(1);
    pub const DATETIME: TdhOutType = TdhOutType(2);
    pub const BOOLEAN: TdhOutType = TdhOutType(13);
    pub const GUID: TdhOutType = TdhOutType(14);
    pub const HEXBINARY: TdhOutType = TdhOutType(15);
    pub const HEXINT8: TdhOutType = TdhOutType(16);
    pub const HEXINT16: TdhOutType = TdhOutType(17);
    pub const HEXINT32: TdhOutType = TdhOutType(18);
    pub const HEXINT64: TdhOutType = TdhOutType(19);
    pub const PID: TdhOutType = TdhOutType(20);
    pub const TID: TdhOutType = TdhOutType(21);
    pub const PORT: TdhOutType = TdhOutType(22);
    pub const IPV4: TdhOutType = TdhOutType(23);
    pub const IPV6: TdhOutType = TdhOutType(24);
    pub const SOCKETADDRESS: TdhOutType = TdhOutType(25);
    pub const ETWTIME: TdhOutType = TdhOutType(27);
    pub const XML: TdhOutType = TdhOutType(28);
    pub const ERRORCODE: TdhOutType = TdhOutType(29);
    pub const WIN32ERROR: TdhOutType = TdhOutType(30);
    pub const NTSTATUS: TdhOutType = TdhOutType(31);
    pub const HRESULT: TdhOutType = TdhOutType(32);
    pub const JSON: TdhOutType = TdhOutType(34);
    pub const UTF8: TdhOutType = TdhOutType(35);
    pub const CODE_POINTER: TdhOutType = TdhOutType(37);
    pub const NOPRINT: TdhOutType = TdhOutType(301);
}

impl TdhOutType {
    /// The `TDH_OUTTYPE_` constant's name without that prefix, `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        name_of(OUT_TYPES, self.0)
    }

    /// The type a manifest's `outType` names (`win:HexInt32`), if it is one of `winmeta.xml`'s.
    pub fn from_manifest_name(name: &str) -> Option<TdhOutType> {
        by_manifest_name(OUT_TYPES, name).map(TdhOutType)
    }

    /// The `winmeta.xml` name, for the types a manifest can name.
    pub fn manifest_name(self) -> Option<&'static str> {
        OUT_TYPES
            .iter()
            .find(|e| e.0 == self.0 && !e.2.is_empty())
            .map(|e| e.2)
    }

    /// True for the out-types that show an integer in hexadecimal.
    pub fn is_hex(self) -> bool {
        matches!(self.0, 16..=19 | 29 | 37)
    }
}

impl fmt::Debug for TdhInType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "TDH_INTYPE_{n}"),
            None => write!(f, "TdhInType({})", self.0),
        }
    }
}

impl fmt::Debug for TdhOutType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "TDH_OUTTYPE_{n}"),
            None => write!(f, "TdhOutType({})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert_eq!(TdhInType::WBEMSID.name(), Some("WBEMSID"));
        assert_eq!(
            TdhInType::from_manifest_name("win:UInt32"),
            Some(TdhInType::UINT32)
        );
        // Another prefix and another case name the same type.
        assert_eq!(
            TdhOutType::from_manifest_name("xs:datetime"),
            Some(TdhOutType::DATETIME)
        );
        assert_eq!(
            TdhOutType::from_manifest_name("w:hexint32"),
            Some(TdhOutType::HEXINT32)
        );
        assert_eq!(TdhInType::from_manifest_name("win:Nope"), None);
        assert_eq!(TdhInType::SIZET.manifest_name(), None);
        assert_eq!(format!("{:?}", TdhInType(999)), "TdhInType(999)");
        assert!(!TdhInType(24).is_known());
        assert!(TdhInType::POINTER.is_integer());
        assert!(TdhOutType::HEXINT64.is_hex());
        for (v, _, m) in IN_TYPES {
            if !m.is_empty() {
                assert_eq!(TdhInType::from_manifest_name(m), Some(TdhInType(*v)));
            }
        }
        for (v, _, m) in OUT_TYPES {
            if !m.is_empty() {
                assert_eq!(TdhOutType::from_manifest_name(m), Some(TdhOutType(*v)));
            }
        }
    }
}
