//! The effects a decision has on a request and its answer: the backend it goes to, how that
//! reaches Envoy's router, header edits, and the local replies with their gRPC status codes.
//!
//! A leaf: these are plain values shared by the table, the filters, the authorization check,
//! sessions and the decision; choosing them is [`crate::decide`]'s job.

/// A backend the filter can send to, with its names precomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// `namespace/name:port`.
    pub key: String,
    /// Envoy cluster name (the `clusterHeader` value).
    pub cluster: String,
    /// Upstream `:authority` in `authority` mode.
    pub authority: String,
}

/// How the decision reaches Envoy's router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Set this header to the cluster name; a `cluster_header` route reads it.
    ClusterHeader(String),
    /// Rewrite `:authority` to the backend's, keeping the original in `x-forwarded-host`.
    Authority,
}

impl Default for Target {
    fn default() -> Self {
        Self::ClusterHeader(String::from(DEFAULT_CLUSTER_HEADER))
    }
}

/// The request header a `cluster_header` route reads unless configured otherwise.
pub const DEFAULT_CLUSTER_HEADER: &str = "x-gatewasm-cluster";

/// One compiled `RequestHeaderModifier` (or `ResponseHeaderModifier`): lowercase names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderEdits {
    /// Replace every value (or create).
    pub set: Vec<(String, String)>,
    /// Append a value.
    pub add: Vec<(String, String)>,
    /// Delete every value.
    pub remove: Vec<String>,
}

/// A reply the filter sends itself instead of forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalReply {
    /// HTTP status.
    pub status: u16,
    /// Envoy response details (`%RESPONSE_CODE_DETAILS%`), no spaces.
    pub details: &'static str,
    /// gRPC status for gRPC requests (the HTTP status is then 200).
    pub grpc_status: Option<u8>,
    /// Response headers (`location` for redirects, `access-control-*` for preflights).
    pub headers: Vec<(String, String)>,
    /// Response body (an authorization server's denial); usually empty.
    pub body: Vec<u8>,
}

/// gRPC status UNIMPLEMENTED: no route for this method.
pub const GRPC_UNIMPLEMENTED: u8 = 12;
/// gRPC status UNAVAILABLE: the chosen backend cannot be used.
pub const GRPC_UNAVAILABLE: u8 = 14;

impl LocalReply {
    /// A reply with `status` and `details`, no headers and no body.
    pub(crate) fn new(status: u16, details: &'static str) -> Self {
        Self {
            status,
            details,
            grpc_status: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// An error reply: HTTP `http`, or gRPC `grpc` on HTTP 200 for gRPC requests.
    pub(crate) fn error(grpc: bool, http: u16, grpc_status: u8, details: &'static str) -> Self {
        if grpc {
            Self {
                grpc_status: Some(grpc_status),
                ..Self::new(200, details)
            }
        } else {
            Self::new(http, details)
        }
    }
}
