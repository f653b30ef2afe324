//! The per-VM source of weighted-choice draws: a SplitMix64 sequence seeded once from the
//! host's entropy (WASI `random_get`, which Envoy backs with BoringSSL).
//!
//! One host call per VM instead of one per request; workers seed independently, so their
//! sequences differ. Draws only pick backends by weight: they need uniformity, not secrecy.

use std::cell::Cell;

/// A SplitMix64 generator.
#[derive(Debug, Default)]
pub(crate) struct Draws {
    state: Cell<u64>,
}

impl Draws {
    /// Seeds from the host; keeps the current state if the host has no entropy to give.
    pub(crate) fn seed_from_host(&self) {
        let mut seed = [0u8; 8];
        if getrandom::fill(&mut seed).is_ok() {
            self.state.set(u64::from_le_bytes(seed));
        }
    }

    /// The next draw.
    pub(crate) fn next(&self) -> u64 {
        let state = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(state);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
