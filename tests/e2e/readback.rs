//! Runs scenarios into ETL files and reads the files back with the tools.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use wsktrace_driver::schema::{self, FieldKind, FieldValue, WskEvent};
use wsktrace_tools::etl::format::Guid;
use wsktrace_tools::etl::record::EventRecord;
use wsktrace_tools::etl::record::Record;
use wsktrace_tools::etl::{EtlReader, LogfileInfo};
use wsktrace_tools::kernel_pnp::{self, DriverInit};
use wsktrace_tools::scenario::{self, SimTrace};
use wsktrace_tools::tracelogging::{self, PointerSize, SchemaCache, EXT_TYPE_EVENT_SCHEMA_TL};

/// One event of our provider as read back.
#[derive(Clone, Debug)]
pub struct Ev {
    /// Nanoseconds since boot (reader's clock conversion).
    pub since_boot_ns: i64,
    pub tid: u32,
    pub cpu: u16,
    pub activity: [u8; 16],
    pub channel: u8,
    pub level: u8,
    pub opcode: u8,
    pub keywords: u64,
    pub event: WskEvent,
}

/// A Kernel-PnP DriverInit event as read back.
#[derive(Clone, Debug)]
pub struct Pnp {
    pub since_boot_ns: i64,
    pub tid: u32,
    pub event: DriverInit,
}

/// Everything the tests look at in a file.
#[derive(Debug)]
pub struct ReadBack {
    pub info: LogfileInfo,
    /// Our events, in timestamp order.
    pub wsk: Vec<Ev>,
    /// Kernel-PnP events, in timestamp order.
    pub pnp: Vec<Pnp>,
    /// Records of every kind, header records included.
    pub records: usize,
    /// Records per provider GUID.
    pub providers: BTreeMap<String, usize>,
    /// (provider GUID, FILETIME) of every record, file order.
    pub timestamps: Vec<(String, i64)>,
    /// Buffers (header buffer included) and those flagged "events lost".
    pub buffers: u64,
    pub buffers_with_lost_events: u64,
}

/// Reads an ETL image with the tools' reader and decoders; panics on any error (the writer's
/// files must read cleanly).
pub fn read_back(bytes: &[u8]) -> ReadBack {
    let mut reader = EtlReader::new(Cursor::new(bytes)).expect("logfile header");
    let info = reader.info().clone();
    let clock = info.clock();
    let ours = wsktrace_tools::wsk_etl::provider_guid();
    let mut cache = SchemaCache::new();
    let mut out = ReadBack {
        info: info.clone(),
        wsk: Vec::new(),
        pnp: Vec::new(),
        records: 0,
        providers: BTreeMap::new(),
        timestamps: Vec::new(),
        buffers: 0,
        buffers_with_lost_events: 0,
    };
    while let Some(buffer) = reader.next_buffer() {
        let buffer = buffer.expect("buffer");
        let cpu = buffer.processor();
        for record in buffer.records() {
            let record = record.expect("record");
            out.records += 1;
            let provider = match &record {
                Record::Event(e) => e.header.provider_id.to_string(),
                Record::System(_) => wsktrace_tools::etl::names::EVENT_TRACE.to_string(),
                other => panic!("unexpected record kind {:#x}", other.header_type()),
            };
            let raw = record.timestamp().expect("timestamp");
            *out.providers.entry(provider.clone()).or_default() += 1;
            out.timestamps.push((provider, clock.filetime(raw)));
            let Record::Event(e) = record else { continue };
            let d = &e.header.event_descriptor;
            let since_boot_ns = clock.since_boot_ns(raw);
            let tid = e.header.thread_id.get();
            if e.header.provider_id == ours {
                let event = decode_wsk(&e, &mut cache).expect("decodes as a WskEvent");
                out.wsk.push(Ev {
                    since_boot_ns,
                    tid,
                    cpu,
                    activity: guid_bytes(&e.header.activity_id),
                    channel: d.channel,
                    level: d.level,
                    opcode: d.opcode,
                    keywords: d.keyword.get(),
                    event,
                });
            } else if e.header.provider_id == kernel_pnp::PROVIDER_GUID {
                let event = DriverInit::decode(d.id.get(), e.user_data).expect("DriverInit");
                out.pnp.push(Pnp {
                    since_boot_ns,
                    tid,
                    event,
                });
            }
        }
    }
    let stats = reader.stats();
    out.buffers = stats.buffers;
    out.buffers_with_lost_events = stats.buffers_with_lost_events;
    assert_eq!(stats.bad_buffers, 0);
    out.wsk.sort_by_key(|e| e.since_boot_ns);
    out.pnp.sort_by_key(|e| e.since_boot_ns);
    out
}

/// Runs a scenario and writes its trace with the scenario session configuration.
pub fn simulate(name: &str) -> (SimTrace, Vec<u8>) {
    let s = scenario::find(name).unwrap_or_else(|| panic!("no scenario {name}"));
    let trace = s.run();
    let (out, _) = scenario::write_etl(
        &trace,
        Cursor::new(Vec::new()),
        scenario::session_config(name),
    )
    .expect("writes");
    (trace, out.into_inner())
}

/// `simulate` then `read_back`, checking what holds for every scenario: every recorded event
/// is in the file, once, with the provider's header fields from the schema.
pub fn run(name: &str) -> ReadBack {
    let (trace, bytes) = simulate(name);
    let rb = read_back(&bytes);
    assert_eq!(
        rb.wsk.len(),
        trace.records.len(),
        "{name}: every recorded event read back"
    );
    assert_eq!(
        rb.pnp.len(),
        trace.pnp.len(),
        "{name}: every PnP event read back"
    );
    assert_eq!(rb.info.events_lost, trace.lost_events, "{name}: EventsLost");
    let mut recorded: Vec<&WskEvent> = trace.records.iter().map(|r| &r.event).collect();
    let mut read: Vec<&WskEvent> = rb.wsk.iter().map(|e| &e.event).collect();
    let key = |e: &&WskEvent| format!("{e:?}");
    recorded.sort_by_key(key);
    read.sort_by_key(key);
    assert_eq!(recorded, read, "{name}: same events, field for field");
    for e in &rb.wsk {
        let d = e.event.descriptor();
        assert_eq!(
            (e.opcode, e.level, e.keywords),
            (d.opcode, d.level, d.keywords)
        );
        assert_eq!(e.channel, 11, "TraceLogging channel");
        assert_eq!(schema::find_descriptor(d.name, d.opcode), Some(d));
    }
    rb
}

/// Where test files go (`CARGO_TARGET_TMPDIR`, per test binary).
pub fn tmp_dir(sub: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(sub);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A GUID's 16 bytes in Windows order.
pub fn guid_bytes(g: &Guid) -> [u8; 16] {
    let mut b = [0; 16];
    b[..4].copy_from_slice(&g.data1.get().to_le_bytes());
    b[4..6].copy_from_slice(&g.data2.get().to_le_bytes());
    b[6..8].copy_from_slice(&g.data3.get().to_le_bytes());
    b[8..].copy_from_slice(&g.data4);
    b
}

/// Decodes one event of our provider with the general TraceLogging decoder (its metadata item
/// parsed, cached, and its payload decoded by the metadata), then the schema's typed view.
pub fn decode_wsk(ev: &EventRecord<'_>, cache: &mut SchemaCache) -> Result<WskEvent, String> {
    let meta = ev
        .extended_item(EXT_TYPE_EVENT_SCHEMA_TL)
        .ok_or("no TraceLogging metadata (extended item 11)")?;
    let schema = cache.get(meta.data).map_err(|e| e.to_string())?.clone();
    let decoded = tracelogging::decode(&schema, ev.user_data, PointerSize::Eight)
        .map_err(|e| e.to_string())?;
    assert_eq!(
        decoded.unread, 0,
        "{}: payload bytes after the last field",
        decoded.name
    );
    let opcode = ev.header.event_descriptor.opcode;
    let desc = schema::find_descriptor(decoded.name, opcode)
        .ok_or_else(|| format!("unknown event {:?} with opcode {opcode}", decoded.name))?;
    let mut fields = Vec::new();
    for f in desc.fields {
        let v = decoded
            .field(f.name)
            .ok_or_else(|| format!("{}: no field {}", desc.variant, f.name))?;
        let int = v.as_u64();
        let value = match f.kind {
            FieldKind::Str => v.as_str().map(FieldValue::Str),
            FieldKind::U8 | FieldKind::Bool => {
                int.and_then(|x| u8::try_from(x).ok()).map(FieldValue::U8)
            }
            FieldKind::U16Hex => int.and_then(|x| u16::try_from(x).ok()).map(FieldValue::U16),
            FieldKind::U32 | FieldKind::Status => {
                int.and_then(|x| u32::try_from(x).ok()).map(FieldValue::U32)
            }
            FieldKind::U64 => int.map(FieldValue::U64),
        };
        fields.push((
            f.name,
            value
                .ok_or_else(|| format!("{}: field {} has the wrong type", desc.variant, f.name))?,
        ));
    }
    WskEvent::decode(decoded.name, opcode, &fields).map_err(|e| e.to_string())
}
