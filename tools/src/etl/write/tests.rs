//! Layout tests of the writer: raw byte offsets (not the `format` structs, so that a wrong
//! struct would be caught), and record-for-record equality with a real Windows file.

use std::io::Cursor;

use super::*;
use crate::etl::format::{
    EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
};

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

const PROVIDER: Guid = Guid::from_fields(
    0x0cd1c309,
    0x0878,
    0x4515,
    [0x83, 0xdb, 0x74, 0x98, 0x43, 0xb3, 0xf5, 0xc9],
);

fn event<'a>(
    processor: u16,
    timestamp: i64,
    ext: &'a [ExtItem<'a>],
    payload: &'a [u8],
) -> Event<'a> {
    Event {
        provider_id: PROVIDER,
        descriptor: Descriptor {
            level: 4,
            channel: TRACELOGGING_CHANNEL,
            keywords: 0x1,
            ..Descriptor::default()
        },
        timestamp,
        processor,
        thread_id: 100,
        process_id: 4,
        activity_id: Guid::default(),
        ext,
        payload,
    }
}

fn write(
    config: SessionConfig,
    f: impl FnOnce(&mut EtlWriter<Cursor<Vec<u8>>>),
) -> (Vec<u8>, WriteSummary) {
    let mut w = EtlWriter::new(Cursor::new(Vec::new()), config).unwrap();
    f(&mut w);
    let (out, summary) = w.finish(0).unwrap();
    (out.into_inner(), summary)
}

#[test]
fn header_buffer_layout() {
    let config = SessionConfig {
        logger_name: "lxcore_kernel".into(),
        log_file_name: "C:\\Prog\\lxcore_kernel.etl".into(),
        ..SessionConfig::default()
    };
    let (b, summary) = write(config.clone(), |_| {});
    assert_eq!(b.len(), 8192);
    assert_eq!(summary.buffers_written, 1);
    // WMI_BUFFER_HEADER: size, saved/current offset = filled = 0x220 (as in lxcore_kernel.etl,
    // whose names have the same lengths), flags FLUSH_MARKER|PROC_INDEX, type HEADER.
    assert_eq!(u32_at(&b, 0x00), 8192);
    assert_eq!(u32_at(&b, 0x04), 0x220);
    assert_eq!(u32_at(&b, 0x08), 0x220);
    assert_eq!(i64_at(&b, 0x10), 0);
    assert_eq!(i64_at(&b, 0x18), 0);
    assert_eq!(u16_at(&b, 0x2a), 0x20);
    assert_eq!(u32_at(&b, 0x2c), 3);
    assert_eq!(u32_at(&b, 0x30), 0x220);
    assert_eq!(u16_at(&b, 0x34), 0x21);
    assert_eq!(u16_at(&b, 0x36), 4);
    // SYSTEM_TRACE_HEADER of the logfile header event: version 2, type 2, marker 0xC0,
    // size 0x188 (same as lxcore_kernel.etl), hook 0, timestamp = start QPC.
    assert_eq!(&b[0x48..0x4c], &[2, 0, 2, 0xc0]);
    assert_eq!(u16_at(&b, 0x4c), 0x188);
    assert_eq!(u16_at(&b, 0x4e), 0);
    assert_eq!(i64_at(&b, 0x58), config.start_qpc);
    // TRACE_LOGFILE_HEADER at 0x68.
    assert_eq!(u32_at(&b, 0x68), 8192);
    assert_eq!(&b[0x6c..0x70], &[10, 0, 1, 5]);
    assert_eq!(u32_at(&b, 0x70), 26100);
    assert_eq!(u32_at(&b, 0x74), 2);
    assert_eq!(u32_at(&b, 0x8c), 1, "BuffersWritten");
    assert_eq!(u32_at(&b, 0x94), 8, "PointerSize");
    assert_eq!(u32_at(&b, 0x98), 0, "EventsLost");
    assert_eq!(i64_at(&b, 0x160), config.boot_time);
    assert_eq!(i64_at(&b, 0x168), 10_000_000);
    assert_eq!(i64_at(&b, 0x170), config.boot_time + 50_000_000);
    assert_eq!(u32_at(&b, 0x178), 1, "clock type QPC");
    assert_eq!(u32_at(&b, 0x17c), 0, "BuffersLost");
    let name: Vec<u8> = "lxcore_kernel\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(&b[0x180..0x180 + name.len()], &name[..]);
    // The hook 0x50 record follows at the next 8-byte boundary, then 0xFF fill.
    assert_eq!(&b[0x1d0..0x1d4], &[2, 0, 2, 0xc0]);
    assert_eq!(u16_at(&b, 0x1d4), 0x50);
    assert_eq!(u16_at(&b, 0x1d6), 0x50);
    assert!(b[0x220..].iter().all(|&x| x == 0xff));
}

#[test]
fn records_are_aligned_and_items_linked() {
    let schema = [7u8; 13]; // 8 + 13 = 21 -> 24
    let traits = [9u8; 3]; // 8 + 3 = 11 -> 16
    let ext = [
        ExtItem {
            ext_type: EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
            data: &traits,
        },
        ExtItem {
            ext_type: EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
            data: &schema,
        },
    ];
    let (b, summary) = write(SessionConfig::default(), |w| {
        w.write_event(&event(0, 60_000_000, &ext, &[1, 2, 3]))
            .unwrap();
        w.write_event(&event(0, 60_000_010, &[], &[4; 5])).unwrap();
    });
    assert_eq!(summary.buffers_written, 2);
    assert_eq!(summary.records, 4);
    let d = &b[8192..];
    // First record: 80 + 16 + 24 + 3 = 123 bytes, padded to 128.
    assert_eq!(u16_at(d, 0x48), 123);
    assert_eq!(&d[0x4a..0x4c], &[0x13, 0xc0]);
    assert_eq!(u16_at(d, 0x4c), 1, "EXTENDED_INFO");
    assert_eq!(i64_at(d, 0x58), 60_000_000);
    assert_eq!(d[0x48 + 0x2b], TRACELOGGING_CHANNEL);
    // Item 1: size 16, type 12, linkage 1, data size 3; item 2: size 24, type 11, linkage 0.
    assert_eq!(
        [
            u16_at(d, 0x98),
            u16_at(d, 0x9a),
            u16_at(d, 0x9c),
            u16_at(d, 0x9e)
        ],
        [16, 12, 1, 3]
    );
    assert_eq!(
        [
            u16_at(d, 0xa8),
            u16_at(d, 0xaa),
            u16_at(d, 0xac),
            u16_at(d, 0xae)
        ],
        [24, 11, 0, 13]
    );
    assert_eq!(&d[0xa3..0xa8], &[0; 5], "item padding is zero");
    assert_eq!(&d[0xc0..0xc3], &[1, 2, 3]);
    assert_eq!(&d[0xc3..0xc8], &[0; 5], "record padding is zero");
    // Second record at 0xc8: 85 bytes, no items, flags 0.
    assert_eq!(u16_at(d, 0xc8), 85);
    assert_eq!(u16_at(d, 0xcc), 0);
    let filled = 0xc8 + 88;
    assert_eq!(u32_at(d, 0x30), filled as u32);
    assert_eq!(u32_at(d, 0x04), filled as u32);
    assert_eq!(
        u32_at(d, 0x08),
        filled as u32 + 8192,
        "closed by the end of the session"
    );
    assert_eq!(
        u16_at(d, 0x34),
        0x21,
        "PROC_INDEX and, as the last buffer, FLUSH_MARKER"
    );
    assert_eq!(i64_at(d, 0x18), 1);
    assert!(d[filled..].iter().all(|&x| x == 0xff));
    // The header buffer now counts both buffers.
    assert_eq!(u32_at(&b, 0x8c), 2);
}

#[test]
fn per_cpu_buffers_sequence_and_lost_events() {
    let config = SessionConfig {
        buffer_size: 1024,
        processors: 3,
        ..SessionConfig::default()
    };
    let payload = [0u8; 300]; // 380-byte records: two per 1 KiB buffer
    let (b, summary) = write(config, |w| {
        w.write_event(&event(2, 100, &[], &payload)).unwrap(); // cpu 2 takes seq 1
        w.write_event(&event(0, 101, &[], &payload)).unwrap(); // cpu 0 takes seq 2
        w.write_event(&event(2, 102, &[], &payload)).unwrap();
        w.record_lost(0, 5).unwrap();
        w.write_event(&event(2, 103, &[], &payload)).unwrap(); // flushes cpu 2 (seq 1), takes seq 3
        assert!(matches!(
            w.write_event(&event(3, 104, &[], &payload)),
            Err(WriteError::ProcessorOutOfRange {
                processor: 3,
                processors: 3
            })
        ));
        assert!(matches!(
            w.write_event(&event(0, 104, &[], &[0; 1000])),
            Err(WriteError::EventTooLarge {
                size: 1080,
                max: 952
            })
        ));
    });
    assert_eq!(summary.buffers_written, 4);
    assert_eq!(summary.events_lost, 5);
    assert_eq!(b.len(), 4 * 1024);
    let bufs: Vec<&[u8]> = b.chunks(1024).collect();
    // File order: header, cpu 2 (full, seq 1), then at finish cpu 0 (seq 2), cpu 2 (seq 3).
    let seen: Vec<(i64, u8, u16)> = bufs[1..]
        .iter()
        .map(|d| (i64_at(d, 0x18), d[0x28], u16_at(d, 0x34)))
        .collect();
    assert_eq!(seen, [(1, 2, 0x20), (2, 0, 0x22), (3, 2, 0x21)]);
    // The full buffer: closed by a 384-byte reservation that did not fit; stamped then.
    assert_eq!(u32_at(bufs[1], 0x30), 72 + 2 * 384);
    assert_eq!(u32_at(bufs[1], 0x08), 72 + 3 * 384);
    assert_eq!(i64_at(bufs[1], 0x10), 103);
    assert_eq!(u32_at(&b, 0x98), 5, "EventsLost in the logfile header");
    assert_eq!(u32_at(&b, 0x8c), 4);
}

#[test]
fn config_is_validated() {
    for config in [
        SessionConfig {
            buffer_size: 1000,
            ..SessionConfig::default()
        },
        SessionConfig {
            buffer_size: 2 << 20,
            ..SessionConfig::default()
        },
        SessionConfig {
            processors: 0,
            ..SessionConfig::default()
        },
        SessionConfig {
            perf_freq: 0,
            ..SessionConfig::default()
        },
        SessionConfig {
            logger_name: "x".repeat(600),
            buffer_size: 1024,
            ..SessionConfig::default()
        },
    ] {
        assert!(matches!(
            EtlWriter::new(Cursor::new(Vec::new()), config),
            Err(WriteError::Config(_))
        ));
    }
}

#[test]
fn time_conversions() {
    let c = SessionConfig::default();
    assert_eq!(c.qpc_to_filetime(0), c.boot_time);
    assert_eq!(c.qpc_to_filetime(10_000_000), c.boot_time + 10_000_000);
    let c = SessionConfig {
        perf_freq: 3_000_000,
        ..c
    };
    assert_eq!(c.ns_to_qpc(1_000_000_000), 3_000_000);
    assert_eq!(c.qpc_to_filetime(3_000_000), c.boot_time + 10_000_000);
}

/// Rewrites the two TraceLogging events of lxcore_kernel.etl (a kernel-mode TraceLogging
/// driver's trace written by Windows 10) from their parts — header fields, the two extended
/// items' data, the payload — and checks that every record comes out byte for byte as Windows
/// wrote it, and that the buffer header fields the writer controls match too.
#[test]
fn reproduces_windows_tracelogging_records() {
    let Some(corpus) = crate::corpus::etl_dir_or_skip("etl writer") else {
        return;
    };
    let real = std::fs::read(corpus.join("airbus-cert__etl-parser/lxcore_kernel.etl")).unwrap();
    let config = SessionConfig {
        processors: 6,
        ..SessionConfig::default()
    };
    for at in [0x2000usize, 0x4000] {
        let buf = &real[at..at + 0x2000];
        let rec = &buf[0x48..];
        let size = usize::from(u16_at(rec, 0));
        let mut items = Vec::new();
        let mut p = 0x50;
        loop {
            let (item_size, ext_type, linkage, data_size) = (
                u16_at(rec, p),
                u16_at(rec, p + 2),
                u16_at(rec, p + 4),
                u16_at(rec, p + 6),
            );
            items.push(ExtItem {
                ext_type,
                data: &rec[p + 8..p + 8 + usize::from(data_size)],
            });
            p += usize::from(item_size);
            if linkage & 1 == 0 {
                break;
            }
        }
        let ev = Event {
            provider_id: PROVIDER,
            descriptor: Descriptor {
                id: u16_at(rec, 0x28),
                version: rec[0x2a],
                channel: rec[0x2b],
                level: rec[0x2c],
                opcode: rec[0x2d],
                task: u16_at(rec, 0x2e),
                keywords: u64::from_le_bytes(rec[0x30..0x38].try_into().unwrap()),
            },
            timestamp: i64_at(rec, 0x10),
            processor: u16::from(buf[0x28]),
            thread_id: u32_at(rec, 0x08),
            process_id: u32_at(rec, 0x0c),
            activity_id: Guid::default(),
            ext: &items,
            payload: &rec[p..size],
        };
        let (ours, _) = write(config.clone(), |w| w.write_event(&ev).unwrap());
        let ours = &ours[0x2000..0x4000];
        let filled = u32_at(buf, 0x30) as usize;
        assert_eq!(&ours[0x48..filled], &buf[0x48..filled], "record at {at:#x}");
        assert_eq!(u32_at(ours, 0x30), u32_at(buf, 0x30));
        assert_eq!(u32_at(ours, 0x04), u32_at(buf, 0x04));
        assert_eq!(u32_at(ours, 0x08), u32_at(buf, 0x08));
        assert_eq!(ours[0x28], buf[0x28]);
        assert_eq!(u32_at(ours, 0x2c), u32_at(buf, 0x2c));
        assert_eq!(u16_at(ours, 0x36), u16_at(buf, 0x36));
        assert_eq!(&ours[filled..], &buf[filled..], "0xFF fill");
    }
}

/// Rewrites the first data buffer of two files of manifest events written by Windows
/// (Microsoft-Windows-Kernel-Network, kernel mode; Microsoft-Windows-PowerShell, user mode)
/// from the records' parts, and checks the buffer's records come out byte for byte as Windows
/// wrote them (but for `ProcessorTime`, which this writer leaves 0), filling the buffer to
/// the same length.
#[test]
fn reproduces_windows_manifest_buffers() {
    let Some(corpus) = crate::corpus::etl_dir_or_skip("etl writer") else {
        return;
    };
    for file in [
        "microsoft__Tx/KernelNetwork.etl",
        "microsoft__krabsetw/powershell.etl",
    ] {
        let real = std::fs::read(corpus.join(file)).unwrap();
        let size = u32_at(&real, 0) as usize;
        let buf = &real[size..2 * size];
        let filled = u32_at(buf, 0x30) as usize;
        let processor = u16::from(buf[0x28]);
        let config = SessionConfig {
            buffer_size: size as u32,
            processors: processor + 1,
            ..SessionConfig::default()
        };
        let (ours, summary) = write(config, |w| {
            let mut p = 0x48;
            while p < filled {
                let rec = &buf[p..];
                let len = usize::from(u16_at(rec, 0));
                assert_eq!(
                    (rec[2], u16_at(rec, 4)),
                    (0x13, 0),
                    "{file}: manifest EVENT_HEADER"
                );
                let ev = Event {
                    provider_id: zerocopy::transmute!(
                        <[u8; 16]>::try_from(&rec[0x18..0x28]).unwrap()
                    ),
                    descriptor: Descriptor {
                        id: u16_at(rec, 0x28),
                        version: rec[0x2a],
                        channel: rec[0x2b],
                        level: rec[0x2c],
                        opcode: rec[0x2d],
                        task: u16_at(rec, 0x2e),
                        keywords: u64::from_le_bytes(rec[0x30..0x38].try_into().unwrap()),
                    },
                    timestamp: i64_at(rec, 0x10),
                    processor,
                    thread_id: u32_at(rec, 0x08),
                    process_id: u32_at(rec, 0x0c),
                    activity_id: zerocopy::transmute!(
                        <[u8; 16]>::try_from(&rec[0x40..0x50]).unwrap()
                    ),
                    ext: &[],
                    payload: &rec[0x50..len],
                };
                w.write_event(&ev).unwrap();
                p += align(len);
            }
        });
        assert_eq!(summary.buffers_written, 2, "{file}: one data buffer");
        let ours = &ours[size..];
        assert_eq!(u32_at(ours, 0x30) as usize, filled, "{file}: filled length");
        let mask = |b: &[u8]| {
            let mut b = b[0x48..filled].to_vec();
            let mut p = 0;
            while p < b.len() {
                let len = usize::from(u16_at(&b, p));
                b[p + 0x38..p + 0x40].fill(0); // ProcessorTime
                p += align(len);
            }
            b
        };
        assert_eq!(mask(ours), mask(buf), "{file}");
    }
}

/// A sink that cannot seek.
struct OnlyWrite(Vec<u8>);

impl std::io::Write for OnlyWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn planned_file_on_a_plain_write_sink_equals_the_patched_one() {
    let config = SessionConfig {
        buffer_size: 1024,
        processors: 3,
        ..SessionConfig::default()
    };
    let payload = [5u8; 200];
    let emit = |w: &mut dyn FnMut(&Event<'_>)| {
        for i in 0..20u16 {
            w(&event(i % 3, 1000 + i64::from(i), &[], &payload));
        }
    };
    // Patched (seekable sink).
    let mut seekable = EtlWriter::new(Cursor::new(Vec::new()), config.clone()).unwrap();
    emit(&mut |e| seekable.write_event(e).unwrap());
    seekable.record_lost(1, 4).unwrap();
    let (patched, summary) = seekable.finish(5000).unwrap();
    // Dry run, then planned on a sink that cannot seek.
    let mut dry = EtlWriter::new(Discard::default(), config.clone()).unwrap();
    emit(&mut |e| dry.write_event(e).unwrap());
    dry.record_lost(1, 4).unwrap();
    let (discard, plan) = dry.finish(5000).unwrap();
    assert_eq!(plan, summary);
    assert_eq!(discard.len, summary.bytes);
    let mut planned =
        EtlWriter::with_plan(OnlyWrite(Vec::new()), config.clone(), plan.plan()).unwrap();
    emit(&mut |e| planned.write_event(e).unwrap());
    planned.record_lost(1, 4).unwrap();
    let (out, planned_summary) = planned.finish_planned().unwrap();
    assert_eq!(planned_summary, summary);
    assert_eq!(out.0, patched.into_inner(), "same bytes either way");

    // A second run that differs from its plan is refused (its header would lie).
    let mut short = EtlWriter::with_plan(OnlyWrite(Vec::new()), config, plan.plan()).unwrap();
    short.write_event(&event(0, 1000, &[], &payload)).unwrap();
    assert!(matches!(
        short.finish_planned(),
        Err(WriteError::PlanMismatch { planned, written })
            if planned == plan.plan() && written.buffers_written == 2 && written.events_lost == 0
    ));
}

#[test]
fn discard_tracks_position_and_length() {
    use std::io::{Seek, SeekFrom, Write};
    let mut d = Discard::default();
    d.write_all(&[0; 10]).unwrap();
    assert_eq!(d.seek(SeekFrom::Start(2)).unwrap(), 2);
    d.write_all(&[0; 3]).unwrap();
    assert_eq!(d.stream_position().unwrap(), 5);
    assert_eq!(d.seek(SeekFrom::End(-1)).unwrap(), 9);
    assert_eq!(d.seek(SeekFrom::Current(-9)).unwrap(), 0);
    assert!(d.seek(SeekFrom::Current(-1)).is_err());
}

mod round_trip {
    //! Whatever the writer is given comes back from the ETL reader unchanged.

    use std::io::Cursor;

    use proptest::prelude::*;

    use super::super::*;
    use super::PROVIDER;
    use crate::etl::record::Record;
    use crate::etl::EtlReader;

    #[derive(Clone, Debug)]
    struct Ev {
        processor: u16,
        timestamp: i64,
        id: u16,
        keywords: u64,
        items: Vec<(u16, Vec<u8>)>,
        payload: Vec<u8>,
    }

    fn events() -> impl Strategy<Value = (u16, Vec<Ev>, u32)> {
        (1u16..5).prop_flat_map(|processors| {
            let ev = (
                0..processors,
                0i64..1 << 40,
                any::<u16>(),
                any::<u64>(),
                prop::collection::vec((1u16..20, prop::collection::vec(any::<u8>(), 0..40)), 0..3),
                prop::collection::vec(any::<u8>(), 0..300),
            )
                .prop_map(|(processor, timestamp, id, keywords, items, payload)| Ev {
                    processor,
                    timestamp,
                    id,
                    keywords,
                    items,
                    payload,
                });
            (Just(processors), prop::collection::vec(ev, 0..60), 0u32..3)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn reader_gets_back_every_event((processors, evs, lost) in events()) {
            let config = SessionConfig { buffer_size: 1024, processors, ..SessionConfig::default() };
            let mut w = EtlWriter::new(Cursor::new(Vec::new()), config.clone()).unwrap();
            for e in &evs {
                let items: Vec<ExtItem<'_>> =
                    e.items.iter().map(|(t, d)| ExtItem { ext_type: *t, data: d }).collect();
                let ev = Event {
                    provider_id: PROVIDER,
                    descriptor: Descriptor { id: e.id, keywords: e.keywords, ..Descriptor::default() },
                    timestamp: e.timestamp,
                    processor: e.processor,
                    thread_id: 7,
                    process_id: 4,
                    activity_id: Guid::default(),
                    ext: &items,
                    payload: &e.payload,
                };
                w.write_event(&ev).unwrap();
            }
            if lost > 0 {
                w.record_lost(0, lost).unwrap();
            }
            let (out, summary) = w.finish(1 << 41).unwrap();
            let bytes = out.into_inner();
            prop_assert_eq!(bytes.len() as u64, summary.bytes);
            prop_assert_eq!(bytes.len(), summary.buffers_written as usize * 1024);

            let mut reader = EtlReader::new(Cursor::new(&bytes[..])).unwrap();
            let info = reader.info().clone();
            prop_assert_eq!(info.buffers_written, summary.buffers_written);
            prop_assert_eq!(info.events_lost, lost);
            prop_assert_eq!(info.number_of_processors, u32::from(processors));
            prop_assert_eq!(info.end_time, config.qpc_to_filetime(1 << 41));
            // Per processor, the events in the order they were written.
            let mut got: Vec<Vec<Ev>> = vec![Vec::new(); usize::from(processors)];
            let mut lost_flags = 0;
            while let Some(buffer) = reader.next_buffer() {
                let buffer = buffer.unwrap();
                lost_flags += usize::from(buffer.events_lost());
                for record in buffer.records() {
                    let Record::Event(e) = record.unwrap() else { continue };
                    got[usize::from(buffer.processor())].push(Ev {
                        processor: buffer.processor(),
                        timestamp: e.header.time_stamp.get(),
                        id: e.header.event_descriptor.id.get(),
                        keywords: e.header.event_descriptor.keyword.get(),
                        items: e.extended_items().map(|i| (i.ext_type, i.data.to_vec())).collect(),
                        payload: e.user_data.to_vec(),
                    });
                }
            }
            prop_assert_eq!(reader.stats().bad_buffers, 0);
            prop_assert_eq!(lost_flags, usize::from(lost > 0));
            for (p, got) in got.iter().enumerate() {
                let want: Vec<&Ev> = evs.iter().filter(|e| usize::from(e.processor) == p).collect();
                prop_assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(want) {
                    prop_assert_eq!(
                        (g.timestamp, g.id, g.keywords, &g.items, &g.payload),
                        (w.timestamp, w.id, w.keywords, &w.items, &w.payload)
                    );
                }
            }
        }
    }
}
