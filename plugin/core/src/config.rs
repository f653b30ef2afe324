//! The plugin configuration as the user writes it: types that mirror Gateway API objects.
//!
//! These types hold only what was written. Defaults, validation and attachment happen in
//! [`crate::compile`]; nothing here is consulted per request. Enum-like fields (`type`, `method`,
//! `protocol`, ...) are kept as strings so that an unknown value becomes a precise problem report
//! instead of a parse failure, and every object keeps the fields it did not recognise in `unknown`
//! so they can be reported too (reference §1: unknown values must never crash the data plane).

mod cluster_split;
mod compact;
mod gateway;
mod grpcroute;
mod httproute;
mod ingress;
pub(crate) mod json;
mod lenient;
mod listenerset;
mod meta;
mod parse;
mod policy;
mod route;
mod service;

pub use cluster_split::{ClusterSplit, ClusterWeight, GATEWASM_GROUP};
pub use compact::{COMPRESSED_FORMAT, MAX_EXPANDED};
pub use gateway::{
    AllowedListeners, AllowedRoutes, CertificateRef, Gateway, GatewaySpec, LabelSelector,
    LabelSelectorRequirement, Listener, ListenerTls, ReferenceGrant, ReferenceGrantFrom,
    ReferenceGrantSpec, ReferenceGrantTo, RouteGroupKind, RouteNamespaces,
};
pub use grpcroute::{
    GrpcHeaderMatch, GrpcMethodMatch, GrpcRoute, GrpcRouteMatch, GrpcRouteRule, GrpcRouteSpec,
};
pub use httproute::{
    BackendRef, CookieConfig, Cors, ExternalAuth, ForwardBody, GrpcAuthConfig, HeaderMatch,
    HeaderModifier, HeaderValue, HttpAuthConfig, HttpRoute, HttpRouteFilter, HttpRouteMatch,
    HttpRouteRule, HttpRouteSpec, LocalObjectReference, Mirror, MirrorFraction, NamedValueMatch,
    ParentRef, PathMatch, PathModifier, QueryParamMatch, Redirect, Retry, SessionPersistence,
    Timeouts, UrlRewrite,
};
pub use ingress::{
    Affinity, BackendProtocol, Canary, Cidr, HttpIngressPath, HttpIngressRuleValue, Ingress,
    IngressAnnotations, IngressBackend, IngressClass, IngressConfig, IngressCors, IngressRedirect,
    IngressRule, IngressServiceBackend, IngressSpec, IngressTls, NotServed, ProxyTimeouts,
    ServiceBackendPort, ANNOTATION_PREFIX, DEFAULT_AFFINITY_COOKIE, DEFAULT_CLASS_ANNOTATION,
    DEFAULT_CORS_HEADERS, DEFAULT_CORS_MAX_AGE, DEFAULT_CORS_METHODS, LEGACY_CLASS_ANNOTATION,
    NGINX_CONTROLLER,
};
pub use json::{JsonError, RawJson, Unknown};
pub use listenerset::{ListenerSet, ListenerSetSpec};
pub use meta::{Namespace, ObjectMeta};
pub use parse::{ConfigError, Resource};
pub use policy::{
    PerRetry, PolicyKind, PolicyRetry, PolicyTargetRef, PolicyTimeout, RetryConstraint, RetryOn,
    TrafficPolicy,
};
pub use route::Route;
pub use service::{Service, ServicePort, ServiceSpec};

use json::Node;

/// The Gateway API group, the default of a parentRef's `group`.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// The whole plugin configuration: what Envoy's `configuration` or Istio's `pluginConfig` carries.
#[derive(Clone, Debug, Default)]
pub struct PluginConfig {
    /// `namespace/name` of the Gateway this proxy implements; absent means mesh (sidecar) mode.
    pub gateway: Option<String>,
    /// How the routing decision reaches Envoy's router.
    pub target: TargetConfig,
    /// Known backends as `namespace/name:port`; absent (and no `Service` objects among the
    /// resources) means every backend exists.
    pub services: Option<Vec<String>>,
    /// Mesh mode: the namespace of the workload this sidecar serves; Envoy's node metadata
    /// `NAMESPACE` when absent. Consumer routes apply only to traffic from their namespace.
    pub namespace: Option<String>,
    /// Which Ingresses this proxy serves.
    pub ingress: IngressConfig,
    /// What the filter's metrics break requests down by.
    pub metrics: MetricsConfig,
    /// Gateway API objects (Gateway, HTTPRoute, GRPCRoute, ReferenceGrant), Ingresses and
    /// IngressClasses, Namespaces and Services, each as its JSON text, read one at a time by [`PluginConfig::objects`].
    pub resources: Vec<RawJson>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl PluginConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            gateway: fields.opt_string("gateway"),
            target: fields.or_default("target", TargetConfig::read),
            services: fields.opt("services", json::strings),
            namespace: fields.opt_string("namespace"),
            ingress: fields.or_default("ingress", IngressConfig::read),
            metrics: fields.or_default("metrics", MetricsConfig::read),
            resources: fields.list("resources", json::raw),
            unknown: fields.unknown(),
        }
    }
}

/// What the filter's metrics break requests down by ([`crate::metrics`]).
#[derive(Clone, Debug, Default)]
pub struct MetricsConfig {
    /// A `rule` label on the request counter: one series per rule instead of per route and
    /// backend. Off when absent.
    pub rules: Option<bool>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl MetricsConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            rules: fields.opt("rules", json::bool),
            unknown: fields.unknown(),
        }
    }
}

/// How the filter hands its decision to Envoy's router (DESIGN.md, "Plugin configuration").
#[derive(Clone, Debug, Default)]
pub struct TargetConfig {
    /// `clusterHeader` (default) or `authority`.
    pub mode: Option<String>,
    /// The request header a `cluster_header` route reads; default `x-gatewasm-cluster`.
    pub header: Option<String>,
    /// Cluster name template with `{name}`, `{namespace}` and `{port}`.
    pub cluster: Option<String>,
    /// `:authority` template for `authority` mode, with the same placeholders.
    pub authority: Option<String>,
    /// Cluster name template for one mesh cluster's subset of a Service (a `ClusterSplit`),
    /// with `{subset}` besides the others.
    pub subset_cluster: Option<String>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl TargetConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            mode: fields.opt_string("mode"),
            header: fields.opt_string("header"),
            cluster: fields.opt_string("cluster"),
            authority: fields.opt_string("authority"),
            subset_cluster: fields.opt_string("subsetCluster"),
            unknown: fields.unknown(),
        }
    }
}
