//! What happened to one request, read off the simulated Envoy: forwarded or answered, which
//! route, rule and backend (from the filter state the filter records), the cluster and the
//! upstream request, and how the headers changed on the way.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::envoy::{HttpRequest, StreamOutcome};

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
    /// A trap, if the filter trapped.
    pub trap: Option<String>,
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
            response_headers: joined(&outcome.response_headers),
            mirrors: outcome
                .http_calls
                .iter()
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
            "path": self.upstream_header(":path"),
            "authority": self.upstream_header(":authority"),
            "changed_headers": self.changed.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "removed_headers": self.removed,
            "upstream_headers": self.upstream,
            "details": self.details,
            "grpc_status": self.grpc_status,
            "response_headers": self.response_headers,
            "mirrors": self.mirrors.iter().map(|m| json!({"cluster": m.cluster, "path": m.path, "authority": m.authority})).collect::<Vec<_>>(),
            "trap": self.trap,
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
        if self.upstream.is_some() {
            lines.push(format!(
                "backend   {}",
                self.backend.as_deref().unwrap_or("?")
            ));
            if let Some(cluster) = &self.cluster {
                lines.push(format!("cluster   {cluster}"));
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
