//! Maps keyed by the driver's u32 ids (and times beside them), hashed cheaply.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes the u32 ids (registration, capture, thread) with one multiply: the default SipHash
/// was a visible share of `check`'s time. The multiply is a bijection, so distinct ids never
/// share a full hash.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.write_u32(n as u32);
        self.write_u32((n >> 32) as u32);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(26) ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by ids (a u32, or a tuple of them).
pub(crate) type IdKeyed<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A map from a u32 id.
pub(crate) type IdMap<V> = IdKeyed<u32, V>;
