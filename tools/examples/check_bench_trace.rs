//! Writes the `check` benchmark trace: a large ETL file that is mostly other providers'
//! events, with many complete registrations of `Wsktrace.WskClient` spread through it.
//!
//! ```text
//! cargo run --release --example check_bench_trace -- OUT.etl [REGISTRATIONS] [OTHERS_PER_EVENT]
//! ```
//!
//! Defaults: 120 000 registrations (7 events each: register, capture start/stop, a dispatch
//! call, release, deregister start/stop) and 10 events of other providers after each of ours
//! (four providers, TraceLogging-style with metadata items and manifest-style without, 40 to
//! 240 bytes of payload), on 4 processors with 64 KiB buffers: about 1.1 GiB. See
//! docs/benchmarks.md for how the benchmark is run.

use std::io::BufWriter;

use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;
use wsktrace_tools::etl::format::{
    Guid, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
};
use wsktrace_tools::etl::write::{Descriptor, Event, ExtItem, SessionConfig, TRACELOGGING_CHANNEL};
use wsktrace_tools::tracelogging::{provider_traits_bytes, FieldSchema, InType, OutType, Schema};
use wsktrace_tools::wsk_etl::{Context, WskEtlWriter};

type Writer = WskEtlWriter<BufWriter<std::fs::File>>;

/// The other providers: two TraceLogging-style (metadata item), two manifest-style, with
/// payloads of 40..240 bytes.
struct Others {
    guids: Vec<Guid>,
    meta: Vec<u8>,
    traits: Vec<u8>,
    payloads: Vec<Vec<u8>>,
    /// Events of theirs written.
    written: u64,
}

impl Others {
    fn new() -> Others {
        let guids = (0..4u32)
            .map(|i| {
                Guid::from_fields(
                    0x1234_0000 + i,
                    0x1111,
                    0x2222,
                    [0x33, 0x44, 1, 2, 3, 4, 5, i as u8],
                )
            })
            .collect();
        let schema = Schema::new("OtherEvent")
            .field(FieldSchema::new("Value", InType::U64, OutType::Default))
            .field(FieldSchema::new("Blob", InType::Binary, OutType::Default));
        // Laid out as the schema says: u64, then a counted blob.
        let payloads = (40..240usize)
            .map(|size| {
                let mut p = Vec::with_capacity(size);
                p.extend_from_slice(&(size as u64).to_le_bytes());
                p.extend_from_slice(&((size - 10) as u16).to_le_bytes());
                p.extend((0..size - 10).map(|i| (i * 7) as u8));
                p
            })
            .collect();
        Others {
            guids,
            meta: schema.to_bytes().unwrap(),
            traits: provider_traits_bytes("Bench.OtherProvider", None).unwrap(),
            payloads,
            written: 0,
        }
    }

    /// `count` events 150 ns apart after `ts`, their provider, size and thread from `seed`.
    fn write(&mut self, w: &mut Writer, ts: &mut u64, seed: u64, count: u32) {
        for k in 0..u64::from(count) {
            *ts += 150;
            let p = ((seed + k) % 4) as usize;
            let size = ((seed * 31 + k * 17) % 200) as usize;
            let ext_tl = [
                ExtItem {
                    ext_type: EVENT_HEADER_EXT_TYPE_PROV_TRAITS,
                    data: &self.traits,
                },
                ExtItem {
                    ext_type: EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL,
                    data: &self.meta,
                },
            ];
            let ev = Event {
                provider_id: self.guids[p],
                descriptor: Descriptor {
                    id: if p < 2 { 0 } else { 100 + p as u16 },
                    version: 0,
                    channel: if p < 2 { TRACELOGGING_CHANNEL } else { 0 },
                    level: 4,
                    opcode: 0,
                    task: 0,
                    keywords: 0x10,
                },
                timestamp: w.config().ns_to_qpc(*ts),
                processor: ((seed + k) % 4) as u16,
                thread_id: 0x400 + ((seed + k) % 16) as u32 * 4,
                process_id: 0x300,
                activity_id: Guid::default(),
                ext: if p < 2 { &ext_tl } else { &[] },
                payload: &self.payloads[size],
            };
            w.write_other(&ev).expect("write other event");
            self.written += 1;
        }
    }
}

/// One of our events at `ts` on thread `tid` (its processor follows from the thread).
fn write_ours(w: &mut Writer, ts: u64, tid: u32, ev: &WskEvent) {
    let ctx = Context {
        since_boot_ns: ts,
        processor: (tid / 4 % 4) as u16,
        thread_id: tid,
        process_id: 4,
    };
    w.write_wsk(&ctx, [0; 16], ev).expect("write our event");
}

/// The events of one complete registration `r`.
fn registration(r: u32) -> [WskEvent; 7] {
    [
        WskEvent::WskRegister {
            registration_id: r,
            npi_version: 0x100,
            status: NtStatus::SUCCESS,
            duration_ns: 2_000,
        },
        WskEvent::CaptureProviderNpiStart {
            registration_id: r,
            capture_id: r,
            wait_timeout_ms: 100,
            calling_context: 1,
        },
        WskEvent::CaptureProviderNpiStop {
            registration_id: r,
            capture_id: r,
            status: NtStatus::SUCCESS,
            wait_ns: 1_500,
        },
        WskEvent::DispatchCall {
            registration_id: r,
            capture_id: r,
            function: "WskSocket".into(),
            status: NtStatus::SUCCESS,
            duration_ns: 1_500,
        },
        WskEvent::ReleaseProviderNpi {
            registration_id: r,
            capture_id: r,
            held_ns: 3_000,
            dispatch_calls: 1,
            implicit: false,
        },
        WskEvent::WskDeregisterStart {
            registration_id: r,
            captures_outstanding: 0,
        },
        WskEvent::WskDeregisterStop {
            registration_id: r,
            wait_ns: 1_500,
        },
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .expect("usage: check_bench_trace OUT.etl [REGS] [OTHERS]");
    let regs: u32 = args
        .get(2)
        .map_or(120_000, |s| s.parse().expect("REGISTRATIONS"));
    let others_per_event: u32 = args
        .get(3)
        .map_or(10, |s| s.parse().expect("OTHERS_PER_EVENT"));
    let config = SessionConfig {
        buffer_size: 64 * 1024,
        processors: 4,
        ..SessionConfig::default()
    };
    let start_ns = 5_000_000_000u64;
    let file = std::fs::File::create(out).expect("create output");
    let mut w = WskEtlWriter::new(BufWriter::with_capacity(1 << 20, file), config).expect("writer");
    let mut others = Others::new();
    let mut ts = start_ns + 1_000_000;
    let client_name = "wskbench".into();
    write_ours(
        &mut w,
        ts,
        0x68,
        &WskEvent::DriverEntryStart { client_name },
    );
    for r in 1..=regs {
        let tid = 0x68 + (r % 8) * 4;
        for (i, ev) in registration(r).iter().enumerate() {
            ts += 150;
            write_ours(&mut w, ts, tid, ev);
            others.write(
                &mut w,
                &mut ts,
                u64::from(r) * 7 + i as u64,
                others_per_event,
            );
        }
    }
    ts += 1_000;
    write_ours(&mut w, ts, 0x68, &WskEvent::DriverUnloadStart {});
    let unload = WskEvent::DriverUnloadStop { duration_ns: 100 };
    write_ours(&mut w, ts + 100, 0x68, &unload);
    let (_, summary) = w.finish(ts + 1_000).expect("finish");
    eprintln!(
        "wrote {out}: {} registrations ({} events of ours), {} other events, {} buffers",
        regs,
        u64::from(regs) * 7 + 3,
        others.written,
        summary.buffers_written
    );
}
