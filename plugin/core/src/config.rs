//! The plugin configuration as the user writes it: serde types that mirror Gateway API objects.
//!
//! These types hold only what was written. Defaults, validation and attachment happen in
//! [`crate::compile`]; nothing here is consulted per request. Enum-like fields (`type`, `method`,
//! `protocol`, ...) are kept as strings so that an unknown value becomes a precise problem report
//! instead of a parse failure, and every object keeps the fields it did not recognise in `unknown`
//! so they can be reported too (reference §1: unknown values must never crash the data plane).

mod gateway;
mod grpcroute;
mod httproute;
mod lenient;
mod listenerset;
mod meta;
mod parse;
mod service;

pub use gateway::{
    AllowedListeners, AllowedRoutes, Gateway, GatewaySpec, LabelSelector, LabelSelectorRequirement,
    Listener, ReferenceGrant, ReferenceGrantFrom, ReferenceGrantSpec, ReferenceGrantTo,
    RouteGroupKind, RouteNamespaces,
};
pub use grpcroute::{
    GrpcHeaderMatch, GrpcMethodMatch, GrpcRoute, GrpcRouteMatch, GrpcRouteRule, GrpcRouteSpec,
};
pub use httproute::{
    BackendRef, CookieConfig, Cors, ExternalAuth, ForwardBody, GrpcAuthConfig, HeaderMatch,
    HeaderModifier, HeaderValue, HttpAuthConfig, HttpRoute, HttpRouteFilter, HttpRouteMatch,
    HttpRouteRule, HttpRouteSpec, LocalObjectReference, Mirror, MirrorFraction, ParentRef,
    PathMatch, PathModifier, QueryParamMatch, Redirect, Retry, SessionPersistence, Timeouts,
    UrlRewrite,
};
pub use listenerset::{ListenerSet, ListenerSetSpec};
pub use meta::{Namespace, ObjectMeta, Unknown};
pub use parse::{ConfigError, Resource};
pub use service::{Service, ServicePort, ServiceSpec};

use serde::Deserialize;

/// The whole plugin configuration: what Envoy's `configuration` or Istio's `pluginConfig` carries.
/// Read by hand (`parse.rs`): the fields below, every other one into `unknown`.
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
    /// Gateway API objects (Gateway, HTTPRoute, GRPCRoute, ReferenceGrant), Namespaces and
    /// Services, each as its JSON text.
    pub resources: Vec<Box<serde_json::value::RawValue>>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

/// How the filter hands its decision to Envoy's router (DESIGN.md, "Plugin configuration").
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetConfig {
    /// `clusterHeader` (default) or `authority`.
    #[serde(default)]
    pub mode: Option<String>,
    /// The request header a `cluster_header` route reads; default `x-gatewasm-cluster`.
    #[serde(default)]
    pub header: Option<String>,
    /// Cluster name template with `{name}`, `{namespace}` and `{port}`.
    #[serde(default)]
    pub cluster: Option<String>,
    /// `:authority` template for `authority` mode, with the same placeholders.
    #[serde(default)]
    pub authority: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}
