//! What the walk over a file's buffers ([`super::walk`]) hands, in file order, to the side
//! that decodes, reorders and feeds the sink ([`super::order`]). The steps are the same
//! whether the two run on one thread or two, so the results are too.

use std::ops::Range;

use super::error::TraceError;
use crate::analysis::{LostEvents, PnpDriverInit, TraceEvent};
use crate::tracelogging::PointerSize;

/// An item waiting in the reorder queues.
pub(super) enum Item {
    /// An event of our provider.
    Wsk(TraceEvent),
    /// A Kernel-PnP DriverInit event.
    Pnp(PnpDriverInit),
    /// Events lost here.
    Lost(LostEvents),
}

/// When a queued item happened, as the walk of its buffer knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum At {
    /// At this time (nanoseconds since the trace start).
    Exact(u64),
    /// At the latest time of its processor: that of its earlier buffers, or this one if later
    /// (a loss inside a buffer, placed after what was read before it).
    AfterCpu(u64),
    /// At the latest time handed on so far (a loss outside any readable buffer).
    LastOut,
}

/// One step of the walk.
pub(super) enum Step {
    /// Queue `item` for reordering.
    Push {
        /// Processor of the buffer (`None`: not from a readable buffer).
        cpu: Option<u16>,
        /// When.
        ts: At,
        /// What to queue (a loss gets the time it is queued at).
        item: Item,
    },
    /// The end of a readable buffer of processor `cpu` whose latest record is at `latest`
    /// (`None`: no record with a time): the processor has moved on to there.
    BufferEnd {
        /// Processor of the buffer.
        cpu: u16,
        /// Nanoseconds since the trace start.
        latest: Option<u64>,
    },
    /// An error to report, in its place among the events.
    Error(TraceError),
    /// An event of ours that could not be decoded.
    Undecodable {
        /// Processor of the buffer.
        cpu: u16,
        /// Nanoseconds since the trace start.
        ts: u64,
        /// Why.
        error: TraceError,
    },
    /// An event of ours with a known layout, still to be decoded.
    Known(KnownEvent),
}

/// An event of ours with a known layout, decoded by the side that feeds the sink.
pub(super) struct KnownEvent {
    /// Processor of the buffer.
    pub cpu: u16,
    /// Nanoseconds since the trace start.
    pub ts: u64,
    /// Thread id.
    pub tid: u32,
    /// Activity id.
    pub activity: [u8; 16],
    /// Index in [`super::decode::KnownLayouts`].
    pub layout: usize,
    /// Event opcode.
    pub opcode: u8,
    /// Pointer size of the producer.
    pub ptr: PointerSize,
    /// File offset of the record (for messages).
    pub offset: u64,
    /// Index of its buffer (for messages).
    pub buffer: u64,
    /// The payload, in [`Batch::bytes`].
    pub payload: Range<usize>,
}

/// Steps of one or more buffers, and the payloads they refer to.
#[derive(Default)]
pub(super) struct Batch {
    /// The steps, in file order.
    pub steps: Vec<Step>,
    /// Payloads of [`Step::Known`] steps.
    pub bytes: Vec<u8>,
}
