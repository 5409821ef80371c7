//! Records in global timestamp order, with bounded memory.
//!
//! Buffers are filled per processor and flushed when full, so a file is a set of per-CPU
//! runs, each in timestamp order, interleaved roughly by flush time. [`SortedRecords`] keeps a
//! window of at most `window` buffers (copied into reused `Vec`s) and merges their records with
//! a min-heap of per-buffer cursors (a k-way merge). Memory is bounded by
//! `window × buffer size` (plus the heap, one entry per buffer) whatever the file size.
//!
//! The order is exact when no record is older than a record of a buffer that left the window
//! before it arrived, which holds when every processor flushes at least once every `window`
//! buffers. Otherwise the late record is still returned (never dropped), as early as possible,
//! and counted in [`SortedRecords::out_of_order`]. Ties keep file order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::Read;

use super::error::{Error, Result};
use super::format::BUFFER_HEADER_SIZE;
use super::reader::EtlReader;
use super::record::{Record, Records};

/// Default memory budget of the window: 64 MiB of buffers.
pub const DEFAULT_WINDOW_BYTES: usize = 64 << 20;

/// The default window for a file: [`DEFAULT_WINDOW_BYTES`] / buffer size, at least 16
/// buffers (1024 buffers of 64 KiB, 64 of 1 MiB). The corpus needs up to 180 (a merged
/// kernel + user trace whose last per-CPU buffers are flushed late).
pub fn default_window(buffer_size: u32) -> usize {
    (DEFAULT_WINDOW_BYTES / (buffer_size.max(4096) as usize)).max(16)
}

struct Slot {
    data: Vec<u8>,
    offset: u64,
    processor: u16,
    pos: usize,
    last_ts: i64,
}

/// A record in timestamp order, with its buffer's processor.
#[derive(Clone, Copy, Debug)]
pub struct SortedRecord<'a> {
    /// The record.
    pub record: Record<'a>,
    /// Processor of its buffer.
    pub processor: u16,
    /// File offset of the buffer the record came from.
    pub buffer_offset: u64,
}

/// Merges the buffers of an [`EtlReader`] into timestamp order (see the module doc).
pub struct SortedRecords<R> {
    reader: EtlReader<R>,
    window: usize,
    slots: Vec<Slot>,
    free: Vec<usize>,
    active: usize,
    heap: BinaryHeap<Reverse<(i64, u64, usize)>>,
    seq: u64,
    eof: bool,
    errors: VecDeque<Error>,
    last_emitted: i64,
    out_of_order: u64,
}

impl<R: Read> SortedRecords<R> {
    /// Merges with a window of `window` buffers (at least 1).
    pub fn new(reader: EtlReader<R>, window: usize) -> Self {
        SortedRecords {
            reader,
            window: window.max(1),
            slots: Vec::new(),
            free: Vec::new(),
            active: 0,
            heap: BinaryHeap::new(),
            seq: 0,
            eof: false,
            errors: VecDeque::new(),
            last_emitted: i64::MIN,
            out_of_order: 0,
        }
    }

    /// The underlying reader (for its logfile facts and counters).
    pub fn reader(&self) -> &EtlReader<R> {
        &self.reader
    }

    /// Records returned later than a record with a later timestamp.
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order
    }

    /// Moves slot `s` to its next good record; returns its timestamp, or `None` at the end.
    fn seek_next(&mut self, s: usize) -> Option<i64> {
        let slot = &mut self.slots[s];
        let mut it = Records::new(&slot.data, slot.pos, slot.offset);
        loop {
            let before = it.position();
            match it.next()? {
                Ok(rec) => {
                    slot.pos = before;
                    let ts = rec.timestamp().unwrap_or(slot.last_ts);
                    slot.last_ts = ts;
                    return Some(ts);
                }
                Err(e) => self.errors.push_back(e),
            }
        }
    }

    fn fill(&mut self) {
        while !self.eof && self.active < self.window {
            let (data, offset, processor) = match self.reader.next_buffer() {
                None => {
                    self.eof = true;
                    return;
                }
                Some(Err(e)) => {
                    self.errors.push_back(e);
                    continue;
                }
                Some(Ok(b)) => (b.data, b.offset, b.processor()),
            };
            let s = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.slots.push(Slot {
                        data: Vec::new(),
                        offset: 0,
                        processor: 0,
                        pos: 0,
                        last_ts: i64::MIN,
                    });
                    self.slots.len() - 1
                }
            };
            let slot = &mut self.slots[s];
            slot.data.clear();
            slot.data.extend_from_slice(data);
            slot.offset = offset;
            slot.processor = processor;
            slot.pos = BUFFER_HEADER_SIZE;
            slot.last_ts = i64::MIN;
            self.active += 1;
            match self.seek_next(s) {
                Some(ts) => {
                    self.seq += 1;
                    self.heap.push(Reverse((ts, self.seq, s)));
                }
                None => {
                    self.active -= 1;
                    self.free.push(s);
                }
            }
        }
    }

    /// The next record in timestamp order; errors come as soon as they are found.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<SortedRecord<'_>>> {
        if let Some(e) = self.errors.pop_front() {
            return Some(Err(e));
        }
        self.fill();
        if let Some(e) = self.errors.pop_front() {
            return Some(Err(e));
        }
        let Reverse((ts, _, s)) = self.heap.pop()?;
        if ts < self.last_emitted {
            self.out_of_order += 1;
        } else {
            self.last_emitted = ts;
        }
        // Advance the slot past this record, then lend the record out.
        let pos = self.slots[s].pos;
        let next_pos = {
            let slot = &self.slots[s];
            let mut it = Records::new(&slot.data, pos, slot.offset);
            let _ = it.next();
            it.position()
        };
        self.slots[s].pos = next_pos;
        match self.seek_next(s) {
            Some(next_ts) => {
                self.seq += 1;
                self.heap.push(Reverse((next_ts, self.seq, s)));
            }
            None => {
                self.active -= 1;
                self.free.push(s);
            }
        }
        let slot = &self.slots[s];
        let rec = Records::new(&slot.data, pos, slot.offset).next()?.ok()?;
        Some(Ok(SortedRecord {
            record: rec,
            processor: slot.processor,
            buffer_offset: slot.offset,
        }))
    }
}
