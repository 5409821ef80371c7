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
    pub magic: [u8; 8],
    pub version: U32,
    pub processors: U32,
    pub qpc_frequency: I64,
    pub start_qpc: I64,
    pub start_system_time: I64,
    pub os_major: U32,
    pub os_minor: U32,
    pub os_build: U32,
    pub cpu_mhz: U32,
}

/// `struct tap_record_header`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RecordHeader {
    pub size: U32,
    pub kind: U32,
    pub qpc: I64,
    pub thread_id: U32,
    pub process_id: U32,
    pub processor: U32,
    pub status: I32,
    pub handle: U64,
}

/// `struct tap_register_body`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct RegisterBody {
    pub provider_id: Guid,
    pub match_any_keyword: U64,
    pub match_all_keyword: U64,
    pub level: U32,
    pub control_code: U32,
}

/// `struct tap_set_information_body` (then `length` bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct SetInformationBody {
    pub information_class: U32,
    pub length: U32,
}

/// `struct tap_write_body` (then `count` [`DataHeader`]s, each followed by its bytes).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct WriteBody {
    pub descriptor: EventDescriptor,
    pub flags: U32,
    pub count: U32,
    pub activity_id: Guid,
    pub related_activity_id: Guid,
}

/// `struct tap_data` (then `size` bytes, padded to 8).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct DataHeader {
    pub size: U32,
    pub data_type: U32,
}

/// `struct tap_unregister_body` (then `count` [`ThreadEntry`]s).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct UnregisterBody {
    pub count: U32,
    pub reserved: U32,
}

/// `struct tap_thread`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct ThreadEntry {
    pub thread_id: U32,
    pub state: U32,
}

/// `struct tap_activity_id_body`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub struct ActivityIdBody {
    pub control_code: U32,
    pub reserved: U32,
    pub before: Guid,
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
