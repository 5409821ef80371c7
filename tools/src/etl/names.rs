//! Provider identity of records that carry no provider name of their own.
//!
//! Kernel logger records (system, compact and perfinfo headers) carry a hook id, not a GUID.
//! We name them the way `EXPECTED.jsonl` of the shared corpus does: `Kernel:<Group>` after the
//! `EVENT_TRACE_GROUP_*` of the hook id, with the GUID of the documented MOF class of that
//! group (`EventTraceGuid`, `ProcessGuid`, `ImageLoadGuid`, …, the class GUIDs of
//! `wmicore.mof`). One group can hold events of two classes: the process group's image-load
//! events (types 10, and 2–4 under the old hook ids) belong to the `Image` class, so the same
//! GUID appears under two names, and a provider key is the pair (GUID, name).
//!
//! Classic events of the KernelTraceControl classes (written by xperf, WPR and the relogger)
//! are named after their MOF class the same way; they are OS-defined classes, not manifest
//! providers. Manifest providers are *not* named from a table: a file names them only through
//! TraceLogging provider traits or, in files merged by xperf/WPR/PerfView, through
//! KernelTraceControl `MetaData` events (type 32, a `TRACE_EVENT_INFO` per event kind, with the
//! provider's GUID and name: [`metadata_provider_name`]). Otherwise the name stays null (see
//! docs/reader.md for where EXPECTED.jsonl, which knows more manifest names, differs).

use super::format::{group, Guid, EVENT_HEADER_EXT_TYPE_PROV_TRAITS};
use zerocopy::FromBytes;

use super::record::{ClassicRecord, Record};

const fn g(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
    Guid::from_fields(d1, d2, d3, d4)
}

/// `EventTraceGuid`.
pub const EVENT_TRACE: Guid = g(
    0x68fdd900,
    0x4a3e,
    0x11d1,
    [0x84, 0xf4, 0x00, 0x00, 0xf8, 0x04, 0x64, 0xe3],
);
/// `DiskIoGuid`.
pub const DISK_IO: Guid = g(
    0x3d6fa8d4,
    0xfe05,
    0x11d0,
    [0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c],
);
/// `PageFaultGuid`.
pub const PAGE_FAULT: Guid = g(
    0x3d6fa8d3,
    0xfe05,
    0x11d0,
    [0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c],
);
/// `ProcessGuid`.
pub const PROCESS: Guid = g(
    0x3d6fa8d0,
    0xfe05,
    0x11d0,
    [0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c],
);
/// `ThreadGuid`.
pub const THREAD: Guid = g(
    0x3d6fa8d1,
    0xfe05,
    0x11d0,
    [0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c],
);
/// `FileIoGuid`.
pub const FILE_IO: Guid = g(
    0x90cbdc39,
    0x4a3e,
    0x11d1,
    [0x84, 0xf4, 0x00, 0x00, 0xf8, 0x04, 0x64, 0xe3],
);
/// `TcpIpGuid`.
pub const TCP_IP: Guid = g(
    0x9a280ac0,
    0xc8e0,
    0x11d1,
    [0x84, 0xe2, 0x00, 0xc0, 0x4f, 0xb9, 0x98, 0xa2],
);
/// `UdpIpGuid`.
pub const UDP_IP: Guid = g(
    0xbf3a50c5,
    0xa9c9,
    0x4988,
    [0xa0, 0x05, 0x2d, 0xf0, 0xb7, 0xc8, 0x0f, 0x80],
);
/// `RegistryGuid`.
pub const REGISTRY: Guid = g(
    0xae53722e,
    0xc863,
    0x11d2,
    [0x86, 0x59, 0x00, 0xc0, 0x4f, 0xa3, 0x21, 0xa1],
);
/// `EventTraceConfigGuid`.
pub const CONFIG: Guid = g(
    0x01853a65,
    0x418f,
    0x4f36,
    [0xae, 0xfc, 0xdc, 0x0f, 0x1d, 0x2f, 0xd2, 0x35],
);
/// `PerfInfoGuid`.
pub const PERF_INFO: Guid = g(
    0xce1dbfb4,
    0x137e,
    0x4da6,
    [0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c, 0xbc],
);
/// `ImageLoadGuid`.
pub const IMAGE_LOAD: Guid = g(
    0x2cb15d1d,
    0x5fc1,
    0x11d2,
    [0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18],
);
/// `StackWalkGuid`.
pub const STACK_WALK: Guid = g(
    0xdef2fe46,
    0x7bd6,
    0x4b80,
    [0xbd, 0x94, 0xf5, 0x7f, 0xe2, 0x0d, 0x0c, 0xe3],
);
/// `ALPCGuid`.
pub const ALPC: Guid = g(
    0x45d8cccd,
    0x539f,
    0x4b72,
    [0xa8, 0xb7, 0x5c, 0x68, 0x31, 0x42, 0x60, 0x9a],
);
/// `SplitIoGuid`.
pub const SPLIT_IO: Guid = g(
    0xd837ca92,
    0x12b9,
    0x44a5,
    [0xad, 0x6a, 0x3a, 0x65, 0xb3, 0x57, 0x8a, 0xa8],
);
/// `ThreadPoolGuid`.
pub const THREAD_POOL: Guid = g(
    0xc861d0e2,
    0xa2c1,
    0x4d36,
    [0x9f, 0x9c, 0x97, 0x0b, 0xab, 0x94, 0x3a, 0x12],
);
/// `PowerGuid` (`EventTraceEvent` power class).
pub const POWER: Guid = g(
    0xe43445e0,
    0x0903,
    0x48c3,
    [0xb8, 0x78, 0xff, 0x0f, 0xcc, 0xeb, 0xdd, 0x04],
);
/// `ObTraceGuid` (object manager).
pub const OBJECT: Guid = g(
    0x89497f50,
    0xeffe,
    0x4440,
    [0x8c, 0xf2, 0xce, 0x6b, 0x1c, 0xdc, 0xac, 0xb7],
);
/// `HeapGuid`.
pub const HEAP: Guid = g(
    0x222962ab,
    0x6180,
    0x4b88,
    [0xa8, 0x25, 0x34, 0x6b, 0x75, 0xf2, 0xa2, 0x4a],
);
/// `JobGuid`.
pub const JOB: Guid = g(
    0x3282fc76,
    0xfeed,
    0x498e,
    [0x8a, 0xa7, 0xe7, 0x0f, 0x45, 0x9d, 0x43, 0x0e],
);

/// KernelTraceControl `ImageID` class (xperf/WPR image identity rundown).
pub const KTC_IMAGE_ID: Guid = g(
    0xb3e675d7,
    0x2554,
    0x4f18,
    [0x83, 0x0b, 0x27, 0x62, 0x73, 0x25, 0x60, 0xde],
);
/// KernelTraceControl `MetaData` class (event metadata for relogged files).
pub const KTC_METADATA: Guid = g(
    0xbbccf6c1,
    0x6cd1,
    0x48c4,
    [0x80, 0xff, 0x83, 0x94, 0x82, 0xe3, 0x76, 0x71],
);
/// KernelTraceControl `VolumeMapping` class.
pub const KTC_VOLUME_MAPPING: Guid = g(
    0x9b79ee91,
    0xb5fd,
    0x41c0,
    [0xa2, 0x43, 0x42, 0x48, 0xe2, 0x66, 0xe9, 0xd0],
);

/// `Kernel:<Group>`: the provider name of a kernel event group (high byte of a hook id).
pub fn group_name(grp: u8) -> Option<&'static str> {
    Some(match grp {
        group::HEADER => "Kernel:EventTrace",
        group::IO => "Kernel:DiskIo",
        group::MEMORY => "Kernel:PageFault",
        group::PROCESS => "Kernel:Process",
        group::FILE => "Kernel:FileIo",
        group::THREAD => "Kernel:Thread",
        group::TCPIP => "Kernel:TcpIp",
        group::JOB => "Kernel:Job",
        group::UDPIP => "Kernel:UdpIp",
        group::REGISTRY => "Kernel:Registry",
        group::DBGPRINT => "Kernel:DbgPrint",
        group::CONFIG => "Kernel:Config",
        group::POOL => "Kernel:Pool",
        group::PERFINFO => "Kernel:PerfInfo",
        group::HEAP => "Kernel:Heap",
        group::OBJECT => "Kernel:Object",
        group::POWER => "Kernel:Power",
        group::MODBOUND => "Kernel:ModBound",
        group::IMAGE => "Kernel:Image",
        group::DPC => "Kernel:Dpc",
        group::CC => "Kernel:Cc",
        group::CRITSEC => "Kernel:CritSec",
        group::STACKWALK => "Kernel:StackWalk",
        group::UMS => "Kernel:Ums",
        group::ALPC => "Kernel:ALPC",
        group::SPLITIO => "Kernel:SplitIo",
        group::THREAD_POOL => "Kernel:ThreadPool",
        group::HYPERVISOR => "Kernel:Hypervisor",
        group::HYPERVISORX => "Kernel:HypervisorX",
        _ => return None,
    })
}

/// The MOF class GUID of a kernel hook id (group in the high byte, type in the low byte).
pub fn hook_guid(hook_id: u16) -> Option<Guid> {
    let grp = (hook_id >> 8) as u8;
    let typ = hook_id as u8;
    Some(match grp {
        group::HEADER => EVENT_TRACE,
        group::IO => DISK_IO,
        group::MEMORY => PAGE_FAULT,
        // Process group: image load is type 10 (`WMI_LOG_TYPE_PROCESS_LOAD_IMAGE`).
        group::PROCESS if typ == 10 => IMAGE_LOAD,
        group::PROCESS => PROCESS,
        group::FILE => FILE_IO,
        group::THREAD => THREAD,
        group::TCPIP => TCP_IP,
        group::JOB => JOB,
        group::UDPIP => UDP_IP,
        group::REGISTRY => REGISTRY,
        group::CONFIG => CONFIG,
        group::PERFINFO | group::DPC | group::POOL => PERF_INFO,
        group::HEAP => HEAP,
        group::OBJECT => OBJECT,
        group::POWER => POWER,
        group::IMAGE => IMAGE_LOAD,
        group::STACKWALK => STACK_WALK,
        group::ALPC => ALPC,
        group::SPLITIO => SPLIT_IO,
        group::THREAD_POOL => THREAD_POOL,
        _ => return None,
    })
}

/// `(GUID, "Kernel:<Group>")` of a kernel hook id; an unknown group gives the nil GUID and
/// no name.
pub fn kernel_provider(hook_id: u16) -> (Guid, Option<&'static str>) {
    (
        hook_guid(hook_id).unwrap_or_default(),
        group_name((hook_id >> 8) as u8),
    )
}

/// The provider name in a provider-traits item (12): a u16 size, then a NUL-terminated UTF-8
/// name.
#[inline]
pub fn traits_name(item: &[u8]) -> Option<&str> {
    let rest = item.get(2..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&rest[..end]).ok()
}

/// The provider name bytes in a provider-traits item (not checked for UTF-8: the fast path
/// of counting; see [`traits_name`]).
#[inline]
pub fn traits_name_bytes(item: &[u8]) -> Option<&[u8]> {
    let rest = item.get(2..)?;
    let end = crate::tracelogging::find_nul8(rest)?;
    Some(&rest[..end])
}

/// [`record_provider`] with the name as bytes (UTF-8 not checked), for counting.
#[inline]
pub fn record_provider_bytes<'a>(rec: &Record<'a>) -> (Guid, Option<&'a [u8]>) {
    match rec {
        Record::Event(e) => {
            let name = if e.extended.is_empty() {
                None
            } else {
                e.extended_item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS)
                    .and_then(|i| traits_name_bytes(i.data))
            };
            (e.header.provider_id, name)
        }
        Record::System(s) => {
            let (g, n) = kernel_provider(s.hook_id);
            (g, n.map(str::as_bytes))
        }
        Record::Classic(c) => (
            c.header.guid,
            classic_name(&c.header.guid).map(str::as_bytes),
        ),
        Record::Message(m) => (m.guid.unwrap_or_default(), None),
    }
}

/// The provider of a record: its GUID and the name the file gives it (TraceLogging provider
/// traits, or the kernel group / class tables of this module), else `None`.
#[inline]
pub fn record_provider<'a>(rec: &Record<'a>) -> (Guid, Option<&'a str>) {
    match rec {
        Record::Event(e) => {
            let name = e
                .extended_item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS)
                .and_then(|i| traits_name(i.data));
            (e.header.provider_id, name)
        }
        Record::System(s) => kernel_provider(s.hook_id),
        Record::Classic(c) => (c.header.guid, classic_name(&c.header.guid)),
        Record::Message(m) => (m.guid.unwrap_or_default(), None),
    }
}

/// Name of a classic event GUID that is a documented kernel or KernelTraceControl class.
pub fn classic_name(guid: &Guid) -> Option<&'static str> {
    [
        (EVENT_TRACE, "Kernel:EventTrace"),
        (KTC_IMAGE_ID, "KernelTraceControl-ImageID"),
        (KTC_METADATA, "KernelTraceControl-MetaData"),
        (KTC_VOLUME_MAPPING, "KernelTraceControl-VolumeMapping"),
    ]
    .iter()
    .find(|(g, _)| g == guid)
    .map(|(_, n)| *n)
}

/// KernelTraceControl `MetaData` event type carrying a `TRACE_EVENT_INFO`.
pub const KTC_METADATA_EVENT_INFO: u8 = 32;

/// The provider GUID and name in a KernelTraceControl `MetaData` event-info record: the
/// payload is a `TRACE_EVENT_INFO` (`ProviderGuid` at 0, `ProviderNameOffset` at 0x34, a
/// NUL-terminated UTF-16 string at that offset of the payload).
pub fn metadata_provider_name(rec: &ClassicRecord<'_>) -> Option<(Guid, String)> {
    if rec.header.guid != KTC_METADATA || rec.header.class_type != KTC_METADATA_EVENT_INFO {
        return None;
    }
    let p = rec.payload;
    let (guid, _) = Guid::read_from_prefix(p).ok()?;
    let off = u32::from_le_bytes(p.get(0x34..0x38)?.try_into().ok()?) as usize;
    if off < 0x70 || off >= p.len() {
        return None;
    }
    let units: Vec<u16> = p[off..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .take(512)
        .collect();
    let name = String::from_utf16(&units).ok()?;
    (!name.is_empty()).then_some((guid, name))
}
