//! host-sim runs a proxy-wasm filter (`gatewasm.wasm`) under wasmtime with Envoy's semantics, so
//! routes can be tested, explained and benchmarked without an Envoy.
//!
//! [`abi`] implements the imports (ABI v0.2.1 and Envoy's WASI subset); [`envoy`] drives a module
//! through Envoy's lifecycle: canary and worker VMs, streams, deferred actions, failure policies.

pub mod abi;
pub mod cases;
pub mod cli;
pub mod cmd;
pub mod dead_rules;
pub mod deploy;
pub mod diagnose;
pub mod envoy;
pub mod ingress_advice;
pub mod manifests;
pub mod observe;
pub mod policy_report;
pub mod report;
pub mod request;
pub mod serve;
pub mod verdicts;
pub mod wasm;
