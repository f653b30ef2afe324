//! A GatewayClass's connection-pool settings as Envoy cluster settings: the `proxy-config` key
//! of the ConfigMap its `parametersRef` names, written in the shape of Istio's
//! `DestinationRule.trafficPolicy` (`connectionPool`, `outlierDetection`), becomes every
//! cluster's circuit breakers, connection limits and outlier detection in
//! `config --format envoy`.
//!
//! Istio itself reads no GatewayClass parameters and ignores these keys (`check` says so, in
//! `verdicts`); the same settings belong in a DestinationRule there. Clusters themselves are
//! `envoy`'s.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::manifests::Manifests;

/// Envoy cluster fields from `proxy-config`: circuit breaker thresholds, `connect_timeout`,
/// requests per connection and outlier detection.
#[derive(Clone, Debug, Default)]
pub struct ConnectionPool {
    /// `circuit_breakers.thresholds[0]` fields (`max_connections`, `max_pending_requests`,
    /// `max_requests`, `max_retries`).
    pub thresholds: Vec<(&'static str, u64)>,
    /// `connect_timeout`, from `tcp.connectTimeout`.
    pub connect_timeout: Option<String>,
    /// `common_http_protocol_options.max_requests_per_connection`.
    pub max_requests_per_connection: Option<u64>,
    /// `outlier_detection` fields.
    pub outlier: Vec<(&'static str, Yaml)>,
}

/// The pool of the Gateway's class: Gateway `namespace/name` → its `gatewayClassName` →
/// GatewayClass `parametersRef` → ConfigMap `data.proxy-config`. `None` when any link is missing.
pub fn for_gateway(manifests: &Manifests, gateway: &Json) -> Option<ConnectionPool> {
    let class_name = gateway.pointer("/spec/gatewayClassName")?.as_str()?;
    let class = manifests.others.iter().find(|o| {
        o.get("kind").and_then(Json::as_str) == Some("GatewayClass")
            && o.pointer("/metadata/name").and_then(Json::as_str) == Some(class_name)
    })?;
    let params = class.pointer("/spec/parametersRef")?;
    if params.get("kind").and_then(Json::as_str) != Some("ConfigMap") {
        return None;
    }
    let name = params.get("name").and_then(Json::as_str)?;
    let namespace = params
        .get("namespace")
        .and_then(Json::as_str)
        .unwrap_or("default");
    let map = manifests.others.iter().find(|o| {
        o.get("kind").and_then(Json::as_str) == Some("ConfigMap")
            && o.pointer("/metadata/name").and_then(Json::as_str) == Some(name)
            && o.pointer("/metadata/namespace")
                .and_then(Json::as_str)
                .unwrap_or("default")
                == namespace
    })?;
    let text = map.pointer("/data/proxy-config")?.as_str()?;
    let config: Json = serde_norway::from_str(text).ok()?;
    Some(read(&config))
}

fn read(config: &Json) -> ConnectionPool {
    let number = |pointer: &str| config.pointer(pointer).and_then(Json::as_u64);
    let mut pool = ConnectionPool::default();
    for (pointer, field) in [
        ("/connectionPool/tcp/maxConnections", "max_connections"),
        (
            "/connectionPool/http/http1MaxPendingRequests",
            "max_pending_requests",
        ),
        ("/connectionPool/http/http2MaxRequests", "max_requests"),
        ("/connectionPool/http/maxRetries", "max_retries"),
    ] {
        if let Some(value) = number(pointer) {
            pool.thresholds.push((field, value));
        }
    }
    pool.connect_timeout = config
        .pointer("/connectionPool/tcp/connectTimeout")
        .and_then(Json::as_str)
        .map(str::to_owned);
    pool.max_requests_per_connection = number("/connectionPool/http/maxRequestsPerConnection");
    for (pointer, field) in [
        ("/outlierDetection/consecutive5xxErrors", "consecutive_5xx"),
        (
            "/outlierDetection/maxEjectionPercent",
            "max_ejection_percent",
        ),
    ] {
        if let Some(value) = number(pointer) {
            pool.outlier.push((field, Yaml::from(value)));
        }
    }
    for (pointer, field) in [
        ("/outlierDetection/interval", "interval"),
        ("/outlierDetection/baseEjectionTime", "base_ejection_time"),
    ] {
        if let Some(value) = config.pointer(pointer).and_then(Json::as_str) {
            pool.outlier.push((field, Yaml::from(value)));
        }
    }
    pool
}

impl ConnectionPool {
    /// Adds the settings to one Envoy cluster (a mapping built by `envoy`).
    pub fn apply(&self, cluster: &mut serde_norway::Mapping) {
        if !self.thresholds.is_empty() {
            let thresholds: serde_norway::Mapping = self
                .thresholds
                .iter()
                .map(|(field, value)| (Yaml::from(*field), Yaml::from(*value)))
                .collect();
            cluster.insert(
                "circuit_breakers".into(),
                map! { "thresholds" => vec![Yaml::Mapping(thresholds)] },
            );
        }
        if let Some(timeout) = &self.connect_timeout {
            cluster.insert("connect_timeout".into(), timeout.as_str().into());
        }
        if !self.outlier.is_empty() {
            let outlier: serde_norway::Mapping = self
                .outlier
                .iter()
                .map(|(field, value)| (Yaml::from(*field), value.clone()))
                .collect();
            cluster.insert("outlier_detection".into(), Yaml::Mapping(outlier));
        }
    }
}
