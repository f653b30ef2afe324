//! HTTPRoute as written, every field of `gateway.networking.k8s.io/v1` (reference §1, §3–§6).
//! Also the pieces GRPCRoute shares with it: parentRefs, backendRefs, header modifiers, mirrors.

use super::json::{self, Node};
use super::meta::or_namespace;
use super::{ObjectMeta, Unknown, GATEWAY_GROUP};

/// An HTTPRoute.
#[derive(Clone, Debug, Default)]
pub struct HttpRoute {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Parents, hostnames and rules.
    pub spec: HttpRouteSpec,
}

impl HttpRoute {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
            spec: fields.or_default("spec", HttpRouteSpec::read),
        }
    }
}

/// `HTTPRoute.spec`.
#[derive(Clone, Debug, Default)]
pub struct HttpRouteSpec {
    /// Gateways (or Services, in the mesh) the route attaches to.
    pub parent_refs: Vec<ParentRef>,
    /// Hostnames the route serves; empty means every Host the listener accepts.
    pub hostnames: Vec<String>,
    /// Rules; absent means one rule matching every request (API default).
    pub rules: Option<Vec<HttpRouteRule>>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl HttpRouteSpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            parent_refs: fields.list("parentRefs", ParentRef::read),
            hostnames: fields.strings("hostnames"),
            rules: fields.opt("rules", |node| node.list(HttpRouteRule::read)),
            unknown: fields.unknown(),
        }
    }
}

/// A `parentRefs[]` entry (reference §8.1).
#[derive(Clone, Debug, Default)]
pub struct ParentRef {
    /// Default `gateway.networking.k8s.io`.
    pub group: Option<String>,
    /// Default `Gateway`.
    pub kind: Option<String>,
    /// Default: the route's namespace.
    pub namespace: Option<String>,
    /// Parent name.
    pub name: String,
    /// Listener name (or Service port name).
    pub section_name: Option<String>,
    /// Listener port.
    pub port: Option<u32>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl ParentRef {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.opt_string("group"),
            kind: fields.opt_string("kind"),
            namespace: fields.opt_string("namespace"),
            name: fields.string("name"),
            section_name: fields.opt_string("sectionName"),
            port: fields.opt_u32("port"),
            unknown: fields.unknown(),
        }
    }
}

impl ParentRef {
    /// `group`, with the API default `gateway.networking.k8s.io` when unset. A Service parent
    /// names the core group explicitly (`""`).
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or(GATEWAY_GROUP)
    }

    /// `kind`, with the API default `Gateway` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Gateway")
    }

    /// `namespace`, the route's own when unset or empty.
    pub fn namespace<'a>(&'a self, route_namespace: &'a str) -> &'a str {
        or_namespace(self.namespace.as_deref(), route_namespace)
    }

    /// Whether the reference names a Gateway (group and kind, defaults applied).
    pub fn is_gateway(&self) -> bool {
        self.group() == GATEWAY_GROUP && self.kind() == "Gateway"
    }

    /// Whether the reference names a Service, a mesh parent (GEP-1294).
    pub fn is_service(&self) -> bool {
        self.group().is_empty() && self.kind() == "Service"
    }
}

/// One `rules[]` entry.
#[derive(Clone, Debug, Default)]
pub struct HttpRouteRule {
    /// Optional rule name, reported in decisions.
    pub name: Option<String>,
    /// Matches, ORed; absent means `PathPrefix /`.
    pub matches: Option<Vec<HttpRouteMatch>>,
    /// Rule-level filters, in order.
    pub filters: Vec<HttpRouteFilter>,
    /// Weighted backends.
    pub backend_refs: Vec<BackendRef>,
    /// Request and backend timeouts.
    pub timeouts: Option<Timeouts>,
    /// Retry policy (experimental channel).
    pub retry: Option<Retry>,
    /// Session persistence (experimental channel).
    pub session_persistence: Option<SessionPersistence>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl HttpRouteRule {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.opt_string("name"),
            matches: fields.opt("matches", |node| node.list(HttpRouteMatch::read)),
            filters: fields.list("filters", HttpRouteFilter::read),
            backend_refs: fields.list("backendRefs", BackendRef::read),
            timeouts: fields.opt("timeouts", Timeouts::read),
            retry: fields.opt("retry", Retry::read),
            session_persistence: fields.opt("sessionPersistence", SessionPersistence::read),
            unknown: fields.unknown(),
        }
    }
}

/// One `matches[]` entry: every present condition must hold.
#[derive(Clone, Debug, Default)]
pub struct HttpRouteMatch {
    /// Path condition; absent means `PathPrefix /`.
    pub path: Option<PathMatch>,
    /// Header conditions.
    pub headers: Vec<HeaderMatch>,
    /// Query parameter conditions.
    pub query_params: Vec<QueryParamMatch>,
    /// HTTP method.
    pub method: Option<String>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl HttpRouteMatch {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            path: fields.opt("path", PathMatch::read),
            headers: fields.list("headers", HeaderMatch::read),
            query_params: fields.list("queryParams", QueryParamMatch::read),
            method: fields.opt_string("method"),
            unknown: fields.unknown(),
        }
    }
}

/// `matches[].path`.
#[derive(Clone, Debug, Default)]
pub struct PathMatch {
    /// `Exact`, `PathPrefix` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Default `/`.
    pub value: Option<String>,
}

impl PathMatch {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            kind: fields.opt_string("type"),
            value: fields.opt_string("value"),
        }
    }
}

impl PathMatch {
    /// `type`, with the API default `PathPrefix` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("PathPrefix")
    }

    /// `value`, with the API default `/` when unset.
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or("/")
    }
}

/// A match on one named value, the same three fields wherever the API has one: an HTTPRoute's
/// `matches[].headers[]` and `matches[].queryParams[]`, a GRPCRoute's `matches[].headers[]`.
#[derive(Clone, Debug, Default)]
pub struct NamedValueMatch {
    /// `Exact` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Header name (compared case-insensitively) or query parameter name (compared exactly).
    pub name: String,
    /// Value to compare with.
    pub value: String,
}

impl NamedValueMatch {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            kind: fields.opt_string("type"),
            name: fields.string("name"),
            value: fields.string("value"),
        }
    }
}

impl NamedValueMatch {
    /// `type`, with the API default `Exact` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Exact")
    }
}

/// `matches[].headers[]` (`HTTPHeaderMatch`).
pub type HeaderMatch = NamedValueMatch;

/// `matches[].queryParams[]` (`HTTPQueryParamMatch`).
pub type QueryParamMatch = NamedValueMatch;

/// One `filters[]` entry: `type` names which of the other fields applies.
#[derive(Clone, Debug, Default)]
pub struct HttpRouteFilter {
    /// Filter type, e.g. `RequestHeaderModifier`.
    pub kind: String,
    /// For `RequestHeaderModifier`.
    pub request_header_modifier: Option<HeaderModifier>,
    /// For `ResponseHeaderModifier`.
    pub response_header_modifier: Option<HeaderModifier>,
    /// For `RequestMirror`.
    pub request_mirror: Option<Mirror>,
    /// For `RequestRedirect`.
    pub request_redirect: Option<Redirect>,
    /// For `URLRewrite`.
    pub url_rewrite: Option<UrlRewrite>,
    /// For `CORS`.
    pub cors: Option<Cors>,
    /// For `ExtensionRef`.
    pub extension_ref: Option<LocalObjectReference>,
    /// For `ExternalAuth` (experimental channel).
    pub external_auth: Option<ExternalAuth>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl HttpRouteFilter {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            kind: fields.string("type"),
            request_header_modifier: fields.opt("requestHeaderModifier", HeaderModifier::read),
            response_header_modifier: fields.opt("responseHeaderModifier", HeaderModifier::read),
            request_mirror: fields.opt("requestMirror", Mirror::read),
            request_redirect: fields.opt("requestRedirect", Redirect::read),
            url_rewrite: fields.opt("urlRewrite", UrlRewrite::read),
            cors: fields.opt("cors", Cors::read),
            extension_ref: fields.opt("extensionRef", LocalObjectReference::read),
            external_auth: fields.opt("externalAuth", ExternalAuth::read),
            unknown: fields.unknown(),
        }
    }
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier` body.
#[derive(Clone, Debug, Default)]
pub struct HeaderModifier {
    /// Replace (or create) these headers.
    pub set: Vec<HeaderValue>,
    /// Append these values.
    pub add: Vec<HeaderValue>,
    /// Delete these headers.
    pub remove: Vec<String>,
}

impl HeaderModifier {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            set: fields.list("set", HeaderValue::read),
            add: fields.list("add", HeaderValue::read),
            remove: fields.strings("remove"),
        }
    }
}

/// A header name and value.
#[derive(Clone, Debug, Default)]
pub struct HeaderValue {
    /// Header name, case-insensitive.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl HeaderValue {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.string("name"),
            value: fields.string("value"),
        }
    }
}

/// `RequestMirror` body.
#[derive(Clone, Debug, Default)]
pub struct Mirror {
    /// Where copies go.
    pub backend_ref: BackendRef,
    /// Share mirrored, 0–100.
    pub percent: Option<u32>,
    /// Share mirrored as a fraction.
    pub fraction: Option<MirrorFraction>,
}

impl Mirror {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            backend_ref: fields.or_default("backendRef", BackendRef::read),
            percent: fields.opt_u32("percent"),
            fraction: fields.opt("fraction", MirrorFraction::read),
        }
    }
}

/// `RequestMirror.fraction`.
#[derive(Clone, Debug, Default)]
pub struct MirrorFraction {
    /// Numerator.
    pub numerator: Option<u32>,
    /// Denominator, default 100.
    pub denominator: Option<u32>,
}

impl MirrorFraction {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            numerator: fields.opt_u32("numerator"),
            denominator: fields.opt_u32("denominator"),
        }
    }
}

/// `RequestRedirect` body.
#[derive(Clone, Debug, Default)]
pub struct Redirect {
    /// `http` or `https`.
    pub scheme: Option<String>,
    /// Replacement hostname.
    pub hostname: Option<String>,
    /// Path replacement.
    pub path: Option<PathModifier>,
    /// Port in `Location`.
    pub port: Option<u32>,
    /// 301, 302 (default), 303, 307 or 308.
    pub status_code: Option<u32>,
}

impl Redirect {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            scheme: fields.opt_string("scheme"),
            hostname: fields.opt_string("hostname"),
            path: fields.opt("path", PathModifier::read),
            port: fields.opt_u32("port"),
            status_code: fields.opt_u32("statusCode"),
        }
    }
}

/// `URLRewrite` body.
#[derive(Clone, Debug, Default)]
pub struct UrlRewrite {
    /// Replacement `:authority`.
    pub hostname: Option<String>,
    /// Path replacement.
    pub path: Option<PathModifier>,
}

impl UrlRewrite {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            hostname: fields.opt_string("hostname"),
            path: fields.opt("path", PathModifier::read),
        }
    }
}

/// `HTTPPathModifier`.
#[derive(Clone, Debug, Default)]
pub struct PathModifier {
    /// `ReplaceFullPath` or `ReplacePrefixMatch`.
    pub kind: String,
    /// For `ReplaceFullPath`.
    pub replace_full_path: Option<String>,
    /// For `ReplacePrefixMatch`.
    pub replace_prefix_match: Option<String>,
}

impl PathModifier {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            kind: fields.string("type"),
            replace_full_path: fields.opt_string("replaceFullPath"),
            replace_prefix_match: fields.opt_string("replacePrefixMatch"),
        }
    }
}

/// `CORS` body.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    /// Allowed origins.
    pub allow_origins: Vec<String>,
    /// Whether credentials are allowed.
    pub allow_credentials: Option<bool>,
    /// Allowed methods.
    pub allow_methods: Vec<String>,
    /// Allowed request headers.
    pub allow_headers: Vec<String>,
    /// Exposed response headers.
    pub expose_headers: Vec<String>,
    /// Preflight cache lifetime in seconds, default 5.
    pub max_age: Option<u32>,
}

impl Cors {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            allow_origins: fields.strings("allowOrigins"),
            allow_credentials: fields.opt("allowCredentials", json::bool),
            allow_methods: fields.strings("allowMethods"),
            allow_headers: fields.strings("allowHeaders"),
            expose_headers: fields.strings("exposeHeaders"),
            max_age: fields.opt_u32("maxAge"),
        }
    }
}

/// `ExternalAuth` body (`HTTPExternalAuthFilter`, experimental channel, reference §4.8).
#[derive(Clone, Debug, Default)]
pub struct ExternalAuth {
    /// `HTTP` or `GRPC`; required.
    pub protocol: Option<String>,
    /// The authorization server.
    pub backend_ref: BackendRef,
    /// Settings for `protocol: GRPC`; required with it.
    pub grpc: Option<GrpcAuthConfig>,
    /// Settings for `protocol: HTTP`; required with it.
    pub http: Option<HttpAuthConfig>,
    /// Whether and how much of the request body the check carries.
    pub forward_body: Option<ForwardBody>,
}

/// `externalAuth.grpc`.
#[derive(Clone, Debug, Default)]
pub struct GrpcAuthConfig {
    /// Request headers the check carries; empty means all.
    pub allowed_headers: Vec<String>,
}

/// `externalAuth.http`.
#[derive(Clone, Debug, Default)]
pub struct HttpAuthConfig {
    /// Prefix put before the request path in the check request.
    pub path: Option<String>,
    /// Request headers the check carries besides the ones always sent.
    pub allowed_headers: Vec<String>,
    /// Headers of an allowing answer copied onto the request; empty means all but Host.
    pub allowed_response_headers: Vec<String>,
}

/// `externalAuth.forwardBody`.
#[derive(Clone, Debug, Default)]
pub struct ForwardBody {
    /// Bytes of body the check carries; 0 or absent means none.
    pub max_size: Option<u32>,
}

impl ExternalAuth {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            protocol: fields.opt_string("protocol"),
            backend_ref: fields.or_default("backendRef", BackendRef::read),
            grpc: fields.opt("grpc", GrpcAuthConfig::read),
            http: fields.opt("http", HttpAuthConfig::read),
            forward_body: fields.opt("forwardBody", ForwardBody::read),
        }
    }
}

impl GrpcAuthConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            allowed_headers: fields.strings("allowedHeaders"),
        }
    }
}

impl HttpAuthConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            path: fields.opt_string("path"),
            allowed_headers: fields.strings("allowedHeaders"),
            allowed_response_headers: fields.strings("allowedResponseHeaders"),
        }
    }
}

impl ForwardBody {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            max_size: fields.opt_u32("maxSize"),
        }
    }
}

/// An `ExtensionRef` target.
#[derive(Clone, Debug, Default)]
pub struct LocalObjectReference {
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
}

impl LocalObjectReference {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.string("group"),
            kind: fields.string("kind"),
            name: fields.string("name"),
        }
    }
}

/// A `backendRefs[]` entry (also the target of a mirror).
#[derive(Clone, Debug, Default)]
pub struct BackendRef {
    /// Default `""` (core).
    pub group: Option<String>,
    /// Default `Service`.
    pub kind: Option<String>,
    /// Backend name.
    pub name: String,
    /// Default: the route's namespace.
    pub namespace: Option<String>,
    /// Service port; required for Services.
    pub port: Option<u32>,
    /// Relative weight, default 1.
    pub weight: Option<u32>,
    /// Filters applied only when this backend is chosen.
    pub filters: Vec<HttpRouteFilter>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl BackendRef {
    /// `group`, with the API default `""` (the core group) when unset.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }

    /// `kind`, with the API default `Service` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Service")
    }

    /// `namespace`, the route's own when unset or empty.
    pub fn namespace<'a>(&'a self, route_namespace: &'a str) -> &'a str {
        or_namespace(self.namespace.as_deref(), route_namespace)
    }
}

impl BackendRef {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.opt_string("group"),
            kind: fields.opt_string("kind"),
            name: fields.string("name"),
            namespace: fields.opt_string("namespace"),
            port: fields.opt_u32("port"),
            weight: fields.opt_u32("weight"),
            filters: fields.list("filters", HttpRouteFilter::read),
            unknown: fields.unknown(),
        }
    }
}

/// `rules[].sessionPersistence` (experimental channel, reference §6.3).
#[derive(Clone, Debug, Default)]
pub struct SessionPersistence {
    /// Cookie or header name; generated when absent.
    pub session_name: Option<String>,
    /// A Gateway API Duration after which a session ends.
    pub absolute_timeout: Option<String>,
    /// A Gateway API Duration of inactivity after which a session ends.
    pub idle_timeout: Option<String>,
    /// `Cookie` (default) or `Header`.
    pub kind: Option<String>,
    /// Cookie settings.
    pub cookie_config: Option<CookieConfig>,
}

impl SessionPersistence {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            session_name: fields.opt_string("sessionName"),
            absolute_timeout: fields.opt_string("absoluteTimeout"),
            idle_timeout: fields.opt_string("idleTimeout"),
            kind: fields.opt_string("type"),
            cookie_config: fields.opt("cookieConfig", CookieConfig::read),
        }
    }
}

/// `sessionPersistence.cookieConfig`.
#[derive(Clone, Debug, Default)]
pub struct CookieConfig {
    /// `Session` (default) or `Permanent`.
    pub lifetime_type: Option<String>,
}

impl CookieConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            lifetime_type: fields.opt_string("lifetimeType"),
        }
    }
}

/// `rules[].timeouts`.
#[derive(Clone, Debug, Default)]
pub struct Timeouts {
    /// Whole-transaction deadline, a Gateway API Duration.
    pub request: Option<String>,
    /// Per-attempt deadline.
    pub backend_request: Option<String>,
}

impl Timeouts {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            request: fields.opt_string("request"),
            backend_request: fields.opt_string("backendRequest"),
        }
    }
}

/// `rules[].retry`.
#[derive(Clone, Debug, Default)]
pub struct Retry {
    /// Retriable status codes.
    pub codes: Vec<u32>,
    /// Retries after the first try.
    pub attempts: Option<u32>,
    /// Minimum wait between tries.
    pub backoff: Option<String>,
}

impl Retry {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            codes: fields.list("codes", json::u32),
            attempts: fields.opt_u32("attempts"),
            backoff: fields.opt_string("backoff"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::HttpRoute;
    use crate::config::json::from_json;

    #[test]
    fn references_take_the_api_defaults() {
        let route = from_json(
            r#"{"metadata": {"name": "r", "namespace": "app"}, "spec": {
                "parentRefs": [{"name": "gw"}, {"group": "", "kind": "Service", "name": "api", "namespace": ""},
                               {"kind": "ListenerSet", "name": "extra", "namespace": "infra"}],
                "rules": [{"backendRefs": [{"name": "v1", "port": 80}, {"kind": "ServiceImport", "name": "v2", "namespace": "east"}]}]}}"#,
            HttpRoute::read,
        )
        .unwrap();
        let [gateway, service, set] = route.spec.parent_refs.as_slice() else {
            panic!("three parentRefs");
        };
        assert_eq!(
            (gateway.group(), gateway.kind(), gateway.namespace("app")),
            ("gateway.networking.k8s.io", "Gateway", "app")
        );
        assert!(gateway.is_gateway() && !gateway.is_service());
        assert_eq!(
            service.namespace("app"),
            "app",
            "an empty namespace is the route's"
        );
        assert!(service.is_service() && !service.is_gateway());
        assert!(!set.is_gateway() && !set.is_service());
        assert_eq!(set.namespace("app"), "infra");
        let rule = &route.spec.rules.as_ref().unwrap()[0];
        let [v1, v2] = rule.backend_refs.as_slice() else {
            panic!("two backendRefs");
        };
        assert_eq!(
            (v1.group(), v1.kind(), v1.namespace("app")),
            ("", "Service", "app")
        );
        assert_eq!((v2.kind(), v2.namespace("app")), ("ServiceImport", "east"));
    }
}
