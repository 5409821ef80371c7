//! The record parser and the ETL conversion, on records built here as the tap writes them.

use std::io::Cursor;

use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::{self, FieldValue, WskEvent};
use zerocopy::IntoBytes;

use super::format::{self, FileHeader, RecordHeader};
use super::*;
use crate::etl::format::EventDescriptor;
use crate::tracelogging::{self, PointerSize, Value};
use crate::wsk_etl::{self, Context, WskEtlWriter};

const FREQUENCY: i64 = 10_000_000;
const HANDLE: u64 = 1;

/// Builds a record file the way `wsktap.c` lays it out.
struct Tap(Vec<u8>);

impl Tap {
    fn new() -> Tap {
        let header = FileHeader {
            magic: format::MAGIC,
            version: format::VERSION.into(),
            processors: 2.into(),
            qpc_frequency: FREQUENCY.into(),
            start_qpc: 50_000_000.into(),
            // 2026-01-01T00:00:05Z: the session starts 5 s after a boot at midnight.
            start_system_time: (134_116_992_000_000_000i64 + 50_000_000).into(),
            os_major: 10.into(),
            os_minor: 0.into(),
            os_build: 19043.into(),
            cpu_mhz: 2100.into(),
        };
        Tap(header.as_bytes().to_vec())
    }

    fn record(&mut self, kind: u32, qpc: i64, thread_id: u32, processor: u32, body: &[u8]) {
        let size = (size_of::<RecordHeader>() + body.len()).div_ceil(8) * 8;
        let header = RecordHeader {
            size: (size as u32).into(),
            kind: kind.into(),
            qpc: qpc.into(),
            thread_id: thread_id.into(),
            process_id: 4.into(),
            processor: processor.into(),
            status: 0.into(),
            handle: HANDLE.into(),
        };
        let start = self.0.len();
        self.0.extend_from_slice(header.as_bytes());
        self.0.extend_from_slice(body);
        self.0.resize(start + size, 0);
    }

    fn register(&mut self, qpc: i64) {
        let mut body = provider_guid().as_bytes().to_vec();
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        body.extend_from_slice(&0u64.to_le_bytes());
        body.extend_from_slice(&5u32.to_le_bytes());
        body.extend_from_slice(&1u32.to_le_bytes());
        self.record(format::KIND_REGISTER, qpc, 0x10, 0, &body);
    }

    fn set_information(&mut self, class: u32, data: &[u8]) {
        let mut body = class.to_le_bytes().to_vec();
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        self.record(format::KIND_SET_INFORMATION, 50_000_100, 0x10, 0, &body);
    }

    fn write(
        &mut self,
        at: &Context,
        activity: [u8; 16],
        descriptor: &EventDescriptor,
        items: &[(u32, &[u8])],
    ) {
        let mut body = descriptor.as_bytes().to_vec();
        body.extend_from_slice(&format::WRITE_ACTIVITY_ID.to_le_bytes());
        body.extend_from_slice(&(items.len() as u32).to_le_bytes());
        body.extend_from_slice(&activity);
        body.extend_from_slice(&[0; 16]);
        for (data_type, bytes) in items {
            body.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            body.extend_from_slice(&data_type.to_le_bytes());
            body.extend_from_slice(bytes);
            body.resize(body.len().div_ceil(8) * 8, 0);
        }
        let qpc = (at.since_boot_ns / 100) as i64;
        self.record(
            format::KIND_WRITE,
            qpc,
            at.thread_id,
            u32::from(at.processor),
            &body,
        );
    }

    fn unregister(&mut self, threads: &[(u32, u32)]) {
        let mut body = (threads.len() as u32).to_le_bytes().to_vec();
        body.extend_from_slice(&0u32.to_le_bytes());
        for (id, state) in threads {
            body.extend_from_slice(&id.to_le_bytes());
            body.extend_from_slice(&state.to_le_bytes());
        }
        self.record(format::KIND_UNREGISTER, 90_000_000, 0x14, 1, &body);
    }
}

fn provider_guid() -> Guid {
    wsk_etl::provider_guid()
}

/// What `write_event!` hands `EtwWriteTransfer` for `event`: the provider traits (type 2), the
/// event metadata (type 1) and the payload, split in two type-0 descriptors.
fn data_items(event: &WskEvent) -> (EventDescriptor, Vec<(u32, Vec<u8>)>) {
    let desc = event.descriptor();
    let traits = tracelogging::provider_traits_bytes(schema::PROVIDER_NAME, None).unwrap();
    let tl_schema = wsk_etl::tracelogging_schema(desc);
    let values: Vec<Value<'_>> = event
        .fields()
        .into_iter()
        .map(|(_, v)| match v {
            FieldValue::Str(s) => Value::Str(s.into()),
            FieldValue::U8(x) => Value::U64(x.into()),
            FieldValue::U16(x) => Value::U64(x.into()),
            FieldValue::U32(x) => Value::U64(x.into()),
            FieldValue::U64(x) => Value::U64(x),
        })
        .collect();
    let mut payload = Vec::new();
    tracelogging::encode_payload(&tl_schema, &values, PointerSize::Eight, &mut payload).unwrap();
    let split = payload.len() / 2;
    let descriptor = EventDescriptor {
        id: 0.into(),
        version: 0,
        channel: crate::etl::write::TRACELOGGING_CHANNEL,
        level: desc.level,
        opcode: desc.opcode,
        task: 0.into(),
        keyword: desc.keywords.into(),
    };
    let items = vec![
        (DATA_TYPE_PROVIDER_METADATA, traits),
        (DATA_TYPE_EVENT_METADATA, tl_schema.to_bytes().unwrap()),
        (DATA_TYPE_PAYLOAD, payload[..split].to_vec()),
        (DATA_TYPE_PAYLOAD, payload[split..].to_vec()),
    ];
    (descriptor, items)
}

fn sample_events() -> Vec<(Context, [u8; 16], WskEvent)> {
    let ctx = |ms: u64, thread_id: u32, processor: u16| Context {
        since_boot_ns: 5_000_000_000 + ms * 1_000_000,
        processor,
        thread_id,
        process_id: 4,
    };
    vec![
        (
            ctx(1, 0x10, 0),
            [1; 16],
            WskEvent::DriverEntryStart {
                client_name: "wsktrace".into(),
            },
        ),
        (
            ctx(2, 0x10, 0),
            [0; 16],
            WskEvent::WskRegister {
                registration_id: 1,
                npi_version: 0x0100,
                status: NtStatus::SUCCESS,
                duration_ns: 1_200,
            },
        ),
        (
            ctx(3, 0x18, 1),
            [2; 16],
            WskEvent::CaptureProviderNpiStart {
                registration_id: 1,
                capture_id: 1,
                wait_timeout_ms: u32::MAX,
                calling_context: 1,
            },
        ),
    ]
}

/// The tap record of `sample_events` as the tap would write it.
fn sample_tap() -> Vec<u8> {
    let traits = tracelogging::provider_traits_bytes(schema::PROVIDER_NAME, None).unwrap();
    let mut tap = Tap::new();
    tap.register(50_000_050);
    tap.set_information(INFO_CLASS_SET_TRAITS, &traits);
    for (ctx, activity, event) in sample_events() {
        let (descriptor, items) = data_items(&event);
        let items: Vec<(u32, &[u8])> = items.iter().map(|(t, b)| (*t, b.as_slice())).collect();
        tap.write(&ctx, activity, &descriptor, &items);
    }
    tap.unregister(&[(0x10, format::THREAD_CALLER), (0x18, format::THREAD_ENDED)]);
    tap.0
}

#[test]
fn conversion_writes_what_the_provider_writer_writes_byte_for_byte() {
    let tap = parse(&sample_tap()).unwrap();
    let config = session_config(&tap, "C:\\wsktrace\\wine.etl").unwrap();
    let (converted, summary) = write_etl(&tap, Cursor::new(Vec::new()), config.clone()).unwrap();
    assert_eq!(summary.events, 3);

    let mut expected = WskEtlWriter::new(Cursor::new(Vec::new()), config).unwrap();
    for (ctx, activity, event) in sample_events() {
        expected.write_wsk(&ctx, activity, &event).unwrap();
    }
    let (expected, _) = expected.finish(9_000_000_000).unwrap();
    assert_eq!(converted.into_inner(), expected.into_inner());
}

#[test]
fn session_config_takes_the_taps_clock_and_version() {
    let tap = parse(&sample_tap()).unwrap();
    let config = session_config(&tap, "x.etl").unwrap();
    assert_eq!(config.perf_freq, FREQUENCY as u64);
    assert_eq!(config.start_qpc, 50_000_000);
    // Booted at midnight: 5 s of counter before the file's start time.
    assert_eq!(config.boot_time, 134_116_992_000_000_000);
    assert_eq!(config.os_version, (10, 0, 19043));
    assert_eq!(config.cpu_speed_mhz, 2100);
    assert_eq!(config.processors, 2);
    assert_eq!(config.controller, (4, 0x10));
}

#[test]
fn every_call_kind_parses() {
    let tap = parse(&sample_tap()).unwrap();
    assert_eq!(tap.records.len(), 6);
    assert!(matches!(
        &tap.records[0].call,
        TapCall::Register { provider, enable: Some(Enable { level: 5, match_any_keyword: u64::MAX, .. }) }
            if *provider == provider_guid()
    ));
    let TapCall::Write(write) = &tap.records[4].call else {
        panic!("{:?}", tap.records[4]);
    };
    assert_eq!(
        write.activity_id,
        Some(Guid::from_fields(0x0202_0202, 0x0202, 0x0202, [2; 8]))
    );
    assert_eq!(write.related_activity_id, None);
    assert_eq!(write.data.len(), 4);
    assert_eq!(tap.records[4].thread_id, 0x18);
    assert_eq!(
        tap.records[5].call,
        TapCall::Unregister {
            threads: vec![(0x10, ThreadState::Caller), (0x18, ThreadState::Ended)]
        }
    );
    assert_eq!(tap.records[1].offset, 56 + 80);
}

#[test]
fn defects_are_errors_with_their_offsets() {
    let good = sample_tap();
    let err = |bytes: &[u8]| parse(bytes).unwrap_err().to_string();

    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(err(&bad), "not a tap record (bad magic at byte offset 0)");

    assert_eq!(
        err(&good[..good.len() - 8]),
        format!(
            "file ends at byte offset {:#x} inside a record of 64 bytes",
            good.len() - 64
        )
    );
    assert!(err(&good[..20]).contains("inside a file header of 56 bytes"));

    // The first record's size made odd.
    let mut bad = good.clone();
    bad[56] = 41;
    assert_eq!(
        err(&bad),
        "record at byte offset 0x38: size 41 is not a multiple of 8 of at least 40"
    );

    // A write whose first data descriptor claims more bytes than the record has.
    let tap = parse(&good).unwrap();
    let write_at = tap.records[2].offset as usize;
    let mut bad = good.clone();
    let first_item = write_at + size_of::<RecordHeader>() + size_of::<format::WriteBody>();
    bad[first_item..first_item + 4].copy_from_slice(&4096u32.to_le_bytes());
    assert!(err(&bad).starts_with(&format!(
        "record at byte offset {write_at:#x}: kind 3: data descriptor 0 of 4096 bytes"
    )));

    let mut bad = good.clone();
    bad[56 + 4] = 9;
    assert_eq!(
        err(&bad),
        "record at byte offset 0x38: kind 9: unknown record kind 9"
    );
}

#[test]
fn conversion_refuses_what_etw_would_not_have_written() {
    let convert = |bytes: Vec<u8>| {
        let tap = parse(&bytes).unwrap();
        let config = session_config(&tap, "x.etl").unwrap();
        write_etl(&tap, Cursor::new(Vec::new()), config)
            .err()
            .map(|e| e.to_string())
    };
    let (descriptor, items) = data_items(&sample_events()[0].2);
    let ctx = sample_events()[0].0;
    let items: Vec<(u32, &[u8])> = items.iter().map(|(t, b)| (*t, b.as_slice())).collect();

    // A write before any registration.
    let mut tap = Tap::new();
    tap.write(&ctx, [0; 16], &descriptor, &items);
    assert_eq!(
        convert(tap.0).unwrap(),
        "record at byte offset 0x38: handle 1 was never registered"
    );

    // Traits in the event that differ from those the provider set.
    let mut tap = Tap::new();
    tap.register(50_000_050);
    tap.set_information(INFO_CLASS_SET_TRAITS, b"\x05\x00x\x00\x00");
    tap.write(&ctx, [0; 16], &descriptor, &items);
    assert!(convert(tap.0).unwrap().contains("provider traits differ"));

    // A timestamp-override descriptor (type 3), which ETW consumes instead of storing.
    let mut tap = Tap::new();
    tap.register(50_000_050);
    let mut with_override = items.clone();
    with_override.push((3, &[0u8; 8]));
    tap.write(&ctx, [0; 16], &descriptor, &with_override);
    assert!(convert(tap.0)
        .unwrap()
        .ends_with("data descriptor 4: type 3 is not stored in an ETL file"));

    // Without SetInformation the event's own traits are enough.
    let mut tap = Tap::new();
    tap.register(50_000_050);
    tap.write(&ctx, [0; 16], &descriptor, &items);
    assert_eq!(convert(tap.0), None);
}
