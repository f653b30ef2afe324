//! HTTPRoute as written, every field of `gateway.networking.k8s.io/v1` (reference §1, §3–§6).
//! Also the pieces GRPCRoute shares with it: parentRefs, backendRefs, header modifiers, mirrors.

use serde::Deserialize;

use super::{lenient, ObjectMeta, Unknown};

/// An HTTPRoute.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HttpRoute {
    /// Name, namespace, creation time.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Parents, hostnames and rules.
    #[serde(default)]
    pub spec: HttpRouteSpec,
}

/// `HTTPRoute.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// Gateways (or Services, in the mesh) the route attaches to.
    #[serde(default)]
    pub parent_refs: Vec<ParentRef>,
    /// Hostnames the route serves; empty means every Host the listener accepts.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Rules; absent means one rule matching every request (API default).
    #[serde(default)]
    pub rules: Option<Vec<HttpRouteRule>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// A `parentRefs[]` entry (reference §8.1).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    /// Default `gateway.networking.k8s.io`.
    #[serde(default)]
    pub group: Option<String>,
    /// Default `Gateway`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Default: the route's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Parent name.
    #[serde(default)]
    pub name: String,
    /// Listener name (or Service port name).
    #[serde(default)]
    pub section_name: Option<String>,
    /// Listener port.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub port: Option<u32>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One `rules[]` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// Optional rule name, reported in decisions.
    #[serde(default)]
    pub name: Option<String>,
    /// Matches, ORed; absent means `PathPrefix /`.
    #[serde(default)]
    pub matches: Option<Vec<HttpRouteMatch>>,
    /// Rule-level filters, in order.
    #[serde(default)]
    pub filters: Vec<HttpRouteFilter>,
    /// Weighted backends.
    #[serde(default)]
    pub backend_refs: Vec<BackendRef>,
    /// Request and backend timeouts.
    #[serde(default)]
    pub timeouts: Option<Timeouts>,
    /// Retry policy (experimental channel).
    #[serde(default)]
    pub retry: Option<Retry>,
    /// Session persistence (experimental channel).
    #[serde(default)]
    pub session_persistence: Option<SessionPersistence>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One `matches[]` entry: every present condition must hold.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    /// Path condition; absent means `PathPrefix /`.
    #[serde(default)]
    pub path: Option<PathMatch>,
    /// Header conditions.
    #[serde(default)]
    pub headers: Vec<HeaderMatch>,
    /// Query parameter conditions.
    #[serde(default)]
    pub query_params: Vec<QueryParamMatch>,
    /// HTTP method.
    #[serde(default)]
    pub method: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `matches[].path`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PathMatch {
    /// `Exact`, `PathPrefix` (default) or `RegularExpression`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Default `/`.
    #[serde(default)]
    pub value: Option<String>,
}

/// `matches[].headers[]`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HeaderMatch {
    /// `Exact` (default) or `RegularExpression`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Header name, compared case-insensitively.
    #[serde(default)]
    pub name: String,
    /// Value to compare with.
    #[serde(default)]
    pub value: String,
}

/// `matches[].queryParams[]`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct QueryParamMatch {
    /// `Exact` (default) or `RegularExpression`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Parameter name, compared case-sensitively.
    #[serde(default)]
    pub name: String,
    /// Value to compare with.
    #[serde(default)]
    pub value: String,
}

/// One `filters[]` entry: `type` names which of the other fields applies.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteFilter {
    /// Filter type, e.g. `RequestHeaderModifier`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// For `RequestHeaderModifier`.
    #[serde(default)]
    pub request_header_modifier: Option<HeaderModifier>,
    /// For `ResponseHeaderModifier`.
    #[serde(default)]
    pub response_header_modifier: Option<HeaderModifier>,
    /// For `RequestMirror`.
    #[serde(default)]
    pub request_mirror: Option<Mirror>,
    /// For `RequestRedirect`.
    #[serde(default)]
    pub request_redirect: Option<Redirect>,
    /// For `URLRewrite`.
    #[serde(default)]
    pub url_rewrite: Option<UrlRewrite>,
    /// For `CORS`.
    #[serde(default)]
    pub cors: Option<Cors>,
    /// For `ExtensionRef`.
    #[serde(default)]
    pub extension_ref: Option<LocalObjectReference>,
    /// For `ExternalAuth` (experimental channel).
    #[serde(default)]
    pub external_auth: Option<ExternalAuth>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier` body.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HeaderModifier {
    /// Replace (or create) these headers.
    #[serde(default)]
    pub set: Vec<HeaderValue>,
    /// Append these values.
    #[serde(default)]
    pub add: Vec<HeaderValue>,
    /// Delete these headers.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// A header name and value.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HeaderValue {
    /// Header name, case-insensitive.
    #[serde(default)]
    pub name: String,
    /// Header value.
    #[serde(default)]
    pub value: String,
}

/// `RequestMirror` body.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mirror {
    /// Where copies go.
    #[serde(default)]
    pub backend_ref: BackendRef,
    /// Share mirrored, 0–100.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub percent: Option<u32>,
    /// Share mirrored as a fraction.
    #[serde(default)]
    pub fraction: Option<MirrorFraction>,
}

/// `RequestMirror.fraction`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MirrorFraction {
    /// Numerator.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub numerator: Option<u32>,
    /// Denominator, default 100.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub denominator: Option<u32>,
}

/// `RequestRedirect` body.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    /// `http` or `https`.
    #[serde(default)]
    pub scheme: Option<String>,
    /// Replacement hostname.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Path replacement.
    #[serde(default)]
    pub path: Option<PathModifier>,
    /// Port in `Location`.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub port: Option<u32>,
    /// 301, 302 (default), 303, 307 or 308.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub status_code: Option<u32>,
}

/// `URLRewrite` body.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct UrlRewrite {
    /// Replacement `:authority`.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Path replacement.
    #[serde(default)]
    pub path: Option<PathModifier>,
}

/// `HTTPPathModifier`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathModifier {
    /// `ReplaceFullPath` or `ReplacePrefixMatch`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// For `ReplaceFullPath`.
    #[serde(default)]
    pub replace_full_path: Option<String>,
    /// For `ReplacePrefixMatch`.
    #[serde(default)]
    pub replace_prefix_match: Option<String>,
}

/// `CORS` body.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    /// Allowed origins.
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// Whether credentials are allowed.
    #[serde(default)]
    pub allow_credentials: Option<bool>,
    /// Allowed methods.
    #[serde(default)]
    pub allow_methods: Vec<String>,
    /// Allowed request headers.
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// Exposed response headers.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Preflight cache lifetime in seconds, default 5.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub max_age: Option<u32>,
}

/// `ExternalAuth` body (`HTTPExternalAuthFilter`, experimental channel, reference §4.8).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalAuth {
    /// `HTTP` or `GRPC`; required.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The authorization server.
    #[serde(default)]
    pub backend_ref: BackendRef,
    /// Settings for `protocol: GRPC`; required with it.
    #[serde(default)]
    pub grpc: Option<GrpcAuthConfig>,
    /// Settings for `protocol: HTTP`; required with it.
    #[serde(default)]
    pub http: Option<HttpAuthConfig>,
    /// Whether and how much of the request body the check carries.
    #[serde(default)]
    pub forward_body: Option<ForwardBody>,
}

/// `externalAuth.grpc`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrpcAuthConfig {
    /// Request headers the check carries; empty means all.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
}

/// `externalAuth.http`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpAuthConfig {
    /// Prefix put before the request path in the check request.
    #[serde(default)]
    pub path: Option<String>,
    /// Request headers the check carries besides the ones always sent.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    /// Headers of an allowing answer copied onto the request; empty means all but Host.
    #[serde(default)]
    pub allowed_response_headers: Vec<String>,
}

/// `externalAuth.forwardBody`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardBody {
    /// Bytes of body the check carries; 0 or absent means none.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub max_size: Option<u32>,
}

/// An `ExtensionRef` target.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LocalObjectReference {
    /// API group.
    #[serde(default)]
    pub group: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// A `backendRefs[]` entry (also the target of a mirror).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BackendRef {
    /// Default `""` (core).
    #[serde(default)]
    pub group: Option<String>,
    /// Default `Service`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Backend name.
    #[serde(default)]
    pub name: String,
    /// Default: the route's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Service port; required for Services.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub port: Option<u32>,
    /// Relative weight, default 1.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub weight: Option<u32>,
    /// Filters applied only when this backend is chosen.
    #[serde(default)]
    pub filters: Vec<HttpRouteFilter>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `rules[].sessionPersistence` (experimental channel, reference §6.3).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionPersistence {
    /// Cookie or header name; generated when absent.
    #[serde(default)]
    pub session_name: Option<String>,
    /// A Gateway API Duration after which a session ends.
    #[serde(default)]
    pub absolute_timeout: Option<String>,
    /// A Gateway API Duration of inactivity after which a session ends.
    #[serde(default)]
    pub idle_timeout: Option<String>,
    /// `Cookie` (default) or `Header`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Cookie settings.
    #[serde(default)]
    pub cookie_config: Option<CookieConfig>,
}

/// `sessionPersistence.cookieConfig`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CookieConfig {
    /// `Session` (default) or `Permanent`.
    #[serde(default)]
    pub lifetime_type: Option<String>,
}

/// `rules[].timeouts`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    /// Whole-transaction deadline, a Gateway API Duration.
    #[serde(default)]
    pub request: Option<String>,
    /// Per-attempt deadline.
    #[serde(default)]
    pub backend_request: Option<String>,
}

/// `rules[].retry`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Retry {
    /// Retriable status codes.
    #[serde(default)]
    pub codes: Vec<u32>,
    /// Retries after the first try.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub attempts: Option<u32>,
    /// Minimum wait between tries.
    #[serde(default)]
    pub backoff: Option<String>,
}
