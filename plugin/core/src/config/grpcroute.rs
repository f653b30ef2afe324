//! GRPCRoute as written (reference §7). Parsed and reported now; routed by the compiler later.

use super::json::Node;
use super::{
    BackendRef, HttpRouteFilter, NamedValueMatch, ObjectMeta, ParentRef, SessionPersistence,
    Unknown,
};

/// A GRPCRoute.
#[derive(Clone, Debug, Default)]
pub struct GrpcRoute {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Parents, hostnames and rules.
    pub spec: GrpcRouteSpec,
}

impl GrpcRoute {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
            spec: fields.or_default("spec", GrpcRouteSpec::read),
        }
    }
}

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

impl GrpcRouteSpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            parent_refs: fields.list("parentRefs", ParentRef::read),
            hostnames: fields.strings("hostnames"),
            rules: fields.list("rules", GrpcRouteRule::read),
            unknown: fields.unknown(),
        }
    }
}

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

impl GrpcRouteRule {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.opt_string("name"),
            matches: fields.list("matches", GrpcRouteMatch::read),
            filters: fields.list("filters", HttpRouteFilter::read),
            backend_refs: fields.list("backendRefs", BackendRef::read),
            session_persistence: fields.opt("sessionPersistence", SessionPersistence::read),
            unknown: fields.unknown(),
        }
    }
}

/// `GRPCRoute.spec.rules[].matches[]`.
#[derive(Clone, Debug, Default)]
pub struct GrpcRouteMatch {
    /// Service/method condition.
    pub method: Option<GrpcMethodMatch>,
    /// Header conditions.
    pub headers: Vec<GrpcHeaderMatch>,
}

impl GrpcRouteMatch {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            method: fields.opt("method", GrpcMethodMatch::read),
            headers: fields.list("headers", GrpcHeaderMatch::read),
        }
    }
}

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

impl GrpcMethodMatch {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            kind: fields.opt_string("type"),
            service: fields.opt_string("service"),
            method: fields.opt_string("method"),
        }
    }
}

impl GrpcMethodMatch {
    /// `type`, with the API default `Exact` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Exact")
    }
}

/// `GRPCHeaderMatch`.
pub type GrpcHeaderMatch = NamedValueMatch;
