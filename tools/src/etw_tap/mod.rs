//! The record of the Wine run's kernel ETW stand-in, and its conversion to ETL.
//!
//! Wine's kernel has no ETW. The Wine run (`tests/windows/wine-run.sh`, `docs/wine.md`) points
//! the driver image's ETW imports at a small tap module (`tests/windows/tap/wsktap.c`), which
//! enables the provider through its enable callback and appends every call to a file:
//! `EtwRegister` (provider GUID), `EtwSetInformation` (class and bytes), `EtwWriteTransfer`
//! (the `EVENT_DESCRIPTOR`, the activity ids and every `EVENT_DATA_DESCRIPTOR` with its
//! bytes and type), `EtwUnregister` (and whether the threads that wrote events had ended), with
//! each call's thread, process, processor and performance-counter timestamp.
//!
//! - [`read`] / [`parse`]: the record file ([`TapFile`]); every defect is a typed
//!   [`TapError`] with its byte offset.
//! - [`write_etl`]: the ETL file ETW would have written for those calls: one `EVENT_HEADER`
//!   record per `EtwWriteTransfer` whose TraceLogging provider traits (data descriptor type 2,
//!   or the traits set with `EtwSetInformation`) and event metadata (type 1) become the
//!   extended items 12 and 11, and whose payload is the type-0 descriptors' bytes in order.
//!
//! The file layout is defined by `tests/windows/tap/wsktap.h`; [`format`] mirrors it.

mod convert;
pub mod format;
mod read;

pub use convert::{session_config, write_etl, ConvertError, Converted};
pub use read::{parse, read, TapError};

use crate::etl::format::Guid;
use crate::etl::write::Descriptor;

/// A whole record file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapFile {
    /// Counter frequency, ticks per second.
    pub qpc_frequency: u64,
    /// The counter when the file was created.
    pub start_qpc: i64,
    /// The system time (FILETIME, UTC) when the file was created.
    pub start_system_time: i64,
    /// Processors of the machine.
    pub processors: u32,
    /// The Windows version the kernel reports (major, minor, build).
    pub os_version: (u32, u32, u32),
    /// Processor speed in MHz, from the registry (0 when the tap could not read it).
    pub cpu_mhz: u32,
    /// The calls, in file order.
    pub records: Vec<TapRecord>,
}

/// One recorded call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapRecord {
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// Performance counter at the call.
    pub qpc: i64,
    /// Calling thread.
    pub thread_id: u32,
    /// Calling process.
    pub process_id: u32,
    /// Processor the call ran on.
    pub processor: u32,
    /// What the tap returned (`NTSTATUS`).
    pub status: i32,
    /// The provider's registration handle (0 for [`TapCall::ActivityId`]).
    pub handle: u64,
    /// The call.
    pub call: TapCall,
}

/// The recorded calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapCall {
    /// `EtwRegister`.
    Register {
        /// The provider GUID.
        provider: Guid,
        /// What the enable callback was given, when there was one.
        enable: Option<Enable>,
    },
    /// `EtwSetInformation`.
    SetInformation {
        /// `EVENT_INFO_CLASS`.
        class: u32,
        /// The information bytes.
        data: Vec<u8>,
    },
    /// `EtwWriteTransfer`.
    Write(Write),
    /// `EtwUnregister`.
    Unregister {
        /// Every thread that wrote an event of the provider and how it stood at the call.
        threads: Vec<(u32, ThreadState)>,
    },
    /// `EtwActivityIdControl`.
    ActivityId {
        /// `EVENT_ACTIVITY_CTRL_*`.
        control_code: u32,
        /// `*ActivityId` at the call.
        before: Guid,
        /// `*ActivityId` at the return.
        after: Guid,
    },
}

/// The enable callback's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enable {
    /// `EVENT_CONTROL_CODE_*`.
    pub control_code: u32,
    /// Level.
    pub level: u32,
    /// `MatchAnyKeyword`.
    pub match_any_keyword: u64,
    /// `MatchAllKeyword`.
    pub match_all_keyword: u64,
}

/// One `EtwWriteTransfer` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The `EVENT_DESCRIPTOR`.
    pub descriptor: Descriptor,
    /// `ActivityId`, when not NULL.
    pub activity_id: Option<Guid>,
    /// `RelatedActivityId`, when not NULL.
    pub related_activity_id: Option<Guid>,
    /// The `EVENT_DATA_DESCRIPTOR`s in order.
    pub data: Vec<DataItem>,
}

/// One `EVENT_DATA_DESCRIPTOR`: its `Reserved` field (the TraceLogging type) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataItem {
    /// [`DATA_TYPE_PAYLOAD`], [`DATA_TYPE_EVENT_METADATA`] or [`DATA_TYPE_PROVIDER_METADATA`].
    pub data_type: u32,
    /// The bytes it points at.
    pub bytes: Vec<u8>,
}

/// `EVENT_DATA_DESCRIPTOR_TYPE_NONE`: event payload.
pub const DATA_TYPE_PAYLOAD: u32 = 0;
/// `EVENT_DATA_DESCRIPTOR_TYPE_EVENT_METADATA`: the TraceLogging event metadata.
pub const DATA_TYPE_EVENT_METADATA: u32 = 1;
/// `EVENT_DATA_DESCRIPTOR_TYPE_PROVIDER_METADATA`: the TraceLogging provider traits.
pub const DATA_TYPE_PROVIDER_METADATA: u32 = 2;
/// `EventProviderSetTraits` (`EVENT_INFO_CLASS`): `EtwSetInformation` with provider traits.
pub const INFO_CLASS_SET_TRAITS: u32 = 2;

/// How a thread stood when the provider was unregistered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// The thread calling `EtwUnregister`.
    Caller,
    /// Ended (gone, or its thread object signalled).
    Ended,
    /// Still running.
    Running,
}

#[cfg(test)]
mod tests;
