//! Gateway, its listeners, and ReferenceGrant, as written (reference §8, §9).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{lenient, ObjectMeta, Unknown};

/// A `gateway.networking.k8s.io` Gateway.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Gateway {
    /// Name, namespace, creation time.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Listeners and class.
    #[serde(default)]
    pub spec: GatewaySpec,
}

/// `Gateway.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    /// The GatewayClass this Gateway belongs to.
    #[serde(default)]
    pub gateway_class_name: String,
    /// The listeners, in the order written.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// Requested addresses (not used for routing).
    #[serde(default)]
    pub addresses: Vec<serde_json::Value>,
    /// Which namespaces' ListenerSets may add listeners; none when absent.
    #[serde(default)]
    pub allowed_listeners: Option<AllowedListeners>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One `Gateway.spec.listeners[]` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// Listener name, the target of a parentRef `sectionName`.
    #[serde(default)]
    pub name: String,
    /// Exact or `*.`-wildcard hostname; absent matches every Host.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Port the listener serves.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub port: Option<u32>,
    /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP` or an implementation-specific value.
    #[serde(default)]
    pub protocol: String,
    /// TLS settings (certificates are the proxy's business, not the filter's).
    #[serde(default)]
    pub tls: Option<serde_json::Value>,
    /// Which routes may attach.
    #[serde(default)]
    pub allowed_routes: Option<AllowedRoutes>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `Gateway.spec.allowedListeners`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AllowedListeners {
    /// `from`: `None` (default), `Same`, `All` or `Selector`, with its selector.
    #[serde(default)]
    pub namespaces: Option<RouteNamespaces>,
}

/// `listeners[].allowedRoutes`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowedRoutes {
    /// Namespaces routes may come from; default `Same`.
    #[serde(default)]
    pub namespaces: Option<RouteNamespaces>,
    /// Route kinds; empty means those the protocol supports.
    #[serde(default)]
    pub kinds: Vec<RouteGroupKind>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// `allowedRoutes.namespaces`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteNamespaces {
    /// `Same` (default), `All` or `Selector`.
    #[serde(default)]
    pub from: Option<String>,
    /// Label selector used with `from: Selector`.
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// A Kubernetes LabelSelector.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must all be present with these values.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements, all of which must hold.
    #[serde(default)]
    pub match_expressions: Vec<LabelSelectorRequirement>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LabelSelectorRequirement {
    /// Label key.
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default)]
    pub operator: String,
    /// Values for `In` / `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// A route kind with its group, as in `allowedRoutes.kinds`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RouteGroupKind {
    /// API group; default `gateway.networking.k8s.io`.
    #[serde(default)]
    pub group: Option<String>,
    /// Route kind, e.g. `HTTPRoute`.
    #[serde(default)]
    pub kind: String,
}

/// A ReferenceGrant, which lives in the namespace of the object referred to (reference §9).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferenceGrant {
    /// Name and namespace (the target namespace).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Who may refer to what.
    #[serde(default)]
    pub spec: ReferenceGrantSpec,
}

/// `ReferenceGrant.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferenceGrantSpec {
    /// Referring objects, ORed.
    #[serde(default)]
    pub from: Vec<ReferenceGrantFrom>,
    /// Referred-to objects, ORed.
    #[serde(default)]
    pub to: Vec<ReferenceGrantTo>,
}

/// `ReferenceGrant.spec.from[]`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferenceGrantFrom {
    /// Group of the referring kind (`gateway.networking.k8s.io` for routes).
    #[serde(default)]
    pub group: String,
    /// Referring kind, e.g. `HTTPRoute`.
    #[serde(default)]
    pub kind: String,
    /// Namespace of the referring object.
    #[serde(default)]
    pub namespace: String,
}

/// `ReferenceGrant.spec.to[]`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferenceGrantTo {
    /// Group of the referred kind (`""` for Service).
    #[serde(default)]
    pub group: String,
    /// Referred kind, e.g. `Service`.
    #[serde(default)]
    pub kind: String,
    /// A single object name; absent means every object of the kind.
    #[serde(default)]
    pub name: Option<String>,
}
