//! One HTTP stream: decide in the request-headers phase, then act; finish in the
//! response-headers phase with what the request phase remembered.
//!
//! A decision with an auth step sends the check and pauses the request; a check that carries
//! the body (`forwardBody`) waits, paused, until that much body is buffered or the body ends.
//! Later phases decide again from the paused request (same headers, draw and time, so the same
//! decision). When the answer comes, while the request headers are still Envoy's to edit, the
//! verdict applies: an allowing answer's header edits, then the decision, then the request
//! resumes; a denial or a failed check answers the client. Answers to other calls (mirrors) are
//! ignored.
//!
//! Forwarding applies the header edits, timeouts and rewrites, names the backend the way the
//! configured target mode says (cluster header or `:authority`), sends mirror copies, records
//! the decision in filter state and clears the route cache so Envoy's router sees the new
//! headers. A local reply (404, 500, redirect, CORS preflight, gRPC status) stops the stream.
//! Nothing after the request phase reads request headers: Envoy no longer has them.

use std::rc::Rc;
use std::time::Duration;

use gatewasm_core::{
    Action, AuthAnswer, AuthCheck, CheckRequest, Forward, HeaderEdits, HeaderPairs, LocalReply,
    RequestView, RouteTable, RuleRef, Target, Verdict, AUTHZ_METHOD, AUTHZ_SERVICE,
    AUTHZ_TIMEOUT_MS,
};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as Next;

use crate::host::{self, HeaderMap};
use crate::metrics::Metrics;

/// Per-stream state.
pub(crate) struct Stream {
    table: Rc<RouteTable>,
    metrics: Rc<Metrics>,
    draw: u64,
    /// Response header edits decided in the request phase, applied in the response phase.
    response: Vec<HeaderEdits>,
    /// The time the decision used, so that deciding again after a check gives the same one.
    now: Option<u64>,
    /// The token of the outstanding authorization check.
    check: Option<u32>,
    /// Bytes of body the check waits for before it goes out (0: it does not wait).
    body_wanted: usize,
}

impl Stream {
    pub(crate) fn new(table: Rc<RouteTable>, metrics: Rc<Metrics>, draw: u64) -> Self {
        Self {
            table,
            metrics,
            draw,
            response: Vec::new(),
            now: None,
            check: None,
            body_wanted: 0,
        }
    }

    /// The request as the table sees it; the time is read once per stream.
    fn view<'h>(&mut self, headers: &'h HeaderPairs<'h>) -> RequestView<'h> {
        let port = self.table.sole_port().or_else(host::destination_port);
        let mut request = RequestView::new(headers, port);
        if self.table.needs_sni() {
            request = request.with_sni(&host::requested_server_name());
        }
        if self.table.needs_client_address() {
            request.client = host::source_address();
        }
        if self.table.needs_time() {
            if self.now.is_none() {
                self.now = host::now_secs();
            }
            request.now = self.now;
        }
        request
    }

    /// Decides again for the paused request and hands the forward decision and its auth step
    /// to `then`.
    fn redecide(
        &mut self,
        then: impl FnOnce(
            &mut Self,
            Option<RuleRef<'_>>,
            &Forward<'_>,
            &AuthCheck<'_>,
            &RequestView<'_>,
        ),
    ) {
        let headers = host::RequestHeaders::read();
        let headers = headers.pairs();
        let table = Rc::clone(&self.table);
        let request = self.view(&headers);
        let decision = table.decide(&request, self.draw);
        if let Action::Forward(forward) = &decision.action {
            if let Some(check) = &forward.auth {
                then(self, decision.rule, forward, check, &request);
            }
        }
    }

    /// Sends the check with `body`; a check Envoy refuses fails closed at once.
    fn send_check(&mut self, check: &AuthCheck<'_>, request: &RequestView<'_>, body: &[u8]) {
        let timeout = Duration::from_millis(AUTHZ_TIMEOUT_MS);
        self.check = match check.request(request, body) {
            CheckRequest::Http { headers, body } => {
                let pairs: Vec<(&str, &[u8])> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_slice()))
                    .collect();
                host::http_call(&check.server.cluster, &pairs, &body, timeout)
            }
            CheckRequest::Grpc { service, message } => {
                host::grpc_call(&service, AUTHZ_SERVICE, AUTHZ_METHOD, &message, timeout)
            }
        };
        if self.check.is_none() {
            self.reply(&AuthCheck::failure());
        }
    }

    /// Applies the server's answer to the paused request.
    fn finish_check(&mut self, answer: AuthAnswer<'_>) {
        self.check = None;
        self.redecide(
            |stream, rule, forward, check, request| match check.verdict(answer) {
                Verdict::Allow(edits) => {
                    record(rule, &forward.backend.key);
                    stream.count_forward(rule, &forward.backend.key);
                    apply(HeaderMap::Request, &edits);
                    stream.forward(forward, request);
                    host::resume_request();
                }
                Verdict::Deny(reply) => stream.reply(&reply),
            },
        );
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
                self.metrics.mirrored(&backend.key);
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

    fn count_forward(&self, rule: Option<RuleRef<'_>>, backend: &str) {
        if let Some(rule) = rule {
            self.metrics.forwarded(&rule, backend);
        }
    }

    /// Answers locally, and counts the reply by its reason.
    fn reply(&self, reply: &LocalReply) {
        self.metrics.replied(reply);
        host::send_local_reply(reply);
    }
}

impl Context for Stream {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        if self.check == Some(token_id) {
            let (headers, body) = host::http_call_response(num_headers, body_size);
            self.finish_check(AuthAnswer::Http {
                headers: &headers,
                body: &body,
            });
        }
    }

    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        if self.check == Some(token_id) {
            let message = host::grpc_call_response(response_size);
            self.finish_check(AuthAnswer::Grpc {
                status: status_code,
                message: &message,
            });
        }
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Next {
        let headers = host::RequestHeaders::read();
        let headers = headers.pairs();
        let table = Rc::clone(&self.table);
        let request = self.view(&headers);
        let decision = table.decide(&request, self.draw);
        let rule = decision.rule;
        match &decision.action {
            Action::Forward(forward) => match &forward.auth {
                Some(check) => {
                    // No backend until the server allows the request.
                    record(rule, "-");
                    if check.body_limit() > 0 && !end_of_stream {
                        self.body_wanted = check.body_limit();
                    } else {
                        self.send_check(check, &request, &[]);
                    }
                    Next::Pause
                }
                None => {
                    record(rule, &forward.backend.key);
                    self.count_forward(rule, &forward.backend.key);
                    self.forward(forward, &request);
                    Next::Continue
                }
            },
            Action::Reply(reply) => {
                record(rule, "-");
                self.reply(reply);
                Next::Pause
            }
            Action::Pass => {
                // A request the filter leaves alone must not pick its own cluster: the sidecar's
                // decision route would honour a decision header the client sent.
                if let Target::ClusterHeader(header) = self.table.target() {
                    if headers
                        .iter()
                        .any(|(name, _)| name.eq_ignore_ascii_case(header))
                    {
                        host::remove_header(HeaderMap::Request, header);
                    }
                }
                Next::Continue
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Next {
        if self.body_wanted == 0 {
            // While a check is out, the body waits with the headers: continuing here would let
            // the request through unchecked.
            return if self.check.is_some() {
                Next::Pause
            } else {
                Next::Continue
            };
        }
        if body_size < self.body_wanted && !end_of_stream {
            return Next::Pause; // Envoy keeps buffering
        }
        let body = host::request_body(body_size.min(self.body_wanted));
        self.body_wanted = 0;
        self.redecide(|stream, _, _, check, request| stream.send_check(check, request, &body));
        Next::Pause
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

/// Filter state for access logs and host-sim, one host call per request (two when an
/// authorization server allows it): `wasm.gatewasm` is `<namespace>/<route> <rule index>
/// <backend namespace/name:port, or ->` whenever a rule matched.
fn record(rule: Option<RuleRef<'_>>, backend: &str) {
    let Some(rule) = rule else { return };
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
