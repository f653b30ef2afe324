//! The per-VM source of weighted-choice draws: a SplitMix64 sequence seeded once from the
//! host's entropy (WASI `random_get`, which Envoy backs with BoringSSL).
//!
//! One host call per VM instead of one per request; workers seed independently, so their
//! sequences differ. Draws only pick backends by weight: they need uniformity, not secrecy.

use std::cell::Cell;

use gatewasm_core::SplitMix64;

/// The VM's generator.
#[derive(Debug, Default)]
pub(crate) struct Draws {
    rng: Cell<SplitMix64>,
}

impl Draws {
    /// Seeds from the host; keeps the current state if the host has no entropy to give.
    pub(crate) fn seed_from_host(&self) {
        let mut seed = [0u8; 8];
        if getrandom::fill(&mut seed).is_ok() {
            self.rng.set(SplitMix64::new(u64::from_le_bytes(seed)));
        }
    }

    /// The next draw.
    pub(crate) fn next(&self) -> u64 {
        let mut rng = self.rng.get();
        let draw = rng.next_u64();
        self.rng.set(rng);
        draw
    }
}
