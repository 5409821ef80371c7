//! Whether payloads decode, kept per event kind and payload length for the kinds where the
//! length decides it: every field of a fixed size (numbers, GUIDs, times, pointers, fixed
//! arrays of them and structs of those), no count or length read from the payload, no string
//! that ends at a NUL. Such a payload fails exactly when it is shorter than the layout (or,
//! for a layout, longer), and both decoders' value budgets depend on the length alone.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use crate::tdh::{Count, EventKey, EventLayout, Length, PropertyKind};
use crate::tracelogging::cache::WordHasher;
use crate::tracelogging::{FieldSchema, InType, PointerSize, Schema, Shape};

/// A payload's length and the record's pointer size (pointer-sized fields vary with it).
pub(super) type Len = (usize, u8);

/// Lengths kept per kind: a fixed layout fits one length, and a trace has few others.
const MAX_LENGTHS: usize = 16;
/// Kinds kept before the memo starts again (bounds its memory).
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

/// The answers per TraceLogging schema (by address: the entry holds the schema, so the
/// address is not reused while it is kept) and per layout key.
#[derive(Default)]
pub(super) struct LengthMemo {
    schemas: Fast<usize, (Arc<Schema>, Answers)>,
    layouts: Fast<EventKey, Answers>,
}

impl LengthMemo {
    /// What a payload of `len` gives by `schema`, when known.
    pub fn schema(&mut self, schema: &Arc<Schema>, len: Len) -> Option<bool> {
        if self.schemas.len() >= MAX_KINDS {
            self.schemas.clear();
        }
        let (_, answers) = self
            .schemas
            .entry(Arc::as_ptr(schema) as usize)
            .or_insert_with(|| {
                let fixed = fixed_fields(&schema.fields);
                (
                    schema.clone(),
                    Answers {
                        fixed,
                        seen: Vec::new(),
                    },
                )
            });
        answers.get(len)
    }

    /// Keeps what a payload of `len` gave by `schema`.
    pub fn keep_schema(&mut self, schema: &Arc<Schema>, len: Len, ok: bool) {
        if let Some((_, a)) = self.schemas.get_mut(&(Arc::as_ptr(schema) as usize)) {
            a.keep(len, ok);
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

/// Every field of a fixed size (see the module doc).
fn fixed_fields(fields: &[FieldSchema]) -> bool {
    fields.iter().all(|f| {
        let shape = matches!(f.shape, Shape::Scalar | Shape::ConstArray(_));
        let size = if f.in_type == InType::Struct {
            fixed_fields(&f.members)
        } else {
            f.in_type.fixed_size(PointerSize::Eight).is_some()
        };
        shape && size
    })
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
