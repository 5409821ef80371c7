//! Streaming buffer reader: one buffer at a time from any [`Read`], into reused memory.
//!
//! Memory use is bounded by one buffer (at most [`MAX_BUFFER_SIZE`] bytes, plus as much again
//! for a decompressed buffer) whatever the file size: [`EtlReader::next_buffer`] reads the next
//! buffer into a `Vec` it reuses and lends it out; records borrow from it. How buffers are
//! found and what happens to bad ones is the framing's (`etl/frame.rs`), shared with
//! [`super::SliceReader`].

use std::io::Read;

use super::error::{Error, Result};
use super::format::*;
use super::frame::{open_buffer, Frame, Framer, Source, StreamSource};
pub use super::frame::{MAX_BUFFER_SIZE, MAX_RESYNC_SCAN};
use super::header::LogfileInfo;
use super::record::{RecordHeaders, Records};

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
    /// The buffer of a frame, whose filled bytes are `data`.
    pub(crate) fn of(frame: &Frame, data: &'a [u8]) -> Self {
        Buffer {
            index: frame.index,
            offset: frame.offset,
            header: frame.header,
            disk_size: frame.header.buffer_size.get(),
            data,
        }
    }

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
    framer: Framer<StreamSource<R>>,
    /// The current buffer, when it was read and opened.
    current: Option<(Frame, core::ops::Range<usize>)>,
    decomp: Vec<u8>,
    info: LogfileInfo,
    /// The first buffer is read by `new` and returned by the first `next_buffer`.
    first_pending: bool,
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

impl ReadStats {
    /// Adds the counters of another part of the same file.
    pub fn add(&mut self, other: &ReadStats) {
        self.buffers += other.buffers;
        self.bad_buffers += other.bad_buffers;
        self.buffers_with_lost_events += other.buffers_with_lost_events;
        self.buffers_lost_flags += other.buffers_lost_flags;
        self.compressed_buffers += other.compressed_buffers;
        self.bytes += other.bytes;
    }

    /// Counts a buffer opened with this header, or one that could not be opened.
    pub(crate) fn count(&mut self, opened: Option<&WmiBufferHeader>) {
        let Some(h) = opened else {
            self.bad_buffers += 1;
            return;
        };
        let flag = |f: u16| u64::from(h.buffer_flag.get() & f != 0);
        self.buffers += 1;
        self.compressed_buffers += flag(ETW_BUFFER_FLAG_COMPRESSED);
        self.buffers_with_lost_events += flag(ETW_BUFFER_FLAG_EVENTS_LOST);
        self.buffers_lost_flags += flag(ETW_BUFFER_FLAG_BUFFER_LOST);
    }
}

impl<R: Read> EtlReader<R> {
    /// Reads the first buffer and the logfile header.
    pub fn new(src: R) -> Result<Self> {
        let mut r = EtlReader {
            framer: Framer::new(StreamSource::new(src)),
            current: None,
            decomp: Vec::new(),
            info: LogfileInfo::default(),
            first_pending: true,
            stats: ReadStats::default(),
        };
        match r.read_buffer() {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e),
            None => {
                return Err(Error::BadLogfileHeader {
                    offset: 0,
                    reason: "the file is empty",
                })
            }
        }
        r.info = LogfileInfo::parse(r.current_data(), 0)?;
        r.framer
            .set_session(r.info.buffer_size, r.info.buffers_written);
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
        self.framer.index()
    }

    fn current_data(&self) -> &[u8] {
        match &self.current {
            Some((frame, range))
                if frame.header.buffer_flag.get() & ETW_BUFFER_FLAG_COMPRESSED != 0 =>
            {
                &self.decomp[range.clone()]
            }
            Some((_, range)) => &self.framer.src.buffer()[range.clone()],
            None => &[],
        }
    }

    /// Reads and opens the next buffer. `None` at the end of the file.
    fn read_buffer(&mut self) -> Option<Result<()>> {
        self.current = None;
        let stats_before = self.framer.stats;
        let framed = self.framer.next_frame();
        let framing = self.framer.stats;
        self.stats.bytes += framing.bytes - stats_before.bytes;
        self.stats.bad_buffers += framing.bad - stats_before.bad;
        let frame = match framed? {
            Ok(frame) => frame,
            Err(e) => return Some(Err(e)),
        };
        let raw = self.framer.src.buffer();
        let opened = open_buffer(raw, &frame, self.info.buffer_size, &mut self.decomp);
        match opened {
            Ok(range) => {
                self.stats.count(Some(&frame.header));
                self.current = Some((frame, range));
                Some(Ok(()))
            }
            Err(e) => {
                self.stats.count(None);
                Some(Err(e))
            }
        }
    }

    /// The next buffer, or `None` at the end of the file. After an `Err` the reader has skipped
    /// the bad buffer and the next call goes on with the following one.
    #[allow(clippy::should_implement_trait)]
    pub fn next_buffer(&mut self) -> Option<Result<Buffer<'_>>> {
        if self.first_pending {
            self.first_pending = false;
        } else if let Err(e) = self.read_buffer()? {
            return Some(Err(e));
        }
        let (frame, _) = self.current.as_ref()?;
        Some(Ok(Buffer::of(frame, self.current_data())))
    }
}
