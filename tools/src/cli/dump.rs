//! `wsktrace dump FILE|DIR…`: every record of ETL files as JSON Lines, or a per-file summary.
//!
//! # Output
//!
//! Without `--summary`, one JSON object per record and line:
//!
//! | key | value |
//! |---|---|
//! | `file` | the path as given |
//! | `offset` | byte offset of the record (inside a compressed buffer: buffer offset + position in the decompressed buffer) |
//! | `timestamp` | absolute UTC, RFC 3339 with 100 ns digits |
//! | `since_start_ns`, `since_boot_ns` | nanoseconds since the trace start / since boot |
//! | `cpu` | processor of the buffer |
//! | `kind` | `event` (EVENT_HEADER), `system`, `compact`, `perfinfo`, `classic`, `instance`, `message` |
//! | `provider_guid`, `provider_name` | provider; the name where the file tells it (TraceLogging provider traits), `Kernel:<Group>` for kernel records, else `null` |
//! | `id`, `version`, `channel`, `level`, `opcode`, `task`, `keywords` | event descriptor (classic: `opcode` = event type, `level`, `version`; kernel: `opcode` = event type, `hook_id`) |
//! | `pid`, `tid` | process and thread id (`null` where the header has none) |
//! | `activity_id`, `related_activity_id` | GUIDs, `null` when absent or zero |
//! | `decoded_by`, `event_name`, `fields` | a decoded payload: what described it (`tracelogging`: the event's own metadata; `metadata`: the trace's KernelTraceControl `MetaData` events; `manifest`: a `--manifest` file or the built-in Kernel-PnP one; `mof`: a documented NT Kernel Logger MOF class), the event's name, the fields |
//! | `payload_hex` | a payload nothing describes, or one that does not fit its description (then after `decode_error`, which says where) |
//!
//! Providers the record does not name (no TraceLogging traits, no kernel group) take the name
//! the file's `MetaData` events (or a `--metadata-from` trace's) or a manifest give them. See
//! `docs/decoding.md`.
//!
//! With `--summary`, one object per file: `events` (records), `lost_events`, `providers`
//! (`[{guid, name, count, decoded, decode_errors, undecoded}]`, most frequent first: records,
//! those whose payload decodes, those a layout describes but does not fit, those nothing
//! describes), `header` (logfile header facts), `buffers`, `errors`. On a terminal both print as tables unless `--json` is given.
//!
//! The file's `MetaData` records are read in a first pass, so that records before them decode
//! too. Each buffer is decompressed once: of a file up to 64 MiB, the first pass keeps the
//! buffers it decompressed (at most 64 MiB of them) and the second reads the file whole and
//! opens only the others; larger files, pipes and `--sorted` read through one buffer at a
//! time, twice.
//!
//! Directories are walked for `*.etl` files, as by the other commands. Errors print as
//! `wsktrace: <path>: offset 0x…: <error>` on stderr and the run goes on; the exit status is
//! 2 if any file had an error, else 0.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use wsktrace_tools::etl::format::{Guid, HeaderKind, EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID};
use wsktrace_tools::etl::header::write_filetime_rfc3339;
use wsktrace_tools::etl::merge::{default_window, SortedRecords};
use wsktrace_tools::etl::names::record_provider;
use wsktrace_tools::etl::record::{ClassicRecord, EventRecord, MessageRecord, SystemRecord};
use wsktrace_tools::etl::{
    Buffer, Clock, EtlReader, LogfileInfo, RawBuffer, ReadStats, Record, SliceReader,
};
use wsktrace_tools::payload::{Payload, PayloadDecoder};
use wsktrace_tools::pipeline::summary::{
    learn_metadata, read_metadata, summarize_file_decoding, FileSummary, ProviderFilter,
};
use wsktrace_tools::pipeline::{open_file, TraceError};
use wsktrace_tools::tdh::{self, Layouts};
use wsktrace_tools::tracelogging;
use zerocopy::FromBytes;

use super::files::{expand, Inputs};
use super::{report_error, to_stdout, ExitStatus};

/// The exit statuses of `dump`.
pub const EXIT_STATUS: &str = "Exit status: 0 every input read completely; 2 an input (or part \
of one) could not be read, no file was found, or the output could not be written. Never 1: \
dump reports no findings.";

/// Arguments of `wsktrace dump`.
#[derive(Debug, Clone, clap::Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Only records of this provider (name or GUID; repeatable; names compare case-insensitively).
    #[arg(long, value_name = "NAME|GUID")]
    pub provider: Vec<String>,
    /// One summary object per file instead of one object per record.
    #[arg(long)]
    pub summary: bool,
    /// JSON Lines even when stdout is a terminal.
    #[arg(long)]
    pub json: bool,
    /// Records in global timestamp order (k-way merge over a window of buffers) instead of
    /// file order.
    #[arg(long)]
    pub sorted: bool,
    /// Buffers held by `--sorted` (memory = this × buffer size; default: 64 MiB worth).
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// An instrumentation manifest (the XML `mc.exe` compiles) whose events to decode
    /// (repeatable; the first manifest describing an event wins, the trace's own metadata
    /// comes before any).
    #[arg(long, value_name = "FILE.man")]
    pub manifest: Vec<PathBuf>,
    /// A trace whose KernelTraceControl `MetaData` events describe the events of the inputs
    /// (repeatable): a merged trace set keeps them in one file for all (PerfView's and Visual
    /// Studio's `diaghub.etl` for its `*.user_paged.1.etl`). Each input's own metadata comes
    /// first, then these in the order given, then the manifests.
    #[arg(long, value_name = "FILE.etl")]
    pub metadata_from: Vec<PathBuf>,
}

/// Writes JSON for records: holds the payload decoder (schemas and layouts of the file).
pub struct EventWriter {
    decoder: PayloadDecoder,
    file: String,
    clock: Clock,
    /// Records written.
    pub written: u64,
}

fn kind_name(rec: &Record<'_>) -> &'static str {
    match rec {
        Record::Event(_) => "event",
        Record::System(s) => match HeaderKind::of(s.header_type) {
            Some(HeaderKind::Compact) => "compact",
            Some(HeaderKind::Perfinfo) => "perfinfo",
            _ => "system",
        },
        Record::Classic(c) if c.instance.is_some() => "instance",
        Record::Classic(_) => "classic",
        Record::Message(_) => "message",
    }
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes correctly; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn push_guid(out: &mut Vec<u8>, g: &Guid) {
    let _ = write!(out, "\"{g}\"");
}

fn push_opt_guid(out: &mut Vec<u8>, g: Option<&Guid>) {
    match g {
        Some(g) if !g.is_nil() => push_guid(out, g),
        _ => out.extend_from_slice(b"null"),
    }
}

fn push_hex(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &x in b {
        out.push(HEX[(x >> 4) as usize]);
        out.push(HEX[(x & 15) as usize]);
    }
    out.push(b'"');
}

fn push_opt_u32(out: &mut Vec<u8>, v: Option<u32>) {
    match v {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.extend_from_slice(b"null"),
    }
}

impl EventWriter {
    /// A writer for one file.
    /// A writer for one file, decoding by `layouts` (the file's metadata and the user's
    /// manifests) where TraceLogging does not describe an event.
    pub fn new(file: &str, info: &LogfileInfo, layouts: Layouts) -> Self {
        EventWriter {
            decoder: PayloadDecoder::new(layouts),
            file: serde_json::to_string(file).unwrap_or_else(|_| "\"?\"".into()),
            clock: info.clock(),
            written: 0,
        }
    }

    /// Appends one JSON line for `rec` to `out` (the keys of the module doc, in that order).
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        rec: &Record<'_>,
        cpu: u16,
        guid: &Guid,
        name: Option<&str>,
    ) {
        self.written += 1;
        self.common(out, rec, cpu, guid, name);
        match rec {
            Record::Event(e) => self.event(out, e),
            Record::System(s) => system(out, s),
            Record::Classic(c) => classic(out, c),
            Record::Message(m) => message(out, m),
        }
        self.payload(out, rec);
        out.extend_from_slice(b"}\n");
    }

    /// The keys every record has: file, offset, times, CPU, kind, provider.
    fn common(
        &self,
        out: &mut Vec<u8>,
        rec: &Record<'_>,
        cpu: u16,
        guid: &Guid,
        name: Option<&str>,
    ) {
        let _ = write!(
            out,
            "{{\"file\":{},\"offset\":{},\"timestamp\":",
            self.file,
            rec.offset()
        );
        match rec.timestamp() {
            Some(raw) => {
                let mut ts = String::with_capacity(32);
                write_filetime_rfc3339(&mut ts, self.clock.filetime(raw));
                let _ = write!(
                    out,
                    "\"{ts}\",\"since_start_ns\":{},\"since_boot_ns\":{}",
                    self.clock.since_start_ns(raw),
                    self.clock.since_boot_ns(raw)
                );
            }
            None => out.extend_from_slice(b"null,\"since_start_ns\":null,\"since_boot_ns\":null"),
        }
        let _ = write!(
            out,
            ",\"cpu\":{cpu},\"kind\":\"{}\",\"provider_guid\":",
            kind_name(rec)
        );
        push_guid(out, guid);
        out.extend_from_slice(b",\"provider_name\":");
        match name {
            Some(n) => push_json_str(out, n),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// An `EVENT_HEADER` record: descriptor, ids, activity ids.
    fn event(&mut self, out: &mut Vec<u8>, e: &EventRecord<'_>) {
        let h = e.header;
        let d = &h.event_descriptor;
        let _ = write!(
            out,
            ",\"id\":{},\"version\":{},\"channel\":{},\"level\":{},\"opcode\":{},\"task\":{},\"keywords\":\"{:#x}\"",
            d.id.get(),
            d.version,
            d.channel,
            d.level,
            d.opcode,
            d.task.get(),
            d.keyword.get()
        );
        let _ = write!(
            out,
            ",\"pid\":{},\"tid\":{},\"activity_id\":",
            h.process_id.get(),
            h.thread_id.get()
        );
        push_opt_guid(out, Some(&h.activity_id));
        out.extend_from_slice(b",\"related_activity_id\":");
        let rel = e
            .extended_item(EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID)
            .and_then(|i| Guid::read_from_prefix(i.data).ok().map(|(g, _)| g));
        push_opt_guid(out, rel.as_ref());
    }

    /// `decoded_by`, `event_name` and `fields` where something describes the payload; else
    /// `payload_hex` (after a `decode_error` where the description does not fit).
    fn payload(&mut self, out: &mut Vec<u8>, rec: &Record<'_>) {
        match self.decoder.decode(rec) {
            Payload::Decoded {
                by,
                event_name,
                fields,
            } => {
                let _ = write!(out, ",\"decoded_by\":\"{}\"", by.as_str());
                if let Some(n) = event_name {
                    out.extend_from_slice(b",\"event_name\":");
                    push_json_str(out, n);
                }
                out.extend_from_slice(b",\"fields\":");
                let _ = serde_json::to_writer(&mut *out, &tracelogging::FieldsJson(&fields));
                return;
            }
            Payload::Failed { error, .. } => {
                out.extend_from_slice(b",\"decode_error\":");
                push_json_str(out, &error);
            }
            Payload::Undescribed => {}
        }
        out.extend_from_slice(b",\"payload_hex\":");
        push_hex(out, rec.payload());
    }

    /// The provider name the layouts give a record that names no provider itself.
    pub fn layout_provider_name(&mut self, rec: &Record<'_>) -> Option<std::sync::Arc<str>> {
        self.decoder.provider_name(rec)
    }
}

/// A kernel logger record: hook id, type, version, ids.
fn system(out: &mut Vec<u8>, s: &SystemRecord<'_>) {
    let _ = write!(
        out,
        ",\"hook_id\":\"{:#06x}\",\"opcode\":{},\"version\":{},\"pid\":",
        s.hook_id,
        s.event_type(),
        s.version
    );
    push_opt_u32(out, s.process_id);
    out.extend_from_slice(b",\"tid\":");
    push_opt_u32(out, s.thread_id);
}

/// A classic (MOF) record: type, level, version, ids, instance ids.
fn classic(out: &mut Vec<u8>, c: &ClassicRecord<'_>) {
    let h = c.header;
    let _ = write!(
        out,
        ",\"opcode\":{},\"level\":{},\"version\":{},\"pid\":{},\"tid\":{}",
        h.class_type,
        h.class_level,
        h.class_version.get(),
        h.process_id.get(),
        h.thread_id.get()
    );
    if let Some(i) = c.instance {
        let _ = write!(
            out,
            ",\"instance_id\":{},\"parent_instance_id\":{},\"parent_guid\":",
            i.instance_id.get(),
            i.parent_instance_id.get()
        );
        push_opt_guid(out, Some(&i.parent_guid));
    }
}

/// A WPP message record: message number, ids, sequence.
fn message(out: &mut Vec<u8>, m: &MessageRecord<'_>) {
    let _ = write!(out, ",\"id\":{},\"pid\":", m.header.message_number.get());
    push_opt_u32(out, m.process_id);
    out.extend_from_slice(b",\"tid\":");
    push_opt_u32(out, m.thread_id);
    out.extend_from_slice(b",\"sequence\":");
    push_opt_u32(out, m.sequence);
}

fn table_summary(file: &str, s: &FileSummary, out: &mut dyn Write) -> std::io::Result<()> {
    let i = &s.info;
    let mut start = String::new();
    write_filetime_rfc3339(&mut start, i.start_time);
    let mut end = String::new();
    write_filetime_rfc3339(&mut end, i.end_time);
    writeln!(out, "{file}")?;
    writeln!(
        out,
        "  logger {:?}, Windows {}, {} CPUs, pointer size {}, clock {}",
        i.logger_name,
        i.os_version(),
        i.number_of_processors,
        i.pointer_size,
        i.clock_type.name()
    )?;
    writeln!(out, "  {start} .. {end}")?;
    writeln!(
        out,
        "  {} events, {} lost events, {} buffers ({} compressed), {} errors",
        s.events, i.events_lost, s.buffers, s.compressed_buffers, s.errors
    )?;
    writeln!(
        out,
        "  {:>9}  {:>9}  {:>9}  {:<36}  name",
        "count", "decoded", "errors", "provider"
    )?;
    let or_dash = |n: Option<u64>| n.map_or("-".to_string(), |n| n.to_string());
    for p in s.providers() {
        writeln!(
            out,
            "  {:>9}  {:>9}  {:>9}  {:<36}  {}",
            p.count,
            or_dash(p.decoded),
            or_dash(p.decode_errors),
            p.guid.to_string(),
            p.name.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// Of files up to this size, `dump` keeps the buffers its first pass decompressed (up to as
/// many bytes) and reads the file whole for the second, so that each buffer is decompressed
/// once; larger inputs, uncompressed ones, pipes and `--sorted` are streamed, twice.
const IN_MEMORY: u64 = 64 << 20;

/// Provider names a file's `MetaData` records give.
type Learned = HashMap<Guid, String>;

/// Decompressed buffers by file offset.
type Kept = HashMap<u64, Vec<u8>>;

/// Memory of the buffers kept for one file, kept for the next (so that a run of files does
/// not fault fresh pages in for each): at most [`IN_MEMORY`] bytes.
type Spare = Vec<Vec<u8>>;

/// One file's records as JSON lines, written into a sink in chunks.
struct Lines<'l> {
    writer: EventWriter,
    filter: &'l ProviderFilter,
    learned: &'l Learned,
    /// Records come in runs of one provider: the last name learned is checked first.
    last_learned: Option<(Guid, Option<&'l str>)>,
    out: Vec<u8>,
}

impl<'l> Lines<'l> {
    fn new(writer: EventWriter, filter: &'l ProviderFilter, learned: &'l Learned) -> Self {
        Lines {
            writer,
            filter,
            learned,
            last_learned: None,
            out: Vec::with_capacity(1 << 16),
        }
    }

    /// The line of one record, when the filter passes its provider.
    fn record(&mut self, rec: &Record<'_>, cpu: u16, sink: &mut dyn Write) -> std::io::Result<()> {
        let (g, n) = record_provider(rec);
        let n = n.or_else(|| match self.last_learned {
            Some((lg, ln)) if lg == g => ln,
            _ => {
                let ln = self.learned.get(&g).map(String::as_str);
                self.last_learned = Some((g, ln));
                ln
            }
        });
        let from_layout = if n.is_none() {
            self.writer.layout_provider_name(rec)
        } else {
            None
        };
        let n = n.or(from_layout.as_deref());
        if self.filter.matches(&g, n) {
            self.writer.write(&mut self.out, rec, cpu, &g, n);
            if self.out.len() >= 1 << 16 {
                sink.write_all(&self.out)?;
                self.out.clear();
            }
        }
        Ok(())
    }

    /// The lines of a buffer's records; a bad record is given to `fail`.
    fn buffer(
        &mut self,
        b: &Buffer<'_>,
        fail: &mut dyn FnMut(&TraceError),
        sink: &mut dyn Write,
    ) -> std::io::Result<()> {
        let cpu = b.processor();
        for r in b.records() {
            match r {
                Ok(rec) => self.record(&rec, cpu, sink)?,
                Err(e) => fail(&TraceError::etl(e, Some(b.index))),
            }
        }
        Ok(())
    }

    fn finish(self, sink: &mut dyn Write) -> std::io::Result<()> {
        sink.write_all(&self.out)
    }
}

/// Writes every record of one file as JSON Lines into `sink` (in buffered chunks), with
/// provider names and layouts the file's `MetaData` events give (added to `layouts`, the
/// user's manifests), read in a first pass so that records before their description decode
/// too. Errors go to `report_error`; returns whether there was any.
fn dump_file(
    path: &Path,
    filter: &ProviderFilter,
    sorted: Option<Option<usize>>,
    layouts: Layouts,
    spare: &mut Spare,
    sink: &mut dyn Write,
) -> std::io::Result<bool> {
    let mut failed = false;
    let mut fail = |e: &TraceError| {
        failed = true;
        report_error(path, e);
    };
    let reader = match open_file(path) {
        Ok(r) => r,
        Err(e) => {
            fail(&e);
            return Ok(true);
        }
    };
    let file = path.display().to_string();
    let keep = sorted.is_none()
        && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= IN_MEMORY);
    let mut layouts = layouts;
    let (learned, kept) = std::fs::File::open(path)
        .map(|f| first_pass(f, &mut layouts, keep.then_some(&mut *spare)))
        .unwrap_or_default();
    if !kept.is_empty() {
        let bytes = std::fs::read(path).unwrap_or_default();
        if let Ok(reader) = SliceReader::new(&bytes) {
            let writer = EventWriter::new(&file, reader.info(), layouts);
            let mut lines = Lines::new(writer, filter, &learned);
            let written = dump_slice(reader, &kept, &mut lines, &mut fail, sink);
            spare.extend(kept.into_values());
            written?;
            lines.finish(sink)?;
            return Ok(failed);
        }
        spare.extend(kept.into_values());
    }
    let mut lines = Lines::new(
        EventWriter::new(&file, reader.info(), layouts),
        filter,
        &learned,
    );
    match sorted {
        None => {
            let mut reader = reader;
            while let Some(b) = reader.next_buffer() {
                match b {
                    Ok(b) => lines.buffer(&b, &mut fail, sink)?,
                    Err(e) => fail(&TraceError::etl(e, Some(reader.buffer_index()))),
                }
            }
        }
        Some(window) => {
            let window = window.unwrap_or_else(|| default_window(reader.info().buffer_size));
            let mut merged = SortedRecords::new(reader, window);
            while let Some(r) = merged.next() {
                match r {
                    Ok(sr) => lines.record(&sr.record, sr.processor, sink)?,
                    Err(e) => fail(&TraceError::etl(e, None)),
                }
            }
        }
    }
    lines.finish(sink)?;
    Ok(failed)
}

/// What a first pass over a trace learns from its `MetaData` records (as [`read_metadata`]),
/// and, when given memory to keep them in, the buffers it decompressed (up to [`IN_MEMORY`]
/// bytes). An input that cannot be read gives nothing (the second pass reports it).
fn first_pass(
    src: std::fs::File,
    layouts: &mut Layouts,
    mut keep: Option<&mut Spare>,
) -> (Learned, Kept) {
    let (mut learned, mut kept, mut budget) = (Learned::new(), Kept::new(), IN_MEMORY);
    let Ok(mut reader) = EtlReader::new(src) else {
        return (learned, kept);
    };
    while let Some(b) = reader.next_buffer() {
        let Ok(b) = b else { continue };
        learn_metadata(&b, &mut learned, layouts);
        let n = b.data.len() as u64;
        if let Some(spare) = keep
            .as_deref_mut()
            .filter(|_| b.compressed() && n <= budget)
        {
            budget -= n;
            let mut data = spare.pop().unwrap_or_default();
            data.clear();
            data.extend_from_slice(b.data);
            kept.insert(b.offset, data);
        }
    }
    (learned, kept)
}

/// The second pass over a file held in memory: the buffers the first pass decompressed are
/// taken from `kept`, the others opened again.
fn dump_slice(
    mut reader: SliceReader<'_>,
    kept: &Kept,
    lines: &mut Lines<'_>,
    fail: &mut dyn FnMut(&TraceError),
    sink: &mut dyn Write,
) -> std::io::Result<()> {
    let (mut scratch, mut stats) = (Vec::new(), ReadStats::default());
    while let Some(raw) = reader.next_raw() {
        let opened = raw.and_then(|raw| match kept.get(&raw.offset()) {
            Some(data) => Ok(lines.buffer(&decompressed(&raw, data), fail, sink)),
            None => raw
                .open(&mut scratch, &mut stats)
                .map(|b| lines.buffer(&b, fail, sink)),
        });
        match opened {
            Ok(written) => written?,
            Err(e) => fail(&TraceError::etl(e, Some(reader.buffer_index()))),
        }
    }
    Ok(())
}

/// A compressed buffer opened from its decompressed bytes.
fn decompressed<'a>(raw: &RawBuffer<'_>, data: &'a [u8]) -> Buffer<'a> {
    Buffer {
        index: raw.index(),
        offset: raw.offset(),
        header: *raw.header(),
        disk_size: raw.header().buffer_size.get(),
        data,
    }
}

/// One file's summary, as a table or a JSON line; returns whether there was any error.
fn summary_file(
    path: &Path,
    filter: &ProviderFilter,
    layouts: Layouts,
    human: bool,
    out: &mut dyn Write,
) -> std::io::Result<bool> {
    let mut failed = false;
    let summary = summarize_file_decoding(path, filter, layouts, &mut |e| {
        failed = true;
        report_error(path, e);
    });
    let s = match summary {
        Ok(s) => s,
        Err(e) => {
            report_error(path, &e);
            return Ok(true);
        }
    };
    let file = path.display().to_string();
    if human {
        table_summary(&file, &s, out)?;
    } else {
        serde_json::to_writer(&mut *out, &s.to_json(&file))?;
        out.write_all(b"\n")?;
    }
    Ok(failed)
}

/// The layouts of `--manifest` files; a manifest that cannot be read is reported.
fn manifest_layouts(paths: &[PathBuf]) -> Option<Layouts> {
    let mut layouts = Layouts::new();
    for path in paths {
        let xml = std::fs::read_to_string(path)
            .inspect_err(|e| report_error(path, e))
            .ok()?;
        let manifest = tdh::parse_manifest(&xml)
            .inspect_err(|e| report_error(path, e))
            .ok()?;
        layouts.add_manifest(&manifest);
    }
    Some(layouts)
}

/// Adds the `MetaData` descriptions of `--metadata-from` traces to `layouts`; a trace that
/// cannot be read, or that has no `MetaData` events, is reported.
fn imported_metadata(paths: &[PathBuf], layouts: &mut Layouts) -> bool {
    for path in paths {
        let mut theirs = Layouts::new();
        match open_file(path).and_then(|_| std::fs::File::open(path).map_err(TraceError::open)) {
            Ok(f) => drop(read_metadata(f, &mut theirs)),
            Err(e) => {
                report_error(path, &e);
                return false;
            }
        }
        if theirs.metadata_len() == 0 {
            report_error(
                path,
                &"no KernelTraceControl MetaData events to decode with",
            );
            return false;
        }
        layouts.import_metadata(theirs);
    }
    true
}

/// Runs `wsktrace dump`.
pub fn run(args: &DumpArgs) -> ExitStatus {
    let filter = ProviderFilter::new(&args.provider);
    let Some(mut layouts) = manifest_layouts(&args.manifest) else {
        return ExitStatus::Error;
    };
    if !imported_metadata(&args.metadata_from, &mut layouts) {
        return ExitStatus::Error;
    }
    let human = !args.json && std::io::stdout().is_terminal();
    let sorted = args.sorted.then_some(args.window);
    let mut status = ExitStatus::Success;
    let mut spare = Spare::new();
    let written = to_stdout(|out| {
        for input in expand(&args.inputs) {
            let path = match input {
                Ok(path) => path,
                Err((path, e)) => {
                    report_error(&path, &e);
                    status = ExitStatus::Error;
                    continue;
                }
            };
            let failed = if args.summary {
                summary_file(&path, &filter, layouts.clone(), human, out)?
            } else if human {
                dump_table(&path, &filter, sorted, layouts.clone(), &mut spare, out)?
            } else {
                dump_file(&path, &filter, sorted, layouts.clone(), &mut spare, out)?
            };
            if failed {
                status = ExitStatus::Error;
            }
        }
        Ok(())
    });
    match written {
        Ok(()) => status,
        // A closed pipe (`| head`) ends the run; what was read until then stands.
        Err(ExitStatus::Success) => status,
        Err(s) => s,
    }
}

/// Human table of records: time since start, CPU, provider, ids and a short payload view.
fn dump_table(
    path: &Path,
    filter: &ProviderFilter,
    sorted: Option<Option<usize>>,
    layouts: Layouts,
    spare: &mut Spare,
    sink: &mut dyn Write,
) -> std::io::Result<bool> {
    writeln!(
        sink,
        "{:>14}  {:>3}  {:<36}  {:>5}  {:>6}  {:>6}  event",
        "time (s)", "cpu", "provider", "id/op", "pid", "tid"
    )?;
    let mut table = TableSink {
        pending: Vec::new(),
        sink,
    };
    let failed = dump_file(path, filter, sorted, layouts, spare, &mut table)?;
    table.flush()?;
    Ok(failed)
}

/// Turns the JSON lines written into it into table rows, line by line (bounded memory).
struct TableSink<'w> {
    pending: Vec<u8>,
    sink: &'w mut dyn Write,
}

/// The keys of a JSON line the table shows; `fields` as written (in property order).
#[derive(serde::Deserialize)]
struct Row<'a> {
    since_start_ns: Option<i64>,
    cpu: serde_json::Value,
    provider_guid: Option<String>,
    provider_name: Option<String>,
    id: Option<u64>,
    opcode: Option<u64>,
    pid: serde_json::Value,
    tid: serde_json::Value,
    event_name: Option<String>,
    #[serde(borrow)]
    fields: Option<&'a serde_json::value::RawValue>,
    decode_error: Option<String>,
    payload_hex: Option<&'a str>,
}

impl Row<'_> {
    /// The last column: the decoded fields, the decode error, or the payload's size.
    fn event(&self) -> String {
        let bytes = self.payload_hex.map_or(0, |h| h.len() / 2);
        match (&self.event_name, self.fields, &self.decode_error) {
            (_, _, Some(e)) => format!("decode_error: {e} ({bytes} bytes)"),
            (Some(n), Some(f), None) => format!("{n} {}", f.get()),
            (None, Some(f), None) => f.get().to_owned(),
            (_, None, None) => format!("{bytes} bytes"),
        }
    }
}

impl TableSink<'_> {
    fn row(&mut self, line: &[u8]) -> std::io::Result<()> {
        let Ok(v) = serde_json::from_slice::<Row<'_>>(line) else {
            return Ok(());
        };
        let secs = v.since_start_ns.map_or(f64::NAN, |n| n as f64 / 1e9);
        let prov = v
            .provider_name
            .as_deref()
            .or(v.provider_guid.as_deref())
            .unwrap_or("");
        let idop = match (v.id, v.opcode) {
            (Some(i), _) => i.to_string(),
            (None, Some(o)) => format!("op{o}"),
            _ => "-".into(),
        };
        writeln!(
            self.sink,
            "{:>14.6}  {:>3}  {:<36}  {:>5}  {:>6}  {:>6}  {}",
            secs,
            v.cpu.to_string(),
            prov,
            idop,
            v.pid.to_string(),
            v.tid.to_string(),
            v.event()
        )
    }
}

impl Write for TableSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut start = 0;
        while let Some(nl) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = self.pending[start..start + nl].to_vec();
            self.row(&line)?;
            start += nl + 1;
        }
        self.pending.drain(..start);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &str) -> String {
        let mut out = Vec::new();
        let mut table = TableSink {
            pending: Vec::new(),
            sink: &mut out,
        };
        table.write_all(lines.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_table_shows_fields_in_property_order_and_decode_errors() {
        let decoded = r#"{"since_start_ns":1500000000,"cpu":1,"provider_guid":"g","provider_name":"P","id":10,"pid":4,"tid":8,"decoded_by":"metadata","event_name":"E","fields":{"Zeta":1,"Alpha":"a","Mid":[2,3]}}"#;
        let failed = r#"{"since_start_ns":0,"cpu":0,"provider_guid":"g","provider_name":null,"opcode":15,"pid":null,"tid":null,"decode_error":"mof layout does not fit: payload offset 72: 2 bytes left after the last property","payload_hex":"00112233"}"#;
        let undescribed = r#"{"since_start_ns":0,"cpu":0,"provider_guid":"g","provider_name":"P","id":3,"pid":1,"tid":2,"payload_hex":"0011"}"#;
        let text = rows(&format!("{decoded}\n{failed}\n{undescribed}\n"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with(r#"E {"Zeta":1,"Alpha":"a","Mid":[2,3]}"#),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].starts_with("      1.500000    1  P"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with(
                "op15    null    null  decode_error: mof layout does not fit: payload offset 72: \
                 2 bytes left after the last property (4 bytes)"
            ),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with("  2 bytes"), "{}", lines[2]);
    }
}
