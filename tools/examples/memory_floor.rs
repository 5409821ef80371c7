//! The least any reader of a page-cached file that looks at all of its bytes can cost: maps
//! the file and reads one byte of every 64-byte cache line, on 1 or more threads (each a
//! contiguous part), or reads it with `read` into a 1 MiB buffer (what `dd bs=1M` does, in
//! process). Run beside `dd` and `wsktrace check` (docs/benchmarks.md, "The memory floor").
//!
//! usage: memory_floor FILE [touch THREADS | read]

use std::fs::File;
use std::io::Read;
use std::process::ExitCode;

const LINE: usize = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), mode) = (args.first(), args.get(1).map(String::as_str)) else {
        eprintln!("usage: memory_floor FILE [touch THREADS | read]");
        return ExitCode::from(2);
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("memory_floor: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match mode {
        Some("read") => read_all(file),
        _ => {
            let threads = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
            touch_all(&file, threads)
        }
    };
    match result {
        Ok(x) => {
            println!("{x}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("memory_floor: {path}: {e}");
            ExitCode::from(2)
        }
    }
}

/// One byte of every cache line of the mapped file, `threads` contiguous parts at once.
fn touch_all(file: &File, threads: usize) -> std::io::Result<u8> {
    // SAFETY: a read-only map of a file nobody truncates while this runs (a benchmark input).
    let map = unsafe { memmap2::Mmap::map(file)? };
    let part = map.len().div_ceil(threads.max(1)).max(1);
    let x = std::thread::scope(|s| {
        let workers: Vec<_> = map
            .chunks(part)
            .map(|bytes| s.spawn(move || touch(bytes)))
            .collect();
        workers
            .into_iter()
            .fold(0, |x, w| x ^ w.join().unwrap_or(0))
    });
    Ok(x)
}

fn touch(bytes: &[u8]) -> u8 {
    bytes.chunks(LINE).fold(0, |x, line| x ^ line[0])
}

/// The whole file through `read` into one 1 MiB buffer.
fn read_all(mut file: File) -> std::io::Result<u8> {
    let mut buf = vec![0u8; 1 << 20];
    let mut x = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(x);
        }
        x ^= buf[n - 1];
    }
}
