//! One HTTP stream: decide in the request-headers phase, then act.
//!
//! Forwarding applies the rule's and backend's header edits, names the backend the way the
//! configured target mode says (cluster header or `:authority`), records the decision in
//! filter state and clears the route cache so Envoy's router sees the new headers. A local reply
//! (404, 500) stops the stream.

use std::rc::Rc;

use gatewasm_core::{Action, Decision, HeaderEdits, RequestView, RouteTable, Target};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as Next;

use crate::host;

/// Per-stream state.
pub(crate) struct Stream {
    table: Rc<RouteTable>,
    draw: u64,
}

impl Stream {
    pub(crate) fn new(table: Rc<RouteTable>, draw: u64) -> Self {
        Self { table, draw }
    }
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Next {
        let headers = host::request_headers();
        let request = RequestView::new(&headers, host::destination_port());
        let decision = self.table.decide(&request, self.draw);
        record(&decision);
        match decision.action {
            Action::Forward {
                backend,
                request_headers,
            } => {
                for edits in request_headers {
                    apply(edits);
                }
                match self.table.target() {
                    Target::ClusterHeader(header) => {
                        host::set_request_header(header, backend.cluster.as_bytes())
                    }
                    Target::Authority => {
                        host::set_request_header("x-forwarded-host", request.authority);
                        host::set_request_header(":authority", backend.authority.as_bytes());
                    }
                }
                host::clear_route_cache();
                Next::Continue
            }
            Action::Reply(reply) => {
                host::send_local_reply(reply.status, reply.details, reply.grpc_status);
                Next::Pause
            }
        }
    }
}

/// Applies one header modifier: set, then add, then remove (each name has one action).
fn apply(edits: &HeaderEdits) {
    for (name, value) in &edits.set {
        host::set_request_header(name, value.as_bytes());
    }
    for (name, value) in &edits.add {
        host::add_request_header(name, value.as_bytes());
    }
    for name in &edits.remove {
        host::remove_request_header(name);
    }
}

/// Filter state for access logs and host-sim: `wasm.gatewasm.route` (`namespace/name`),
/// `wasm.gatewasm.rule` (index in `spec.rules`) and `wasm.gatewasm.backend`
/// (`namespace/name:port`).
fn record(decision: &Decision<'_>) {
    if let Some(rule) = decision.rule {
        host::set_filter_state(
            "gatewasm.route",
            format!("{}/{}", rule.namespace, rule.name).as_bytes(),
        );
        host::set_filter_state("gatewasm.rule", rule.index.to_string().as_bytes());
    }
    if let Action::Forward { backend, .. } = &decision.action {
        host::set_filter_state("gatewasm.backend", backend.key.as_bytes());
    }
}
