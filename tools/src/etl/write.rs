//! Writing ETL files with the buffer, record and extended-data layout Windows uses.
//!
//! The layout is the one a Windows 10/11 file-mode session writes, as read off the real files
//! in `../shared/corpus/etl/public/` (the model is `airbus-cert__etl-parser/lxcore_kernel.etl`, a
//! kernel-mode TraceLogging driver's trace; `write/tests.rs` rebuilds its TraceLogging records,
//! and whole buffers of manifest events from `microsoft__Tx/KernelNetwork.etl` and
//! `microsoft__krabsetw/powershell.etl`, from their parts and compares them byte for byte):
//!
//! - **Header buffer** (the first, `buffer_size` bytes): a [`WmiBufferHeader`] with
//!   `buffer_type` [`ETW_BUFFER_TYPE_HEADER`], flags `FLUSH_MARKER | PROC_INDEX`, state 3,
//!   timestamp 0, sequence 0 and `saved_offset = current_offset = offset` = filled length;
//!   then the logfile header event (a [`SystemTraceHeader`] with hook id 0, a
//!   [`TraceLogfileHeader64`] and the logger and log file names as NUL-terminated UTF-16) and
//!   the 48-byte hook 0x0050 `EventTrace` record every Windows 10 header buffer in the corpus
//!   carries after it.
//! - **Data buffers**, one open per processor (Windows logs into per-CPU buffers): flags
//!   `PROC_INDEX` (the processor index in bytes 0x28..0x2A), plus `EVENTS_LOST` when the
//!   logger dropped events while the buffer was current, plus `FLUSH_MARKER` on the last buffer
//!   of the file; type [`ETW_BUFFER_TYPE_GENERIC`]; timestamp = flush time; a sequence number
//!   taken when the buffer is first used (so file order and sequence order differ, as in the
//!   corpus); `saved_offset = offset` = filled length; `current_offset` = where the reservation
//!   that closed the buffer would have ended (filled length + the size of the event that did not
//!   fit, or + `buffer_size` for a buffer closed by the end of the session).
//! - **Records** start on 8-byte boundaries; a record's `size` field does not count the
//!   padding, which is written as zeros. The bytes after the filled length are `0xFF`.
//! - **`EVENT_HEADER` records** (type 0x13, marker 0xC0): TraceLogging events carry the
//!   provider-traits item (12) then the event-schema item (11), each as an 8-byte item header
//!   (item size padded to 8, type, linkage bit 0 = "another item follows", data size) and its
//!   data, flag `EXTENDED_INFO`, channel 11; manifest-style events carry no item and flags 0.
//!
//! Timestamps are QueryPerformanceCounter ticks since boot ([`CLOCK_TYPE_QPC`]); the logfile
//! header gives the frequency, the boot time and the start time (the FILETIME of the header
//! event's timestamp), so any reader maps a tick value to UTC and to time since boot.
//!
//! Memory is bounded by `processors × buffer_size`: a buffer is written out as soon as it is
//! full. The header buffer comes first but holds counts only known at the end (buffers
//! written, end time, events lost). Two ways to get them there:
//!
//! - a seekable sink (a `File`, a `Cursor<Vec<u8>>`): [`EtlWriter::new`] writes a placeholder
//!   header and [`EtlWriter::finish`] seeks back to patch it, as Windows' own logger does;
//! - any [`Write`] (a pipe, stdout): when the events can be produced twice, a dry run into
//!   [`Discard`] gives the final counts ([`WriteSummary::plan`]), and
//!   [`EtlWriter::with_plan`] then streams the real file front to back;
//!   [`EtlWriter::finish_planned`] checks that the second run matched the plan.

use std::io::{self, Seek, SeekFrom, Write};

use zerocopy::little_endian::{I32, I64, U16, U32, U64};
use zerocopy::{FromZeros, IntoBytes};

use super::format::{
    EventDescriptor, EventHeader, EventHeaderExtendedItem, Guid, SystemTraceHeader,
    TraceLogfileHeader64, TraceLogfileHeaderBase, TraceLogfileHeaderTail, WmiBufferHeader,
    BUFFER_HEADER_SIZE, CLOCK_TYPE_QPC, ETW_BUFFER_FLAG_EVENTS_LOST, ETW_BUFFER_FLAG_FLUSH_MARKER,
    ETW_BUFFER_FLAG_PROC_INDEX, ETW_BUFFER_TYPE_GENERIC, ETW_BUFFER_TYPE_HEADER,
    EVENT_HEADER_FLAG_EXTENDED_INFO, EVENT_TRACE_FILE_MODE_SEQUENTIAL, RECORD_ALIGNMENT,
    SYSTEM_TRACE_VERSION, TRACE_HEADER_MARKER, TRACE_HEADER_TYPE_EVENT_HEADER64,
    TRACE_HEADER_TYPE_SYSTEM64, WMI_LOG_TYPE_HEADER,
};

/// Hook id of the record Windows 10 writes after the logfile header event in the header buffer
/// (`EVENT_TRACE_GROUP_HEADER`, type 0x50; a [`SystemTraceHeader`] and 48 zero bytes in every
/// Windows 10 file of the corpus: lxcore_kernel, AMSITrace, powershell, primitive-types,
/// ebpforwindows, ...). Its meaning is not documented; it is reproduced for fidelity.
pub const HEADER_EXTENSION_HOOK: u16 = 0x0050;
/// Payload size of the [`HEADER_EXTENSION_HOOK`] record.
pub const HEADER_EXTENSION_PAYLOAD: usize = 48;
/// `ETW_BUFFER_STATE` of every buffer in a file written by Windows (flushed buffers).
pub const BUFFER_STATE_FLUSHED: u32 = 3;
/// The channel TraceLogging events are logged on (`WINEVENT_CHANNEL_TRACELOGGING`).
pub const TRACELOGGING_CHANNEL: u8 = 11;
/// Largest record an `EVENT_HEADER` can describe (its `size` field is a `u16`).
pub const MAX_EVENT_SIZE: usize = u16::MAX as usize;
/// 100 ns intervals per second: the FILETIME unit.
const FILETIME_PER_SECOND: i128 = 10_000_000;

/// Errors of the writer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The sink failed.
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
    /// The configuration cannot describe a valid file.
    #[error("invalid writer configuration: {0}")]
    Config(&'static str),
    /// An event does not fit in one buffer (or exceeds the 64 KiB `EVENT_HEADER` limit).
    #[error("event of {size} bytes does not fit (at most {max} bytes)")]
    EventTooLarge {
        /// The record's size, header included.
        size: usize,
        /// The largest record this writer's buffers hold.
        max: usize,
    },
    /// A planned file ([`EtlWriter::with_plan`]) did not come out as planned: the events
    /// written differ from those of the dry run.
    #[error("the file differs from its plan: planned {planned:?}, written {written:?}")]
    PlanMismatch {
        /// What the dry run gave.
        planned: Plan,
        /// What this run gave.
        written: Plan,
    },
    /// An event names a processor the session does not have.
    #[error("processor {processor} out of range (session has {processors})")]
    ProcessorOutOfRange {
        /// The event's processor.
        processor: u16,
        /// The session's processor count.
        processors: u16,
    },
}

/// The session a file describes: what goes into the logfile header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Size of every buffer in bytes: a multiple of 1024 between 1 KiB and 1 MiB (Windows
    /// allocates buffers in KiB; the corpus has 8 KiB to 1 MiB).
    pub buffer_size: u32,
    /// Number of processors (one open buffer each).
    pub processors: u16,
    /// QueryPerformanceCounter frequency, ticks per second.
    pub perf_freq: u64,
    /// Boot time, FILETIME (100 ns since 1601-01-01 UTC). QPC tick 0 is this instant.
    pub boot_time: i64,
    /// QPC value at which the session started (the logfile header event's timestamp).
    pub start_qpc: i64,
    /// Session (logger) name.
    pub logger_name: String,
    /// Log file path as Windows would record it.
    pub log_file_name: String,
    /// OS major, minor version and build number recorded in the header.
    pub os_version: (u8, u8, u32),
    /// Processor speed in MHz (`CpuSpeedInMHz`).
    pub cpu_speed_mhz: u32,
    /// Logger id in every buffer's `ETW_BUFFER_CONTEXT`.
    pub logger_id: u16,
    /// Process and thread that started the session (the header event's ids).
    pub controller: (u32, u32),
}

impl Default for SessionConfig {
    /// 8 KiB buffers, 2 processors, a 10 MHz QPC, booted 2026-01-01T00:00:00Z, session started
    /// 5 s after boot, Windows 11 24H2 (10.0 build 26100).
    fn default() -> Self {
        SessionConfig {
            buffer_size: 8192,
            processors: 2,
            perf_freq: 10_000_000,
            // 2026-01-01T00:00:00Z as FILETIME.
            boot_time: 134_116_992_000_000_000,
            start_qpc: 50_000_000,
            logger_name: "wsktrace".to_owned(),
            log_file_name: "C:\\wsktrace\\wsktrace.etl".to_owned(),
            os_version: (10, 0, 26100),
            cpu_speed_mhz: 3000,
            logger_id: 0x20,
            controller: (4, 8),
        }
    }
}

impl SessionConfig {
    /// The FILETIME of a QPC timestamp: boot time plus ticks converted to 100 ns units.
    pub fn qpc_to_filetime(&self, qpc: i64) -> i64 {
        let t = i128::from(self.boot_time)
            + i128::from(qpc) * FILETIME_PER_SECOND / i128::from(self.perf_freq.max(1));
        t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// QPC ticks for a duration in nanoseconds (rounded down).
    pub fn ns_to_qpc(&self, ns: u64) -> i64 {
        let t = i128::from(ns) * i128::from(self.perf_freq) / 1_000_000_000;
        t.min(i128::from(i64::MAX)) as i64
    }

    fn validate(&self) -> Result<(), WriteError> {
        if self.buffer_size % 1024 != 0 || !(1024..=1 << 20).contains(&self.buffer_size) {
            return Err(WriteError::Config(
                "buffer size must be a multiple of 1024 between 1 KiB and 1 MiB",
            ));
        }
        if self.processors == 0 {
            return Err(WriteError::Config("processor count must be at least 1"));
        }
        if self.perf_freq == 0 || self.perf_freq > i64::MAX as u64 {
            return Err(WriteError::Config(
                "QPC frequency must be between 1 and i64::MAX",
            ));
        }
        if self.start_qpc < 0 {
            return Err(WriteError::Config("start QPC must not be negative"));
        }
        Ok(())
    }
}

/// One extended data item of an event: its `EVENT_HEADER_EXT_TYPE_*` and its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtItem<'a> {
    /// `EVENT_HEADER_EXT_TYPE_*` (see `format`).
    pub ext_type: u16,
    /// Item data (padded to 8 bytes in the file).
    pub data: &'a [u8],
}

/// The fields of an `EVENT_DESCRIPTOR`, in plain types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// Event id (0 for TraceLogging).
    pub id: u16,
    /// Event version.
    pub version: u8,
    /// Channel ([`TRACELOGGING_CHANNEL`] for TraceLogging).
    pub channel: u8,
    /// Level (4 = informational).
    pub level: u8,
    /// Opcode (1 = start, 2 = stop).
    pub opcode: u8,
    /// Task.
    pub task: u16,
    /// Keyword bits.
    pub keywords: u64,
}

impl From<&EventDescriptor> for Descriptor {
    /// The descriptor of a record read (to write it again).
    fn from(d: &EventDescriptor) -> Descriptor {
        Descriptor {
            id: d.id.get(),
            version: d.version,
            channel: d.channel,
            level: d.level,
            opcode: d.opcode,
            task: d.task.get(),
            keywords: d.keyword.get(),
        }
    }
}

/// One `EVENT_HEADER` event to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// Provider GUID.
    pub provider_id: Guid,
    /// Event descriptor.
    pub descriptor: Descriptor,
    /// QPC timestamp (ticks since boot).
    pub timestamp: i64,
    /// Processor that logged it: picks the per-CPU buffer.
    pub processor: u16,
    /// Logging thread.
    pub thread_id: u32,
    /// Logging process (4 = System for kernel-mode drivers).
    pub process_id: u32,
    /// Activity id (nil when none).
    pub activity_id: Guid,
    /// Extended data items in file order; empty for a manifest-style event.
    pub ext: &'a [ExtItem<'a>],
    /// User data.
    pub payload: &'a [u8],
}

/// What a finished file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteSummary {
    /// Buffers in the file, the header buffer included (`BuffersWritten`).
    pub buffers_written: u32,
    /// Records written, the two header-buffer records included.
    pub records: u64,
    /// Events reported lost ([`EtlWriter::record_lost`]).
    pub events_lost: u32,
    /// QPC end of the session.
    pub end_qpc: i64,
    /// File size in bytes.
    pub bytes: u64,
}

impl WriteSummary {
    /// The counts the header needs, for [`EtlWriter::with_plan`].
    pub fn plan(&self) -> Plan {
        Plan {
            buffers_written: self.buffers_written,
            events_lost: self.events_lost,
            end_qpc: self.end_qpc,
        }
    }
}

/// The logfile-header counts of a file, known before it is written (from a dry run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// `BuffersWritten`.
    pub buffers_written: u32,
    /// `EventsLost`.
    pub events_lost: u32,
    /// QPC end of the session (`EndTime`).
    pub end_qpc: i64,
}

/// A sink that keeps nothing, only its position: for the dry run of a planned file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard {
    pos: u64,
    len: u64,
}

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pos += buf.len() as u64;
        self.len = self.len.max(self.pos);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Discard {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let base = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        self.pos = base.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

/// One per-CPU buffer being filled.
struct OpenBuffer {
    data: Vec<u8>,
    /// Filled length, header included.
    filled: usize,
    sequence: i64,
    flags: u16,
}

/// Streaming ETL writer. See the module documentation for the layout.
pub struct EtlWriter<W: Write> {
    out: W,
    /// The header counts, when they were given up front ([`EtlWriter::with_plan`]).
    plan: Option<Plan>,
    /// Bytes written to the sink.
    written: u64,
    config: SessionConfig,
    /// Open buffer per processor (allocated on first use).
    open: Vec<Option<OpenBuffer>>,
    next_sequence: i64,
    buffers_written: u32,
    records: u64,
    events_lost: u32,
    last_qpc: i64,
    /// Position of the header buffer in the sink.
    origin: u64,
}

impl<W: Write + Seek> EtlWriter<W> {
    /// Starts a file at the sink's current position: writes a placeholder header buffer (its
    /// final counts are written by [`finish`](Self::finish)).
    pub fn new(mut out: W, config: SessionConfig) -> Result<Self, WriteError> {
        config.validate()?;
        let origin = out.stream_position()?;
        EtlWriter::start(out, config, origin, None)
    }

    /// Flushes every open buffer, writes the final header buffer and returns the sink.
    /// `end_qpc` is the session's stop time (raised to the last event's timestamp if earlier).
    /// For a writer made by [`with_plan`](Self::with_plan) this is
    /// [`finish_planned`](Self::finish_planned) (`end_qpc` is the plan's).
    pub fn finish(mut self, end_qpc: i64) -> Result<(W, WriteSummary), WriteError> {
        if self.plan.is_some() {
            return self.finish_planned();
        }
        let end_qpc = self.flush_all(end_qpc)?;
        let end = self.out.stream_position()?;
        let header = self.header_buffer(self.counts(end_qpc))?;
        self.out.seek(SeekFrom::Start(self.origin))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        let summary = self.summary(end_qpc);
        Ok((self.out, summary))
    }
}

impl<W: Write> EtlWriter<W> {
    /// Starts a file whose header counts are known (a dry run's [`WriteSummary::plan`]), on any
    /// sink: the header buffer is written final, nothing is patched later.
    pub fn with_plan(out: W, config: SessionConfig, plan: Plan) -> Result<Self, WriteError> {
        config.validate()?;
        EtlWriter::start(out, config, 0, Some(plan))
    }

    /// Flushes every open buffer of a planned file and returns the sink; fails with
    /// [`WriteError::PlanMismatch`] when the file did not come out as planned (its header
    /// would be wrong).
    pub fn finish_planned(mut self) -> Result<(W, WriteSummary), WriteError> {
        let planned = self
            .plan
            .ok_or(WriteError::Config("not a planned writer"))?;
        let end_qpc = self.flush_all(planned.end_qpc)?;
        self.out.flush()?;
        let summary = self.summary(end_qpc);
        if summary.plan() != planned {
            return Err(WriteError::PlanMismatch {
                planned,
                written: summary.plan(),
            });
        }
        Ok((self.out, summary))
    }

    fn start(
        out: W,
        config: SessionConfig,
        origin: u64,
        plan: Option<Plan>,
    ) -> Result<Self, WriteError> {
        let mut writer = EtlWriter {
            open: (0..config.processors).map(|_| None).collect(),
            out,
            plan,
            written: 0,
            next_sequence: 1,
            buffers_written: 1,
            records: 2,
            events_lost: 0,
            last_qpc: config.start_qpc,
            origin,
            config,
        };
        let counts = plan.unwrap_or_else(|| writer.counts(writer.config.start_qpc));
        let header = writer.header_buffer(counts)?;
        writer.out.write_all(&header)?;
        writer.written += header.len() as u64;
        Ok(writer)
    }

    /// The header counts so far.
    fn counts(&self, end_qpc: i64) -> Plan {
        Plan {
            buffers_written: self.buffers_written,
            events_lost: self.events_lost,
            end_qpc,
        }
    }

    fn summary(&self, end_qpc: i64) -> WriteSummary {
        WriteSummary {
            buffers_written: self.buffers_written,
            records: self.records,
            events_lost: self.events_lost,
            end_qpc,
            bytes: self.written,
        }
    }

    /// The session configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The largest record (header, items and payload) this writer's buffers can hold.
    pub fn max_event_size(&self) -> usize {
        (self.config.buffer_size as usize - BUFFER_HEADER_SIZE).min(MAX_EVENT_SIZE)
    }

    /// Writes one `EVENT_HEADER` event into its processor's buffer, flushing that buffer first
    /// when the event does not fit.
    pub fn write_event(&mut self, event: &Event<'_>) -> Result<(), WriteError> {
        let processor = self.check_processor(event.processor)?;
        let ext_size: usize = event.ext.iter().map(|e| ext_item_size(e.data.len())).sum();
        let size = size_of::<EventHeader>() + ext_size + event.payload.len();
        if size > self.max_event_size() || event.ext.iter().any(|e| e.data.len() > 0xFFF0) {
            return Err(WriteError::EventTooLarge {
                size,
                max: self.max_event_size(),
            });
        }
        let d = &event.descriptor;
        let header = EventHeader {
            size: U16::new(size as u16),
            header_type: TRACE_HEADER_TYPE_EVENT_HEADER64,
            marker_flags: TRACE_HEADER_MARKER,
            flags: U16::new(if event.ext.is_empty() {
                0
            } else {
                EVENT_HEADER_FLAG_EXTENDED_INFO
            }),
            event_property: U16::new(0),
            thread_id: U32::new(event.thread_id),
            process_id: U32::new(event.process_id),
            time_stamp: I64::new(event.timestamp),
            provider_id: event.provider_id,
            event_descriptor: EventDescriptor {
                id: U16::new(d.id),
                version: d.version,
                channel: d.channel,
                level: d.level,
                opcode: d.opcode,
                task: U16::new(d.task),
                keyword: U64::new(d.keywords),
            },
            processor_time: U64::new(0),
            activity_id: event.activity_id,
        };
        let buf = self.reserve(processor, size, event.timestamp)?;
        let mut at = 0;
        put(buf, &mut at, header.as_bytes());
        for (i, item) in event.ext.iter().enumerate() {
            let item_size = ext_item_size(item.data.len());
            let item_header = EventHeaderExtendedItem {
                reserved1: U16::new(item_size as u16),
                ext_type: U16::new(item.ext_type),
                linkage: U16::new(u16::from(i + 1 < event.ext.len())),
                data_size: U16::new(item.data.len() as u16),
            };
            let start = at;
            put(buf, &mut at, item_header.as_bytes());
            put(buf, &mut at, item.data);
            at = start + item_size; // padding stays zero
        }
        put(buf, &mut at, event.payload);
        self.records += 1;
        self.last_qpc = self.last_qpc.max(event.timestamp);
        Ok(())
    }

    /// Records that the logger dropped `count` events on `processor` (buffers full, or the
    /// host recorder's own drops): counted in the logfile header's `EventsLost` and flagged
    /// `EVENTS_LOST` on that processor's current buffer, as Windows marks them.
    pub fn record_lost(&mut self, processor: u16, count: u32) -> Result<(), WriteError> {
        let processor = self.check_processor(processor)?;
        self.events_lost = self.events_lost.saturating_add(count);
        self.open_buffer(processor).flags |= ETW_BUFFER_FLAG_EVENTS_LOST;
        Ok(())
    }

    /// Flushes the open buffers; returns the session end (`end_qpc`, raised to the last
    /// event's timestamp if earlier).
    fn flush_all(&mut self, end_qpc: i64) -> Result<i64, WriteError> {
        let end_qpc = end_qpc.max(self.last_qpc);
        // Flush in the order the buffers were taken; the last one carries the flush marker.
        let mut pending: Vec<(usize, i64)> = self
            .open
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.as_ref().map(|b| (i, b.sequence)))
            .collect();
        pending.sort_by_key(|&(_, seq)| seq);
        let last = pending.len().checked_sub(1);
        for (n, &(processor, _)) in pending.iter().enumerate() {
            let mut buffer = self.open[processor].take().expect("listed as open");
            if Some(n) == last {
                buffer.flags |= ETW_BUFFER_FLAG_FLUSH_MARKER;
            }
            let closing = buffer.filled + self.config.buffer_size as usize;
            self.flush(processor, buffer, end_qpc, closing)?;
        }
        Ok(end_qpc)
    }

    fn check_processor(&self, processor: u16) -> Result<usize, WriteError> {
        if processor < self.config.processors {
            Ok(usize::from(processor))
        } else {
            Err(WriteError::ProcessorOutOfRange {
                processor,
                processors: self.config.processors,
            })
        }
    }

    fn open_buffer(&mut self, processor: usize) -> &mut OpenBuffer {
        let size = self.config.buffer_size as usize;
        let next_sequence = &mut self.next_sequence;
        self.open[processor].get_or_insert_with(|| {
            let sequence = *next_sequence;
            *next_sequence += 1;
            OpenBuffer {
                data: vec![0xFF; size],
                filled: BUFFER_HEADER_SIZE,
                sequence,
                flags: ETW_BUFFER_FLAG_PROC_INDEX,
            }
        })
    }

    /// Space for a record of `size` bytes (zeroed, padding included) in `processor`'s buffer.
    fn reserve(
        &mut self,
        processor: usize,
        size: usize,
        now: i64,
    ) -> Result<&mut [u8], WriteError> {
        let aligned = align(size);
        let capacity = self.config.buffer_size as usize;
        let filled = self.open_buffer(processor).filled;
        if filled + aligned > capacity {
            let full = self.open[processor].take().expect("just opened");
            self.flush(processor, full, now, filled + aligned)?;
        }
        let buffer = self.open_buffer(processor);
        let start = buffer.filled;
        buffer.filled += aligned;
        let slot = &mut buffer.data[start..start + aligned];
        slot.fill(0);
        Ok(&mut slot[..size])
    }

    /// Writes a data buffer out: its header, records and `0xFF` fill.
    fn flush(
        &mut self,
        processor: usize,
        mut buffer: OpenBuffer,
        now: i64,
        current_offset: usize,
    ) -> Result<(), WriteError> {
        let header = WmiBufferHeader {
            buffer_size: U32::new(self.config.buffer_size),
            saved_offset: U32::new(buffer.filled as u32),
            current_offset: U32::new(current_offset.min(u32::MAX as usize) as u32),
            reference_count: I32::new(0),
            time_stamp: I64::new(now),
            sequence_number: I64::new(buffer.sequence),
            clock_type_frequency: U64::new(0),
            processor_number: (processor & 0xFF) as u8,
            alignment: (processor >> 8) as u8,
            logger_id: U16::new(self.config.logger_id),
            state: U32::new(BUFFER_STATE_FLUSHED),
            offset: U32::new(buffer.filled as u32),
            buffer_flag: U16::new(buffer.flags),
            buffer_type: U16::new(ETW_BUFFER_TYPE_GENERIC),
            reserved: [0; 16],
        };
        buffer.data[..BUFFER_HEADER_SIZE].copy_from_slice(header.as_bytes());
        self.out.write_all(&buffer.data)?;
        self.written += buffer.data.len() as u64;
        self.buffers_written = self
            .buffers_written
            .checked_add(1)
            .ok_or(WriteError::Config("more than u32::MAX buffers"))?;
        Ok(())
    }

    /// The header buffer with these counts.
    fn header_buffer(&self, counts: Plan) -> Result<Vec<u8>, WriteError> {
        let c = &self.config;
        let logger_name = utf16z(&c.logger_name);
        let log_file_name = utf16z(&c.log_file_name);
        let header_size = size_of::<SystemTraceHeader>()
            + size_of::<TraceLogfileHeader64>()
            + logger_name.len()
            + log_file_name.len();
        let extension_size = size_of::<SystemTraceHeader>() + HEADER_EXTENSION_PAYLOAD;
        let filled = BUFFER_HEADER_SIZE + align(header_size) + align(extension_size);
        if filled > c.buffer_size as usize || header_size > usize::from(u16::MAX) {
            return Err(WriteError::Config(
                "logger and file names too long for the header buffer",
            ));
        }
        let mut data = vec![0xFF; c.buffer_size as usize];
        let buffer_header = WmiBufferHeader {
            buffer_size: U32::new(c.buffer_size),
            saved_offset: U32::new(filled as u32),
            current_offset: U32::new(filled as u32),
            reference_count: I32::new(0),
            time_stamp: I64::new(0),
            sequence_number: I64::new(0),
            clock_type_frequency: U64::new(0),
            processor_number: 0,
            alignment: 0,
            logger_id: U16::new(c.logger_id),
            state: U32::new(BUFFER_STATE_FLUSHED),
            offset: U32::new(filled as u32),
            buffer_flag: U16::new(ETW_BUFFER_FLAG_FLUSH_MARKER | ETW_BUFFER_FLAG_PROC_INDEX),
            buffer_type: U16::new(ETW_BUFFER_TYPE_HEADER),
            reserved: [0; 16],
        };
        let system_header = |size: usize, hook_id: u16| SystemTraceHeader {
            version: U16::new(SYSTEM_TRACE_VERSION),
            header_type: TRACE_HEADER_TYPE_SYSTEM64,
            marker_flags: TRACE_HEADER_MARKER,
            size: U16::new(size as u16),
            hook_id: U16::new(hook_id),
            thread_id: U32::new(c.controller.1),
            process_id: U32::new(c.controller.0),
            system_time: I64::new(c.start_qpc),
            kernel_time: U32::new(0),
            user_time: U32::new(0),
        };
        let mut time_zone = TraceLogfileHeaderTail::new_zeroed().time_zone;
        for (slot, unit) in time_zone
            .standard_name
            .iter_mut()
            .zip(UTC_NAME.encode_utf16())
        {
            *slot = U16::new(unit);
        }
        time_zone.daylight_name = time_zone.standard_name;
        let logfile = TraceLogfileHeader64 {
            base: TraceLogfileHeaderBase {
                buffer_size: U32::new(c.buffer_size),
                major_version: c.os_version.0,
                minor_version: c.os_version.1,
                // Windows 10 and 11 write 1 and 5 here (every Windows 10 file of the corpus).
                sub_version: 1,
                sub_minor_version: 5,
                provider_version: U32::new(c.os_version.2),
                number_of_processors: U32::new(u32::from(c.processors)),
                end_time: I64::new(c.qpc_to_filetime(counts.end_qpc)),
                // 15.625 ms, the default clock interrupt period.
                timer_resolution: U32::new(156_250),
                maximum_file_size: U32::new(0),
                log_file_mode: U32::new(EVENT_TRACE_FILE_MODE_SEQUENTIAL),
                buffers_written: U32::new(counts.buffers_written),
                start_buffers: U32::new(1),
                pointer_size: U32::new(8),
                events_lost: U32::new(counts.events_lost),
                cpu_speed_in_mhz: U32::new(c.cpu_speed_mhz),
            },
            // In files these hold HAL timer-source values, not pointers; Windows 10 writes 10
            // and 7 (lxcore_kernel.etl, primitive-types.etl).
            logger_name: U64::new(10),
            log_file_name: U64::new(7),
            tail: TraceLogfileHeaderTail {
                time_zone,
                padding: [0; 4],
                boot_time: I64::new(c.boot_time),
                perf_freq: I64::new(c.perf_freq as i64),
                start_time: I64::new(c.qpc_to_filetime(c.start_qpc)),
                reserved_flags: U32::new(CLOCK_TYPE_QPC),
                buffers_lost: U32::new(0),
            },
        };
        let mut at = 0;
        put(&mut data, &mut at, buffer_header.as_bytes());
        put(
            &mut data,
            &mut at,
            system_header(header_size, WMI_LOG_TYPE_HEADER).as_bytes(),
        );
        put(&mut data, &mut at, logfile.as_bytes());
        put(&mut data, &mut at, &logger_name);
        put(&mut data, &mut at, &log_file_name);
        pad_zero(&mut data, &mut at);
        put(
            &mut data,
            &mut at,
            system_header(extension_size, HEADER_EXTENSION_HOOK).as_bytes(),
        );
        put(&mut data, &mut at, &[0; HEADER_EXTENSION_PAYLOAD]);
        pad_zero(&mut data, &mut at);
        debug_assert_eq!(at, filled);
        Ok(data)
    }
}

/// Time zone name written in the header (the session clock is UTC).
const UTC_NAME: &str = "Coordinated Universal Time";

/// Rounds up to the record alignment.
const fn align(n: usize) -> usize {
    (n + RECORD_ALIGNMENT - 1) & !(RECORD_ALIGNMENT - 1)
}

/// Size of an extended item in a record: 8-byte item header plus data, padded to 8.
const fn ext_item_size(data_len: usize) -> usize {
    align(size_of::<EventHeaderExtendedItem>() + data_len)
}

fn put(buf: &mut [u8], at: &mut usize, bytes: &[u8]) {
    buf[*at..*at + bytes.len()].copy_from_slice(bytes);
    *at += bytes.len();
}

fn pad_zero(buf: &mut [u8], at: &mut usize) {
    let end = align(*at);
    buf[*at..end].fill(0);
    *at = end;
}

/// A string as NUL-terminated UTF-16LE bytes.
fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(core::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[cfg(test)]
mod tests;
