//! What the fuzz targets share: a generator of small Gateway API route sets and requests driven by
//! the fuzzer's bytes ([`routes`]), and the text form of one request the `request` target reads
//! and the seed generator writes (`request_text`, with the `wasm` feature that brings host-sim).
//!
//! The targets themselves live in `fuzz_targets/`; the seed corpora come from `testdata/`
//! through `src/bin/seeds.rs`.

#[cfg(feature = "wasm")]
pub mod request_text;
pub mod routes;
