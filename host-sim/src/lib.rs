//! host-sim runs a proxy-wasm filter (`gatewasm.wasm`) under wasmtime with Envoy's semantics, so
//! routes can be tested, explained and benchmarked without an Envoy.
//!
//! [`abi`] implements the imports (ABI v0.2.1 and Envoy's WASI subset); [`envoy`] drives a module
//! through Envoy's lifecycle: canary and worker VMs, streams, deferred actions, failure policies.

pub mod abi;
pub mod cases;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod deploy;
pub mod envoy;
pub mod manifests;
pub mod migrate;
mod objects;
mod observe;
pub mod protocol;
pub mod request;
pub mod serve;
pub mod sidecar;
pub mod wasm;
mod written;
