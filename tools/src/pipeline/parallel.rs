//! Walking the buffers of a trace held in memory on several threads, with the results handed
//! on in file order.
//!
//! The calling thread frames the buffers (headers only: [`SliceReader::next_raw`]) and sends
//! them, at most [`JOB`] buffers or [`JOB_BYTES`] at a time, to worker threads that open and
//! walk them; it takes the results back in file order and applies them. At most
//! [`IN_FLIGHT`] jobs per worker are out at once, so memory is bounded by those jobs' bytes
//! and results, not by the file. A buffer is self-contained,
//! so the results are the same as on one thread (tests hold the two together).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, sync_channel, Receiver};
use std::sync::Mutex;

use crate::etl::{self, RawBuffer, SliceReader};

/// A buffer for a worker: as framed, or the error framing it gave, with its index.
pub(super) type Framed<'a> = Result<RawBuffer<'a>, (etl::Error, u64)>;

/// Buffers a job holds at most (a hand-over per buffer costs more in thread wake-ups than it
/// moves).
pub const JOB: usize = 128;
/// Bytes a job holds at most (its buffers stay resident until its results are applied).
pub const JOB_BYTES: u64 = 4 << 20;
/// Jobs out at once per worker: enough that a worker still has one queued while the calling
/// thread applies a long result (with two, `export`'s worker waited for jobs and the export
/// of the bench trace took 8 % longer; eight were no faster than four).
pub const IN_FLIGHT: usize = 4;

/// The threads worth using for one input: one per core (the calling thread, which frames and
/// applies, walks jobs too when it would otherwise wait).
pub(super) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How a trace in memory is walked: on how many threads, how many buffers a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// Worker threads (1: on the calling thread).
    pub workers: usize,
    /// Buffers a job.
    pub job: usize,
}

impl Plan {
    /// The plan for one input read with these options.
    pub fn of(threads: super::Threads) -> Plan {
        let workers = match threads {
            super::Threads::Auto => workers(),
            super::Threads::One => 1,
        };
        Plan { workers, job: JOB }
    }
}

/// Runs `work` over every buffer of `reader` on `plan.workers` threads (each with its own
/// state from `init`), `plan.job` buffers at a time, and hands each job's result, in file
/// order, to `apply` with the file offset its buffers end at. With one worker everything
/// runs on the calling thread.
pub(super) fn in_order<'a, W, R: Send>(
    reader: &mut SliceReader<'a>,
    plan: Plan,
    init: impl Fn() -> W + Sync,
    work: impl Fn(&mut W, &[Framed<'a>]) -> R + Sync,
    mut apply: impl FnMut(R, u64),
) {
    let mut state = init();
    if plan.workers <= 1 {
        loop {
            let (buffers, end) = take_job(reader, plan.job);
            if buffers.is_empty() {
                return;
            }
            apply(work(&mut state, &buffers), end);
        }
    }
    let cap = (plan.workers * IN_FLIGHT) as u64;
    let (job_tx, job_rx) = sync_channel::<(u64, Vec<Framed<'a>>)>(cap as usize);
    let mut job_tx = Some(job_tx);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = channel::<(u64, std::thread::Result<R>)>();
    std::thread::scope(|s| {
        // The calling thread is one of the workers: it walks jobs too while the next
        // result in order is not ready.
        for _ in 1..plan.workers {
            let done_tx = done_tx.clone();
            let (job_rx, init, work) = (&job_rx, &init, &work);
            s.spawn(move || {
                let mut state = init();
                loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, buffers))) = job else { break };
                    let result = catch_unwind(AssertUnwindSafe(|| work(&mut state, &buffers)));
                    if done_tx.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut ends = BTreeMap::new();
        let mut results: BTreeMap<u64, R> = BTreeMap::new();
        let (mut sent, mut next, mut more) = (0u64, 0u64, true);
        loop {
            while more && sent - next < cap {
                let (buffers, end) = take_job(reader, plan.job);
                let Some(tx) = job_tx.as_ref().filter(|_| !buffers.is_empty()) else {
                    more = false;
                    break;
                };
                ends.insert(sent, end);
                // Workers end only when the jobs channel closes, below.
                let _ = tx.send((sent, buffers));
                sent += 1;
            }
            if next == sent {
                break;
            }
            if !results.contains_key(&next) {
                match next_result(&job_rx, &done_rx, &mut state, &work) {
                    Some((seq, Ok(r))) => {
                        results.insert(seq, r);
                    }
                    Some((_, Err(panic))) => {
                        job_tx = None;
                        resume_unwind(panic);
                    }
                    None => break,
                }
            }
            while let Some(r) = results.remove(&next) {
                apply(r, ends.remove(&next).unwrap_or(0));
                next += 1;
            }
        }
        job_tx = None;
    });
}

/// A job's result: one a worker finished, or, when none is and a job is still queued, one
/// walked here. `None` when every worker is gone.
fn next_result<'a, W, R>(
    jobs: &Mutex<Receiver<(u64, Vec<Framed<'a>>)>>,
    done: &Receiver<(u64, std::thread::Result<R>)>,
    state: &mut W,
    work: &impl Fn(&mut W, &[Framed<'a>]) -> R,
) -> Option<(u64, std::thread::Result<R>)> {
    if let Ok(finished) = done.try_recv() {
        return Some(finished);
    }
    // A worker holding the lock is waiting for a job: then none is queued.
    let queued = jobs.try_lock().ok().and_then(|rx| rx.try_recv().ok());
    match queued {
        Some((seq, buffers)) => Some((seq, Ok(work(state, &buffers)))),
        None => done.recv().ok(),
    }
}

/// Reads one byte of every cache line of `data`, so that the walk after it finds the lines in
/// the cache. These loads do not depend on each other, so the processor has many lines in
/// flight at once; the walk's own loads each wait for the one before (a record's position is
/// in the record before it), which makes a walk of memory-mapped bytes that are not in the
/// cache yet several times slower than the walk of a buffer just copied in.
pub(super) fn warm(data: &[u8]) {
    let mut x = 0u8;
    for line in data.chunks(super::mapped::CACHE_LINE) {
        x ^= line[0];
    }
    std::hint::black_box(x);
}

/// How far ahead of the walk cache lines are asked for: far enough that a line arrives
/// before the walk gets there (the memory's latency at the walk's pace is a few kilobytes),
/// near enough that it is still in the first-level cache then (measured on the bench trace:
/// 2 to 8 KiB alike, 32 KiB no better than no prefetch).
pub(super) const AHEAD: usize = 4 << 10;

/// Asks for the cache lines of a buffer being walked [`AHEAD`] bytes before the walk reaches
/// them, running on into the buffer walked next ([`super::mapped::prefetch`]).
pub(super) struct Ahead<'a> {
    this: &'a [u8],
    next: &'a [u8],
    /// Bytes of `this`, then of `next`, whose lines were asked for.
    upto: usize,
}

impl<'a> Ahead<'a> {
    /// For a walk of `this` then `next`, the first `asked` bytes of `this` asked for already.
    pub fn new(this: &'a [u8], next: &'a [u8], asked: usize) -> Self {
        Ahead {
            this,
            next,
            upto: asked,
        }
    }

    /// No prefetching (bytes just copied in are in the cache already).
    pub fn off() -> Ahead<'static> {
        Ahead {
            this: &[],
            next: &[],
            upto: usize::MAX,
        }
    }

    /// The walk reached `pos` in `this`: asks for the lines up to [`AHEAD`] bytes on.
    #[inline(always)]
    pub fn walked_to(&mut self, pos: usize) {
        while self.upto < pos.saturating_add(AHEAD) {
            let at = self.upto;
            match at.checked_sub(self.this.len()) {
                None => super::mapped::prefetch(self.this, at),
                Some(in_next) => super::mapped::prefetch(self.next, in_next),
            }
            self.upto += super::mapped::CACHE_LINE;
        }
    }

    /// Bytes of `next` asked for already.
    pub fn into_next(self) -> usize {
        self.upto.saturating_sub(self.this.len())
    }
}

/// The next `job` buffers of `reader` (fewer if they reach [`JOB_BYTES`]) and the file
/// offset after them.
fn take_job<'a>(reader: &mut SliceReader<'a>, job: usize) -> (Vec<Framed<'a>>, u64) {
    let mut buffers = Vec::with_capacity(job);
    let (mut start, mut end) = (None, 0);
    while buffers.len() < job && end - start.unwrap_or(end) < JOB_BYTES {
        let Some(next) = reader.next_raw() else { break };
        buffers.push(match next {
            Ok(raw) => {
                start.get_or_insert(raw.offset());
                end = raw.offset() + raw.bytes.len() as u64;
                Ok(raw)
            }
            Err(e) => Err((e, reader.buffer_index())),
        });
    }
    (buffers, end)
}
