//! Buffer framing: where each buffer of a file is and how long, from the buffer headers alone,
//! and opening a framed buffer (its filled part, decompressed if need be). Written once over a
//! byte [`Source`], which is a stream read into reused memory ([`StreamSource`], behind
//! [`super::EtlReader`]) or bytes already in memory, lent without a copy ([`SliceSource`],
//! for reading a file's buffers on several threads).
//!
//! Buffers are walked by their own `buffer_size` field. A buffer that cannot be used gives one
//! error and is skipped: by its size when that is plausible, else by the session buffer size
//! (uncompressed files) or by scanning for the next plausible compressed buffer header
//! (compressed files, whose buffers have variable sizes), at most [`MAX_RESYNC_SCAN`] bytes.
//! Zero-filled space after the written buffers (preallocated files) ends the file quietly.

use std::io::Read;
use std::ops::Range;

use zerocopy::FromBytes;

use super::error::{Error, Result};
use super::format::*;
use super::xpress;

/// Largest buffer the reader accepts (Windows allows at most 1 MiB; 16 MiB leaves room).
pub const MAX_BUFFER_SIZE: u32 = 16 << 20;
/// How far the reader scans for the next buffer header after a corrupt compressed buffer.
pub const MAX_RESYNC_SCAN: usize = 16 << 20;
/// Memory for a buffer grows by at most this much beyond the bytes actually read.
const GROW_STEP: usize = 64 << 10;
/// Bytes read at a time while scanning for the next buffer header.
const SCAN_CHUNK: usize = 64 << 10;

/// Sizes a buffer's size or filled-length field may have (at most `max`).
#[inline]
fn plausible_size(size: u32, max: u32) -> bool {
    (BUFFER_HEADER_SIZE as u32..=max).contains(&size)
}

/// Is this a plausible buffer header (used to resynchronise in compressed files)?
fn plausible_header(h: &WmiBufferHeader) -> bool {
    let filled = h.offset.get();
    plausible_size(h.buffer_size.get(), MAX_BUFFER_SIZE)
        && plausible_size(filled, MAX_BUFFER_SIZE)
        && filled % 8 == 0
        && h.buffer_type.get() <= ETW_BUFFER_TYPE_DBG_INFO
        && h.buffer_flag.get() & !0x7F == 0
}

/// Where a [`Framer`] reads from.
pub(crate) trait Source {
    /// Reads up to `dst.len()` bytes (fewer only where the input ends), advancing.
    fn read_up_to(&mut self, dst: &mut [u8]) -> Result<usize>;
    /// Gives back the bytes just read: they are read again next.
    fn unread(&mut self, bytes: &[u8]);
    /// Discards up to `count` bytes; returns how many there were.
    fn skip(&mut self, count: u64) -> Result<u64>;
    /// Reads the rest of a buffer of `size` bytes whose header `hdr` (at file offset
    /// `offset`) was just read; returns how many of its `size - 72` bytes the input has.
    /// [`Source::buffer`] then holds the buffer as read.
    fn read_body(
        &mut self,
        hdr: &[u8; BUFFER_HEADER_SIZE],
        offset: u64,
        size: usize,
    ) -> Result<usize>;
    /// The buffer the last [`Source::read_body`] read, header included.
    fn buffer(&self) -> &[u8];
}

/// A framed buffer (its bytes are in the [`Source`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Position in the file (0 = first buffer), bad buffers counted.
    pub index: u64,
    /// File offset.
    pub offset: u64,
    /// Its header.
    pub header: WmiBufferHeader,
}

/// Counters of the framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FrameStats {
    /// Bytes consumed from the file by framed buffers.
    pub bytes: u64,
    /// Buffers skipped for a bad header or cut short by the end of the file.
    pub bad: u64,
}

/// Finds the buffers of a file one after another (see the module doc).
pub(crate) struct Framer<S> {
    /// The bytes.
    pub src: S,
    /// File offset of the next buffer.
    pos: u64,
    /// Buffers whose header was read (the current one included).
    frames: u64,
    /// The session buffer size and buffers written, from the logfile header (0 until known).
    session: (u32, u32),
    done: bool,
    /// Counters so far.
    pub stats: FrameStats,
}

impl<S: Source> Framer<S> {
    /// A framer at the start of `src`.
    pub fn new(src: S) -> Self {
        Framer {
            src,
            pos: 0,
            frames: 0,
            session: (0, 0),
            done: false,
            stats: FrameStats::default(),
        }
    }

    /// Tells the framer the logfile header's buffer size and buffers-written count.
    pub fn set_session(&mut self, buffer_size: u32, buffers_written: u32) {
        self.session = (buffer_size, buffers_written);
    }

    /// The index of the buffer the last [`Framer::next_frame`] was about.
    pub fn index(&self) -> u64 {
        self.frames.saturating_sub(1)
    }

    /// Frames the buffer at the current position (its bytes are then in the source); `None`
    /// at the end of the file. After an `Err` the framer is past the bad buffer.
    pub fn next_frame(&mut self) -> Option<Result<Frame>> {
        if self.done {
            return None;
        }
        let offset = self.pos;
        let first = self.frames == 0;
        let mut hdr = [0u8; BUFFER_HEADER_SIZE];
        let n = match self.src.read_up_to(&mut hdr) {
            Ok(n) => n,
            Err(e) => {
                self.frames += 1;
                self.done = true;
                return Some(Err(e));
            }
        };
        if n == 0 || self.unwritten(&hdr[..n], first) {
            self.done = true;
            return None;
        }
        self.frames += 1;
        if n < BUFFER_HEADER_SIZE {
            self.done = true;
            let e = Error::TruncatedBufferHeader {
                offset,
                available: n as u64,
            };
            return Some(Err(e));
        }
        self.stats.bytes += n as u64;
        let header = WmiBufferHeader::read_from_bytes(&hdr[..]).unwrap_or_default();
        if let Some(e) = self.bad_header(&hdr, &header, offset, first) {
            return Some(Err(e));
        }
        Some(self.body(&hdr, header, offset))
    }

    /// Zero-filled space where a buffer header should be, past the buffers the header counts
    /// (a preallocated file) or at a short end: the file ends here, quietly.
    fn unwritten(&self, hdr: &[u8], first: bool) -> bool {
        let written = self.session.1;
        let past_written = !first && written != 0 && self.frames >= u64::from(written);
        hdr.iter().all(|&b| b == 0) && (past_written || hdr.len() < BUFFER_HEADER_SIZE)
    }

    /// A header whose size cannot be trusted: the error, after moving on to where the next
    /// buffer may be.
    fn bad_header(
        &mut self,
        hdr: &[u8; BUFFER_HEADER_SIZE],
        h: &WmiBufferHeader,
        offset: u64,
        first: bool,
    ) -> Option<Error> {
        let size = h.buffer_size.get();
        let e = if hdr.iter().all(|&b| b == 0) {
            Error::ZeroBuffer { offset }
        } else if !plausible_size(size, MAX_BUFFER_SIZE) {
            Error::BadBufferSize { offset, size }
        } else {
            return None;
        };
        self.stats.bad += 1;
        let compressed = h.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0;
        if let Err(io) = self.skip_bad(hdr, compressed, first) {
            self.done = true;
            return Some(io);
        }
        Some(e)
    }

    /// Moves past a buffer whose size is unusable: by the session buffer size where buffers
    /// have that size (an uncompressed file past its first buffer), else by scanning.
    fn skip_bad(
        &mut self,
        hdr: &[u8; BUFFER_HEADER_SIZE],
        compressed: bool,
        first: bool,
    ) -> Result<()> {
        let session_size = self.session.0;
        if !first && !compressed && plausible_size(session_size, MAX_BUFFER_SIZE) {
            let rest = u64::from(session_size) - BUFFER_HEADER_SIZE as u64;
            let k = self.src.skip(rest)?;
            self.pos += BUFFER_HEADER_SIZE as u64 + k;
            if k < rest {
                self.done = true;
            }
        } else {
            self.pos += 1;
            self.src.unread(&hdr[1..]);
            if !self.resync()? {
                self.done = true;
            }
        }
        Ok(())
    }

    /// Scans forward (at most [`MAX_RESYNC_SCAN`] bytes) for a plausible compressed buffer
    /// header and positions the framer on it; false if none was found.
    fn resync(&mut self) -> Result<bool> {
        let mut window = vec![0u8; BUFFER_HEADER_SIZE - 1];
        let n = self.src.read_up_to(&mut window)?;
        window.truncate(n);
        let mut scanned = 0usize;
        let mut chunk = vec![0u8; SCAN_CHUNK];
        loop {
            // A header at any position of the window that has 72 bytes after it.
            let mut i = 1usize.min(window.len());
            while i + BUFFER_HEADER_SIZE <= window.len() {
                if let Ok((h, _)) = WmiBufferHeader::ref_from_prefix(&window[i..]) {
                    if plausible_header(h) && h.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0
                    {
                        self.pos += i as u64;
                        self.src.unread(&window[i..]);
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
            let k = self.src.read_up_to(&mut chunk)?;
            if k == 0 {
                return Ok(false);
            }
            window.extend_from_slice(&chunk[..k]);
        }
    }

    /// Reads the body of a buffer with a plausible size.
    fn body(
        &mut self,
        hdr: &[u8; BUFFER_HEADER_SIZE],
        header: WmiBufferHeader,
        offset: u64,
    ) -> Result<Frame> {
        let size = header.buffer_size.get();
        let want = size as usize - BUFFER_HEADER_SIZE;
        let got = match self.src.read_body(hdr, offset, size as usize) {
            Ok(got) => got.min(want),
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        self.stats.bytes += got as u64;
        self.pos += (BUFFER_HEADER_SIZE + got) as u64;
        if got < want {
            self.done = true;
            self.stats.bad += 1;
            return Err(Error::TruncatedBuffer {
                offset,
                size,
                available: (BUFFER_HEADER_SIZE + got) as u64,
            });
        }
        Ok(Frame {
            index: self.index(),
            offset,
            header,
        })
    }
}

/// Opens a framed buffer: checks its filled length and decompresses a compressed one into
/// `decomp` (at most the session buffer size, when the logfile header gives a sane one).
/// Returns the range of its filled bytes (header included) in `raw`, or in `decomp` when
/// compressed.
pub(crate) fn open_buffer(
    raw: &[u8],
    frame: &Frame,
    session_size: u32,
    decomp: &mut Vec<u8>,
) -> Result<Range<usize>> {
    let h = &frame.header;
    let (offset, size, filled) = (frame.offset, h.buffer_size.get(), h.offset.get());
    let compressed = h.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0;
    let max_filled = if plausible_size(session_size, MAX_BUFFER_SIZE) {
        session_size
    } else {
        MAX_BUFFER_SIZE
    };
    let filled_ok = if compressed {
        plausible_size(filled, max_filled)
    } else {
        plausible_size(filled, size)
    };
    if !filled_ok {
        return Err(Error::BadFilledLength {
            offset,
            filled,
            size,
        });
    }
    if !compressed {
        return Ok(0..filled as usize);
    }
    let expected = filled as usize;
    if decomp.len() < expected {
        decomp.resize(expected, 0);
    }
    decomp[..BUFFER_HEADER_SIZE].copy_from_slice(&raw[..BUFFER_HEADER_SIZE]);
    let out = &mut decomp[BUFFER_HEADER_SIZE..expected];
    match xpress::decompress_into(&raw[BUFFER_HEADER_SIZE..], out) {
        Ok(k) if k + BUFFER_HEADER_SIZE == expected => Ok(0..expected),
        Ok(k) => Err(Error::DecompressedSize {
            offset,
            expected: (expected - BUFFER_HEADER_SIZE) as u64,
            actual: k as u64,
        }),
        Err(reason) => Err(Error::Decompress { offset, reason }),
    }
}

/// A stream read into reused memory: one buffer at a time (plus what was read ahead),
/// whatever the file size.
pub(crate) struct StreamSource<R> {
    src: R,
    /// File offset of the next unread byte of `src` (bytes in `carry` come before it).
    src_pos: u64,
    /// Bytes read ahead from `src` but not consumed.
    carry: Vec<u8>,
    raw: Vec<u8>,
    /// Bytes of `raw` holding the current buffer.
    raw_len: usize,
    /// Index in `raw` where the current buffer starts (chosen so that reads land at the same
    /// offset within a page as in the file: the kernel copy is fastest then).
    raw_off: usize,
}

impl<R: Read> StreamSource<R> {
    /// A source at the start of `src`.
    pub fn new(src: R) -> Self {
        StreamSource {
            src,
            src_pos: 0,
            carry: Vec::new(),
            raw: Vec::new(),
            raw_len: 0,
            raw_off: 0,
        }
    }

    /// Reads from `src` until `dst` is full or it ends.
    fn fill(&mut self, mut dst: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while !dst.is_empty() {
            match self.src.read(dst) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    dst = &mut dst[k..];
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Io {
                        offset: self.src_pos + n as u64,
                        source: e.into(),
                    })
                }
            }
        }
        self.src_pos += n as u64;
        Ok(n)
    }

    /// Where the buffer at file offset `offset` of `end` bytes (read ahead included) goes in
    /// `raw`: at the file offset's position within a page, when `raw` has room.
    fn placement(&self, offset: u64, end: usize) -> usize {
        if self.raw.len() >= end + 4096 {
            ((offset % 4096) as usize + 4096 - self.raw.as_ptr() as usize % 4096) % 4096
        } else {
            0
        }
    }
}

impl<R: Read> Source for StreamSource<R> {
    fn read_up_to(&mut self, dst: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        if !self.carry.is_empty() {
            n = self.carry.len().min(dst.len());
            dst[..n].copy_from_slice(&self.carry[..n]);
            self.carry.drain(..n);
        }
        if n < dst.len() {
            n += self.fill(&mut dst[n..])?;
        }
        Ok(n)
    }

    fn unread(&mut self, bytes: &[u8]) {
        self.carry.splice(0..0, bytes.iter().copied());
    }

    fn skip(&mut self, mut count: u64) -> Result<u64> {
        let mut skipped = 0u64;
        let mut scratch = [0u8; 8192];
        while count > 0 {
            let want = count.min(scratch.len() as u64) as usize;
            let k = self.read_up_to(&mut scratch[..want])?;
            skipped += k as u64;
            count -= k as u64;
            if k < want {
                break;
            }
        }
        Ok(skipped)
    }

    /// One read per buffer: the next buffer's header is read in the same call (kept in
    /// `carry`), and the read is padded to end on a 4 KiB file offset, so that every read
    /// starts page-aligned as a plain sequential read does. `raw` only grows (to the largest
    /// buffer seen), and by at most [`GROW_STEP`] beyond what was read, so that a lying size
    /// in a short file costs no more memory than the file has.
    fn read_body(
        &mut self,
        hdr: &[u8; BUFFER_HEADER_SIZE],
        offset: u64,
        size: usize,
    ) -> Result<usize> {
        let src_need = (size as u64).saturating_sub(self.carry.len() as u64);
        let pad = ((4096 - (self.src_pos + src_need) % 4096) % 4096) as usize;
        let end = size + BUFFER_HEADER_SIZE + pad;
        let want = size - BUFFER_HEADER_SIZE;
        let off = self.placement(offset, end);
        let end = off + end;
        let mut body = core::mem::take(&mut self.raw);
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
            match self.read_up_to(&mut body[filled_to..step_end]) {
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
        body[off..off + BUFFER_HEADER_SIZE].copy_from_slice(hdr);
        self.raw = body;
        self.raw_off = off;
        self.raw_len = size;
        if let Some(e) = failed {
            return Err(e);
        }
        if got > want {
            // What was read ahead (the next header, the padding) goes back in front.
            let at = off + size;
            let extra = &self.raw[at..at + (got - want)];
            self.carry.splice(0..0, extra.iter().copied());
        }
        Ok(got.min(want))
    }

    fn buffer(&self) -> &[u8] {
        &self.raw[self.raw_off..self.raw_off + self.raw_len]
    }
}

/// Bytes already in memory (a memory-mapped file, a `Vec`), lent without a copy.
pub(crate) struct SliceSource<'a> {
    data: &'a [u8],
    pos: usize,
    /// The current buffer.
    current: Range<usize>,
}

impl<'a> SliceSource<'a> {
    /// A source at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        SliceSource {
            data,
            pos: 0,
            current: 0..0,
        }
    }

    /// The buffer the last [`Source::read_body`] read, borrowed from the data itself.
    pub fn current(&self) -> &'a [u8] {
        &self.data[self.current.clone()]
    }
}

impl Source for SliceSource<'_> {
    fn read_up_to(&mut self, dst: &mut [u8]) -> Result<usize> {
        let n = dst.len().min(self.data.len() - self.pos);
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }

    fn unread(&mut self, bytes: &[u8]) {
        self.pos -= bytes.len();
    }

    fn skip(&mut self, count: u64) -> Result<u64> {
        let k = count.min((self.data.len() - self.pos) as u64);
        self.pos += k as usize;
        Ok(k)
    }

    fn read_body(
        &mut self,
        _hdr: &[u8; BUFFER_HEADER_SIZE],
        _offset: u64,
        size: usize,
    ) -> Result<usize> {
        let start = self.pos - BUFFER_HEADER_SIZE;
        let end = (start + size).min(self.data.len());
        self.current = start..end;
        self.pos = end;
        Ok(end - start - BUFFER_HEADER_SIZE)
    }

    fn buffer(&self) -> &[u8] {
        self.current()
    }
}
