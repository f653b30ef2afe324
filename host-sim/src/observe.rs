//! What happened to one request, read off the simulated Envoy: forwarded or answered, which
//! route, rule and backend (from the filter state the filter records), the cluster and the
//! upstream request, how the headers changed on the way, the mirror copies, and the
//! authorization check the request waited on (a gRPC check's `CheckRequest` decoded).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use gatewasm_core::proto::{fields, Field};

use crate::envoy::{Callout, GrpcCall, HttpCall, HttpRequest, StreamOutcome};
use crate::protocol::Protocols;

/// The observable result of one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// 200 when forwarded upstream, else the local reply's status (0 when the stream stalled).
    pub status: u32,
    /// `namespace/name` of the route that matched.
    pub route: Option<String>,
    /// Index of the rule in the route.
    pub rule: Option<u32>,
    /// `namespace/name:port` of the chosen backend.
    pub backend: Option<String>,
    /// The decision header's value.
    pub cluster: Option<String>,
    /// What Envoy speaks to the backend (`http/1.1`, `h2c`, `websocket`, `https`, `wss`), from
    /// the manifests' Service ports; see [`Observed::with_protocol`].
    pub protocol: Option<&'static str>,
    /// Mesh mode: where the sidecar's router then sends the request (`sidecar`).
    pub routed: Option<String>,
    /// Upstream request headers, repeats joined with `,`; `None` when not forwarded.
    pub upstream: Option<BTreeMap<String, String>>,
    /// Headers the filter added or changed.
    pub changed: Vec<(String, String)>,
    /// Headers the filter removed.
    pub removed: Vec<String>,
    /// Local reply details.
    pub details: Option<String>,
    /// `grpc-status` of a local gRPC reply.
    pub grpc_status: Option<i32>,
    /// Headers the client receives, repeats joined with `,`.
    pub response_headers: BTreeMap<String, String>,
    /// Mirror copies the filter dispatched, in order.
    pub mirrors: Vec<MirrorCopy>,
    /// The authorization check the request waited on.
    pub check: Option<CheckCall>,
    /// A trap, if the filter trapped.
    pub trap: Option<String>,
    /// How the filter's metrics changed, by Prometheus series.
    pub metrics: BTreeMap<String, i64>,
}

/// One request copy sent with `proxy_http_call`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorCopy {
    /// Envoy cluster the copy went to.
    pub cluster: String,
    /// Its `:path`.
    pub path: String,
    /// Its `:authority`.
    pub authority: String,
}

/// The call a request paused for: an HTTP call, or a gRPC `Authorization/Check`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckCall {
    /// `HTTP` or `GRPC`.
    pub protocol: &'static str,
    /// Envoy cluster of the authorization server.
    pub cluster: String,
    /// `:method` (gRPC: `attributes.request.http.method`).
    pub method: String,
    /// `:path` (gRPC: `attributes.request.http.path`).
    pub path: String,
    /// `:authority` (gRPC: `attributes.request.http.host`).
    pub authority: String,
    /// Headers, repeats joined with `,` (gRPC: `attributes.request.http.headers`).
    pub headers: BTreeMap<String, String>,
    /// Body (gRPC: `attributes.request.http.body`).
    pub body: String,
}

impl CheckCall {
    fn http(call: &HttpCall) -> Self {
        let mut headers = joined(&call.headers);
        let mut take = |name: &str| headers.remove(name).unwrap_or_default();
        Self {
            protocol: "HTTP",
            cluster: call.cluster.clone(),
            method: take(":method"),
            path: take(":path"),
            authority: take(":authority"),
            headers,
            body: String::from_utf8_lossy(&call.body).into_owned(),
        }
    }

    /// Decodes the service (an encoded `GrpcService` {envoy_grpc {cluster_name}}, or the cluster
    /// name itself, as Envoy reads it) and the `CheckRequest`'s `attributes.request.http`.
    fn grpc(call: &GrpcCall) -> Self {
        let service = field(&call.service, 1).and_then(|grpc| field(grpc, 1));
        let cluster = String::from_utf8_lossy(service.unwrap_or(&call.service)).into_owned();
        let message = call.messages.first().map_or(&[][..], Vec::as_slice);
        let http = field(message, 1)
            .and_then(|attributes| field(attributes, 4))
            .and_then(|request| field(request, 2))
            .unwrap_or_default();
        let mut check = Self {
            protocol: "GRPC",
            cluster,
            ..Self::default()
        };
        for (number, value) in fields(http).unwrap_or_default() {
            let Field::Bytes(value) = value else { continue };
            let text = || String::from_utf8_lossy(value).into_owned();
            match number {
                2 => check.method = text(),
                3 => {
                    let key = field(value, 1).unwrap_or_default();
                    let header = field(value, 2).unwrap_or_default();
                    check.headers.insert(
                        String::from_utf8_lossy(key).into_owned(),
                        String::from_utf8_lossy(header).into_owned(),
                    );
                }
                4 => check.path = text(),
                5 => check.authority = text(),
                11 => check.body = text(),
                _ => {}
            }
        }
        check
    }
}

/// The first length-delimited field `number` of a protobuf message.
fn field(message: &[u8], number: u32) -> Option<&[u8]> {
    fields(message)?.into_iter().find_map(|(n, f)| match f {
        Field::Bytes(bytes) if n == number => Some(bytes),
        _ => None,
    })
}

impl Observed {
    /// Reads the outcome of `request`; `cluster_header` is the decision header to report.
    pub fn new(request: &HttpRequest, outcome: &StreamOutcome, cluster_header: &str) -> Self {
        let state = |key: &str| {
            outcome
                .filter_state
                .get(key)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        // The filter records `<namespace>/<route> <rule> <backend or ->` as filter state.
        let decision = state("gatewasm").unwrap_or_default();
        let mut decision = decision.split(' ');
        let mut observed = Self {
            status: 0,
            route: decision.next().map(str::to_owned),
            rule: decision.next().and_then(|r| r.parse().ok()),
            backend: decision.next().filter(|b| *b != "-").map(str::to_owned),
            trap: outcome.trap.clone(),
            metrics: outcome
                .metrics
                .iter()
                .map(|(name, delta)| (crate::abi::metrics::series(name), *delta))
                .collect(),
            response_headers: joined(&outcome.response_headers),
            check: match outcome.awaited {
                Some(Callout::Http(token)) => outcome
                    .http_calls
                    .iter()
                    .find(|c| c.token == token)
                    .map(CheckCall::http),
                Some(Callout::Grpc(token)) => outcome
                    .grpc_calls
                    .iter()
                    .find(|c| c.token == token)
                    .map(CheckCall::grpc),
                None => None,
            },
            mirrors: outcome
                .http_calls
                .iter()
                .filter(|call| outcome.awaited != Some(Callout::Http(call.token)))
                .map(|call| {
                    let header =
                        |name: &str| joined(&call.headers).remove(name).unwrap_or_default();
                    MirrorCopy {
                        cluster: call.cluster.clone(),
                        path: header(":path"),
                        authority: header(":authority"),
                    }
                })
                .collect(),
            ..Self::default()
        };
        if let Some(reply) = &outcome.local_reply {
            for (name, value) in joined(&reply.headers) {
                observed.response_headers.entry(name).or_insert(value);
            }
        }
        if let Some(reply) = &outcome.local_reply {
            observed.status = reply.status;
            observed.details = Some(reply.details.clone());
            observed.grpc_status = reply.grpc_status;
        } else if let Some(upstream) = &outcome.upstream {
            observed.status = 200;
            let before = joined(&request.headers);
            let after = joined(&upstream.headers);
            observed.changed = after
                .iter()
                .filter(|(n, v)| before.get(*n) != Some(v))
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect();
            observed.removed = before
                .keys()
                .filter(|n| !after.contains_key(*n))
                .cloned()
                .collect();
            observed.cluster = after.get(cluster_header).cloned();
            observed.upstream = Some(after);
        }
        observed
    }

    /// Adds the upstream protocol of the chosen backend.
    #[must_use]
    pub fn with_protocol(mut self, protocols: &Protocols) -> Self {
        if self.upstream.is_some() {
            self.protocol = self.backend.as_deref().map(|b| protocols.of(b).name());
        }
        self
    }

    /// The upstream value of a header (lowercase name).
    pub fn upstream_header(&self, name: &str) -> Option<&str> {
        self.upstream.as_ref()?.get(name).map(String::as_str)
    }

    /// One JSON object with everything observed.
    pub fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "route": self.route,
            "rule": self.rule,
            "backend": self.backend,
            "cluster": self.cluster,
            "protocol": self.protocol,
            "routed_cluster": self.routed,
            "path": self.upstream_header(":path"),
            "authority": self.upstream_header(":authority"),
            "changed_headers": self.changed.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "removed_headers": self.removed,
            "upstream_headers": self.upstream,
            "details": self.details,
            "grpc_status": self.grpc_status,
            "response_headers": self.response_headers,
            "mirrors": self.mirrors.iter().map(|m| json!({"cluster": m.cluster, "path": m.path, "authority": m.authority})).collect::<Vec<_>>(),
            "auth_check": self.check.as_ref().map(|c| json!({"protocol": c.protocol, "cluster": c.cluster, "method": c.method, "path": c.path, "authority": c.authority, "headers": c.headers, "body": c.body})),
            "trap": self.trap,
            "metrics": self.metrics,
        })
    }

    /// Human-readable lines, indented by `indent`.
    pub fn render(&self, indent: &str) -> String {
        let mut lines = Vec::new();
        if let (Some(route), Some(rule)) = (&self.route, self.rule) {
            lines.push(format!("rule      {route} rules[{rule}]"));
        } else {
            lines.push(String::from("rule      (none matched)"));
        }
        if let Some(check) = &self.check {
            lines.push(format!(
                "auth      {} {} {} {}",
                check.protocol, check.cluster, check.authority, check.path
            ));
        }
        if self.upstream.is_some() {
            lines.push(format!(
                "backend   {}",
                self.backend.as_deref().unwrap_or("?")
            ));
            if let Some(cluster) = &self.cluster {
                lines.push(format!("cluster   {cluster}"));
            }
            if let Some(protocol) = self.protocol {
                lines.push(format!("protocol  {protocol}"));
            }
            if let Some(routed) = &self.routed {
                lines.push(format!("routed    {routed} (the sidecar's router)"));
            }
            lines.push(format!(
                "upstream  {} {}",
                self.upstream_header(":authority").unwrap_or_default(),
                self.upstream_header(":path").unwrap_or_default()
            ));
            let decision_header = |name: &str| {
                self.cluster.is_some() && self.upstream_header(name) == self.cluster.as_deref()
            };
            for (name, value) in self
                .changed
                .iter()
                .filter(|(name, _)| !decision_header(name))
            {
                lines.push(format!("set       {name}: {value}"));
            }
            for name in &self.removed {
                lines.push(format!("removed   {name}"));
            }
            for mirror in &self.mirrors {
                lines.push(format!(
                    "mirror    {} {} {}",
                    mirror.cluster, mirror.authority, mirror.path
                ));
            }
        } else if self.status == 0 && self.check.is_some() {
            lines.push(String::from(
                "paused    waiting for the authorization server (case files answer with `auth:`)",
            ));
        } else {
            lines.push(format!(
                "reply     {} {}",
                self.status,
                self.details.as_deref().unwrap_or_default()
            ));
        }
        if let Some(trap) = &self.trap {
            lines.push(format!("trap      {trap}"));
        }
        for (series, delta) in &self.metrics {
            lines.push(format!("metric    {series} {delta:+}"));
        }
        lines.iter().map(|l| format!("{indent}{l}\n")).collect()
    }
}

/// Header pairs by name, repeated values joined with `,` (how the Gateway API harness reads them).
fn joined(headers: &[(String, Vec<u8>)]) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value);
        map.entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}
