//! Records inside one buffer: every header kind, borrowed from the buffer bytes.

use core::mem::{offset_of, size_of};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::error::{Error, Result};
use super::format::*;

/// Size of an extended item's header; its data follows.
const ITEM_HEADER: usize = size_of::<EventHeaderExtendedItem>();

/// One record of a buffer, borrowed from it.
#[derive(Clone, Copy, Debug)]
pub enum Record<'a> {
    /// `EVENT_HEADER` (manifest, TraceLogging, EventSource), header type 0x12 / 0x13.
    Event(EventRecord<'a>),
    /// Kernel logger headers: system (0x01/0x02), compact (0x03/0x04), perfinfo (0x10/0x11).
    System(SystemRecord<'a>),
    /// Classic `EVENT_TRACE_HEADER` (0x0A/0x14) or instance header (0x0B/0x15).
    Classic(ClassicRecord<'a>),
    /// WPP / `TraceMessage` record.
    Message(MessageRecord<'a>),
}

impl<'a> Record<'a> {
    /// Byte offset of the record (see [`Error`] for compressed buffers).
    pub fn offset(&self) -> u64 {
        match self {
            Record::Event(r) => r.offset,
            Record::System(r) => r.offset,
            Record::Classic(r) => r.offset,
            Record::Message(r) => r.offset,
        }
    }

    /// The `TRACE_HEADER_TYPE_*` of the record.
    pub fn header_type(&self) -> u8 {
        match self {
            Record::Event(r) => r.header.header_type,
            Record::System(r) => r.header_type,
            Record::Classic(r) => r.header.header_type,
            Record::Message(_) => TRACE_HEADER_TYPE_MESSAGE,
        }
    }

    /// Raw timestamp in the session clock (messages without one give `None`).
    pub fn timestamp(&self) -> Option<i64> {
        match self {
            Record::Event(r) => Some(r.header.time_stamp.get()),
            Record::System(r) => Some(r.timestamp),
            Record::Classic(r) => Some(r.header.time_stamp.get()),
            Record::Message(r) => r.timestamp,
        }
    }

    /// Thread id, where the header has one.
    pub fn thread_id(&self) -> Option<u32> {
        match self {
            Record::Event(r) => Some(r.header.thread_id.get()),
            Record::System(r) => r.thread_id,
            Record::Classic(r) => Some(r.header.thread_id.get()),
            Record::Message(r) => r.thread_id,
        }
    }

    /// Process id, where the header has one.
    pub fn process_id(&self) -> Option<u32> {
        match self {
            Record::Event(r) => Some(r.header.process_id.get()),
            Record::System(r) => r.process_id,
            Record::Classic(r) => Some(r.header.process_id.get()),
            Record::Message(r) => r.process_id,
        }
    }

    /// The event data after the header(s).
    pub fn payload(&self) -> &'a [u8] {
        match self {
            Record::Event(r) => r.user_data,
            Record::System(r) => r.payload,
            Record::Classic(r) => r.payload,
            Record::Message(r) => r.payload,
        }
    }
}

/// An `EVENT_HEADER` record.
#[derive(Clone, Copy, Debug)]
pub struct EventRecord<'a> {
    /// Byte offset of the record (see [`Error`] for compressed buffers).
    pub offset: u64,
    /// The header as stored.
    pub header: &'a EventHeader,
    /// The extended data items, as stored (walk them with [`EventRecord::extended_items`]).
    pub extended: &'a [u8],
    /// The user data (payload).
    pub user_data: &'a [u8],
}

impl<'a> EventRecord<'a> {
    /// The producer's pointer size: from the header flags, else from the header type.
    pub fn pointer_size(&self) -> u8 {
        let flags = self.header.flags.get();
        if flags & EVENT_HEADER_FLAG_32_BIT_HEADER != 0 {
            4
        } else if flags & EVENT_HEADER_FLAG_64_BIT_HEADER != 0 {
            8
        } else if self.header.header_type == TRACE_HEADER_TYPE_EVENT_HEADER32 {
            4
        } else {
            8
        }
    }

    /// The extended data items (already validated when the record was read).
    pub fn extended_items(&self) -> ExtendedItems<'a> {
        ExtendedItems {
            data: self.extended,
            pos: 0,
            base: self.offset + core::mem::size_of::<EventHeader>() as u64,
        }
    }

    /// The first extended item of a type, if any.
    #[inline]
    pub fn extended_item(&self, ext_type: u16) -> Option<ExtendedItem<'a>> {
        self.extended_items().find(|i| i.ext_type == ext_type)
    }
}

/// One extended data item.
#[derive(Clone, Copy, Debug)]
pub struct ExtendedItem<'a> {
    /// Byte offset of the item header.
    pub offset: u64,
    /// `EVENT_HEADER_EXT_TYPE_*`.
    pub ext_type: u16,
    /// The item's data.
    pub data: &'a [u8],
}

/// An extended data item, decoded by type; unknown types are kept raw.
#[derive(Clone, Copy, Debug)]
pub enum ExtendedData<'a> {
    /// The related activity id.
    RelatedActivityId(Guid),
    /// A `SID` structure.
    Sid(&'a [u8]),
    /// The terminal session id.
    TerminalSessionId(u32),
    /// Match id and 32-bit return addresses.
    StackTrace32 {
        /// Match id pairing the stack with its event.
        match_id: u64,
        /// Return addresses, innermost first.
        frames: &'a [zerocopy::little_endian::U32],
    },
    /// Match id and 64-bit return addresses.
    StackTrace64 {
        /// Match id pairing the stack with its event.
        match_id: u64,
        /// Return addresses, innermost first.
        frames: &'a [zerocopy::little_endian::U64],
    },
    /// TraceLogging event metadata (item 11).
    EventSchemaTl(&'a [u8]),
    /// Provider traits (item 12).
    ProviderTraits(&'a [u8]),
    /// Any other type, or a known type with an unexpected size.
    Other(u16, &'a [u8]),
}

impl<'a> ExtendedItem<'a> {
    /// Decodes the item by type.
    #[inline]
    pub fn decode(&self) -> ExtendedData<'a> {
        let d = self.data;
        match self.ext_type {
            EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID if d.len() >= 16 => {
                ExtendedData::RelatedActivityId(
                    Guid::read_from_prefix(d)
                        .map(|(g, _)| g)
                        .unwrap_or_default(),
                )
            }
            EVENT_HEADER_EXT_TYPE_SID => ExtendedData::Sid(d),
            EVENT_HEADER_EXT_TYPE_TS_ID if d.len() >= 4 => {
                ExtendedData::TerminalSessionId(u32::from_le_bytes([d[0], d[1], d[2], d[3]]))
            }
            EVENT_HEADER_EXT_TYPE_STACK_TRACE32 if d.len() >= 8 => {
                let match_id = u64::from_le_bytes(d[..8].try_into().unwrap_or([0; 8]));
                let rest = &d[8..];
                let n = rest.len() / 4;
                match <[zerocopy::little_endian::U32]>::ref_from_prefix_with_elems(rest, n) {
                    Ok((frames, _)) => ExtendedData::StackTrace32 { match_id, frames },
                    Err(_) => ExtendedData::Other(self.ext_type, d),
                }
            }
            EVENT_HEADER_EXT_TYPE_STACK_TRACE64 if d.len() >= 8 => {
                let match_id = u64::from_le_bytes(d[..8].try_into().unwrap_or([0; 8]));
                let rest = &d[8..];
                let n = rest.len() / 8;
                match <[zerocopy::little_endian::U64]>::ref_from_prefix_with_elems(rest, n) {
                    Ok((frames, _)) => ExtendedData::StackTrace64 { match_id, frames },
                    Err(_) => ExtendedData::Other(self.ext_type, d),
                }
            }
            EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL => ExtendedData::EventSchemaTl(d),
            EVENT_HEADER_EXT_TYPE_PROV_TRAITS => ExtendedData::ProviderTraits(d),
            t => ExtendedData::Other(t, d),
        }
    }
}

/// Iterator over validated extended items.
#[derive(Clone, Debug)]
pub struct ExtendedItems<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Iterator for ExtendedItems<'a> {
    type Item = ExtendedItem<'a>;
    #[inline]
    fn next(&mut self) -> Option<ExtendedItem<'a>> {
        let (item, _) =
            EventHeaderExtendedItem::ref_from_prefix(self.data.get(self.pos..)?).ok()?;
        let size = item.reserved1.get() as usize;
        let data_size = item.data_size.get() as usize;
        let data = self
            .data
            .get(self.pos + ITEM_HEADER..self.pos + ITEM_HEADER + data_size)?;
        let out = ExtendedItem {
            offset: self.base + self.pos as u64,
            ext_type: item.ext_type.get(),
            data,
        };
        if item.linkage.get() & 1 == 0 || size < ITEM_HEADER {
            self.pos = self.data.len();
        } else {
            self.pos += size;
        }
        Some(out)
    }
}

/// Validates the extended items starting at `data[0]` and returns the length of the area.
fn extended_area_len(data: &[u8], base: u64) -> Result<usize> {
    let mut pos = 0usize;
    loop {
        let at = base + pos as u64;
        let Ok((item, _)) = EventHeaderExtendedItem::ref_from_prefix(&data[pos..]) else {
            return Err(Error::BadExtendedItem {
                offset: at,
                reason: "item header runs past the end of the record",
            });
        };
        let size = item.reserved1.get() as usize;
        let data_size = item.data_size.get() as usize;
        if size < ITEM_HEADER {
            return Err(Error::BadExtendedItem {
                offset: at,
                reason: "item size is smaller than its header",
            });
        }
        if ITEM_HEADER + data_size > size {
            return Err(Error::BadExtendedItem {
                offset: at,
                reason: "item data overlaps the next item",
            });
        }
        if size > data.len() - pos {
            return Err(Error::BadExtendedItem {
                offset: at,
                reason: "item runs past the end of the record",
            });
        }
        pos += size;
        if item.linkage.get() & 1 == 0 {
            return Ok(pos);
        }
    }
}

/// A kernel logger record (system, compact or perfinfo header).
#[derive(Clone, Copy, Debug)]
pub struct SystemRecord<'a> {
    /// Byte offset of the record (see [`Error`] for compressed buffers).
    pub offset: u64,
    /// `TRACE_HEADER_TYPE_*`.
    pub header_type: u8,
    /// Header version.
    pub version: u16,
    /// Group (high byte) and event type (low byte).
    pub hook_id: u16,
    /// Thread id (`None` for perfinfo headers).
    pub thread_id: Option<u32>,
    /// Process id (`None` for perfinfo headers).
    pub process_id: Option<u32>,
    /// Timestamp in the session clock.
    pub timestamp: i64,
    /// Kernel-mode CPU time (`None` for compact and perfinfo headers).
    pub kernel_time: Option<u32>,
    /// User-mode CPU time (`None` for compact and perfinfo headers).
    pub user_time: Option<u32>,
    /// The event data after the header(s).
    pub payload: &'a [u8],
}

impl SystemRecord<'_> {
    /// `EVENT_TRACE_GROUP_*` (high byte of the hook id).
    pub fn group(&self) -> u8 {
        (self.hook_id >> 8) as u8
    }
    /// Event type / opcode (low byte of the hook id).
    pub fn event_type(&self) -> u8 {
        self.hook_id as u8
    }
    /// Pointer size of the kernel that wrote it.
    pub fn pointer_size(&self) -> u8 {
        match self.header_type {
            TRACE_HEADER_TYPE_SYSTEM32
            | TRACE_HEADER_TYPE_COMPACT32
            | TRACE_HEADER_TYPE_PERFINFO32 => 4,
            _ => 8,
        }
    }
}

/// A classic (MOF) record; `instance` is set for instance headers.
#[derive(Clone, Copy, Debug)]
pub struct ClassicRecord<'a> {
    /// Byte offset of the record (see [`Error`] for compressed buffers).
    pub offset: u64,
    /// The header as stored.
    pub header: &'a EventTraceHeader,
    /// The instance header, for instance records.
    pub instance: Option<&'a EventInstanceGuidHeader>,
    /// The event data after the header(s).
    pub payload: &'a [u8],
}

impl ClassicRecord<'_> {
    /// Pointer size of the producer.
    pub fn pointer_size(&self) -> u8 {
        match self.header.header_type {
            TRACE_HEADER_TYPE_FULL_HEADER32 | TRACE_HEADER_TYPE_INSTANCE32 => 4,
            _ => 8,
        }
    }
}

/// A WPP / `TraceMessage` record with its optional fields.
#[derive(Clone, Copy, Debug)]
pub struct MessageRecord<'a> {
    /// Byte offset of the record (see [`Error`] for compressed buffers).
    pub offset: u64,
    /// The header as stored.
    pub header: &'a MessageTraceHeader,
    /// Sequence number, when present.
    pub sequence: Option<u32>,
    /// Component id, when present.
    pub component_id: Option<u32>,
    /// Message GUID, when present.
    pub guid: Option<Guid>,
    /// Timestamp in the session clock, when present.
    pub timestamp: Option<i64>,
    /// Thread id, when present.
    pub thread_id: Option<u32>,
    /// Process id, when present.
    pub process_id: Option<u32>,
    /// The event data after the header(s).
    pub payload: &'a [u8],
}

/// Iterator over the records of one buffer.
///
/// Yields `Err` for a bad record. After an error whose record size cannot be trusted it ends
/// (the rest of the buffer is lost); after [`Error::UnknownRecordKind`] or
/// [`Error::BadExtendedItem`] with a plausible size it goes on with the next record.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Records<'a> {
    /// Records of `data` (a buffer's filled bytes, header included) starting at `start`;
    /// `base` is the byte offset of `data[0]`.
    pub fn new(data: &'a [u8], start: usize, base: u64) -> Self {
        Records {
            data,
            pos: start,
            base,
        }
    }

    /// Byte offset (relative to the buffer) of the next record.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn fail(&mut self, e: Error) -> Option<Result<Record<'a>>> {
        self.pos = self.data.len();
        Some(Err(e))
    }
}

/// Bytes a record takes in its buffer: its size rounded up to the record alignment.
#[inline]
fn padded(size: usize) -> usize {
    size.div_ceil(RECORD_ALIGNMENT) * RECORD_ALIGNMENT
}

/// The fixed facts of a record of a fixed-layout kind ([`HeaderKind`]), read from its first
/// bytes and checked: its size covers its header and fits the bytes left in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordPrefixInfo {
    /// The header kind.
    pub kind: HeaderKind,
    /// The `TRACE_HEADER_TYPE_*` byte.
    pub header_type: u8,
    /// Record size, header included (without the padding to 8).
    pub size: usize,
    /// The raw timestamp (session clock).
    pub timestamp: i64,
}

impl RecordPrefixInfo {
    /// Bytes to the next record.
    #[inline]
    pub fn advance(&self) -> usize {
        padded(self.size)
    }
}

/// Why [`record_prefix`] gave no prefix (small and `Copy`: the per-record loops test it
/// and move on; [`PrefixError::into_error`] makes the reader's error of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixError {
    /// Not a fixed-layout kind (a message, an unknown kind, fewer than 4 bytes): the full
    /// parser decides.
    NotFixed,
    /// The record is too short to hold its size field.
    NoSize {
        /// Bytes needed.
        needed: u32,
    },
    /// The size is smaller than the kind's header.
    TooSmall {
        /// The size field.
        size: u32,
        /// The header size of the kind.
        header: u32,
    },
    /// The size runs past the bytes left in the buffer.
    TooLarge {
        /// The size field.
        size: u32,
    },
}

impl PrefixError {
    /// The reader's error, for a record at byte `offset` with `available` bytes left in its
    /// buffer; `None` for [`PrefixError::NotFixed`].
    pub fn into_error(self, offset: u64, available: u32) -> Option<Error> {
        Some(match self {
            PrefixError::NotFixed => return None,
            PrefixError::NoSize { needed } => Error::TruncatedRecord {
                offset,
                size: needed,
                available,
            },
            PrefixError::TooSmall { size, header } => Error::RecordTooSmall {
                offset,
                size,
                header,
            },
            PrefixError::TooLarge { size } => Error::TruncatedRecord {
                offset,
                size,
                available,
            },
        })
    }
}

/// Reads the prefix of the record at the start of `rest` (the record's bytes to the end of
/// the filled part of its buffer): its kind ([`HeaderKind::of`]), size and timestamp, the
/// size checked to cover its header and to fit the bytes left. The one reader of record kinds and sizes: the
/// full parser, the header walk and the provider peek all start here. An error other than
/// [`PrefixError::NotFixed`] means the rest of the buffer cannot be trusted.
#[inline(always)]
pub fn record_prefix(rest: &[u8]) -> core::result::Result<RecordPrefixInfo, PrefixError> {
    let Some(&[_, _, header_type, marker]) = rest.first_chunk::<4>() else {
        return Err(PrefixError::NotFixed);
    };
    if marker & TRACE_HEADER_MARKER != TRACE_HEADER_MARKER {
        return Err(PrefixError::NotFixed);
    }
    // One arm per kind, so that each arm reads at constant offsets: the size load then
    // follows a predicted branch instead of waiting for a table load, which shortens the
    // chain from one record to the next that bounds the header walk.
    let p = match HeaderKind::of(header_type) {
        Some(HeaderKind::Event) => prefix_as(rest, const { HeaderKind::Event.layout() }),
        Some(HeaderKind::Classic) => prefix_as(rest, const { HeaderKind::Classic.layout() }),
        Some(HeaderKind::Instance) => prefix_as(rest, const { HeaderKind::Instance.layout() }),
        Some(HeaderKind::System) => prefix_as(rest, const { HeaderKind::System.layout() }),
        Some(HeaderKind::Compact) => prefix_as(rest, const { HeaderKind::Compact.layout() }),
        Some(HeaderKind::Perfinfo) => prefix_as(rest, const { HeaderKind::Perfinfo.layout() }),
        None => return Err(PrefixError::NotFixed),
    };
    p.map(|(kind, size, timestamp)| RecordPrefixInfo {
        kind,
        header_type,
        size,
        timestamp,
    })
}

/// [`record_prefix`] for a record of `layout`'s kind: kind, size and timestamp.
#[inline(always)]
fn prefix_as(
    rest: &[u8],
    layout: HeaderLayout,
) -> core::result::Result<(HeaderKind, usize, i64), PrefixError> {
    let needed = usize::from(layout.prefix_size);
    let (at, ts_at) = (
        usize::from(layout.size_at),
        usize::from(layout.timestamp_at),
    );
    let size = match rest.get(at..at + 2) {
        Some(&[a, b]) if rest.len() >= needed => u32::from(u16::from_le_bytes([a, b])),
        _ => {
            let needed = needed as u32;
            return Err(PrefixError::NoSize { needed });
        }
    };
    let header = u32::from(layout.header_size);
    if size < header {
        return Err(PrefixError::TooSmall { size, header });
    } else if size as usize > rest.len() {
        return Err(PrefixError::TooLarge { size });
    }
    // Inside the header, which `size` covers.
    let timestamp = match rest.get(ts_at..ts_at + 8) {
        Some(t) => i64::from_le_bytes(t.try_into().unwrap_or_default()),
        None => 0,
    };
    Ok((layout.kind, size as usize, timestamp))
}

/// A record size checked against its header's size and the bytes left in its buffer.
#[inline]
fn checked_size(offset: u64, size: u32, header: u32, available: u32) -> Result<usize> {
    if size < header {
        Err(Error::RecordTooSmall {
            offset,
            size,
            header,
        })
    } else if size > available {
        Err(Error::TruncatedRecord {
            offset,
            size,
            available,
        })
    } else {
        Ok(size as usize)
    }
}

/// The fixed header `T` at the start of `rec` and the bytes after it. `rec` is a record whose
/// size [`record_prefix`] checked against `T`'s, so this does not fail; if it did, the record
/// would be too small.
fn fixed<'a, T: FromBytes + KnownLayout + Immutable>(
    rec: &'a [u8],
    offset: u64,
    p: &RecordPrefixInfo,
) -> Result<(&'a T, &'a [u8])> {
    T::ref_from_prefix(rec).map_err(|_| Error::RecordTooSmall {
        offset,
        size: p.size as u32,
        header: p.kind.header_size() as u32,
    })
}

/// Parses the record at `data[pos..]`. Returns the number of bytes to advance (0 = give up on
/// the rest of the buffer) and the record.
fn parse_record(data: &[u8], pos: usize, base: u64) -> (usize, Result<Record<'_>>) {
    let offset = base + pos as u64;
    let rest = &data[pos..];
    let avail = rest.len() as u32;
    if rest.len() < size_of::<RecordPrefix>() {
        let size = size_of::<RecordPrefix>() as u32;
        let e = Error::TruncatedRecord {
            offset,
            size,
            available: avail,
        };
        return (0, Err(e));
    }
    match record_prefix(rest) {
        Ok(p) => {
            let rec = &rest[..p.size];
            let parsed = match p.kind {
                HeaderKind::Event => return parse_event(rec, offset, &p),
                HeaderKind::Classic => fixed::<EventTraceHeader>(rec, offset, &p)
                    .map(|(header, payload)| classic(offset, header, None, payload)),
                HeaderKind::Instance => {
                    fixed::<EventTraceHeader>(rec, offset, &p).and_then(|(header, _)| {
                        fixed::<EventInstanceGuidHeader>(rec, offset, &p).map(
                            |(instance, payload)| classic(offset, header, Some(instance), payload),
                        )
                    })
                }
                HeaderKind::System | HeaderKind::Compact | HeaderKind::Perfinfo => {
                    system(rec, offset, &p).map(Record::System)
                }
            };
            match parsed {
                Ok(r) => (p.advance(), Ok(r)),
                Err(e) => (0, Err(e)),
            }
        }
        Err(e) => {
            if let Some(e) = e.into_error(offset, avail) {
                return (0, Err(e));
            }
            let prefix = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let size16 = u32::from(u16::from_le_bytes([rest[0], rest[1]]));
            let typed = rest[3] & TRACE_HEADER_MARKER == TRACE_HEADER_MARKER;
            let message = if typed {
                rest[2] == TRACE_HEADER_TYPE_MESSAGE
            } else {
                prefix & TRACE_MESSAGE != 0 && rest[3] & 0x40 == 0
            };
            if message {
                parse_message(rest, offset)
            } else {
                unknown(prefix, offset, size16, avail)
            }
        }
    }
}

/// A classic or instance record.
fn classic<'a>(
    offset: u64,
    header: &'a EventTraceHeader,
    instance: Option<&'a EventInstanceGuidHeader>,
    payload: &'a [u8],
) -> Record<'a> {
    Record::Classic(ClassicRecord {
        offset,
        header,
        instance,
        payload,
    })
}

/// An `EVENT_HEADER` record (`rec`: exactly its bytes): the header, the extended items
/// (validated), the user data.
fn parse_event<'a>(
    rec: &'a [u8],
    offset: u64,
    p: &RecordPrefixInfo,
) -> (usize, Result<Record<'a>>) {
    let (header, after) = match fixed::<EventHeader>(rec, offset, p) {
        Ok(x) => x,
        Err(e) => return (0, Err(e)),
    };
    let (extended, user_data) = if header.flags.get() & EVENT_HEADER_FLAG_EXTENDED_INFO != 0 {
        match extended_area_len(after, offset + size_of::<EventHeader>() as u64) {
            Ok(n) => after.split_at(n),
            Err(e) => return (p.advance(), Err(e)),
        }
    } else {
        (&after[..0], after)
    };
    let r = EventRecord {
        offset,
        header,
        extended,
        user_data,
    };
    (p.advance(), Ok(Record::Event(r)))
}

/// A kernel logger record (`rec`: exactly its bytes).
fn system<'a>(rec: &'a [u8], offset: u64, p: &RecordPrefixInfo) -> Result<SystemRecord<'a>> {
    let record = |version: u16, hook_id: u16, timestamp: i64| SystemRecord {
        offset,
        header_type: p.header_type,
        version,
        hook_id,
        thread_id: None,
        process_id: None,
        timestamp,
        kernel_time: None,
        user_time: None,
        payload: &rec[p.kind.header_size()..],
    };
    Ok(match p.kind {
        HeaderKind::Perfinfo => {
            let (h, _) = fixed::<PerfinfoTraceHeader>(rec, offset, p)?;
            record(h.version.get(), h.hook_id.get(), h.system_time.get())
        }
        HeaderKind::Compact => {
            let (h, _) = fixed::<CompactTraceHeader>(rec, offset, p)?;
            SystemRecord {
                thread_id: Some(h.thread_id.get()),
                process_id: Some(h.process_id.get()),
                ..record(h.version.get(), h.hook_id.get(), h.system_time.get())
            }
        }
        _ => {
            let (h, _) = fixed::<SystemTraceHeader>(rec, offset, p)?;
            SystemRecord {
                thread_id: Some(h.thread_id.get()),
                process_id: Some(h.process_id.get()),
                kernel_time: Some(h.kernel_time.get()),
                user_time: Some(h.user_time.get()),
                ..record(h.version.get(), h.hook_id.get(), h.system_time.get())
            }
        }
    })
}

/// An unknown kind: skipped by its 16-bit size when that is plausible, else the rest of the
/// buffer is lost.
fn unknown<'a>(prefix: u32, offset: u64, size16: u32, avail: u32) -> (usize, Result<Record<'a>>) {
    let skip = if prefix != 0 && size16 >= 8 && size16 <= avail {
        padded(size16 as usize)
    } else {
        0
    };
    (skip, Err(Error::UnknownRecordKind { offset, prefix }))
}

/// A WPP / `TraceMessage` record: a [`MessageTraceHeader`] and the optional fields its flags
/// announce.
fn parse_message(rest: &[u8], offset: u64) -> (usize, Result<Record<'_>>) {
    let size16 = u32::from(u16::from_le_bytes([rest[0], rest[1]]));
    let header_size = size_of::<MessageTraceHeader>();
    let size = match checked_size(offset, size16, header_size as u32, rest.len() as u32) {
        Ok(s) => s,
        Err(e) => return (0, Err(e)),
    };
    let rec = &rest[..size];
    let Ok((header, _)) = MessageTraceHeader::ref_from_prefix(rec) else {
        let e = Error::RecordTooSmall {
            offset,
            size: size as u32,
            header: header_size as u32,
        };
        return (0, Err(e));
    };
    let flags = header.option_flags.get();
    let mut p = header_size;
    let mut need = header_size;
    if flags & TRACE_MESSAGE_SEQUENCE != 0 {
        need += 4;
    }
    if flags & TRACE_MESSAGE_COMPONENTID != 0 {
        need += 4;
    } else if flags & TRACE_MESSAGE_GUID != 0 {
        need += 16;
    }
    if flags & TRACE_MESSAGE_TIMESTAMP != 0 {
        need += 8;
    }
    if flags & TRACE_MESSAGE_SYSTEMINFO != 0 {
        need += 8;
    }
    if need > size {
        return (
            padded(size),
            Err(Error::RecordTooSmall {
                offset,
                size: size as u32,
                header: need as u32,
            }),
        );
    }
    let u32_at = |i: usize| u32::from_le_bytes([rec[i], rec[i + 1], rec[i + 2], rec[i + 3]]);
    let mut m = MessageRecord {
        offset,
        header,
        sequence: None,
        component_id: None,
        guid: None,
        timestamp: None,
        thread_id: None,
        process_id: None,
        payload: &[],
    };
    if flags & TRACE_MESSAGE_SEQUENCE != 0 {
        m.sequence = Some(u32_at(p));
        p += 4;
    }
    if flags & TRACE_MESSAGE_COMPONENTID != 0 {
        m.component_id = Some(u32_at(p));
        p += 4;
    } else if flags & TRACE_MESSAGE_GUID != 0 {
        m.guid = Guid::read_from_prefix(&rec[p..]).ok().map(|(g, _)| g);
        p += 16;
    }
    if flags & TRACE_MESSAGE_TIMESTAMP != 0 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&rec[p..p + 8]);
        m.timestamp = Some(i64::from_le_bytes(b));
        p += 8;
    }
    if flags & TRACE_MESSAGE_SYSTEMINFO != 0 {
        m.thread_id = Some(u32_at(p));
        m.process_id = Some(u32_at(p + 4));
        p += 8;
    }
    m.payload = &rec[p..];
    (padded(size), Ok(Record::Message(m)))
}

/// The record at `data[pos..]` (`base`: the byte offset of `data[0]`) and where the next one
/// starts (the end of `data` once the rest of the buffer cannot be trusted): one step of
/// [`Records`], for walks that step over most records without parsing them.
#[inline]
pub fn parse_one(data: &[u8], pos: usize, base: u64) -> (Option<Result<Record<'_>>>, usize) {
    let mut one = Records::new(data, pos, base);
    let r = one.next();
    let next = if one.position() > pos {
        one.position()
    } else {
        data.len()
    };
    (r, next)
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Result<Record<'a>>> {
        if self.pos >= self.data.len() {
            return None;
        }
        let (adv, r) = parse_record(self.data, self.pos, self.base);
        if adv == 0 {
            return self.fail(r.err()?);
        }
        self.pos += adv;
        Some(r)
    }
}

/// The fixed part of a record, for walks that need no payload: kind, size and timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Byte offset of the record (see [`Error`] for compressed buffers).
    pub offset: u64,
    /// `TRACE_HEADER_TYPE_*` ([`TRACE_HEADER_TYPE_MESSAGE`] for messages).
    pub header_type: u8,
    /// Record size, header included (without the padding to 8).
    pub size: u32,
    /// Raw timestamp (`None` for a message without one).
    pub timestamp: Option<i64>,
}

/// Iterator over record headers only (a cheaper walk than [`Records`]: no extended items, no
/// payload). Same error behaviour as [`Records`], without the extended-item checks.
#[derive(Clone, Debug)]
pub struct RecordHeaders<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> RecordHeaders<'a> {
    /// Headers of `data` from `start` (see [`Records::new`]).
    pub fn new(data: &'a [u8], start: usize, base: u64) -> Self {
        RecordHeaders {
            data,
            pos: start,
            base,
        }
    }

    /// Byte offset (relative to the buffer) of the next record.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Iterator for RecordHeaders<'_> {
    type Item = Result<RecordHeader>;

    #[inline]
    fn next(&mut self) -> Option<Result<RecordHeader>> {
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        let offset = self.base + self.pos as u64;
        match record_prefix(rest) {
            Ok(p) => {
                self.pos += p.advance();
                Some(Ok(RecordHeader {
                    offset,
                    header_type: p.header_type,
                    size: p.size as u32,
                    timestamp: Some(p.timestamp),
                }))
            }
            Err(PrefixError::NotFixed) => {
                // Messages, unknown kinds and short tails: the full parser decides.
                let (adv, r) = parse_record(self.data, self.pos, self.base);
                if adv == 0 {
                    self.pos = self.data.len();
                } else {
                    self.pos += adv;
                }
                Some(r.map(|rec| RecordHeader {
                    offset,
                    header_type: rec.header_type(),
                    size: adv as u32,
                    timestamp: rec.timestamp(),
                }))
            }
            Err(e) => {
                self.pos = self.data.len();
                e.into_error(offset, rest.len() as u32).map(Err)
            }
        }
    }
}

/// What a provider count needs of a record, read without building a [`Record`].
#[derive(Clone, Copy, Debug)]
pub enum ProviderPeek<'a> {
    /// An `EVENT_HEADER` record: provider GUID and the provider-traits item, if any.
    Event {
        /// The provider GUID.
        guid: Guid,
        /// The provider-traits item, if any.
        traits: Option<&'a [u8]>,
    },
    /// A kernel record (system, compact, perfinfo).
    Kernel {
        /// Group (high byte) and event type (low byte).
        hook_id: u16,
    },
    /// A classic record.
    Classic {
        /// Its event class GUID.
        guid: Guid,
    },
}

/// An `EVENT_HEADER` record as a decoding walk needs it: the record, and its provider-traits
/// and TraceLogging metadata items, found in the one walk that checks its extended items.
#[derive(Clone, Copy, Debug)]
pub struct EventPeek<'a> {
    /// The record, as [`Records`] gives it.
    pub record: EventRecord<'a>,
    /// The first provider-traits item's data, if any.
    pub traits: Option<&'a [u8]>,
    /// The first TraceLogging metadata item's data, if any.
    pub schema: Option<&'a [u8]>,
}

/// The `EVENT_HEADER` record at `data[pos..]` (`base`: the byte offset of `data[0]`) and the
/// bytes to advance, checked exactly as [`Records`] checks it (sizes, extended items), with
/// its two items a decoder looks for. `None` for any other kind and any error: parse those
/// with [`Records`]. The fast path of the decoding summary.
#[inline(always)]
pub fn peek_event(data: &[u8], pos: usize, base: u64) -> Option<(usize, EventPeek<'_>)> {
    let rest = data.get(pos..)?;
    let p = record_prefix(rest).ok()?;
    if p.kind != HeaderKind::Event {
        return None;
    }
    let (header, after) = EventHeader::ref_from_prefix(&rest[..p.size]).ok()?;
    let items = if header.flags.get() & EVENT_HEADER_FLAG_EXTENDED_INFO != 0 {
        event_items(after)?
    } else {
        EventItems::default()
    };
    let (extended, user_data) = after.split_at(items.len);
    let record = EventRecord {
        offset: base + pos as u64,
        header,
        extended,
        user_data,
    };
    let peek = EventPeek {
        record,
        traits: items.traits,
        schema: items.schema,
    };
    Some((p.advance(), peek))
}

/// The provider of the record at `data[pos..]` and the bytes to advance, for the common
/// well-formed kinds, checked exactly as [`Records`] checks them (sizes, extended items).
/// `None` for anything else (messages, instance headers, unknown kinds, any error): parse
/// those with [`Records`]. This is the fast path of `dump --summary` (which still parses
/// KernelTraceControl `MetaData` records whole, for the provider names they carry).
#[inline]
pub fn peek_provider(data: &[u8], pos: usize) -> Option<(usize, ProviderPeek<'_>)> {
    let rest = data.get(pos..)?;
    let p = record_prefix(rest).ok()?;
    let rec = &rest[..p.size];
    let peek = match p.kind {
        HeaderKind::Event => {
            let (h, ext) = EventHeader::ref_from_prefix(rec).ok()?;
            let traits = if h.flags.get() & EVENT_HEADER_FLAG_EXTENDED_INFO != 0 {
                provider_traits(ext)?
            } else {
                None
            };
            // Copied as bytes: the field-by-field copy costs more.
            let guid = Guid::read_from_bytes(h.provider_id.as_bytes()).unwrap_or_default();
            ProviderPeek::Event { guid, traits }
        }
        HeaderKind::System | HeaderKind::Compact | HeaderKind::Perfinfo => {
            let (h, _) = PerfinfoTraceHeader::ref_from_prefix(rec).ok()?;
            ProviderPeek::Kernel {
                hook_id: h.hook_id.get(),
            }
        }
        HeaderKind::Classic => {
            let (h, _) = EventTraceHeader::ref_from_prefix(rec).ok()?;
            ProviderPeek::Classic { guid: h.guid }
        }
        HeaderKind::Instance => return None,
    };
    Some((p.advance(), peek))
}

/// The bytes to step over the record at `data[pos..]` when [`peek_provider`] would read it
/// and it is not an `EVENT_HEADER` record of a provider in `wanted` (GUIDs as
/// little-endian integers, [`Guid::to_bytes_le`]); `None` when it must be parsed whole (a
/// wanted provider's, or anything [`peek_provider`] leaves to [`Records`]). The per-record
/// test of a walk that parses a few providers' records and steps over the rest: the same
/// checks as [`peek_provider`], one integer compare per GUID, and nothing built.
#[inline(always)]
pub fn step_over_unwanted(data: &[u8], pos: usize, wanted: &[u128; 2]) -> Option<usize> {
    let rest = data.get(pos..)?;
    let p = record_prefix(rest).ok()?;
    let rec = &rest[..p.size];
    match p.kind {
        HeaderKind::Event => {
            let (h, ext) = EventHeader::ref_from_prefix(rec).ok()?;
            let guid = u128::from_le_bytes(zerocopy::transmute!(h.provider_id));
            if guid == wanted[0] || guid == wanted[1] {
                return None;
            }
            if h.flags.get() & EVENT_HEADER_FLAG_EXTENDED_INFO != 0 {
                provider_traits(ext)?;
            }
        }
        HeaderKind::System | HeaderKind::Compact | HeaderKind::Perfinfo => {
            PerfinfoTraceHeader::ref_from_prefix(rec).ok()?;
        }
        HeaderKind::Classic => {
            EventTraceHeader::ref_from_prefix(rec).ok()?;
        }
        HeaderKind::Instance => return None,
    }
    Some(p.advance())
}

/// What [`event_items`] finds in an extended-item area.
#[derive(Clone, Copy, Debug, Default)]
struct EventItems<'a> {
    /// Bytes of the area.
    len: usize,
    /// The first provider-traits item's data.
    traits: Option<&'a [u8]>,
    /// The first TraceLogging metadata item's data.
    schema: Option<&'a [u8]>,
}

/// The provider-traits item among the extended items at the start of `ext`, checked as
/// [`extended_area_len`] checks them (`None` if any item is malformed: the full parser
/// reports it).
#[inline(always)]
fn provider_traits(ext: &[u8]) -> Option<Option<&[u8]>> {
    event_items(ext).map(|items| items.traits)
}

/// The extended items at the start of `ext`: the area's length and the two items decoders
/// look for, checked as [`extended_area_len`] checks them (`None` if any item is malformed:
/// the full parser reports it).
#[inline(always)]
fn event_items(ext: &[u8]) -> Option<EventItems<'_>> {
    // The item header's fields read straight from the bytes (one bounds check per item):
    // this runs for every record `dump --summary` counts.
    let mut items = EventItems::default();
    let mut p = 0usize;
    loop {
        let item = ext.get(p..p + ITEM_HEADER)?;
        let u16_at = |i: usize| u16::from_le_bytes([item[i], item[i + 1]]);
        let size = usize::from(u16_at(offset_of!(EventHeaderExtendedItem, reserved1)));
        let ext_type = u16_at(offset_of!(EventHeaderExtendedItem, ext_type));
        let linkage = u16_at(offset_of!(EventHeaderExtendedItem, linkage));
        let data_size = usize::from(u16_at(offset_of!(EventHeaderExtendedItem, data_size)));
        if size < ITEM_HEADER || ITEM_HEADER + data_size > size || size > ext.len() - p {
            return None;
        }
        let data = &ext[p + ITEM_HEADER..p + ITEM_HEADER + data_size];
        match ext_type {
            EVENT_HEADER_EXT_TYPE_PROV_TRAITS if items.traits.is_none() => {
                items.traits = Some(data)
            }
            EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL if items.schema.is_none() => {
                items.schema = Some(data)
            }
            _ => {}
        }
        p += size;
        if linkage & 1 == 0 {
            items.len = p;
            return Some(items);
        }
    }
}
