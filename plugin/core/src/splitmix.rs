//! SplitMix64: the one small, seedable pseudo-random generator of the workspace.
//!
//! The filter draws its weighted choices from it, mirror percentages mix further draws out of
//! one with its finaliser, and host-sim and the benchmarks generate their deterministic inputs
//! with it. Not cryptographic: every use needs uniformity and repeatability, not secrecy.

/// A SplitMix64 generator: its whole output is fixed by its seed, on every platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator's increment, the odd integer nearest 2^64 / φ.
    pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        Self::mix(self.state)
    }

    /// The generator's finaliser: scrambles `z` so that nearby inputs give unrelated outputs.
    pub const fn mix(z: u64) -> u64 {
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::SplitMix64;

    #[test]
    fn reference_values() {
        // The first outputs for seed 0 of the published SplitMix64 algorithm.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }
}
