//! Whether payloads decode, answered without decoding where that can be: by a TraceLogging
//! schema's [`LengthCheck`] (compiled once per schema met), and for a layout, kept per event
//! kind and payload length for the kinds where the length decides it: every field of a fixed
//! size (numbers, GUIDs, times, pointers, fixed arrays of them and structs of those), no count
//! or length read from the payload, no string that ends at a NUL. Such a payload fails exactly
//! when it is shorter than the layout or longer, and the decoder's value budget depends on
//! the length alone.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use crate::tdh::{Count, EventKey, EventLayout, Length, PropertyKind};
use crate::tracelogging::cache::WordHasher;
use crate::tracelogging::{self, LengthCheck, PointerSize, Schema, SchemaCache};

/// A payload's length and the record's pointer size (pointer-sized fields vary with it).
pub(super) type Len = (usize, u8);

/// Lengths kept per kind: a fixed layout fits one length, and a trace has few others.
const MAX_LENGTHS: usize = 16;
/// Layout kinds kept before the memo starts again (bounds its memory).
const MAX_KINDS: usize = 4096;

type Fast<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// One event kind's answers.
#[derive(Default)]
struct Answers {
    /// The length decides (else every payload is decoded).
    fixed: bool,
    seen: Vec<(Len, bool)>,
}

impl Answers {
    fn get(&self, len: Len) -> Option<bool> {
        if !self.fixed {
            return None;
        }
        self.seen.iter().find(|(l, _)| *l == len).map(|&(_, ok)| ok)
    }

    fn keep(&mut self, len: Len, ok: bool) {
        if self.fixed && self.seen.len() < MAX_LENGTHS {
            self.seen.push((len, ok));
        }
    }
}

/// A TraceLogging schema met recently: its metadata bytes (the key, compared whole on every
/// hit), the schema (`None`: the metadata does not parse) and its checks for events of
/// pointer size 4 and 8.
struct Recent {
    meta: Box<[u8]>,
    schema: Option<Arc<Schema>>,
    checks: [Option<LengthCheck>; 2],
}

impl Recent {
    fn new(meta: &[u8], schemas: &mut SchemaCache) -> Recent {
        let schema = schemas.get(meta).ok().cloned();
        let check = |ptr| schema.as_deref().and_then(|s| LengthCheck::of(s, ptr));
        Recent {
            meta: meta.into(),
            checks: [check(PointerSize::Four), check(PointerSize::Eight)],
            schema,
        }
    }
}

/// Sets of two slots for the recent schemas (a power of two): a trace's events have a few
/// dozen distinct schemas, interleaved.
const RECENT: usize = 64;

/// The checks per TraceLogging schema, in [`RECENT`] sets of two slots chosen by a few words
/// of the metadata (a new schema takes the first slot, the one there moves to the second,
/// the one there is given over: the [`SchemaCache`] behind holds every schema parsed), and
/// the answers per layout key.
#[derive(Default)]
pub(super) struct LengthMemo {
    recent: Vec<[Option<Recent>; 2]>,
    layouts: Fast<EventKey, Answers>,
}

/// The set of `meta`: its length and three of its words mixed (a miss only costs a lookup
/// in the [`SchemaCache`]).
#[inline]
fn slot(meta: &[u8]) -> usize {
    let n = meta.len();
    // Words read whole (a copy of a variable length is a call): a shorter blob is its length.
    let word = |at: usize| {
        meta.get(at..)
            .and_then(<[u8]>::first_chunk::<8>)
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    let h = (word(0) ^ word(n / 2).rotate_left(21) ^ word(n.saturating_sub(8)).rotate_left(42))
        .wrapping_add(n as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 58) as usize & (RECENT - 1)
}

impl LengthMemo {
    /// Whether `payload` (of an event of pointer size `ptr`) decodes by the TraceLogging
    /// metadata `meta` (parsed through `schemas` on first sight): by the schema's
    /// [`LengthCheck`] where it has one, else by [`tracelogging::validate`].
    pub fn tracelogging(
        &mut self,
        meta: &[u8],
        payload: &[u8],
        ptr: PointerSize,
        schemas: &mut SchemaCache,
    ) -> bool {
        if self.recent.is_empty() {
            self.recent.resize_with(RECENT, Default::default);
        }
        let set = &mut self.recent[slot(meta)];
        let holds = |r: &Option<Recent>| r.as_ref().is_some_and(|r| *r.meta == *meta);
        let i = if holds(&set[0]) {
            0
        } else if holds(&set[1]) {
            1
        } else {
            set[1] = set[0].replace(Recent::new(meta, schemas));
            0
        };
        let Some(Recent {
            schema: Some(schema),
            checks,
            ..
        }) = &set[i]
        else {
            return false;
        };
        let check = &checks[usize::from(ptr == PointerSize::Eight)];
        match check.as_ref().and_then(|c| c.fits(payload)) {
            Some(ok) => ok,
            None => tracelogging::validate(schema, payload, ptr).is_ok(),
        }
    }

    /// What a payload of `len` gives by `layout` (the layout of `key`), when known.
    pub fn layout(&mut self, key: &EventKey, layout: &EventLayout, len: Len) -> Option<bool> {
        if self.layouts.len() >= MAX_KINDS {
            self.layouts.clear();
        }
        self.layouts
            .entry(*key)
            .or_insert_with(|| Answers {
                fixed: fixed_layout(layout),
                seen: Vec::new(),
            })
            .get(len)
    }

    /// Keeps what a payload of `len` gave by the layout of `key`.
    pub fn keep_layout(&mut self, key: EventKey, len: Len, ok: bool) {
        if let Some(a) = self.layouts.get_mut(&key) {
            a.keep(len, ok);
        }
    }

    /// Forgets the layout answers (the layouts changed).
    pub fn forget_layouts(&mut self) {
        self.layouts.clear();
    }
}

/// Every property of a fixed size, no count or length read from another (see the module doc).
fn fixed_layout(layout: &EventLayout) -> bool {
    !layout.has_references()
        && layout.properties().iter().all(|p| {
            let count = !matches!(p.count, Count::Property(_));
            let size = match &p.kind {
                PropertyKind::Struct { .. } => true,
                PropertyKind::Value { in_type, .. } => {
                    p.length == Length::Natural && in_type.fixed_size(PointerSize::Eight).is_some()
                }
            };
            count && size
        })
}
