//! On-disk layouts of an ETL file: definitions only, no parsing.
//!
//! Every struct is `#[repr(C)]` with little-endian, alignment-1 fields
//! ([`zerocopy::little_endian`]), so it can be read from (or written to) any byte offset of a
//! buffer with `zerocopy`'s `FromBytes::ref_from_prefix` / `IntoBytes::as_bytes`. Field names
//! follow the Windows headers (`evntrace.h`, `evntcons.h`, `ntwmi.h`) in snake case; sizes are
//! checked at compile time at the end of this file.
//!
//! An ETL file is a sequence of buffers. Each starts with a [`WmiBufferHeader`] (72 bytes) and is
//! `buffer_size` bytes long on disk. The bytes `72..offset` of a buffer hold records, each
//! aligned to 8 bytes, each starting with a 4-byte prefix that tells its header kind
//! ([`TRACE_HEADER_TYPE_*`](TRACE_HEADER_TYPE_SYSTEM32) in byte 2 when the top two bits of
//! byte 3 are set). The first record of the first buffer is the logfile header event: a
//! [`SystemTraceHeader`] (hook id 0x0000) followed by a [`TraceLogfileHeader32`] or
//! [`TraceLogfileHeader64`] and two NUL-terminated UTF-16 strings (logger name, log file name).

use core::mem::{offset_of, size_of};

use zerocopy::little_endian::{I32, I64, U16, U32, U64};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout, Unaligned};

pub use super::guid::Guid;

// ---------------------------------------------------------------------------------------------
// Buffers
// ---------------------------------------------------------------------------------------------

/// `WMI_BUFFER_HEADER`: the 72-byte header of every buffer.
///
/// `buffer_size` is the buffer's size on disk (for a compressed buffer: header plus compressed
/// bytes). `offset` is the filled length (header included) and is the field to trust;
/// `saved_offset` is 0 in some real files (relogged header buffers). For a compressed buffer
/// `offset` is the filled length once decompressed.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct WmiBufferHeader {
    /// 0x00: size of this buffer in the file.
    pub buffer_size: U32,
    /// 0x04: filled length when the buffer was flushed (0 in some files).
    pub saved_offset: U32,
    /// 0x08: logger's write position (internal; may exceed `buffer_size`).
    pub current_offset: U32,
    /// 0x0C: reference count (internal).
    pub reference_count: I32,
    /// 0x10: flush time, in the session clock.
    pub time_stamp: I64,
    /// 0x18: buffer sequence number.
    pub sequence_number: I64,
    /// 0x20: clock type (low 3 bits) and frequency, or a kernel list pointer (internal).
    pub clock_type_frequency: U64,
    /// 0x28: `ETW_BUFFER_CONTEXT.ProcessorNumber` (or the low byte of the processor index when
    /// [`ETW_BUFFER_FLAG_PROC_INDEX`] is set).
    pub processor_number: u8,
    /// 0x29: `ETW_BUFFER_CONTEXT.Alignment` (or the high byte of the processor index).
    pub alignment: u8,
    /// 0x2A: `ETW_BUFFER_CONTEXT.LoggerId`.
    pub logger_id: U16,
    /// 0x2C: `ETW_BUFFER_STATE` (internal).
    pub state: U32,
    /// 0x30: filled length of the buffer, header included.
    pub offset: U32,
    /// 0x34: [`ETW_BUFFER_FLAG_*`](ETW_BUFFER_FLAG_EVENTS_LOST).
    pub buffer_flag: U16,
    /// 0x36: [`ETW_BUFFER_TYPE_*`](ETW_BUFFER_TYPE_GENERIC).
    pub buffer_type: U16,
    /// 0x38: union of `ETW_REF_CLOCK` / list entries / padding (internal).
    pub reserved: [u8; 16],
}

/// Normal buffer.
pub const ETW_BUFFER_FLAG_NORMAL: u16 = 0x0000;
/// Last buffer of a flush.
pub const ETW_BUFFER_FLAG_FLUSH_MARKER: u16 = 0x0001;
/// Events were lost while this buffer was in use.
pub const ETW_BUFFER_FLAG_EVENTS_LOST: u16 = 0x0002;
/// Buffers were lost before this one.
pub const ETW_BUFFER_FLAG_BUFFER_LOST: u16 = 0x0004;
/// Real-time backup file corrupt.
pub const ETW_BUFFER_FLAG_RTBACKUP_CORRUPT: u16 = 0x0008;
/// Real-time backup buffer.
pub const ETW_BUFFER_FLAG_RTBACKUP: u16 = 0x0010;
/// Bytes 0x28..0x2A hold a 16-bit processor index.
pub const ETW_BUFFER_FLAG_PROC_INDEX: u16 = 0x0020;
/// The bytes after the header are MS-XCA plain LZ77 ("Xpress") compressed.
pub const ETW_BUFFER_FLAG_COMPRESSED: u16 = 0x0040;

/// Ordinary events.
pub const ETW_BUFFER_TYPE_GENERIC: u16 = 0;
/// Rundown events.
pub const ETW_BUFFER_TYPE_RUNDOWN: u16 = 1;
/// Context-switch events.
pub const ETW_BUFFER_TYPE_CTX_SWAP: u16 = 2;
/// Reference-time buffer.
pub const ETW_BUFFER_TYPE_REFTIME: u16 = 3;
/// The logfile header buffer.
pub const ETW_BUFFER_TYPE_HEADER: u16 = 4;
/// Batched events.
pub const ETW_BUFFER_TYPE_BATCHED: u16 = 5;
/// Empty marker.
pub const ETW_BUFFER_TYPE_EMPTY_MARKER: u16 = 6;
/// Debug information.
pub const ETW_BUFFER_TYPE_DBG_INFO: u16 = 7;

/// Size of [`WmiBufferHeader`].
pub const BUFFER_HEADER_SIZE: usize = 72;
/// Records inside a buffer start on this alignment.
pub const RECORD_ALIGNMENT: usize = 8;

// ---------------------------------------------------------------------------------------------
// Record prefixes and header types
// ---------------------------------------------------------------------------------------------

/// Bit 31 of a record's first 32-bit word: a trace record (not a WNODE).
pub const TRACE_HEADER_FLAG: u32 = 0x8000_0000;
/// Bit 30: fixed-layout header whose type is in bits 16..24.
pub const TRACE_HEADER_EVENT_TRACE: u32 = 0x4000_0000;
/// Bit 28: a `MESSAGE_TRACE_HEADER` (WPP / `TraceMessage`).
pub const TRACE_MESSAGE: u32 = 0x1000_0000;
/// Bits of the first word holding the header type.
pub const TRACE_HEADER_ENUM_MASK: u32 = 0x00FF_0000;
/// The two marker bits set in byte 3 of typed headers (`0xC0`).
pub const TRACE_HEADER_MARKER: u8 = 0xC0;

/// `SYSTEM_TRACE_HEADER` from a 32-bit kernel.
pub const TRACE_HEADER_TYPE_SYSTEM32: u8 = 1;
/// `SYSTEM_TRACE_HEADER` from a 64-bit kernel.
pub const TRACE_HEADER_TYPE_SYSTEM64: u8 = 2;
/// Compact system header (no CPU times), 32-bit.
pub const TRACE_HEADER_TYPE_COMPACT32: u8 = 3;
/// Compact system header (no CPU times), 64-bit.
pub const TRACE_HEADER_TYPE_COMPACT64: u8 = 4;
/// Classic `EVENT_TRACE_HEADER` from a 32-bit producer.
pub const TRACE_HEADER_TYPE_FULL_HEADER32: u8 = 10;
/// `EVENT_INSTANCE_GUID_HEADER` from a 32-bit producer.
pub const TRACE_HEADER_TYPE_INSTANCE32: u8 = 11;
/// Timed header (not used by Windows).
pub const TRACE_HEADER_TYPE_TIMED: u8 = 12;
/// Error while logging an event.
pub const TRACE_HEADER_TYPE_ERROR: u8 = 13;
/// WNODE header (not used by Windows).
pub const TRACE_HEADER_TYPE_WNODE_HEADER: u8 = 14;
/// `MESSAGE_TRACE_HEADER` (WPP).
pub const TRACE_HEADER_TYPE_MESSAGE: u8 = 15;
/// `PERFINFO_TRACE_HEADER`, 32-bit.
pub const TRACE_HEADER_TYPE_PERFINFO32: u8 = 16;
/// `PERFINFO_TRACE_HEADER`, 64-bit.
pub const TRACE_HEADER_TYPE_PERFINFO64: u8 = 17;
/// `EVENT_HEADER` (manifest / TraceLogging), 32-bit producer.
pub const TRACE_HEADER_TYPE_EVENT_HEADER32: u8 = 18;
/// `EVENT_HEADER`, 64-bit producer.
pub const TRACE_HEADER_TYPE_EVENT_HEADER64: u8 = 19;
/// Classic `EVENT_TRACE_HEADER` from a 64-bit producer.
pub const TRACE_HEADER_TYPE_FULL_HEADER64: u8 = 20;
/// `EVENT_INSTANCE_GUID_HEADER` from a 64-bit producer.
pub const TRACE_HEADER_TYPE_INSTANCE64: u8 = 21;

/// The record header kinds of fixed layout, each with the struct that defines it: the one
/// table of header sizes and field positions every reader of records uses (the full parser,
/// the header walk, the provider peek). Messages ([`MessageTraceHeader`]) have optional fields
/// and are parsed on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderKind {
    /// [`EventHeader`] (manifest, TraceLogging, EventSource): types 0x12, 0x13.
    Event,
    /// [`EventTraceHeader`] (classic MOF): types 0x0A, 0x14.
    Classic,
    /// [`EventInstanceGuidHeader`]: types 0x0B, 0x15.
    Instance,
    /// [`SystemTraceHeader`] (kernel logger): types 0x01, 0x02.
    System,
    /// [`CompactTraceHeader`]: types 0x03, 0x04.
    Compact,
    /// [`PerfinfoTraceHeader`]: types 0x10, 0x11.
    Perfinfo,
}

impl HeaderKind {
    /// The kind of a `TRACE_HEADER_TYPE_*` byte; `None` for messages and unknown types.
    #[inline]
    pub const fn of(header_type: u8) -> Option<HeaderKind> {
        Some(match header_type {
            TRACE_HEADER_TYPE_EVENT_HEADER32 | TRACE_HEADER_TYPE_EVENT_HEADER64 => {
                HeaderKind::Event
            }
            TRACE_HEADER_TYPE_FULL_HEADER32 | TRACE_HEADER_TYPE_FULL_HEADER64 => {
                HeaderKind::Classic
            }
            TRACE_HEADER_TYPE_INSTANCE32 | TRACE_HEADER_TYPE_INSTANCE64 => HeaderKind::Instance,
            TRACE_HEADER_TYPE_SYSTEM32 | TRACE_HEADER_TYPE_SYSTEM64 => HeaderKind::System,
            TRACE_HEADER_TYPE_COMPACT32 | TRACE_HEADER_TYPE_COMPACT64 => HeaderKind::Compact,
            TRACE_HEADER_TYPE_PERFINFO32 | TRACE_HEADER_TYPE_PERFINFO64 => HeaderKind::Perfinfo,
            _ => return None,
        })
    }

    /// Size of the fixed header: the smallest valid record of this kind.
    #[inline]
    pub const fn header_size(self) -> usize {
        match self {
            HeaderKind::Event => size_of::<EventHeader>(),
            HeaderKind::Classic => size_of::<EventTraceHeader>(),
            HeaderKind::Instance => size_of::<EventInstanceGuidHeader>(),
            HeaderKind::System => size_of::<SystemTraceHeader>(),
            HeaderKind::Compact => size_of::<CompactTraceHeader>(),
            HeaderKind::Perfinfo => size_of::<PerfinfoTraceHeader>(),
        }
    }

    /// True for the kernel logger headers, whose first 16 bits are a version and whose size
    /// is in the `WMI_TRACE_PACKET` that follows the prefix.
    #[inline]
    pub const fn is_kernel(self) -> bool {
        matches!(
            self,
            HeaderKind::System | HeaderKind::Compact | HeaderKind::Perfinfo
        )
    }

    /// Offset of the 16-bit record size (header included).
    #[inline]
    pub const fn size_at(self) -> usize {
        if self.is_kernel() {
            offset_of!(SystemTraceHeader, size)
        } else {
            offset_of!(RecordPrefix, size_or_version)
        }
    }

    /// Bytes needed to read the size (and, for kernel headers, the hook id).
    #[inline]
    pub const fn prefix_size(self) -> usize {
        if self.is_kernel() {
            offset_of!(SystemTraceHeader, thread_id)
        } else {
            size_of::<RecordPrefix>()
        }
    }

    /// Offset of the raw timestamp (`i64`, session clock).
    #[inline]
    pub const fn timestamp_at(self) -> usize {
        match self {
            HeaderKind::Event => offset_of!(EventHeader, time_stamp),
            HeaderKind::Classic => offset_of!(EventTraceHeader, time_stamp),
            HeaderKind::Instance => offset_of!(EventInstanceGuidHeader, time_stamp),
            HeaderKind::System => offset_of!(SystemTraceHeader, system_time),
            HeaderKind::Compact => offset_of!(CompactTraceHeader, system_time),
            HeaderKind::Perfinfo => offset_of!(PerfinfoTraceHeader, system_time),
        }
    }
}

/// The layout facts of one [`HeaderKind`], gathered for the readers' per-record loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderLayout {
    /// The kind.
    pub kind: HeaderKind,
    /// [`HeaderKind::header_size`].
    pub header_size: u16,
    /// [`HeaderKind::size_at`].
    pub size_at: u8,
    /// [`HeaderKind::prefix_size`].
    pub prefix_size: u8,
    /// [`HeaderKind::timestamp_at`].
    pub timestamp_at: u8,
}

impl HeaderKind {
    /// The kind's [`HeaderLayout`].
    pub const fn layout(self) -> HeaderLayout {
        HeaderLayout {
            kind: self,
            header_size: self.header_size() as u16,
            size_at: self.size_at() as u8,
            prefix_size: self.prefix_size() as u8,
            timestamp_at: self.timestamp_at() as u8,
        }
    }
}

/// `SYSTEM_TRACE_HEADER.Version` written by current kernels.
pub const SYSTEM_TRACE_VERSION: u16 = 2;

/// The 4-byte prefix every typed record starts with.
///
/// For `EVENT_HEADER`, `EVENT_TRACE_HEADER` and instance headers `size_or_version` is the
/// record size; for system, compact and perfinfo headers it is the version and the size sits in
/// the following packet (see [`SystemTraceHeader::size`]).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct RecordPrefix {
    /// Record size (event/classic/instance/message headers) or header version (system headers).
    pub size_or_version: U16,
    /// One of the `TRACE_HEADER_TYPE_*` values.
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`] bits (and [`TRACE_MESSAGE`] >> 24 for messages).
    pub marker_flags: u8,
}

// ---------------------------------------------------------------------------------------------
// System (kernel logger) headers
// ---------------------------------------------------------------------------------------------

/// `SYSTEM_TRACE_HEADER` (32 bytes), kernel events and the logfile header event.
///
/// The hook id is `group << 8 | type` (`EVENT_TRACE_GROUP_*` | event type).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct SystemTraceHeader {
    /// [`SYSTEM_TRACE_VERSION`].
    pub version: U16,
    /// [`TRACE_HEADER_TYPE_SYSTEM32`] or [`TRACE_HEADER_TYPE_SYSTEM64`].
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`].
    pub marker_flags: u8,
    /// Record size, header included (`WMI_TRACE_PACKET.Size`).
    pub size: U16,
    /// `WMI_TRACE_PACKET.HookId`: group (high byte) and type (low byte).
    pub hook_id: U16,
    /// Thread id of the logging thread.
    pub thread_id: U32,
    /// Process id of the logging process.
    pub process_id: U32,
    /// Timestamp in the session clock.
    pub system_time: I64,
    /// Kernel-mode CPU time of the thread (ticks).
    pub kernel_time: U32,
    /// User-mode CPU time of the thread (ticks).
    pub user_time: U32,
}

/// Compact `SYSTEM_TRACE_HEADER` (24 bytes): no CPU times.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct CompactTraceHeader {
    /// Header version.
    pub version: U16,
    /// [`TRACE_HEADER_TYPE_COMPACT32`] or [`TRACE_HEADER_TYPE_COMPACT64`].
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`] bits.
    pub marker_flags: u8,
    /// Record size, header included.
    pub size: U16,
    /// `WMI_TRACE_PACKET.HookId`: group (high byte) and type (low byte).
    pub hook_id: U16,
    /// Thread id of the logging thread.
    pub thread_id: U32,
    /// Process id of the logging process.
    pub process_id: U32,
    /// Timestamp in the session clock.
    pub system_time: I64,
}

/// `PERFINFO_TRACE_HEADER` (16 bytes): kernel performance events without thread/process ids.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct PerfinfoTraceHeader {
    /// Header version.
    pub version: U16,
    /// [`TRACE_HEADER_TYPE_PERFINFO32`] or [`TRACE_HEADER_TYPE_PERFINFO64`].
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`] bits.
    pub marker_flags: u8,
    /// Record size, header included.
    pub size: U16,
    /// `WMI_TRACE_PACKET.HookId`: group (high byte) and type (low byte).
    pub hook_id: U16,
    /// Timestamp in the session clock.
    pub system_time: I64,
}

/// Kernel event groups: the high byte of a hook id.
pub mod group {
    /// Logfile header and other trace-session events.
    pub const HEADER: u8 = 0x00;
    /// Disk I/O.
    pub const IO: u8 = 0x01;
    /// Page faults.
    pub const MEMORY: u8 = 0x02;
    /// Processes (and image loads under old hook ids).
    pub const PROCESS: u8 = 0x03;
    /// File I/O.
    pub const FILE: u8 = 0x04;
    /// Threads.
    pub const THREAD: u8 = 0x05;
    /// TCP/IP.
    pub const TCPIP: u8 = 0x06;
    /// Jobs.
    pub const JOB: u8 = 0x07;
    /// UDP/IP.
    pub const UDPIP: u8 = 0x08;
    /// Registry.
    pub const REGISTRY: u8 = 0x09;
    /// Debug prints.
    pub const DBGPRINT: u8 = 0x0A;
    /// System configuration.
    pub const CONFIG: u8 = 0x0B;
    /// Spare.
    pub const SPARE1: u8 = 0x0C;
    /// Windows Notification Facility.
    pub const WNF: u8 = 0x0D;
    /// Pool allocations.
    pub const POOL: u8 = 0x0E;
    /// Performance info (samples, interrupts).
    pub const PERFINFO: u8 = 0x0F;
    /// Heaps.
    pub const HEAP: u8 = 0x10;
    /// Objects.
    pub const OBJECT: u8 = 0x11;
    /// Power.
    pub const POWER: u8 = 0x12;
    /// Module boundaries.
    pub const MODBOUND: u8 = 0x13;
    /// Image loads.
    pub const IMAGE: u8 = 0x14;
    /// DPCs.
    pub const DPC: u8 = 0x15;
    /// Cache manager.
    pub const CC: u8 = 0x16;
    /// Critical sections.
    pub const CRITSEC: u8 = 0x17;
    /// Stack walks.
    pub const STACKWALK: u8 = 0x18;
    /// User-mode scheduling.
    pub const UMS: u8 = 0x19;
    /// ALPC.
    pub const ALPC: u8 = 0x1A;
    /// Split I/O.
    pub const SPLITIO: u8 = 0x1B;
    /// Thread pools.
    pub const THREAD_POOL: u8 = 0x1C;
    /// Hypervisor.
    pub const HYPERVISOR: u8 = 0x1D;
    /// Hypervisor (extended).
    pub const HYPERVISORX: u8 = 0x1E;
}

// ---------------------------------------------------------------------------------------------
// EVENT_HEADER (manifest, TraceLogging, EventSource)
// ---------------------------------------------------------------------------------------------

/// `EVENT_DESCRIPTOR` (16 bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct EventDescriptor {
    /// Event id.
    pub id: U16,
    /// Header version.
    pub version: u8,
    /// Channel.
    pub channel: u8,
    /// Level (1 critical .. 5 verbose).
    pub level: u8,
    /// Opcode.
    pub opcode: u8,
    /// Task.
    pub task: U16,
    /// Keyword bits.
    pub keyword: U64,
}

/// `EVENT_HEADER` as stored in a buffer (80 bytes). Header type 0x12 or 0x13.
///
/// The first 4 bytes are the record prefix: `size` (whole record, extended items and payload
/// included), `header_type` and `marker_flags`. With [`EVENT_HEADER_FLAG_EXTENDED_INFO`] the
/// header is followed by [`EventHeaderExtendedItem`]s, then the user data.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct EventHeader {
    /// Record size, header included.
    pub size: U16,
    /// [`TRACE_HEADER_TYPE_EVENT_HEADER32`] or [`TRACE_HEADER_TYPE_EVENT_HEADER64`].
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`].
    pub marker_flags: u8,
    /// [`EVENT_HEADER_FLAG_*`](EVENT_HEADER_FLAG_EXTENDED_INFO).
    pub flags: U16,
    /// [`EVENT_HEADER_PROPERTY_*`](EVENT_HEADER_PROPERTY_XML).
    pub event_property: U16,
    /// Thread id of the logging thread.
    pub thread_id: U32,
    /// Process id of the logging process.
    pub process_id: U32,
    /// Timestamp in the session clock.
    pub time_stamp: I64,
    /// Provider GUID.
    pub provider_id: Guid,
    /// The event descriptor.
    pub event_descriptor: EventDescriptor,
    /// `KernelTime` (low half) and `UserTime` (high half), or `ProcessorTime`.
    pub processor_time: U64,
    /// Activity id (all zero when none).
    pub activity_id: Guid,
}

/// Extended data items follow the header.
pub const EVENT_HEADER_FLAG_EXTENDED_INFO: u16 = 0x0001;
/// Private session event.
pub const EVENT_HEADER_FLAG_PRIVATE_SESSION: u16 = 0x0002;
/// The user data is one NUL-terminated UTF-16 string.
pub const EVENT_HEADER_FLAG_STRING_ONLY: u16 = 0x0004;
/// `TraceMessage` event.
pub const EVENT_HEADER_FLAG_TRACE_MESSAGE: u16 = 0x0008;
/// `processor_time` is not valid.
pub const EVENT_HEADER_FLAG_NO_CPUTIME: u16 = 0x0010;
/// Written by a 32-bit producer (pointer size 4).
pub const EVENT_HEADER_FLAG_32_BIT_HEADER: u16 = 0x0020;
/// Written by a 64-bit producer (pointer size 8).
pub const EVENT_HEADER_FLAG_64_BIT_HEADER: u16 = 0x0040;
/// Decode the event with the provider GUID, not the control GUID.
pub const EVENT_HEADER_FLAG_DECODE_GUID: u16 = 0x0080;
/// Classic (MOF) event converted to an `EVENT_HEADER`.
pub const EVENT_HEADER_FLAG_CLASSIC_HEADER: u16 = 0x0100;
/// Processor index instead of number.
pub const EVENT_HEADER_FLAG_PROCESSOR_INDEX: u16 = 0x0200;

/// The user data is XML.
pub const EVENT_HEADER_PROPERTY_XML: u16 = 0x0001;
/// Forwarded XML.
pub const EVENT_HEADER_PROPERTY_FORWARDED_XML: u16 = 0x0002;
/// Legacy event-log event.
pub const EVENT_HEADER_PROPERTY_LEGACY_EVENTLOG: u16 = 0x0004;
/// Relogged event.
pub const EVENT_HEADER_PROPERTY_RELOGGABLE: u16 = 0x0008;

/// One extended data item as stored after an [`EventHeader`] (8 bytes, then the data).
///
/// In memory this is `EVENT_HEADER_EXTENDED_DATA_ITEM` with a data pointer; in a buffer the
/// data follows inline, `reserved1` holds the item's size padded to 8 (header included, the
/// distance to the next item) and `linkage` bit 0 says another item follows.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct EventHeaderExtendedItem {
    /// Item size in the buffer (8-byte header + data, padded to 8).
    pub reserved1: U16,
    /// [`EVENT_HEADER_EXT_TYPE_*`](EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID).
    pub ext_type: U16,
    /// Bit 0: another item follows.
    pub linkage: U16,
    /// Bytes of data after this 8-byte header.
    pub data_size: U16,
}

/// Related activity id (GUID).
pub const EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID: u16 = 0x0001;
/// User SID (`SID` structure).
pub const EVENT_HEADER_EXT_TYPE_SID: u16 = 0x0002;
/// Terminal session id (u32).
pub const EVENT_HEADER_EXT_TYPE_TS_ID: u16 = 0x0003;
/// Instance information.
pub const EVENT_HEADER_EXT_TYPE_INSTANCE_INFO: u16 = 0x0004;
/// Stack trace, 32-bit addresses: u64 match id then u32s.
pub const EVENT_HEADER_EXT_TYPE_STACK_TRACE32: u16 = 0x0005;
/// Stack trace, 64-bit addresses: u64 match id then u64s.
pub const EVENT_HEADER_EXT_TYPE_STACK_TRACE64: u16 = 0x0006;
/// PEBS index.
pub const EVENT_HEADER_EXT_TYPE_PEBS_INDEX: u16 = 0x0007;
/// PMC counters.
pub const EVENT_HEADER_EXT_TYPE_PMC_COUNTERS: u16 = 0x0008;
/// PSM key.
pub const EVENT_HEADER_EXT_TYPE_PSM_KEY: u16 = 0x0009;
/// Event key (u64).
pub const EVENT_HEADER_EXT_TYPE_EVENT_KEY: u16 = 0x000A;
/// TraceLogging event metadata (schema).
pub const EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL: u16 = 0x000B;
/// Provider traits (provider name, group GUID).
pub const EVENT_HEADER_EXT_TYPE_PROV_TRAITS: u16 = 0x000C;
/// Process start key (u64).
pub const EVENT_HEADER_EXT_TYPE_PROCESS_START_KEY: u16 = 0x000D;
/// Control GUID.
pub const EVENT_HEADER_EXT_TYPE_CONTROL_GUID: u16 = 0x000E;
/// QPC delta.
pub const EVENT_HEADER_EXT_TYPE_QPC_DELTA: u16 = 0x000F;
/// Container id (GUID).
pub const EVENT_HEADER_EXT_TYPE_CONTAINER_ID: u16 = 0x0010;
/// Stack key, 32-bit.
pub const EVENT_HEADER_EXT_TYPE_STACK_KEY32: u16 = 0x0011;
/// Stack key, 64-bit.
pub const EVENT_HEADER_EXT_TYPE_STACK_KEY64: u16 = 0x0012;

// ---------------------------------------------------------------------------------------------
// Classic (MOF) headers
// ---------------------------------------------------------------------------------------------

/// `EVENT_TRACE_HEADER` as stored in a buffer (48 bytes), header type 0x0A or 0x14.
///
/// `class_type` / `class_level` / `class_version` are `Class.Type/Level/Version`; the GUID is
/// stored inline (a `GuidPtr` is resolved by the logger).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct EventTraceHeader {
    /// Record size, header included.
    pub size: U16,
    /// [`TRACE_HEADER_TYPE_FULL_HEADER32`] or [`TRACE_HEADER_TYPE_FULL_HEADER64`].
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`] bits.
    pub marker_flags: u8,
    /// Event type (opcode).
    pub class_type: u8,
    /// Level.
    pub class_level: u8,
    /// Event version.
    pub class_version: U16,
    /// Thread id of the logging thread.
    pub thread_id: U32,
    /// Process id of the logging process.
    pub process_id: U32,
    /// Timestamp in the session clock.
    pub time_stamp: I64,
    /// Event class GUID.
    pub guid: Guid,
    /// `KernelTime`/`UserTime`, `ProcessorTime` or `ClientContext`/`Flags`.
    pub processor_time: U64,
}

/// `EVENT_INSTANCE_GUID_HEADER` as stored in a buffer (72 bytes), header type 0x0B or 0x15.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct EventInstanceGuidHeader {
    /// Record size, header included.
    pub size: U16,
    /// [`TRACE_HEADER_TYPE_INSTANCE32`] or [`TRACE_HEADER_TYPE_INSTANCE64`].
    pub header_type: u8,
    /// [`TRACE_HEADER_MARKER`] bits.
    pub marker_flags: u8,
    /// Event type (opcode).
    pub class_type: u8,
    /// Level.
    pub class_level: u8,
    /// Event version.
    pub class_version: U16,
    /// Thread id of the logging thread.
    pub thread_id: U32,
    /// Process id of the logging process.
    pub process_id: U32,
    /// Timestamp in the session clock.
    pub time_stamp: I64,
    /// Event class GUID.
    pub guid: Guid,
    /// `KernelTime`/`UserTime`, `ProcessorTime` or `ClientContext`/`Flags`.
    pub processor_time: U64,
    /// Instance id.
    pub instance_id: U32,
    /// Instance id of the parent event.
    pub parent_instance_id: U32,
    /// Class GUID of the parent event.
    pub parent_guid: Guid,
}

/// `MESSAGE_TRACE_HEADER` (8 bytes): WPP / `TraceMessage` records.
///
/// The first word is `Marker(8) | Reserved(8) | Size(16)` with [`TRACE_MESSAGE`] in the marker.
/// Optional fields follow in this order, each present when its flag is in `option_flags`:
/// sequence (u32, [`TRACE_MESSAGE_SEQUENCE`]), component id (u32,
/// [`TRACE_MESSAGE_COMPONENTID`]) or GUID (16 bytes, [`TRACE_MESSAGE_GUID`]), timestamp (i64,
/// [`TRACE_MESSAGE_TIMESTAMP`]), thread id + process id (2 × u32,
/// [`TRACE_MESSAGE_SYSTEMINFO`]); then the message arguments.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct MessageTraceHeader {
    /// Record size, header included.
    pub size: U16,
    /// Reserved.
    pub reserved: u8,
    /// Marker byte: bit 4 ([`TRACE_MESSAGE`] >> 24) set, optionally bit 7.
    pub marker: u8,
    /// Message number (the WPP message id).
    pub message_number: U16,
    /// [`TRACE_MESSAGE_*`](TRACE_MESSAGE_SEQUENCE).
    pub option_flags: U16,
}

/// A sequence number follows the message header.
pub const TRACE_MESSAGE_SEQUENCE: u16 = 0x0001;
/// A message GUID follows.
pub const TRACE_MESSAGE_GUID: u16 = 0x0002;
/// A component id follows.
pub const TRACE_MESSAGE_COMPONENTID: u16 = 0x0004;
/// A timestamp follows.
pub const TRACE_MESSAGE_TIMESTAMP: u16 = 0x0008;
/// The timestamp is a performance counter.
pub const TRACE_MESSAGE_PERFORMANCE_TIMESTAMP: u16 = 0x0010;
/// Thread and process ids follow.
pub const TRACE_MESSAGE_SYSTEMINFO: u16 = 0x0020;
/// Logged by a 32-bit provider.
pub const TRACE_MESSAGE_POINTER32: u16 = 0x0040;
/// Logged by a 64-bit provider.
pub const TRACE_MESSAGE_POINTER64: u16 = 0x0080;

// ---------------------------------------------------------------------------------------------
// TRACE_LOGFILE_HEADER
// ---------------------------------------------------------------------------------------------

/// `SYSTEMTIME` (16 bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct SystemTime {
    /// Year.
    pub year: U16,
    /// Month (1..12).
    pub month: U16,
    /// Day of the week (0 = Sunday).
    pub day_of_week: U16,
    /// Day of the month.
    pub day: U16,
    /// Hour.
    pub hour: U16,
    /// Minute.
    pub minute: U16,
    /// Second.
    pub second: U16,
    /// Milliseconds.
    pub milliseconds: U16,
}

/// `TIME_ZONE_INFORMATION` (172 bytes). Biases are minutes, UTC = local + bias.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct TimeZoneInformation {
    /// Minutes; UTC = local time + bias.
    pub bias: I32,
    /// NUL-padded UTF-16.
    pub standard_name: [U16; 32],
    /// When standard time begins.
    pub standard_date: SystemTime,
    /// Bias added in standard time (minutes).
    pub standard_bias: I32,
    /// NUL-padded UTF-16.
    pub daylight_name: [U16; 32],
    /// When daylight saving time begins.
    pub daylight_date: SystemTime,
    /// Bias added in daylight saving time (minutes).
    pub daylight_bias: I32,
}

impl Default for TimeZoneInformation {
    fn default() -> Self {
        TimeZoneInformation::new_zeroed()
    }
}

/// The pointer-size independent start of `TRACE_LOGFILE_HEADER` (56 bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TraceLogfileHeaderBase {
    /// 0x00: buffer size of the session, in bytes.
    pub buffer_size: U32,
    /// 0x04: `VersionDetail.MajorVersion` (OS major).
    pub major_version: u8,
    /// 0x05: OS minor.
    pub minor_version: u8,
    /// 0x06: sub version.
    pub sub_version: u8,
    /// 0x07: sub-minor version.
    pub sub_minor_version: u8,
    /// 0x08: OS build number.
    pub provider_version: U32,
    /// 0x0C: number of processors.
    pub number_of_processors: U32,
    /// 0x10: end time (FILETIME, UTC).
    pub end_time: I64,
    /// 0x18: timer resolution, 100 ns units.
    pub timer_resolution: U32,
    /// 0x1C: maximum file size (MB).
    pub maximum_file_size: U32,
    /// 0x20: [`EVENT_TRACE_*`](EVENT_TRACE_FILE_MODE_SEQUENTIAL) log file mode.
    pub log_file_mode: U32,
    /// 0x24: buffers written.
    pub buffers_written: U32,
    /// 0x28: `StartBuffers` (or `LogInstanceGuid.Data1`).
    pub start_buffers: U32,
    /// 0x2C: producer pointer size in bytes (4 or 8).
    pub pointer_size: U32,
    /// 0x30: events lost.
    pub events_lost: U32,
    /// 0x34: CPU speed in MHz (frequency of [`CLOCK_TYPE_CPU_CYCLE`]).
    pub cpu_speed_in_mhz: U32,
}

/// The fields after the two name pointers, from `TimeZone` to `BuffersLost` (208 bytes with
/// the 4 padding bytes `BootTime`'s 8-byte alignment puts after the time zone).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TraceLogfileHeaderTail {
    /// Time zone of the recording machine.
    pub time_zone: TimeZoneInformation,
    /// Alignment padding before `BootTime`.
    pub padding: [u8; 4],
    /// Boot time (FILETIME, UTC).
    pub boot_time: I64,
    /// Frequency of the session clock for [`CLOCK_TYPE_QPC`] (ticks per second).
    pub perf_freq: I64,
    /// Start time (FILETIME, UTC).
    pub start_time: I64,
    /// Clock type: [`CLOCK_TYPE_QPC`], [`CLOCK_TYPE_SYSTEM_TIME`] or [`CLOCK_TYPE_CPU_CYCLE`].
    pub reserved_flags: U32,
    /// Buffers lost.
    pub buffers_lost: U32,
}

/// `TRACE_LOGFILE_HEADER` written by a 32-bit logger (272 bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TraceLogfileHeader32 {
    /// Fields before the name pointers.
    pub base: TraceLogfileHeaderBase,
    /// `LoggerName` pointer (meaningless in a file; the string follows the header).
    pub logger_name: U32,
    /// `LogFileName` pointer (likewise).
    pub log_file_name: U32,
    /// Fields after the name pointers.
    pub tail: TraceLogfileHeaderTail,
}

/// `TRACE_LOGFILE_HEADER` written by a 64-bit logger (280 bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TraceLogfileHeader64 {
    /// Fields before the name pointers.
    pub base: TraceLogfileHeaderBase,
    /// `LoggerName` pointer (meaningless in a file; the string follows the header).
    pub logger_name: U64,
    /// `LogFileName` pointer (likewise).
    pub log_file_name: U64,
    /// Fields after the name pointers.
    pub tail: TraceLogfileHeaderTail,
}

/// The two pointer-size forms of `TRACE_LOGFILE_HEADER`, like object's `ImageNtHeaders`.
pub trait TraceLogfileHeader: FromBytes + IntoBytes + KnownLayout + Immutable + Unaligned {
    /// Pointer size of the logger that wrote it.
    const POINTER_SIZE: usize;
    /// Fields before the name pointers.
    fn base(&self) -> &TraceLogfileHeaderBase;
    /// Fields after the name pointers.
    fn tail(&self) -> &TraceLogfileHeaderTail;
}

impl TraceLogfileHeader for TraceLogfileHeader32 {
    const POINTER_SIZE: usize = 4;
    fn base(&self) -> &TraceLogfileHeaderBase {
        &self.base
    }
    fn tail(&self) -> &TraceLogfileHeaderTail {
        &self.tail
    }
}

impl TraceLogfileHeader for TraceLogfileHeader64 {
    const POINTER_SIZE: usize = 8;
    fn base(&self) -> &TraceLogfileHeaderBase {
        &self.base
    }
    fn tail(&self) -> &TraceLogfileHeaderTail {
        &self.tail
    }
}

/// `ReservedFlags` clock type: QueryPerformanceCounter, frequency `perf_freq`.
pub const CLOCK_TYPE_QPC: u32 = 1;
/// `ReservedFlags` clock type: system time (FILETIME, 100 ns).
pub const CLOCK_TYPE_SYSTEM_TIME: u32 = 2;
/// `ReservedFlags` clock type: CPU cycle counter, frequency `cpu_speed_in_mhz` MHz.
pub const CLOCK_TYPE_CPU_CYCLE: u32 = 3;

/// Hook id of the logfile header event (`EVENT_TRACE_GROUP_HEADER | EVENT_TRACE_TYPE_INFO`).
pub const WMI_LOG_TYPE_HEADER: u16 = 0x0000;

/// Log file mode: sequential file.
pub const EVENT_TRACE_FILE_MODE_SEQUENTIAL: u32 = 0x0000_0001;
/// Log file mode: circular file.
pub const EVENT_TRACE_FILE_MODE_CIRCULAR: u32 = 0x0000_0002;
/// Log file mode: append.
pub const EVENT_TRACE_FILE_MODE_APPEND: u32 = 0x0000_0004;
/// Log file mode: new file per size limit.
pub const EVENT_TRACE_FILE_MODE_NEWFILE: u32 = 0x0000_0008;
/// Log file mode: real time.
pub const EVENT_TRACE_REAL_TIME_MODE: u32 = 0x0000_0100;
/// Log file mode: private (process) logger.
pub const EVENT_TRACE_PRIVATE_LOGGER_MODE: u32 = 0x0000_0800;
/// Log file mode: file written by the relogger.
pub const EVENT_TRACE_RELOG_MODE: u32 = 0x0001_0000;
/// Log file mode: paged memory buffers.
pub const EVENT_TRACE_USE_PAGED_MEMORY: u32 = 0x0100_0000;
/// Log file mode: system logger.
pub const EVENT_TRACE_SYSTEM_LOGGER_MODE: u32 = 0x0200_0000;
/// Log file mode: buffers are compressed (see [`ETW_BUFFER_FLAG_COMPRESSED`]).
pub const EVENT_TRACE_COMPRESSED_MODE: u32 = 0x0400_0000;
/// Log file mode: independent session.
pub const EVENT_TRACE_INDEPENDENT_SESSION_MODE: u32 = 0x0800_0000;

// Compile-time size checks.
const _: () = {
    assert!(core::mem::size_of::<Guid>() == 16);
    assert!(core::mem::size_of::<WmiBufferHeader>() == BUFFER_HEADER_SIZE);
    assert!(core::mem::size_of::<RecordPrefix>() == 4);
    assert!(core::mem::size_of::<SystemTraceHeader>() == 32);
    assert!(core::mem::size_of::<CompactTraceHeader>() == 24);
    assert!(core::mem::size_of::<PerfinfoTraceHeader>() == 16);
    assert!(core::mem::size_of::<EventDescriptor>() == 16);
    assert!(core::mem::size_of::<EventHeader>() == 80);
    assert!(core::mem::size_of::<EventHeaderExtendedItem>() == 8);
    assert!(core::mem::size_of::<EventTraceHeader>() == 48);
    assert!(core::mem::size_of::<EventInstanceGuidHeader>() == 72);
    assert!(core::mem::size_of::<MessageTraceHeader>() == 8);
    assert!(core::mem::size_of::<SystemTime>() == 16);
    assert!(core::mem::size_of::<TimeZoneInformation>() == 172);
    assert!(core::mem::size_of::<TraceLogfileHeaderBase>() == 0x38);
    assert!(core::mem::size_of::<TraceLogfileHeaderTail>() == 208);
    assert!(core::mem::size_of::<TraceLogfileHeader32>() == 0x110);
    assert!(core::mem::size_of::<TraceLogfileHeader64>() == 0x118);
};
