//! What the benchmarks share: a large file built from a corpus file's buffers, CPU clocks, and
//! their settings from the environment.

use std::io::Write;
use std::path::Path;

/// The TraceLogging corpus file the benchmarks repeat (11 × 256 KiB buffers of two
/// kernel-mode providers' events).
pub const EBPF: &str = "microsoft__ebpf-for-windows/ebpforwindows.etl";

/// `$name` as a number, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes header buffer + data buffers repeated until `min_bytes`; returns (bytes, buffers).
pub fn build(src: &[u8], out: &Path, min_bytes: u64) -> (u64, u32) {
    let bs = u32::from_le_bytes(src[0..4].try_into().unwrap()) as usize;
    assert!(
        bs >= 72 && src.len() % bs == 0,
        "expected fixed-size buffers"
    );
    let header = &src[..bs];
    let data = &src[bs..];
    let per_rep = data.len() as u64;
    let reps = (min_bytes.saturating_sub(bs as u64))
        .div_ceil(per_rep)
        .max(1);
    let buffers = 1 + reps as u32 * (data.len() / bs) as u32;
    let mut h = header.to_vec();
    // Logfile header payload: buffer header (72) + SYSTEM_TRACE_HEADER (32); BuffersWritten at +0x24.
    let at = 72 + 32 + 0x24;
    h[at..at + 4].copy_from_slice(&buffers.to_le_bytes());
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out).unwrap());
    f.write_all(&h).unwrap();
    for _ in 0..reps {
        f.write_all(data).unwrap();
    }
    f.flush().unwrap();
    (bs as u64 + reps * per_rep, buffers)
}

/// CPU time of this thread (ns), from `/proc/thread-self/schedstat`; `None` off Linux.
pub fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// User + system time from `/proc/self/stat`, the two fields at `at` and `at + 1` after the
/// command name (clock ticks, assumed 100 per second).
fn stat_cpu_ns(at: usize) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(at)?.parse::<u64>().ok()? + f.get(at + 1)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

/// CPU time of waited-for children: fields 16 and 17 of stat (cutime, cstime).
pub fn children_cpu_ns() -> Option<u64> {
    stat_cpu_ns(13)
}

/// CPU time of this process, all its threads: fields 14 and 15 of stat (utime, stime).
#[allow(
    dead_code,
    reason = "each bench includes this module; the decoding bench is one-thread"
)]
pub fn process_cpu_ns() -> Option<u64> {
    stat_cpu_ns(11)
}
