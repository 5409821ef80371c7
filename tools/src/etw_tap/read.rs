//! Parsing the tap's record file. Every defect is an error naming its byte offset; nothing is
//! guessed (the file comes from one controlled writer, so a defect means a broken run).

use std::path::Path;

use zerocopy::FromBytes;

use super::format::{
    self, ActivityIdBody, DataHeader, FileHeader, RecordHeader, RegisterBody, SetInformationBody,
    ThreadEntry, UnregisterBody, WriteBody,
};
use super::{DataItem, Enable, TapCall, TapFile, TapRecord, ThreadState, Write};
use crate::etl::write::Descriptor;

/// The largest record file read (the Wine run writes a few KiB).
const MAX_FILE_SIZE: u64 = 1 << 30;

/// What is wrong with a record file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TapError {
    /// The file could not be read.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than any tap record this reader accepts.
    #[error("file of {size} bytes is larger than the {max}-byte limit")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// [`MAX_FILE_SIZE`].
        max: u64,
    },
    /// The file does not start with the tap's magic bytes.
    #[error("not a tap record (bad magic at byte offset 0)")]
    BadMagic,
    /// A format version this reader does not know.
    #[error(
        "tap record version {version} at byte offset 8 is not supported (expected {expected})"
    )]
    UnsupportedVersion {
        /// The file's version.
        version: u32,
        /// [`format::VERSION`].
        expected: u32,
    },
    /// The file ends inside a header or record.
    #[error("file ends at byte offset {offset:#x} inside a {what} of {need} bytes")]
    Truncated {
        /// Where the cut-off part starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// Its size.
        need: u64,
    },
    /// A field holds an impossible value.
    #[error("{what} at byte offset {offset:#x}: {reason}")]
    Invalid {
        /// Where the header or record starts.
        offset: u64,
        /// Which header or record.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Reads and parses a record file.
pub fn read(path: &Path) -> Result<TapFile, TapError> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE_SIZE {
        return Err(TapError::TooLarge {
            size,
            max: MAX_FILE_SIZE,
        });
    }
    parse(&std::fs::read(path)?)
}

/// Parses a record file's bytes.
pub fn parse(bytes: &[u8]) -> Result<TapFile, TapError> {
    let (header, _) = FileHeader::read_from_prefix(bytes).map_err(|_| TapError::Truncated {
        offset: 0,
        what: "file header",
        need: size_of::<FileHeader>() as u64,
    })?;
    if header.magic != format::MAGIC {
        return Err(TapError::BadMagic);
    }
    if header.version.get() != format::VERSION {
        return Err(TapError::UnsupportedVersion {
            version: header.version.get(),
            expected: format::VERSION,
        });
    }
    let invalid_header = |reason: &str| TapError::Invalid {
        offset: 0,
        what: "file header",
        reason: reason.to_owned(),
    };
    let qpc_frequency = u64::try_from(header.qpc_frequency.get())
        .ok()
        .filter(|&f| f > 0)
        .ok_or_else(|| invalid_header("counter frequency is not positive"))?;
    if header.processors.get() == 0 {
        return Err(invalid_header("processor count is 0"));
    }
    let mut records = Vec::new();
    let mut offset = size_of::<FileHeader>();
    while offset < bytes.len() {
        let record = parse_record(bytes, offset)?;
        offset += record.0;
        records.push(record.1);
    }
    Ok(TapFile {
        qpc_frequency,
        start_qpc: header.start_qpc.get(),
        start_system_time: header.start_system_time.get(),
        processors: header.processors.get(),
        os_version: (
            header.os_major.get(),
            header.os_minor.get(),
            header.os_build.get(),
        ),
        cpu_mhz: header.cpu_mhz.get(),
        records,
    })
}

/// The record at `offset`: its size and its contents.
fn parse_record(bytes: &[u8], offset: usize) -> Result<(usize, TapRecord), TapError> {
    let at = offset as u64;
    let rest = &bytes[offset..];
    let (header, _) = RecordHeader::read_from_prefix(rest).map_err(|_| TapError::Truncated {
        offset: at,
        what: "record header",
        need: size_of::<RecordHeader>() as u64,
    })?;
    let size = header.size.get() as usize;
    if size < size_of::<RecordHeader>() || size % format::ALIGNMENT != 0 {
        return Err(TapError::Invalid {
            offset: at,
            what: "record",
            reason: format!("size {size} is not a multiple of 8 of at least 40"),
        });
    }
    let Some(record) = rest.get(..size) else {
        return Err(TapError::Truncated {
            offset: at,
            what: "record",
            need: size as u64,
        });
    };
    let body = Body {
        bytes: &record[size_of::<RecordHeader>()..],
        offset: at,
        kind: header.kind.get(),
    };
    let call = match header.kind.get() {
        format::KIND_REGISTER => register(&body)?,
        format::KIND_SET_INFORMATION => set_information(&body)?,
        format::KIND_WRITE => TapCall::Write(write(&body)?),
        format::KIND_UNREGISTER => unregister(&body)?,
        format::KIND_ACTIVITY_ID => activity_id(&body)?,
        kind => return Err(body.invalid(format!("unknown record kind {kind}"))),
    };
    Ok((
        size,
        TapRecord {
            offset: at,
            qpc: header.qpc.get(),
            thread_id: header.thread_id.get(),
            process_id: header.process_id.get(),
            processor: header.processor.get(),
            status: header.status.get(),
            handle: header.handle.get(),
            call,
        },
    ))
}

/// A record's body and where its record starts.
struct Body<'a> {
    bytes: &'a [u8],
    offset: u64,
    kind: u32,
}

impl Body<'_> {
    fn invalid(&self, reason: String) -> TapError {
        TapError::Invalid {
            offset: self.offset,
            what: "record",
            reason: format!("kind {}: {reason}", self.kind),
        }
    }

    /// The fixed part of the body and the bytes after it.
    fn fixed<T: FromBytes>(&self) -> Result<(T, &[u8]), TapError> {
        T::read_from_prefix(self.bytes).map_err(|_| {
            self.invalid(format!(
                "body of {} bytes is shorter than its {}-byte fixed part",
                self.bytes.len(),
                size_of::<T>()
            ))
        })
    }

    /// `rest` is only the record's padding (fewer than 8 bytes).
    fn end(&self, rest: &[u8]) -> Result<(), TapError> {
        if rest.len() >= format::ALIGNMENT {
            return Err(self.invalid(format!("{} bytes after the last field", rest.len())));
        }
        Ok(())
    }
}

fn register(body: &Body<'_>) -> Result<TapCall, TapError> {
    let (b, rest): (RegisterBody, _) = body.fixed()?;
    body.end(rest)?;
    let enable = (b.control_code.get() != 0).then(|| Enable {
        control_code: b.control_code.get(),
        level: b.level.get(),
        match_any_keyword: b.match_any_keyword.get(),
        match_all_keyword: b.match_all_keyword.get(),
    });
    Ok(TapCall::Register {
        provider: b.provider_id,
        enable,
    })
}

fn set_information(body: &Body<'_>) -> Result<TapCall, TapError> {
    let (b, rest): (SetInformationBody, _) = body.fixed()?;
    let length = b.length.get() as usize;
    let Some(data) = rest.get(..length) else {
        return Err(body.invalid(format!(
            "information of {length} bytes runs past the record"
        )));
    };
    body.end(&rest[length..])?;
    Ok(TapCall::SetInformation {
        class: b.information_class.get(),
        data: data.to_vec(),
    })
}

fn write(body: &Body<'_>) -> Result<Write, TapError> {
    let (b, mut rest): (WriteBody, _) = body.fixed()?;
    let flags = b.flags.get();
    let mut data = Vec::new();
    for index in 0..b.count.get() {
        let (item, after) = DataHeader::read_from_prefix(rest)
            .map_err(|_| body.invalid(format!("data descriptor {index} runs past the record")))?;
        let size = item.size.get() as usize;
        let padded = size.div_ceil(format::ALIGNMENT) * format::ALIGNMENT;
        if after.len() < padded {
            return Err(body.invalid(format!(
                "data descriptor {index} of {size} bytes runs past the record"
            )));
        }
        data.push(DataItem {
            data_type: item.data_type.get(),
            bytes: after[..size].to_vec(),
        });
        rest = &after[padded..];
    }
    body.end(rest)?;
    Ok(Write {
        descriptor: Descriptor::from(&b.descriptor),
        activity_id: (flags & format::WRITE_ACTIVITY_ID != 0).then_some(b.activity_id),
        related_activity_id: (flags & format::WRITE_RELATED_ACTIVITY_ID != 0)
            .then_some(b.related_activity_id),
        data,
    })
}

fn unregister(body: &Body<'_>) -> Result<TapCall, TapError> {
    let (b, mut rest): (UnregisterBody, _) = body.fixed()?;
    let mut threads = Vec::new();
    for index in 0..b.count.get() {
        let (t, after) = ThreadEntry::read_from_prefix(rest)
            .map_err(|_| body.invalid(format!("thread entry {index} runs past the record")))?;
        let state = match t.state.get() {
            format::THREAD_CALLER => ThreadState::Caller,
            format::THREAD_ENDED => ThreadState::Ended,
            format::THREAD_RUNNING => ThreadState::Running,
            other => return Err(body.invalid(format!("thread state {other}"))),
        };
        threads.push((t.thread_id.get(), state));
        rest = after;
    }
    body.end(rest)?;
    Ok(TapCall::Unregister { threads })
}

fn activity_id(body: &Body<'_>) -> Result<TapCall, TapError> {
    let (b, rest): (ActivityIdBody, _) = body.fixed()?;
    body.end(rest)?;
    Ok(TapCall::ActivityId {
        control_code: b.control_code.get(),
        before: b.before,
        after: b.after,
    })
}
