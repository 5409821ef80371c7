//! A trace file read through a read-only memory map: its buffers are read where the page cache
//! holds them (no copy into the process) and walked on every core. The pages already walked
//! are handed back as the walk goes on ([`MappedFile::done_before`]), so the resident memory
//! stays bounded whatever the file size.
//!
//! This module holds the crate's only `unsafe`: creating the map, dropping its pages, and the
//! prefetch hint the walks give for the lines ahead ([`prefetch`]). Like
//! every reader of a memory-mapped file (ripgrep's, for one), it relies on nobody truncating
//! the file while it is read: the bytes of a truncated file would be gone, and reading them
//! would stop the process (`SIGBUS`). Shorter inputs than a few buffers are not worth a map;
//! inputs that cannot be mapped (pipes, special files) are streamed instead.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::fs::File;

use memmap2::{Advice, Mmap, MmapOptions, UncheckedAdvice};

/// Files smaller than this are read by the stream reader: a map costs more than it saves.
pub const MIN_MAPPED: u64 = 4 << 20;

/// A file mapped read-only.
pub struct MappedFile {
    map: Mmap,
    /// The bytes before this were handed back already.
    released: Cell<usize>,
}

impl MappedFile {
    /// Maps `file`, when it is a regular file of at least [`MIN_MAPPED`] bytes and the system
    /// maps it; `None` otherwise (then stream it).
    pub fn new(file: &File) -> Option<MappedFile> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() < MIN_MAPPED {
            return None;
        }
        // SAFETY:
        // 1. The map is read-only (`Mmap`: the file's page-cache pages, never written
        //    through), and lives as long as the `MappedFile` whose borrows use it.
        // 2. What the module doc says: the file must not be truncated while it is read.
        let map = unsafe { MmapOptions::new().map(file) }.ok()?;
        // The walk reads front to back: read ahead, and drop what was read first.
        let _ = map.advise(Advice::Sequential);
        Some(MappedFile {
            map,
            released: Cell::new(0),
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Tells the system the bytes before `end` will not be read again: their pages leave the
    /// process's resident memory (the page cache keeps them).
    pub fn done_before(&self, end: u64) {
        const PAGE: usize = 4096;
        let start = self.released.get();
        let end = (end as usize).min(self.map.len()) / PAGE * PAGE;
        if end <= start {
            return;
        }
        self.released.set(end);
        // SAFETY:
        // 1. `MADV_DONTNEED` on a read-only file-backed mapping drops page table entries
        //    only: a later read of those bytes faults the same file contents back in, so no
        //    byte any borrow of `bytes()` sees changes (the advice is "unchecked" because on
        //    a private writable mapping it would discard writes; this map is read-only).
        // 2. `start..end` lies inside the map (clamped above), page-aligned (both are
        //    multiples of the page size from the map's page-aligned start).
        let len = end - start;
        let _ = unsafe {
            self.map
                .unchecked_advise_range(UncheckedAdvice::DontNeed, start, len)
        };
    }
}

/// Bytes of a cache line: the unit a prefetch (or a warm-up load) brings in.
pub(crate) const CACHE_LINE: usize = 64;

/// Asks the processor to start loading the cache line holding `bytes[at]` and goes on at once
/// (nothing when `at` is past the end, or where the hint is not available). A walk of bytes
/// not in the cache yet waits for each line in turn, since a record's position is in the
/// record before it; lines asked for a few kilobytes ahead arrive while the records before
/// them are walked, so the walk pays for the memory's bandwidth, not its latency.
#[inline(always)]
pub(crate) fn prefetch(bytes: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = bytes.get(at) {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY:
        // 1. `_mm_prefetch` needs SSE, which every x86_64 processor has (it is in the
        //    target's baseline features; the call is `unsafe` only for that).
        // 2. A prefetch never faults and changes no memory: it is a hint, and its address is
        //    that of a byte of a live slice besides.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(core::ptr::from_ref(b).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, at);
}
