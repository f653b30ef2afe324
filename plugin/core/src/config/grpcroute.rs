//! GRPCRoute as written (reference §7). Parsed and reported now; routed by the compiler later.

use serde::Deserialize;

use super::{BackendRef, HttpRouteFilter, ObjectMeta, ParentRef, SessionPersistence, Unknown};

/// A GRPCRoute.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GrpcRoute {
    /// Name, namespace, creation time.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Parents, hostnames and rules.
    #[serde(default)]
    pub spec: GrpcRouteSpec,
}

/// `GRPCRoute.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrpcRouteSpec {
    /// Parents.
    #[serde(default)]
    pub parent_refs: Vec<ParentRef>,
    /// Hostnames.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Rules (may be empty).
    #[serde(default)]
    pub rules: Vec<GrpcRouteRule>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `GRPCRoute.spec.rules[]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrpcRouteRule {
    /// Optional rule name.
    #[serde(default)]
    pub name: Option<String>,
    /// Matches, ORed; empty matches every gRPC request.
    #[serde(default)]
    pub matches: Vec<GrpcRouteMatch>,
    /// Filters (header modifiers, mirrors, extension refs).
    #[serde(default)]
    pub filters: Vec<HttpRouteFilter>,
    /// Weighted backends.
    #[serde(default)]
    pub backend_refs: Vec<BackendRef>,
    /// Session persistence (experimental channel).
    #[serde(default)]
    pub session_persistence: Option<SessionPersistence>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `GRPCRoute.spec.rules[].matches[]`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GrpcRouteMatch {
    /// Service/method condition.
    #[serde(default)]
    pub method: Option<GrpcMethodMatch>,
    /// Header conditions.
    #[serde(default)]
    pub headers: Vec<GrpcHeaderMatch>,
}

/// `GRPCMethodMatch`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GrpcMethodMatch {
    /// `Exact` (default) or `RegularExpression`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Fully qualified service, e.g. `com.example.api.UserService`.
    #[serde(default)]
    pub service: Option<String>,
    /// Method name, e.g. `GetUser`.
    #[serde(default)]
    pub method: Option<String>,
}

/// `GRPCHeaderMatch`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GrpcHeaderMatch {
    /// `Exact` (default) or `RegularExpression`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Header name.
    #[serde(default)]
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}
