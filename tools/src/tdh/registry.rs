//! Every layout a trace can be decoded with, from every source, looked up by event and cached.
//!
//! Sources, first match wins: the trace's own `MetaData` events ([`Layouts::add_metadata`]),
//! those of other traces of the same session ([`Layouts::import_metadata`]: a merged trace set
//! describes the events of its other files in one of them), the user's manifests ([`Layouts::add_manifest`], in the order given), the documented MOF
//! classes ([`super::mof`]), then built-in manifests ([`Layouts::add_builtin`], for the few
//! events the tools themselves analyse). Each `TRACE_EVENT_INFO` and each manifest is parsed
//! once; a metadata layout is built on its first lookup (its value maps may arrive after it),
//! and every lookup's answer is kept, so an event kind costs one hash lookup after the first.
//! A `MetaData` record added later forgets only the answers it changes: those for the kind it
//! describes (a layout from a lower source, or "no layout"), or, for a value map, those of
//! the kinds whose description names that map. Files whose metadata is interleaved with
//! their events build each kind once.

use std::collections::hash_map::Entry;
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

    /// A cheap mix of the key, to pick a slot of a small cache of recent kinds (the high bits
    /// are the best mixed).
    #[inline(always)]
    pub(crate) fn mix(&self) -> u64 {
        let g: [u8; 16] = zerocopy::transmute!(self.guid);
        let half = |h: &[u8]| u64::from_le_bytes(h.try_into().unwrap_or_default());
        (half(&g[..8]) ^ half(&g[8..]).rotate_left(32) ^ u64::from(self.id) << 16)
            .wrapping_add(u64::from(self.version))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// Slots of [`Layouts::recent`] (a power of two).
const RECENT: usize = 4;

/// The event descriptions and value maps of one trace's `MetaData` events.
#[derive(Clone, Default)]
struct Metadata {
    infos: HashMap<EventKey, EventInfo>,
    maps: HashMap<(Guid, String), Arc<ValueMap>>,
}

impl Metadata {
    /// Takes an event kind's description unless it has one; whether it was new.
    fn add_info(&mut self, key: EventKey, info: EventInfo) -> bool {
        match self.infos.entry(key) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(info);
                true
            }
        }
    }

    /// Takes a provider's value map unless it has one by that name; whether it was new.
    fn add_map(&mut self, provider: Guid, name: String, map: ValueMap) -> bool {
        match self.maps.entry((provider, name)) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(Arc::new(map));
                true
            }
        }
    }

    /// The kinds whose description names `provider`'s map `name`.
    fn map_users<'a>(
        &'a self,
        provider: Guid,
        name: &'a str,
    ) -> impl Iterator<Item = EventKey> + 'a {
        self.infos
            .iter()
            .filter(move |(_, i)| i.provider == provider && i.map_names.iter().any(|m| m.1 == name))
            .map(|(k, _)| *k)
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
    /// Per slot ([`EventKey::mix`]), the last lookup there: events come in runs of one kind,
    /// or of a few kinds interleaved.
    recent: [Option<(EventKey, Option<Arc<EventLayout>>)>; RECENT],
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
                if self.own.add_info(key, info) {
                    self.forget(key);
                }
            }
            METADATA_MAP_INFO => {
                if let Some((provider, name, map)) = parse_map_info(payload)? {
                    self.add_own_map(provider, name, map);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Takes the `MetaData` descriptions another trace's layouts hold (`other`'s own), below
    /// this trace's own: `dump --metadata-from`. Of several imports, the first description of
    /// a kind is kept.
    pub fn import_metadata(&mut self, other: Layouts) {
        for (key, info) in other.own.infos {
            if self.imported.add_info(key, info) {
                self.forget(key);
            }
        }
        for ((provider, name), map) in other.own.maps {
            if self.imported.maps.contains_key(&(provider, name.clone())) {
                continue;
            }
            let users: Vec<EventKey> = self.imported.map_users(provider, &name).collect();
            self.imported.maps.insert((provider, name), map);
            users.into_iter().for_each(|k| self.forget(k));
        }
    }

    /// Adds one of the trace's own value maps; forgets the layouts built without it.
    fn add_own_map(&mut self, provider: Guid, name: String, map: ValueMap) {
        let users: Vec<EventKey> = self.own.map_users(provider, &name).collect();
        if self.own.add_map(provider, name, map) {
            users.into_iter().for_each(|k| self.forget(k));
        }
    }

    /// The layout of an event kind, from the first source that has one.
    pub fn get(&mut self, key: &EventKey) -> Option<&Arc<EventLayout>> {
        let slot = recent_slot(key);
        if self.recent[slot].as_ref().map(|(k, _)| k) != Some(key) {
            let found = match self.cache.get(key) {
                Some(found) => found.clone(),
                None => {
                    let found = self.find(key);
                    self.cache.insert(*key, found.clone());
                    found
                }
            };
            self.recent[slot] = Some((*key, found));
        }
        self.recent[slot].as_ref().and_then(|(_, l)| l.as_ref())
    }

    /// Forgets every answer (a manifest was added).
    fn invalidate(&mut self) {
        self.cache.clear();
        self.recent = Default::default();
    }

    /// Forgets the answer for one kind (metadata describing it, or a map it names, arrived).
    fn forget(&mut self, key: EventKey) {
        self.cache.remove(&key);
        let recent = &mut self.recent[recent_slot(&key)];
        if recent.as_ref().is_some_and(|(k, _)| *k == key) {
            *recent = None;
        }
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

    /// Metadata layouts built so far: each kind once, and again only when metadata that
    /// changes it (its description, or a value map it names) arrives after it was built.
    pub fn builds(&self) -> u64 {
        self.builds
    }
}

/// The slot of [`Layouts::recent`] for `key`.
#[inline(always)]
fn recent_slot(key: &EventKey) -> usize {
    (key.mix() >> 62) as usize & (RECENT - 1)
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
