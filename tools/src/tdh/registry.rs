//! Every layout a trace can be decoded with, from every source, looked up by event and cached.
//!
//! Sources, first match wins: the trace's own `MetaData` events ([`Layouts::add_metadata`]),
//! those of other traces of the same session ([`Layouts::import_metadata`]: a merged trace set
//! describes the events of its other files in one of them), the user's manifests ([`Layouts::add_manifest`], in the order given), the documented MOF
//! classes ([`super::mof`]), then built-in manifests ([`Layouts::add_builtin`], for the few
//! events the tools themselves analyse). Each `TRACE_EVENT_INFO` and each manifest is parsed
//! once; a metadata layout is built on its first lookup (its value maps may arrive after it),
//! and every lookup's answer is kept, so an event kind costs one hash lookup after the first.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use super::corrections;
use super::error::LayoutError;
use super::event_info::{
    parse_event_info, parse_map_info, EventInfo, METADATA_EVENT_INFO, METADATA_MAP_INFO,
};
use super::layout::{EventLayout, ValueMap};
use super::manifest::Manifest;
use super::mof;
use crate::tracelogging::cache::WordHasher;
use crate::tracelogging::Guid;

/// Which kind of event a layout is for: a manifest event's provider GUID, id and version, or a
/// classic event's class GUID, event type and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// Provider GUID (manifest events) or MOF class GUID (classic and kernel events).
    pub guid: Guid,
    /// Event id, or event type.
    pub id: u16,
    /// Event version.
    pub version: u16,
}

impl EventKey {
    /// A key.
    pub fn new(guid: Guid, id: u16, version: u16) -> EventKey {
        EventKey { guid, id, version }
    }
}

/// The event descriptions and value maps of one trace's `MetaData` events.
#[derive(Clone, Default)]
struct Metadata {
    infos: HashMap<EventKey, EventInfo>,
    maps: HashMap<(Guid, String), Arc<ValueMap>>,
}

impl Metadata {
    /// Adds what `other` has and this does not.
    fn extend(&mut self, other: Metadata) {
        for (k, v) in other.infos {
            self.infos.entry(k).or_insert(v);
        }
        for (k, v) in other.maps {
            self.maps.entry(k).or_insert(v);
        }
    }

    /// The layout of a kind this metadata describes.
    fn layout(&self, key: &EventKey) -> Option<EventLayout> {
        let info = self.infos.get(key)?;
        let lookup = |name: &str| self.maps.get(&(info.provider, name.to_owned())).cloned();
        // The properties were checked when the event information was parsed, and maps are
        // set on integer properties only, so this does not fail.
        info.layout(&lookup).ok()
    }
}

/// The layouts of one trace (see the module doc).
#[derive(Clone, Default)]
pub struct Layouts {
    /// The trace's own `MetaData` events.
    own: Metadata,
    /// Other traces' ([`Layouts::import_metadata`]).
    imported: Metadata,
    manifests: HashMap<EventKey, Arc<EventLayout>>,
    builtin: HashMap<EventKey, Arc<EventLayout>>,
    /// Every lookup's answer (a fast hash: the keys are not chosen to collide).
    cache: HashMap<EventKey, Option<Arc<EventLayout>>, BuildHasherDefault<WordHasher>>,
    /// The last lookup: events come in runs of one kind.
    last: Option<(EventKey, Option<Arc<EventLayout>>)>,
    builds: u64,
}

impl Layouts {
    /// The MOF classes only.
    pub fn new() -> Layouts {
        Layouts::default()
    }

    /// Adds a user's manifest; an event an earlier manifest describes keeps that layout.
    pub fn add_manifest(&mut self, m: &Manifest) {
        add(&mut self.manifests, m);
        self.invalidate();
    }

    /// Adds a built-in manifest, below every other source.
    pub fn add_builtin(&mut self, m: &Manifest) {
        add(&mut self.builtin, m);
        self.invalidate();
    }

    /// Takes the payload of a KernelTraceControl `MetaData` event of this type (32: a
    /// `TRACE_EVENT_INFO`, 33: an `EVENT_MAP_INFO`); other types are ignored. The first
    /// description of an event kind is kept.
    pub fn add_metadata(&mut self, event_type: u8, payload: &[u8]) -> Result<(), LayoutError> {
        match event_type {
            METADATA_EVENT_INFO => {
                let info = parse_event_info(payload)?;
                let key = metadata_key(&info);
                self.own.infos.entry(key).or_insert(info);
            }
            METADATA_MAP_INFO => {
                if let Some((provider, name, map)) = parse_map_info(payload)? {
                    self.own
                        .maps
                        .entry((provider, name))
                        .or_insert_with(|| Arc::new(map));
                }
            }
            _ => return Ok(()),
        }
        self.invalidate();
        Ok(())
    }

    /// Takes the `MetaData` descriptions another trace's layouts hold (`other`'s own), below
    /// this trace's own: `dump --metadata-from`. Of several imports, the first description of
    /// a kind is kept.
    pub fn import_metadata(&mut self, other: Layouts) {
        self.imported.extend(other.own);
        self.invalidate();
    }

    /// The layout of an event kind, from the first source that has one.
    pub fn get(&mut self, key: &EventKey) -> Option<&Arc<EventLayout>> {
        if self.last.as_ref().map(|(k, _)| k) != Some(key) {
            let found = match self.cache.get(key) {
                Some(found) => found.clone(),
                None => {
                    let found = self.find(key);
                    self.cache.insert(*key, found.clone());
                    found
                }
            };
            self.last = Some((*key, found));
        }
        self.last.as_ref().and_then(|(_, l)| l.as_ref())
    }

    /// Forgets every answer (a source was added).
    fn invalidate(&mut self) {
        self.cache.clear();
        self.last = None;
    }

    fn find(&mut self, key: &EventKey) -> Option<Arc<EventLayout>> {
        if let Some(layout) = self.own.layout(key).or_else(|| self.imported.layout(key)) {
            self.builds += 1;
            return Some(Arc::new(corrections::correct(key, layout)));
        }
        self.manifests
            .get(key)
            .or_else(|| mof::layouts().get(key))
            .or_else(|| self.builtin.get(key))
            .cloned()
    }

    /// Event kinds the trace's own metadata describes.
    pub fn metadata_len(&self) -> usize {
        self.own.infos.len()
    }

    /// Event kinds other traces' metadata describes ([`Layouts::import_metadata`]).
    pub fn imported_metadata_len(&self) -> usize {
        self.imported.infos.len()
    }

    /// Metadata layouts built so far (each kind at most once while no metadata is added).
    pub fn builds(&self) -> u64 {
        self.builds
    }
}

/// A `TRACE_EVENT_INFO`'s key: a MOF class's GUID and event type for a classic event, else
/// the provider's GUID and event id.
fn metadata_key(info: &EventInfo) -> EventKey {
    if info.decoding_source == 1 && info.event_guid != Guid::default() {
        EventKey::new(
            info.event_guid,
            u16::from(info.opcode),
            u16::from(info.version),
        )
    } else {
        EventKey::new(info.provider, info.id, u16::from(info.version))
    }
}

fn add(into: &mut HashMap<EventKey, Arc<EventLayout>>, m: &Manifest) {
    for p in &m.providers {
        for e in &p.events {
            let key = EventKey::new(p.guid, e.id, u16::from(e.version));
            into.entry(key).or_insert_with(|| {
                Arc::new(corrections::correct(&key, EventLayout::clone(&e.layout)))
            });
        }
    }
}
