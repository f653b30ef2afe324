//! One plugin on one Envoy worker: start-up with the canary VM, xDS updates, streams started and
//! finished, callout answers, timers, and the failure policies applied after a trap.
//!
//! The callbacks of one stream run in `stream`; VMs themselves are `vm`'s.

use std::time::Duration;

use anyhow::{bail, Result};
use gatewasm_core::SplitMix64;

use super::connection_manager::Admission;
use super::exchange::{
    AwaitedCall, Callout, CalloutAnswer, HttpCallResponse, HttpRequest, StreamOutcome, Upstream,
};
use super::module::WasmModule;
use super::options::{FailurePolicy, PluginOptions, StartError};
use super::reply::{self, fail_stream_reply};
use super::stream::{InFlight, Pending, PendingStream, Sent, StreamRun, Suspended};
use super::vm::{Vm, VmFailure, VmSetup};
use super::BROKEN_CONNECTION;
use crate::abi::headers::{HeaderMap, MapSlot};
use crate::abi::http_call::HttpCall;
use crate::abi::lifecycle::LocalReply;
use crate::abi::log::LogEntry;
use crate::abi::metrics::Metric;
use crate::abi::shared_data::SharedHandle;
use crate::abi::timers::Clock;

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

    /// Runs one HTTP stream through the plugin, start to end (see the module docs); the
    /// outcome's `metrics` holds what the stream counted.
    pub fn stream(&mut self, request: &HttpRequest) -> StreamOutcome {
        self.shared.lock().metrics.watch();
        let pending = self.begin_stream(request);
        let mut outcome = self.finish_stream(pending);
        outcome.metrics = self.shared.lock().metrics.changes();
        outcome
    }

    /// Starts a stream and runs its request phase: `on_context_create`, `on_request_headers`
    /// and `on_request_body`. A request that went upstream is then in flight until
    /// [`Proxy::finish_stream`]: other streams, [`Proxy::reconfigure`] and ticks may run
    /// meanwhile, and the stream keeps its context and the root context it was created under,
    /// as Envoy's filter keeps its plugin handle. A stream that ended in the request phase
    /// (local reply, reset, pause, trap, failure policy) is already complete, access log
    /// included.
    pub fn begin_stream(&mut self, request: &HttpRequest) -> PendingStream {
        let admitted;
        let request = match self.options.connection_manager.admit(request) {
            Admission::Unchanged => request,
            Admission::Rewritten(rewritten) => {
                admitted = *rewritten;
                &admitted
            }
            Admission::Reply(reply) => {
                return PendingStream::ended(local_reply(request, reply, StreamOutcome::default()))
            }
        };
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
        let vm = self.worker.state().vm_serial;
        let mut run = StreamRun::begin(&mut self.worker, self.root_id, request);
        let sent = run.send_request();
        set_aside(run, sent, request, policy, (vm, &mut self.in_flight))
    }

    /// Answers the callout a stream [`Proxy::begin_stream`] returned waits on
    /// ([`PendingStream::awaited`]), as Envoy delivers a callout's response when it arrives:
    /// the plugin's callback runs, and the stream goes on as its request phase would have.
    /// Other streams, updates and ticks may have run meanwhile.
    pub fn answer_callout(
        &mut self,
        pending: PendingStream,
        answer: &CalloutAnswer,
    ) -> PendingStream {
        let waiting = match pending.0 {
            Pending::Callout(waiting) => *waiting,
            other => return PendingStream(other),
        };
        let (request, vm, stream) = match self.take_back(waiting) {
            Ok(taken) => taken,
            Err(outcome) => return PendingStream(Pending::Ended(outcome)),
        };
        let policy = self.options.failure_policy;
        let mut run = StreamRun::resume(&mut self.worker, &request, stream);
        let sent = run.answer(answer);
        set_aside(run, sent, &request, policy, (vm, &mut self.in_flight))
    }

    /// Takes a stream set aside back for the worker VM: no longer counted in flight, the
    /// clock synced and the VM's pending logs kept. `Err` with the stream's outcome when the VM
    /// it started on failed and was replaced meanwhile: the stream goes down with it.
    fn take_back(
        &mut self,
        InFlight {
            request,
            vm,
            stream,
        }: InFlight,
    ) -> Result<(HttpRequest, u64, Suspended), Box<StreamOutcome>> {
        if let Some(at) = self.in_flight.iter().position(|&s| s == (vm, stream.root)) {
            self.in_flight.swap_remove(at);
        }
        if self.worker.state().vm_serial != vm {
            let trap = "the worker VM this stream started on failed and was replaced".to_string();
            let policy = self.options.failure_policy;
            return Err(Box::new(after_trap(
                &request,
                Vec::new(),
                stream.out,
                trap,
                policy,
            )));
        }
        self.sync_clock();
        let leftover = self.worker.take_logs();
        self.logs.extend(leftover);
        Ok((request, vm, stream))
    }

    /// Ends a stream [`Proxy::begin_stream`] returned: for one in flight, the upstream's
    /// response (`HttpRequest::response_headers`) goes through `on_response_headers`, then
    /// `on_log`, `on_done` and `on_delete`. A root context that a configuration update replaced
    /// is shut down once its last stream has ended.
    pub fn finish_stream(&mut self, pending: PendingStream) -> StreamOutcome {
        let (set_aside, upstream) = match pending.0 {
            Pending::Ended(outcome) => return *outcome,
            Pending::InFlight(in_flight) => (*in_flight, true),
            // Never answered: the stream stalls, as it would in Envoy without an answer.
            Pending::Callout(waiting) => (*waiting, false),
        };
        let (request, _, stream) = match self.take_back(set_aside) {
            Ok(taken) => taken,
            Err(outcome) => return *outcome,
        };
        let (root, policy) = (stream.root, self.options.failure_policy);
        let mut run = StreamRun::resume(&mut self.worker, &request, stream);
        let result = if upstream {
            run.receive_response().and_then(|()| run.log_phase())
        } else {
            run.stall();
            run.log_phase()
        };
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

    /// The call a stream waiting on a callout ([`PendingStream::awaited`]) made, for the
    /// caller to send; `None` for a stream that waits for nothing.
    pub fn awaited_call(&mut self, pending: &PendingStream) -> Option<AwaitedCall> {
        let state = self.worker.state();
        match pending.awaited()? {
            Callout::Http(token) => state
                .http_calls
                .calls
                .iter()
                .find(|c| c.token == token)
                .cloned()
                .map(AwaitedCall::Http),
            Callout::Grpc(token) => state
                .grpc
                .calls
                .iter()
                .find(|c| c.token == token)
                .cloned()
                .map(AwaitedCall::Grpc),
        }
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

    /// The plugin's metrics as every VM of this proxy counted them (Envoy keeps them
    /// process-wide), with their values.
    pub fn metrics(&self) -> Vec<Metric> {
        self.shared.lock().metrics.metrics.clone()
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
    pub(super) fn retire_if_idle(&mut self, root: u32, logs: &mut Vec<LogEntry>) {
        let vm = self.worker.state().vm_serial;
        if root == self.root_id || self.in_flight.contains(&(vm, root)) {
            return;
        }
        // A trap while retiring the old root fails the VM; later streams see it.
        let _retired = self.worker.retire_root(root);
        logs.extend(self.worker.take_logs());
    }

    pub(super) fn sync_clock(&mut self) {
        self.worker.state().timers.clock = self.clock;
    }

    pub(super) fn boot_vm(
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
    pub(super) fn replace_worker(
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
pub(super) fn deliver_http(
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
pub(super) fn deliver_grpc(
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

pub(super) fn start_error(role: &str, failure: VmFailure, logs: &mut Vec<LogEntry>) -> StartError {
    logs.extend(failure.logs);
    StartError {
        reason: format!("{role}: {}", failure.reason),
        logs: logs.clone(),
    }
}

/// Root context 1 of a fresh VM: create, `on_vm_start`, `on_configure`.
pub(super) fn configure_fresh(
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

pub(super) fn response_or_default(request: &HttpRequest) -> Vec<(String, Vec<u8>)> {
    if request.response_headers.is_empty() {
        vec![(":status".to_string(), b"200".to_vec())]
    } else {
        HeaderMap::from_pairs(&request.response_headers).into_pairs()
    }
}

/// A failed VM with fail-open: the filter is skipped.
pub(super) fn pass_through(request: &HttpRequest) -> StreamOutcome {
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
pub(super) fn fail_open_now(
    request: &HttpRequest,
    edited: Vec<(String, Vec<u8>)>,
    out: &mut StreamOutcome,
) {
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
pub(super) fn fail_closed(request: &HttpRequest, out: StreamOutcome) -> StreamOutcome {
    local_reply(request, fail_stream_reply(), out)
}

/// A reply Envoy itself sends, without the plugin.
fn local_reply(request: &HttpRequest, reply: LocalReply, mut out: StreamOutcome) -> StreamOutcome {
    let grpc = reply::is_grpc_request(&HeaderMap::from_pairs(&request.headers));
    out.response_headers = reply::local_reply_headers(&reply, grpc).into_pairs();
    out.local_reply = Some(reply);
    out
}

/// Collects a stream's outcome once its last callback ran (or trapped).
pub(super) fn complete(
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
pub(super) fn after_trap(
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

/// After a request phase on VM `vm`: a stream that went upstream or waits for a callout is set
/// aside (and counted in `in_flight`), any other is logged and complete.
fn set_aside(
    mut run: StreamRun<'_>,
    sent: Result<Sent, String>,
    request: &HttpRequest,
    policy: FailurePolicy,
    (vm, in_flight): (u64, &mut Vec<(u64, u32)>),
) -> PendingStream {
    let result = match sent {
        Ok(sent @ (Sent::Upstream | Sent::Callout)) => {
            let stream = run.suspend();
            in_flight.push((vm, stream.root));
            let set_aside = Box::new(InFlight {
                request: request.clone(),
                vm,
                stream,
            });
            return PendingStream(if matches!(sent, Sent::Upstream) {
                Pending::InFlight(set_aside)
            } else {
                Pending::Callout(set_aside)
            });
        }
        Ok(Sent::Ended) => run.log_phase(),
        Err(trap) => Err(trap),
    };
    PendingStream::ended(complete(run, result, request, policy))
}
