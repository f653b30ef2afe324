//! GRPCRoute as written (reference §7). Parsed and reported now; routed by the compiler later.

use super::json::impl_from_json;
use super::{BackendRef, HttpRouteFilter, ObjectMeta, ParentRef, SessionPersistence, Unknown};

/// A GRPCRoute.
#[derive(Clone, Debug, Default)]
pub struct GrpcRoute {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Parents, hostnames and rules.
    pub spec: GrpcRouteSpec,
}

impl_from_json!(GrpcRoute {
    "metadata" => metadata,
    "spec" => spec,
});

/// `GRPCRoute.spec`.
#[derive(Clone, Debug, Default)]
pub struct GrpcRouteSpec {
    /// Parents.
    pub parent_refs: Vec<ParentRef>,
    /// Hostnames.
    pub hostnames: Vec<String>,
    /// Rules (may be empty).
    pub rules: Vec<GrpcRouteRule>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(GrpcRouteSpec, unknown: unknown {
    "parentRefs" => parent_refs,
    "hostnames" => hostnames,
    "rules" => rules,
});

/// `GRPCRoute.spec.rules[]`.
#[derive(Clone, Debug, Default)]
pub struct GrpcRouteRule {
    /// Optional rule name.
    pub name: Option<String>,
    /// Matches, ORed; empty matches every gRPC request.
    pub matches: Vec<GrpcRouteMatch>,
    /// Filters (header modifiers, mirrors, extension refs).
    pub filters: Vec<HttpRouteFilter>,
    /// Weighted backends.
    pub backend_refs: Vec<BackendRef>,
    /// Session persistence (experimental channel).
    pub session_persistence: Option<SessionPersistence>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(GrpcRouteRule, unknown: unknown {
    "name" => name,
    "matches" => matches,
    "filters" => filters,
    "backendRefs" => backend_refs,
    "sessionPersistence" => session_persistence,
});

/// `GRPCRoute.spec.rules[].matches[]`.
#[derive(Clone, Debug, Default)]
pub struct GrpcRouteMatch {
    /// Service/method condition.
    pub method: Option<GrpcMethodMatch>,
    /// Header conditions.
    pub headers: Vec<GrpcHeaderMatch>,
}

impl_from_json!(GrpcRouteMatch {
    "method" => method,
    "headers" => headers,
});

/// `GRPCMethodMatch`.
#[derive(Clone, Debug, Default)]
pub struct GrpcMethodMatch {
    /// `Exact` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Fully qualified service, e.g. `com.example.api.UserService`.
    pub service: Option<String>,
    /// Method name, e.g. `GetUser`.
    pub method: Option<String>,
}

impl_from_json!(GrpcMethodMatch {
    "type" => kind,
    "service" => service,
    "method" => method,
});

/// `GRPCHeaderMatch`.
#[derive(Clone, Debug, Default)]
pub struct GrpcHeaderMatch {
    /// `Exact` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Header name.
    pub name: String,
    /// Value.
    pub value: String,
}

impl_from_json!(GrpcHeaderMatch {
    "type" => kind,
    "name" => name,
    "value" => value,
});
