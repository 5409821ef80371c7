//! For tests: a small deterministic random sequence (xorshift64) for corruption tests.

/// The xorshift64 sequence from `state` (not 0).
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
