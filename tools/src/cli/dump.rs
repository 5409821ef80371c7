//! `wsktrace dump FILE…`: every record of ETL files as JSON Lines, or a per-file summary.
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
//! | `event_name`, `fields` | TraceLogging events: name and decoded fields |
//! | `payload_hex` | any other record (or a TraceLogging event that failed to decode, with `decode_error`) |
//!
//! With `--summary`, one object per file: `events` (records), `lost_events`, `providers`
//! (`[{guid, name, count}]`, most frequent first), `header` (logfile header facts), `buffers`,
//! `errors`. On a terminal both print as tables unless `--json` is given.
//!
//! Errors print as `wsktrace: <path>: <error>` on stderr and the run goes on; the exit status is
//! 2 if any file had an error, else 0.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::etl::format::{Guid, EVENT_HEADER_EXT_TYPE_RELATED_ACTIVITYID};
use crate::etl::header::write_filetime_rfc3339;
use crate::etl::merge::{default_window, SortedRecords};
use crate::etl::names::{
    metadata_provider_name, record_provider, record_provider_bytes, traits_name_bytes, KTC_METADATA,
};
use crate::etl::{Clock, EtlReader, LogfileInfo, Record};
use crate::payload::{Payload, PayloadDecoder};
use crate::tdh::{self, Layouts};
use crate::tracelogging;

/// Arguments of `wsktrace dump`.
#[derive(Debug, Clone, clap::Args)]
pub struct DumpArgs {
    /// ETL files to read.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
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
}

/// The `--provider` filter.
#[derive(Debug, Clone, Default)]
pub struct ProviderFilter {
    guids: Vec<Guid>,
    names: Vec<String>,
}

impl ProviderFilter {
    /// From `--provider` values: GUIDs (with or without braces) or names.
    pub fn new(values: &[String]) -> Self {
        let mut f = ProviderFilter::default();
        for v in values {
            match tracelogging::Guid::parse(v) {
                Some(g) => {
                    use zerocopy::FromBytes;
                    f.guids
                        .push(Guid::read_from_bytes(&g.to_bytes_le()[..]).unwrap_or_default())
                }
                None => f.names.push(v.to_ascii_lowercase()),
            }
        }
        f
    }

    /// True when no filter was given.
    pub fn is_empty(&self) -> bool {
        self.guids.is_empty() && self.names.is_empty()
    }

    /// Does a provider pass?
    pub fn matches(&self, guid: &Guid, name: Option<&str>) -> bool {
        self.is_empty()
            || self.guids.contains(guid)
            || name.is_some_and(|n| self.names.iter().any(|f| f.eq_ignore_ascii_case(n)))
    }
}

/// (GUID, name bytes as in the file, name as text, count).
type CountEntry = (Guid, Option<Box<[u8]>>, Option<Box<str>>, u64);

/// Per-provider counts, keyed by (GUID, name).
///
/// Records come in runs of one provider, so the last key is checked first; other keys are
/// found through a map from GUID to the few names seen with it.
#[derive(Debug, Default, Clone)]
pub struct ProviderCounts {
    entries: Vec<CountEntry>,
    by_guid: HashMap<Guid, Vec<usize>>,
    last: usize,
}

impl ProviderCounts {
    /// Counts one record.
    #[inline]
    pub fn add(&mut self, guid: Guid, name: Option<&str>) {
        self.add_bytes(guid, name.map(str::as_bytes));
    }

    /// Counts one `EVENT_HEADER` record with a provider-traits item: the last key is checked
    /// against the item's bytes directly, before the name is located.
    #[inline]
    pub fn add_traits(&mut self, guid: Guid, traits: &[u8]) {
        if let Some(e) = self.entries.get_mut(self.last) {
            if let (true, Some(n)) = (e.0 == guid, e.1.as_deref()) {
                let end = 2 + n.len();
                if traits.len() > end && traits[end] == 0 && &traits[2..end] == n {
                    e.3 += 1;
                    return;
                }
            }
        }
        self.add_bytes(guid, traits_name_bytes(traits));
    }

    /// Counts one record whose name is raw bytes from the file (decoded as UTF-8, lossily,
    /// only when the key is new).
    #[inline]
    pub fn add_bytes(&mut self, guid: Guid, name: Option<&[u8]>) {
        if let Some(e) = self.entries.get_mut(self.last) {
            if e.0 == guid && e.1.as_deref() == name {
                e.3 += 1;
                return;
            }
        }
        self.add_slow(guid, name);
    }

    fn add_slow(&mut self, guid: Guid, name: Option<&[u8]>) {
        if self.entries.len() <= 16 {
            if let Some(i) = self
                .entries
                .iter()
                .position(|e| e.0 == guid && e.1.as_deref() == name)
            {
                self.entries[i].3 += 1;
                self.last = i;
                return;
            }
        }
        let idx = self.by_guid.entry(guid).or_default();
        if let Some(&i) = idx.iter().find(|&&i| self.entries[i].1.as_deref() == name) {
            self.entries[i].3 += 1;
            self.last = i;
            return;
        }
        idx.push(self.entries.len());
        self.last = self.entries.len();
        let text = name.map(|n| String::from_utf8_lossy(n).into_owned().into_boxed_str());
        self.entries.push((guid, name.map(Into::into), text, 1));
    }

    /// `(guid, name, count)`, most frequent first, then by GUID and name.
    pub fn sorted(&self) -> Vec<(Guid, Option<&str>, u64)> {
        let mut out: Vec<_> = self
            .entries
            .iter()
            .map(|(g, _, n, c)| (*g, n.as_deref(), *c))
            .collect();
        out.sort_by(|a, b| {
            b.2.cmp(&a.2)
                .then(a.0.to_string().cmp(&b.0.to_string()))
                .then(a.1.cmp(&b.1))
        });
        out
    }
}

/// What one file gave: counts and facts (the `--summary` object).
#[derive(Debug, Clone)]
pub struct FileSummary {
    pub info: LogfileInfo,
    pub events: u64,
    pub providers: ProviderCounts,
    pub buffers: u64,
    pub compressed_buffers: u64,
    pub buffers_with_lost_events: u64,
    pub errors: u64,
    pub first_buffer_size: u32,
    /// Provider names the file gives in KernelTraceControl `MetaData` events.
    pub learned_names: HashMap<Guid, String>,
    /// Of [`FileSummary::providers`]' records, those whose payload was decoded.
    pub decoded: ProviderCounts,
}

/// One provider of a summary: GUID, name, records, records decoded.
pub type ProviderSummary = (Guid, Option<String>, u64, u64);

impl FileSummary {
    /// `(guid, name, records, decoded)`, most frequent first; records without a name of their
    /// own get the name the file's `MetaData` events give their GUID.
    pub fn providers(&self) -> Vec<ProviderSummary> {
        let decoded: HashMap<(Guid, Option<&str>), u64> = self
            .decoded
            .sorted()
            .into_iter()
            .map(|(g, n, c)| ((g, n), c))
            .collect();
        let mut merged: Vec<ProviderSummary> = Vec::new();
        for (g, n, c) in self.providers.sorted() {
            let d = decoded.get(&(g, n)).copied().unwrap_or(0);
            let name = n
                .map(str::to_string)
                .or_else(|| self.learned_names.get(&g).cloned());
            match merged
                .iter_mut()
                .find(|(mg, mn, _, _)| *mg == g && *mn == name)
            {
                Some(e) => {
                    e.2 += c;
                    e.3 += d;
                }
                None => merged.push((g, name, c, d)),
            }
        }
        merged.sort_by(|a, b| {
            b.2.cmp(&a.2)
                .then(a.0.to_string().cmp(&b.0.to_string()))
                .then(a.1.cmp(&b.1))
        });
        merged
    }

    /// `--summary` JSON object.
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        let info = &self.info;
        let ft = |t: i64| {
            let mut s = String::new();
            write_filetime_rfc3339(&mut s, t);
            s
        };
        let providers: Vec<_> = self
            .providers()
            .into_iter()
            .map(|(g, n, c, d)| {
                serde_json::json!({
                    "guid": g.to_string(),
                    "name": n,
                    "count": c,
                    "decoded": d,
                    "undecoded": c - d,
                })
            })
            .collect();
        serde_json::json!({
            "file": file,
            "events": self.events,
            "lost_events": info.events_lost,
            "buffers_lost": info.buffers_lost,
            "buffers_with_lost_events": self.buffers_with_lost_events,
            "providers": providers,
            "header": header_json(info, self.first_buffer_size, &ft),
            "buffers": self.buffers,
            "compressed_buffers": self.compressed_buffers,
            "errors": self.errors,
        })
    }
}

fn header_json(
    info: &LogfileInfo,
    first_buffer_size: u32,
    ft: &dyn Fn(i64) -> String,
) -> serde_json::Value {
    serde_json::json!({
        "logger": info.logger_name,
        "logfile": info.log_file_name,
        "buffer_size": info.buffer_size,
        "first_buffer_size": first_buffer_size,
        "buffers_written": info.buffers_written,
        "pointer_size": info.pointer_size,
        "start": ft(info.start_time),
        "end": ft(info.end_time),
        "boot_time": ft(info.boot_time),
        "os_version": info.os_version(),
        "os_major": info.os_major,
        "os_minor": info.os_minor,
        "os_build": info.os_build,
        "processors": info.number_of_processors,
        "log_file_mode": format!("{:#x}", info.log_file_mode),
        "clock_type": info.clock_type.name(),
        "clock_frequency": info.clock_frequency(),
        "cpu_speed_mhz": info.cpu_speed_mhz,
        "timer_resolution": info.timer_resolution,
        "events_lost": info.events_lost,
        "buffers_lost": info.buffers_lost,
        "time_zone": {
            "bias_minutes": info.time_zone.bias_minutes,
            "standard_name": info.time_zone.standard_name,
            "standard_bias_minutes": info.time_zone.standard_bias_minutes,
            "daylight_name": info.time_zone.daylight_name,
            "daylight_bias_minutes": info.time_zone.daylight_bias_minutes,
        },
    })
}

/// Reads a whole file and counts records per provider (what `--summary` prints), and of those
/// the records whose payload decodes. Errors are passed to `on_error` and counted; the file
/// goes on.
pub fn summarize(
    path: &std::path::Path,
    filter: &ProviderFilter,
    on_error: &mut dyn FnMut(&crate::etl::Error),
) -> Result<FileSummary, crate::etl::Error> {
    summarize_with(path, filter, Layouts::new(), on_error)
}

/// [`summarize`], decoding by `layouts` (the user's manifests) as well.
///
/// One pass counts and decodes with the layouts known at each record; a record of an event
/// kind that the file's `MetaData` describes only further on is decoded again in a second
/// pass over the file, which happens only when the file has such records.
pub fn summarize_with(
    path: &std::path::Path,
    filter: &ProviderFilter,
    layouts: Layouts,
    on_error: &mut dyn FnMut(&crate::etl::Error),
) -> Result<FileSummary, crate::etl::Error> {
    let mut reader = EtlReader::open(path)?;
    let mut s = FileSummary {
        info: reader.info().clone(),
        events: 0,
        providers: ProviderCounts::default(),
        buffers: 0,
        compressed_buffers: 0,
        buffers_with_lost_events: 0,
        errors: 0,
        first_buffer_size: 0,
        learned_names: HashMap::new(),
        decoded: ProviderCounts::default(),
    };
    let mut decoder = PayloadDecoder::new(layouts);
    // Records of event kinds that had no layout when met, per kind (the first ones in file
    // order: once a layout is known, it stays).
    let mut late: HashMap<tdh::EventKey, u64> = HashMap::new();
    while let Some(b) = reader.next_buffer() {
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                s.errors += 1;
                on_error(&e);
                continue;
            }
        };
        if s.first_buffer_size == 0 {
            s.first_buffer_size = b.disk_size;
        }
        for r in b.records() {
            let rec = match r {
                Ok(rec) => rec,
                Err(e) => {
                    s.errors += 1;
                    on_error(&e);
                    continue;
                }
            };
            if let Record::Classic(c) = &rec {
                if c.header.guid == KTC_METADATA {
                    if let Some((g, n)) = metadata_provider_name(c) {
                        s.learned_names.entry(g).or_insert(n);
                    }
                    let _ = decoder
                        .layouts_mut()
                        .add_metadata(c.header.class_type, c.payload);
                }
            }
            let (g, n) = record_provider_bytes(&rec);
            let layout_name = if n.is_none() {
                decoder.provider_name(&rec)
            } else {
                None
            };
            let n = n.or(layout_name.as_deref().map(str::as_bytes));
            if !filter.is_empty()
                && !filter.matches(&g, n.and_then(|n| core::str::from_utf8(n).ok()))
            {
                continue;
            }
            s.events += 1;
            s.providers.add_bytes(g, n);
            match decoder.decode(&rec) {
                Payload::Decoded { .. } => s.decoded.add_bytes(g, n),
                Payload::Undescribed => {
                    if let Some(k) = PayloadDecoder::layout_key(&rec) {
                        *late.entry(k).or_default() += 1;
                    }
                }
                Payload::Failed { .. } => {}
            }
        }
    }
    let st = reader.stats();
    s.buffers = st.buffers;
    s.compressed_buffers = st.compressed_buffers;
    s.buffers_with_lost_events = st.buffers_with_lost_events;
    late.retain(|k, _| {
        decoder
            .layouts_mut()
            .get(k)
            .is_some_and(|l| l.source == tdh::Source::Metadata)
    });
    if !late.is_empty() {
        recount_late(path, filter, late, &mut decoder, &mut s);
    }
    Ok(s)
}

/// The second pass of [`summarize_with`]: decodes the first `late[kind]` records of each event
/// kind again, those the first pass met before the `MetaData` describing them. Read errors
/// were counted then.
fn recount_late(
    path: &std::path::Path,
    filter: &ProviderFilter,
    mut late: HashMap<tdh::EventKey, u64>,
    decoder: &mut PayloadDecoder,
    s: &mut FileSummary,
) {
    let Ok(mut reader) = EtlReader::open(path) else {
        return;
    };
    while let Some(b) = reader.next_buffer() {
        let Ok(b) = b else { continue };
        for rec in b.records().flatten() {
            let Some(left) = PayloadDecoder::layout_key(&rec).and_then(|k| late.get_mut(&k)) else {
                continue;
            };
            if *left == 0 {
                continue;
            }
            *left -= 1;
            let (g, n) = record_provider_bytes(&rec);
            let layout_name = if n.is_none() {
                decoder.provider_name(&rec)
            } else {
                None
            };
            let n = n.or(layout_name.as_deref().map(str::as_bytes));
            if !filter.is_empty()
                && !filter.matches(&g, n.and_then(|n| core::str::from_utf8(n).ok()))
            {
                continue;
            }
            if decoder.decode(&rec).is_decoded() {
                s.decoded.add_bytes(g, n);
            }
        }
    }
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
    use crate::etl::format::*;
    match rec {
        Record::Event(_) => "event",
        Record::System(s) => match s.header_type {
            TRACE_HEADER_TYPE_COMPACT32 | TRACE_HEADER_TYPE_COMPACT64 => "compact",
            TRACE_HEADER_TYPE_PERFINFO32 | TRACE_HEADER_TYPE_PERFINFO64 => "perfinfo",
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

    /// Appends one JSON line for `rec` to `out`.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        rec: &Record<'_>,
        cpu: u16,
        guid: &Guid,
        name: Option<&str>,
    ) {
        self.written += 1;
        let _ = write!(
            out,
            "{{\"file\":{},\"offset\":{},\"timestamp\":",
            self.file,
            rec.offset()
        );
        let mut ts = String::with_capacity(32);
        match rec.timestamp() {
            Some(raw) => {
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
        match rec {
            Record::Event(e) => {
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
                    .and_then(|i| {
                        use zerocopy::FromBytes;
                        Guid::read_from_prefix(i.data).ok().map(|(g, _)| g)
                    });
                push_opt_guid(out, rel.as_ref());
            }
            Record::System(s) => {
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
            Record::Classic(c) => {
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
            Record::Message(m) => {
                let _ = write!(out, ",\"id\":{},\"pid\":", m.header.message_number.get());
                push_opt_u32(out, m.process_id);
                out.extend_from_slice(b",\"tid\":");
                push_opt_u32(out, m.thread_id);
                out.extend_from_slice(b",\"sequence\":");
                push_opt_u32(out, m.sequence);
            }
        }
        self.write_payload(out, rec);
        out.extend_from_slice(b"}\n");
    }

    /// `decoded_by`, `event_name` and `fields` where something describes the payload; else
    /// `payload_hex` (after a `decode_error` where the description does not fit).
    fn write_payload(&mut self, out: &mut Vec<u8>, rec: &Record<'_>) {
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

/// What a first pass over a file learns from its KernelTraceControl `MetaData` events, so that
/// records before those events are named and decoded too: provider names, and the layouts
/// (added to `layouts`). Read errors, and descriptions that do not parse, are left to the main
/// pass (which reports them on the records).
pub fn read_metadata(path: &std::path::Path, layouts: &mut Layouts) -> HashMap<Guid, String> {
    let mut names = HashMap::new();
    let Ok(mut reader) = EtlReader::open(path) else {
        return names;
    };
    while let Some(b) = reader.next_buffer() {
        let Ok(b) = b else { continue };
        for r in b.records() {
            if let Ok(Record::Classic(c)) = r {
                if c.header.guid != KTC_METADATA {
                    continue;
                }
                if let Some((g, n)) = metadata_provider_name(&c) {
                    names.entry(g).or_insert(n);
                }
                let _ = layouts.add_metadata(c.header.class_type, c.payload);
            }
        }
    }
    names
}

fn report(path: &std::path::Path, e: &dyn std::fmt::Display) {
    eprintln!("wsktrace: {}: {}", path.display(), e);
}

/// Writes every record of `path` as JSON Lines into `out` (flushing to `sink` as it goes),
/// decoding by `layouts` (the user's manifests; the file's metadata is added here) where
/// TraceLogging does not describe an event. Returns the number of errors met.
pub fn dump_file(
    path: &std::path::Path,
    filter: &ProviderFilter,
    sorted: Option<Option<usize>>,
    mut layouts: Layouts,
    sink: &mut dyn Write,
) -> std::io::Result<u64> {
    let mut errors = 0u64;
    let reader = match EtlReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            report(path, &e);
            return Ok(1);
        }
    };
    let file = path.display().to_string();
    let learned = read_metadata(path, &mut layouts);
    let mut w = EventWriter::new(&file, reader.info(), layouts);
    let mut out: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut emit = |out: &mut Vec<u8>,
                    w: &mut EventWriter,
                    rec: &Record<'_>,
                    cpu: u16|
     -> std::io::Result<()> {
        let (g, n) = record_provider(rec);
        let n = n.or_else(|| learned.get(&g).map(String::as_str));
        let from_layout = if n.is_none() {
            w.layout_provider_name(rec)
        } else {
            None
        };
        let n = n.or(from_layout.as_deref());
        if filter.matches(&g, n) {
            w.write(out, rec, cpu, &g, n);
            if out.len() >= 1 << 16 {
                sink.write_all(out)?;
                out.clear();
            }
        }
        Ok(())
    };
    match sorted {
        None => {
            let mut reader = reader;
            while let Some(b) = reader.next_buffer() {
                let b = match b {
                    Ok(b) => b,
                    Err(e) => {
                        errors += 1;
                        report(path, &e);
                        continue;
                    }
                };
                let cpu = b.processor();
                for r in b.records() {
                    match r {
                        Ok(rec) => emit(&mut out, &mut w, &rec, cpu)?,
                        Err(e) => {
                            errors += 1;
                            report(path, &e);
                        }
                    }
                }
            }
        }
        Some(window) => {
            let window = window.unwrap_or_else(|| default_window(reader.info().buffer_size));
            let mut merged = SortedRecords::new(reader, window);
            while let Some(r) = merged.next() {
                match r {
                    Ok(sr) => emit(&mut out, &mut w, &sr.record, sr.processor)?,
                    Err(e) => {
                        errors += 1;
                        report(path, &e);
                    }
                }
            }
        }
    }
    sink.write_all(&out)?;
    Ok(errors)
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
        "  {:>9}  {:>9}  {:<36}  name",
        "count", "decoded", "provider"
    )?;
    for (g, n, c, d) in s.providers() {
        writeln!(
            out,
            "  {:>9}  {:>9}  {:<36}  {}",
            c,
            d,
            g.to_string(),
            n.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// The layouts of `--manifest` files; a manifest that cannot be read is reported.
fn manifest_layouts(paths: &[PathBuf]) -> Option<Layouts> {
    let mut layouts = Layouts::new();
    for path in paths {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|xml| tdh::parse_manifest(&xml).map_err(|e| e.to_string()));
        match parsed {
            Ok(m) => layouts.add_manifest(&m),
            Err(e) => {
                report(path, &e);
                return None;
            }
        }
    }
    Some(layouts)
}

/// Runs `wsktrace dump`; returns the exit status (0 clean, 2 if any file had an error).
pub fn run(args: &DumpArgs) -> u8 {
    let filter = ProviderFilter::new(&args.provider);
    let Some(layouts) = manifest_layouts(&args.manifest) else {
        return 2;
    };
    let stdout = std::io::stdout();
    let human = !args.json && stdout.is_terminal();
    let mut lock = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut status = 0u8;
    for path in &args.files {
        let file = path.display().to_string();
        let res = if args.summary {
            let mut nerr = 0u64;
            match summarize_with(path, &filter, layouts.clone(), &mut |e| {
                nerr += 1;
                report(path, e)
            }) {
                Ok(s) => {
                    if nerr > 0 {
                        status = 2;
                    }
                    if human {
                        table_summary(&file, &s, &mut lock)
                    } else {
                        serde_json::to_writer(&mut lock, &s.to_json(&file))
                            .map_err(std::io::Error::other)
                            .and_then(|_| lock.write_all(b"\n"))
                    }
                }
                Err(e) => {
                    report(path, &e);
                    status = 2;
                    Ok(())
                }
            }
        } else if human {
            let sorted = args.sorted.then_some(args.window);
            dump_table(path, &filter, sorted, layouts.clone(), &mut lock).map(|n| {
                if n > 0 {
                    status = 2;
                }
            })
        } else {
            let sorted = args.sorted.then_some(args.window);
            dump_file(path, &filter, sorted, layouts.clone(), &mut lock).map(|n| {
                if n > 0 {
                    status = 2;
                }
            })
        };
        if let Err(e) = res {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return status;
            }
            report(path, &e);
            return 2;
        }
    }
    if let Err(e) = lock.flush() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("wsktrace: {e}");
            return 2;
        }
    }
    status
}

/// Human table of records: time since start, CPU, provider, ids and a short payload view.
fn dump_table(
    path: &std::path::Path,
    filter: &ProviderFilter,
    sorted: Option<Option<usize>>,
    layouts: Layouts,
    sink: &mut dyn Write,
) -> std::io::Result<u64> {
    writeln!(
        sink,
        "{:>14}  {:>3}  {:<36}  {:>5}  {:>6}  {:>6}  event",
        "time (s)", "cpu", "provider", "id/op", "pid", "tid"
    )?;
    let mut table = TableSink {
        pending: Vec::new(),
        sink,
    };
    let errors = dump_file(path, filter, sorted, layouts, &mut table)?;
    table.flush()?;
    Ok(errors)
}

/// Turns the JSON lines written into it into table rows, line by line (bounded memory).
struct TableSink<'w> {
    pending: Vec<u8>,
    sink: &'w mut dyn Write,
}

impl TableSink<'_> {
    fn row(&mut self, line: &[u8]) -> std::io::Result<()> {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            return Ok(());
        };
        let secs = v["since_start_ns"]
            .as_i64()
            .map(|n| n as f64 / 1e9)
            .unwrap_or(f64::NAN);
        let prov = v["provider_name"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v["provider_guid"].as_str().unwrap_or("").to_owned());
        let idop = match (v["id"].as_u64(), v["opcode"].as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(o)) => format!("op{o}"),
            _ => "-".into(),
        };
        let what = match v["event_name"].as_str() {
            Some(n) => format!("{n} {}", v["fields"]),
            None => format!(
                "{} bytes",
                v["payload_hex"].as_str().unwrap_or("").len() / 2
            ),
        };
        writeln!(
            self.sink,
            "{:>14.6}  {:>3}  {:<36}  {:>5}  {:>6}  {:>6}  {}",
            secs,
            v["cpu"].to_string(),
            prov,
            idop,
            v["pid"].to_string(),
            v["tid"].to_string(),
            what
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
