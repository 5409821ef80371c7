//! Reader benchmark: `cargo bench -p wsktrace-tools --bench reader` (release build).
//!
//! Builds a ≥ 1 GiB ETL file in a temporary directory by repeating the data buffers of the
//! corpus file `microsoft__ebpf-for-windows/ebpforwindows.etl` (11 × 256 KiB buffers of
//! TraceLogging events from two kernel-mode providers) after its header buffer, with the
//! logfile header's buffers-written count patched. Then, on that file (in the page cache after
//! the first pass), best of `WSKTRACE_BENCH_RUNS` (3) runs of:
//!
//! - raw read: `read` of 256 KiB blocks, nothing else (the reference);
//! - header walk: buffers and record headers (kind, size, timestamp), no payload;
//! - full decode: every header field, every extended item, timestamps converted, provider
//!   identity, and every TraceLogging event decoded to named fields (schema cache);
//! - the summary in-process: streamed on one thread (`pipeline::summary::summarize`, the row
//!   to compare across versions) and memory-mapped on every core
//!   (`pipeline::summary::summarize_file`; its CPU time is the whole process's), then
//!   `wsktrace dump --summary` and
//!   `wsktrace dump` (JSON Lines to /dev/null) as processes;
//! - dissect.etl (from `.venv`, see tests/requirements.txt) on a smaller repetition
//!   (`WSKTRACE_BENCH_DISSECT_MB`, 24): record iteration (for the summary) and iteration with
//!   payload decoding (for `dump`), its MB/s scaled to the same file.
//!
//! `WSKTRACE_BENCH_MB` sets the size (default 1024). Output: one table row per measurement
//! with MB/s, events/s and the ratio to the raw read (and to dissect.etl).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use wsktrace_tools::etl::format::EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL;
use wsktrace_tools::etl::names::record_provider;
use wsktrace_tools::etl::{EtlReader, Record};
use wsktrace_tools::pipeline::summary::{summarize, summarize_file, ProviderFilter};
use wsktrace_tools::tracelogging::{decode, PointerSize, SchemaCache};

#[path = "../tests/support/corpus.rs"]
mod corpus;
mod support;

use support::{build, children_cpu_ns, env_usize, process_cpu_ns, thread_cpu_ns};

fn corpus_file() -> Option<PathBuf> {
    Some(corpus::etl_dir()?.join(support::EBPF))
}

/// Whose CPU time a measurement counts.
#[derive(Clone, Copy)]
enum Cpu {
    /// This thread's (one-thread code).
    Thread,
    /// This process's, all threads (code that starts threads).
    Process,
    /// Waited-for children's (the `wsktrace` processes).
    Children,
}

/// Best (wall seconds, CPU seconds) of `runs` runs. The machine is shared (2 cores, often
/// busy with builds), so CPU time is the steadier figure; both are printed.
fn best<T>(runs: usize, whose: Cpu, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let cpu = || match whose {
        Cpu::Thread => thread_cpu_ns(),
        Cpu::Process => process_cpu_ns(),
        Cpu::Children => children_cpu_ns(),
    };
    let mut wall = f64::INFINITY;
    let mut cpu_best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let c0 = cpu();
        let t = Instant::now();
        let r = f();
        let w = t.elapsed().as_secs_f64();
        wall = wall.min(w);
        let c = match (c0, cpu()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => w,
        };
        cpu_best = cpu_best.min(if c > 0.0 { c } else { w });
        out = Some(r);
    }
    (wall, cpu_best, out.unwrap())
}

fn raw_read(path: &Path) -> u64 {
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 256 << 10];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        n += k as u64;
    }
    n
}

/// Buffers and record headers only; returns (records, checksum).
fn header_walk(path: &Path) -> (u64, u64) {
    let mut r = EtlReader::open(path).unwrap();
    let mut n = 0u64;
    let mut sum = 0u64;
    while let Some(b) = r.next_buffer() {
        for rec in b.unwrap().record_headers() {
            let rec = rec.unwrap();
            n += 1;
            sum = sum.wrapping_add(rec.timestamp.unwrap_or(0) as u64 ^ rec.header_type as u64);
        }
    }
    (n, sum)
}

/// Every field of every record, TraceLogging decoded; returns (records, decoded fields).
fn full_decode(path: &Path) -> (u64, u64) {
    let mut r = EtlReader::open(path).unwrap();
    let clock = r.info().clock();
    let mut cache = SchemaCache::new();
    let mut n = 0u64;
    let mut fields = 0u64;
    let mut sum = 0u64;
    while let Some(b) = r.next_buffer() {
        for rec in b.unwrap().records() {
            let rec = rec.unwrap();
            n += 1;
            let (guid, name) = record_provider(&rec);
            sum = sum.wrapping_add(guid.data1.get() as u64 + name.map_or(0, |s| s.len() as u64));
            if let Some(ts) = rec.timestamp() {
                sum = sum.wrapping_add(clock.filetime(ts) as u64);
            }
            sum = sum.wrapping_add(
                rec.thread_id().unwrap_or(0) as u64 + rec.process_id().unwrap_or(0) as u64,
            );
            if let Record::Event(e) = rec {
                let d = &e.header.event_descriptor;
                sum = sum.wrapping_add(
                    d.id.get() as u64
                        + d.keyword.get()
                        + d.level as u64
                        + d.opcode as u64
                        + d.task.get() as u64,
                );
                let mut meta = None;
                for item in e.extended_items() {
                    if item.ext_type == EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL {
                        meta = Some(item.data);
                    }
                    let _ = std::hint::black_box(item.decode());
                }
                if let Some(meta) = meta {
                    let ps = if e.pointer_size() == 4 {
                        PointerSize::Four
                    } else {
                        PointerSize::Eight
                    };
                    if let Ok(schema) = cache.get(meta) {
                        if let Ok(ev) = decode(schema, e.user_data, ps) {
                            fields += ev.fields.len() as u64;
                            std::hint::black_box(&ev);
                        }
                    }
                }
            }
        }
    }
    std::hint::black_box(sum);
    (n, fields)
}

fn run_cli(args: &[&str], path: &Path) -> bool {
    Command::new(env!("CARGO_BIN_EXE_wsktrace"))
        .args(args)
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn dissect(python: &Path, path: &Path, decode_payload: bool) -> Option<(f64, u64)> {
    let script = if decode_payload {
        "import sys,time\nfrom dissect.etl import ETL\nt=time.process_time();n=0\n\
         for ev in ETL(open(sys.argv[1],'rb')):\n    e=ev.event\n    try: e.event_values()\n    except AttributeError: (e.ts, e.provider_id, e._struct)\n    n+=1\n\
         print(time.process_time()-t, n)"
    } else {
        "import sys,time\nfrom dissect.etl import ETL\nt=time.process_time();n=0\ne=ETL(open(sys.argv[1],'rb'))\n\
         for b in e.buffers():\n    for r in b:\n        r.header; n+=1\n\
         print(time.process_time()-t, n)"
    };
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "dissect.etl failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout);
    let mut it = s.split_whitespace();
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(src_path) = corpus_file() else {
        eprintln!("corpus not found (WSKTRACE_CORPUS or ../shared/corpus): benchmark skipped");
        return;
    };
    let src = std::fs::read(&src_path).unwrap();
    let mb = env_usize("WSKTRACE_BENCH_MB", 1024) as u64;
    let runs = env_usize("WSKTRACE_BENCH_RUNS", 3);
    let dir = std::env::temp_dir().join(format!("wsktrace-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.etl");
    let t = Instant::now();
    let (bytes, buffers) = build(&src, &big, mb << 20);
    eprintln!(
        "built {} ({} bytes, {} buffers) in {:.1}s",
        big.display(),
        bytes,
        buffers,
        t.elapsed().as_secs_f64()
    );
    let mbs = |secs: f64| bytes as f64 / secs / 1e6;

    raw_read(&big); // warm the page cache
    let filter = ProviderFilter::default();
    let (w_raw, c_raw, _) = best(runs, Cpu::Thread, || raw_read(&big));
    let (w_walk, c_walk, (events, _)) = best(runs, Cpu::Thread, || header_walk(&big));
    let (w_full, c_full, (_, fields)) = best(runs, Cpu::Thread, || full_decode(&big));
    let (w_lib, c_lib, _) = best(runs, Cpu::Thread, || {
        let file = std::fs::File::open(&big).unwrap();
        summarize(file, &filter, &mut |e| panic!("{e}")).unwrap()
    });
    let (w_map, c_map, _) = best(runs, Cpu::Process, || {
        summarize_file(&big, &filter, &mut |e| panic!("{e}")).unwrap()
    });
    let (w_sum, c_sum, ok1) = best(runs, Cpu::Children, || {
        run_cli(&["dump", "--summary", "--json"], &big)
    });
    let (w_dump, c_dump, ok2) = best(runs.min(2), Cpu::Children, || {
        run_cli(&["dump", "--json"], &big)
    });
    assert!(ok1 && ok2, "wsktrace dump failed");
    // The library summary, for its event count.
    let s = summarize_file(&big, &filter, &mut |e| panic!("{e}")).unwrap();
    assert_eq!(s.events, events);

    println!(
        "file: {} MB ({} buffers of 256 KiB), {} records, {} TraceLogging fields; load average {}",
        bytes / 1_000_000,
        buffers,
        events,
        fields,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?")
    );
    println!(
        "{:<30} {:>8} {:>9} {:>8} {:>10} {:>13} {:>7} {:>9}",
        "measurement",
        "wall s",
        "wall MB/s",
        "CPU s",
        "CPU MB/s",
        "CPU events/s",
        "vs raw",
        "wall/raw"
    );
    // `vs raw`: CPU time against the raw read's; `wall/raw`: wall time (what threads buy).
    let row = |name: &str, w: f64, c: f64| {
        println!(
            "{:<30} {:>8.3} {:>9.0} {:>8.3} {:>10.0} {:>13.0} {:>6.1}% {:>8.1}%",
            name,
            w,
            mbs(w),
            c,
            mbs(c),
            events as f64 / c,
            100.0 * c_raw / c,
            100.0 * w_raw / w
        );
    };
    row("raw read", w_raw, c_raw);
    row("header walk", w_walk, c_walk);
    row("full decode", w_full, c_full);
    row("summary (library, one thread)", w_lib, c_lib);
    row("summary (library, mapped)", w_map, c_map);
    row("wsktrace dump --summary", w_sum, c_sum);
    row("wsktrace dump (JSON)", w_dump, c_dump);
    let (t_sum, t_dump) = (c_sum, c_dump);

    // dissect.etl on a smaller repetition of the same buffers.
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if python.is_file() {
        let small = dir.join("small.etl");
        let dmb = env_usize("WSKTRACE_BENCH_DISSECT_MB", 24) as u64;
        let (sbytes, _) = build(&src, &small, dmb << 20);
        let iter = dissect(&python, &small, false);
        let full = dissect(&python, &small, true);
        for (name, r, ours) in [
            ("dissect.etl records (summary)", iter, t_sum),
            ("dissect.etl + payloads (dump)", full, t_dump),
        ] {
            if let Some((secs, n)) = r {
                let d_mbs = sbytes as f64 / secs / 1e6;
                println!(
                    "{:<28} {:>9.3} {:>10.2} {:>14.0}   ({} MB file; wsktrace is {:.0}x faster)",
                    name,
                    secs,
                    d_mbs,
                    n as f64 / secs,
                    sbytes / 1_000_000,
                    mbs(ours) / d_mbs
                );
            }
        }
    } else {
        println!("dissect.etl: no .venv (run tests/run.sh once): skipped");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
