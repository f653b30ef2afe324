//! What a stream exchanges with the world: the request a caller hands in (with the answers to
//! its callouts and its upstream's response), and the outcome the client and upstream saw.
//!
//! Running the stream is `stream`'s job; this file only holds the data.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::abi::grpc::GrpcCall;
use crate::abi::http_call::HttpCall;
use crate::abi::lifecycle::LocalReply;
use crate::abi::log::LogEntry;
use crate::abi::properties::PropertyValue;

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
    /// The upstream's response body, if it has one.
    pub response_body: Option<Vec<u8>>,
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
    /// A unary gRPC call that ended with this status (not OK) and no message.
    GrpcStatus(u32),
    /// The call fails without an answer: no headers for an HTTP call (Envoy's reset), status
    /// UNAVAILABLE for a gRPC call.
    Fail,
}

/// The call a paused request waits on, for the caller to send.
#[derive(Clone, Debug)]
pub enum AwaitedCall {
    /// A `proxy_http_call`.
    Http(HttpCall),
    /// A `proxy_grpc_call`.
    Grpc(GrpcCall),
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
    /// The response body the client receives after the plugin's `on_response_body`, when the
    /// upstream sent one.
    pub response_body: Option<Vec<u8>>,
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
    /// How the plugin's counters and gauges changed, by metric name (see
    /// [`crate::abi::metrics::Metrics::changes`]); filled by [`crate::envoy::Proxy::stream`].
    pub metrics: Vec<(Arc<str>, i64)>,
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
