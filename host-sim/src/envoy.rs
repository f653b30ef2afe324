//! Envoy's lifecycle for one proxy-wasm plugin: the base and canary VMs, the kept worker VM, xDS
//! updates, HTTP streams with deferred actions, and the failure policies (reference §1.7, §3.5).
//!
//! The imports themselves live in [`crate::abi`]; this module only decides when to call which
//! callback, which maps and buffers exist at that moment, and what the client and the upstream end
//! up seeing. It does not parse URLs or YAML: callers hand it ready [`HttpRequest`]s.
//!
//! The pieces: `module` (a compiled, checked module), `options` (how the plugin is configured),
//! `exchange` (the request a caller hands in and the outcome it gets back), `proxy` (VMs,
//! updates and failure policies), `stream` (one stream's callbacks and deferred actions),
//! `vm` (one VM) and [`reply`] (Envoy's local replies).
//!
//! # Model
//!
//! - [`Proxy::start`] runs the module's start-up in a base VM, then a canary VM (root context,
//!   `on_vm_start`, `on_configure`), which is discarded, then the same in the worker VM that is
//!   kept. One worker: per-worker state (counters, RNG, caches) is that of one Envoy worker.
//! - [`Proxy::reconfigure`] is an xDS update: a canary first; on success the worker gets a *new*
//!   root context (new id, `on_vm_start`, `on_configure`) as Envoy's plugin key includes the
//!   configuration, and the old root gets `on_done`/`on_delete`.
//! - [`Proxy::stream`] runs one request to completion. Actions queued by hostcalls run after the
//!   callback returns. Request headers vanish once the request continues. A local reply goes
//!   through the plugin's own `on_response_headers`.
//! - [`Proxy::begin_stream`] and [`Proxy::finish_stream`] are the same stream in two steps: a
//!   request that went upstream stays in flight in between, with its own context, while other
//!   streams and updates run. It keeps the root context it started under; a root an update
//!   replaced gets `on_done`/`on_delete` after its last stream ends.
//! - A request that pauses in its headers phase still hands its body to the plugin
//!   (`on_request_body`, headers editable). If it stays paused with a callout of its own
//!   outstanding (an authorization check), it waits for it: [`HttpRequest::callout_answer`] is
//!   delivered to that call (`on_http_call_response`, or `on_grpc_receive` / `on_grpc_close`),
//!   the request headers still editable, and what the plugin does then (continue, local reply,
//!   reset) ends the request phase. Without an answer the stream stays paused.
//! - A trap fails the VM. The current stream (unless it already reached access-log time) and
//!   later streams follow the failure policy.
//!
//! # What a filter sees
//!
//! - `get_property(["destination", "port"])`: 8-byte little-endian integer. Header-derived
//!   `request.*` properties (`path`, `host`, `headers.<name>`, …) are `NotFound` once the request
//!   headers are gone (after Continue), like the header calls; `request.protocol`/`time` stay.
//! - `set_property` is filter state of the stream: `StreamOutcome::filter_state` keys are the
//!   path with `\0` shown as `.` (`vec!["gatewasm.route"]` → `"gatewasm.route"`). Outside a
//!   stream (`on_configure`, `on_tick`) it is `NotFound`, which the Rust SDK turns into a panic.
//! - `clear_route_cache` is the only foreign function; any other name is `NotFound`.
//! - Per-stream logs are in `StreamOutcome::logs`; start-up, configure and tick logs in
//!   [`Proxy::logs`].

pub mod connection_manager;
mod exchange;
mod module;
mod options;
mod proxy;
pub mod reply;
mod stream;
mod vm;

pub use crate::abi::grpc::GrpcCall;
pub use crate::abi::http_call::HttpCall;
pub use crate::abi::lifecycle::LocalReply;
pub use crate::abi::log::LogEntry;
pub use crate::abi::metrics::Metric;
pub use crate::abi::properties::PropertyValue;
pub use crate::abi::types::LogLevel;
pub use exchange::{
    AwaitedCall, Callout, CalloutAnswer, HttpCallResponse, HttpRequest, StreamOutcome, Upstream,
};
pub use module::WasmModule;
pub use options::{FailurePolicy, PluginOptions, StartError};
pub use proxy::Proxy;
pub use reply::fail_stream_reply;
pub use stream::PendingStream;

/// The ABI marker export this host requires.
pub const ABI_MARKER: &str = "proxy_abi_version_0_2_1";

/// `proxy_get_status` code after a failed callout: Envoy's internal `WasmResult::BrokenConnection`.
const BROKEN_CONNECTION: u32 = 11;

/// `request.protocol` for every simulated request (override with a `["request","protocol"]` extra).
pub const DEFAULT_PROTOCOL: &str = "HTTP/1.1";
