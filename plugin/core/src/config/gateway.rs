//! Gateway, its listeners, and ReferenceGrant, as written (reference §8, §9).

use std::collections::BTreeMap;

use super::json::{self, from_json, JsonError, Node};
use super::{ObjectMeta, RawJson, Unknown};

/// A `gateway.networking.k8s.io` Gateway.
#[derive(Clone, Debug, Default)]
pub struct Gateway {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Listeners and class.
    pub spec: GatewaySpec,
}

impl Gateway {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
            spec: fields.or_default("spec", GatewaySpec::read),
        }
    }
}

impl Gateway {
    /// Reads a Gateway from its JSON text, as the filter reads one from `resources`.
    ///
    /// # Errors
    ///
    /// [`JsonError`] naming the field path and the offending value.
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        from_json(text, Self::read)
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

impl GatewaySpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            gateway_class_name: fields.string("gatewayClassName"),
            listeners: fields.list("listeners", Listener::read),
            addresses: fields.list("addresses", json::raw),
            allowed_listeners: fields.opt("allowedListeners", AllowedListeners::read),
            unknown: fields.unknown(),
        }
    }
}

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
    pub tls: Option<ListenerTls>,
    /// Which routes may attach.
    pub allowed_routes: Option<AllowedRoutes>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl Listener {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.string("name"),
            hostname: fields.opt_string("hostname"),
            port: fields.opt_u32("port"),
            protocol: fields.string("protocol"),
            tls: fields.opt("tls", ListenerTls::read),
            allowed_routes: fields.opt("allowedRoutes", AllowedRoutes::read),
            unknown: fields.unknown(),
        }
    }
}

/// `listeners[].tls`. Certificates are the proxy's business, so only what the CRD's rules look
/// at is read, leniently: a value of another type than these fields expect reads as absent, and
/// the whole object is kept as written.
#[derive(Clone, Debug, Default)]
pub struct ListenerTls {
    /// `Terminate` (default) or `Passthrough`.
    pub mode: Option<String>,
    /// The Secrets holding certificates, each as written.
    pub certificate_refs: Vec<RawJson>,
    /// The names of the implementation-specific options.
    pub options: Vec<String>,
    /// The whole `tls` object as written.
    pub raw: RawJson,
}

impl ListenerTls {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let get = |key| node.get(key);
        Self {
            mode: get("mode").and_then(Node::as_str).map(str::to_owned),
            certificate_refs: get("certificateRefs").map(Node::items).unwrap_or_default(),
            options: get("options").map(Node::keys).unwrap_or_default(),
            raw: json::raw(node),
        }
    }
}

/// `Gateway.spec.allowedListeners`.
#[derive(Clone, Debug, Default)]
pub struct AllowedListeners {
    /// `from`: `None` (default), `Same`, `All` or `Selector`, with its selector.
    pub namespaces: Option<RouteNamespaces>,
}

impl AllowedListeners {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            namespaces: fields.opt("namespaces", RouteNamespaces::read),
        }
    }
}

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

impl AllowedRoutes {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            namespaces: fields.opt("namespaces", RouteNamespaces::read),
            kinds: fields.list("kinds", RouteGroupKind::read),
            unknown: fields.unknown(),
        }
    }
}

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

impl RouteNamespaces {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            from: fields.opt_string("from"),
            selector: fields.opt("selector", LabelSelector::read),
            unknown: fields.unknown(),
        }
    }
}

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

impl LabelSelector {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            match_labels: fields.or_default("matchLabels", json::string_map),
            match_expressions: fields.list("matchExpressions", LabelSelectorRequirement::read),
            unknown: fields.unknown(),
        }
    }
}

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

impl LabelSelectorRequirement {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            key: fields.string("key"),
            operator: fields.string("operator"),
            values: fields.strings("values"),
        }
    }
}

/// A route kind with its group, as in `allowedRoutes.kinds`.
#[derive(Clone, Debug, Default)]
pub struct RouteGroupKind {
    /// API group; default `gateway.networking.k8s.io`.
    pub group: Option<String>,
    /// Route kind, e.g. `HTTPRoute`.
    pub kind: String,
}

impl RouteGroupKind {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.opt_string("group"),
            kind: fields.string("kind"),
        }
    }
}

/// A ReferenceGrant, which lives in the namespace of the object referred to (reference §9).
#[derive(Clone, Debug, Default)]
pub struct ReferenceGrant {
    /// Name and namespace (the target namespace).
    pub metadata: ObjectMeta,
    /// Who may refer to what.
    pub spec: ReferenceGrantSpec,
}

impl ReferenceGrant {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
            spec: fields.or_default("spec", ReferenceGrantSpec::read),
        }
    }
}

/// `ReferenceGrant.spec`.
#[derive(Clone, Debug, Default)]
pub struct ReferenceGrantSpec {
    /// Referring objects, ORed.
    pub from: Vec<ReferenceGrantFrom>,
    /// Referred-to objects, ORed.
    pub to: Vec<ReferenceGrantTo>,
}

impl ReferenceGrantSpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            from: fields.list("from", ReferenceGrantFrom::read),
            to: fields.list("to", ReferenceGrantTo::read),
        }
    }
}

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

impl ReferenceGrantFrom {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.string("group"),
            kind: fields.string("kind"),
            namespace: fields.string("namespace"),
        }
    }
}

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

impl ReferenceGrantTo {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.string("group"),
            kind: fields.string("kind"),
            name: fields.opt_string("name"),
        }
    }
}
