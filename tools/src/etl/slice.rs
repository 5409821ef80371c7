//! Reading an ETL file held in memory (a memory-mapped file, a `Vec`) without copying it: the
//! buffers are found one after another, as by [`super::EtlReader`] (the same framing code), and
//! lent out of the bytes themselves. [`SliceReader::next_raw`] gives a buffer before it is
//! opened, so that buffers can be opened (decompressed) and walked on other threads.

use super::error::{Error, Result};
use super::format::*;
use super::frame::{open_buffer, Frame, Framer, SliceSource};
use super::header::LogfileInfo;
use super::reader::{Buffer, ReadStats};

/// A buffer as it is in the file, framed but not yet opened.
#[derive(Clone, Copy, Debug)]
pub struct RawBuffer<'a> {
    frame: Frame,
    /// The buffer's bytes on disk, header included.
    pub bytes: &'a [u8],
    /// The session buffer size a compressed buffer may decompress to (0 for the first buffer,
    /// read before the logfile header is known: as [`super::EtlReader`] reads it).
    session: u32,
}

impl<'a> RawBuffer<'a> {
    /// Position of the buffer in the file (see [`Buffer::index`]).
    pub fn index(&self) -> u64 {
        self.frame.index
    }

    /// File offset of the buffer.
    pub fn offset(&self) -> u64 {
        self.frame.offset
    }

    /// Its header.
    pub fn header(&self) -> &WmiBufferHeader {
        &self.frame.header
    }

    /// Opens the buffer: checks its filled length and, if it is compressed, decompresses it
    /// into `scratch` (at most the session's buffer size, when the logfile header gives a sane
    /// one). Counts the result in `stats`.
    pub fn open<'b>(&self, scratch: &'b mut Vec<u8>, stats: &mut ReadStats) -> Result<Buffer<'b>>
    where
        'a: 'b,
    {
        match open_buffer(self.bytes, &self.frame, self.session, scratch) {
            Ok(range) => {
                stats.count(Some(&self.frame.header));
                let compressed = self.frame.header.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED;
                let data: &'b [u8] = if compressed != 0 {
                    &scratch[range]
                } else {
                    &self.bytes[range]
                };
                Ok(Buffer::of(&self.frame, data))
            }
            Err(e) => {
                stats.count(None);
                Err(e)
            }
        }
    }
}

/// Reads the buffers of an ETL file held in memory, lending them out of it.
pub struct SliceReader<'a> {
    framer: Framer<SliceSource<'a>>,
    info: LogfileInfo,
    /// The first buffer, read by `new`, given again by the first `next_raw`.
    first: Option<RawBuffer<'a>>,
    scratch: Vec<u8>,
    stats: ReadStats,
}

impl<'a> SliceReader<'a> {
    /// Reads the first buffer and the logfile header.
    pub fn new(data: &'a [u8]) -> Result<Self> {
        let mut framer = Framer::new(SliceSource::new(data));
        let first = match framer.next_frame() {
            Some(Ok(frame)) => RawBuffer {
                frame,
                bytes: framer.src.current(),
                session: 0,
            },
            Some(Err(e)) => return Err(e),
            None => {
                return Err(Error::BadLogfileHeader {
                    offset: 0,
                    reason: "the file is empty",
                })
            }
        };
        let mut scratch = Vec::new();
        let mut probe = ReadStats::default();
        let info = LogfileInfo::parse(first.open(&mut scratch, &mut probe)?.data, 0)?;
        framer.set_session(info.buffer_size, info.buffers_written);
        let stats = ReadStats {
            bytes: framer.stats.bytes,
            ..ReadStats::default()
        };
        Ok(SliceReader {
            framer,
            info,
            first: Some(first),
            scratch,
            stats,
        })
    }

    /// Facts from the logfile header.
    pub fn info(&self) -> &LogfileInfo {
        &self.info
    }

    /// Counters of the buffers [`SliceReader::next_buffer`] opened (and of the framing of
    /// those [`SliceReader::next_raw`] gave, whoever opened them).
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// The index of the buffer the last call was about (see [`super::EtlReader::buffer_index`]).
    pub fn buffer_index(&self) -> u64 {
        self.framer.index()
    }

    /// The next buffer as it is in the file, or `None` at the end. After an `Err` the reader
    /// has skipped the bad buffer. Buffers given this way are counted in [`ReadStats`] by
    /// whoever opens them ([`RawBuffer::open`]).
    pub fn next_raw(&mut self) -> Option<Result<RawBuffer<'a>>> {
        if let Some(first) = self.first.take() {
            return Some(Ok(first));
        }
        let before = self.framer.stats;
        let framed = self.framer.next_frame();
        self.stats.bytes += self.framer.stats.bytes - before.bytes;
        self.stats.bad_buffers += self.framer.stats.bad - before.bad;
        Some(framed?.map(|frame| RawBuffer {
            frame,
            bytes: self.framer.src.current(),
            session: self.info.buffer_size,
        }))
    }

    /// The next buffer, opened, or `None` at the end of the file (as
    /// [`super::EtlReader::next_buffer`]).
    #[allow(clippy::should_implement_trait)]
    pub fn next_buffer(&mut self) -> Option<Result<Buffer<'_>>> {
        let raw = match self.next_raw()? {
            Ok(raw) => raw,
            Err(e) => return Some(Err(e)),
        };
        Some(raw.open(&mut self.scratch, &mut self.stats))
    }
}
