//! What the core decides for a request: the rule it came from, and to forward (with the edits
//! on the way), to answer locally, or to leave the request alone. Deciding is `decide`'s (and
//! for Ingresses `ingress`'s); the filter carries a decision out.

use crate::auth::AuthCheck;
use crate::effect::{Backend, HeaderEdits, LocalReply};

/// The route and rule a decision came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRef<'t> {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: &'static str,
    /// Route namespace.
    pub namespace: &'t str,
    /// Route name.
    pub name: &'t str,
    /// Index in `spec.rules`.
    pub index: usize,
    /// `spec.rules[].name`, when given.
    pub rule_name: Option<&'t str>,
}

/// A request to send upstream, and what to change on the way there and back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward<'t> {
    /// The rule's external authorization check: made first, and only an allowing answer lets
    /// the rest of this decision happen.
    pub auth: Option<AuthCheck<'t>>,
    /// The chosen backend.
    pub backend: &'t Backend,
    /// Request header edits: the rule's, then the backend's.
    pub request_headers: Vec<&'t HeaderEdits>,
    /// `x-envoy-*` headers for timeouts and retry.
    pub envoy_headers: &'t [(String, String)],
    /// New upstream `:authority` (URLRewrite hostname).
    pub authority: Option<&'t str>,
    /// New upstream `:path`, query included (URLRewrite path).
    pub path: Option<String>,
    /// Backends that get a copy of the request (RequestMirror), in filter order.
    pub mirrors: Vec<&'t Backend>,
    /// Response header edits: the rule's, then the backend's.
    pub response_headers: Vec<&'t HeaderEdits>,
    /// Response headers the filter itself adds: CORS headers for an allowed cross-origin
    /// request, the session token when the rule keeps sessions.
    pub generated_response_headers: Vec<HeaderEdits>,
}

/// What to do with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<'t> {
    /// Send it upstream.
    Forward(Forward<'t>),
    /// Answer locally.
    Reply(LocalReply),
    /// Leave the request alone: in the mesh, it goes to a Service no route is attached to.
    Pass,
}

/// The outcome for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'t> {
    /// The rule that matched; `None` when nothing did.
    pub rule: Option<RuleRef<'t>>,
    /// What to do.
    pub action: Action<'t>,
}
