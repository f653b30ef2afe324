//! HTTPRoute as written, every field of `gateway.networking.k8s.io/v1` (reference §1, §3–§6).
//! Also the pieces GRPCRoute shares with it: parentRefs, backendRefs, header modifiers, mirrors.

use super::json::impl_from_json;
use super::{lenient, ObjectMeta, RawJson, Unknown};

/// An HTTPRoute.
#[derive(Clone, Debug, Default)]
pub struct HttpRoute {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Parents, hostnames and rules.
    pub spec: HttpRouteSpec,
}

impl_from_json!(HttpRoute {
    "metadata" => metadata,
    "spec" => spec,
});

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

impl_from_json!(HttpRouteSpec, unknown: unknown {
    "parentRefs" => parent_refs,
    "hostnames" => hostnames,
    "rules" => rules,
});

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

impl_from_json!(ParentRef, unknown: unknown {
    "group" => group,
    "kind" => kind,
    "namespace" => namespace,
    "name" => name,
    "sectionName" => section_name,
    "port" => port (lenient::opt_u32),
});

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

impl_from_json!(HttpRouteRule, unknown: unknown {
    "name" => name,
    "matches" => matches,
    "filters" => filters,
    "backendRefs" => backend_refs,
    "timeouts" => timeouts,
    "retry" => retry,
    "sessionPersistence" => session_persistence,
});

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

impl_from_json!(HttpRouteMatch, unknown: unknown {
    "path" => path,
    "headers" => headers,
    "queryParams" => query_params,
    "method" => method,
});

/// `matches[].path`.
#[derive(Clone, Debug, Default)]
pub struct PathMatch {
    /// `Exact`, `PathPrefix` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Default `/`.
    pub value: Option<String>,
}

impl_from_json!(PathMatch {
    "type" => kind,
    "value" => value,
});

/// `matches[].headers[]`.
#[derive(Clone, Debug, Default)]
pub struct HeaderMatch {
    /// `Exact` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Header name, compared case-insensitively.
    pub name: String,
    /// Value to compare with.
    pub value: String,
}

impl_from_json!(HeaderMatch {
    "type" => kind,
    "name" => name,
    "value" => value,
});

/// `matches[].queryParams[]`.
#[derive(Clone, Debug, Default)]
pub struct QueryParamMatch {
    /// `Exact` (default) or `RegularExpression`.
    pub kind: Option<String>,
    /// Parameter name, compared case-sensitively.
    pub name: String,
    /// Value to compare with.
    pub value: String,
}

impl_from_json!(QueryParamMatch {
    "type" => kind,
    "name" => name,
    "value" => value,
});

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

impl_from_json!(HttpRouteFilter, unknown: unknown {
    "type" => kind,
    "requestHeaderModifier" => request_header_modifier,
    "responseHeaderModifier" => response_header_modifier,
    "requestMirror" => request_mirror,
    "requestRedirect" => request_redirect,
    "urlRewrite" => url_rewrite,
    "cors" => cors,
    "extensionRef" => extension_ref,
    "externalAuth" => external_auth,
});

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

impl_from_json!(HeaderModifier {
    "set" => set,
    "add" => add,
    "remove" => remove,
});

/// A header name and value.
#[derive(Clone, Debug, Default)]
pub struct HeaderValue {
    /// Header name, case-insensitive.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl_from_json!(HeaderValue {
    "name" => name,
    "value" => value,
});

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

impl_from_json!(Mirror {
    "backendRef" => backend_ref,
    "percent" => percent (lenient::opt_u32),
    "fraction" => fraction,
});

/// `RequestMirror.fraction`.
#[derive(Clone, Debug, Default)]
pub struct MirrorFraction {
    /// Numerator.
    pub numerator: Option<u32>,
    /// Denominator, default 100.
    pub denominator: Option<u32>,
}

impl_from_json!(MirrorFraction {
    "numerator" => numerator (lenient::opt_u32),
    "denominator" => denominator (lenient::opt_u32),
});

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

impl_from_json!(Redirect {
    "scheme" => scheme,
    "hostname" => hostname,
    "path" => path,
    "port" => port (lenient::opt_u32),
    "statusCode" => status_code (lenient::opt_u32),
});

/// `URLRewrite` body.
#[derive(Clone, Debug, Default)]
pub struct UrlRewrite {
    /// Replacement `:authority`.
    pub hostname: Option<String>,
    /// Path replacement.
    pub path: Option<PathModifier>,
}

impl_from_json!(UrlRewrite {
    "hostname" => hostname,
    "path" => path,
});

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

impl_from_json!(PathModifier {
    "type" => kind,
    "replaceFullPath" => replace_full_path,
    "replacePrefixMatch" => replace_prefix_match,
});

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

impl_from_json!(Cors {
    "allowOrigins" => allow_origins,
    "allowCredentials" => allow_credentials,
    "allowMethods" => allow_methods,
    "allowHeaders" => allow_headers,
    "exposeHeaders" => expose_headers,
    "maxAge" => max_age (lenient::opt_u32),
});

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

impl_from_json!(ExternalAuth {
    "protocol" => protocol,
    "backendRef" => backend_ref,
    "grpc" => grpc,
    "http" => http,
    "forwardBody" => forward_body,
});

impl_from_json!(GrpcAuthConfig {
    "allowedHeaders" => allowed_headers,
});

impl_from_json!(HttpAuthConfig {
    "path" => path,
    "allowedHeaders" => allowed_headers,
    "allowedResponseHeaders" => allowed_response_headers,
});

impl_from_json!(ForwardBody {
    "maxSize" => max_size (lenient::opt_u32),
});

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

impl_from_json!(LocalObjectReference {
    "group" => group,
    "kind" => kind,
    "name" => name,
});

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

impl_from_json!(BackendRef, unknown: unknown {
    "group" => group,
    "kind" => kind,
    "name" => name,
    "namespace" => namespace,
    "port" => port (lenient::opt_u32),
    "weight" => weight (lenient::opt_u32),
    "filters" => filters,
});

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

impl_from_json!(SessionPersistence {
    "sessionName" => session_name,
    "absoluteTimeout" => absolute_timeout,
    "idleTimeout" => idle_timeout,
    "type" => kind,
    "cookieConfig" => cookie_config,
});

/// `sessionPersistence.cookieConfig`.
#[derive(Clone, Debug, Default)]
pub struct CookieConfig {
    /// `Session` (default) or `Permanent`.
    pub lifetime_type: Option<String>,
}

impl_from_json!(CookieConfig {
    "lifetimeType" => lifetime_type,
});

/// `rules[].timeouts`.
#[derive(Clone, Debug, Default)]
pub struct Timeouts {
    /// Whole-transaction deadline, a Gateway API Duration.
    pub request: Option<String>,
    /// Per-attempt deadline.
    pub backend_request: Option<String>,
}

impl_from_json!(Timeouts {
    "request" => request,
    "backendRequest" => backend_request,
});

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

impl_from_json!(Retry {
    "codes" => codes,
    "attempts" => attempts (lenient::opt_u32),
    "backoff" => backoff,
});
