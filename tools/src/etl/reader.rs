//! Streaming buffer reader: one buffer at a time from any [`Read`], into reused memory.
//!
//! Memory use is bounded by one buffer (at most [`MAX_BUFFER_SIZE`] bytes, plus as much again
//! for a decompressed buffer) whatever the file size: [`EtlReader::next_buffer`] reads the next
//! buffer into a `Vec` it reuses and lends it out; records borrow from it.
//!
//! Buffers are walked by their own `buffer_size` field. A buffer that cannot be used gives one
//! error and is skipped: by its size when that is plausible, else by the session buffer size
//! (uncompressed files) or by scanning for the next plausible buffer header (compressed files,
//! whose buffers have variable sizes), at most [`MAX_RESYNC_SCAN`] bytes. Zero-filled space
//! after the written buffers (preallocated files) ends the file quietly.

use std::io::Read;

use zerocopy::FromBytes;

use super::error::{Error, Result};
use super::format::*;
use super::header::LogfileInfo;
use super::record::{RecordHeaders, Records};
use super::xpress;

/// Largest buffer the reader accepts (Windows allows at most 1 MiB; 16 MiB leaves room).
pub const MAX_BUFFER_SIZE: u32 = 16 << 20;
/// Memory for a buffer grows by at most this much beyond the bytes actually read.
const GROW_STEP: usize = 64 << 10;
/// How far the reader scans for the next buffer header after a corrupt compressed buffer.
pub const MAX_RESYNC_SCAN: usize = 16 << 20;

/// One buffer, lent out by [`EtlReader::next_buffer`].
#[derive(Clone, Copy, Debug)]
pub struct Buffer<'a> {
    /// Position of the buffer in the file: 0 for the first, counting buffers that gave an
    /// error too.
    pub index: u64,
    /// File offset of the buffer.
    pub offset: u64,
    /// Its header.
    pub header: WmiBufferHeader,
    /// Size on disk (compressed size for a compressed buffer).
    pub disk_size: u32,
    /// The filled bytes, header included (decompressed for a compressed buffer).
    pub data: &'a [u8],
}

impl<'a> Buffer<'a> {
    /// The processor that filled the buffer.
    pub fn processor(&self) -> u16 {
        if self.header.buffer_flag.get() & ETW_BUFFER_FLAG_PROC_INDEX != 0 {
            u16::from_le_bytes([self.header.processor_number, self.header.alignment])
        } else {
            self.header.processor_number as u16
        }
    }
    /// The logger (session) id.
    pub fn logger_id(&self) -> u16 {
        self.header.logger_id.get()
    }
    /// `ETW_BUFFER_FLAG_*` bits.
    pub fn flags(&self) -> u16 {
        self.header.buffer_flag.get()
    }
    /// `ETW_BUFFER_TYPE_*`.
    pub fn buffer_type(&self) -> u16 {
        self.header.buffer_type.get()
    }
    /// Events were lost while this buffer was in use.
    pub fn events_lost(&self) -> bool {
        self.flags() & ETW_BUFFER_FLAG_EVENTS_LOST != 0
    }
    /// Buffers were lost before this one.
    pub fn buffers_lost(&self) -> bool {
        self.flags() & ETW_BUFFER_FLAG_BUFFER_LOST != 0
    }
    /// The buffer was compressed in the file.
    pub fn compressed(&self) -> bool {
        self.flags() & ETW_BUFFER_FLAG_COMPRESSED != 0
    }
    /// The records of the buffer.
    pub fn records(&self) -> Records<'a> {
        Records::new(self.data, BUFFER_HEADER_SIZE, self.offset)
    }
    /// Only the record headers (kind, size, timestamp): the cheapest walk.
    pub fn record_headers(&self) -> RecordHeaders<'a> {
        RecordHeaders::new(self.data, BUFFER_HEADER_SIZE, self.offset)
    }
}

/// Counters kept while reading.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadStats {
    /// Buffers returned.
    pub buffers: u64,
    /// Buffers that gave an error and were skipped.
    pub bad_buffers: u64,
    /// Buffers with the events-lost flag.
    pub buffers_with_lost_events: u64,
    /// Buffers with the buffers-lost flag.
    pub buffers_lost_flags: u64,
    /// Compressed buffers.
    pub compressed_buffers: u64,
    /// Bytes consumed from the file.
    pub bytes: u64,
}

/// Reads an ETL file buffer by buffer.
pub struct EtlReader<R> {
    src: R,
    /// File offset of the next unread byte of `src` (bytes in `carry` come before it).
    src_pos: u64,
    /// Bytes read ahead from `src` but not consumed (only after a resync scan).
    carry: Vec<u8>,
    /// File offset of the next buffer.
    pos: u64,
    raw: Vec<u8>,
    /// Bytes of `raw` holding the current buffer.
    raw_len: usize,
    /// Index in `raw` where the current buffer starts (chosen so that reads land at the same
    /// offset within a page as in the file: the kernel copy is fastest then).
    raw_off: usize,
    decomp: Vec<u8>,
    /// Bytes of `decomp` holding the current (decompressed) buffer.
    decomp_len: usize,
    info: LogfileInfo,
    /// The first buffer is read by `new` and returned by the first `next_buffer`.
    first_pending: bool,
    /// Buffers whose header was read so far (the current one included).
    frames: u64,
    done: bool,
    stats: ReadStats,
}

impl EtlReader<std::fs::File> {
    /// Opens a file (unbuffered: the reader reads whole buffers).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(|e| Error::Io {
            offset: 0,
            source: e.into(),
        })?;
        EtlReader::new(f)
    }
}

fn read_full<R: Read>(src: &mut R, mut dst: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while !dst.is_empty() {
        match src.read(dst) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                dst = &mut dst[k..];
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Is this a plausible buffer header (used to resynchronise in compressed files)?
fn plausible_header(h: &WmiBufferHeader) -> bool {
    let size = h.buffer_size.get();
    let filled = h.offset.get();
    (BUFFER_HEADER_SIZE as u32..=MAX_BUFFER_SIZE).contains(&size)
        && (BUFFER_HEADER_SIZE as u32..=MAX_BUFFER_SIZE).contains(&filled)
        && filled % 8 == 0
        && h.buffer_type.get() <= ETW_BUFFER_TYPE_DBG_INFO
        && h.buffer_flag.get() & !0x7F == 0
}

impl<R: Read> EtlReader<R> {
    /// Reads the first buffer and the logfile header.
    pub fn new(src: R) -> Result<Self> {
        let mut r = EtlReader {
            src,
            src_pos: 0,
            carry: Vec::new(),
            pos: 0,
            raw: Vec::new(),
            raw_len: 0,
            raw_off: 0,
            decomp: Vec::new(),
            decomp_len: 0,
            info: LogfileInfo::default(),
            first_pending: true,
            frames: 0,
            done: false,
            stats: ReadStats::default(),
        };
        match r.read_buffer(true) {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e),
            None => {
                return Err(Error::BadLogfileHeader {
                    offset: 0,
                    reason: "the file is empty",
                })
            }
        }
        let data = r.current_data();
        r.info = LogfileInfo::parse(data, 0)?;
        Ok(r)
    }

    /// Facts from the logfile header.
    pub fn info(&self) -> &LogfileInfo {
        &self.info
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// The [`Buffer::index`] of the buffer the last [`EtlReader::next_buffer`] returned, or
    /// gave an error about.
    pub fn buffer_index(&self) -> u64 {
        self.frames.saturating_sub(1)
    }

    fn raw_buf(&self) -> &[u8] {
        &self.raw[self.raw_off..self.raw_off + self.raw_len]
    }

    fn current_data(&self) -> &[u8] {
        let (h, _) = match WmiBufferHeader::ref_from_prefix(self.raw_buf()) {
            Ok(x) => x,
            Err(_) => return &[],
        };
        if h.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0 {
            &self.decomp[..self.decomp_len]
        } else {
            let filled = (h.offset.get() as usize).min(self.raw_len);
            &self.raw_buf()[..filled]
        }
    }

    /// Reads exactly `dst.len()` bytes unless the file ends; returns how many were read.
    fn read_bytes(&mut self, dst: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        if !self.carry.is_empty() {
            n = self.carry.len().min(dst.len());
            dst[..n].copy_from_slice(&self.carry[..n]);
            self.carry.drain(..n);
        }
        if n < dst.len() {
            let k = read_full(&mut self.src, &mut dst[n..]).map_err(|source| Error::Io {
                offset: self.src_pos,
                source: source.into(),
            })?;
            self.src_pos += k as u64;
            n += k;
        }
        Ok(n)
    }

    /// Discards `count` bytes; returns how many were there.
    fn skip_bytes(&mut self, mut count: u64) -> Result<u64> {
        let mut skipped = 0u64;
        let mut scratch = [0u8; 8192];
        while count > 0 {
            let want = count.min(scratch.len() as u64) as usize;
            let k = self.read_bytes(&mut scratch[..want])?;
            skipped += k as u64;
            count -= k as u64;
            if k < want {
                break;
            }
        }
        Ok(skipped)
    }

    /// Scans forward (at most [`MAX_RESYNC_SCAN`] bytes) for a plausible buffer header;
    /// positions the reader on it. Returns false if none was found.
    fn resync(&mut self) -> Result<bool> {
        let mut window: Vec<u8> = core::mem::take(&mut self.carry);
        let mut scanned = 0usize;
        let mut chunk = vec![0u8; 65536];
        loop {
            // Look for a header at every position of the window that has 72 bytes after it.
            let mut i = 1usize.min(window.len());
            while i + BUFFER_HEADER_SIZE <= window.len() {
                if let Ok((h, _)) = WmiBufferHeader::ref_from_prefix(&window[i..]) {
                    if plausible_header(h) && h.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0
                    {
                        self.pos += i as u64;
                        self.carry = window.split_off(i);
                        return Ok(true);
                    }
                }
                i += 1;
            }
            let keep = window.len().saturating_sub(BUFFER_HEADER_SIZE);
            self.pos += keep as u64;
            scanned += keep;
            window.drain(..keep);
            if scanned > MAX_RESYNC_SCAN {
                return Ok(false);
            }
            let k = read_full(&mut self.src, &mut chunk).map_err(|source| Error::Io {
                offset: self.src_pos,
                source: source.into(),
            })?;
            self.src_pos += k as u64;
            if k == 0 {
                return Ok(false);
            }
            window.extend_from_slice(&chunk[..k]);
        }
    }

    /// Reads the buffer at `self.pos` into `raw` (and `decomp`). `None` at the end of the file.
    fn read_buffer(&mut self, first: bool) -> Option<Result<()>> {
        if self.done {
            return None;
        }
        let offset = self.pos;
        let mut hdr = [0u8; BUFFER_HEADER_SIZE];
        let n = match self.read_bytes(&mut hdr) {
            Ok(n) => n,
            Err(e) => {
                self.frames += 1;
                self.done = true;
                return Some(Err(e));
            }
        };
        if n == 0 {
            self.done = true;
            return None;
        }
        self.frames += 1;
        let past_written = !first
            && self.info.buffers_written != 0
            && self.stats.buffers + self.stats.bad_buffers >= self.info.buffers_written as u64;
        if hdr[..n].iter().all(|&b| b == 0) && (past_written || n < BUFFER_HEADER_SIZE) {
            // Preallocated, never written space (or zero padding at the end): stop quietly
            // if the rest of the file is zero too.
            self.done = true;
            return None;
        }
        if n < BUFFER_HEADER_SIZE {
            self.done = true;
            return Some(Err(Error::TruncatedBufferHeader {
                offset,
                available: n as u64,
            }));
        }
        self.stats.bytes += n as u64;
        let h = WmiBufferHeader::read_from_bytes(&hdr[..]).unwrap_or_default();
        let size = h.buffer_size.get();
        let compressed = h.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0;
        let session_size = self.info.buffer_size;
        let resync_size = |this: &mut Self| -> Result<()> {
            // Skip to the next buffer when this one's size cannot be trusted.
            if !first
                && !compressed
                && (BUFFER_HEADER_SIZE as u32..=MAX_BUFFER_SIZE).contains(&session_size)
            {
                let k = this.skip_bytes(session_size as u64 - BUFFER_HEADER_SIZE as u64)?;
                this.pos += BUFFER_HEADER_SIZE as u64 + k;
                if k < session_size as u64 - BUFFER_HEADER_SIZE as u64 {
                    this.done = true;
                }
            } else {
                this.pos += 1;
                this.carry.splice(0..0, hdr[1..].iter().copied());
                if !this.resync()? {
                    this.done = true;
                }
            }
            Ok(())
        };
        if hdr.iter().all(|&b| b == 0) {
            self.stats.bad_buffers += 1;
            if let Err(e) = resync_size(self) {
                self.done = true;
                return Some(Err(e));
            }
            return Some(Err(Error::ZeroBuffer { offset }));
        }
        if !(BUFFER_HEADER_SIZE as u32..=MAX_BUFFER_SIZE).contains(&size) {
            self.stats.bad_buffers += 1;
            if let Err(e) = resync_size(self) {
                self.done = true;
                return Some(Err(e));
            }
            return Some(Err(Error::BadBufferSize { offset, size }));
        }
        // The Vec only grows (to the largest buffer seen, at most MAX_BUFFER_SIZE): no
        // zero-filling per buffer.
        // The next buffer's header is read in the same call (one read per buffer) and kept
        // in `carry`.
        // Also pad the read so that it ends on a 4 KiB file offset: every read then starts
        // page-aligned, as a plain sequential read does.
        let src_need = (size as u64).saturating_sub(self.carry.len() as u64);
        let pad = ((4096 - (self.src_pos + src_need) % 4096) % 4096) as usize;
        let lookahead = BUFFER_HEADER_SIZE + pad;
        let end = size as usize + lookahead;
        let want = size as usize - BUFFER_HEADER_SIZE;
        self.raw_len = size as usize;
        let mut body = core::mem::take(&mut self.raw);
        let off = if body.len() >= end + 4096 {
            ((offset % 4096) as usize + 4096 - body.as_ptr() as usize % 4096) % 4096
        } else {
            0
        };
        let end = off + end;
        // Grow at most GROW_STEP beyond what was already read, so that a lying size in a short
        // file costs no more memory than the file has (plus one step).
        let mut got = 0usize;
        let mut failed = None;
        let mut filled_to = off + BUFFER_HEADER_SIZE;
        while filled_to < end {
            let step_end = end.min(filled_to.max(body.len()).max(filled_to + GROW_STEP));
            if body.len() < step_end {
                // The last step leaves a page of slack for the alignment of later buffers.
                let slack = if step_end == end { 4096 } else { 0 };
                body.resize(step_end + slack, 0);
            }
            match self.read_bytes(&mut body[filled_to..step_end]) {
                Ok(k) => {
                    got += k;
                    filled_to += k;
                    if filled_to < step_end {
                        break;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        body[off..off + BUFFER_HEADER_SIZE].copy_from_slice(&hdr);
        self.raw = body;
        self.raw_off = off;
        let got = match failed {
            None => got,
            Some(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if got > want {
            let at = off + size as usize;
            let extra = &self.raw[at..at + (got - want)];
            self.carry.splice(0..0, extra.iter().copied());
        }
        let got = got.min(want);
        self.stats.bytes += got as u64;
        self.pos += BUFFER_HEADER_SIZE as u64 + got as u64;
        if got < want {
            self.done = true;
            self.stats.bad_buffers += 1;
            return Some(Err(Error::TruncatedBuffer {
                offset,
                size,
                available: (BUFFER_HEADER_SIZE + got) as u64,
            }));
        }
        let filled = h.offset.get();
        // A compressed buffer decompresses to at most the session's buffer size (when the
        // logfile header gives a sane one): that bounds the output memory.
        let max_filled = if (BUFFER_HEADER_SIZE as u32..=MAX_BUFFER_SIZE).contains(&session_size) {
            session_size
        } else {
            MAX_BUFFER_SIZE
        };
        let filled_ok = if compressed {
            (BUFFER_HEADER_SIZE as u32..=max_filled).contains(&filled)
        } else {
            (BUFFER_HEADER_SIZE as u32..=size).contains(&filled)
        };
        if !filled_ok {
            self.stats.bad_buffers += 1;
            return Some(Err(Error::BadFilledLength {
                offset,
                filled,
                size,
            }));
        }
        if compressed {
            let expected = filled as usize;
            if self.decomp.len() < expected {
                self.decomp.resize(expected, 0);
            }
            self.decomp_len = expected;
            self.decomp[..BUFFER_HEADER_SIZE].copy_from_slice(&hdr);
            let res = xpress::decompress_into(
                &self.raw[self.raw_off + BUFFER_HEADER_SIZE..self.raw_off + self.raw_len],
                &mut self.decomp[BUFFER_HEADER_SIZE..expected],
            );
            match res {
                Ok(k) if k + BUFFER_HEADER_SIZE == expected => {}
                Ok(k) => {
                    self.stats.bad_buffers += 1;
                    return Some(Err(Error::DecompressedSize {
                        offset,
                        expected: (expected - BUFFER_HEADER_SIZE) as u64,
                        actual: k as u64,
                    }));
                }
                Err(reason) => {
                    self.stats.bad_buffers += 1;
                    return Some(Err(Error::Decompress { offset, reason }));
                }
            }
            self.stats.compressed_buffers += 1;
        }
        self.stats.buffers += 1;
        if h.buffer_flag.get() & ETW_BUFFER_FLAG_EVENTS_LOST != 0 {
            self.stats.buffers_with_lost_events += 1;
        }
        if h.buffer_flag.get() & ETW_BUFFER_FLAG_BUFFER_LOST != 0 {
            self.stats.buffers_lost_flags += 1;
        }
        Some(Ok(()))
    }

    /// The next buffer, or `None` at the end of the file. After an `Err` the reader has skipped
    /// the bad buffer and the next call goes on with the following one.
    #[allow(clippy::should_implement_trait)]
    pub fn next_buffer(&mut self) -> Option<Result<Buffer<'_>>> {
        if self.first_pending {
            self.first_pending = false;
        } else {
            match self.read_buffer(false)? {
                Ok(()) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        let offset = self.pos - self.raw_len as u64;
        let (h, _) = WmiBufferHeader::read_from_prefix(self.raw_buf()).ok()?;
        Some(Ok(Buffer {
            index: self.buffer_index(),
            offset,
            header: h,
            disk_size: self.raw_len as u32,
            data: self.current_data(),
        }))
    }
}
