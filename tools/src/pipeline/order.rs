//! Timestamp order: ETW buffers are per processor, so events of ours arrive out of order
//! across buffers. They wait in one queue per processor (each stays sorted by appending) and
//! are handed to the sink once every processor that wrote in the last [`WINDOW`] buffers has
//! moved past them (the watermark, updated at each [`Step::BufferEnd`]); an event that still
//! arrives after later ones were handed on goes on anyway, after a [`LostEvents`] notice.

use std::collections::{HashMap, VecDeque};

use super::decode::{decode_general_parts, decode_known, KnownLayouts};
use super::error::{ErrorKind, TraceError};
use super::step::{At, Batch, Item, KnownEvent, Step};
use super::walk::WINDOW;
use crate::analysis::{EventSink, LostEvents, TraceEvent};
use crate::tracelogging::SchemaCache;

/// Most events held for reordering (a safety bound; the window normally keeps it far lower).
pub const MAX_HELD: usize = 1 << 20;

/// Events waiting for the watermark, one queue per processor (a processor's buffers are in
/// time order, so each queue stays sorted by appending) plus one for losses found outside
/// any buffer; releasing takes the smallest head across the queues (a k-way merge).
pub(super) struct Orderer<'s, S: EventSink> {
    pub(super) sink: &'s mut S,
    queues: Vec<VecDeque<(u64, u64, Item)>>,
    held: usize,
    seq: u64,
    last_out: u64,
    pub(super) out_of_order: u64,
    pub(super) events: u64,
    pub(super) pnp: u64,
    pub(super) undecodable: u64,
    pub(super) errors: Vec<TraceError>,
    cache: SchemaCache,
    /// Per processor: (latest time seen, index of its latest buffer). Processors the header
    /// announces but that have not written yet hold events back too (as if seen at time 0
    /// before the first buffer), until the window passes.
    cpus: HashMap<u16, (u64, u64)>,
    /// Readable buffers so far.
    buffers: u64,
    /// The latest time of any buffer.
    pub(super) max_ts: u64,
}

/// The queue for items found outside any buffer (unreadable buffers).
const NO_CPU: usize = 0;

impl<'s, S: EventSink> Orderer<'s, S> {
    /// An orderer feeding `sink`, for a trace whose header announces `processors`.
    pub(super) fn new(sink: &'s mut S, processors: u32) -> Self {
        Orderer {
            cpus: (0..processors.min(4096))
                .map(|c| (c as u16, (0, 0)))
                .collect(),
            buffers: 0,
            max_ts: 0,
            sink,
            queues: vec![VecDeque::new()],
            held: 0,
            seq: 0,
            last_out: 0,
            out_of_order: 0,
            events: 0,
            pnp: 0,
            undecodable: 0,
            errors: Vec::new(),
            cache: SchemaCache::new(),
        }
    }

    /// Queues an item of processor `cpu` (`None`: not from a buffer).
    fn push(&mut self, cpu: Option<u16>, ts: u64, item: Item) {
        self.seq += 1;
        let q = cpu.map_or(NO_CPU, |c| usize::from(c) + 1);
        if q >= self.queues.len() {
            self.queues.resize_with(q + 1, VecDeque::new);
        }
        let queue = &mut self.queues[q];
        if queue.back().is_none_or(|b| b.0 <= ts) {
            queue.push_back((ts, self.seq, item));
        } else {
            // Not in order within its processor (clock adjustments): keep the queue sorted.
            let at = queue.partition_point(|e| e.0 <= ts);
            queue.insert(at, (ts, self.seq, item));
        }
        self.held += 1;
        if self.held > MAX_HELD {
            self.pop();
        }
    }

    /// The queue whose head comes first, that head's time, and the (time, sequence) of the
    /// head that comes next among the other queues' (`u64::MAX` twice when they are empty).
    fn first(&self) -> Option<(usize, u64, (u64, u64))> {
        let mut best: Option<(usize, (u64, u64))> = None;
        let mut next = (u64::MAX, u64::MAX);
        for (i, q) in self.queues.iter().enumerate() {
            if let Some(&(ts, seq, _)) = q.front() {
                match best {
                    Some((_, b)) if b < (ts, seq) => next = next.min((ts, seq)),
                    _ => {
                        if let Some((_, b)) = best {
                            next = next.min(b);
                        }
                        best = Some((i, (ts, seq)));
                    }
                }
            }
        }
        best.map(|(i, (ts, _))| (i, ts, next))
    }

    fn pop(&mut self) {
        if let Some((q, _, _)) = self.first() {
            self.pop_run(q, 1);
        }
    }

    /// Hands on the first `n` items of queue `q` by reference, then drops them in place
    /// (moving each out of the queue first was a visible share of the Orderer's time).
    fn pop_run(&mut self, q: usize, n: usize) {
        let mut queue = std::mem::take(&mut self.queues[q]);
        let n = n.min(queue.len());
        for (ts, _, item) in queue.range(..n) {
            self.hand_on(*ts, item);
        }
        queue.drain(..n);
        self.held -= n;
        self.queues[q] = queue;
    }

    /// Hands one item on to the sink.
    fn hand_on(&mut self, ts: u64, item: &Item) {
        if ts < self.last_out {
            self.out_of_order += 1;
            if matches!(item, Item::Wsk(_)) {
                self.sink.lost(&LostEvents {
                    ts_ns: Some(ts),
                    count: 0,
                    what: "an event arrived out of timestamp order".to_string(),
                });
            }
        }
        self.last_out = self.last_out.max(ts);
        match item {
            Item::Wsk(ev) => {
                self.events += 1;
                self.sink.event(ev);
            }
            Item::Pnp(p) => {
                self.pnp += 1;
                self.sink.pnp(p);
            }
            Item::Lost(l) => self.sink.lost(l),
        }
    }

    /// Carries out the steps of `batch`, in order, and empties it.
    pub(super) fn apply(
        &mut self,
        batch: &mut Batch,
        known: &KnownLayouts,
        on_error: &mut dyn FnMut(&TraceError),
    ) {
        for step in batch.steps.drain(..) {
            match step {
                Step::Push { cpu, ts, item } => self.place(cpu, ts, item),
                Step::BufferEnd { cpu, latest } => self.buffer_end(cpu, latest),
                Step::Error(e) => {
                    on_error(&e);
                    self.errors.push(e);
                }
                Step::Undecodable { cpu, ts, error } => self.undecodable(cpu, ts, error, on_error),
                Step::Known(k) => self.known(&k, &batch.bytes[k.payload.clone()], known, on_error),
            }
        }
        batch.bytes.clear();
    }

    /// Decodes an event of ours with a known layout (the general decoder if the payload does
    /// not fit the layout exactly) and queues it.
    fn known(
        &mut self,
        k: &KnownEvent,
        payload: &[u8],
        known: &KnownLayouts,
        on_error: &mut dyn FnMut(&TraceError),
    ) {
        let (meta, layout) = &known.metas[k.layout];
        let event = decode_known(layout, payload).map_or_else(
            || decode_general_parts(meta, k.opcode, payload, k.ptr, &mut self.cache),
            Ok,
        );
        match event {
            Ok(event) => self.push(
                Some(k.cpu),
                k.ts,
                Item::Wsk(TraceEvent {
                    ts_ns: k.ts,
                    tid: k.tid,
                    activity: k.activity,
                    event,
                }),
            ),
            Err(failure) => {
                let kind = ErrorKind::Event {
                    offset: k.offset,
                    failure,
                };
                let error = TraceError::new(kind, Some(k.buffer));
                self.undecodable(k.cpu, k.ts, error, on_error);
            }
        }
    }

    fn undecodable(
        &mut self,
        cpu: u16,
        ts: u64,
        error: TraceError,
        on_error: &mut dyn FnMut(&TraceError),
    ) {
        self.undecodable += 1;
        on_error(&error);
        self.push(
            Some(cpu),
            ts,
            Item::Lost(LostEvents {
                ts_ns: Some(ts),
                count: 1,
                what: error.to_string(),
            }),
        );
        self.errors.push(error);
    }

    /// Queues an item at the time its step gives; a loss placed in time carries that time.
    fn place(&mut self, cpu: Option<u16>, at: At, mut item: Item) {
        let ts = match at {
            At::Exact(ts) => ts,
            At::AfterCpu(ts) => ts.max(self.cpu_time(cpu)),
            At::LastOut => self.last_out,
        };
        if let (Item::Lost(lost), At::Exact(_) | At::AfterCpu(_)) = (&mut item, at) {
            lost.ts_ns = Some(ts);
        }
        self.push(cpu, ts, item);
    }

    /// The latest time of processor `cpu`'s buffers so far.
    fn cpu_time(&self, cpu: Option<u16>) -> u64 {
        cpu.and_then(|c| self.cpus.get(&c)).map_or(0, |c| c.0)
    }

    /// A buffer of `cpu` ended at `latest`: the processor moved on, and everything before
    /// the processors' earliest recent time goes to the sink.
    fn buffer_end(&mut self, cpu: u16, latest: Option<u64>) {
        self.buffers += 1;
        let ts = self.cpu_time(Some(cpu)).max(latest.unwrap_or(0));
        self.max_ts = self.max_ts.max(ts);
        self.cpus.insert(cpu, (ts, self.buffers));
        let index = self.buffers;
        let watermark = self
            .cpus
            .values()
            .filter(|(_, i)| i + WINDOW > index)
            .map(|(t, _)| *t)
            .min()
            .unwrap_or(0);
        self.release_until(watermark);
    }

    /// Hands on every item up to `watermark`.
    pub(super) fn release_until(&mut self, watermark: u64) {
        if self.held == 0 {
            return;
        }
        while let Some((q, ts, next)) = self.first() {
            if ts > watermark {
                break;
            }
            // The queue's next items go on too while they come before every other queue's
            // head: one scan of the queues per run of a processor's events, not per event.
            let run = 1 + self.queues[q]
                .iter()
                .skip(1)
                .take_while(|&&(ts, seq, _)| ts <= watermark && (ts, seq) <= next)
                .count();
            self.pop_run(q, run);
        }
    }
}
