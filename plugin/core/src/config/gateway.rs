//! Gateway, its listeners, and ReferenceGrant, as written (reference §8, §9).

use std::collections::BTreeMap;

use super::json::{self, from_json, JsonError, Node};
use super::meta::or_namespace;
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

    /// The `certificateRefs` entries that read as references, with their index. The filter
    /// does not terminate TLS, so it never reads them; `check` does.
    pub fn certificates(&self) -> impl Iterator<Item = (usize, CertificateRef)> + '_ {
        self.certificate_refs
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                let read = from_json(raw.get(), |node| node.checked(CertificateRef::read));
                Some((i, read.ok()?.ok()?))
            })
    }
}

/// One `certificateRefs` entry (a SecretObjectReference).
#[derive(Clone, Debug, Default)]
pub struct CertificateRef {
    /// Default `""` (core).
    pub group: Option<String>,
    /// Default `Secret`.
    pub kind: Option<String>,
    /// The Secret's name.
    pub name: String,
    /// Default: the listener owner's namespace.
    pub namespace: Option<String>,
}

impl CertificateRef {
    fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.opt_string("group"),
            kind: fields.opt_string("kind"),
            name: fields.string("name"),
            namespace: fields.opt_string("namespace"),
        }
    }

    /// `group`, with the API default `""` when unset.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }

    /// `kind`, with the API default `Secret` when unset.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Secret")
    }

    /// `namespace`, the listener owner's when unset or empty.
    pub fn namespace<'a>(&'a self, owner_namespace: &'a str) -> &'a str {
        or_namespace(self.namespace.as_deref(), owner_namespace)
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

    /// Whether the selector selects an object with these labels.
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
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

    /// Whether the grant lets objects of `from` = (group, kind, namespace) refer to the object
    /// `to` = (group, kind, name) in the grant's namespace (reference §9). A `to` without a name
    /// covers every object of its kind.
    pub fn permits(&self, from: (&str, &str, &str), to: (&str, &str, &str)) -> bool {
        let (from_group, from_kind, from_namespace) = from;
        let (to_group, to_kind, to_name) = to;
        self.spec
            .from
            .iter()
            .any(|f| f.group == from_group && f.kind == from_kind && f.namespace == from_namespace)
            && self.spec.to.iter().any(|t| {
                t.group == to_group
                    && t.kind == to_kind
                    && t.name.as_deref().is_none_or(|n| n == to_name)
            })
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

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use std::collections::BTreeMap;

    use super::{Gateway, LabelSelector, ReferenceGrant};
    use crate::config::json::from_json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selectors_select_by_labels_and_expressions() {
        let selector = |text: &str| from_json(text, LabelSelector::read).unwrap();
        let team_a = labels(&[("gateway-access", "true"), ("team", "a")]);
        assert!(selector(r#"{"matchLabels": {"gateway-access": "true"}}"#).selects(&team_a));
        assert!(!selector(r#"{"matchLabels": {"gateway-access": "yes"}}"#).selects(&team_a));
        let within =
            r#"{"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}"#;
        assert!(selector(within).selects(&team_a));
        let outside =
            r#"{"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["a"]}]}"#;
        assert!(!selector(outside).selects(&team_a));
        let exists = r#"{"matchExpressions": [{"key": "x", "operator": "Exists"}]}"#;
        assert!(!selector(exists).selects(&team_a));
        let unknown = r#"{"matchExpressions": [{"key": "team", "operator": "Matches"}]}"#;
        assert!(!selector(unknown).selects(&team_a));
        assert!(selector("{}").selects(&BTreeMap::new()));
    }

    #[test]
    fn a_grant_allows_what_it_names_from_whom_it_names() {
        let grant = from_json(
            r#"{"metadata": {"name": "g", "namespace": "certs"}, "spec": {
                "from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "infra"}],
                "to": [{"group": "", "kind": "Secret", "name": "tls"}]}}"#,
            ReferenceGrant::read,
        )
        .unwrap();
        let gateway = ("gateway.networking.k8s.io", "Gateway", "infra");
        assert!(grant.permits(gateway, ("", "Secret", "tls")));
        assert!(!grant.permits(gateway, ("", "Secret", "other")));
        assert!(!grant.permits(gateway, ("", "Service", "tls")));
        let set = ("gateway.networking.k8s.io", "ListenerSet", "infra");
        assert!(!grant.permits(set, ("", "Secret", "tls")));
    }

    #[test]
    fn certificate_references_take_the_api_defaults() {
        let gateway = Gateway::from_json(
            r#"{"metadata": {"name": "gw", "namespace": "infra"}, "spec": {"listeners": [
                {"name": "https", "port": 443, "protocol": "HTTPS", "tls": {"certificateRefs": [
                    {"name": "own"}, {"name": 3}, {"name": "shared", "namespace": "certs", "kind": "ConfigMap"}]}}]}}"#,
        )
        .unwrap();
        let tls = gateway.spec.listeners[0].tls.as_ref().unwrap();
        let refs: Vec<_> = tls.certificates().collect();
        assert_eq!(refs.len(), 2, "an entry that does not read is left out");
        let (index, own) = &refs[0];
        assert_eq!(
            (*index, own.group(), own.kind(), own.namespace("infra")),
            (0, "", "Secret", "infra")
        );
        let (index, shared) = &refs[1];
        assert_eq!(
            (*index, shared.kind(), shared.namespace("infra")),
            (2, "ConfigMap", "certs")
        );
    }
}
