//! One HTTP stream through the plugin, callback by callback in Envoy's order, with the deferred
//! actions of each callback settled after it returns; and a stream set aside while its request
//! is upstream.
//!
//! Which streams run when, and what happens after a trap, is `proxy`'s business.

use std::collections::BTreeMap;

use gatewasm_core::GRPC_UNAVAILABLE;

use super::exchange::{
    Callout, CalloutAnswer, HttpCallResponse, HttpRequest, StreamOutcome, Upstream,
};
use super::proxy::{deliver_grpc, deliver_http, response_or_default};
use super::reply;
use super::vm::Vm;
use super::DEFAULT_PROTOCOL;
use crate::abi::headers::{Access, HeaderMap, MapSlot};
use crate::abi::lifecycle::{Deferred, LocalReply};
use crate::abi::log::LogEntry;
use crate::abi::properties::StreamInfo;
use crate::abi::types::StreamType;
use crate::abi::{self, HostState};

// === PendingStream ===

/// A stream [`Proxy::begin_stream`] started; [`Proxy::finish_stream`] ends it.
#[must_use = "a stream in flight ends only with Proxy::finish_stream"]
pub struct PendingStream(pub(super) Pending);

pub(super) enum Pending {
    /// The request phase ended the stream.
    Ended(Box<StreamOutcome>),
    /// The request went upstream; the response has not come back yet.
    InFlight(Box<InFlight>),
    /// The request waits for the answer to its callout (`Proxy::answer_callout`).
    Callout(Box<InFlight>),
}

/// How the request phase of a stream ended.
pub(super) enum Sent {
    /// The request went upstream.
    Upstream,
    /// The stream ended (a local reply, a reset, a stall).
    Ended,
    /// The request waits for the answer to its callout.
    Callout,
}

pub(super) struct InFlight {
    pub(super) request: HttpRequest,
    // Serial of the VM the stream lives in.
    pub(super) vm: u64,
    pub(super) stream: Suspended,
}

impl PendingStream {
    pub(super) fn ended(outcome: StreamOutcome) -> Self {
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
            Pending::Ended(_) | Pending::Callout(_) => None,
        }
    }

    /// The callout the request waits on, if it waits for one to be answered
    /// ([`Proxy::answer_callout`]).
    ///
    /// [`Proxy::answer_callout`]: super::Proxy::answer_callout
    pub fn awaited(&self) -> Option<Callout> {
        match &self.0 {
            Pending::Callout(waiting) => waiting.stream.out.awaited,
            Pending::Ended(_) | Pending::InFlight(_) => None,
        }
    }

    /// Sets the upstream's response headers that [`Proxy::finish_stream`] delivers, for an
    /// upstream whose answer is known only once it came back.
    ///
    /// [`Proxy::finish_stream`]: super::Proxy::finish_stream
    pub fn respond(&mut self, headers: Vec<(String, Vec<u8>)>) {
        if let Pending::InFlight(in_flight) = &mut self.0 {
            in_flight.request.response_headers = headers;
        }
    }
}

/// A stream in flight, set aside from the VM.
pub(super) struct Suspended {
    pub(super) context: u32,
    pub(super) root: u32,
    pub(super) grpc: bool,
    pub(super) out: StreamOutcome,
    pub(super) slots: StreamSlots,
}

/// The host state that belongs to one stream. While the stream waits for its upstream, its
/// state waits here, so the VM looks idle to other streams, configuration updates and ticks.
#[derive(Default)]
pub(super) struct StreamSlots {
    pub(super) headers: abi::headers::HeaderMaps,
    pub(super) info: Option<StreamInfo>,
    pub(super) filter_state: BTreeMap<String, Vec<u8>>,
    pub(super) route_cache_cleared: bool,
    pub(super) calls: Vec<&'static str>,
    pub(super) logs: Vec<LogEntry>,
}

impl StreamSlots {
    /// Exchanges these slots with the VM's: sets a stream aside, or puts it back.
    pub(super) fn swap_with(&mut self, state: &mut HostState) {
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

/// Where a callback and the actions it queued leave the stream's current phase.
enum Settled {
    /// The phase goes on: the request upstream, the response to the client.
    Continued,
    /// A local reply ends the stream.
    Reply(LocalReply),
    /// `proxy_close_stream`: Envoy resets the stream.
    Reset,
    /// The stream waits.
    Paused,
}

/// One stream in progress on the worker VM.
pub(super) struct StreamRun<'a> {
    pub(super) vm: &'a mut Vm,
    pub(super) request: &'a HttpRequest,
    pub(super) context: u32,
    pub(super) root: u32,
    pub(super) grpc: bool,
    pub(super) out: StreamOutcome,
    // The stream reached access-log time: the client has its answer (or never will).
    pub(super) answered: bool,
}

impl<'a> StreamRun<'a> {
    pub(super) fn begin(vm: &'a mut Vm, root: u32, request: &'a HttpRequest) -> Self {
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
    pub(super) fn suspend(self) -> Suspended {
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
    pub(super) fn resume(vm: &'a mut Vm, request: &'a HttpRequest, mut stream: Suspended) -> Self {
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
    pub(super) fn send_request(&mut self) -> Result<Sent, String> {
        let (ctx, root) = (self.context as i32, self.root as i32);
        let create = self.vm.cb.context_create.clone();
        self.vm
            .invoke(create, self.context, self.root, (ctx, root))?;
        let mut end = self.request_phase()?;
        let body_delivered = matches!(end, Settled::Paused) && self.request.body.is_some();
        if body_delivered {
            end = self.body_while_paused()?;
        }
        if matches!(end, Settled::Paused) {
            end = self.await_callout()?;
            if matches!(end, Settled::Paused)
                && self.out.awaited.is_some()
                && self.request.callout_answer.is_none()
            {
                return Ok(Sent::Callout);
            }
        }
        self.conclude(end, body_delivered)
    }

    /// A request waiting on a callout that will never be answered stays paused.
    pub(super) fn stall(&mut self) {
        self.out.paused = true;
    }

    /// Delivers the answer to the callout a suspended request waits on, and goes on as the
    /// request phase would have with that answer.
    pub(super) fn answer(&mut self, answer: &CalloutAnswer) -> Result<Sent, String> {
        let Some(callout) = self.out.awaited else {
            return self.conclude(Settled::Paused, false);
        };
        let end = if self.deliver(callout, answer)? {
            let (deferred, _) = self.take_deferred();
            self.end_request(false, deferred)
        } else {
            Settled::Paused
        };
        self.conclude(end, self.request.body.is_some())
    }

    /// Where the request phase ended: upstream (then the body, unless it was delivered while
    /// paused), or the stream's end.
    fn conclude(&mut self, end: Settled, body_delivered: bool) -> Result<Sent, String> {
        match end {
            Settled::Continued => {
                self.out.upstream = Some(Upstream {
                    headers: self.state().headers.request.map.pairs().to_vec(),
                    headers_modified_after_route: self.state().headers.request_edited,
                });
                if body_delivered || !self.body_phase()? {
                    return Ok(Sent::Upstream);
                }
            }
            Settled::Reply(reply) => self.local_reply(reply)?,
            Settled::Reset => self.out.reset = true,
            Settled::Paused => self.out.paused = true,
        }
        Ok(Sent::Ended)
    }

    /// The upstream's response through the plugin.
    pub(super) fn receive_response(&mut self) -> Result<(), String> {
        let response = HeaderMap::from_pairs(&response_or_default(self.request));
        self.response_phase(response)?;
        match &self.request.response_body {
            Some(body) if !self.out.reset && !self.out.paused && self.out.local_reply.is_none() => {
                self.response_body_phase(body)
            }
            _ => Ok(()),
        }
    }

    /// `on_response_body` for the upstream's body, delivered as Envoy delivers a body that
    /// arrives in two pieces (halves; one piece when it is a byte or less). A piece the plugin
    /// pauses on (`StopIterationAndBuffer`) stays buffered, and the next call sees all that is
    /// buffered with its total size; one it continues on goes to the client as the plugin left
    /// it. A pause on the last piece stalls the stream, as Envoy waits for a resume.
    fn response_body_phase(&mut self, body: &[u8]) -> Result<(), String> {
        let half = body.len() / 2;
        let pieces = if half == 0 {
            vec![body]
        } else {
            vec![&body[..half], &body[half..]]
        };
        let mut sent = Vec::new();
        let mut buffered = Vec::new();
        for (index, piece) in pieces.iter().enumerate() {
            let end_of_stream = index + 1 == pieces.len();
            buffered.extend_from_slice(piece);
            let size = buffered.len() as i32;
            self.state().buffers.response_body = Some(std::mem::take(&mut buffered));
            let cb = self.vm.cb.response_body.clone();
            let args = (self.context as i32, size, i32::from(end_of_stream));
            let action = self
                .vm
                .invoke(cb, self.context, self.root, args)?
                .unwrap_or(0);
            buffered = self
                .state()
                .buffers
                .response_body
                .take()
                .unwrap_or_default();
            let (deferred, local_reply_sent) = self.take_deferred();
            match self.settle(
                action == 0 && !local_reply_sent,
                deferred,
                StreamType::HttpResponse,
            ) {
                Settled::Continued => sent.append(&mut buffered),
                Settled::Paused if !end_of_stream => {}
                Settled::Paused => {
                    self.out.paused = true;
                    return Ok(());
                }
                // The headers are gone: a local reply can only reset the stream now.
                Settled::Reply(_) | Settled::Reset => {
                    self.out.reset = true;
                    return Ok(());
                }
            }
        }
        self.out.response_body = Some(sent);
        Ok(())
    }

    fn take_deferred(&mut self) -> (Vec<Deferred>, bool) {
        let lifecycle = &mut self.state().lifecycle;
        (
            std::mem::take(&mut lifecycle.deferred),
            lifecycle.local_reply_sent,
        )
    }

    /// `on_request_headers` and its deferred actions.
    fn request_phase(&mut self) -> Result<Settled, String> {
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
    fn end_request(&mut self, continued: bool, deferred: Vec<Deferred>) -> Settled {
        let settled = self.settle(continued, deferred, StreamType::HttpRequest);
        if matches!(settled, Settled::Continued) {
            // Envoy drops its request-header pointer once decodeHeaders returns Continue.
            self.state().headers.request.access = Access::Absent;
        }
        settled
    }

    /// Runs the actions a callback queued, in order, as Envoy runs them after the call returns:
    /// the first local reply (while the stream has none yet) or close ends the stream and the
    /// actions after it come too late; a continue of `direction` lets the phase go on, as does
    /// `continued` (the callback's own answer).
    fn settle(
        &self,
        mut continued: bool,
        deferred: Vec<Deferred>,
        direction: StreamType,
    ) -> Settled {
        for action in deferred {
            match action {
                Deferred::LocalReply(reply) if self.out.local_reply.is_none() => {
                    return Settled::Reply(reply)
                }
                Deferred::Close(_) => return Settled::Reset,
                Deferred::Continue(stream) if stream == direction => continued = true,
                Deferred::LocalReply(_) | Deferred::Continue(_) => {}
            }
        }
        if continued {
            Settled::Continued
        } else {
            Settled::Paused
        }
    }

    /// The request paused: if one of the stream's own callouts is outstanding, Envoy waits for
    /// it. The case's answer goes to the first such call (an HTTP call before a gRPC one), and
    /// the plugin's reaction ends the request phase; the request headers stay editable until
    /// it continues. No answer, or none of the awaited kind, leaves the stream paused.
    fn await_callout(&mut self) -> Result<Settled, String> {
        let context = self.context;
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
        let (Some(callout), Some(answer)) = (awaited, self.request.callout_answer.clone()) else {
            return Ok(Settled::Paused);
        };
        if !self.deliver(callout, &answer)? {
            return Ok(Settled::Paused);
        }
        let (deferred, _) = self.take_deferred();
        Ok(self.end_request(false, deferred))
    }

    /// Hands `answer` to the plugin's callback for `callout`; false when it is an answer of
    /// the other kind, which the plugin never gets.
    fn deliver(&mut self, callout: Callout, answer: &CalloutAnswer) -> Result<bool, String> {
        let (context, root) = (self.context, self.root);
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
            (Callout::Grpc(token), CalloutAnswer::GrpcStatus(status)) => {
                deliver_grpc(self.vm, context, root, token, Err(*status))?;
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
            (Callout::Http(_), CalloutAnswer::Grpc(_) | CalloutAnswer::GrpcStatus(_))
            | (Callout::Grpc(_), CalloutAnswer::Http(_)) => return Ok(false),
        }
        Ok(true)
    }

    /// `on_request_body` for a request whose headers phase paused: Envoy's `StopIteration`
    /// stops the filters after this one, and this one still gets the body (`end_of_stream`
    /// set), its request headers still editable. What it does then ends the request phase.
    fn body_while_paused(&mut self) -> Result<Settled, String> {
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
        let continued = action == 0 && !local_reply_sent;
        match self.settle(continued, deferred, StreamType::HttpRequest) {
            Settled::Continued => return Ok(false),
            Settled::Reply(reply) => self.direct_reply(reply),
            Settled::Reset => self.out.reset = true,
            Settled::Paused => self.out.paused = true,
        }
        Ok(true)
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
        let continued = action == 0 && !local_reply_sent;
        match self.settle(continued, deferred, StreamType::HttpResponse) {
            Settled::Continued => {
                self.out.response_headers = self.state().headers.response.map.pairs().to_vec();
            }
            // Response headers not yet sent: Envoy replaces them with the local reply, without
            // running the encoder filters again.
            Settled::Reply(reply) => self.direct_reply(reply),
            Settled::Reset => self.out.reset = true,
            Settled::Paused => self.out.paused = true,
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
    pub(super) fn log_phase(&mut self) -> Result<(), String> {
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
    pub(super) fn finish(mut self) -> StreamOutcome {
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
