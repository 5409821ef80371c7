//! Decoding benchmark: `cargo bench -p wsktrace-tools --bench decoding` (release build).
//!
//! Side by side, on the same machine in alternating rounds (the median of
//! `WSKTRACE_BENCH_RUNS`, 21, rounds is printed):
//!
//! - full `wsktrace dump` (JSON Lines to /dev/null, a process, its CPU time) of the corpus
//!   file with metadata, `microsoft__perfview/net.4.5.2.x64.etl` (179,474 records: 66,394 CLR
//!   and other manifest events decoded by the file's own KernelTraceControl metadata, 91,070
//!   NT Kernel Logger events by MOF classes), and of a TraceLogging file of about as many
//!   events (the data buffers of `ebpforwindows.etl` repeated, built in a temporary directory);
//! - in-process decoding alone (payload to fields to JSON in memory): the metadata-decoded
//!   events of the net file, against the TraceLogging events of `ebpforwindows.etl`;
//! - the same payloads both ways: every metadata-decoded event of the net file whose layout
//!   TraceLogging can express (scalars, NUL-terminated strings, constant-count arrays) decoded
//!   by its layout, and by the equivalent TraceLogging schema;
//! - like for like, the full `dump` of two files holding the same events (those of the net
//!   file that render the same either way: TraceLogging has no value maps) and the same
//!   `MetaData` records, uncompressed: in one the events are described by those records, in
//!   the other by their own TraceLogging metadata (checked: both dump the same lines but for
//!   `decoded_by`). The corpus file against the TraceLogging file above differs in more than
//!   the layout source (kernel events, undescribed records, compression, other payloads).
//!
//! Output: one row per measurement with events/s and MB/s (JSON written, or payload read),
//! and the ratio of the metadata file's figures to TraceLogging's. `WSKTRACE_BENCH_BIN`
//! runs another `wsktrace` build for the `dump` rows (before and after a change).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wsktrace_tools::etl::{EtlReader, Guid, Record};
use wsktrace_tools::payload::{DecodedBy, Payload, PayloadDecoder};
use wsktrace_tools::pipeline::summary::read_metadata;
use wsktrace_tools::tdh::{
    self, Count, EventLayout, Layouts, Length, PropertyKind, TdhInType as T, TdhOutType,
};
use wsktrace_tools::tracelogging::{
    self as tl, FieldSchema, FieldsJson, InType, OutType, PointerSize, Schema,
};

#[path = "../tests/support/corpus.rs"]
mod corpus;
mod support;

use support::{build, children_cpu_ns, env_usize, thread_cpu_ns};

const NET: &str = "microsoft__perfview/net.4.5.2.x64.etl";

/// The `wsktrace` binary the `dump` rows run: this build's, or `WSKTRACE_BENCH_BIN` (another
/// build's, to compare before and after).
fn wsktrace() -> std::ffi::OsString {
    std::env::var_os("WSKTRACE_BENCH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_wsktrace").into())
}

/// The middle value (of an odd count, the median).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `wsktrace dump --json` of `path`, given `reps` times on one command line (so that a run
/// lasts long enough for the children's CPU clock, in 10 ms ticks), to a pipe that counts
/// bytes; (CPU seconds, bytes) per pass over the file.
fn dump(path: &Path, reps: usize, extra: &[&str]) -> (f64, u64) {
    let c0 = children_cpu_ns().unwrap_or(0);
    let mut child = Command::new(wsktrace())
        .args(["dump", "--json"])
        .args(extra)
        .args(std::iter::repeat_n(path, reps))
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs wsktrace");
    let bytes = std::io::copy(&mut child.stdout.take().unwrap(), &mut std::io::sink()).unwrap();
    assert!(child.wait().unwrap().success());
    let cpu = (children_cpu_ns().unwrap_or(0) - c0) as f64 / 1e9;
    (cpu / reps as f64, bytes / reps as u64)
}

/// The events of `path` that `by` decodes.
fn events(path: &Path, by: DecodedBy) -> u64 {
    let mut n = 0;
    walk(path, |p| {
        if matches!(p, Payload::Decoded { by: b, .. } if *b == by) {
            n += 1;
        }
    });
    n
}

/// Decodes every record of `path` (metadata read first, as `dump` does) and hands each
/// payload to `f`.
fn walk(path: &Path, mut f: impl FnMut(&Payload<'_>)) {
    let mut layouts = Layouts::new();
    read_metadata(std::fs::File::open(path).unwrap(), &mut layouts);
    let mut decoder = PayloadDecoder::new(layouts);
    let mut reader = EtlReader::open(path).unwrap();
    while let Some(b) = reader.next_buffer() {
        for rec in b.unwrap().records() {
            let rec: Record<'_> = rec.unwrap();
            f(&decoder.decode(&rec));
        }
    }
}

/// Decodes `path`'s events of `by` to JSON in memory, `passes` times over (so that a small
/// file's run lasts long enough for the thread's CPU clock); (thread CPU seconds of the
/// decoding and JSON only, events, payload bytes).
fn decode_only(path: &Path, by: DecodedBy, passes: usize) -> (f64, u64, u64) {
    // The buffers are read (and decompressed) once, outside the clock.
    let mut buffers = Vec::new();
    let mut reader = EtlReader::open(path).unwrap();
    while let Some(b) = reader.next_buffer() {
        let b = b.unwrap();
        buffers.push((b.data.to_vec(), b.offset));
    }
    let mut layouts = Layouts::new();
    read_metadata(std::fs::File::open(path).unwrap(), &mut layouts);
    let mut decoder = PayloadDecoder::new(layouts);
    let mut out = Vec::with_capacity(1 << 20);
    let (mut n, mut bytes) = (0u64, 0u64);
    let c0 = thread_cpu_ns().unwrap_or(0);
    for (data, offset) in std::iter::repeat_n(&buffers, passes).flatten() {
        let records = wsktrace_tools::etl::record::Records::new(
            data,
            wsktrace_tools::etl::format::BUFFER_HEADER_SIZE,
            *offset,
        );
        for rec in records {
            let rec = rec.unwrap();
            // Both sources' events are EVENT_HEADER records; kernel records are not timed.
            if !matches!(rec, Record::Event(_)) {
                continue;
            }
            if let Payload::Decoded { by: b, fields, .. } = decoder.decode(&rec) {
                if b == by {
                    out.clear();
                    serde_json::to_writer(&mut out, &FieldsJson(&fields)).unwrap();
                    n += 1;
                    bytes += rec.payload().len() as u64;
                }
            }
        }
    }
    let cpu = (thread_cpu_ns().unwrap_or(0) - c0) as f64 / 1e9;
    (cpu, n, bytes)
}

/// The TraceLogging schema of the same payload layout, where TraceLogging can express it.
fn tl_schema(layout: &EventLayout) -> Option<Schema> {
    let mut schema = Schema::new("E");
    for p in layout.top_level() {
        let PropertyKind::Value {
            in_type, out_type, ..
        } = p.kind
        else {
            return None;
        };
        if p.length != Length::Natural {
            return None;
        }
        let t = match in_type {
            T::UNICODESTRING => InType::CStr16,
            T::ANSISTRING => InType::CStr8,
            T::INT8 => InType::I8,
            T::UINT8 => InType::U8,
            T::INT16 => InType::I16,
            T::UINT16 => InType::U16,
            T::INT32 => InType::I32,
            T::UINT32 => InType::U32,
            T::INT64 => InType::I64,
            T::UINT64 => InType::U64,
            T::FLOAT => InType::F32,
            T::DOUBLE => InType::F64,
            T::BOOLEAN => InType::Bool32,
            T::GUID => InType::Guid,
            T::POINTER => InType::HexSize,
            T::FILETIME => InType::FileTime,
            T::SYSTEMTIME => InType::SystemTime,
            T::SID => InType::Sid,
            T::HEXINT32 => InType::Hex32,
            T::HEXINT64 => InType::Hex64,
            _ => return None,
        };
        let out = if out_type.is_hex() {
            OutType::Hex
        } else {
            OutType::Default
        };
        let f = FieldSchema::new(p.name.clone(), t, out);
        schema = schema.field(match p.count {
            Count::Scalar => f,
            Count::Fixed(n) => f.const_array(n),
            _ => return None,
        });
    }
    Some(schema)
}

/// The net file's metadata-decoded events whose layout TraceLogging can express:
/// (layout, schema, pointer size, payload).
type Twin = (
    std::sync::Arc<EventLayout>,
    std::sync::Arc<Schema>,
    PointerSize,
    Vec<u8>,
);

fn twins(path: &Path) -> Vec<Twin> {
    let mut layouts = Layouts::new();
    read_metadata(std::fs::File::open(path).unwrap(), &mut layouts);
    let mut schemas = std::collections::HashMap::new();
    let mut out = Vec::new();
    let mut reader = EtlReader::open(path).unwrap();
    while let Some(b) = reader.next_buffer() {
        for rec in b.unwrap().records() {
            let Ok(Record::Event(e)) = rec else { continue };
            let Some(key) = PayloadDecoder::layout_key(&Record::Event(e)) else {
                continue;
            };
            let Some(layout) = layouts.get(&key).cloned() else {
                continue;
            };
            let Some(schema) = schemas
                .entry(key)
                .or_insert_with(|| tl_schema(&layout).map(std::sync::Arc::new))
                .clone()
            else {
                continue;
            };
            let ptr = if e.pointer_size() == 4 {
                PointerSize::Four
            } else {
                PointerSize::Eight
            };
            out.push((layout, schema, ptr, e.user_data.to_vec()));
        }
    }
    out
}

/// Decodes every twin by its layout (`by_layout`) or its TraceLogging schema, to JSON in
/// memory; thread CPU seconds.
fn decode_twins(twins: &[Twin], by_layout: bool) -> f64 {
    let mut out = Vec::with_capacity(1 << 16);
    let c0 = thread_cpu_ns().unwrap_or(0);
    for (layout, schema, ptr, payload) in twins {
        out.clear();
        if by_layout {
            let fields = tdh::decode_exact(layout, payload, *ptr).unwrap();
            serde_json::to_writer(&mut out, &FieldsJson(&fields)).unwrap();
        } else {
            let ev = tl::decode(schema, payload, *ptr).unwrap();
            assert_eq!(ev.unread, 0);
            serde_json::to_writer(&mut out, &ev.fields_json()).unwrap();
        }
    }
    (thread_cpu_ns().unwrap_or(0) - c0) as f64 / 1e9
}

/// The same events as two files, alike but for what describes them (a like-for-like `dump`):
/// every metadata-decoded event of the net file (64-bit) whose layout TraceLogging can
/// express and whose TraceLogging decoding renders the same JSON, with its header and
/// payload, written uncompressed in 64 KiB buffers after one or more buffers holding the net
/// file's `MetaData` records (in both files: the same first pass, the same records); in the
/// first file the events are manifest-style (described by those records), in the second
/// they carry the TraceLogging provider traits and schema. Returns the two paths and the
/// number of events.
fn twin_files(net: &Path, dir: &Path) -> (PathBuf, PathBuf, usize) {
    use wsktrace_tools::etl::format::{
        EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL as SCHEMA, EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
    };
    use wsktrace_tools::etl::names::KTC_METADATA;
    use wsktrace_tools::etl::write::{Descriptor, EtlWriter, Event, ExtItem, SessionConfig};
    use wsktrace_tools::tracelogging::ProviderTraits;

    struct Twin {
        event: (Guid, Descriptor, i64, u16, u32, u32, Guid),
        traits: Vec<u8>,
        schema: Vec<u8>,
        payload: Vec<u8>,
    }
    let mut layouts = Layouts::new();
    read_metadata(std::fs::File::open(net).unwrap(), &mut layouts);
    let (mut metadata, mut twins, mut schemas) =
        (Vec::new(), Vec::new(), std::collections::HashMap::new());
    let mut reader = EtlReader::open(net).unwrap();
    while let Some(b) = reader.next_buffer() {
        let b = b.unwrap();
        for rec in b.records() {
            match rec.unwrap() {
                Record::Classic(c) if c.header.guid == KTC_METADATA => {
                    let at = (c.offset - b.offset) as usize;
                    metadata.push(b.data[at..at + usize::from(c.header.size.get())].to_vec());
                }
                Record::Event(e) if e.pointer_size() == 8 => {
                    let key = PayloadDecoder::layout_key(&Record::Event(e)).unwrap();
                    let Some(layout) = layouts.get(&key).cloned() else {
                        continue;
                    };
                    let (Some(name), Some(provider)) = (&layout.event_name, &layout.provider_name)
                    else {
                        continue;
                    };
                    let Some((schema, traits)) = schemas
                        .entry(key)
                        .or_insert_with(|| {
                            let mut schema = tl_schema(&layout)?;
                            schema.name = name.to_string();
                            let traits = ProviderTraits {
                                name: provider,
                                traits: vec![],
                            };
                            Some((schema, traits.to_bytes().ok()?))
                        })
                        .clone()
                    else {
                        continue;
                    };
                    let by_layout = tdh::decode_exact(&layout, e.user_data, PointerSize::Eight);
                    let by_schema = tl::decode(&schema, e.user_data, PointerSize::Eight);
                    let same = match (by_layout, by_schema) {
                        (Ok(a), Ok(b)) => {
                            b.unread == 0
                                && serde_json::to_string(&FieldsJson(&a)).unwrap()
                                    == serde_json::to_string(&b.fields_json()).unwrap()
                        }
                        _ => false,
                    };
                    if !same {
                        continue;
                    }
                    let h = e.header;
                    let descriptor = Descriptor::from(&h.event_descriptor);
                    twins.push(Twin {
                        event: (
                            h.provider_id,
                            descriptor,
                            h.time_stamp.get(),
                            b.processor(),
                            h.thread_id.get(),
                            h.process_id.get(),
                            h.activity_id,
                        ),
                        traits,
                        schema: schema.to_bytes().unwrap(),
                        payload: e.user_data.to_vec(),
                    });
                }
                _ => {}
            }
        }
    }
    let start = twins.iter().map(|t| t.event.2).min().unwrap();
    let config = SessionConfig {
        buffer_size: 64 << 10,
        processors: 8,
        start_qpc: start,
        ..SessionConfig::default()
    };
    let write = |path: &Path, tracelogging: bool| {
        let mut w = EtlWriter::new(std::io::Cursor::new(Vec::new()), config.clone()).unwrap();
        for t in std::iter::repeat_n(&twins, TWIN_REPEATS).flatten() {
            let (provider_id, descriptor, timestamp, processor, thread_id, process_id, activity_id) =
                t.event;
            let ext = [
                ExtItem {
                    ext_type: EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
                    data: &t.traits,
                },
                ExtItem {
                    ext_type: SCHEMA,
                    data: &t.schema,
                },
            ];
            w.write_event(&Event {
                provider_id,
                descriptor,
                timestamp,
                processor,
                thread_id,
                process_id,
                activity_id,
                ext: if tracelogging { &ext } else { &[] },
                payload: &t.payload,
            })
            .unwrap();
        }
        let end = twins.iter().map(|t| t.event.2).max().unwrap();
        let bytes = w.finish(end).unwrap().0.into_inner();
        std::fs::write(
            path,
            with_records(&bytes, config.buffer_size as usize, &metadata),
        )
        .unwrap();
    };
    let (m, t) = (
        dir.join("twin-metadata.etl"),
        dir.join("twin-tracelogging.etl"),
    );
    write(&m, false);
    write(&t, true);
    (m, t, twins.len() * TWIN_REPEATS)
}

/// How many times the twin files hold each event (about as many events as the other files,
/// each file small enough for `dump` to read it whole).
const TWIN_REPEATS: usize = 20;

/// `file` (uncompressed buffers of `bs` bytes) with buffers holding `records` (whole records,
/// as they are in a buffer) after its header buffer: a copy of its first data buffer's
/// header, each record 8-aligned, the rest `0xFF`, `BuffersWritten` counting them.
fn with_records(file: &[u8], bs: usize, records: &[Vec<u8>]) -> Vec<u8> {
    const HEADER: usize = 72;
    let mut added: Vec<Vec<u8>> = Vec::new();
    for r in records {
        let fits = added
            .last()
            .is_some_and(|b| b.len() + r.len().next_multiple_of(8) <= bs);
        if !fits {
            added.push(file[bs..bs + HEADER].to_vec());
        }
        let b = added.last_mut().unwrap();
        b.extend_from_slice(r);
        b.resize(b.len().next_multiple_of(8), 0);
    }
    let mut out = file[..bs].to_vec();
    for mut b in added {
        let filled = (b.len() as u32).to_le_bytes();
        for at in [4, 8, 48] {
            b[at..at + 4].copy_from_slice(&filled); // saved, current and filled offsets
        }
        b.resize(bs, 0xFF);
        out.extend_from_slice(&b);
    }
    out.extend_from_slice(&file[bs..]);
    let buffers = (out.len() / bs) as u32;
    let at = HEADER + 32 + 0x24; // BuffersWritten (see support::build)
    out[at..at + 4].copy_from_slice(&buffers.to_le_bytes());
    out
}

/// `dump --json` lines of `path` with what differs by construction between twin files taken
/// out: the record's offset, `decoded_by`, and the header buffer's records (the file sizes).
fn normalized_dump(path: &Path) -> Vec<String> {
    let out = Command::new(wsktrace())
        .args(["dump", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            if o["kind"] == "system" {
                return None;
            }
            o.remove("offset");
            o.remove("decoded_by");
            o.remove("file");
            Some(v.to_string())
        })
        .collect()
}

fn row(what: &str, cpu: f64, events: u64, mb: f64) -> (f64, f64) {
    let (eps, mbps) = (events as f64 / cpu, mb / cpu);
    println!(
        "| {what} | {events} | {:.3} | {:.0} | {:.1} |",
        cpu,
        eps / 1e3,
        mbps
    );
    (eps, mbps)
}

fn main() {
    let Some(dir) = corpus::etl_dir() else {
        eprintln!("corpus not found (WSKTRACE_CORPUS or ../shared/corpus): benchmark skipped");
        return;
    };
    let runs = env_usize("WSKTRACE_BENCH_RUNS", 21) | 1;
    let reps = env_usize("WSKTRACE_BENCH_REPS", 5).max(1);
    let net = dir.join(NET);
    let ebpf = dir.join(support::EBPF);
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("decoding-bench");
    std::fs::create_dir_all(&tmp).unwrap();
    let tl = tmp.join("tracelogging.etl");
    // About as many events as the net file: 13,841 per 11 buffers of 256 KiB.
    build(&std::fs::read(&ebpf).unwrap(), &tl, 13 * 11 * (256 << 10));
    let net_events = events(&net, DecodedBy::Metadata) + events(&net, DecodedBy::Mof);
    let tl_events = events(&tl, DecodedBy::TraceLogging);
    let records = |p: &Path| {
        let mut n = 0u64;
        walk(p, |_| n += 1);
        n
    };
    let (net_records, tl_records) = (records(&net), records(&tl));
    eprintln!(
        "net: {net_records} records ({net_events} decoded); TraceLogging file: {tl_records} records ({tl_events} decoded); {runs} rounds"
    );

    // Paired rounds: the ratio of each round's two runs, whose median is the figure (the
    // machine is shared; its load moves between rounds more than within one).
    let (mut a, mut b, mut paired, mut ja, mut jb) = (vec![], vec![], vec![], 0, 0);
    for _ in 0..runs {
        let (cpu_net, bytes) = dump(&net, reps, &[]);
        a.push(cpu_net);
        ja = bytes;
        let (cpu_tl, bytes) = dump(&tl, reps, &[]);
        b.push(cpu_tl);
        jb = bytes;
        paired.push((cpu_tl / tl_records as f64) / (cpu_net / net_records as f64));
    }
    println!("| measurement | records or events | CPU s (median) | thousand per s | MB/s |");
    println!("|---|---|---|---|---|");
    let (e1, m1) = row(
        "`dump` net.4.5.2.x64.etl (metadata + MOF), MB of JSON",
        median(a),
        net_records,
        ja as f64 / 1e6,
    );
    let (e2, m2) = row(
        "`dump` TraceLogging file, MB of JSON",
        median(b),
        tl_records,
        jb as f64 / 1e6,
    );

    // Like for like: the same events, described by the file's MetaData records or by their
    // own TraceLogging metadata, the rendered lines the same but for `decoded_by`.
    let (twin_m, twin_t, twin_events) = twin_files(&net, &tmp);
    // Per-CPU buffers fill at different rates (the TraceLogging records are larger), so the
    // files hold the records in another order: compared sorted.
    let (mut lines_m, mut lines_t) = (normalized_dump(&twin_m), normalized_dump(&twin_t));
    lines_m.sort_unstable();
    lines_t.sort_unstable();
    assert!(lines_m == lines_t, "the twin files dump alike");
    let (mut g, mut h, mut paired_twin_files) = (vec![], vec![], vec![]);
    let (mut jm, mut jt) = (0, 0);
    for _ in 0..runs {
        let (cpu_m, bytes_m) = dump(&twin_m, reps, &[]);
        let (cpu_t, bytes_t) = dump(&twin_t, reps, &[]);
        (jm, jt) = (bytes_m, bytes_t);
        g.push(cpu_m);
        h.push(cpu_t);
        paired_twin_files.push(cpu_t / cpu_m);
    }
    row(
        "`dump` twin file, events described by its MetaData records, MB of JSON",
        median(g),
        twin_events as u64,
        jm as f64 / 1e6,
    );
    row(
        "`dump` twin file, the same events as TraceLogging, MB of JSON",
        median(h),
        twin_events as u64,
        jt as f64 / 1e6,
    );

    // Reading alone: both passes over the file (metadata, then records), provider names, no
    // record written (a filter no provider passes).
    let (mut ra, mut rb) = (vec![], vec![]);
    for _ in 0..runs {
        ra.push(dump(&net, reps, &["--provider", "none"]).0);
        rb.push(dump(&tl, reps, &["--provider", "none"]).0);
    }
    row(
        "reading only (`dump --provider none`), net.4.5.2.x64.etl",
        median(ra),
        net_records,
        0.0,
    );
    row(
        "reading only (`dump --provider none`), TraceLogging file",
        median(rb),
        tl_records,
        0.0,
    );

    let (mut c, mut d) = (vec![], vec![]);
    let (mut nc, mut nd, mut bc, mut bd) = (0, 0, 0, 0);
    for _ in 0..runs {
        let (cpu, n, bytes) = decode_only(&net, DecodedBy::Metadata, 1);
        (nc, bc) = (n, bytes);
        c.push(cpu);
        let (cpu, n, bytes) = decode_only(&ebpf, DecodedBy::TraceLogging, 5);
        (nd, bd) = (n, bytes);
        d.push(cpu);
    }
    let (e3, m3) = row(
        "decode + JSON, metadata events of net.4.5.2.x64.etl, MB of payload",
        median(c),
        nc,
        bc as f64 / 1e6,
    );
    let (e4, m4) = row(
        "decode + JSON, TraceLogging events of ebpforwindows.etl (5 passes), MB of payload",
        median(d),
        nd,
        bd as f64 / 1e6,
    );
    let twins = twins(&net);
    let twin_bytes = twins.iter().map(|t| t.3.len()).sum::<usize>() as f64 / 1e6;
    let (mut e, mut f, mut paired_twins) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let (by_layout, by_schema) = (decode_twins(&twins, true), decode_twins(&twins, false));
        e.push(by_layout);
        f.push(by_schema);
        paired_twins.push(by_schema / by_layout);
    }
    let (_, _) = row(
        "same payloads (net's metadata events TraceLogging can express) by their layouts",
        median(e),
        twins.len() as u64,
        twin_bytes,
    );
    let (_, _) = row(
        "same payloads by the equivalent TraceLogging schemas",
        median(f),
        twins.len() as u64,
        twin_bytes,
    );
    let _ = TdhOutType::NULL;
    println!();
    println!(
        "ratio metadata / TraceLogging: full dump {:.2} (records/s, median of paired rounds; {:.2} of the medians), {:.2} (JSON MB/s); twin files' full dump {:.2} (median of paired rounds); decoding {:.2} (events/s), {:.2} (payload MB/s); same payloads {:.2} (median of paired rounds)",
        median(paired),
        e1 / e2,
        m1 / m2,
        median(paired_twin_files),
        e3 / e4,
        m3 / m4,
        median(paired_twins)
    );
}
