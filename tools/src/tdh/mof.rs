//! The classic events of the NT Kernel Logger, by the MOF classes Microsoft documents for
//! them ("Event Tracing MOF Classes" in the Windows documentation): one table entry per class
//! and version, its event types, and its properties in `WmiDataId` order with the type their
//! documented data type and qualifiers give (`Pointer` and `Extension("SizeT")` are sized by the
//! event's pointer size, so one entry serves 32- and 64-bit traces).
//!
//! Where the traces of the shared corpus carry a newer version than the one documented, an
//! entry for it is here only when the corpus bytes show its layout; each such entry says
//! what differs from the documented class. The `corpus_decoding` test decodes every kernel event
//! of the corpus and fails on any that does not fit its entry byte for byte.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use super::layout::{Count, EventLayout, Length, Property, Source};
use super::registry::EventKey;
use super::types::{TdhInType as In, TdhOutType as Out};
use crate::etl::names;
use crate::etl::Guid;

/// A property's type, as the documented MOF data type and qualifiers give it.
#[derive(Clone, Copy, Debug)]
enum M {
    U8,
    U16,
    U32,
    U64,
    I16,
    I32,
    I64,
    /// `sint8` with `Format("c")`: a character.
    Char8,
    /// `uint32` with `Format("x")`.
    X32,
    /// `uint64` with `Format("x")`.
    X64,
    /// `Pointer` qualifier.
    Ptr,
    /// `object` with `Extension("SizeT")`.
    SizeT,
    /// `object` with `Extension("Sid")`: a `TOKEN_USER` and a SID.
    Sid,
    /// `object` with `Extension("IPAddrV4")`.
    Ipv4,
    /// `object` with `Extension("IPAddrV6")`: an `IN6_ADDR`.
    Ipv6,
    /// `object` with `Extension("Port")`: network byte order.
    Port,
    /// `object` with `Extension("WmiTime")`: a 64-bit timestamp of the trace clock.
    WmiTime,
    /// `string` with `Format("w")`, NUL-terminated.
    WStr,
    /// `string`, NUL-terminated 8-bit.
    AStr,
    /// A NUL-terminated UTF-16 string that older Windows versions do not write (the class's
    /// last property).
    OptWStr,
    /// `char16[]` with `Max(n)` and `Format("s")`: `n` UTF-16 units, NUL-padded.
    WChars(u16),
    /// `uint8[]` with `Max(n)` (`Extension("NoPrint")`): `n` bytes.
    Bytes(u16),
    /// `Stack1` … `Stack192` (pointers): as many as the rest of the payload holds.
    PtrRest,
    /// A GUID (16 bytes).
    Guid16,
    /// A `FILETIME`: 100 ns intervals since 1601, UTC.
    FileTime,
    /// NUL-terminated UTF-16 strings, as many as the earlier property of this name says.
    WStrs(&'static str),
}

use M::*;

/// Properties in `WmiDataId` order (a part of a class: classes share parts).
type Part = &'static [(&'static str, M)];

/// One documented class (or a version of it).
struct Class {
    guid: Guid,
    version: u16,
    /// Event types and their `EventTypeName`s.
    types: &'static [(u8, &'static str)],
    /// Its properties: these parts, one after the other.
    props: &'static [Part],
}

const START_END: &[(u8, &str)] = &[(1, "Start"), (2, "End"), (3, "DCStart"), (4, "DCEnd")];
const START_END_DEFUNCT: &[(u8, &str)] = &[
    (1, "Start"),
    (2, "End"),
    (3, "DCStart"),
    (4, "DCEnd"),
    (39, "Defunct"),
];
const IMAGE_TYPES: &[(u8, &str)] = &[(10, "Load"), (2, "Unload"), (3, "DCStart"), (4, "DCEnd")];

/// `EventTrace_Header` (type 0), then the session and log file names: the documented class
/// ends at `BuffersLost`, and every corpus trace's header event has the two NUL-terminated
/// UTF-16 names after it (those of its `TRACE_LOGFILE_HEADER`).
const EVENT_TRACE_HEADER: &[(&str, M)] = &[
    ("BufferSize", U32),
    ("Version", U32),
    ("ProviderVersion", U32),
    ("NumberOfProcessors", U32),
    ("EndTime", U64),
    ("TimerResolution", U32),
    ("MaxFileSize", U32),
    ("LogFileMode", X32),
    ("BuffersWritten", U32),
    ("StartBuffers", U32),
    ("PointerSize", U32),
    ("EventsLost", U32),
    ("CPUSpeed", U32),
    ("LoggerName", Ptr),
    ("LogFileName", Ptr),
    ("TimeZoneInformation", Bytes(176)),
    ("BootTime", U64),
    ("PerfFreq", U64),
    ("StartTime", U64),
    ("ReservedFlags", U32),
    ("BuffersLost", U32),
    ("SessionNameString", WStr),
    ("LogFileNameString", WStr),
];

/// `Process_V0_TypeGroup1`.
const PROCESS_V0: &[(&str, M)] = &[
    ("ProcessId", Ptr),
    ("ParentId", Ptr),
    ("UserSID", Sid),
    ("ImageFileName", AStr),
];
/// `Process_V1_TypeGroup1`.
const PROCESS_V1: &[(&str, M)] = &[
    ("PageDirectoryBase", Ptr),
    ("ProcessId", U32),
    ("ParentId", U32),
    ("SessionId", U32),
    ("ExitStatus", I32),
    ("UserSID", Sid),
    ("ImageFileName", AStr),
];
/// The first properties of `Process_V2_TypeGroup1` and `Process_TypeGroup1`.
const PROCESS_IDS: Part = &[
    ("UniqueProcessKey", Ptr),
    ("ProcessId", X32),
    ("ParentId", X32),
    ("SessionId", U32),
    ("ExitStatus", I32),
];
/// What follows them in version 2; in version 3 (`Process_TypeGroup1`, the version the class
/// documents) after `DirectoryTableBase`.
const PROCESS_NAMES: Part = &[
    ("UserSID", Sid),
    ("ImageFileName", AStr),
    ("CommandLine", WStr),
];
/// Version 4 (Windows 8 and later, not documented): version 3 with a 32-bit `Flags` after
/// `DirectoryTableBase` and two UTF-16 strings after `CommandLine`, `PackageFullName` and
/// `ApplicationId` (empty for desktop processes), as every version-4 process event of the
/// corpus shows.
const PROCESS_V4_FLAGS: Part = &[("DirectoryTableBase", Ptr), ("Flags", X32)];
const PROCESS_V4_PACKAGE: Part = &[("PackageFullName", WStr), ("ApplicationId", WStr)];
/// Version 5 of the `Defunct` event (type 39; not documented): version 4 and then a
/// `FILETIME`, as all 14 version-5 defunct-process events of the corpus show. It is the time
/// the process exited: before the trace started for processes that exited earlier, and for
/// `explorer.exe` ending with `DBG_TERMINATE_PROCESS` two seconds before the end of a shutdown
/// trace.
const PROCESS_V5_EXIT: Part = &[("ExitTime", FileTime)];
/// `Process_V2_TypeGroup2` (types 32, 33).
const PROCESS_V2_COUNTERS: &[(&str, M)] = &[
    ("ProcessId", X32),
    ("PageFaultCount", U32),
    ("HandleCount", U32),
    ("Reserved", U32),
    ("PeakVirtualSize", SizeT),
    ("PeakWorkingSetSize", SizeT),
    ("PeakPagefileUsage", SizeT),
    ("QuotaPeakPagedPoolUsage", SizeT),
    ("QuotaPeakNonPagedPoolUsage", SizeT),
    ("VirtualSize", SizeT),
    ("WorkingSetSize", SizeT),
    ("PagefileUsage", SizeT),
    ("QuotaPagedPoolUsage", SizeT),
    ("QuotaNonPagedPoolUsage", SizeT),
    ("PrivatePageCount", SizeT),
];

/// `Thread_V0_TypeGroup1`.
const THREAD_V0: &[(&str, M)] = &[("TThreadId", X32), ("ProcessId", X32)];
/// `Thread_V1_TypeGroup1` (types 1, 3).
const THREAD_V1_START: &[(&str, M)] = &[
    ("ProcessId", U32),
    ("TThreadId", U32),
    ("StackBase", Ptr),
    ("StackLimit", Ptr),
    ("UserStackBase", Ptr),
    ("UserStackLimit", Ptr),
    ("StartAddr", Ptr),
    ("Win32StartAddr", Ptr),
    ("WaitMode", Char8),
];
/// `Thread_V1_TypeGroup2` (types 2, 4).
const THREAD_V1_END: &[(&str, M)] = &[("ProcessId", U32), ("TThreadId", U32)];
/// The first properties of `Thread_V2_TypeGroup1` and `Thread_TypeGroup1`.
const THREAD_STACKS: Part = &[
    ("ProcessId", X32),
    ("TThreadId", X32),
    ("StackBase", Ptr),
    ("StackLimit", Ptr),
    ("UserStackBase", Ptr),
    ("UserStackLimit", Ptr),
];
/// What both have after their seventh property (`StartAddr` in version 2, `Affinity` in 3).
const THREAD_START: Part = &[
    ("Win32StartAddr", Ptr),
    ("TebBase", Ptr),
    ("SubProcessTag", X32),
];
/// The end of `Thread_TypeGroup1` (the class documents version 3). Windows 10 1903 and later
/// append the thread's name (NUL-terminated UTF-16, empty for most) without a new version:
/// every version-3 thread event of `ShutdownPerfDiagLogger.etl` (build 18362) has it, those of
/// Windows 8 traces do not; it is optional here.
const THREAD_V3_PRIORITIES: Part = &[
    ("BasePriority", U8),
    ("PagePriority", U8),
    ("IoPriority", U8),
    ("ThreadFlags", U8),
    ("ThreadName", OptWStr),
];

/// `Image_V0_Load`.
const IMAGE_V0: &[(&str, M)] = &[
    ("BaseAddress", Ptr),
    ("ModuleSize", U32),
    ("ImageFileName", WStr),
];
/// `Image_V1_Load`.
const IMAGE_V1: &[(&str, M)] = &[
    ("ImageBase", Ptr),
    ("ImageSize", Ptr),
    ("ProcessId", U32),
    ("FileName", WStr),
];
/// `Image_Load` (the class documents version 2). Version 3 (Windows 10, not documented)
/// has the same sizes at the same offsets in every version-3 image event of the corpus, and is
/// read with it (`Reserved0` then holds bytes version 3 gives a meaning of their own).
const IMAGE_V2: &[(&str, M)] = &[
    ("ImageBase", Ptr),
    ("ImageSize", Ptr),
    ("ProcessId", U32),
    ("ImageChecksum", U32),
    ("TimeDateStamp", U32),
    ("Reserved0", U32),
    ("DefaultBase", Ptr),
    ("Reserved1", U32),
    ("Reserved2", U32),
    ("Reserved3", U32),
    ("Reserved4", U32),
    ("FileName", WStr),
];

/// `DiskIo_TypeGroup1` (types 10, 11).
const DISKIO_RW: &[(&str, M)] = &[
    ("DiskNumber", U32),
    ("IrpFlags", X32),
    ("TransferSize", U32),
    ("Reserved", U32),
    ("ByteOffset", I64),
    ("FileObject", Ptr),
    ("Irp", Ptr),
    ("HighResResponseTime", U64),
    ("IssuingThreadId", U32),
];
/// `DiskIo_TypeGroup2` (types 12, 13, 15).
const DISKIO_INIT: &[(&str, M)] = &[("Irp", Ptr), ("IssuingThreadId", U32)];
/// `DiskIo_TypeGroup3` (type 14).
const DISKIO_FLUSH: &[(&str, M)] = &[
    ("DiskNumber", U32),
    ("IrpFlags", X32),
    ("HighResResponseTime", U64),
    ("Irp", Ptr),
    ("IssuingThreadId", U32),
];

/// `FileIo_Name`.
const FILEIO_NAME: &[(&str, M)] = &[("FileObject", Ptr), ("FileName", WStr)];

/// `PageFault_HardFault`.
const PAGEFAULT_HARD: &[(&str, M)] = &[
    ("InitialTime", WmiTime),
    ("ReadOffset", X64),
    ("VirtualAddress", Ptr),
    ("FileObject", Ptr),
    ("TThreadId", X32),
    ("ByteCount", U32),
];

/// `SampledProfile`.
const SAMPLED_PROFILE: &[(&str, M)] = &[
    ("InstructionPointer", Ptr),
    ("ThreadId", U32),
    ("Count", U32),
];

/// `StackWalk_Event`.
const STACKWALK: &[(&str, M)] = &[
    ("EventTimeStamp", U64),
    ("StackProcess", X32),
    ("StackThread", U32),
    ("Stack", PtrRest),
];

/// The first properties of every `TcpIp` and `UdpIp` class, IPv4 and IPv6.
const IP4_ENDS: Part = &[
    ("PID", U32),
    ("size", U32),
    ("daddr", Ipv4),
    ("saddr", Ipv4),
    ("dport", Port),
    ("sport", Port),
];
const IP6_ENDS: Part = &[
    ("PID", U32),
    ("size", U32),
    ("daddr", Ipv6),
    ("saddr", Ipv6),
    ("dport", Port),
    ("sport", Port),
];
/// `TcpIp_SendIPV4`, `TcpIp_SendIPV6`: times before the common end.
const TCP_TIMES: Part = &[("startime", U32), ("endtime", U32)];
/// `TcpIp_TypeGroup2`, `TcpIp_TypeGroup4` (connect, accept): the options.
const TCP_OPTIONS: Part = &[
    ("mss", U16),
    ("sackopt", U16),
    ("tsopt", U16),
    ("wsopt", U16),
    ("rcvwin", U32),
    ("rcvwinscale", I16),
    ("sndwinscale", I16),
];
/// The last properties of every `TcpIp` and `UdpIp` class.
const IP_END: Part = &[("seqnum", U32), ("connid", Ptr)];
/// `TcpIp_Fail`; `UdpIp_Fail`.
const IP_FAIL: &[(&str, M)] = &[("Proto", U16), ("FailureCode", U16)];

/// `SystemConfig_CPU`.
const CONFIG_CPU: &[(&str, M)] = &[
    ("MHz", U32),
    ("NumberOfProcessors", U32),
    ("MemSize", U32),
    ("PageSize", U32),
    ("AllocationGranularity", U32),
    ("ComputerName", WChars(256)),
    ("DomainName", WChars(132)),
    ("HyperThreadingFlag", Ptr),
];
/// `SystemConfig_PhyDisk`.
const CONFIG_PHYDISK: &[(&str, M)] = &[
    ("DiskNumber", U32),
    ("BytesPerSector", U32),
    ("SectorsPerTrack", U32),
    ("TracksPerCylinder", U32),
    ("Cylinders", U64),
    ("SCSIPort", U32),
    ("SCSIPath", U32),
    ("SCSITarget", U32),
    ("SCSILun", U32),
    ("Manufacturer", WChars(256)),
    ("PartitionCount", U32),
    ("WriteCacheEnabled", U8),
    ("Pad", U8),
    ("BootDriveLetter", WChars(3)),
    ("Spare", WChars(2)),
];
/// `SystemConfig_LogDisk`.
const CONFIG_LOGDISK: &[(&str, M)] = &[
    ("StartOffset", U64),
    ("PartitionSize", U64),
    ("DiskNumber", U32),
    ("Size", U32),
    ("DriveType", U32),
    ("DriveLetterString", WChars(4)),
    ("Pad1", U32),
    ("PartitionNumber", U32),
    ("SectorsPerCluster", U32),
    ("BytesPerSector", U32),
    ("Pad2", U32),
    ("NumberOfFreeClusters", I64),
    ("TotalNumberOfClusters", I64),
    ("FileSystem", WChars(16)),
    ("VolumeExt", U32),
    ("Pad3", U32),
];
/// `SystemConfig_NIC`.
const CONFIG_NIC: &[(&str, M)] = &[
    ("PhysicalAddr", X64),
    ("PhysicalAddrLen", U32),
    ("Ipv4Index", U32),
    ("Ipv6Index", U32),
    ("NICDescription", WStr),
    ("IpAddresses", WStr),
    ("DnsServerAddresses", WStr),
];
/// `SystemConfig_Video`.
const CONFIG_VIDEO: &[(&str, M)] = &[
    ("MemorySize", U32),
    ("XResolution", U32),
    ("YResolution", U32),
    ("BitsPerPixel", U32),
    ("VRefresh", U32),
    ("ChipType", WChars(256)),
    ("DACType", WChars(256)),
    ("AdapterString", WChars(256)),
    ("BiosString", WChars(256)),
    ("DeviceId", WChars(256)),
    ("StateFlags", X32),
];
/// `SystemConfig_Services`.
const CONFIG_SERVICES: &[(&str, M)] = &[
    ("ProcessId", X32),
    ("ServiceState", X32),
    ("SubProcessTag", X32),
    ("ServiceName", WStr),
    ("DisplayName", WStr),
    ("ProcessName", WStr),
];
/// Version 3 of `SystemConfig_Services` (not documented): version 2, then two NUL-terminated
/// UTF-16 strings, as all 426 version-3 service events of the corpus show. Their values are the
/// service's load order group (`TDI`, `PlugPlay`, `AudioGroup`) and the `svchost -k` group it
/// runs in (`netsvcs`, `LocalService`), named here after what they hold.
const CONFIG_SERVICES_V3_GROUPS: Part = &[("LoadOrderGroup", WStr), ("SvcHostGroup", WStr)];
/// `SystemConfig_Power`.
const CONFIG_POWER: &[(&str, M)] = &[
    ("s1", U8),
    ("s2", U8),
    ("s3", U8),
    ("s4", U8),
    ("s5", U8),
    ("Pad1", U8),
    ("Pad2", U8),
    ("Pad3", U8),
];
/// `SystemConfig_Network`.
const CONFIG_NETWORK: &[(&str, M)] = &[
    ("TcbTablePartitions", U32),
    ("MaxHashTableSize", U32),
    ("MaxUserPort", U32),
    ("TcpTimedWaitDelay", U32),
];
/// `SystemConfig_IRQ`: its first property, then the rest.
const CONFIG_IRQ_AFFINITY: Part = &[("IRQAffinity", X64)];
const CONFIG_IRQ_DEVICE: Part = &[
    ("IRQNum", U32),
    ("DeviceDescriptionLen", U32),
    ("DeviceDescription", WStr),
];
/// Version 3 of `SystemConfig_IRQ` (not documented): the documented class with the affinity's
/// processor group (u16) and two reserved bytes after `IRQAffinity`, as all 13 version-3 IRQ
/// events of the corpus show (interrupt numbers 0–55, each description `DeviceDescriptionLen`
/// characters with its NUL).
const CONFIG_IRQ_V3_GROUP: Part = &[("IRQGroup", U16), ("Reserved", U16)];
/// Versions 4 and 5 of `SystemConfig_PnP` (not documented), as all 78 version-4 and 101
/// version-5 PnP events of the corpus show: the device setup class GUID and the counts of
/// upper and lower filter drivers instead of the three lengths (version 5 adds the device's
/// status flags and problem code), the three documented strings, then the PDO name, the
/// service, and the filter driver names (`Serial` with upper filter `serenum`).
const CONFIG_PNP_CLASS: Part = &[
    ("ClassGuid", Guid16),
    ("UpperFilterCount", U32),
    ("LowerFilterCount", U32),
];
const CONFIG_PNP_V5_STATUS: Part = &[("DevStatus", X32), ("DevProblem", U32)];
const CONFIG_PNP_NAMES: Part = &[
    ("DeviceID", WStr),
    ("DeviceDescription", WStr),
    ("FriendlyName", WStr),
    ("PdoName", WStr),
    ("ServiceName", WStr),
    ("UpperFilters", WStrs("UpperFilterCount")),
    ("LowerFilters", WStrs("LowerFilterCount")),
];
/// `SystemConfig_PnP`.
const CONFIG_PNP: &[(&str, M)] = &[
    ("IDLength", U32),
    ("DescriptionLength", U32),
    ("FriendlyNameLength", U32),
    ("DeviceID", WStr),
    ("DeviceDescription", WStr),
    ("FriendlyName", WStr),
];
/// `SystemConfig_IDEChannel`.
const CONFIG_IDE: &[(&str, M)] = &[
    ("TargetId", U32),
    ("DeviceType", X32),
    ("DeviceTimingMode", X32),
    ("LocationInformationLen", U32),
    ("LocationInformation", WStr),
];

/// GUIDs of classes `etl::names` does not list for provider names.
const TCP_IP: Guid = names::TCP_IP;
const UDP_IP: Guid = names::UDP_IP;

const CLASSES: &[Class] = &[
    Class {
        guid: names::EVENT_TRACE,
        version: 2,
        types: &[(0, "Header")],
        props: &[EVENT_TRACE_HEADER],
    },
    Class {
        guid: names::PROCESS,
        version: 0,
        types: START_END,
        props: &[PROCESS_V0],
    },
    Class {
        guid: names::PROCESS,
        version: 1,
        types: START_END,
        props: &[PROCESS_V1],
    },
    Class {
        guid: names::PROCESS,
        version: 2,
        types: START_END_DEFUNCT,
        props: &[PROCESS_IDS, PROCESS_NAMES],
    },
    Class {
        guid: names::PROCESS,
        version: 2,
        types: &[(32, "PerfCtr"), (33, "PerfCtrRundown")],
        props: &[PROCESS_V2_COUNTERS],
    },
    Class {
        guid: names::PROCESS,
        version: 3,
        types: START_END_DEFUNCT,
        props: &[PROCESS_IDS, &[("DirectoryTableBase", Ptr)], PROCESS_NAMES],
    },
    Class {
        guid: names::PROCESS,
        version: 4,
        types: START_END_DEFUNCT,
        props: &[
            PROCESS_IDS,
            PROCESS_V4_FLAGS,
            PROCESS_NAMES,
            PROCESS_V4_PACKAGE,
        ],
    },
    Class {
        guid: names::PROCESS,
        version: 5,
        types: &[(39, "Defunct")],
        props: &[
            PROCESS_IDS,
            PROCESS_V4_FLAGS,
            PROCESS_NAMES,
            PROCESS_V4_PACKAGE,
            PROCESS_V5_EXIT,
        ],
    },
    Class {
        guid: names::THREAD,
        version: 0,
        types: START_END,
        props: &[THREAD_V0],
    },
    Class {
        guid: names::THREAD,
        version: 1,
        types: &[(1, "Start"), (3, "DCStart")],
        props: &[THREAD_V1_START],
    },
    Class {
        guid: names::THREAD,
        version: 1,
        types: &[(2, "End"), (4, "DCEnd")],
        props: &[THREAD_V1_END],
    },
    Class {
        guid: names::THREAD,
        version: 2,
        types: START_END,
        props: &[THREAD_STACKS, &[("StartAddr", Ptr)], THREAD_START],
    },
    Class {
        guid: names::THREAD,
        version: 3,
        types: START_END,
        props: &[
            THREAD_STACKS,
            &[("Affinity", Ptr)],
            THREAD_START,
            THREAD_V3_PRIORITIES,
        ],
    },
    Class {
        guid: names::IMAGE_LOAD,
        version: 0,
        types: &[(10, "Load")],
        props: &[IMAGE_V0],
    },
    Class {
        guid: names::IMAGE_LOAD,
        version: 1,
        types: &[(10, "Load")],
        props: &[IMAGE_V1],
    },
    Class {
        guid: names::IMAGE_LOAD,
        version: 2,
        types: IMAGE_TYPES,
        props: &[IMAGE_V2],
    },
    Class {
        guid: names::IMAGE_LOAD,
        version: 3,
        types: IMAGE_TYPES,
        props: &[IMAGE_V2],
    },
    Class {
        guid: names::DISK_IO,
        version: 3,
        types: &[(10, "Read"), (11, "Write")],
        props: &[DISKIO_RW],
    },
    Class {
        guid: names::DISK_IO,
        version: 3,
        types: &[(12, "ReadInit"), (13, "WriteInit"), (15, "FlushInit")],
        props: &[DISKIO_INIT],
    },
    Class {
        guid: names::DISK_IO,
        version: 3,
        types: &[(14, "FlushBuffers")],
        props: &[DISKIO_FLUSH],
    },
    Class {
        guid: names::FILE_IO,
        version: 2,
        types: &[
            (0, "Name"),
            (32, "FileCreate"),
            (35, "FileDelete"),
            (36, "FileRundown"),
        ],
        props: &[FILEIO_NAME],
    },
    Class {
        guid: names::PAGE_FAULT,
        version: 2,
        types: &[(32, "HardFault")],
        props: &[PAGEFAULT_HARD],
    },
    Class {
        guid: names::PERF_INFO,
        version: 2,
        types: &[(46, "SampleProfile")],
        props: &[SAMPLED_PROFILE],
    },
    Class {
        guid: names::STACK_WALK,
        version: 2,
        types: &[(32, "Stack")],
        props: &[STACKWALK],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[(10, "SendIPV4")],
        props: &[IP4_ENDS, TCP_TIMES, IP_END],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[
            (11, "RecvIPV4"),
            (13, "DisconnectIPV4"),
            (14, "RetransmitIPV4"),
            (16, "ReconnectIPV4"),
            (18, "TCPCopyIPV4"),
        ],
        props: &[IP4_ENDS, IP_END],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[(12, "ConnectIPV4"), (15, "AcceptIPV4")],
        props: &[IP4_ENDS, TCP_OPTIONS, IP_END],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[(17, "Fail")],
        props: &[IP_FAIL],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[(26, "SendIPV6")],
        props: &[IP6_ENDS, TCP_TIMES, IP_END],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[
            (27, "RecvIPV6"),
            (29, "DisconnectIPV6"),
            (30, "RetransmitIPV6"),
            (32, "ReconnectIPV6"),
            (34, "TCPCopyIPV6"),
        ],
        props: &[IP6_ENDS, IP_END],
    },
    Class {
        guid: TCP_IP,
        version: 2,
        types: &[(28, "ConnectIPV6"), (31, "AcceptIPV6")],
        props: &[IP6_ENDS, TCP_OPTIONS, IP_END],
    },
    Class {
        guid: UDP_IP,
        version: 2,
        types: &[(10, "SendIPV4"), (11, "RecvIPV4")],
        props: &[IP4_ENDS, IP_END],
    },
    Class {
        guid: UDP_IP,
        version: 2,
        types: &[(17, "Fail")],
        props: &[IP_FAIL],
    },
    Class {
        guid: UDP_IP,
        version: 2,
        types: &[(26, "SendIPV6"), (27, "RecvIPV6")],
        props: &[IP6_ENDS, IP_END],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(10, "CPU")],
        props: &[CONFIG_CPU],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(11, "PhyDisk")],
        props: &[CONFIG_PHYDISK],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(12, "LogDisk")],
        props: &[CONFIG_LOGDISK],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(13, "NIC")],
        props: &[CONFIG_NIC],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(14, "Video")],
        props: &[CONFIG_VIDEO],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(15, "Services")],
        props: &[CONFIG_SERVICES],
    },
    Class {
        guid: names::CONFIG,
        version: 3,
        types: &[(15, "Services")],
        props: &[CONFIG_SERVICES, CONFIG_SERVICES_V3_GROUPS],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(16, "Power")],
        props: &[CONFIG_POWER],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(17, "Network")],
        props: &[CONFIG_NETWORK],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(21, "IRQ")],
        props: &[CONFIG_IRQ_AFFINITY, CONFIG_IRQ_DEVICE],
    },
    Class {
        guid: names::CONFIG,
        version: 3,
        types: &[(21, "IRQ")],
        props: &[CONFIG_IRQ_AFFINITY, CONFIG_IRQ_V3_GROUP, CONFIG_IRQ_DEVICE],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(22, "PnP")],
        props: &[CONFIG_PNP],
    },
    Class {
        guid: names::CONFIG,
        version: 4,
        types: &[(22, "PnP")],
        props: &[CONFIG_PNP_CLASS, CONFIG_PNP_NAMES],
    },
    Class {
        guid: names::CONFIG,
        version: 5,
        types: &[(22, "PnP")],
        props: &[CONFIG_PNP_CLASS, CONFIG_PNP_V5_STATUS, CONFIG_PNP_NAMES],
    },
    Class {
        guid: names::CONFIG,
        version: 2,
        types: &[(23, "IDEChannel")],
        props: &[CONFIG_IDE],
    },
];

/// The property a documented type becomes; `index` finds an earlier property by name.
fn property(name: &str, m: M, index: impl Fn(&str) -> u16) -> Property {
    let v = |i, o| Property::value(name, i, o);
    match m {
        U8 => v(In::UINT8, Out::NULL),
        U16 => v(In::UINT16, Out::NULL),
        U32 => v(In::UINT32, Out::NULL),
        U64 => v(In::UINT64, Out::NULL),
        I16 => v(In::INT16, Out::NULL),
        I32 => v(In::INT32, Out::NULL),
        I64 => v(In::INT64, Out::NULL),
        Char8 => v(In::INT8, Out::STRING),
        X32 => v(In::UINT32, Out::HEXINT32),
        X64 => v(In::UINT64, Out::HEXINT64),
        Ptr => v(In::POINTER, Out::NULL),
        SizeT => v(In::SIZET, Out::NULL),
        Sid => v(In::WBEMSID, Out::NULL),
        Ipv4 => v(In::UINT32, Out::IPV4),
        Ipv6 => v(In::BINARY, Out::IPV6).with_length(Length::Fixed(16)),
        Port => v(In::UINT16, Out::PORT),
        WmiTime => v(In::UINT64, Out::NULL),
        WStr => v(In::UNICODESTRING, Out::NULL),
        AStr => v(In::ANSISTRING, Out::NULL),
        OptWStr => v(In::UNICODESTRING, Out::NULL).optional(),
        WChars(n) => v(In::UNICODESTRING, Out::NULL).with_length(Length::Fixed(n)),
        Bytes(n) => v(In::BINARY, Out::NOPRINT).with_length(Length::Fixed(n)),
        PtrRest => v(In::POINTER, Out::NULL).with_count(Count::Remaining),
        Guid16 => v(In::GUID, Out::NULL),
        FileTime => v(In::FILETIME, Out::NULL),
        WStrs(count) => v(In::UNICODESTRING, Out::NULL).with_count(Count::Property(index(count))),
    }
}

/// Every documented layout, by (class GUID, event type, version); built on first use.
pub fn layouts() -> &'static HashMap<EventKey, Arc<EventLayout>> {
    static LAYOUTS: LazyLock<HashMap<EventKey, Arc<EventLayout>>> = LazyLock::new(|| {
        let mut out = HashMap::new();
        for c in CLASSES {
            let flat: Vec<(&str, M)> = c
                .props
                .iter()
                .flat_map(|part| part.iter().copied())
                .collect();
            let index = |name: &str| {
                let i = flat.iter().position(|&(n, _)| n == name);
                u16::try_from(i.expect("a count names a property of its class")).expect("small")
            };
            let props: Vec<Property> = flat.iter().map(|&(n, m)| property(n, m, index)).collect();
            for &(ty, type_name) in c.types {
                let layout = EventLayout::new(
                    Source::Mof,
                    None,
                    Some(type_name.to_owned()),
                    props.clone(),
                    props.len() as u16,
                )
                .expect("the MOF tables are consistent (tested)");
                let key = EventKey::new(c.guid, u16::from(ty), c.version);
                out.insert(key, Arc::new(layout));
            }
        }
        out
    });
    &LAYOUTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tdh::decode_exact;
    use crate::tracelogging::{FieldsJson, PointerSize};

    /// The fields of a 32-bit event of this class, type and version, as JSON.
    fn decode32(guid: Guid, ty: u16, version: u16, payload: &[u8]) -> serde_json::Value {
        let layout = &layouts()[&EventKey::new(guid, ty, version)];
        let fields = decode_exact(layout, payload, PointerSize::Four).expect("fits");
        // With 8-byte pointers the same bytes do not fit: the pointer size is what matters.
        assert!(decode_exact(layout, payload, PointerSize::Eight).is_err());
        serde_json::to_value(FieldsJson(&fields)).unwrap()
    }

    #[test]
    fn thirty_two_bit_process_thread_and_image_events() {
        // Process_TypeGroup1 (version 3), Start, from a 32-bit kernel.
        let process: &[u8] = &[
            0x30, 0xc0, 0xa3, 0x85, // UniqueProcessKey: 4-byte pointer 0x85a3c030
            0x10, 0x0e, 0x00, 0x00, // ProcessId 0xe10
            0x54, 0x02, 0x00, 0x00, // ParentId 0x254
            0x01, 0x00, 0x00, 0x00, // SessionId 1
            0x03, 0x01, 0x00, 0x00, // ExitStatus 259 (STILL_ACTIVE)
            0x00, 0xe0, 0x5c, 0x1e, // DirectoryTableBase: 4-byte pointer 0x1e5ce000
            0x08, 0xb0, 0x12, 0x8a, 0x00, 0x00, 0x00, 0x00, // TOKEN_USER: two 4-byte pointers
            0x01, 0x01, // SID revision 1, one sub-authority
            0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // authority 5 (NT)
            0x12, 0x00, 0x00, 0x00, // sub-authority 18: S-1-5-18
            b'c', b'm', b'd', b'.', b'e', b'x', b'e', 0x00, // ImageFileName
            b'c', 0x00, b'm', 0x00, b'd', 0x00, 0x00, 0x00, // CommandLine (UTF-16)
        ];
        assert_eq!(
            decode32(names::PROCESS, 1, 3, process),
            serde_json::json!({
                "UniqueProcessKey": "0x85a3c030", "ProcessId": "0xe10", "ParentId": "0x254",
                "SessionId": 1, "ExitStatus": 259, "DirectoryTableBase": "0x1e5ce000",
                "UserSID": "S-1-5-18", "ImageFileName": "cmd.exe", "CommandLine": "cmd"
            })
        );

        // Thread_TypeGroup1 (version 3), DCStart, from a 32-bit kernel (no thread name).
        let thread: &[u8] = &[
            0x10, 0x0e, 0x00, 0x00, // ProcessId 0xe10
            0x24, 0x0f, 0x00, 0x00, // TThreadId 0xf24
            0x00, 0x30, 0x6d, 0x9b, // StackBase 0x9b6d3000
            0x00, 0x00, 0x6d, 0x9b, // StackLimit 0x9b6d0000
            0x00, 0x00, 0x1f, 0x00, // UserStackBase 0x1f0000
            0x00, 0xd0, 0x1e, 0x00, // UserStackLimit 0x1ed000
            0x03, 0x00, 0x00, 0x00, // Affinity 0x3
            0x10, 0x35, 0x2a, 0x77, // Win32StartAddr 0x772a3510
            0x00, 0xd0, 0xfd, 0x7f, // TebBase 0x7ffdd000
            0x00, 0x00, 0x00, 0x00, // SubProcessTag 0
            0x08, 0x05, 0x02,
            0x00, // BasePriority 8, PagePriority 5, IoPriority 2, ThreadFlags 0
        ];
        assert_eq!(
            decode32(names::THREAD, 3, 3, thread),
            serde_json::json!({
                "ProcessId": "0xe10", "TThreadId": "0xf24", "StackBase": "0x9b6d3000",
                "StackLimit": "0x9b6d0000", "UserStackBase": "0x1f0000",
                "UserStackLimit": "0x1ed000", "Affinity": "0x3", "Win32StartAddr": "0x772a3510",
                "TebBase": "0x7ffdd000", "SubProcessTag": "0x0", "BasePriority": 8,
                "PagePriority": 5, "IoPriority": 2, "ThreadFlags": 0
            })
        );

        // Image_Load (version 2), Load, from a 32-bit kernel.
        let image: &[u8] = &[
            0x00, 0x00, 0x2a, 0x77, // ImageBase 0x772a0000
            0x00, 0x40, 0x14, 0x00, // ImageSize 0x144000
            0x10, 0x0e, 0x00, 0x00, // ProcessId 3600
            0x4e, 0x61, 0x14, 0x00, // ImageChecksum 1335630
            0x9a, 0x6a, 0x5b, 0x4a, // TimeDateStamp 1247505050
            0x00, 0x00, 0x00, 0x00, // Reserved0
            0x00, 0x00, 0x2a, 0x77, // DefaultBase 0x772a0000
            0x00, 0x00, 0x00, 0x00, // Reserved1
            0x00, 0x00, 0x00, 0x00, // Reserved2
            0x00, 0x00, 0x00, 0x00, // Reserved3
            0x00, 0x00, 0x00, 0x00, // Reserved4
            b'n', 0x00, b't', 0x00, b'.', 0x00, b'd', 0x00, 0x00, 0x00, // FileName (UTF-16)
        ];
        assert_eq!(
            decode32(names::IMAGE_LOAD, 10, 2, image),
            serde_json::json!({
                "ImageBase": "0x772a0000", "ImageSize": "0x144000", "ProcessId": 3600,
                "ImageChecksum": 1335630, "TimeDateStamp": 1247505050, "Reserved0": 0,
                "DefaultBase": "0x772a0000", "Reserved1": 0, "Reserved2": 0, "Reserved3": 0,
                "Reserved4": 0, "FileName": "nt.d"
            })
        );
    }

    #[test]
    fn tables_build_and_do_not_repeat_a_key() {
        let n: usize = CLASSES.iter().map(|c| c.types.len()).sum();
        assert_eq!(
            layouts().len(),
            n,
            "a (class, type, version) is listed twice"
        );
    }
}
