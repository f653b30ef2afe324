//! One HTTP stream: decide in the request-headers phase, then act; finish in the
//! response-headers phase with what the request phase remembered.
//!
//! Forwarding applies the header edits, timeouts and rewrites, names the backend the way the
//! configured target mode says (cluster header or `:authority`), sends mirror copies, records
//! the decision in filter state and clears the route cache so Envoy's router sees the new
//! headers. A local reply (404, 500, redirect, CORS preflight, gRPC status) stops the stream.
//! Nothing after the request phase reads request headers: Envoy no longer has them.

use std::rc::Rc;

use gatewasm_core::{Action, Decision, Forward, HeaderEdits, RequestView, RouteTable, Target};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as Next;

use crate::host::{self, HeaderMap};

/// Per-stream state.
pub(crate) struct Stream {
    table: Rc<RouteTable>,
    draw: u64,
    /// Response header edits decided in the request phase, applied in the response phase.
    response: Vec<HeaderEdits>,
}

impl Stream {
    pub(crate) fn new(table: Rc<RouteTable>, draw: u64) -> Self {
        Self {
            table,
            draw,
            response: Vec::new(),
        }
    }

    fn forward(&mut self, forward: &Forward<'_>, request: &RequestView<'_>) {
        for edits in &forward.request_headers {
            apply(HeaderMap::Request, edits);
        }
        for (name, value) in forward.envoy_headers {
            host::set_header(HeaderMap::Request, name, value.as_bytes());
        }
        if let Some(path) = &forward.path {
            host::set_header(HeaderMap::Request, ":path", path.as_bytes());
        }
        match self.table.target() {
            Target::ClusterHeader(header) => {
                host::set_header(
                    HeaderMap::Request,
                    header,
                    forward.backend.cluster.as_bytes(),
                );
                if let Some(authority) = forward.authority {
                    host::set_header(HeaderMap::Request, ":authority", authority.as_bytes());
                }
            }
            Target::Authority => {
                host::set_header(HeaderMap::Request, "x-forwarded-host", request.authority);
                host::set_header(
                    HeaderMap::Request,
                    ":authority",
                    forward.backend.authority.as_bytes(),
                );
            }
        }
        if !forward.mirrors.is_empty() {
            let upstream = host::RequestHeaders::read();
            let upstream = upstream.pairs();
            for backend in &forward.mirrors {
                host::send_mirror(&backend.cluster, &upstream);
            }
        }
        self.response = forward
            .response_headers
            .iter()
            .map(|e| (*e).clone())
            .chain(forward.generated_response_headers.iter().cloned())
            .collect();
        host::clear_route_cache();
    }
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Next {
        let headers = host::RequestHeaders::read();
        let headers = headers.pairs();
        let table = Rc::clone(&self.table);
        let mut request = RequestView::new(&headers, host::destination_port());
        if table.needs_sni() {
            request = request.with_sni(&host::requested_server_name());
        }
        if table.needs_time() {
            request.now = host::now_secs();
        }
        let decision = table.decide(&request, self.draw);
        record(&decision);
        match &decision.action {
            Action::Forward(forward) => {
                self.forward(forward, &request);
                Next::Continue
            }
            Action::Reply(reply) => {
                host::send_local_reply(
                    reply.status,
                    reply.details,
                    reply.grpc_status,
                    &reply.headers,
                );
                Next::Pause
            }
            Action::Pass => Next::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Next {
        for edits in &self.response {
            apply(HeaderMap::Response, edits);
        }
        Next::Continue
    }
}

/// Applies one header modifier: set, then add, then remove (each name has one action).
fn apply(map: HeaderMap, edits: &HeaderEdits) {
    for (name, value) in &edits.set {
        host::set_header(map, name, value.as_bytes());
    }
    for (name, value) in &edits.add {
        host::add_header(map, name, value.as_bytes());
    }
    for name in &edits.remove {
        host::remove_header(map, name);
    }
}

/// Filter state for access logs and host-sim, one host call per request: `wasm.gatewasm` is
/// `<namespace>/<route> <rule index> <backend namespace/name:port, or ->` whenever a rule
/// matched.
fn record(decision: &Decision<'_>) {
    let Some(rule) = decision.rule else { return };
    let backend = match &decision.action {
        Action::Forward(forward) => forward.backend.key.as_str(),
        _ => "-",
    };
    // Built by hand: `format!` costs more than the rest of this function per request.
    let index = rule.index.to_string();
    let mut value = String::with_capacity(
        rule.namespace.len() + rule.name.len() + index.len() + backend.len() + 3,
    );
    for part in [rule.namespace, "/", rule.name, " ", &index, " ", backend] {
        value.push_str(part);
    }
    host::set_filter_state("gatewasm", value.as_bytes());
}
