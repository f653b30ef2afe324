//! gatewasm.wasm: the proxy-wasm glue around `gatewasm-core`, and only that.
//!
//! The root context ([`root`]) compiles each configuration into a route table and keeps the
//! last good one; each HTTP stream ([`stream`]) reads the request headers as bytes, asks the
//! table for a decision, and turns it into host calls. Routing semantics live in the core crate;
//! nothing here interprets Gateway API objects.
//!
//! The filter must never trap: a trap takes down the worker's traffic (DESIGN.md). Host calls go
//! through the SDK's `Result`-returning functions, request headers are read with the `_bytes`
//! API, and nothing after the request phase reads request headers.

mod entry;
mod host;
mod metrics;
mod random;
mod root;
mod stream;
