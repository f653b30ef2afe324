//! `networking.k8s.io/v1` Ingress and IngressClass as written, and the plugin configuration's
//! `ingress` section (which class this proxy serves).
//!
//! These types hold only what was written, like the Gateway API types beside them. The
//! annotations an Ingress carries are kept as text here and read into their typed form by
//! [`IngressAnnotations::parse`], which reports every bad value; what nginx makes of an Ingress
//! (class, order, locations, canaries) is worked out in [`crate::compile`].

mod annotations;
mod cidr;

pub use annotations::{
    Affinity, BackendProtocol, Canary, IngressAnnotations, IngressCors, NotServed, ProxyTimeouts,
    Redirect as IngressRedirect, ANNOTATION_PREFIX, DEFAULT_AFFINITY_COOKIE, DEFAULT_CORS_HEADERS,
    DEFAULT_CORS_MAX_AGE, DEFAULT_CORS_METHODS, LEGACY_CLASS_ANNOTATION,
};
pub use cidr::Cidr;

use std::collections::BTreeMap;

use super::json::{self, Node};
use super::{ObjectMeta, Unknown};

/// The annotation that marks an IngressClass as the cluster's default.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

/// The controller name ingress-nginx's IngressClasses name in `spec.controller`.
pub const NGINX_CONTROLLER: &str = "k8s.io/ingress-nginx";

/// The plugin configuration's `ingress` section: which Ingresses this proxy serves, as
/// ingress-nginx's `--ingress-class` and `--watch-ingress-without-class` flags say.
#[derive(Clone, Debug, Default)]
pub struct IngressConfig {
    /// The IngressClass name served; `nginx` when absent.
    pub class: Option<String>,
    /// Whether Ingresses without any class are served; `false` when absent (unless the served
    /// IngressClass is marked default).
    pub watch_without_class: Option<bool>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl IngressConfig {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            class: fields.opt_string("class"),
            watch_without_class: fields.opt("watchWithoutClass", json::bool),
            unknown: fields.unknown(),
        }
    }

    /// The IngressClass name served, with the default applied.
    pub fn class(&self) -> &str {
        match self.class.as_deref() {
            Some(class) if !class.is_empty() => class,
            _ => "nginx",
        }
    }
}

/// An Ingress.
#[derive(Clone, Debug, Default)]
pub struct Ingress {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// The annotations the filter reads (ingress-nginx's and the legacy class), as written.
    pub annotations: BTreeMap<String, String>,
    /// Class, default backend, TLS and rules.
    pub spec: IngressSpec,
}

impl Ingress {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        let (metadata, annotations) = fields.or_default("metadata", |node| {
            (ObjectMeta::read(node), read_annotations(node))
        });
        Self {
            metadata,
            annotations,
            spec: fields.or_default("spec", IngressSpec::read),
        }
    }

    /// The class this Ingress asks for: `spec.ingressClassName`, else the legacy annotation.
    pub fn class_name(&self) -> Option<&str> {
        self.spec.ingress_class_name.as_deref().or_else(|| {
            self.annotations
                .get(LEGACY_CLASS_ANNOTATION)
                .map(String::as_str)
        })
    }
}

/// The annotations an Ingress object carries that mean something to ingress-nginx. Others (for
/// example `kubectl`'s last applied configuration, often as large as the object) are not kept.
fn read_annotations(node: Node<'_, '_>) -> BTreeMap<String, String> {
    let Some(annotations) = node.get("annotations") else {
        return BTreeMap::new();
    };
    annotations
        .keys()
        .into_iter()
        .filter(|key| {
            key.strip_prefix(ANNOTATION_PREFIX)
                .is_some_and(|rest| rest.starts_with('/'))
                || key == LEGACY_CLASS_ANNOTATION
        })
        .filter_map(|key| {
            let value = annotations.get(&key).and_then(Node::as_str)?.to_owned();
            Some((key, value))
        })
        .collect()
}

/// `Ingress.spec`.
#[derive(Clone, Debug, Default)]
pub struct IngressSpec {
    /// The IngressClass this Ingress belongs to.
    pub ingress_class_name: Option<String>,
    /// The backend for requests no rule matches (on the hosts this Ingress creates, or for
    /// every host when the Ingress has no rules).
    pub default_backend: Option<IngressBackend>,
    /// Hosts served over TLS.
    pub tls: Vec<IngressTls>,
    /// Host rules.
    pub rules: Vec<IngressRule>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl IngressSpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            ingress_class_name: fields.opt_string("ingressClassName"),
            default_backend: fields.opt("defaultBackend", IngressBackend::read),
            tls: fields.list("tls", IngressTls::read),
            rules: fields.list("rules", IngressRule::read),
            unknown: fields.unknown(),
        }
    }
}

/// A `spec.tls[]` entry.
#[derive(Clone, Debug, Default)]
pub struct IngressTls {
    /// Hosts the certificate covers.
    pub hosts: Vec<String>,
    /// The Secret holding the certificate (the proxy terminates TLS; the filter only needs to
    /// know that the host has one).
    pub secret_name: Option<String>,
}

impl IngressTls {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            hosts: fields.strings("hosts"),
            secret_name: fields.opt_string("secretName"),
        }
    }
}

/// A `spec.rules[]` entry.
#[derive(Clone, Debug, Default)]
pub struct IngressRule {
    /// The host, exact or `*.` plus a domain (one label); absent means every host.
    pub host: Option<String>,
    /// The paths of this host; absent when the rule only names the host.
    pub http: Option<HttpIngressRuleValue>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl IngressRule {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            host: fields.opt_string("host"),
            http: fields.opt("http", HttpIngressRuleValue::read),
            unknown: fields.unknown(),
        }
    }
}

/// `spec.rules[].http`.
#[derive(Clone, Debug, Default)]
pub struct HttpIngressRuleValue {
    /// Paths, each with its backend.
    pub paths: Vec<HttpIngressPath>,
}

impl HttpIngressRuleValue {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            paths: fields.list("paths", HttpIngressPath::read),
        }
    }
}

/// `spec.rules[].http.paths[]`.
#[derive(Clone, Debug, Default)]
pub struct HttpIngressPath {
    /// The path; `/` when absent.
    pub path: Option<String>,
    /// `Exact`, `Prefix` or `ImplementationSpecific`.
    pub path_type: Option<String>,
    /// Where matching requests go.
    pub backend: IngressBackend,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl HttpIngressPath {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            path: fields.opt_string("path"),
            path_type: fields.opt_string("pathType"),
            backend: fields.or_default("backend", IngressBackend::read),
            unknown: fields.unknown(),
        }
    }
}

/// An Ingress backend: a Service port, or a resource (which the filter cannot serve).
#[derive(Clone, Debug, Default)]
pub struct IngressBackend {
    /// The Service and its port.
    pub service: Option<IngressServiceBackend>,
    /// A typed reference to another object, as written.
    pub resource: Option<json::RawJson>,
}

impl IngressBackend {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            service: fields.opt("service", IngressServiceBackend::read),
            resource: fields.opt("resource", json::raw),
        }
    }
}

/// `backend.service`.
#[derive(Clone, Debug, Default)]
pub struct IngressServiceBackend {
    /// Service name, in the Ingress's namespace.
    pub name: String,
    /// The Service port, by number or by name.
    pub port: ServiceBackendPort,
}

impl IngressServiceBackend {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.string("name"),
            port: fields.or_default("port", ServiceBackendPort::read),
        }
    }
}

/// `backend.service.port`: exactly one of the two.
#[derive(Clone, Debug, Default)]
pub struct ServiceBackendPort {
    /// Port number.
    pub number: Option<u32>,
    /// Port name, resolved through the Service object.
    pub name: Option<String>,
}

impl ServiceBackendPort {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            number: fields.opt_u32("number"),
            name: fields.opt_string("name"),
        }
    }
}

/// An IngressClass: which controller serves the class, and whether it is the default.
#[derive(Clone, Debug, Default)]
pub struct IngressClass {
    /// Name (the class name Ingresses refer to).
    pub metadata: ObjectMeta,
    /// Whether the class carries `ingressclass.kubernetes.io/is-default-class: "true"`.
    pub is_default: bool,
    /// `spec.controller`, `k8s.io/ingress-nginx` for ingress-nginx's classes.
    pub controller: Option<String>,
}

impl IngressClass {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        let (metadata, is_default) = fields.or_default("metadata", |node| {
            let is_default = node
                .get("annotations")
                .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
                .and_then(Node::as_str)
                .is_some_and(|value| value == "true");
            (ObjectMeta::read(node), is_default)
        });
        let controller = fields
            .opt("spec", |node| {
                node.get("controller")
                    .and_then(Node::as_str)
                    .map(str::to_owned)
            })
            .flatten();
        Self {
            metadata,
            is_default,
            controller,
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{Ingress, IngressClass, IngressConfig};
    use crate::config::json::from_json;

    #[test]
    fn an_ingress_is_read_with_its_annotations_and_paths() {
        let ingress = from_json(
            r#"{"metadata": {"name": "web", "namespace": "shop",
                  "annotations": {"nginx.ingress.kubernetes.io/canary": "true",
                                  "kubernetes.io/ingress.class": "nginx",
                                  "kubectl.kubernetes.io/last-applied-configuration": "{}",
                                  "nginx.ingress.kubernetes.iox/other": "1"}},
                "spec": {"tls": [{"hosts": ["a.example"], "secretName": "a"}],
                  "defaultBackend": {"service": {"name": "fallback", "port": {"name": "http"}}},
                  "rules": [{"host": "a.example", "http": {"paths": [
                    {"path": "/api", "pathType": "Prefix",
                     "backend": {"service": {"name": "api", "port": {"number": 8080}}}}]}}]}}"#,
            Ingress::read,
        )
        .unwrap();
        assert_eq!(ingress.metadata.namespace(), "shop");
        assert_eq!(
            ingress.annotations.keys().collect::<Vec<_>>(),
            [
                "kubernetes.io/ingress.class",
                "nginx.ingress.kubernetes.io/canary"
            ]
        );
        assert_eq!(ingress.class_name(), Some("nginx"));
        assert_eq!(ingress.spec.tls[0].hosts, ["a.example"]);
        let path = &ingress.spec.rules[0].http.as_ref().unwrap().paths[0];
        assert_eq!(path.path.as_deref(), Some("/api"));
        assert_eq!(path.path_type.as_deref(), Some("Prefix"));
        let service = path.backend.service.as_ref().unwrap();
        assert_eq!(
            (service.name.as_str(), service.port.number),
            ("api", Some(8080))
        );
        let fallback = ingress.spec.default_backend.unwrap().service.unwrap();
        assert_eq!(fallback.port.name.as_deref(), Some("http"));
    }

    #[test]
    fn the_class_name_field_beats_the_legacy_annotation() {
        let ingress = from_json(
            r#"{"metadata": {"name": "a", "annotations": {"kubernetes.io/ingress.class": "old"}},
                "spec": {"ingressClassName": "new"}}"#,
            Ingress::read,
        )
        .unwrap();
        assert_eq!(ingress.class_name(), Some("new"));
    }

    #[test]
    fn an_ingress_class_knows_whether_it_is_the_default() {
        let class = from_json(
            r#"{"metadata": {"name": "nginx", "annotations":
                  {"ingressclass.kubernetes.io/is-default-class": "true"}},
                "spec": {"controller": "k8s.io/ingress-nginx"}}"#,
            IngressClass::read,
        )
        .unwrap();
        assert!(class.is_default);
        assert_eq!(class.controller.as_deref(), Some("k8s.io/ingress-nginx"));
    }

    #[test]
    fn the_ingress_section_defaults_to_the_nginx_class() {
        let config = from_json("{}", IngressConfig::read).unwrap();
        assert_eq!(config.class(), "nginx");
        let config = from_json(
            r#"{"class": "internal", "watchWithoutClass": true, "x": 1}"#,
            IngressConfig::read,
        )
        .unwrap();
        assert_eq!(config.class(), "internal");
        assert_eq!(config.watch_without_class, Some(true));
        assert_eq!(config.unknown.into_iter().collect::<Vec<_>>(), ["x"]);
    }
}
