//! Records inside one buffer: every header kind, borrowed from the buffer bytes.

use zerocopy::FromBytes;

use super::error::{Error, Result};
use super::format::*;

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
    pub offset: u64,
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
    pub ext_type: u16,
    pub data: &'a [u8],
}

/// An extended data item, decoded by type; unknown types are kept raw.
#[derive(Clone, Copy, Debug)]
pub enum ExtendedData<'a> {
    RelatedActivityId(Guid),
    /// A `SID` structure.
    Sid(&'a [u8]),
    TerminalSessionId(u32),
    /// Match id and 32-bit return addresses.
    StackTrace32 {
        match_id: u64,
        frames: &'a [zerocopy::little_endian::U32],
    },
    /// Match id and 64-bit return addresses.
    StackTrace64 {
        match_id: u64,
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
        let data = self.data.get(self.pos + 8..self.pos + 8 + data_size)?;
        let out = ExtendedItem {
            offset: self.base + self.pos as u64,
            ext_type: item.ext_type.get(),
            data,
        };
        if item.linkage.get() & 1 == 0 || size < 8 {
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
        if size < 8 {
            return Err(Error::BadExtendedItem {
                offset: at,
                reason: "item size is smaller than its header",
            });
        }
        if 8 + data_size > size {
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
    pub offset: u64,
    pub header_type: u8,
    pub version: u16,
    /// Group (high byte) and event type (low byte).
    pub hook_id: u16,
    /// `None` for perfinfo headers.
    pub thread_id: Option<u32>,
    pub process_id: Option<u32>,
    pub timestamp: i64,
    /// `None` for compact and perfinfo headers.
    pub kernel_time: Option<u32>,
    pub user_time: Option<u32>,
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
    pub offset: u64,
    pub header: &'a EventTraceHeader,
    pub instance: Option<&'a EventInstanceGuidHeader>,
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
    pub offset: u64,
    pub header: &'a MessageTraceHeader,
    pub sequence: Option<u32>,
    pub component_id: Option<u32>,
    pub guid: Option<Guid>,
    pub timestamp: Option<i64>,
    pub thread_id: Option<u32>,
    pub process_id: Option<u32>,
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

/// Parses the record at `data[pos..]`. Returns the number of bytes to advance (0 = give up on
/// the rest of the buffer) and the record.
fn parse_record(data: &[u8], pos: usize, base: u64) -> (usize, Result<Record<'_>>) {
    let offset = base + pos as u64;
    let rest = &data[pos..];
    let avail = rest.len() as u32;
    if rest.len() < 4 {
        return (
            0,
            Err(Error::TruncatedRecord {
                offset,
                size: 4,
                available: avail,
            }),
        );
    }
    let prefix = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let marker = rest[3];
    let htype = rest[2];
    let size16 = u16::from_le_bytes([rest[0], rest[1]]) as u32;
    let typed = marker & TRACE_HEADER_MARKER == TRACE_HEADER_MARKER;

    // Checks `size` against the header size and the buffer.
    let check = |size: u32, header: u32| -> Result<usize> {
        if size < header {
            return Err(Error::RecordTooSmall {
                offset,
                size,
                header,
            });
        }
        if size > avail {
            return Err(Error::TruncatedRecord {
                offset,
                size,
                available: avail,
            });
        }
        Ok(size as usize)
    };
    let advance = |size: usize| size.div_ceil(RECORD_ALIGNMENT) * RECORD_ALIGNMENT;

    if typed {
        match htype {
            TRACE_HEADER_TYPE_EVENT_HEADER32 | TRACE_HEADER_TYPE_EVENT_HEADER64 => {
                let size = match check(size16, 80) {
                    Ok(s) => s,
                    Err(e) => return (0, Err(e)),
                };
                let rec = &rest[..size];
                let (header, after) = match EventHeader::ref_from_prefix(rec) {
                    Ok(x) => x,
                    Err(_) => {
                        return (
                            0,
                            Err(Error::RecordTooSmall {
                                offset,
                                size: size as u32,
                                header: 80,
                            }),
                        )
                    }
                };
                let (extended, user_data) =
                    if header.flags.get() & EVENT_HEADER_FLAG_EXTENDED_INFO != 0 {
                        match extended_area_len(after, offset + 80) {
                            Ok(n) => after.split_at(n),
                            Err(e) => return (advance(size), Err(e)),
                        }
                    } else {
                        (&after[..0], after)
                    };
                (
                    advance(size),
                    Ok(Record::Event(EventRecord {
                        offset,
                        header,
                        extended,
                        user_data,
                    })),
                )
            }
            TRACE_HEADER_TYPE_SYSTEM32
            | TRACE_HEADER_TYPE_SYSTEM64
            | TRACE_HEADER_TYPE_COMPACT32
            | TRACE_HEADER_TYPE_COMPACT64
            | TRACE_HEADER_TYPE_PERFINFO32
            | TRACE_HEADER_TYPE_PERFINFO64 => {
                if rest.len() < 8 {
                    return (
                        0,
                        Err(Error::TruncatedRecord {
                            offset,
                            size: 8,
                            available: avail,
                        }),
                    );
                }
                let size = u16::from_le_bytes([rest[4], rest[5]]) as u32;
                let hook_id = u16::from_le_bytes([rest[6], rest[7]]);
                let hsize = match htype {
                    TRACE_HEADER_TYPE_SYSTEM32 | TRACE_HEADER_TYPE_SYSTEM64 => 32,
                    TRACE_HEADER_TYPE_COMPACT32 | TRACE_HEADER_TYPE_COMPACT64 => 24,
                    _ => 16,
                };
                let size = match check(size, hsize) {
                    Ok(s) => s,
                    Err(e) => return (0, Err(e)),
                };
                let rec = &rest[..size];
                let u32_at =
                    |i: usize| u32::from_le_bytes([rec[i], rec[i + 1], rec[i + 2], rec[i + 3]]);
                let i64_at = |i: usize| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&rec[i..i + 8]);
                    i64::from_le_bytes(b)
                };
                let version = size16 as u16;
                let r = if hsize == 16 {
                    SystemRecord {
                        offset,
                        header_type: htype,
                        version,
                        hook_id,
                        thread_id: None,
                        process_id: None,
                        timestamp: i64_at(8),
                        kernel_time: None,
                        user_time: None,
                        payload: &rec[16..],
                    }
                } else {
                    SystemRecord {
                        offset,
                        header_type: htype,
                        version,
                        hook_id,
                        thread_id: Some(u32_at(8)),
                        process_id: Some(u32_at(12)),
                        timestamp: i64_at(16),
                        kernel_time: (hsize == 32).then(|| u32_at(24)),
                        user_time: (hsize == 32).then(|| u32_at(28)),
                        payload: &rec[hsize as usize..],
                    }
                };
                (advance(size), Ok(Record::System(r)))
            }
            TRACE_HEADER_TYPE_FULL_HEADER32 | TRACE_HEADER_TYPE_FULL_HEADER64 => {
                let size = match check(size16, 48) {
                    Ok(s) => s,
                    Err(e) => return (0, Err(e)),
                };
                let rec = &rest[..size];
                match EventTraceHeader::ref_from_prefix(rec) {
                    Ok((header, payload)) => (
                        advance(size),
                        Ok(Record::Classic(ClassicRecord {
                            offset,
                            header,
                            instance: None,
                            payload,
                        })),
                    ),
                    Err(_) => (
                        0,
                        Err(Error::RecordTooSmall {
                            offset,
                            size: size as u32,
                            header: 48,
                        }),
                    ),
                }
            }
            TRACE_HEADER_TYPE_INSTANCE32 | TRACE_HEADER_TYPE_INSTANCE64 => {
                let size = match check(size16, 72) {
                    Ok(s) => s,
                    Err(e) => return (0, Err(e)),
                };
                let rec = &rest[..size];
                match (
                    EventTraceHeader::ref_from_prefix(rec),
                    EventInstanceGuidHeader::ref_from_prefix(rec),
                ) {
                    (Ok((header, _)), Ok((instance, payload))) => (
                        advance(size),
                        Ok(Record::Classic(ClassicRecord {
                            offset,
                            header,
                            instance: Some(instance),
                            payload,
                        })),
                    ),
                    _ => (
                        0,
                        Err(Error::RecordTooSmall {
                            offset,
                            size: size as u32,
                            header: 72,
                        }),
                    ),
                }
            }
            TRACE_HEADER_TYPE_MESSAGE => parse_message(rest, offset, &check, &advance),
            _ => unknown(prefix, offset, size16, avail, &advance),
        }
    } else if prefix & TRACE_MESSAGE != 0 && marker & 0x40 == 0 {
        parse_message(rest, offset, &check, &advance)
    } else {
        unknown(prefix, offset, size16, avail, &advance)
    }
}

/// An unknown kind: skipped by its 16-bit size when that is plausible, else the rest of the
/// buffer is lost.
fn unknown<'a>(
    prefix: u32,
    offset: u64,
    size16: u32,
    avail: u32,
    advance: &dyn Fn(usize) -> usize,
) -> (usize, Result<Record<'a>>) {
    let skip = if prefix != 0 && size16 >= 8 && size16 <= avail {
        advance(size16 as usize)
    } else {
        0
    };
    (skip, Err(Error::UnknownRecordKind { offset, prefix }))
}

fn parse_message<'a>(
    rest: &'a [u8],
    offset: u64,
    check: &dyn Fn(u32, u32) -> Result<usize>,
    advance: &dyn Fn(usize) -> usize,
) -> (usize, Result<Record<'a>>) {
    let size16 = u16::from_le_bytes([rest[0], rest[1]]) as u32;
    let size = match check(size16, 8) {
        Ok(s) => s,
        Err(e) => return (0, Err(e)),
    };
    let rec = &rest[..size];
    let Ok((header, _)) = MessageTraceHeader::ref_from_prefix(rec) else {
        return (
            0,
            Err(Error::RecordTooSmall {
                offset,
                size: size as u32,
                header: 8,
            }),
        );
    };
    let flags = header.option_flags.get();
    let mut p = 8usize;
    let mut need = 8usize;
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
            advance(size),
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
    (advance(size), Ok(Record::Message(m)))
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
        let avail = rest.len() as u32;
        let fast = match rest.get(..24) {
            Some(h) if h[3] & TRACE_HEADER_MARKER == TRACE_HEADER_MARKER => {
                let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]) as u32;
                let ts_at = |i: usize| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&h[i..i + 8]);
                    i64::from_le_bytes(b)
                };
                match h[2] {
                    TRACE_HEADER_TYPE_EVENT_HEADER32 | TRACE_HEADER_TYPE_EVENT_HEADER64 => {
                        Some((u16_at(0), 80, ts_at(16)))
                    }
                    TRACE_HEADER_TYPE_FULL_HEADER32 | TRACE_HEADER_TYPE_FULL_HEADER64 => {
                        Some((u16_at(0), 48, ts_at(16)))
                    }
                    TRACE_HEADER_TYPE_INSTANCE32 | TRACE_HEADER_TYPE_INSTANCE64 => {
                        Some((u16_at(0), 72, ts_at(16)))
                    }
                    TRACE_HEADER_TYPE_SYSTEM32 | TRACE_HEADER_TYPE_SYSTEM64 => {
                        Some((u16_at(4), 32, ts_at(16)))
                    }
                    TRACE_HEADER_TYPE_COMPACT32 | TRACE_HEADER_TYPE_COMPACT64 => {
                        Some((u16_at(4), 24, ts_at(16)))
                    }
                    TRACE_HEADER_TYPE_PERFINFO32 | TRACE_HEADER_TYPE_PERFINFO64 => {
                        Some((u16_at(4), 16, ts_at(8)))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match fast {
            Some((size, header, ts)) => {
                if size < header || size > avail {
                    self.pos = self.data.len();
                    return Some(Err(if size < header {
                        Error::RecordTooSmall {
                            offset,
                            size,
                            header,
                        }
                    } else {
                        Error::TruncatedRecord {
                            offset,
                            size,
                            available: avail,
                        }
                    }));
                }
                self.pos += (size as usize).div_ceil(RECORD_ALIGNMENT) * RECORD_ALIGNMENT;
                Some(Ok(RecordHeader {
                    offset,
                    header_type: rest[2],
                    size,
                    timestamp: Some(ts),
                }))
            }
            // Messages, unknown kinds and short tails: the full parser decides.
            None => {
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
        }
    }
}

/// What a provider count needs of a record, read without building a [`Record`].
#[derive(Clone, Copy, Debug)]
pub enum ProviderPeek<'a> {
    /// An `EVENT_HEADER` record: provider GUID and the provider-traits item, if any.
    Event {
        guid: Guid,
        traits: Option<&'a [u8]>,
    },
    /// A kernel record (system, compact, perfinfo): its hook id.
    Kernel { hook_id: u16 },
    /// A classic record that is not a KernelTraceControl `MetaData` record: its GUID.
    Classic { guid: Guid },
}

/// The provider of the record at `data[pos..]` and the bytes to advance, for the common
/// well-formed kinds, checked exactly as [`Records`] checks them (sizes, extended items).
/// `None` for anything else (messages, instance headers, `MetaData` records, unknown kinds,
/// any error): parse those with [`Records`]. This is the fast path of `dump --summary`.
#[inline]
pub fn peek_provider(data: &[u8], pos: usize) -> Option<(usize, ProviderPeek<'_>)> {
    let rest = data.get(pos..)?;
    let h = rest.get(..8)?;
    if h[3] & TRACE_HEADER_MARKER != TRACE_HEADER_MARKER {
        return None;
    }
    let adv = |size: usize| size.div_ceil(RECORD_ALIGNMENT) * RECORD_ALIGNMENT;
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]) as usize;
    match h[2] {
        TRACE_HEADER_TYPE_EVENT_HEADER32 | TRACE_HEADER_TYPE_EVENT_HEADER64 => {
            let size = u16_at(0);
            if size < 80 || size > rest.len() {
                return None;
            }
            let rec = &rest[..size];
            let guid = Guid::read_from_bytes(&rec[24..40]).ok()?;
            let flags = u16_at(4) as u16;
            let mut traits = None;
            if flags & EVENT_HEADER_FLAG_EXTENDED_INFO != 0 {
                // Same checks as `extended_area_len`.
                let ext = &rec[80..];
                let mut p = 0usize;
                loop {
                    let item = ext.get(p..p + 8)?;
                    let isize = u16::from_le_bytes([item[0], item[1]]) as usize;
                    let ext_type = u16::from_le_bytes([item[2], item[3]]);
                    let linkage = u16::from_le_bytes([item[4], item[5]]);
                    let dsize = u16::from_le_bytes([item[6], item[7]]) as usize;
                    if isize < 8 || 8 + dsize > isize || isize > ext.len() - p {
                        return None;
                    }
                    if ext_type == EVENT_HEADER_EXT_TYPE_PROV_TRAITS && traits.is_none() {
                        traits = Some(&ext[p + 8..p + 8 + dsize]);
                    }
                    p += isize;
                    if linkage & 1 == 0 {
                        break;
                    }
                }
            }
            Some((adv(size), ProviderPeek::Event { guid, traits }))
        }
        TRACE_HEADER_TYPE_SYSTEM32
        | TRACE_HEADER_TYPE_SYSTEM64
        | TRACE_HEADER_TYPE_COMPACT32
        | TRACE_HEADER_TYPE_COMPACT64
        | TRACE_HEADER_TYPE_PERFINFO32
        | TRACE_HEADER_TYPE_PERFINFO64 => {
            let size = u16_at(4);
            let header = match h[2] {
                TRACE_HEADER_TYPE_SYSTEM32 | TRACE_HEADER_TYPE_SYSTEM64 => 32,
                TRACE_HEADER_TYPE_COMPACT32 | TRACE_HEADER_TYPE_COMPACT64 => 24,
                _ => 16,
            };
            if size < header || size > rest.len() {
                return None;
            }
            Some((
                adv(size),
                ProviderPeek::Kernel {
                    hook_id: u16_at(6) as u16,
                },
            ))
        }
        TRACE_HEADER_TYPE_FULL_HEADER32 | TRACE_HEADER_TYPE_FULL_HEADER64 => {
            let size = u16_at(0);
            if size < 48 || size > rest.len() {
                return None;
            }
            let guid = Guid::read_from_bytes(&rest[24..40]).ok()?;
            if guid == crate::etl::names::KTC_METADATA {
                return None;
            }
            Some((adv(size), ProviderPeek::Classic { guid }))
        }
        _ => None,
    }
}
