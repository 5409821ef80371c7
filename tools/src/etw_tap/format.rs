//! On-disk layouts of the tap's record file: the structs of `tests/windows/tap/wsktap.h`, as
//! alignment-1 little-endian structs (sizes checked at compile time below).

use zerocopy::little_endian::{I32, I64, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::etl::format::{EventDescriptor, Guid};

/// `TAP_MAGIC`: the file's first 8 bytes.
pub const MAGIC: [u8; 8] = *b"WSKTAP\r\n";
/// `TAP_VERSION`.
pub const VERSION: u32 = 1;
/// Records start on 8-byte boundaries and their sizes are multiples of 8.
pub const ALIGNMENT: usize = 8;

/// `TAP_REGISTER`.
pub const KIND_REGISTER: u32 = 1;
/// `TAP_SET_INFORMATION`.
pub const KIND_SET_INFORMATION: u32 = 2;
/// `TAP_WRITE`.
pub const KIND_WRITE: u32 = 3;
/// `TAP_UNREGISTER`.
pub const KIND_UNREGISTER: u32 = 4;
/// `TAP_ACTIVITY_ID`.
pub const KIND_ACTIVITY_ID: u32 = 5;

/// `TAP_WRITE_ACTIVITY_ID`: the write had an `ActivityId`.
pub const WRITE_ACTIVITY_ID: u32 = 1;
/// `TAP_WRITE_RELATED_ACTIVITY_ID`: the write had a `RelatedActivityId`.
pub const WRITE_RELATED_ACTIVITY_ID: u32 = 2;

/// `TAP_THREAD_CALLER`.
pub const THREAD_CALLER: u32 = 0;
/// `TAP_THREAD_ENDED`.
pub const THREAD_ENDED: u32 = 1;
/// `TAP_THREAD_RUNNING`.
pub const THREAD_RUNNING: u32 = 2;

/// `struct tap_file_header`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct FileHeader {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`VERSION`].
    pub version: U32,
    /// Active processors, all groups.
    pub processors: U32,
    /// Counts per second of `KeQueryPerformanceCounter`.
    pub qpc_frequency: I64,
    /// The counter when the file was created.
    pub start_qpc: I64,
    /// `KeQuerySystemTime` at `start_qpc` (FILETIME, UTC).
    pub start_system_time: I64,
    /// Major Windows version the kernel reports (`RtlGetVersion`).
    pub os_major: U32,
    /// Minor Windows version the kernel reports.
    pub os_minor: U32,
    /// Build number the kernel reports.
    pub os_build: U32,
    /// The registry's `~MHz` of processor 0 (0 if absent).
    pub cpu_mhz: U32,
}

/// `struct tap_record_header`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RecordHeader {
    /// The whole record, padding included.
    pub size: U32,
    /// One of the `KIND_*` values.
    pub kind: U32,
    /// `KeQueryPerformanceCounter` at the call.
    pub qpc: I64,
    /// The calling thread.
    pub thread_id: U32,
    /// The calling process.
    pub process_id: U32,
    /// The processor the call ran on.
    pub processor: U32,
    /// The `NTSTATUS` the tap returned.
    pub status: I32,
    /// The `REGHANDLE` (0 for an activity-id record).
    pub handle: U64,
}

/// `struct tap_register_body`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RegisterBody {
    /// The provider GUID, as in memory.
    pub provider_id: Guid,
    /// The keyword mask the enable callback was given.
    pub match_any_keyword: U64,
    /// The all-keywords mask the enable callback was given.
    pub match_all_keyword: U64,
    /// The level the enable callback was given.
    pub level: U32,
    /// The control code it was given; 0 when there was no callback.
    pub control_code: U32,
}

/// `struct tap_set_information_body` (then `length` bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct SetInformationBody {
    /// `EVENT_INFO_CLASS`.
    pub information_class: U32,
    /// Bytes that follow.
    pub length: U32,
}

/// `struct tap_write_body` (then `count` [`DataHeader`]s, each followed by its bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct WriteBody {
    /// The `EVENT_DESCRIPTOR` as passed.
    pub descriptor: EventDescriptor,
    /// `WRITE_*` bits: which activity ids were passed.
    pub flags: U32,
    /// `UserDataCount`: the [`DataHeader`]s that follow.
    pub count: U32,
    /// The activity id; zero when absent.
    pub activity_id: Guid,
    /// The related activity id; zero when absent.
    pub related_activity_id: Guid,
}

/// `struct tap_data` (then `size` bytes, padded to 8).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct DataHeader {
    /// Bytes of the data descriptor that follow.
    pub size: U32,
    /// `EVENT_DATA_DESCRIPTOR.Type` (traits, metadata or payload).
    pub data_type: U32,
}

/// `struct tap_unregister_body` (then `count` [`ThreadEntry`]s).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct UnregisterBody {
    /// The [`ThreadEntry`]s that follow.
    pub count: U32,
    /// Zero.
    pub reserved: U32,
}

/// `struct tap_thread`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct ThreadEntry {
    /// A thread that wrote events.
    pub thread_id: U32,
    /// One of the `THREAD_*` values at unregister.
    pub state: U32,
}

/// `struct tap_activity_id_body`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct ActivityIdBody {
    /// `EVENT_ACTIVITY_CTRL_*`.
    pub control_code: U32,
    /// Zero.
    pub reserved: U32,
    /// `*ActivityId` at the call.
    pub before: Guid,
    /// `*ActivityId` at the return.
    pub after: Guid,
}

const _: () = {
    assert!(size_of::<FileHeader>() == 56);
    assert!(size_of::<RecordHeader>() == 40);
    assert!(size_of::<RegisterBody>() == 40);
    assert!(size_of::<SetInformationBody>() == 8);
    assert!(size_of::<WriteBody>() == 56);
    assert!(size_of::<DataHeader>() == 8);
    assert!(size_of::<UnregisterBody>() == 8);
    assert!(size_of::<ThreadEntry>() == 8);
    assert!(size_of::<ActivityIdBody>() == 40);
};
