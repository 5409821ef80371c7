//! Reading one trace into an [`EventSink`]: open (logfile header), walk, reorder, finish.

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

use super::decode::KnownLayouts;
use super::error::{ErrorKind, FileStart, TraceError};
use super::mapped::MappedFile;
use super::order::Orderer;
use super::parallel::{in_order, Ahead, Framed, Plan};
use super::step::Batch;
use super::walk::{walk, WalkContext, Walker};
use crate::analysis::{EventSink, TraceContext};
use crate::etl::header::{filetime_to_rfc3339, LogfileInfo};
use crate::etl::{self, EtlReader, ReadStats, SliceReader};

/// How a read uses threads. The results are the same either way (a test holds them together).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Threads {
    /// As many as help, up to the machine's cores: for one input on an otherwise idle
    /// machine.
    #[default]
    Auto,
    /// Everything on the calling thread: when inputs are read in parallel already, or for a
    /// deterministic profile.
    One,
}

/// Options of a read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// How threads are used.
    pub threads: Threads,
}

impl ReadOptions {
    /// Everything on the calling thread.
    pub fn one_thread() -> ReadOptions {
        ReadOptions {
            threads: Threads::One,
        }
    }
}

/// What reading one trace gave, besides what went to the sink.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    /// Header facts (also given to the sink).
    pub trace: TraceContext,
    /// Records read (all providers).
    pub records: u64,
    /// Events of our provider handed to the sink.
    pub events: u64,
    /// Events of our provider that could not be decoded.
    pub undecodable: u64,
    /// Kernel-PnP DriverInit events handed to the sink.
    pub pnp: u64,
    /// Events handed on after later ones (each after a loss notice).
    pub out_of_order: u64,
    /// Errors met while reading (each also given to `on_error` as it was met); the rest of
    /// the trace was read.
    pub errors: Vec<TraceError>,
}

/// Batches of steps in flight between the walking and the analysing thread.
pub const DEPTH: usize = 2;
/// Buffers whose steps go over as one batch (a hand-over per buffer costs more in thread
/// wake-ups than the work it moves).
pub const BATCH: usize = 128;

/// Bytes of an input kept to say what it looks like if it is not an ETL file.
const START_BYTES: usize = 64;

/// An input whose first bytes were read ahead by [`open`] (to say what it is if it is not
/// ETL), then the rest of it.
pub type Peeked<R> = std::io::Chain<std::io::Take<std::io::Cursor<[u8; START_BYTES]>>, R>;

/// Opens a trace for reading buffer by buffer: reads its first buffer and logfile header. An
/// input that cannot be read as ETL from the start is [`ErrorKind::NotEtl`] (with what its
/// first bytes look like); a failing read is [`ErrorKind::Etl`] with [`etl::Error::Io`].
pub fn open<R: Read>(mut src: R) -> Result<EtlReader<Peeked<R>>, TraceError> {
    let mut start = [0u8; START_BYTES];
    let n = read_up_to(&mut src, &mut start).map_err(|e| {
        let cause = etl::Error::Io {
            offset: 0,
            source: e.into(),
        };
        TraceError::etl(cause, Some(0))
    })?;
    let head = std::io::Cursor::new(start).take(n as u64);
    match EtlReader::new(head.chain(src)) {
        Ok(r) => Ok(r),
        Err(cause @ etl::Error::Io { .. }) => Err(TraceError::etl(cause, Some(0))),
        Err(cause) => {
            let start = FileStart::of(&start[..n]);
            Err(TraceError::new(ErrorKind::NotEtl { start, cause }, Some(0)))
        }
    }
}

/// [`open`] a file ([`ErrorKind::Open`] when it cannot be opened).
pub fn open_file(path: &Path) -> Result<EtlReader<Peeked<std::fs::File>>, TraceError> {
    open(std::fs::File::open(path).map_err(TraceError::open)?)
}

/// Reads until `dst` is full or the input ends; returns the bytes read.
fn read_up_to<R: Read>(src: &mut R, dst: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < dst.len() {
        match src.read(&mut dst[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The facts of the logfile header the analyses get.
pub fn trace_context(info: &LogfileInfo) -> TraceContext {
    TraceContext {
        start_since_boot_ns: (info.boot_time > 0 && info.start_time >= info.boot_time)
            .then(|| ((info.start_time - info.boot_time) as u64).saturating_mul(100)),
        start_utc: (info.start_time > 0).then(|| filetime_to_rfc3339(info.start_time)),
        events_lost: u64::from(info.events_lost),
        buffers_lost: u64::from(info.buffers_lost),
    }
}

/// Reads a trace from any [`Read`] and feeds `sink`: `begin`, the events of ours and
/// Kernel-PnP's in timestamp order with [`crate::analysis::LostEvents`] where something was
/// lost, then `finish`. `on_error` gets each error as it is met (they are in
/// [`ReadOutcome::errors`] too).
///
/// `Err` only when the input cannot be read as ETL at all (then the sink was not called);
/// a bad buffer or record loses that part and the rest is read.
pub fn read<R: Read + Send, S: EventSink>(
    src: R,
    sink: &mut S,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<ReadOutcome, TraceError> {
    let reader = open(src)?;
    Ok(read_open(reader, sink, options, on_error))
}

/// [`read`] from bytes in memory: no copy, and with [`Threads::Auto`] the buffers are walked
/// on every core (see [`super::parallel`]).
pub fn read_bytes<S: EventSink>(
    bytes: &[u8],
    sink: &mut S,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<ReadOutcome, TraceError> {
    read_slice(
        bytes,
        sink,
        Plan::of(options.threads),
        on_error,
        &mut |_| {},
    )
}

/// [`read`] from a file (`Err` with [`ErrorKind::Open`] when it cannot be opened). With
/// [`Threads::Auto`] a large regular file is read through a memory map, as
/// [`read_bytes`] reads; otherwise it is streamed.
pub fn read_file<S: EventSink>(
    path: &Path,
    sink: &mut S,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<ReadOutcome, TraceError> {
    let plan = Plan::of(options.threads);
    by_plan(
        path,
        plan,
        (sink, on_error),
        |(sink, on_error), bytes, done| read_slice(bytes, sink, plan, on_error, done),
        |(sink, on_error), file| read(file, sink, options, on_error),
    )
}

/// Opens the file at `path` and gives it, with `args`, to `mapped` as the bytes of a memory
/// map when `plan` has workers to walk them and the file is worth mapping (with the
/// `done(end)` that hands the pages before `end` back), to `streamed` otherwise.
pub(super) fn by_plan<A, T>(
    path: &Path,
    plan: Plan,
    args: A,
    mapped: impl FnOnce(A, &[u8], &mut dyn FnMut(u64)) -> Result<T, TraceError>,
    streamed: impl FnOnce(A, std::fs::File) -> Result<T, TraceError>,
) -> Result<T, TraceError> {
    let file = std::fs::File::open(path).map_err(TraceError::open)?;
    if plan.workers > 1 {
        if let Some(map) = MappedFile::new(&file) {
            return mapped(args, map.bytes(), &mut |end| map.done_before(end));
        }
    }
    streamed(args, file)
}

/// Opens a trace held in memory (see [`open`] for the errors).
pub(crate) fn open_slice(bytes: &[u8]) -> Result<SliceReader<'_>, TraceError> {
    SliceReader::new(bytes).map_err(|cause| {
        let start = FileStart::of(&bytes[..bytes.len().min(START_BYTES)]);
        TraceError::new(ErrorKind::NotEtl { start, cause }, Some(0))
    })
}

/// Reads a trace held in memory into `sink` as `plan` says; `done(end)` is told when the
/// bytes before `end` are no longer needed.
pub(super) fn read_slice<S: EventSink>(
    bytes: &[u8],
    sink: &mut S,
    plan: Plan,
    on_error: &mut dyn FnMut(&TraceError),
    done: &mut dyn FnMut(u64),
) -> Result<ReadOutcome, TraceError> {
    let mut reader = open_slice(bytes)?;
    let info = reader.info().clone();
    Ok(read_with(&info, sink, |ctx, known, ord| {
        let mut records = 0;
        // Batches applied already, emptied, for the next jobs: a fresh batch of a job's size
        // costs its pages' faults and a cross-thread free (5 % of `check`'s CPU on the bench trace).
        // They are at most the jobs in flight.
        let spare = Mutex::new(Vec::new());
        let init = || JobWalker {
            walker: Walker::decoding(ctx),
            scratch: Vec::new(),
            stats: ReadStats::default(),
        };
        let work = |w: &mut JobWalker<'_>, buffers: &[Framed<'_>]| {
            let batch = spare.lock().ok().and_then(|mut s| s.pop());
            walk_job(w, buffers, batch.unwrap_or_default())
        };
        let apply = |(mut batch, n): (Batch, u64), end: u64| {
            ord.apply(&mut batch, known, on_error);
            records += n;
            done(end);
            if let Ok(mut s) = spare.lock() {
                s.push(batch);
            }
        };
        in_order(&mut reader, plan, init, work, apply);
        records
    }))
}

/// What a thread walking jobs keeps from one job to the next.
struct JobWalker<'k> {
    walker: Walker<'k>,
    /// Where compressed buffers are decompressed.
    scratch: Vec<u8>,
    stats: ReadStats,
}

/// The steps of one job's buffers, in `batch` (empty), and the records read.
fn walk_job(w: &mut JobWalker<'_>, buffers: &[Framed<'_>], mut batch: Batch) -> (Batch, u64) {
    let (mut records, mut asked) = (0, 0);
    for (i, framed) in buffers.iter().enumerate() {
        match framed {
            Ok(raw) => match raw.open(&mut w.scratch, &mut w.stats) {
                Ok(b) => {
                    let next = match buffers.get(i + 1) {
                        Some(Ok(next)) => next.bytes,
                        _ => &[],
                    };
                    let mut ahead = Ahead::new(b.data, next, asked);
                    records += w.walker.buffer(&b, &mut batch, &mut ahead);
                    asked = ahead.into_next();
                    continue;
                }
                Err(e) => w.walker.bad_buffer(e, raw.index(), &mut batch),
            },
            Err((e, index)) => w.walker.bad_buffer(e.clone(), *index, &mut batch),
        }
        // Nothing of the buffer after a bad one was asked for.
        asked = 0;
    }
    (batch, records)
}

/// True when a second thread is worth starting.
fn two_threads(options: ReadOptions) -> bool {
    options.threads == Threads::Auto
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Reads an opened trace into `sink`.
fn read_open<R: Read + Send, S: EventSink>(
    mut reader: EtlReader<R>,
    sink: &mut S,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> ReadOutcome {
    let info = reader.info().clone();
    read_with(&info, sink, |ctx, known, ord| {
        if two_threads(options) {
            return walk_beside(&mut reader, ctx, known, ord, on_error);
        }
        let mut walker = Walker::new(ctx);
        let mut flush = |batch: &mut Batch| ord.apply(batch, known, on_error);
        let mut batch = Batch::default();
        let records = walk(&mut reader, &mut walker, &mut batch, &mut flush);
        flush(&mut batch);
        records
    })
}

/// Reads a trace whose logfile header is `info` into `sink`: tells it the trace's facts,
/// lets `walk` walk the buffers into the orderer (it returns the records read), then hands
/// on what is still held and tells the sink the trace's end.
fn read_with<S: EventSink>(
    info: &LogfileInfo,
    sink: &mut S,
    walk: impl FnOnce(WalkContext<'_>, &KnownLayouts, &mut Orderer<'_, S>) -> u64,
) -> ReadOutcome {
    let trace = trace_context(info);
    sink.begin(&trace);
    let known = KnownLayouts::default();
    let ctx = WalkContext::new(info, &known);
    let mut ord = Orderer::new(sink, info.number_of_processors);
    let records = walk(ctx, &known, &mut ord);
    finish(ord, trace, records, info)
}

/// Hands on what is still held, and tells the sink the trace's end.
fn finish<S: EventSink>(
    mut ord: Orderer<'_, S>,
    trace: TraceContext,
    records: u64,
    info: &LogfileInfo,
) -> ReadOutcome {
    ord.release_until(u64::MAX);
    let out = ReadOutcome {
        trace,
        records,
        events: ord.events,
        undecodable: ord.undecodable,
        pnp: ord.pnp,
        out_of_order: ord.out_of_order,
        errors: std::mem::take(&mut ord.errors),
    };
    let header_end = (info.end_time > info.start_time && info.start_time > 0)
        .then(|| ((info.end_time - info.start_time) as u64).saturating_mul(100));
    ord.sink.finish(header_end.unwrap_or(0).max(ord.max_ts));
    out
}

/// The walk on a second thread, handing batches of [`BATCH`] buffers' steps through a
/// channel of [`DEPTH`]; the calling thread decodes, reorders and feeds the sink.
fn walk_beside<R: Read + Send, S: EventSink>(
    reader: &mut EtlReader<R>,
    ctx: WalkContext<'_>,
    known: &KnownLayouts,
    ord: &mut Orderer<'_, S>,
    on_error: &mut dyn FnMut(&TraceError),
) -> u64 {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(DEPTH);
    std::thread::scope(|s| {
        let walker = s.spawn(move || {
            let mut walker = Walker::new(ctx);
            let mut buffers = 0usize;
            let mut flush = |batch: &mut Batch| {
                buffers += 1;
                if buffers == BATCH {
                    buffers = 0;
                    let next = Batch {
                        steps: Vec::with_capacity(batch.steps.len()),
                        bytes: Vec::with_capacity(batch.bytes.len()),
                    };
                    // A closed channel means the analysing thread panicked; the join below
                    // reports that.
                    let _ = tx.send(std::mem::replace(batch, next));
                }
            };
            let mut batch = Batch::default();
            let records = walk(reader, &mut walker, &mut batch, &mut flush);
            if !batch.steps.is_empty() {
                let _ = tx.send(batch);
            }
            records
        });
        for mut batch in rx {
            ord.apply(&mut batch, known, on_error);
        }
        walker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}
