//! The protocol Envoy speaks to each backend, read from the manifests: a Service port's
//! `appProtocol`, else its name's prefix (the convention Istio also reads), else what the route
//! kind implies (HTTP/2 for gRPC), else HTTP/1.1 (reference §5, appProtocol).
//!
//! It only classifies; the Envoy bootstrap turns the result into cluster options
//! (`deploy::envoy`), and `route` and case files report it for a decision's backend. Whether
//! TLS upstream can be verified (BackendTLSPolicy) is the bootstrap's question, not this one's.

use std::collections::{BTreeMap, BTreeSet};

use gatewasm_core::config::{BackendRef, Route};
use serde_json::Value as Json;

use crate::objects::Objects;
use crate::written;

/// What Envoy speaks to a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// Plain HTTP/1.1, Envoy's default for a cluster.
    Http1,
    /// HTTP/2 with prior knowledge over cleartext (`kubernetes.io/h2c`, `http2`, `grpc`).
    H2c,
    /// HTTP/1.1 that upgrades to WebSocket (`kubernetes.io/ws`).
    WebSocket,
    /// HTTP/1.1 over TLS (`https`).
    Https,
    /// WebSocket over TLS (`kubernetes.io/wss`).
    Wss,
}

impl Protocol {
    /// The name `route` and case files use: `http/1.1`, `h2c`, `websocket`, `https`, `wss`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Http1 => "http/1.1",
            Self::H2c => "h2c",
            Self::WebSocket => "websocket",
            Self::Https => "https",
            Self::Wss => "wss",
        }
    }

    /// Whether the backend expects TLS.
    pub fn tls(self) -> bool {
        matches!(self, Self::Https | Self::Wss)
    }

    /// Whether the backend expects WebSocket upgrades.
    pub fn websocket(self) -> bool {
        matches!(self, Self::WebSocket | Self::Wss)
    }

    /// The protocol an `appProtocol` value or a port name declares, when it declares an HTTP
    /// one. Names match Istio's prefixes (`http2-web`, `grpc-api`); `appProtocol` is exact.
    fn declared(app_protocol: Option<&str>, port_name: Option<&str>) -> Option<Self> {
        if let Some(app) = app_protocol {
            return match app.to_ascii_lowercase().as_str() {
                "kubernetes.io/h2c" | "http2" | "grpc" | "h2c" => Some(Self::H2c),
                "kubernetes.io/ws" | "ws" => Some(Self::WebSocket),
                "kubernetes.io/wss" | "wss" => Some(Self::Wss),
                "https" => Some(Self::Https),
                "http" | "grpc-web" => Some(Self::Http1),
                _ => None,
            };
        }
        let name = port_name?.to_ascii_lowercase();
        let prefix = name.split('-').next().unwrap_or_default();
        match prefix {
            "http2" | "grpc" => Some(Self::H2c),
            "https" => Some(Self::Https),
            "http" | "grpc-web" => Some(Self::Http1),
            _ => None,
        }
    }
}

/// The protocol of every backend a Service port declares, and of the backends a GRPCRoute (or
/// a gRPC authorization server) names, by `namespace/name:port`.
#[derive(Clone, Debug, Default)]
pub struct Protocols {
    declared: BTreeMap<String, Protocol>,
    /// Ports whose Service says nothing (unnamed, or a name Istio does not read as HTTP).
    undeclared: BTreeSet<String>,
    grpc: BTreeSet<String>,
    port_names: BTreeMap<String, String>,
}

impl Protocols {
    /// Reads the Service objects and the routes among `resources`.
    pub fn new(resources: &[Json]) -> Self {
        let mut protocols = Self::default();
        for object in resources {
            let kind = object.get("kind").and_then(Json::as_str);
            if kind != Some("Service") && kind != Some("ServiceImport") {
                continue;
            }
            let (namespace, name) = (written::namespace(object), written::name(object));
            let ports = object.pointer("/spec/ports").and_then(Json::as_array);
            for port in ports.into_iter().flatten() {
                let Some(number) = port.get("port").and_then(Json::as_u64) else {
                    continue;
                };
                let key = format!("{namespace}/{name}:{number}");
                let app = port.get("appProtocol").and_then(Json::as_str);
                let port_name = port.get("name").and_then(Json::as_str);
                if let Some(port_name) = port_name {
                    protocols
                        .port_names
                        .insert(key.clone(), port_name.to_owned());
                }
                match Protocol::declared(app, port_name) {
                    Some(p) => {
                        protocols.declared.insert(key, p);
                    }
                    None => {
                        protocols.undeclared.insert(key);
                    }
                }
            }
        }
        protocols.grpc = grpc_backends(resources);
        protocols
    }

    /// What Envoy speaks to `namespace/name:port`: the Service port's declaration, else HTTP/2
    /// for a gRPC backend, else HTTP/1.1.
    pub fn of(&self, key: &str) -> Protocol {
        match self.declared.get(key) {
            Some(Protocol::Http1) | None if self.grpc.contains(key) => Protocol::H2c,
            Some(&declared) => declared,
            None => Protocol::Http1,
        }
    }

    /// The name of the Service port `namespace/name:port`, when it has one.
    pub fn port_name(&self, key: &str) -> Option<&str> {
        self.port_names.get(key).map(String::as_str)
    }

    /// Whether the Service port declares an HTTP protocol (by `appProtocol` or name), so that an
    /// Istio sidecar serves it with the route configuration shared by its port number rather
    /// than one sniffed per Service. `None` when the port is not among the Services.
    pub fn http_declared(&self, key: &str) -> Option<bool> {
        if self.declared.contains_key(key) {
            Some(true)
        } else if self.undeclared.contains(key) {
            Some(false)
        } else {
            None
        }
    }
}

/// Keys of the Service backends that speak gRPC: those GRPCRoutes name, and the servers of
/// HTTPRoute `ExternalAuth` filters with protocol GRPC. Routes are read as the filter reads
/// them; one that does not read names no backend.
fn grpc_backends(resources: &[Json]) -> BTreeSet<String> {
    let Ok(objects) = Objects::read(resources) else {
        return BTreeSet::new();
    };
    let mut keys = BTreeSet::new();
    for route in objects.routes() {
        let route_namespace = route.metadata().namespace();
        let backends: Vec<&BackendRef> = match route {
            Route::Grpc(r) => r.spec.rules.iter().flat_map(|r| &r.backend_refs).collect(),
            Route::Http(r) => r
                .spec
                .rules
                .iter()
                .flatten()
                .flat_map(|r| &r.filters)
                .filter_map(|f| f.external_auth.as_ref())
                .filter(|auth| auth.protocol.as_deref() == Some("GRPC"))
                .map(|auth| &auth.backend_ref)
                .collect(),
        };
        keys.extend(
            backends
                .into_iter()
                .filter(|b| b.kind() == "Service")
                .filter_map(|b| {
                    let port = b.port?;
                    Some(format!(
                        "{}/{}:{port}",
                        b.namespace(route_namespace),
                        b.name
                    ))
                }),
        );
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::{Protocol, Protocols};

    fn protocols(yaml: &str) -> Protocols {
        let mut m = crate::manifests::Manifests::default();
        m.add_yaml(yaml).unwrap();
        Protocols::new(&m.resources)
    }

    #[test]
    fn app_protocol_then_name_prefix_then_route_kind() {
        let p = protocols(
            "kind: Service\nmetadata: {name: s, namespace: a}\nspec:\n  ports:\n    - {port: 1, appProtocol: kubernetes.io/h2c}\n    - {port: 2, appProtocol: kubernetes.io/ws, name: http2-x}\n    - {port: 3, appProtocol: kubernetes.io/wss}\n    - {port: 4, name: grpc-api}\n    - {port: 5, name: https}\n    - {port: 6, name: web}\n    - {port: 7, name: http-web}\n---\nkind: GRPCRoute\nmetadata: {name: r, namespace: a}\nspec: {rules: [{backendRefs: [{name: s, port: 7}, {name: g, port: 9}]}]}\n",
        );
        let of = |k: &str| p.of(k);
        assert_eq!(of("a/s:1"), Protocol::H2c);
        assert_eq!(
            of("a/s:2"),
            Protocol::WebSocket,
            "appProtocol beats the name"
        );
        assert_eq!(of("a/s:3"), Protocol::Wss);
        assert_eq!(of("a/s:4"), Protocol::H2c);
        assert_eq!(of("a/s:5"), Protocol::Https);
        assert_eq!(of("a/s:6"), Protocol::Http1);
        assert_eq!(
            of("a/s:7"),
            Protocol::H2c,
            "a GRPCRoute backend needs HTTP/2"
        );
        assert_eq!(of("a/g:9"), Protocol::H2c, "gRPC without a Service object");
        assert_eq!(of("a/x:1"), Protocol::Http1);
        assert_eq!(p.http_declared("a/s:6"), Some(false));
        assert_eq!(p.http_declared("a/s:7"), Some(true));
        assert_eq!(p.http_declared("a/x:1"), None);
    }
}
