//! Gateway, its listeners, and ReferenceGrant, as written (reference §8, §9).

use std::collections::BTreeMap;

use super::json::{from_json, impl_from_json, JsonError};
use super::{lenient, ObjectMeta, RawJson, Unknown};

/// A `gateway.networking.k8s.io` Gateway.
#[derive(Clone, Debug, Default)]
pub struct Gateway {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Listeners and class.
    pub spec: GatewaySpec,
}

impl_from_json!(Gateway {
    "metadata" => metadata,
    "spec" => spec,
});

impl Gateway {
    /// Reads a Gateway from its JSON text, as the filter reads one from `resources`.
    ///
    /// # Errors
    ///
    /// [`JsonError`] naming the field path and the offending value.
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        from_json(text)
    }
}

/// `Gateway.spec`.
#[derive(Clone, Debug, Default)]
pub struct GatewaySpec {
    /// The GatewayClass this Gateway belongs to.
    pub gateway_class_name: String,
    /// The listeners, in the order written.
    pub listeners: Vec<Listener>,
    /// Requested addresses (not used for routing).
    pub addresses: Vec<RawJson>,
    /// Which namespaces' ListenerSets may add listeners; none when absent.
    pub allowed_listeners: Option<AllowedListeners>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(GatewaySpec, unknown: unknown {
    "gatewayClassName" => gateway_class_name,
    "listeners" => listeners,
    "addresses" => addresses,
    "allowedListeners" => allowed_listeners,
});

/// One `Gateway.spec.listeners[]` entry.
#[derive(Clone, Debug, Default)]
pub struct Listener {
    /// Listener name, the target of a parentRef `sectionName`.
    pub name: String,
    /// Exact or `*.`-wildcard hostname; absent matches every Host.
    pub hostname: Option<String>,
    /// Port the listener serves.
    pub port: Option<u32>,
    /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP` or an implementation-specific value.
    pub protocol: String,
    /// TLS settings (certificates are the proxy's business, not the filter's).
    pub tls: Option<RawJson>,
    /// Which routes may attach.
    pub allowed_routes: Option<AllowedRoutes>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(Listener, unknown: unknown {
    "name" => name,
    "hostname" => hostname,
    "port" => port (lenient::opt_u32),
    "protocol" => protocol,
    "tls" => tls,
    "allowedRoutes" => allowed_routes,
});

/// `Gateway.spec.allowedListeners`.
#[derive(Clone, Debug, Default)]
pub struct AllowedListeners {
    /// `from`: `None` (default), `Same`, `All` or `Selector`, with its selector.
    pub namespaces: Option<RouteNamespaces>,
}

impl_from_json!(AllowedListeners {
    "namespaces" => namespaces,
});

/// `listeners[].allowedRoutes`.
#[derive(Clone, Debug, Default)]
pub struct AllowedRoutes {
    /// Namespaces routes may come from; default `Same`.
    pub namespaces: Option<RouteNamespaces>,
    /// Route kinds; empty means those the protocol supports.
    pub kinds: Vec<RouteGroupKind>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(AllowedRoutes, unknown: unknown {
    "namespaces" => namespaces,
    "kinds" => kinds,
});

/// `allowedRoutes.namespaces`.
#[derive(Clone, Debug, Default)]
pub struct RouteNamespaces {
    /// `Same` (default), `All` or `Selector`.
    pub from: Option<String>,
    /// Label selector used with `from: Selector`.
    pub selector: Option<LabelSelector>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(RouteNamespaces, unknown: unknown {
    "from" => from,
    "selector" => selector,
});

/// A Kubernetes LabelSelector.
#[derive(Clone, Debug, Default)]
pub struct LabelSelector {
    /// Labels that must all be present with these values.
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements, all of which must hold.
    pub match_expressions: Vec<LabelSelectorRequirement>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(LabelSelector, unknown: unknown {
    "matchLabels" => match_labels,
    "matchExpressions" => match_expressions,
});

/// One `matchExpressions` entry.
#[derive(Clone, Debug, Default)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    pub values: Vec<String>,
}

impl_from_json!(LabelSelectorRequirement {
    "key" => key,
    "operator" => operator,
    "values" => values,
});

/// A route kind with its group, as in `allowedRoutes.kinds`.
#[derive(Clone, Debug, Default)]
pub struct RouteGroupKind {
    /// API group; default `gateway.networking.k8s.io`.
    pub group: Option<String>,
    /// Route kind, e.g. `HTTPRoute`.
    pub kind: String,
}

impl_from_json!(RouteGroupKind {
    "group" => group,
    "kind" => kind,
});

/// A ReferenceGrant, which lives in the namespace of the object referred to (reference §9).
#[derive(Clone, Debug, Default)]
pub struct ReferenceGrant {
    /// Name and namespace (the target namespace).
    pub metadata: ObjectMeta,
    /// Who may refer to what.
    pub spec: ReferenceGrantSpec,
}

impl_from_json!(ReferenceGrant {
    "metadata" => metadata,
    "spec" => spec,
});

/// `ReferenceGrant.spec`.
#[derive(Clone, Debug, Default)]
pub struct ReferenceGrantSpec {
    /// Referring objects, ORed.
    pub from: Vec<ReferenceGrantFrom>,
    /// Referred-to objects, ORed.
    pub to: Vec<ReferenceGrantTo>,
}

impl_from_json!(ReferenceGrantSpec {
    "from" => from,
    "to" => to,
});

/// `ReferenceGrant.spec.from[]`.
#[derive(Clone, Debug, Default)]
pub struct ReferenceGrantFrom {
    /// Group of the referring kind (`gateway.networking.k8s.io` for routes).
    pub group: String,
    /// Referring kind, e.g. `HTTPRoute`.
    pub kind: String,
    /// Namespace of the referring object.
    pub namespace: String,
}

impl_from_json!(ReferenceGrantFrom {
    "group" => group,
    "kind" => kind,
    "namespace" => namespace,
});

/// `ReferenceGrant.spec.to[]`.
#[derive(Clone, Debug, Default)]
pub struct ReferenceGrantTo {
    /// Group of the referred kind (`""` for Service).
    pub group: String,
    /// Referred kind, e.g. `Service`.
    pub kind: String,
    /// A single object name; absent means every object of the kind.
    pub name: Option<String>,
}

impl_from_json!(ReferenceGrantTo {
    "group" => group,
    "kind" => kind,
    "name" => name,
});
