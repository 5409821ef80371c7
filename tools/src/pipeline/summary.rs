//! Counting records per provider (what `wsktrace dump --summary` prints): without decoding
//! them ([`summarize`]: the fast path of the reader, its header peek ([`peek_provider`]), for
//! the common record kinds, the full record parser for anything else), or checking each one
//! to count those whose payload decodes ([`summarize_decoding`], [`summarize_file_decoding`]:
//! see [`crate::payload`]; the one-thread reference parses and decodes every record, the walk
//! of a file in memory takes `EVENT_HEADER` records through their header peek
//! ([`peek_event`]) and asks [`PayloadDecoder::decodes_event`]).
//!
//! Provider keys are (GUID, name): records name their provider through TraceLogging provider
//! traits, the kernel group tables of [`crate::etl::names`], or, in files merged by
//! xperf/WPR, KernelTraceControl `MetaData` events ([`FileSummary::providers`] applies those).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io::Read;
use std::path::Path;

use zerocopy::{FromBytes, IntoBytes};

use super::error::TraceError;
use super::mapped::{prefetch, CACHE_LINE};
use super::parallel::{in_order, warm, Framed, Plan};
use super::read::{by_plan, open, open_slice, Threads};

mod decoded;
#[cfg(test)]
mod tests;
use crate::etl::format::{Guid, BUFFER_HEADER_SIZE};
use crate::etl::header::write_filetime_rfc3339;
use crate::etl::names::{
    classic_name, kernel_provider, metadata_provider_name, record_provider_bytes,
    traits_name_bytes, KTC_METADATA,
};
use crate::etl::record::{parse_one, peek_event, peek_provider, EventPeek, ProviderPeek};
use crate::etl::{Buffer, EtlReader, LogfileInfo, ReadStats, Record};
use crate::payload::{Decodes, Payload, PayloadDecoder};
use crate::tdh::{EventKey, Layouts, Source};
use crate::tracelogging::cache::WordHasher;

/// How far ahead of its position the decoding walk asks for the lines it will read.
const PREFETCH_AHEAD: usize = 2048;

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
            match Guid::parse(v) {
                Some(g) => f.guids.push(g),
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
/// Records come in runs of one provider, or a few providers interleaved, so the two keys last
/// counted in a slot chosen by the GUID are checked first; other keys are found through a map
/// from GUID to the few names seen with it.
#[derive(Debug, Default, Clone)]
pub struct ProviderCounts {
    entries: Vec<CountEntry>,
    by_guid: HashMap<Guid, Vec<usize>>,
    /// Per slot ([`recent_slot`]), the entries last counted there, the latest first.
    recent: [[usize; 2]; RECENT_SLOTS],
}

/// Slots of [`ProviderCounts::recent`] (a power of two).
const RECENT_SLOTS: usize = 8;

/// The slot of a GUID: its two halves mixed.
#[inline(always)]
fn recent_slot(guid: &Guid) -> usize {
    let b: [u8; 16] = zerocopy::transmute!(*guid);
    let (lo, hi) = b.split_at(8);
    let word = |h: &[u8]| u64::from_le_bytes(h.try_into().unwrap_or_default());
    let h = (word(lo) ^ word(hi).rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 61) as usize & (RECENT_SLOTS - 1)
}

impl ProviderCounts {
    /// Counts one record.
    #[inline]
    pub fn add(&mut self, guid: Guid, name: Option<&str>) {
        self.add_bytes(guid, name.map(str::as_bytes));
    }

    /// Counts one `EVENT_HEADER` record with a provider-traits item: the recent keys are
    /// checked against the item's bytes directly, before the name is located. Returns the
    /// index of its key (by which the decoding walk counts its outcomes).
    #[inline(always)]
    pub fn add_traits(&mut self, guid: Guid, traits: &[u8]) -> usize {
        let in_traits = |n: Option<&[u8]>| {
            n.is_some_and(|n| {
                let end = 2 + n.len();
                traits.len() > end && traits[end] == 0 && &traits[2..end] == n
            })
        };
        match self.recent_key(&guid, in_traits) {
            Some(i) => {
                self.entries[i].3 += 1;
                i
            }
            None => self.add_bytes(guid, traits_name_bytes(traits)),
        }
    }

    /// Counts one record whose name is raw bytes from the file (decoded as UTF-8, lossily,
    /// only when the key is new); returns the index of its key, as [`Self::add_traits`].
    #[inline(always)]
    pub fn add_bytes(&mut self, guid: Guid, name: Option<&[u8]>) -> usize {
        match self.recent_key(&guid, |n| n == name) {
            Some(i) => {
                self.entries[i].3 += 1;
                i
            }
            None => self.add_slow(guid, name),
        }
    }

    /// The key of `guid` among those last counted in its slot whose name `is_name` takes.
    #[inline(always)]
    fn recent_key(&self, guid: &Guid, is_name: impl Fn(Option<&[u8]>) -> bool) -> Option<usize> {
        self.recent[recent_slot(guid)].into_iter().find(|&i| {
            self.entries
                .get(i)
                .is_some_and(|e| e.0 == *guid && is_name(e.1.as_deref()))
        })
    }

    fn add_slow(&mut self, guid: Guid, name: Option<&[u8]>) -> usize {
        self.add_n(guid, name, 1)
    }

    /// Counts `n` records of one key; returns the index of the key, now the latest of its
    /// slot.
    fn add_n(&mut self, guid: Guid, name: Option<&[u8]>, n: u64) -> usize {
        let i = self.key(guid, name);
        self.entries[i].3 += n;
        let recent = &mut self.recent[recent_slot(&guid)];
        if recent[0] != i {
            *recent = [i, recent[0]];
        }
        i
    }

    /// The index of a key (a new key counts 0).
    fn key(&mut self, guid: Guid, name: Option<&[u8]>) -> usize {
        if self.entries.len() <= 16 {
            if let Some(i) = self
                .entries
                .iter()
                .position(|e| e.0 == guid && e.1.as_deref() == name)
            {
                return i;
            }
        }
        let idx = self.by_guid.entry(guid).or_default();
        if let Some(&i) = idx.iter().find(|&&i| self.entries[i].1.as_deref() == name) {
            return i;
        }
        let i = self.entries.len();
        idx.push(i);
        let text = name.map(|n| String::from_utf8_lossy(n).into_owned().into_boxed_str());
        self.entries.push((guid, name.map(Into::into), text, 0));
        i
    }

    /// Adds the counts of `other`; returns, per key of `other` (by index), its index here.
    pub fn merge(&mut self, other: &ProviderCounts) -> Vec<usize> {
        other
            .entries
            .iter()
            .map(|(guid, name, _, n)| self.add_n(*guid, name.as_deref(), *n))
            .collect()
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
    /// The logfile header.
    pub info: LogfileInfo,
    /// Records counted (those passing the filter).
    pub events: u64,
    /// Records per provider.
    pub providers: ProviderCounts,
    /// Buffers read.
    pub buffers: u64,
    /// Of those, compressed in the file.
    pub compressed_buffers: u64,
    /// Buffers flagged "events lost".
    pub buffers_with_lost_events: u64,
    /// Errors met (each given to `on_error`); the rest of the file was read.
    pub errors: u64,
    /// Size on disk of the first buffer.
    pub first_buffer_size: u32,
    /// Provider names the file gives in KernelTraceControl `MetaData` events.
    pub learned_names: HashMap<Guid, String>,
    /// Of the records per provider, those whose payload decoded (when the summary decoded).
    pub decoded: Option<ProviderCounts>,
    /// Of the records per provider, those a layout describes and whose payload does not fit
    /// it (full `dump`'s per-event decode errors; when the summary decoded).
    pub decode_errors: Option<ProviderCounts>,
}

/// One provider of a [`FileSummary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSummary {
    /// Its GUID.
    pub guid: Guid,
    /// Its name, where the trace gives one.
    pub name: Option<String>,
    /// Records.
    pub count: u64,
    /// Of those, records whose payload decoded (`None` when the summary did not decode).
    pub decoded: Option<u64>,
    /// Of those, records described by a layout their payload does not fit (`None` when the
    /// summary did not decode). The rest, `count - decoded - decode_errors`, nothing
    /// describes.
    pub decode_errors: Option<u64>,
}

/// Per (GUID, name), the count of one of a summary's [`ProviderCounts`].
type CountsByKey<'a> = HashMap<(Guid, Option<&'a str>), u64>;

fn by_key(counts: Option<&ProviderCounts>) -> Option<CountsByKey<'_>> {
    counts.map(|c| {
        c.sorted()
            .into_iter()
            .map(|(g, n, c)| ((g, n), c))
            .collect()
    })
}

impl FileSummary {
    /// The providers, most frequent first; records without a name of their own get the name
    /// the file's `MetaData` events give their GUID.
    pub fn providers(&self) -> Vec<ProviderSummary> {
        let decoded = by_key(self.decoded.as_ref());
        let decode_errors = by_key(self.decode_errors.as_ref());
        let of = |m: &Option<CountsByKey<'_>>, g, n| {
            m.as_ref().map(|m| m.get(&(g, n)).copied().unwrap_or(0))
        };
        let add = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| a + b);
        let mut merged: Vec<ProviderSummary> = Vec::new();
        for (g, n, c) in self.providers.sorted() {
            let (d, e) = (of(&decoded, g, n), of(&decode_errors, g, n));
            let name = n
                .map(str::to_string)
                .or_else(|| self.learned_names.get(&g).cloned());
            match merged.iter_mut().find(|p| p.guid == g && p.name == name) {
                Some(p) => {
                    p.count += c;
                    p.decoded = add(p.decoded, d);
                    p.decode_errors = add(p.decode_errors, e);
                }
                None => merged.push(ProviderSummary {
                    guid: g,
                    name,
                    count: c,
                    decoded: d,
                    decode_errors: e,
                }),
            }
        }
        merged.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.guid.to_string().cmp(&b.guid.to_string()))
                .then(a.name.cmp(&b.name))
        });
        merged
    }

    /// The `--summary` JSON object (`file` names the input).
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        let info = &self.info;
        let ft = |t: i64| {
            let mut text = String::new();
            write_filetime_rfc3339(&mut text, t);
            text
        };
        let providers: Vec<_> = self
            .providers()
            .into_iter()
            .map(|p| {
                let mut o = serde_json::json!({
                    "guid": p.guid.to_string(),
                    "name": p.name,
                    "count": p.count,
                });
                if let Some(d) = p.decoded {
                    let e = p.decode_errors.unwrap_or(0);
                    o["decoded"] = d.into();
                    o["decode_errors"] = e.into();
                    o["undecoded"] = (p.count - d - e).into();
                }
                o
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

/// Reads a whole trace and counts records per provider. Errors are passed to `on_error` and
/// counted; the trace goes on. `Err` only when the input cannot be read as ETL at all.
pub fn summarize<R: Read>(
    src: R,
    filter: &ProviderFilter,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    summarize_open(open(src)?, filter, on_error)
}

/// [`summarize`] a file: a large regular file through a memory map, its buffers counted on
/// every core (as [`summarize_bytes`]); other files streamed.
pub fn summarize_file(
    path: &Path,
    filter: &ProviderFilter,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    let plan = Plan::of(Threads::Auto);
    by_plan(
        path,
        plan,
        on_error,
        |on_error, bytes, done| summarize_slice(bytes, filter, plan, on_error, done),
        |on_error, file| summarize(file, filter, on_error),
    )
}

/// [`summarize`] bytes in memory: no copy, the buffers counted on every core.
pub fn summarize_bytes(
    bytes: &[u8],
    filter: &ProviderFilter,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    summarize_slice(
        bytes,
        filter,
        Plan::of(Threads::Auto),
        on_error,
        &mut |_| {},
    )
}

/// What one job of buffers counted, merged into the file's summary in file order.
#[derive(Default)]
struct Part {
    counts: FileSummary,
    decoding: Decoding,
    errors: Vec<TraceError>,
    stats: ReadStats,
}

/// [`summarize_bytes`] as `plan` says; `done(end)` is told when the bytes before `end` are
/// no longer needed.
pub(super) fn summarize_slice(
    bytes: &[u8],
    filter: &ProviderFilter,
    plan: Plan,
    on_error: &mut dyn FnMut(&TraceError),
    done: &mut dyn FnMut(u64),
) -> Result<FileSummary, TraceError> {
    let mut reader = open_slice(bytes)?;
    let mut s = FileSummary::new(reader.info().clone());
    let mut stats = ReadStats::default();
    let work = |scratch: &mut Vec<u8>, buffers: &[Framed<'_>]| count_job(scratch, buffers, filter);
    let apply = |part: Part, end: u64| {
        let _ = s.merge(part.counts, &part.errors, on_error);
        stats.add(&part.stats);
        done(end);
    };
    in_order(&mut reader, plan, Vec::new, work, apply);
    s.buffers = stats.buffers;
    s.compressed_buffers = stats.compressed_buffers;
    s.buffers_with_lost_events = stats.buffers_with_lost_events;
    Ok(s)
}

/// Counts one job's buffers (`scratch`: where compressed buffers are decompressed).
fn count_job(scratch: &mut Vec<u8>, buffers: &[Framed<'_>], filter: &ProviderFilter) -> Part {
    let mut part = Part::default();
    let counted = walk_job(scratch, buffers, &mut part, |part, b| {
        let on_error = &mut |e: &TraceError| part.errors.push(e.clone());
        // The header peek's loads each wait for the one before: bring the lines in first. (The
        // decoding walk does without: it parses records whole, and warming first cost it 20 %
        // more CPU on the bench trace.)
        warm(b.data);
        part.counts.count_buffer(b, filter, on_error);
        Ok::<(), std::convert::Infallible>(())
    });
    let Ok(()) = counted;
    part
}

/// Opens each buffer of a job and hands it to `each` (a buffer that cannot be opened is an
/// error of the part); stops at the first `Err` of `each`.
fn walk_job<E>(
    scratch: &mut Vec<u8>,
    buffers: &[Framed<'_>],
    part: &mut Part,
    mut each: impl FnMut(&mut Part, &Buffer<'_>) -> Result<(), E>,
) -> Result<(), E> {
    for framed in buffers {
        let opened = match framed {
            Ok(raw) => raw
                .open(scratch, &mut part.stats)
                .map_err(|e| TraceError::etl(e, Some(raw.index()))),
            Err((e, index)) => Err(TraceError::etl(e.clone(), Some(*index))),
        };
        match opened {
            Ok(b) => each(part, &b)?,
            Err(e) => {
                part.counts.errors += 1;
                part.errors.push(e);
            }
        }
    }
    Ok(())
}

fn summarize_open<R: Read>(
    mut reader: EtlReader<R>,
    filter: &ProviderFilter,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    let mut s = FileSummary::new(reader.info().clone());
    read_buffers(&mut reader, &mut s, on_error, |s, b, on_error| {
        s.count_buffer(b, filter, on_error)
    });
    Ok(s)
}

/// Reads every buffer into `s` through `count` (a buffer that cannot be read is an error,
/// counted and given to `on_error`), then the reader's buffer counts.
fn read_buffers<R: Read>(
    reader: &mut EtlReader<R>,
    s: &mut FileSummary,
    on_error: &mut dyn FnMut(&TraceError),
    mut count: impl FnMut(&mut FileSummary, &Buffer<'_>, &mut dyn FnMut(&TraceError)),
) {
    while let Some(b) = reader.next_buffer() {
        match b {
            Ok(b) => count(s, &b, on_error),
            Err(e) => {
                s.errors += 1;
                on_error(&TraceError::etl(e, Some(reader.buffer_index())));
            }
        }
    }
    let st = reader.stats();
    s.buffers = st.buffers;
    s.compressed_buffers = st.compressed_buffers;
    s.buffers_with_lost_events = st.buffers_with_lost_events;
}

impl Default for FileSummary {
    fn default() -> Self {
        FileSummary::new(LogfileInfo::default())
    }
}

impl FileSummary {
    /// Nothing counted yet, for a file with this logfile header.
    fn new(info: LogfileInfo) -> Self {
        FileSummary {
            info,
            events: 0,
            providers: ProviderCounts::default(),
            buffers: 0,
            compressed_buffers: 0,
            buffers_with_lost_events: 0,
            errors: 0,
            first_buffer_size: 0,
            learned_names: HashMap::new(),
            decoded: None,
            decode_errors: None,
        }
    }

    /// Adds what a later part of the file counted (`errors`: those it met, in order);
    /// returns, per provider key of the part (by index), its index here.
    fn merge(
        &mut self,
        part: FileSummary,
        errors: &[TraceError],
        on_error: &mut dyn FnMut(&TraceError),
    ) -> Vec<usize> {
        errors.iter().for_each(&mut *on_error);
        self.events += part.events;
        self.errors += part.errors;
        let keys = self.providers.merge(&part.providers);
        if self.first_buffer_size == 0 {
            self.first_buffer_size = part.first_buffer_size;
        }
        for (g, n) in part.learned_names {
            self.learned_names.entry(g).or_insert(n);
        }
        keys
    }

    /// Counts the records of one buffer: the common kinds through the header peek, anything
    /// else (and any error) through the full record parser, one record at a time.
    ///
    /// The hot loop of `dump --summary` (one iteration per record): kept in one piece.
    fn count_buffer(
        &mut self,
        b: &Buffer<'_>,
        filter: &ProviderFilter,
        on_error: &mut dyn FnMut(&TraceError),
    ) {
        if self.first_buffer_size == 0 {
            self.first_buffer_size = b.disk_size;
        }
        let unfiltered = filter.is_empty();
        let data = b.data;
        let mut pos = BUFFER_HEADER_SIZE;
        while pos < data.len() {
            match peek_provider(data, pos) {
                Some((
                    adv,
                    ProviderPeek::Event {
                        guid,
                        traits: Some(t),
                    },
                )) if unfiltered => {
                    pos += adv;
                    self.events += 1;
                    let _ = self.providers.add_traits(guid, t);
                    continue;
                }
                // MetaData records name other providers: parsed whole below.
                Some((_, ProviderPeek::Classic { guid })) if guid == KTC_METADATA => {}
                Some((adv, peek)) => {
                    pos += adv;
                    let (g, n) = peeked_provider(peek);
                    self.count(filter, g, n);
                    continue;
                }
                None => {}
            }
            let (r, next) = parse_one(data, pos, b.offset);
            pos = next;
            match r {
                None => break,
                Some(Ok(rec)) => {
                    if let Record::Classic(c) = &rec {
                        if let Some((g, n)) = metadata_provider_name(c) {
                            self.learned_names.entry(g).or_insert(n);
                        }
                    }
                    let (g, n) = record_provider_bytes(&rec);
                    self.count(filter, g, n);
                }
                Some(Err(e)) => {
                    self.errors += 1;
                    on_error(&TraceError::etl(e, Some(b.index)));
                }
            }
        }
    }

    /// Counts one record of provider `(g, n)` if it passes the filter.
    #[inline(always)]
    fn count(&mut self, filter: &ProviderFilter, g: Guid, n: Option<&[u8]>) {
        if filter.is_empty() || filter.matches(&g, n.and_then(|n| core::str::from_utf8(n).ok())) {
            self.events += 1;
            self.providers.add_bytes(g, n);
        }
    }
}

/// The provider of a peeked record: its GUID and name bytes.
#[inline(always)]
fn peeked_provider(peek: ProviderPeek<'_>) -> (Guid, Option<&[u8]>) {
    match peek {
        ProviderPeek::Event { guid, traits } => (guid, traits.and_then(traits_name_bytes)),
        ProviderPeek::Kernel { hook_id } => {
            let (g, n) = kernel_provider(hook_id);
            (g, n.map(str::as_bytes))
        }
        ProviderPeek::Classic { guid } => (guid, classic_name(&guid).map(str::as_bytes)),
    }
}

/// [`summarize`], decoding every record as well (by `layouts`, the user's manifests, and what
/// the trace's `MetaData` events add on the way) to count those whose payload decodes. One
/// pass: a record met before the `MetaData` event describing it counts as not decoded (see
/// [`summarize_file_decoding`], which reads a file a second time for those).
pub fn summarize_decoding<R: Read>(
    src: R,
    filter: &ProviderFilter,
    layouts: Layouts,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    let mut decoder = PayloadDecoder::new(layouts);
    let (s, _late) = decoding_pass(open(src)?, filter, &mut decoder, on_error);
    Ok(s)
}

/// [`summarize_decoding`] a file; the records met before the `MetaData` event describing them
/// are decoded in a second pass over the file (only files with such records are read twice).
pub fn summarize_file_decoding(
    path: &Path,
    filter: &ProviderFilter,
    layouts: Layouts,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    let plan = Plan::of(Threads::Auto);
    by_plan(
        path,
        plan,
        (layouts, on_error),
        |(layouts, on_error), bytes, done| {
            decoded::summarize_slice_decoding(bytes, filter, layouts, plan, on_error, done)
        },
        |(layouts, on_error), file| {
            let reopen = || open(std::fs::File::open(path).map_err(TraceError::open)?);
            exact(open(file)?, reopen, filter, layouts, on_error)
        },
    )
}

/// The decoding summary of bytes in memory on one thread, every record decoded: the
/// reference the fast path is held to.
#[cfg(test)]
fn summarize_decoding_exact(
    bytes: &[u8],
    filter: &ProviderFilter,
    layouts: Layouts,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    exact(open(bytes)?, || open(bytes), filter, layouts, on_error)
}

/// One pass over `reader` decoding every record, a second from `reopen` for the late ones.
fn exact<R: Read, S: Read>(
    reader: EtlReader<R>,
    reopen: impl FnOnce() -> Result<EtlReader<S>, TraceError>,
    filter: &ProviderFilter,
    layouts: Layouts,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    let mut decoder = PayloadDecoder::new(layouts);
    let (mut s, late) = decoding_pass(reader, filter, &mut decoder, on_error);
    decode_late(&mut s, late, filter, &mut decoder, reopen);
    Ok(s)
}

/// [`summarize_file_decoding`] of bytes in memory: no copy, the buffers counted on every core.
pub fn summarize_bytes_decoding(
    bytes: &[u8],
    filter: &ProviderFilter,
    layouts: Layouts,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileSummary, TraceError> {
    let plan = Plan::of(Threads::Auto);
    decoded::summarize_slice_decoding(bytes, filter, layouts, plan, on_error, &mut |_| {})
}

/// The second pass of a decoding summary: of the records met before any layout described
/// their kind (`late`), those the trace's metadata describes in the end are decoded again
/// from `reopen` (not called when there are none).
fn decode_late<R: Read>(
    s: &mut FileSummary,
    mut late: LateCounts,
    filter: &ProviderFilter,
    decoder: &mut PayloadDecoder,
    reopen: impl FnOnce() -> Result<EtlReader<R>, TraceError>,
) {
    late.retain(|k, _| {
        decoder
            .layouts_mut()
            .get(k)
            .is_some_and(|l| l.source == Source::Metadata)
    });
    if !late.is_empty() {
        if let Ok(reader) = reopen() {
            recount_late(reader, filter, late, decoder, s);
        }
    }
}

/// A record's provider: its own name, else the one a layout gives it (a manifest's).
fn provider<'a>(
    rec: &Record<'a>,
    decoder: &mut PayloadDecoder,
    layout_name: &'a mut Option<std::sync::Arc<str>>,
) -> (Guid, Option<&'a [u8]>) {
    let (g, n) = record_provider_bytes(rec);
    if n.is_some() {
        return (g, n);
    }
    *layout_name = decoder.provider_name(rec);
    (g, layout_name.as_deref().map(str::as_bytes))
}

fn passes(filter: &ProviderFilter, g: &Guid, n: Option<&[u8]>) -> bool {
    filter.is_empty() || filter.matches(g, n.and_then(|n| core::str::from_utf8(n).ok()))
}

/// Per event kind, records met while nothing described the kind (a fast hash: the keys are
/// not chosen to collide).
type LateCounts = HashMap<EventKey, u64, BuildHasherDefault<WordHasher>>;

/// What a decoding pass keeps besides the summary: the records decoded and those that did not
/// fit their layout per provider, and per event kind the records met while nothing described
/// that kind (the first ones of the kind in file order: once described, a kind stays
/// described).
#[derive(Default)]
struct Decoding {
    /// Per provider key of the summary counted with it (by index in its
    /// [`FileSummary::providers`]: one lookup counts a record in both), the records decoded
    /// and those that did not fit.
    outcomes: Vec<Outcomes>,
    late: LateCounts,
    /// Per slot ([`late_slot`]), the late records of the kind last met there, not in `late`
    /// yet: records come in runs of one kind or a few kinds interleaved, and most of them are
    /// late in traces without metadata.
    runs: [Option<(EventKey, u64)>; LATE_SLOTS],
    /// `MetaData` records met (each may have added a layout).
    metadata: u64,
}

/// Of one provider's records, those that decoded and those that did not fit.
#[derive(Clone, Copy, Default)]
struct Outcomes {
    decoded: u64,
    errors: u64,
}

/// Slots of [`Decoding::runs`] (a power of two).
const LATE_SLOTS: usize = 4;

/// The slot of an event kind in [`Decoding::runs`].
#[inline(always)]
fn late_slot(k: &EventKey) -> usize {
    (k.mix() >> 62) as usize & (LATE_SLOTS - 1)
}

impl Decoding {
    /// Counts a late record of kind `k`.
    #[inline]
    fn add_late(&mut self, k: EventKey) {
        match &mut self.runs[late_slot(&k)] {
            Some((last, n)) if *last == k => *n += 1,
            run => {
                if let Some((last, n)) = run.replace((k, 1)) {
                    *self.late.entry(last).or_default() += n;
                }
            }
        }
    }

    /// The outcomes of provider key `key`.
    #[inline(always)]
    fn outcomes(&mut self, key: usize) -> &mut Outcomes {
        if key >= self.outcomes.len() {
            self.outcomes.resize(key + 1, Outcomes::default());
        }
        &mut self.outcomes[key]
    }

    /// Counts a record of provider key `key` (its index in the summary's providers) by what
    /// its check found.
    #[inline(always)]
    fn add(&mut self, decodes: Decodes, key: usize) {
        match decodes {
            Decodes::Yes => self.outcomes(key).decoded += 1,
            Decodes::No => self.outcomes(key).errors += 1,
            Decodes::Undescribed(Some(k)) => self.add_late(k),
            Decodes::Undescribed(None) => {}
        }
    }

    /// The late records per kind, with those of the runs.
    fn late(&mut self) -> LateCounts {
        for (k, n) in self.runs.iter_mut().filter_map(Option::take) {
            *self.late.entry(k).or_default() += n;
        }
        std::mem::take(&mut self.late)
    }

    /// Puts the counts per provider into `s` (the summary counted with them); returns the
    /// late records per kind.
    fn finish(mut self, s: &mut FileSummary) -> LateCounts {
        let late = self.late();
        let (mut decoded, mut errors) = (ProviderCounts::default(), ProviderCounts::default());
        for ((g, name, _, _), o) in s.providers.entries.iter().zip(&self.outcomes) {
            if o.decoded > 0 {
                decoded.add_n(*g, name.as_deref(), o.decoded);
            }
            if o.errors > 0 {
                errors.add_n(*g, name.as_deref(), o.errors);
            }
        }
        s.decoded = Some(decoded);
        s.decode_errors = Some(errors);
        late
    }

    /// Adds what a later part of the file counted; `keys`: per provider key of the part, its
    /// index in the providers this is counted with.
    fn merge(&mut self, mut part: Decoding, keys: &[usize]) {
        self.metadata += part.metadata;
        for (k, n) in part.late() {
            *self.late.entry(k).or_default() += n;
        }
        for (&key, o) in keys.iter().zip(&part.outcomes) {
            let into = self.outcomes(key);
            into.decoded += o.decoded;
            into.errors += o.errors;
        }
    }
}

/// Counts and decodes every record; returns the summary and the late records per kind.
fn decoding_pass<R: Read>(
    mut reader: EtlReader<R>,
    filter: &ProviderFilter,
    decoder: &mut PayloadDecoder,
    on_error: &mut dyn FnMut(&TraceError),
) -> (FileSummary, LateCounts) {
    let mut s = FileSummary::new(reader.info().clone());
    let mut d = Decoding::default();
    read_buffers(&mut reader, &mut s, on_error, |s, b, on_error| {
        // Learning from every `MetaData` record, the pass goes through every buffer.
        let _ = s.decode_buffer(b, filter, decoder, &mut d, on_error, Check::Decode);
    });
    let late = d.finish(&mut s);
    (s, late)
}

/// How a decoding pass tells whether a record decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// It decodes the record ([`PayloadDecoder::decode`]): the reference.
    Decode,
    /// It asks [`PayloadDecoder::decodes`] (the length decides for fixed-size kinds).
    Cheap,
    /// As `Cheap`, but it stops at the first `MetaData` record: the layouts it holds are a
    /// snapshot that must not learn (the buffers are then counted again in file order).
    CheapUntilMetadata,
}

/// A buffer's decoding stopped at a `MetaData` record ([`Check::CheapUntilMetadata`]).
struct MetInMetadata;

impl FileSummary {
    /// Counts and decodes the records of one buffer, learning from its `MetaData` events.
    fn decode_buffer(
        &mut self,
        b: &Buffer<'_>,
        filter: &ProviderFilter,
        decoder: &mut PayloadDecoder,
        d: &mut Decoding,
        on_error: &mut dyn FnMut(&TraceError),
        check: Check,
    ) -> Result<(), MetInMetadata> {
        if self.first_buffer_size == 0 {
            self.first_buffer_size = b.disk_size;
        }
        let data = b.data;
        let mut pos = BUFFER_HEADER_SIZE;
        let mut ahead = 0;
        while pos < data.len() {
            while ahead < pos + PREFETCH_AHEAD {
                prefetch(data, ahead);
                ahead += CACHE_LINE;
            }
            // The cheap checks take `EVENT_HEADER` records through the header peek; anything
            // else (and any error) goes to the full record parser.
            if check != Check::Decode {
                if let Some((adv, e)) = peek_event(data, pos, b.offset) {
                    pos += adv;
                    self.decode_event(&e, filter, decoder, d);
                    continue;
                }
            }
            let (r, next) = parse_one(data, pos, b.offset);
            pos = next;
            match r {
                None => break,
                Some(Ok(rec)) => self.decode_record(&rec, filter, decoder, d, check)?,
                Some(Err(e)) => {
                    self.errors += 1;
                    on_error(&TraceError::etl(e, Some(b.index)));
                }
            }
        }
        Ok(())
    }

    /// Counts and checks one peeked `EVENT_HEADER` record ([`Check::Cheap`]).
    #[inline(always)]
    fn decode_event(
        &mut self,
        e: &EventPeek<'_>,
        filter: &ProviderFilter,
        decoder: &mut PayloadDecoder,
        d: &mut Decoding,
    ) {
        // Copied as bytes: the field-by-field copy costs more.
        let g = Guid::read_from_bytes(e.record.header.provider_id.as_bytes()).unwrap_or_default();
        let (decodes, layout_name) = decoder.decodes_event(e);
        let key = match (e.traits, layout_name) {
            // The name is the traits' (or none, as for a record without one).
            (Some(t), None) if filter.is_empty() => self.providers.add_traits(g, t),
            (traits, layout_name) => {
                let n = traits
                    .and_then(traits_name_bytes)
                    .or(layout_name.map(str::as_bytes));
                if !passes(filter, &g, n) {
                    return;
                }
                self.providers.add_bytes(g, n)
            }
        };
        self.events += 1;
        d.add(decodes, key);
    }

    /// Counts and checks one record parsed whole, learning from a `MetaData` record.
    fn decode_record(
        &mut self,
        rec: &Record<'_>,
        filter: &ProviderFilter,
        decoder: &mut PayloadDecoder,
        d: &mut Decoding,
        check: Check,
    ) -> Result<(), MetInMetadata> {
        if let Record::Classic(c) = rec {
            if c.header.guid == KTC_METADATA {
                if check == Check::CheapUntilMetadata {
                    return Err(MetInMetadata);
                }
                d.metadata += 1;
                if let Some((g, n)) = metadata_provider_name(c) {
                    self.learned_names.entry(g).or_insert(n);
                }
                // A bad description is reported on its record, as not decoded.
                let _ = decoder
                    .layouts_mut()
                    .add_metadata(c.header.class_type, c.payload);
            }
        }
        let mut layout_name = None;
        let (g, n) = provider(rec, decoder, &mut layout_name);
        if !passes(filter, &g, n) {
            return Ok(());
        }
        self.events += 1;
        let key = self.providers.add_bytes(g, n);
        let decodes = match check {
            Check::Decode => match decoder.decode(rec) {
                Payload::Decoded { .. } => Decodes::Yes,
                Payload::Undescribed => Decodes::Undescribed(PayloadDecoder::layout_key(rec)),
                Payload::Failed { .. } => Decodes::No,
            },
            Check::Cheap | Check::CheapUntilMetadata => decoder.decodes(rec),
        };
        d.add(decodes, key);
        Ok(())
    }
}

/// The second pass of [`summarize_file_decoding`]: decodes the first `late[kind]` records of
/// each event kind again, those the first pass met before their description. Read errors were
/// counted then.
fn recount_late<R: Read>(
    mut reader: EtlReader<R>,
    filter: &ProviderFilter,
    mut late: LateCounts,
    decoder: &mut PayloadDecoder,
    s: &mut FileSummary,
) {
    let mut decoded = s.decoded.take().unwrap_or_default();
    let mut errors = s.decode_errors.take().unwrap_or_default();
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
            let mut layout_name = None;
            let (g, n) = provider(&rec, decoder, &mut layout_name);
            if !passes(filter, &g, n) {
                continue;
            }
            match decoder.decode(&rec) {
                Payload::Decoded { .. } => _ = decoded.add_bytes(g, n),
                Payload::Failed { .. } => _ = errors.add_bytes(g, n),
                Payload::Undescribed => {}
            }
        }
    }
    s.decoded = Some(decoded);
    s.decode_errors = Some(errors);
}

/// What a first pass over a trace learns from its KernelTraceControl `MetaData` events, so
/// that records before those events are named and decoded too: provider names (returned), and
/// layouts (added to `layouts`). Read errors, and descriptions that do not parse, are left to
/// the main pass (an unreadable input gives nothing).
pub fn read_metadata<R: Read>(src: R, layouts: &mut Layouts) -> HashMap<Guid, String> {
    let mut names = HashMap::new();
    let Ok(mut reader) = open(src) else {
        return names;
    };
    while let Some(b) = reader.next_buffer() {
        if let Ok(b) = b {
            learn_metadata(&b, &mut names, layouts);
        }
    }
    names
}

/// Takes what one buffer's KernelTraceControl `MetaData` records describe: provider names
/// into `names` (the first name a GUID is given stays), layouts into `layouts` (a description
/// that does not parse is left to the decoding, which reports it).
pub fn learn_metadata(b: &Buffer<'_>, names: &mut HashMap<Guid, String>, layouts: &mut Layouts) {
    for r in b.records() {
        let Ok(Record::Classic(c)) = r else { continue };
        if c.header.guid != KTC_METADATA {
            continue;
        }
        if let Some((g, n)) = metadata_provider_name(&c) {
            names.entry(g).or_insert(n);
        }
        let _ = layouts.add_metadata(c.header.class_type, c.payload);
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
