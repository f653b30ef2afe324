//! Envoy's lifecycle for one proxy-wasm plugin: the base and canary VMs, the kept worker VM, xDS
//! updates, HTTP streams with deferred actions, and the failure policies (reference §1.7, §3.5).
//!
//! The imports themselves live in [`crate::abi`]; this module only decides when to call which
//! callback, which maps and buffers exist at that moment, and what the client and the upstream end
//! up seeing. It does not parse URLs or YAML: callers hand it ready [`HttpRequest`]s.
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

pub mod reply;
mod vm;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use gatewasm_core::{SplitMix64, GRPC_UNAVAILABLE};
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module};

pub use crate::abi::grpc::GrpcCall;
pub use crate::abi::http_call::HttpCall;
pub use crate::abi::lifecycle::LocalReply;
pub use crate::abi::log::LogEntry;
pub use crate::abi::metrics::Metric;
pub use crate::abi::properties::PropertyValue;
pub use crate::abi::types::LogLevel;
pub use reply::fail_stream_reply;

use crate::abi::headers::{Access, HeaderMap, MapSlot};
use crate::abi::lifecycle::Deferred;
use crate::abi::properties::StreamInfo;
use crate::abi::shared_data::SharedHandle;
use crate::abi::timers::Clock;
use crate::abi::types::StreamType;
use crate::abi::{self, HostState};
use vm::{Vm, VmFailure, VmSetup};

/// The ABI marker export this host requires.
pub const ABI_MARKER: &str = "proxy_abi_version_0_2_1";

/// `proxy_get_status` code after a failed callout: Envoy's internal `WasmResult::BrokenConnection`.
const BROKEN_CONNECTION: u32 = 11;

/// `request.protocol` for every simulated request (override with a `["request","protocol"]` extra).
pub const DEFAULT_PROTOCOL: &str = "HTTP/1.1";

// === WasmModule ===

/// A compiled proxy-wasm module with its imports resolved, ready to instantiate many times.
/// Cloning is cheap (the compiled code is shared).
#[derive(Clone)]
pub struct WasmModule {
    engine: Engine,
    module: Module,
    pre: InstancePre<HostState>,
}

impl WasmModule {
    /// Reads and compiles a `.wasm` file.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not WebAssembly, lacks the `proxy_abi_version_0_2_1` marker,
    /// memory or allocator exports, or imports something with a type this host cannot provide.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| format!("failed to load {}", path.display()))
    }

    /// Compiles a module from its bytes.
    ///
    /// # Errors
    ///
    /// As [`WasmModule::from_file`], without the read.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let engine = Engine::default();
        let module = Module::new(&engine, bytes)
            .map_err(anyhow::Error::from)
            .context("not a valid WebAssembly module")?;
        check_exports(&module)?;
        let mut linker = Linker::new(&engine);
        // Stand-ins first, then the real imports shadow them.
        linker.allow_shadowing(true);
        abi::define_fallbacks(&mut linker, &module)?;
        abi::add_to_linker(&mut linker)?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(anyhow::Error::from)
            .context("the module's imports do not match the proxy-wasm ABI v0.2.1 host")?;
        Ok(Self {
            engine,
            module,
            pre,
        })
    }

    /// The wasmtime engine the module was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled module (for inspecting imports and exports).
    pub fn module(&self) -> &Module {
        &self.module
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        &self.pre
    }
}

/// cpp-host's load-time checks: ABI marker, memory, allocator.
fn check_exports(module: &Module) -> Result<()> {
    let has = |name: &str| module.get_export(name).is_some();
    if !has(ABI_MARKER) {
        let other = ["proxy_abi_version_0_1_0", "proxy_abi_version_0_2_0"]
            .into_iter()
            .find(|marker| has(marker));
        match other {
            Some(marker) => bail!(
                "the module declares {marker}; host-sim implements proxy-wasm ABI v0.2.1 only \
                 (build with the proxy-wasm 0.2.x Rust SDK)"
            ),
            None => bail!(
                "Missing or unknown Proxy-Wasm ABI version: the module does not export \
                 {ABI_MARKER}; is it a proxy-wasm filter?"
            ),
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        bail!("the module exports no memory named \"memory\"");
    }
    if !has("malloc") && !has("proxy_on_memory_allocate") {
        bail!("Wasm module is missing malloc function (neither malloc nor proxy_on_memory_allocate is exported)");
    }
    Ok(())
}

// === options ===

/// What Envoy does with streams once the VM has failed (`PluginConfig.failure_policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Local reply 503 `wasm_fail_stream`, gRPC UNAVAILABLE (Envoy's default).
    #[default]
    FailClosed,
    /// Skip the filter: requests pass untouched.
    FailOpen,
    /// Build a new worker VM from the last good configuration for the next stream (Envoy ≥1.33;
    /// its reload backoff is not modelled: the next stream reloads at once).
    FailReload,
}

/// The plugin's Envoy configuration (`PluginConfig` and its `vm_config`).
#[derive(Clone, Debug, Default)]
pub struct PluginOptions {
    /// `configuration`: what `on_configure` reads as `PLUGIN_CONFIGURATION`.
    pub configuration: Vec<u8>,
    /// `vm_config.configuration`: what `on_vm_start` reads as `VM_CONFIGURATION`.
    pub vm_configuration: Vec<u8>,
    /// `root_id` (`plugin_root_id`).
    pub root_id: String,
    /// `name` (`plugin_name`); empty means "same as `root_id`".
    pub name: String,
    /// `vm_config.vm_id` (`plugin_vm_id`, and the shared data / queue namespace).
    pub vm_id: String,
    /// `failure_policy`.
    pub failure_policy: FailurePolicy,
    /// Seed of the deterministic WASI `random_get`; the first worker VM uses it as is.
    pub random_seed: u64,
    /// `vm_config.environment_variables`: the only environment the module sees.
    pub env: Vec<(String, String)>,
    /// Envoy's wasm log level: lower lines are dropped, `proxy_get_log_level` reports it.
    pub log_level: LogLevel,
    /// Clusters that exist for `proxy_http_call`; `None` means every name exists.
    pub clusters: Option<Vec<String>>,
    /// Extra properties visible in every context (path segments, encoded value).
    pub properties: Vec<PropertyValue>,
}

impl PluginOptions {
    fn plugin_name(&self) -> &str {
        if self.name.is_empty() {
            &self.root_id
        } else {
            &self.name
        }
    }
}

/// Why the plugin did not start or a configuration was rejected (Envoy: start failure or NACK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartError {
    /// What failed, e.g. `canary VM: proxy_on_configure returned false`.
    pub reason: String,
    /// Everything the VMs logged during the attempt.
    pub logs: Vec<LogEntry>,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for StartError {}

// === requests and outcomes ===

/// One HTTP request as it reaches the filter, plus what the upstream would answer.
#[derive(Clone, Debug, Default)]
pub struct HttpRequest {
    /// Request headers in order, `:method`, `:scheme`, `:authority`, `:path` first; repeats allowed.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Request body; `None` means the headers end the stream.
    pub body: Option<Vec<u8>>,
    /// The listener port (`destination.port`).
    pub destination_port: Option<u16>,
    /// The upstream's response headers; empty means `[(":status", "200")]`.
    pub response_headers: Vec<(String, Vec<u8>)>,
    /// Extra properties for this stream (path segments, encoded value); they win over built-ins.
    pub properties: Vec<PropertyValue>,
    /// The answer to the callout the request waits on, if it pauses for one.
    pub callout_answer: Option<CalloutAnswer>,
}

/// What Envoy delivers to the callout a paused request waits on.
#[derive(Clone, Debug)]
pub enum CalloutAnswer {
    /// An HTTP call's response.
    Http(HttpCallResponse),
    /// A unary gRPC call's response message, its status OK.
    Grpc(Vec<u8>),
    /// The call fails without an answer: no headers for an HTTP call (Envoy's reset), status
    /// UNAVAILABLE for a gRPC call.
    Fail,
}

/// A callout a paused request waited on, by kind and token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callout {
    /// A `proxy_http_call`.
    Http(u32),
    /// A `proxy_grpc_call`.
    Grpc(u32),
}

impl HttpRequest {
    /// A request with the four pseudo-headers and nothing else.
    pub fn new(method: &str, scheme: &str, authority: &str, path: &str) -> Self {
        let headers = [
            (":method", method),
            (":scheme", scheme),
            (":authority", authority),
            (":path", path),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
        Self {
            headers,
            ..Self::default()
        }
    }

    /// Appends a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }
}

/// The request as it left for the upstream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstream {
    /// Request headers after the plugin's edits.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Request headers were edited after the last `clear_route_cache` (or with none): on an Envoy
    /// that does not clear the route cache itself, the route was picked from stale headers.
    pub headers_modified_after_route: bool,
}

/// Everything one stream produced.
#[derive(Clone, Debug, Default)]
pub struct StreamOutcome {
    /// The stream's context id.
    pub context_id: u32,
    /// `Some` when the request went upstream.
    pub upstream: Option<Upstream>,
    /// `Some` when the plugin (or the failure policy) answered locally.
    pub local_reply: Option<LocalReply>,
    /// What the client finally receives (after the plugin's response-phase edits); empty if the
    /// stream was reset or never answered.
    pub response_headers: Vec<(String, Vec<u8>)>,
    /// `proxy_set_property` writes: key is the `\0`-joined path with `\0` turned into `.`.
    pub filter_state: BTreeMap<String, Vec<u8>>,
    /// `proxy_http_call` dispatches made during the stream.
    pub http_calls: Vec<HttpCall>,
    /// `proxy_grpc_call` / `proxy_grpc_stream` dispatches made during the stream.
    pub grpc_calls: Vec<GrpcCall>,
    /// The callout the request paused for (its other calls, such as mirrors, nobody waits on).
    pub awaited: Option<Callout>,
    /// Lines the plugin logged during the stream.
    pub logs: Vec<LogEntry>,
    /// The trap that failed the VM during this stream.
    pub trap: Option<String>,
    /// `clear_route_cache` was called during the stream.
    pub route_cache_cleared: bool,
    /// The plugin paused (request or response) and never resumed: the stream never completed.
    pub paused: bool,
    /// The plugin reset the stream (`proxy_close_stream`).
    pub reset: bool,
    /// Names of the imports the plugin called, in order.
    pub calls: Vec<&'static str>,
}

impl StreamOutcome {
    /// The `:status` the client receives, if any.
    pub fn status(&self) -> Option<u32> {
        let (_, value) = self.response_headers.iter().find(|(n, _)| n == ":status")?;
        std::str::from_utf8(value).ok()?.parse().ok()
    }

    /// The first upstream request header named `name` (lowercase), if the request went upstream.
    pub fn upstream_header(&self, name: &str) -> Option<&[u8]> {
        let upstream = self.upstream.as_ref()?;
        upstream
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// A canned response for [`Proxy::deliver_http_call_response`].
#[derive(Clone, Debug, Default)]
pub struct HttpCallResponse {
    /// Response headers; empty means the call failed (`num_headers = 0`, status "reset").
    pub headers: Vec<(String, Vec<u8>)>,
    /// Response body.
    pub body: Vec<u8>,
    /// Response trailers.
    pub trailers: Vec<(String, Vec<u8>)>,
}

// === Proxy ===

/// One plugin on one Envoy worker: the kept worker VM, its root context and the failure state.
pub struct Proxy {
    module: WasmModule,
    options: PluginOptions,
    // The configuration the worker's root context accepted last.
    configuration: Vec<u8>,
    worker: Vm,
    root_id: u32,
    shared: SharedHandle,
    clock: Clock,
    logs: Vec<LogEntry>,
    // VMs created so far (serial numbers), and worker VMs among them (for seeds).
    vms: u64,
    workers: u64,
    // (VM serial, root context) of every stream in flight, one entry per stream.
    in_flight: Vec<(u64, u32)>,
}

impl Proxy {
    /// Starts the plugin as Envoy does at bootstrap: base VM start-up, then a canary VM
    /// (`on_context_create(1, 0)`, `on_vm_start`, `on_configure`) that is thrown away, then the
    /// worker VM that is kept.
    ///
    /// # Errors
    ///
    /// A trap anywhere, or `false` from `on_vm_start` / `on_configure`, with the logs so far.
    pub fn start(module: &WasmModule, options: PluginOptions) -> Result<Proxy, StartError> {
        let shared = SharedHandle::default();
        let clock = Clock::default();
        let mut logs = Vec::new();
        let mut serial = 0;
        let mut boot = |logs: &mut Vec<LogEntry>, role: &str, seed: u64| {
            serial += 1;
            let setup = VmSetup {
                options: &options,
                shared: shared.clone(),
                clock,
                serial,
                seed,
            };
            Vm::boot(module, setup).map_err(|f| start_error(role, f, logs))
        };
        let side_seed = !options.random_seed;
        drop(boot(&mut logs, "base VM", side_seed)?);
        let mut canary = boot(&mut logs, "canary VM", side_seed)?;
        configure_fresh(&mut canary, &options.configuration, "canary VM", &mut logs)?;
        drop(canary);
        let mut worker = boot(&mut logs, "worker VM", options.random_seed)?;
        configure_fresh(&mut worker, &options.configuration, "worker VM", &mut logs)?;
        Ok(Proxy {
            module: module.clone(),
            configuration: options.configuration.clone(),
            options,
            worker,
            root_id: 1,
            shared,
            clock,
            logs,
            vms: serial,
            workers: 1,
            in_flight: Vec::new(),
        })
    }

    /// Applies an xDS update of the plugin configuration. A canary VM tries it first; if it
    /// rejects it (false or trap) the update is NACKed: `Err`, and the worker keeps serving with
    /// the old configuration. Otherwise the worker gets a new root context configured with it and
    /// the old root context is shut down (`on_done`, `on_delete`). A failed worker is replaced by
    /// a fresh VM instead.
    ///
    /// # Errors
    ///
    /// The canary (or the worker) rejected the configuration.
    pub fn reconfigure(&mut self, configuration: Vec<u8>) -> Result<(), StartError> {
        let mut logs = Vec::new();
        let mut canary = self.boot_vm("canary VM", !self.options.random_seed, &mut logs)?;
        let canary_result = configure_fresh(&mut canary, &configuration, "canary VM", &mut logs);
        drop(canary);
        if let Err(err) = canary_result {
            self.logs.extend(logs);
            return Err(err);
        }
        let result = if self.worker.failed.is_some() {
            self.replace_worker(&configuration, &mut logs)
        } else {
            self.sync_clock();
            let new_root = self.worker.alloc_context();
            let started = self.worker.start_root(new_root, &configuration);
            logs.extend(self.worker.take_logs());
            match started {
                Ok(()) => {
                    let old_root = std::mem::replace(&mut self.root_id, new_root);
                    self.retire_if_idle(old_root, &mut logs);
                    Ok(())
                }
                Err(reason) => {
                    self.worker.state().lifecycle.contexts.remove(&new_root);
                    Err(StartError {
                        reason: format!("worker VM: {reason}"),
                        logs: logs.clone(),
                    })
                }
            }
        };
        self.logs.extend(logs);
        if result.is_ok() {
            self.configuration = configuration;
        }
        result
    }

    /// Runs one HTTP stream through the plugin, start to end (see the module docs).
    pub fn stream(&mut self, request: &HttpRequest) -> StreamOutcome {
        let pending = self.begin_stream(request);
        self.finish_stream(pending)
    }

    /// Starts a stream and runs its request phase: `on_context_create`, `on_request_headers`
    /// and `on_request_body`. A request that went upstream is then in flight until
    /// [`Proxy::finish_stream`]: other streams, [`Proxy::reconfigure`] and ticks may run
    /// meanwhile, and the stream keeps its context and the root context it was created under,
    /// as Envoy's filter keeps its plugin handle. A stream that ended in the request phase
    /// (local reply, reset, pause, trap, failure policy) is already complete, access log
    /// included.
    pub fn begin_stream(&mut self, request: &HttpRequest) -> PendingStream {
        if self.worker.failed.is_some() {
            match self.options.failure_policy {
                FailurePolicy::FailOpen => return PendingStream::ended(pass_through(request)),
                FailurePolicy::FailClosed => {
                    return PendingStream::ended(fail_closed(request, StreamOutcome::default()))
                }
                FailurePolicy::FailReload => {
                    let mut logs = Vec::new();
                    let configuration = self.configuration.clone();
                    let reloaded = self.replace_worker(&configuration, &mut logs);
                    self.logs.extend(logs);
                    if reloaded.is_err() {
                        return PendingStream::ended(fail_closed(
                            request,
                            StreamOutcome::default(),
                        ));
                    }
                }
            }
        }
        self.sync_clock();
        let leftover = self.worker.take_logs();
        self.logs.extend(leftover);
        let policy = self.options.failure_policy;
        let mut run = StreamRun::begin(&mut self.worker, self.root_id, request);
        let result = match run.send_request() {
            Ok(true) => {
                let stream = run.suspend();
                let vm = self.worker.state().vm_serial;
                self.in_flight.push((vm, stream.root));
                return PendingStream(Pending::InFlight(Box::new(InFlight {
                    request: request.clone(),
                    vm,
                    stream,
                })));
            }
            Ok(false) => run.log_phase(),
            Err(trap) => Err(trap),
        };
        PendingStream::ended(complete(run, result, request, policy))
    }

    /// Ends a stream [`Proxy::begin_stream`] returned: for one in flight, the upstream's
    /// response (`HttpRequest::response_headers`) goes through `on_response_headers`, then
    /// `on_log`, `on_done` and `on_delete`. A root context that a configuration update replaced
    /// is shut down once its last stream has ended.
    pub fn finish_stream(&mut self, pending: PendingStream) -> StreamOutcome {
        let InFlight {
            request,
            vm,
            stream,
        } = match pending.0 {
            Pending::Ended(outcome) => return *outcome,
            Pending::InFlight(in_flight) => *in_flight,
        };
        let root = stream.root;
        if let Some(at) = self.in_flight.iter().position(|&s| s == (vm, root)) {
            self.in_flight.swap_remove(at);
        }
        let policy = self.options.failure_policy;
        if self.worker.state().vm_serial != vm {
            // The VM the stream started on failed and was replaced; the stream goes down with it.
            let trap = "the worker VM this stream started on failed and was replaced".to_string();
            return after_trap(&request, Vec::new(), stream.out, trap, policy);
        }
        self.sync_clock();
        let leftover = self.worker.take_logs();
        self.logs.extend(leftover);
        let mut run = StreamRun::resume(&mut self.worker, &request, stream);
        let result = run.receive_response().and_then(|()| run.log_phase());
        let outcome = complete(run, result, &request, policy);
        let mut logs = Vec::new();
        self.retire_if_idle(root, &mut logs);
        self.logs.extend(logs);
        outcome
    }

    /// Calls `on_tick` on the root context if it set a tick period, after advancing the clock by
    /// that period. Returns whether a tick ran.
    pub fn tick(&mut self) -> bool {
        let Some(&period) = self.worker.state().timers.tick_periods.get(&self.root_id) else {
            return false;
        };
        if self.worker.failed.is_some() {
            return false;
        }
        self.advance_time(Duration::from_millis(u64::from(period)));
        self.sync_clock();
        let tick = self.worker.cb.tick.clone();
        let ran = self
            .worker
            .invoke(tick, self.root_id, self.root_id, self.root_id as i32);
        let logs = self.worker.take_logs();
        self.logs.extend(logs);
        ran.is_ok()
    }

    /// Delivers a response to an outstanding `proxy_http_call` made by a root context (from
    /// `on_tick`, `on_configure`, …) via `on_http_call_response`. Calls made by a stream cannot be
    /// answered: the stream has ended and Envoy cancels its callouts.
    ///
    /// # Errors
    ///
    /// Unknown token, a call whose context is gone, or a trap (the VM then fails).
    pub fn deliver_http_call_response(
        &mut self,
        token: u32,
        response: &HttpCallResponse,
    ) -> Result<()> {
        let state = self.worker.state();
        let Some(call) = state.http_calls.calls.iter().find(|c| c.token == token) else {
            bail!("no http call with token {token}");
        };
        let context = call.context_id;
        if !state.http_calls.outstanding.contains(&token) {
            bail!("http call {token} already had its response");
        }
        if !state.lifecycle.contexts.contains(&context) {
            bail!("http call {token} was made by context {context}, which no longer exists");
        }
        self.sync_clock();
        let result = deliver_http(&mut self.worker, context, self.root_id, token, response);
        let logs = self.worker.take_logs();
        self.logs.extend(logs);
        result.map_err(|trap| anyhow::anyhow!("on_http_call_response trapped: {trap}"))
    }

    /// Moves the clock forward (both WASI clocks and `proxy_get_current_time_nanoseconds`).
    pub fn advance_time(&mut self, by: Duration) {
        self.clock
            .advance(u64::try_from(by.as_nanos()).unwrap_or(u64::MAX));
    }

    /// The `proxy_http_call`s a stream in flight dispatched in its request phase (its mirror
    /// copies): Envoy sends them while the request is upstream.
    pub fn dispatched_calls(&mut self, pending: &PendingStream) -> Vec<HttpCall> {
        let Pending::InFlight(in_flight) = &pending.0 else {
            return Vec::new();
        };
        let state = self.worker.state();
        if state.vm_serial != in_flight.vm {
            return Vec::new();
        }
        let context = in_flight.stream.context;
        state
            .http_calls
            .calls
            .iter()
            .filter(|c| c.context_id == context)
            .cloned()
            .collect()
    }

    /// VM- and root-level log lines so far (start-up, configure, ticks, callouts), oldest first.
    pub fn logs(&self) -> &[LogEntry] {
        &self.logs
    }

    /// The worker VM's linear memory size in bytes.
    pub fn memory_size(&self) -> usize {
        self.worker.memory_size()
    }

    /// The metrics the worker VM defined, with their values.
    pub fn metrics(&self) -> &[Metric] {
        &self.worker.store.data().metrics.metrics
    }

    /// `proxy_http_call`s made outside streams (root contexts), in order.
    pub fn http_calls(&self) -> &[HttpCall] {
        &self.worker.store.data().http_calls.calls
    }

    /// Why the worker VM failed, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.worker.failed.as_deref()
    }

    /// The worker's current root context id.
    pub fn root_context_id(&self) -> u32 {
        self.root_id
    }

    /// The configuration the worker accepted last.
    pub fn configuration(&self) -> &[u8] {
        &self.configuration
    }

    /// Shuts `root` down unless it is the current root context or a stream still in flight was
    /// created under it.
    fn retire_if_idle(&mut self, root: u32, logs: &mut Vec<LogEntry>) {
        let vm = self.worker.state().vm_serial;
        if root == self.root_id || self.in_flight.contains(&(vm, root)) {
            return;
        }
        // A trap while retiring the old root fails the VM; later streams see it.
        let _retired = self.worker.retire_root(root);
        logs.extend(self.worker.take_logs());
    }

    fn sync_clock(&mut self) {
        self.worker.state().timers.clock = self.clock;
    }

    fn boot_vm(
        &mut self,
        role: &str,
        seed: u64,
        logs: &mut Vec<LogEntry>,
    ) -> Result<Vm, StartError> {
        self.vms += 1;
        let setup = VmSetup {
            options: &self.options,
            shared: self.shared.clone(),
            clock: self.clock,
            serial: self.vms,
            seed,
        };
        Vm::boot(&self.module, setup).map_err(|f| start_error(role, f, logs))
    }

    /// A fresh worker VM configured with `configuration` replaces the current one.
    fn replace_worker(
        &mut self,
        configuration: &[u8],
        logs: &mut Vec<LogEntry>,
    ) -> Result<(), StartError> {
        let seed = self.options.random_seed ^ self.workers.wrapping_mul(SplitMix64::GAMMA);
        let mut worker = self.boot_vm("worker VM", seed, logs)?;
        configure_fresh(&mut worker, configuration, "worker VM", logs)?;
        self.workers += 1;
        self.worker = worker;
        self.root_id = 1;
        Ok(())
    }
}

/// Envoy's answer to `proxy_http_call` `token` of `context`: the response headers, body and
/// trailers exist during `on_http_call_response`; no headers means the call failed, and
/// `proxy_get_status` then says BrokenConnection "reset", as Envoy's `onHttpCallFailure`.
fn deliver_http(
    vm: &mut Vm,
    context: u32,
    root: u32,
    token: u32,
    response: &HttpCallResponse,
) -> Result<(), String> {
    let state = vm.state();
    state.http_calls.outstanding.retain(|t| *t != token);
    state.headers.http_call_response_headers =
        MapSlot::read_only(HeaderMap::from_pairs(&response.headers));
    state.headers.http_call_response_trailers =
        MapSlot::read_only(HeaderMap::from_pairs(&response.trailers));
    state.buffers.http_call_response_body = Some(response.body.clone());
    if response.headers.is_empty() {
        state.lifecycle.status = (BROKEN_CONNECTION, b"reset".to_vec());
    }
    let args = (
        context as i32,
        token as i32,
        response.headers.len() as i32,
        response.body.len() as i32,
        response.trailers.len() as i32,
    );
    let cb = vm.cb.http_call_response.clone();
    let result = vm.invoke(cb, context, root, args);
    let state = vm.state();
    state.headers.http_call_response_headers = MapSlot::default();
    state.headers.http_call_response_trailers = MapSlot::default();
    state.buffers.http_call_response_body = None;
    state.lifecycle.status = (0, Vec::new());
    result.map(drop)
}

/// Envoy's answer to unary `proxy_grpc_call` `token` of `context`: a response message is
/// readable as `GRPC_RECEIVE_BUFFER` during `on_grpc_receive`; a failed call gets only
/// `on_grpc_close` with its status (cpp-host's `onGrpcReceive` / `onGrpcClose`).
fn deliver_grpc(
    vm: &mut Vm,
    context: u32,
    root: u32,
    token: u32,
    answer: Result<&[u8], u32>,
) -> Result<(), String> {
    let state = vm.state();
    if let Some(call) = state.grpc.calls.iter_mut().find(|c| c.token == token) {
        call.closed = true;
    }
    let result = match answer {
        Ok(message) => {
            state.buffers.grpc_receive = Some(message.to_vec());
            let cb = vm.cb.grpc_receive.clone();
            let args = (context as i32, token as i32, message.len() as i32);
            vm.invoke(cb, context, root, args)
        }
        Err(status) => {
            state.lifecycle.status = (status, Vec::new());
            let cb = vm.cb.grpc_close.clone();
            vm.invoke(
                cb,
                context,
                root,
                (context as i32, token as i32, status as i32),
            )
        }
    };
    let state = vm.state();
    state.buffers.grpc_receive = None;
    state.lifecycle.status = (0, Vec::new());
    result.map(drop)
}

fn start_error(role: &str, failure: VmFailure, logs: &mut Vec<LogEntry>) -> StartError {
    logs.extend(failure.logs);
    StartError {
        reason: format!("{role}: {}", failure.reason),
        logs: logs.clone(),
    }
}

/// Root context 1 of a fresh VM: create, `on_vm_start`, `on_configure`.
fn configure_fresh(
    vm: &mut Vm,
    configuration: &[u8],
    role: &str,
    logs: &mut Vec<LogEntry>,
) -> Result<(), StartError> {
    let root = vm.alloc_context();
    let result = vm.start_root(root, configuration);
    logs.extend(vm.take_logs());
    result.map_err(|reason| StartError {
        reason: format!("{role}: {reason}"),
        logs: logs.clone(),
    })
}

fn response_or_default(request: &HttpRequest) -> Vec<(String, Vec<u8>)> {
    if request.response_headers.is_empty() {
        vec![(":status".to_string(), b"200".to_vec())]
    } else {
        HeaderMap::from_pairs(&request.response_headers).into_pairs()
    }
}

/// A failed VM with fail-open: the filter is skipped.
fn pass_through(request: &HttpRequest) -> StreamOutcome {
    StreamOutcome {
        upstream: Some(Upstream {
            headers: HeaderMap::from_pairs(&request.headers).into_pairs(),
            headers_modified_after_route: false,
        }),
        response_headers: response_or_default(request),
        ..StreamOutcome::default()
    }
}

/// The VM failed during this stream with fail-open: whatever was decided stands; a request that
/// had not gone upstream goes now with the headers as edited so far.
fn fail_open_now(request: &HttpRequest, edited: Vec<(String, Vec<u8>)>, out: &mut StreamOutcome) {
    if out.local_reply.is_none() && out.upstream.is_none() && !out.reset {
        out.upstream = Some(Upstream {
            headers: edited,
            headers_modified_after_route: false,
        });
    }
    if out.response_headers.is_empty() && out.local_reply.is_none() && !out.reset {
        out.response_headers = response_or_default(request);
    }
}

/// Fail closed: one local reply 503 `wasm_fail_stream`, gRPC UNAVAILABLE, without the plugin.
fn fail_closed(request: &HttpRequest, mut out: StreamOutcome) -> StreamOutcome {
    let reply = fail_stream_reply();
    let grpc = reply::is_grpc_request(&HeaderMap::from_pairs(&request.headers));
    out.response_headers = reply::local_reply_headers(&reply, grpc).into_pairs();
    out.local_reply = Some(reply);
    out
}

/// Collects a stream's outcome once its last callback ran (or trapped).
fn complete(
    run: StreamRun<'_>,
    result: Result<(), String>,
    request: &HttpRequest,
    policy: FailurePolicy,
) -> StreamOutcome {
    let edited = run.vm.state().headers.request.map.pairs().to_vec();
    let answered = run.answered;
    let out = run.finish();
    match result {
        Ok(()) => out,
        // A trap at access-log or destroy time cannot change a response already sent.
        Err(trap) if answered => StreamOutcome {
            trap: Some(trap),
            ..out
        },
        Err(trap) => after_trap(request, edited, out, trap, policy),
    }
}

/// The failure policy for a stream whose VM failed before the client had its answer; `edited`
/// is the request as the plugin left it.
fn after_trap(
    request: &HttpRequest,
    edited: Vec<(String, Vec<u8>)>,
    mut out: StreamOutcome,
    trap: String,
    policy: FailurePolicy,
) -> StreamOutcome {
    out.trap = Some(trap);
    match policy {
        FailurePolicy::FailOpen => {
            fail_open_now(request, edited, &mut out);
            out
        }
        FailurePolicy::FailClosed | FailurePolicy::FailReload => fail_closed(request, out),
    }
}

// === PendingStream ===

/// A stream [`Proxy::begin_stream`] started; [`Proxy::finish_stream`] ends it.
#[must_use = "a stream in flight ends only with Proxy::finish_stream"]
pub struct PendingStream(Pending);

enum Pending {
    /// The request phase ended the stream.
    Ended(Box<StreamOutcome>),
    /// The request went upstream; the response has not come back yet.
    InFlight(Box<InFlight>),
}

struct InFlight {
    request: HttpRequest,
    // Serial of the VM the stream lives in.
    vm: u64,
    stream: Suspended,
}

impl PendingStream {
    fn ended(outcome: StreamOutcome) -> Self {
        Self(Pending::Ended(Box::new(outcome)))
    }

    /// True while the request is upstream, waiting for its response.
    pub fn in_flight(&self) -> bool {
        matches!(self.0, Pending::InFlight(_))
    }

    /// The upstream request, if the stream is in flight.
    pub fn upstream(&self) -> Option<&Upstream> {
        match &self.0 {
            Pending::InFlight(in_flight) => in_flight.stream.out.upstream.as_ref(),
            Pending::Ended(_) => None,
        }
    }

    /// Sets the upstream's response headers that [`Proxy::finish_stream`] delivers, for an
    /// upstream whose answer is known only once it came back.
    pub fn respond(&mut self, headers: Vec<(String, Vec<u8>)>) {
        if let Pending::InFlight(in_flight) = &mut self.0 {
            in_flight.request.response_headers = headers;
        }
    }
}

/// A stream in flight, set aside from the VM.
struct Suspended {
    context: u32,
    root: u32,
    grpc: bool,
    out: StreamOutcome,
    slots: StreamSlots,
}

/// The host state that belongs to one stream. While the stream waits for its upstream, its
/// state waits here, so the VM looks idle to other streams, configuration updates and ticks.
#[derive(Default)]
struct StreamSlots {
    headers: abi::headers::HeaderMaps,
    info: Option<StreamInfo>,
    filter_state: BTreeMap<String, Vec<u8>>,
    route_cache_cleared: bool,
    calls: Vec<&'static str>,
    logs: Vec<LogEntry>,
}

impl StreamSlots {
    /// Exchanges these slots with the VM's: sets a stream aside, or puts it back.
    fn swap_with(&mut self, state: &mut HostState) {
        std::mem::swap(&mut self.headers, &mut state.headers);
        std::mem::swap(&mut self.info, &mut state.properties.stream);
        std::mem::swap(&mut self.filter_state, &mut state.properties.filter_state);
        std::mem::swap(
            &mut self.route_cache_cleared,
            &mut state.lifecycle.route_cache_cleared,
        );
        std::mem::swap(&mut self.calls, &mut state.calls);
        std::mem::swap(&mut self.logs, &mut state.log.entries);
    }
}

// === StreamRun ===

/// How the request phase ended.
enum RequestEnd {
    Upstream,
    LocalReply(LocalReply),
    Reset,
    Paused,
}

/// One stream in progress on the worker VM.
struct StreamRun<'a> {
    vm: &'a mut Vm,
    request: &'a HttpRequest,
    context: u32,
    root: u32,
    grpc: bool,
    out: StreamOutcome,
    // The stream reached access-log time: the client has its answer (or never will).
    answered: bool,
}

impl<'a> StreamRun<'a> {
    fn begin(vm: &'a mut Vm, root: u32, request: &'a HttpRequest) -> Self {
        let context = vm.alloc_context();
        let headers = HeaderMap::from_pairs(&request.headers);
        let grpc = reply::is_grpc_request(&headers);
        let state = vm.state();
        let start_ns = state.timers.clock.realtime_ns;
        state.calls.clear();
        state.log.entries.clear();
        state.headers = abi::headers::HeaderMaps {
            request: MapSlot::mutable(headers),
            ..Default::default()
        };
        state.properties.stream = Some(StreamInfo {
            destination_port: request.destination_port,
            protocol: DEFAULT_PROTOCOL.to_string(),
            start_ns,
            extra: request.properties.clone(),
        });
        state.properties.filter_state.clear();
        state.lifecycle.contexts.insert(context);
        state.lifecycle.stream_context = Some(context);
        state.lifecycle.route_cache_cleared = false;
        state.lifecycle.deferred.clear();
        let out = StreamOutcome {
            context_id: context,
            ..StreamOutcome::default()
        };
        Self {
            vm,
            request,
            context,
            root,
            grpc,
            out,
            answered: false,
        }
    }

    /// Sets the stream aside while its request is upstream.
    fn suspend(self) -> Suspended {
        let mut slots = StreamSlots::default();
        let state = self.vm.state();
        slots.swap_with(state);
        state.lifecycle.stream_context = None;
        Suspended {
            context: self.context,
            root: self.root,
            grpc: self.grpc,
            out: self.out,
            slots,
        }
    }

    /// Puts a stream set aside back on the VM.
    fn resume(vm: &'a mut Vm, request: &'a HttpRequest, mut stream: Suspended) -> Self {
        let state = vm.state();
        stream.slots.swap_with(state);
        state.lifecycle.stream_context = Some(stream.context);
        state.lifecycle.deferred.clear();
        Self {
            vm,
            request,
            context: stream.context,
            root: stream.root,
            grpc: stream.grpc,
            out: stream.out,
            answered: false,
        }
    }

    fn state(&mut self) -> &mut HostState {
        self.vm.state()
    }

    /// The request's callbacks in Envoy's order. `Ok(true)`: the request went upstream and
    /// waits for its response; `Ok(false)`: the stream ended here; `Err` is a trap.
    fn send_request(&mut self) -> Result<bool, String> {
        let (ctx, root) = (self.context as i32, self.root as i32);
        let create = self.vm.cb.context_create.clone();
        self.vm
            .invoke(create, self.context, self.root, (ctx, root))?;
        let mut end = self.request_phase()?;
        let body_delivered = matches!(end, RequestEnd::Paused) && self.request.body.is_some();
        if body_delivered {
            end = self.body_while_paused()?;
        }
        if matches!(end, RequestEnd::Paused) {
            end = self.await_callout()?;
        }
        match end {
            RequestEnd::Upstream => {
                self.out.upstream = Some(Upstream {
                    headers: self.state().headers.request.map.pairs().to_vec(),
                    headers_modified_after_route: self.state().headers.request_edited,
                });
                return Ok(body_delivered || !self.body_phase()?);
            }
            RequestEnd::LocalReply(reply) => self.local_reply(reply)?,
            RequestEnd::Reset => self.out.reset = true,
            RequestEnd::Paused => self.out.paused = true,
        }
        Ok(false)
    }

    /// The upstream's response through the plugin.
    fn receive_response(&mut self) -> Result<(), String> {
        let response = HeaderMap::from_pairs(&response_or_default(self.request));
        self.response_phase(response)
    }

    fn take_deferred(&mut self) -> (Vec<Deferred>, bool) {
        let lifecycle = &mut self.state().lifecycle;
        (
            std::mem::take(&mut lifecycle.deferred),
            lifecycle.local_reply_sent,
        )
    }

    /// `on_request_headers` and its deferred actions.
    fn request_phase(&mut self) -> Result<RequestEnd, String> {
        let count = self.request.headers.len() as i32;
        let end_of_stream = i32::from(self.request.body.is_none());
        let cb = self.vm.cb.request_headers.clone();
        let args = (self.context as i32, count, end_of_stream);
        let action = self
            .vm
            .invoke(cb, self.context, self.root, args)?
            .unwrap_or(0);
        let (deferred, local_reply_sent) = self.take_deferred();
        Ok(self.end_request(action == 0 && !local_reply_sent, deferred))
    }

    /// How the request phase ends after a callback: its deferred actions, else `continued`.
    fn end_request(&mut self, mut continued: bool, deferred: Vec<Deferred>) -> RequestEnd {
        let mut end = None;
        for action in deferred {
            match action {
                Deferred::LocalReply(reply) if end.is_none() => {
                    end = Some(RequestEnd::LocalReply(reply))
                }
                Deferred::Close(_) => end = Some(RequestEnd::Reset),
                Deferred::Continue(StreamType::HttpRequest) => continued = true,
                Deferred::LocalReply(_) | Deferred::Continue(_) => {}
            }
        }
        if let Some(end) = end {
            return end;
        }
        if continued {
            // Envoy drops its request-header pointer once decodeHeaders returns Continue.
            self.state().headers.request.access = Access::Absent;
            return RequestEnd::Upstream;
        }
        RequestEnd::Paused
    }

    /// The request paused: if one of the stream's own callouts is outstanding, Envoy waits for
    /// it. The case's answer goes to the first such call (an HTTP call before a gRPC one), and
    /// the plugin's reaction ends the request phase; the request headers stay editable until
    /// it continues. No answer, or none of the awaited kind, leaves the stream paused.
    fn await_callout(&mut self) -> Result<RequestEnd, String> {
        let (context, root) = (self.context, self.root);
        let state = self.state();
        let http =
            state.http_calls.calls.iter().find(|c| {
                c.context_id == context && state.http_calls.outstanding.contains(&c.token)
            });
        let grpc = state
            .grpc
            .calls
            .iter()
            .filter(|c| c.context_id == context && !c.stream && !c.closed)
            .map(|c| Callout::Grpc(c.token))
            .next();
        let awaited = http.map(|c| Callout::Http(c.token)).or(grpc);
        self.out.awaited = awaited;
        let (Some(callout), Some(answer)) = (awaited, self.request.callout_answer.as_ref()) else {
            return Ok(RequestEnd::Paused);
        };
        match (callout, answer) {
            (Callout::Http(token), CalloutAnswer::Http(response)) => {
                deliver_http(self.vm, context, root, token, response)?;
            }
            (Callout::Http(token), CalloutAnswer::Fail) => {
                deliver_http(self.vm, context, root, token, &HttpCallResponse::default())?;
            }
            (Callout::Grpc(token), CalloutAnswer::Grpc(message)) => {
                deliver_grpc(self.vm, context, root, token, Ok(message))?;
            }
            (Callout::Grpc(token), CalloutAnswer::Fail) => {
                deliver_grpc(
                    self.vm,
                    context,
                    root,
                    token,
                    Err(u32::from(GRPC_UNAVAILABLE)),
                )?;
            }
            (Callout::Http(_), CalloutAnswer::Grpc(_))
            | (Callout::Grpc(_), CalloutAnswer::Http(_)) => return Ok(RequestEnd::Paused),
        }
        let (deferred, _) = self.take_deferred();
        Ok(self.end_request(false, deferred))
    }

    /// `on_request_body` for a request whose headers phase paused: Envoy's `StopIteration`
    /// stops the filters after this one, and this one still gets the body (`end_of_stream`
    /// set), its request headers still editable. What it does then ends the request phase.
    fn body_while_paused(&mut self) -> Result<RequestEnd, String> {
        let body = self.request.body.clone().unwrap_or_default();
        let args = (self.context as i32, body.len() as i32, 1);
        self.state().buffers.request_body = Some(body);
        let cb = self.vm.cb.request_body.clone();
        let action = self.vm.invoke(cb, self.context, self.root, args);
        self.state().buffers.request_body = None;
        let action = action?.unwrap_or(0);
        let (deferred, local_reply_sent) = self.take_deferred();
        Ok(self.end_request(action == 0 && !local_reply_sent, deferred))
    }

    /// `on_request_body` when the request has one. Returns true when the stream ended here
    /// (paused, reset or answered locally), so no response phase follows.
    fn body_phase(&mut self) -> Result<bool, String> {
        let Some(body) = self.request.body.clone() else {
            return Ok(false);
        };
        self.state().buffers.request_body = Some(body.clone());
        let cb = self.vm.cb.request_body.clone();
        let args = (self.context as i32, body.len() as i32, 1);
        let action = self.vm.invoke(cb, self.context, self.root, args);
        self.state().buffers.request_body = None;
        let action = action?.unwrap_or(0);
        let (deferred, local_reply_sent) = self.take_deferred();
        let mut continued = action == 0 && !local_reply_sent;
        for action in deferred {
            match action {
                Deferred::LocalReply(reply) if self.out.local_reply.is_none() => {
                    self.direct_reply(reply);
                    return Ok(true);
                }
                Deferred::Close(_) => {
                    self.out.reset = true;
                    return Ok(true);
                }
                Deferred::Continue(StreamType::HttpRequest) => continued = true,
                Deferred::LocalReply(_) | Deferred::Continue(_) => {}
            }
        }
        if !continued {
            self.out.paused = true;
        }
        Ok(!continued)
    }

    /// `on_response_headers` with `response` as the mutable response map.
    fn response_phase(&mut self, response: HeaderMap) -> Result<(), String> {
        let count = response.len() as i32;
        self.state().headers.response = MapSlot::mutable(response);
        let cb = self.vm.cb.response_headers.clone();
        let args = (self.context as i32, count, 1);
        let action = self
            .vm
            .invoke(cb, self.context, self.root, args)?
            .unwrap_or(0);
        let (deferred, local_reply_sent) = self.take_deferred();
        let mut continued = action == 0 && !local_reply_sent;
        for action in deferred {
            match action {
                Deferred::LocalReply(reply) if self.out.local_reply.is_none() => {
                    // Response headers not yet sent: Envoy replaces them with the local reply,
                    // without running the encoder filters again.
                    self.direct_reply(reply);
                    return Ok(());
                }
                Deferred::Close(_) => {
                    self.out.reset = true;
                    return Ok(());
                }
                Deferred::Continue(StreamType::HttpResponse) => continued = true,
                Deferred::LocalReply(_) | Deferred::Continue(_) => {}
            }
        }
        if continued {
            self.out.response_headers = self.state().headers.response.map.pairs().to_vec();
        } else {
            self.out.paused = true;
        }
        Ok(())
    }

    /// A local reply from the request phase: Envoy sends it through the encoder filters, so the
    /// plugin's `on_response_headers` sees (and may edit) it. Request headers are still readable:
    /// the request never continued.
    fn local_reply(&mut self, reply: LocalReply) -> Result<(), String> {
        let headers = reply::local_reply_headers(&reply, self.grpc);
        self.out.local_reply = Some(reply);
        self.response_phase(headers)
    }

    fn direct_reply(&mut self, reply: LocalReply) {
        self.out.response_headers = reply::local_reply_headers(&reply, self.grpc).into_pairs();
        self.out.local_reply = Some(reply);
    }

    /// Access log, then stream destruction: `on_log` (read-only copies), `on_done`, `on_delete`.
    fn log_phase(&mut self) -> Result<(), String> {
        self.answered = true;
        let response = HeaderMap::from_pairs(&self.out.response_headers);
        let state = self.state();
        state.headers.log_phase = true;
        state.headers.request.access = Access::ReadOnly;
        state.headers.response = if response.is_empty() {
            MapSlot::default()
        } else {
            MapSlot::read_only(response)
        };
        let context = self.context as i32;
        let cb = self.vm.cb.log.clone();
        self.vm.invoke(cb, self.context, self.root, context)?;
        let state = self.state();
        state.headers.log_phase = false;
        state.headers.request.access = Access::Absent;
        state.headers.response.access = Access::Absent;
        let cb = self.vm.cb.done.clone();
        self.vm.invoke(cb, self.context, self.root, context)?;
        let cb = self.vm.cb.delete.clone();
        self.vm.invoke(cb, self.context, self.root, context)?;
        Ok(())
    }

    /// Collects the outcome and clears the stream from the VM.
    fn finish(mut self) -> StreamOutcome {
        let context = self.context;
        let state = self.vm.state();
        let mut out = std::mem::take(&mut self.out);
        out.route_cache_cleared = state.lifecycle.route_cache_cleared;
        out.logs = std::mem::take(&mut state.log.entries);
        out.calls = std::mem::take(&mut state.calls);
        out.filter_state = std::mem::take(&mut state.properties.filter_state)
            .into_iter()
            .map(|(k, v)| (k.replace('\0', "."), v))
            .collect();
        (out.http_calls, state.http_calls.calls) = std::mem::take(&mut state.http_calls.calls)
            .into_iter()
            .partition(|c| c.context_id == context);
        (out.grpc_calls, state.grpc.calls) = std::mem::take(&mut state.grpc.calls)
            .into_iter()
            .partition(|c| c.context_id == context);
        // Envoy cancels a stream's callouts when it is destroyed.
        state
            .http_calls
            .outstanding
            .retain(|t| !out.http_calls.iter().any(|c| c.token == *t));
        state.headers = abi::headers::HeaderMaps::default();
        state.buffers.request_body = None;
        state.properties.stream = None;
        state.lifecycle.stream_context = None;
        state.lifecycle.deferred.clear();
        state.lifecycle.route_cache_cleared = false;
        state.lifecycle.contexts.remove(&context);
        out
    }
}
