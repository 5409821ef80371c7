//! Reader tests on small ETL images built here, byte by byte, for every header kind and the
//! edge cases (truncation, zero-filled buffers, lying sizes and offsets, overlapping extended
//! items, compressed buffers). Each asserts the exact error variant and offset.

use zerocopy::little_endian::{I32, I64, U16, U32, U64};
use zerocopy::{FromZeros, IntoBytes};

use super::format::*;
use super::merge::SortedRecords;
use super::record::{ExtendedData, Record};
use super::{Error, EtlReader, SliceReader};

const BUF: usize = 4096;

fn pad8(v: &mut Vec<u8>) {
    while v.len() % 8 != 0 {
        v.push(0);
    }
}

/// A buffer of `size` bytes holding `records` (each padded to 8), filled with 0xFF after.
fn buffer(size: usize, records: &[Vec<u8>], flags: u16, processor: u8) -> Vec<u8> {
    let mut body = Vec::new();
    for r in records {
        body.extend_from_slice(r);
        pad8(&mut body);
    }
    let filled = BUFFER_HEADER_SIZE + body.len();
    let mut h = WmiBufferHeader::new_zeroed();
    h.buffer_size = U32::new(size as u32);
    h.saved_offset = U32::new(filled as u32);
    h.offset = U32::new(filled as u32);
    h.buffer_flag = U16::new(flags);
    h.processor_number = processor;
    h.logger_id = U16::new(0x28);
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(&body);
    assert!(out.len() <= size, "test buffer too small");
    out.resize(size, 0xFF);
    out
}

fn system(htype: u8, hook: u16, ts: i64, payload: &[u8]) -> Vec<u8> {
    let hsize = match htype {
        TRACE_HEADER_TYPE_SYSTEM32 | TRACE_HEADER_TYPE_SYSTEM64 => 32,
        TRACE_HEADER_TYPE_COMPACT32 | TRACE_HEADER_TYPE_COMPACT64 => 24,
        _ => 16,
    };
    let h = SystemTraceHeader {
        version: U16::new(SYSTEM_TRACE_VERSION),
        header_type: htype,
        marker_flags: TRACE_HEADER_MARKER,
        size: U16::new((hsize + payload.len()) as u16),
        hook_id: U16::new(hook),
        thread_id: U32::new(11),
        process_id: U32::new(22),
        system_time: I64::new(ts),
        kernel_time: U32::new(1),
        user_time: U32::new(2),
    };
    let mut v = h.as_bytes().to_vec();
    if hsize == 16 {
        // PERFINFO: version, type, marker, size, hook, then the timestamp.
        v = [&v[..8], &ts.to_le_bytes()[..]].concat();
    }
    v.truncate(hsize);
    v.extend_from_slice(payload);
    v
}

fn logfile_header(pointer_size: u32, buffers_written: u32, clock: u32) -> Vec<u8> {
    let mut base = TraceLogfileHeaderBase::new_zeroed();
    base.buffer_size = U32::new(BUF as u32);
    base.major_version = 10;
    base.provider_version = U32::new(19041);
    base.number_of_processors = U32::new(2);
    base.end_time = I64::new(132_000_000_100_000_000);
    base.log_file_mode = U32::new(EVENT_TRACE_FILE_MODE_SEQUENTIAL);
    base.buffers_written = U32::new(buffers_written);
    base.pointer_size = U32::new(pointer_size);
    base.events_lost = U32::new(3);
    base.cpu_speed_in_mhz = U32::new(1000);
    let mut tail = TraceLogfileHeaderTail::new_zeroed();
    tail.time_zone.bias = I32::new(-60);
    tail.boot_time = I64::new(131_999_000_000_000_000);
    tail.perf_freq = I64::new(10_000_000);
    tail.start_time = I64::new(132_000_000_000_000_000);
    tail.reserved_flags = U32::new(clock);
    tail.buffers_lost = U32::new(1);
    let mut p = if pointer_size == 4 {
        TraceLogfileHeader32 {
            base,
            logger_name: U32::new(0),
            log_file_name: U32::new(0),
            tail,
        }
        .as_bytes()
        .to_vec()
    } else {
        TraceLogfileHeader64 {
            base,
            logger_name: U64::new(0),
            log_file_name: U64::new(0),
            tail,
        }
        .as_bytes()
        .to_vec()
    };
    for s in ["Logger", "C:\\t.etl"] {
        for u in s.encode_utf16().chain([0]) {
            p.extend_from_slice(&u.to_le_bytes());
        }
    }
    let htype = if pointer_size == 4 {
        TRACE_HEADER_TYPE_SYSTEM32
    } else {
        TRACE_HEADER_TYPE_SYSTEM64
    };
    system(htype, WMI_LOG_TYPE_HEADER, 1_000, &p)
}

fn header_buffer(buffers_written: u32) -> Vec<u8> {
    buffer(
        BUF,
        &[logfile_header(8, buffers_written, CLOCK_TYPE_QPC)],
        ETW_BUFFER_FLAG_FLUSH_MARKER,
        0,
    )
}

const PROVIDER: Guid = Guid::from_fields(0x11223344, 0x5566, 0x7788, [1, 2, 3, 4, 5, 6, 7, 8]);

fn ext_item(ext_type: u16, data: &[u8], more: bool) -> Vec<u8> {
    let size = (8 + data.len()).div_ceil(8) * 8;
    let mut v = EventHeaderExtendedItem {
        reserved1: U16::new(size as u16),
        ext_type: U16::new(ext_type),
        linkage: U16::new(more as u16),
        data_size: U16::new(data.len() as u16),
    }
    .as_bytes()
    .to_vec();
    v.extend_from_slice(data);
    v.resize(size, 0);
    v
}

fn event(htype: u8, ts: i64, ext: &[Vec<u8>], payload: &[u8]) -> Vec<u8> {
    let ext: Vec<u8> = ext.concat();
    let mut h = EventHeader::new_zeroed();
    h.size = U16::new((80 + ext.len() + payload.len()) as u16);
    h.header_type = htype;
    h.marker_flags = TRACE_HEADER_MARKER;
    h.flags = U16::new(if ext.is_empty() {
        0
    } else {
        EVENT_HEADER_FLAG_EXTENDED_INFO
    });
    h.thread_id = U32::new(7);
    h.process_id = U32::new(8);
    h.time_stamp = I64::new(ts);
    h.provider_id = PROVIDER;
    h.event_descriptor.id = U16::new(42);
    h.event_descriptor.level = 4;
    h.event_descriptor.keyword = U64::new(0x1);
    let mut v = h.as_bytes().to_vec();
    v.extend_from_slice(&ext);
    v.extend_from_slice(payload);
    v
}

fn classic(htype: u8, ts: i64, payload: &[u8]) -> Vec<u8> {
    let mut h = EventTraceHeader::new_zeroed();
    h.size = U16::new((48 + payload.len()) as u16);
    h.header_type = htype;
    h.marker_flags = TRACE_HEADER_MARKER;
    h.class_type = 10;
    h.class_level = 4;
    h.class_version = U16::new(2);
    h.time_stamp = I64::new(ts);
    h.guid = PROVIDER;
    let mut v = h.as_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

fn instance(ts: i64) -> Vec<u8> {
    let mut h = EventInstanceGuidHeader::new_zeroed();
    h.size = U16::new(72 + 4);
    h.header_type = TRACE_HEADER_TYPE_INSTANCE64;
    h.marker_flags = TRACE_HEADER_MARKER;
    h.time_stamp = I64::new(ts);
    h.guid = PROVIDER;
    h.instance_id = U32::new(5);
    h.parent_instance_id = U32::new(4);
    let mut v = h.as_bytes().to_vec();
    v.extend_from_slice(&[9, 9, 9, 9]);
    v
}

fn message(ts: i64) -> Vec<u8> {
    let flags = TRACE_MESSAGE_SEQUENCE
        | TRACE_MESSAGE_GUID
        | TRACE_MESSAGE_TIMESTAMP
        | TRACE_MESSAGE_SYSTEMINFO;
    let mut v = MessageTraceHeader {
        size: U16::new(8 + 4 + 16 + 8 + 8 + 3),
        reserved: 0,
        marker: ((TRACE_HEADER_FLAG | TRACE_MESSAGE) >> 24) as u8,
        message_number: U16::new(12),
        option_flags: U16::new(flags),
    }
    .as_bytes()
    .to_vec();
    v.extend_from_slice(&77u32.to_le_bytes());
    v.extend_from_slice(PROVIDER.as_bytes());
    v.extend_from_slice(&ts.to_le_bytes());
    v.extend_from_slice(&100u32.to_le_bytes());
    v.extend_from_slice(&200u32.to_le_bytes());
    v.extend_from_slice(b"abc");
    v
}

fn file(buffers: &[Vec<u8>]) -> Vec<u8> {
    buffers.concat()
}

/// Reads everything; returns (records, errors with their offsets).
fn read_all(data: &[u8]) -> (Vec<String>, Vec<Error>) {
    let mut r = EtlReader::new(data).expect("logfile header");
    let mut recs = Vec::new();
    let mut errs = Vec::new();
    while let Some(b) = r.next_buffer() {
        match b {
            Ok(b) => {
                for rec in b.records() {
                    match rec {
                        Ok(rec) => recs.push(format!("{}@{}", rec.header_type(), rec.offset())),
                        Err(e) => errs.push(e),
                    }
                }
            }
            Err(e) => errs.push(e),
        }
    }
    (recs, errs)
}

#[test]
fn every_header_kind() {
    let sid = [1u8, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    let mut stack = 0x55u64.to_le_bytes().to_vec();
    stack.extend_from_slice(&0xfffff80000001000u64.to_le_bytes());
    stack.extend_from_slice(&0xfffff80000002000u64.to_le_bytes());
    let related = Guid::from_fields(0xaabbccdd, 1, 2, [3; 8]);
    let ext = vec![
        ext_item(
            EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID,
            related.as_bytes(),
            true,
        ),
        ext_item(EVENT_HEADER_EXT_TYPE_SID, &sid, true),
        ext_item(EVENT_HEADER_EXT_TYPE_TS_ID, &3u32.to_le_bytes(), true),
        ext_item(EVENT_HEADER_EXT_TYPE_STACK_TRACE64, &stack, true),
        ext_item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS, b"\x07\x00Prov\x00", true),
        ext_item(
            EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
            b"\x05\x00\x00Ev\x00",
            true,
        ),
        ext_item(0x30, b"raw", false),
    ];
    let data_records = vec![
        event(TRACE_HEADER_TYPE_EVENT_HEADER64, 2_000, &ext, b"payload"),
        event(TRACE_HEADER_TYPE_EVENT_HEADER32, 2_001, &[], b"p32"),
        system(TRACE_HEADER_TYPE_SYSTEM32, 0x0501, 2_002, b"s32"),
        system(TRACE_HEADER_TYPE_COMPACT64, 0x0b0a, 2_003, b"c64"),
        system(TRACE_HEADER_TYPE_PERFINFO64, 0x0f2e, 2_004, b"perf"),
        classic(TRACE_HEADER_TYPE_FULL_HEADER32, 2_005, b"mof32"),
        classic(TRACE_HEADER_TYPE_FULL_HEADER64, 2_006, b"mof64"),
        instance(2_007),
        message(2_008),
    ];
    let img = file(&[header_buffer(2), buffer(BUF, &data_records, 0, 1)]);
    let mut r = EtlReader::new(&img[..]).expect("header");
    assert_eq!(r.info().logger_name, "Logger");
    assert_eq!(r.info().log_file_name, "C:\\t.etl");
    assert_eq!(r.info().pointer_size, 8);
    assert_eq!(r.info().events_lost, 3);
    assert_eq!(r.info().buffers_lost, 1);
    assert_eq!(r.info().os_version(), "10.0 build 19041");
    assert_eq!(r.info().time_zone.bias_minutes, -60);
    let _ = r.next_buffer().expect("header buffer").expect("ok");
    let b = r.next_buffer().expect("data buffer").expect("ok");
    assert_eq!(b.processor(), 1);
    assert_eq!(b.logger_id(), 0x28);
    let recs: Vec<Record> = b.records().map(|r| r.expect("record")).collect();
    assert_eq!(recs.len(), 9);
    let Record::Event(e) = recs[0] else {
        panic!("not an event")
    };
    assert_eq!(e.header.provider_id, PROVIDER);
    assert_eq!(e.user_data, b"payload");
    assert_eq!(e.pointer_size(), 8);
    let items: Vec<_> = e.extended_items().map(|i| i.decode()).collect();
    assert_eq!(items.len(), 7);
    assert!(matches!(items[0], ExtendedData::RelatedActivityId(g) if g == related));
    assert!(matches!(items[1], ExtendedData::Sid(s) if s == sid));
    assert!(matches!(items[2], ExtendedData::TerminalSessionId(3)));
    match items[3] {
        ExtendedData::StackTrace64 { match_id, frames } => {
            assert_eq!(match_id, 0x55);
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[1].get(), 0xfffff80000002000);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(items[4], ExtendedData::ProviderTraits(_)));
    assert!(matches!(items[5], ExtendedData::EventSchemaTl(_)));
    assert!(matches!(items[6], ExtendedData::Other(0x30, b"raw")));
    assert_eq!(
        super::names::record_provider(&recs[0]),
        (PROVIDER, Some("Prov"))
    );
    let Record::Event(e32) = recs[1] else {
        panic!()
    };
    assert_eq!(e32.pointer_size(), 4);
    let Record::System(s) = recs[2] else { panic!() };
    assert_eq!(
        (s.hook_id, s.thread_id, s.kernel_time, s.payload),
        (0x0501, Some(11), Some(1), &b"s32"[..])
    );
    assert_eq!(
        super::names::record_provider(&recs[2]).1,
        Some("Kernel:Thread")
    );
    let Record::System(c) = recs[3] else { panic!() };
    assert_eq!(
        (c.kernel_time, c.process_id, c.payload),
        (None, Some(22), &b"c64"[..])
    );
    let Record::System(p) = recs[4] else { panic!() };
    assert_eq!(
        (p.thread_id, p.timestamp, p.payload),
        (None, 2_004, &b"perf"[..])
    );
    let Record::Classic(m32) = recs[5] else {
        panic!()
    };
    assert_eq!(
        (m32.pointer_size(), m32.header.class_type, m32.payload),
        (4, 10, &b"mof32"[..])
    );
    let Record::Classic(m64) = recs[6] else {
        panic!()
    };
    assert_eq!(m64.pointer_size(), 8);
    let Record::Classic(inst) = recs[7] else {
        panic!()
    };
    assert_eq!(inst.instance.map(|i| i.instance_id.get()), Some(5));
    assert_eq!(inst.payload, &[9, 9, 9, 9]);
    let Record::Message(msg) = recs[8] else {
        panic!()
    };
    assert_eq!(
        (
            msg.sequence,
            msg.guid,
            msg.timestamp,
            msg.thread_id,
            msg.process_id,
            msg.payload
        ),
        (
            Some(77),
            Some(PROVIDER),
            Some(2_008),
            Some(100),
            Some(200),
            &b"abc"[..]
        )
    );
    let ts: Vec<_> = recs.iter().map(|r| r.timestamp().unwrap()).collect();
    assert_eq!(ts, (2_000..2_009).collect::<Vec<_>>());
}

#[test]
fn logfile_header_32_bit_and_clocks() {
    let img = buffer(BUF, &[logfile_header(4, 1, CLOCK_TYPE_QPC)], 0, 0);
    let r = EtlReader::new(&img[..]).expect("header");
    let info = r.info();
    assert_eq!(
        (info.pointer_size, info.logger_name.as_str()),
        (4, "Logger")
    );
    let clock = info.clock();
    // Header event at raw 1000 = StartTime; 10 MHz QPC: +10_000_000 ticks = +1 s.
    assert_eq!(clock.filetime(1_000), 132_000_000_000_000_000);
    assert_eq!(clock.filetime(10_001_000), 132_000_000_010_000_000);
    assert_eq!(clock.since_start_ns(10_001_000), 1_000_000_000);
    assert_eq!(clock.since_boot_ns(1_000), 100_000_000_000_000);
    let img = buffer(BUF, &[logfile_header(8, 1, CLOCK_TYPE_SYSTEM_TIME)], 0, 0);
    let r = EtlReader::new(&img[..]).expect("header");
    assert_eq!(
        r.info().clock().filetime(132_000_000_000_000_123),
        132_000_000_000_000_123
    );
    assert_eq!(
        r.info().clock().since_start_ns(132_000_000_000_000_123),
        12_300
    );
    let img = buffer(BUF, &[logfile_header(8, 1, CLOCK_TYPE_CPU_CYCLE)], 0, 0);
    let r = EtlReader::new(&img[..]).expect("header");
    // 1000 MHz: 1e9 cycles = 1 s.
    assert_eq!(
        r.info().clock().since_start_ns(1_000_001_000),
        1_000_000_000
    );
}

#[test]
fn bad_logfile_header() {
    assert!(matches!(
        EtlReader::new(&[][..]),
        Err(Error::BadLogfileHeader { offset: 0, .. })
    ));
    let img = buffer(
        BUF,
        &[system(TRACE_HEADER_TYPE_SYSTEM64, 0x0501, 1, b"x")],
        0,
        0,
    );
    assert!(matches!(
        EtlReader::new(&img[..]),
        Err(Error::BadLogfileHeader { offset: 72, .. })
    ));
    let img = buffer(
        BUF,
        &[system(TRACE_HEADER_TYPE_SYSTEM64, 0, 1, &[0; 20])],
        0,
        0,
    );
    assert!(matches!(
        EtlReader::new(&img[..]),
        Err(Error::BadLogfileHeader { offset: 72, .. })
    ));
}

#[test]
fn truncated_file() {
    let data = buffer(
        BUF,
        &[event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"x")],
        0,
        0,
    );
    let img = file(&[header_buffer(2), data]);
    let (recs, errs) = read_all(&img[..BUF + 1000]);
    assert_eq!(recs.len(), 1);
    assert!(
        matches!(
            errs[..],
            [Error::TruncatedBuffer {
                offset: 4096,
                size: 4096,
                available: 1000
            }]
        ),
        "{errs:?}"
    );
    let (_, errs) = read_all(&img[..BUF + 40]);
    assert!(
        matches!(
            errs[..],
            [Error::TruncatedBufferHeader {
                offset: 4096,
                available: 40
            }]
        ),
        "{errs:?}"
    );
}

#[test]
fn zero_filled_buffers() {
    let data = buffer(
        BUF,
        &[event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"x")],
        0,
        0,
    );
    // A zero buffer among the written ones is an error and loses that buffer only.
    let img = file(&[header_buffer(3), vec![0; BUF], data.clone()]);
    let (recs, errs) = read_all(&img);
    assert_eq!(recs.len(), 2);
    assert!(
        matches!(errs[..], [Error::ZeroBuffer { offset: 4096 }]),
        "{errs:?}"
    );
    // Zeros after the written buffers (a preallocated file) end it quietly.
    let img = file(&[header_buffer(2), data, vec![0; BUF * 2]]);
    let (recs, errs) = read_all(&img);
    assert_eq!((recs.len(), errs.len()), (2, 0));
}

#[test]
fn lying_buffer_fields() {
    let good = buffer(
        BUF,
        &[event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"x")],
        0,
        0,
    );
    let mut huge = good.clone();
    huge[0..4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let mut tiny = good.clone();
    tiny[0..4].copy_from_slice(&8u32.to_le_bytes());
    let mut past = good.clone();
    past[0x30..0x34].copy_from_slice(&(BUF as u32 + 8).to_le_bytes());
    let img = file(&[header_buffer(5), huge, tiny, past, good]);
    let (recs, errs) = read_all(&img);
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert!(
        matches!(
            errs[..],
            [
                Error::BadBufferSize {
                    offset: 4096,
                    size: 0x7fff_ffff
                },
                Error::BadBufferSize {
                    offset: 8192,
                    size: 8
                },
                Error::BadFilledLength {
                    offset: 12288,
                    filled: 4104,
                    size: 4096
                }
            ]
        ),
        "{errs:?}"
    );
}

#[test]
fn lying_record_sizes() {
    let mut big = event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"x");
    big[0..2].copy_from_slice(&4000u16.to_le_bytes());
    let mut small = event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"x");
    small[0..2].copy_from_slice(&40u16.to_le_bytes());
    let ok = event(TRACE_HEADER_TYPE_EVENT_HEADER64, 6, &[], b"y");
    let mut sys_big = system(TRACE_HEADER_TYPE_SYSTEM64, 0x0501, 1, b"");
    sys_big[4..6].copy_from_slice(&0xfff0u16.to_le_bytes());
    let img = file(&[
        header_buffer(4),
        buffer(BUF, &[ok.clone(), big, ok.clone()], 0, 0),
        buffer(BUF, &[small, ok.clone()], 0, 0),
        buffer(BUF, &[sys_big, ok], 0, 0),
    ]);
    let (recs, errs) = read_all(&img);
    // Each bad record loses the rest of its buffer; the header event + 1 good record remain.
    assert_eq!(recs.len(), 2, "{recs:?}");
    let first_after = 4096 + 72 + 88;
    assert!(
        matches!(
            errs[..],
            [
                Error::TruncatedRecord { offset, size: 4000, .. },
                Error::RecordTooSmall { offset: 8264, size: 40, header: 80 },
                Error::TruncatedRecord { offset: 12360, size: 0xfff0, .. },
            ] if offset == first_after
        ),
        "{errs:?}"
    );
}

#[test]
fn extended_items_overlapping_or_running_past() {
    let mut overlap = ext_item(EVENT_HEADER_EXT_TYPE_TS_ID, &3u32.to_le_bytes(), false);
    overlap[6..8].copy_from_slice(&20u16.to_le_bytes()); // data size 20 > item size 16 - 8
    let mut past = ext_item(EVENT_HEADER_EXT_TYPE_TS_ID, &3u32.to_le_bytes(), true); // "more" but none
    past[0..2].copy_from_slice(&16u16.to_le_bytes());
    let mut tiny = ext_item(EVENT_HEADER_EXT_TYPE_TS_ID, &3u32.to_le_bytes(), false);
    tiny[0..2].copy_from_slice(&4u16.to_le_bytes());
    let ok = event(TRACE_HEADER_TYPE_EVENT_HEADER64, 6, &[], b"y");
    let img = file(&[
        header_buffer(2),
        buffer(
            BUF,
            &[
                event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[overlap], b""),
                event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[past], b""),
                event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[tiny], b""),
                ok,
            ],
            0,
            0,
        ),
    ]);
    let (recs, errs) = read_all(&img);
    // A bad item loses its record only: the good record after them is read.
    assert_eq!(recs.len(), 2, "{recs:?}");
    let reasons: Vec<_> = errs
        .iter()
        .map(|e| match e {
            Error::BadExtendedItem { offset, reason } => (*offset, *reason),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (4096 + 72 + 80, "item data overlaps the next item"),
            (
                4096 + 72 + 96 + 80 + 16,
                "item header runs past the end of the record"
            ),
            (4096 + 72 + 192 + 80, "item size is smaller than its header"),
        ]
    );
}

#[test]
fn unknown_record_kind_is_skipped() {
    let mut unknown = event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"zz");
    unknown[2] = TRACE_HEADER_TYPE_TIMED;
    let img = file(&[
        header_buffer(2),
        buffer(
            BUF,
            &[
                unknown,
                event(TRACE_HEADER_TYPE_EVENT_HEADER64, 6, &[], b"y"),
            ],
            0,
            0,
        ),
    ]);
    let (recs, errs) = read_all(&img);
    assert_eq!(recs.len(), 2);
    assert!(
        matches!(
            errs[..],
            [Error::UnknownRecordKind {
                offset: 4168,
                prefix: 0xc00c0052
            }]
        ),
        "{errs:?}"
    );
}

/// An MS-XCA stream of literals only (a flag word of zeros per 32 bytes).
fn xpress_literals(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(32) {
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(chunk);
    }
    out
}

fn compressed(records: &[Vec<u8>], lie_filled: i64) -> Vec<u8> {
    let plain = buffer(BUF, records, ETW_BUFFER_FLAG_COMPRESSED, 0);
    let filled = u32::from_le_bytes(plain[0x30..0x34].try_into().unwrap());
    let body = xpress_literals(&plain[72..filled as usize]);
    let mut out = plain[..72].to_vec();
    out[0..4].copy_from_slice(&((72 + body.len()) as u32).to_le_bytes());
    out[0x30..0x34].copy_from_slice(&((filled as i64 + lie_filled) as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn compressed_buffers() {
    let recs = vec![
        event(
            TRACE_HEADER_TYPE_EVENT_HEADER64,
            5,
            &[],
            b"compressed payload",
        ),
        system(TRACE_HEADER_TYPE_SYSTEM64, 0x0501, 6, b"s"),
    ];
    let good = compressed(&recs, 0);
    let short = compressed(&recs, 8); // header says 8 more bytes than the data holds
    let mut broken = compressed(&recs, 0);
    broken[72..76].copy_from_slice(&[0, 0, 0, 0x80]); // first item a match before the output start
    let mut broken_bytes = broken.clone();
    broken_bytes[76..78].copy_from_slice(&[0x18, 0]);
    let short_at = (good.len()) as u64 + 4096;
    let broken_at = short_at + short.len() as u64;
    let img = file(&[header_buffer(4), good.clone(), short, broken_bytes, good]);
    let (recs, errs) = read_all(&img);
    assert_eq!(recs.len(), 1 + 2 + 2, "{recs:?}");
    assert!(
        matches!(
            errs[..],
            [
                Error::DecompressedSize { offset: o1, expected, actual },
                Error::Decompress { offset: o2, .. },
            ] if o1 == short_at && o2 == broken_at && expected == actual + 8
        ),
        "{errs:?}"
    );
}

#[test]
fn sorted_merge_orders_across_cpus() {
    let a = buffer(
        BUF,
        &[10, 30, 50].map(|t| event(TRACE_HEADER_TYPE_EVENT_HEADER64, t, &[], b"")),
        0,
        0,
    );
    let b = buffer(
        BUF,
        &[20, 40, 60].map(|t| event(TRACE_HEADER_TYPE_EVENT_HEADER64, t, &[], b"")),
        0,
        1,
    );
    let img = file(&[header_buffer(3), a, b]);
    let mut m = SortedRecords::new(EtlReader::new(&img[..]).expect("header"), 8);
    let mut got = Vec::new();
    while let Some(r) = m.next() {
        let r = r.expect("record");
        got.push((r.record.timestamp().unwrap(), r.processor));
    }
    assert_eq!(
        got,
        vec![
            (10, 0),
            (20, 1),
            (30, 0),
            (40, 1),
            (50, 0),
            (60, 1),
            (1_000, 0)
        ]
    );
    assert_eq!(m.out_of_order(), 0);
}

#[test]
fn metadata_event_names_a_provider() {
    // TRACE_EVENT_INFO: ProviderGuid, EventGuid, descriptor, decoding source, then
    // ProviderNameOffset at 0x34; the name after the fixed part (0x70).
    let mut info = vec![0u8; 0x70];
    info[..16].copy_from_slice(PROVIDER.as_bytes());
    info[0x34..0x38].copy_from_slice(&0x70u32.to_le_bytes());
    for u in "Microsoft-Windows-Test".encode_utf16().chain([0]) {
        info.extend_from_slice(&u.to_le_bytes());
    }
    let mut rec = classic(TRACE_HEADER_TYPE_FULL_HEADER64, 5, &info);
    rec[24..40].copy_from_slice(super::names::KTC_METADATA.as_bytes());
    rec[4] = super::names::KTC_METADATA_EVENT_INFO;
    let img = file(&[header_buffer(2), buffer(BUF, &[rec.clone()], 0, 0)]);
    let mut r = EtlReader::new(&img[..]).expect("header");
    let _ = r.next_buffer();
    let b = r.next_buffer().expect("buffer").expect("ok");
    let Some(Ok(Record::Classic(c))) = b.records().next() else {
        panic!("no classic record")
    };
    assert_eq!(
        super::names::metadata_provider_name(&c),
        Some((PROVIDER, "Microsoft-Windows-Test".to_string()))
    );
    // An offset inside the fixed part or past the end names nothing.
    let mut bad = rec;
    bad[48 + 0x34..48 + 0x38].copy_from_slice(&0x10u32.to_le_bytes());
    let img = file(&[header_buffer(2), buffer(BUF, &[bad], 0, 0)]);
    let mut r = EtlReader::new(&img[..]).expect("header");
    let _ = r.next_buffer();
    let b = r.next_buffer().expect("buffer").expect("ok");
    let Some(Ok(Record::Classic(c))) = b.records().next() else {
        panic!("no classic record")
    };
    assert_eq!(super::names::metadata_provider_name(&c), None);
}

#[test]
fn provider_peek_agrees_with_full_parse() {
    use super::names::{classic_name, kernel_provider, record_provider, traits_name};
    use super::record::{peek_provider, step_over_unwanted, ProviderPeek, Records};
    let traits = ext_item(EVENT_HEADER_EXT_TYPE_PROV_TRAITS, b"\x07\x00Prov\x00", true);
    let meta = ext_item(
        EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
        b"\x05\x00\x00Ev\x00",
        false,
    );
    let mut overlap = ext_item(EVENT_HEADER_EXT_TYPE_TS_ID, &3u32.to_le_bytes(), false);
    overlap[6..8].copy_from_slice(&20u16.to_le_bytes());
    let records = vec![
        event(TRACE_HEADER_TYPE_EVENT_HEADER64, 1, &[traits, meta], b"x"),
        event(TRACE_HEADER_TYPE_EVENT_HEADER32, 2, &[], b""),
        event(TRACE_HEADER_TYPE_EVENT_HEADER64, 3, &[overlap], b""),
        system(TRACE_HEADER_TYPE_SYSTEM64, 0x030a, 4, b""),
        system(TRACE_HEADER_TYPE_PERFINFO64, 0x0f2e, 5, b"p"),
        classic(TRACE_HEADER_TYPE_FULL_HEADER64, 6, b"c"),
        message(7),
    ];
    let data = buffer(BUF, &records, 0, 0);
    let filled = u32::from_le_bytes(data[0x30..0x34].try_into().unwrap()) as usize;
    let data = &data[..filled];
    let mut pos = BUFFER_HEADER_SIZE;
    let mut peeked = 0;
    while pos < data.len() {
        let mut one = Records::new(data, pos, 0);
        let full = one.next().expect("record");
        // The walk's step over other providers' records takes what the peek takes, except
        // the records of the providers it wants.
        let peek = peek_provider(data, pos);
        let provider = u128::from_le_bytes(PROVIDER.to_bytes_le());
        let step = |wanted| step_over_unwanted(data, pos, &[wanted, 0]);
        assert_eq!(step(1), peek.map(|(adv, _)| adv));
        let ours = matches!(peek, Some((_, ProviderPeek::Event { .. })));
        assert_eq!(step(provider), peek.filter(|_| !ours).map(|(adv, _)| adv));
        match peek {
            Some((adv, peek)) => {
                peeked += 1;
                let rec = full.expect("peek only takes good records");
                let (g, n) = match peek {
                    ProviderPeek::Event { guid, traits } => (guid, traits.and_then(traits_name)),
                    ProviderPeek::Kernel { hook_id } => kernel_provider(hook_id),
                    ProviderPeek::Classic { guid } => (guid, classic_name(&guid)),
                };
                assert_eq!((g, n), record_provider(&rec));
                assert_eq!(pos + adv, one.position());
            }
            None => assert!(full.is_err() || matches!(full, Ok(Record::Message(_)))),
        }
        pos = one.position();
    }
    assert_eq!(peeked, 5);
}

#[test]
fn clock_extremes_do_not_overflow() {
    let img = buffer(BUF, &[logfile_header(8, 1, CLOCK_TYPE_QPC)], 0, 0);
    let clock = EtlReader::new(&img[..]).expect("header").info().clock();
    for raw in [i64::MIN, i64::MIN + 1, -1, 0, 1_000, i64::MAX - 1, i64::MAX] {
        let _ = clock.filetime(raw);
        let _ = clock.since_start_ns(raw);
        let _ = clock.since_boot_ns(raw);
    }
    assert_eq!(clock.filetime(i64::MAX), i64::MAX);
    // Past the i64 range of delta × 10⁷ the 128-bit path gives the same line.
    let far = 1_000 + 2_000_000_000_000i64;
    assert_eq!(
        clock.filetime(far),
        132_000_000_000_000_000 + 2_000_000_000_000
    );
    assert_eq!(clock.since_start_ns(far), 200_000_000_000_000);
}

#[test]
fn clock_wrapping_deltas_saturate() {
    // A header timestamp near i64::MAX and a record timestamp near i64::MIN: the true delta
    // is below i64::MIN, so the result saturates low instead of wrapping.
    let mut rec = logfile_header(8, 1, CLOCK_TYPE_QPC);
    rec[16..24].copy_from_slice(&(i64::MAX - 1).to_le_bytes());
    let img = buffer(BUF, &[rec], 0, 0);
    let clock = EtlReader::new(&img[..]).expect("header").info().clock();
    assert!(clock.filetime(i64::MIN) < 0);
    assert!(clock.since_start_ns(i64::MIN) < 0);
}

/// Every buffer a reader gives (index, offset, processor, filled bytes) or its error, then its
/// counters.
fn described<R>(
    mut r: R,
    next: for<'x> fn(&'x mut R) -> Option<Result<super::Buffer<'x>, Error>>,
    stats: fn(&R) -> &super::ReadStats,
) -> (Vec<String>, String) {
    let mut seen = Vec::new();
    while let Some(b) = next(&mut r) {
        let b = b.map(|b| (b.index, b.offset, b.processor(), b.data.to_vec()));
        seen.push(format!("{b:?}"));
    }
    let st = stats(&r);
    let stats = format!(
        "{} {} {} {} {} {}",
        st.buffers,
        st.bad_buffers,
        st.buffers_with_lost_events,
        st.buffers_lost_flags,
        st.compressed_buffers,
        st.bytes
    );
    (seen, stats)
}

fn stream_buffers(img: &[u8]) -> Option<(Vec<String>, String)> {
    let r = EtlReader::new(img).ok()?;
    Some(described(r, EtlReader::next_buffer, EtlReader::stats))
}

fn slice_buffers(img: &[u8]) -> Option<(Vec<String>, String)> {
    let r = SliceReader::new(img).ok()?;
    Some(described(r, SliceReader::next_buffer, SliceReader::stats))
}

/// The reader over bytes in memory (no copy) and the streaming reader frame, open and count
/// the same buffers, bad ones included: on files with every kind of bad buffer, and on
/// corrupted copies of them.
#[test]
fn slice_reader_matches_stream_reader() {
    let recs = vec![
        event(TRACE_HEADER_TYPE_EVENT_HEADER64, 5, &[], b"payload"),
        system(TRACE_HEADER_TYPE_SYSTEM64, 0x0501, 6, b"s"),
    ];
    let good = buffer(BUF, &recs, ETW_BUFFER_FLAG_EVENTS_LOST, 1);
    let mut huge = good.clone();
    huge[0..4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let plain = file(&[
        header_buffer(6),
        good.clone(),
        huge,
        vec![0; BUF],
        good.clone(),
    ]);
    let mut broken = compressed(&recs, 0);
    broken[72..76].copy_from_slice(&[0, 0, 0, 0x80]);
    let packed = file(&[
        header_buffer(5),
        compressed(&recs, 0),
        compressed(&recs, 8),
        broken,
        compressed(&recs, 0),
    ]);
    let mut truncated = plain.clone();
    truncated.truncate(plain.len() - 100);
    let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15u64);
    let mut images = vec![plain, packed, truncated];
    for round in 0..300 {
        let mut img = images[round % 3].clone();
        for _ in 0..1 + next() % 6 {
            let at = (next() % img.len() as u64) as usize;
            img[at] = next() as u8;
        }
        if round % 7 == 0 {
            img.truncate((next() % img.len() as u64) as usize);
        }
        images.push(img);
    }
    for (i, img) in images.iter().enumerate() {
        assert_eq!(stream_buffers(img), slice_buffers(img), "image {i}");
    }
}
