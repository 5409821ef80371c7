//! The decoding summary of a trace in memory, on every core.
//!
//! Whether a record decodes depends on the layouts the `MetaData` records before it added, so
//! the walk is a sequence in principle. The workers walk jobs of buffers with a snapshot of
//! the layouts applied so far (and its version), checking each record cheaply
//! ([`PayloadDecoder::decodes`]); a job is taken as it was walked when its snapshot is still
//! the current one once every job before it is applied, and it held no `MetaData` record.
//! Any other job (one with `MetaData` records, and those walked with a snapshot that turned
//! out old) is walked again, in file order, on the calling thread, which learns from its
//! `MetaData` records and publishes the new layouts. Traces carry their metadata in a few
//! buffers, so few jobs are walked twice; the counts are those of the one-thread pass (a test
//! holds them together).

use std::sync::RwLock;

use super::{
    decode_late, open, open_slice, walk_job, Check, Decoding, FileSummary, Part, ProviderFilter,
};
use crate::etl::ReadStats;
use crate::payload::PayloadDecoder;
use crate::pipeline::error::TraceError;
use crate::pipeline::parallel::{in_order, Framed, Plan};
use crate::tdh::Layouts;

/// The layouts the workers decode by, and their version (one more each time they change).
type Snapshot = RwLock<(u64, Layouts)>;

/// A worker's state: its decoder, the version of the layouts it holds, its scratch memory.
struct Worker {
    version: Option<u64>,
    decoder: PayloadDecoder,
    scratch: Vec<u8>,
}

impl Worker {
    /// Takes the current layouts if they changed since the last job.
    fn sync(&mut self, snapshot: &Snapshot) -> u64 {
        let current = snapshot.read().unwrap_or_else(|e| e.into_inner());
        if self.version != Some(current.0) {
            self.decoder.set_layouts(current.1.clone());
            self.version = Some(current.0);
        }
        current.0
    }
}

/// A walked job: the counts (`None` when it met a `MetaData` record), the version of the
/// layouts they are by, and the buffers, to walk them again.
struct Job<'a> {
    part: Option<Part>,
    version: u64,
    buffers: Vec<Framed<'a>>,
}

/// [`super::summarize_bytes_decoding`] as `plan` says; `done(end)` is told when the bytes
/// before `end` are no longer needed.
pub(in crate::pipeline) fn summarize_slice_decoding<'a>(
    bytes: &'a [u8],
    filter: &ProviderFilter,
    layouts: Layouts,
    plan: Plan,
    on_error: &mut dyn FnMut(&TraceError),
    done: &mut dyn FnMut(u64),
) -> Result<FileSummary, TraceError> {
    let mut reader = open_slice(bytes)?;
    let mut s = FileSummary::new(reader.info().clone());
    let mut decoder = PayloadDecoder::new(layouts);
    let snapshot: Snapshot = RwLock::new((0, decoder.layouts().clone()));
    let mut d = Decoding::default();
    let mut stats = ReadStats::default();
    let mut scratch = Vec::new();
    let init = || Worker {
        version: None,
        decoder: PayloadDecoder::new(Layouts::new()),
        scratch: Vec::new(),
    };
    let work = |w: &mut Worker, buffers: &[Framed<'a>]| -> Job<'a> {
        let version = w.sync(&snapshot);
        let mut part = Part::default();
        let walked = walk_job(&mut w.scratch, buffers, &mut part, |part, b| {
            let on_error = &mut |e: &TraceError| part.errors.push(e.clone());
            let check = Check::CheapUntilMetadata;
            let d = &mut part.decoding;
            part.counts
                .decode_buffer(b, filter, &mut w.decoder, d, on_error, check)
        });
        Job {
            part: walked.is_ok().then_some(part),
            version,
            buffers: buffers.to_vec(),
        }
    };
    let apply = |job: Job<'a>, end: u64| {
        let version = snapshot.read().unwrap_or_else(|e| e.into_inner()).0;
        let part = match job.part {
            Some(part) if job.version == version => part,
            _ => {
                let part = walk_in_order(&mut scratch, &job.buffers, filter, &mut decoder);
                if part.decoding.metadata > 0 {
                    *snapshot.write().unwrap_or_else(|e| e.into_inner()) =
                        (version + 1, decoder.layouts().clone());
                }
                part
            }
        };
        let keys = s.merge(part.counts, &part.errors, on_error);
        d.merge(part.decoding, &keys);
        stats.add(&part.stats);
        done(end);
    };
    in_order(&mut reader, plan, init, work, apply);
    s.buffers = stats.buffers;
    s.compressed_buffers = stats.compressed_buffers;
    s.buffers_with_lost_events = stats.buffers_with_lost_events;
    let late = d.finish(&mut s);
    decode_late(&mut s, late, filter, &mut decoder, || open(bytes));
    Ok(s)
}

/// Walks a job on the calling thread with the layouts of everything before it, learning from
/// its `MetaData` records.
fn walk_in_order(
    scratch: &mut Vec<u8>,
    buffers: &[Framed<'_>],
    filter: &ProviderFilter,
    decoder: &mut PayloadDecoder,
) -> Part {
    let mut part = Part::default();
    let walked = walk_job(scratch, buffers, &mut part, |part, b| {
        let on_error = &mut |e: &TraceError| part.errors.push(e.clone());
        let d = &mut part.decoding;
        part.counts
            .decode_buffer(b, filter, decoder, d, on_error, Check::Cheap)
    });
    // `Check::Cheap` walks every record.
    debug_assert!(walked.is_ok());
    part
}
