//! A cache of parsed schemas, keyed by the metadata bytes.
//!
//! Every event of a TraceLogging provider carries its metadata, and events repeat it: the
//! ebpf-for-windows corpus file has 13841 events but a few dozen distinct schemas. The cache
//! parses each distinct blob once. Lookups first compare with the last blob seen (events of
//! one kind often come in runs), then hash. Memory is bounded: when the stored metadata
//! exceeds [`SchemaCache::DEFAULT_BYTE_LIMIT`] (or the limit given), the cache is cleared.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::error::Result;
use super::schema::Schema;

/// FNV-1a over 8-byte words: fast for short keys and good enough for a cache whose keys
/// are not chosen to collide (a collision only costs a comparison).
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Entry = Result<Arc<Schema>>;

/// Parsed schemas by metadata bytes (parse errors are cached too).
pub struct SchemaCache {
    map: HashMap<Arc<[u8]>, Entry, BuildHasherDefault<WordHasher>>,
    last: Option<(Arc<[u8]>, Entry)>,
    bytes: usize,
    limit: usize,
    parses: u64,
}

impl Default for SchemaCache {
    fn default() -> Self {
        SchemaCache::new()
    }
}

impl SchemaCache {
    /// Default bound on the metadata bytes held: 16 MiB.
    pub const DEFAULT_BYTE_LIMIT: usize = 16 << 20;

    /// An empty cache with the default limit.
    pub fn new() -> SchemaCache {
        SchemaCache::with_byte_limit(Self::DEFAULT_BYTE_LIMIT)
    }

    /// An empty cache holding at most about `limit` bytes of metadata keys.
    pub fn with_byte_limit(limit: usize) -> SchemaCache {
        SchemaCache {
            map: HashMap::default(),
            last: None,
            bytes: 0,
            limit,
            parses: 0,
        }
    }

    /// The schema for `meta` (an item 11), parsed on first sight.
    pub fn get(&mut self, meta: &[u8]) -> Result<&Arc<Schema>, &super::Error> {
        let hit = matches!(&self.last, Some((k, _)) if **k == *meta);
        if !hit {
            let (key, entry) = match self.map.get_key_value(meta) {
                Some((k, e)) => (k.clone(), e.clone()),
                None => {
                    self.parses += 1;
                    let e = Schema::parse(meta).map(Arc::new);
                    if self.bytes + meta.len() > self.limit {
                        self.map.clear();
                        self.bytes = 0;
                    }
                    self.bytes += meta.len();
                    let k: Arc<[u8]> = meta.into();
                    self.map.insert(k.clone(), e.clone());
                    (k, e)
                }
            };
            self.last = Some((key, entry));
        }
        let (_, entry) = self
            .last
            .get_or_insert_with(|| (Arc::from(meta), Schema::parse(meta).map(Arc::new)));
        entry.as_ref()
    }

    /// Distinct schemas held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many times metadata was parsed (cache misses), for tests and statistics.
    pub fn parses(&self) -> u64 {
        self.parses
    }
}
