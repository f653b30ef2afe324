//! `expect:` in a case: what must be observed, and the comparison that lists every difference.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{scalar, SPLIT_REQUESTS, SPLIT_TOLERANCE};
use crate::observe::Observed;

/// `expect:` in a case. Absent keys are not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// 200 when forwarded, else the local reply status.
    #[serde(default)]
    pub status: Option<u32>,
    /// `namespace/name` of the winning route.
    #[serde(default)]
    pub route: Option<String>,
    /// Index of the winning rule.
    #[serde(default)]
    pub rule: Option<u32>,
    /// `namespace/name:port` of the backend.
    #[serde(default)]
    pub backend: Option<String>,
    /// Decision header value.
    #[serde(default)]
    pub cluster: Option<String>,
    /// What Envoy speaks to the chosen backend: `http/1.1`, `h2c`, `websocket`, `https`, `wss`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Mesh mode: the cluster the sidecar's router then picks (`PassthroughCluster`, or
    /// `block_all (502)` for its catch-all).
    #[serde(default)]
    pub routed_cluster: Option<String>,
    /// Upstream headers that must be present with these values.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// Upstream headers that must be absent.
    #[serde(default)]
    pub absent_headers: Vec<String>,
    /// Upstream `:path`.
    #[serde(default)]
    pub path: Option<String>,
    /// Upstream `:authority`.
    #[serde(default)]
    pub authority: Option<String>,
    /// `grpc-status` of a local gRPC reply.
    #[serde(default)]
    pub grpc_status: Option<i32>,
    /// `Location` of a redirect.
    #[serde(default)]
    pub location: Option<String>,
    /// Headers the client must receive with these values.
    #[serde(default)]
    pub response_headers: BTreeMap<String, Value>,
    /// Headers the client must not receive.
    #[serde(default)]
    pub absent_response_headers: Vec<String>,
    /// Mirror copies, in order; `[]` means none.
    #[serde(default)]
    pub mirrors: Option<Vec<ExpectMirror>>,
    /// Share of requests that send a mirror copy to each cluster, over many requests.
    #[serde(default)]
    pub mirror_split: Option<BTreeMap<String, f64>>,
    /// Shares per backend (or status code) over many requests.
    #[serde(default)]
    pub split: Option<BTreeMap<String, f64>>,
    /// Shares per Envoy cluster (or status code) over many requests: a backend split across
    /// mesh clusters goes to several clusters.
    #[serde(default)]
    pub cluster_split: Option<BTreeMap<String, f64>>,
    /// The authorization check the request waited on.
    #[serde(default)]
    pub auth_check: Option<ExpectCheck>,
    /// Text that lines the filter logged (configuration problems included) must contain.
    #[serde(default)]
    pub log: Vec<String>,
    /// How much the request moved each listed metric, by Prometheus series
    /// (`gatewasm_requests_total{route="app/api",...}`; the quotes may be left out). Series not
    /// listed are not checked; `0` pins one as unchanged.
    #[serde(default)]
    pub metrics: BTreeMap<String, i64>,
}

/// The expected authorization check; absent keys are not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCheck {
    /// `HTTP` or `GRPC`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Cluster of the authorization server.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Method sent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path sent.
    #[serde(default)]
    pub path: Option<String>,
    /// Authority (gRPC: host) sent.
    #[serde(default)]
    pub authority: Option<String>,
    /// Headers that must be sent with these values.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// Headers that must not be sent.
    #[serde(default)]
    pub absent_headers: Vec<String>,
    /// Body sent (gRPC: `attributes.request.http.body`).
    #[serde(default)]
    pub body: Option<String>,
}

/// One expected mirror copy; absent keys are not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectMirror {
    /// Cluster the copy goes to.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Its `:path`.
    #[serde(default)]
    pub path: Option<String>,
    /// Its `:authority`.
    #[serde(default)]
    pub authority: Option<String>,
}

/// The listed metric deltas against the observed ones; series compare without quotes.
pub(super) fn compare_metrics(
    want: &BTreeMap<String, i64>,
    got: &BTreeMap<String, i64>,
) -> Vec<String> {
    let unquoted = |s: &str| s.replace('"', "");
    let got: BTreeMap<String, i64> = got.iter().map(|(s, d)| (unquoted(s), *d)).collect();
    let mut problems = Vec::new();
    for (series, delta) in want {
        let seen = got.get(&unquoted(series)).copied().unwrap_or(0);
        if seen != *delta {
            let moved: Vec<String> = got.iter().map(|(s, d)| format!("{s} {d:+}")).collect();
            problems.push(format!(
                "metrics: expected {series} {delta:+}, got {seen:+}; the request moved: {}",
                if moved.is_empty() {
                    "nothing".to_owned()
                } else {
                    moved.join(", ")
                }
            ));
        }
    }
    problems
}

impl Expect {
    pub(super) fn compare(&self, o: &Observed) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |what: &str, want: Option<String>, got: Option<String>| {
            if let Some(want) = want {
                if Some(&want) != got.as_ref() {
                    problems.push(format!(
                        "{what}: expected {want}, got {}",
                        got.as_deref().unwrap_or("(none)")
                    ));
                }
            }
        };
        check(
            "status",
            self.status.map(|s| s.to_string()),
            Some(o.status.to_string()),
        );
        check(
            "grpc_status",
            self.grpc_status.map(|s| s.to_string()),
            o.grpc_status.map(|s| s.to_string()),
        );
        check("route", self.route.clone(), o.route.clone());
        check(
            "rule",
            self.rule.map(|r| r.to_string()),
            o.rule.map(|r| r.to_string()),
        );
        check("backend", self.backend.clone(), o.backend.clone());
        check("cluster", self.cluster.clone(), o.cluster.clone());
        check(
            "protocol",
            self.protocol.clone(),
            o.protocol.map(str::to_owned),
        );
        check(
            "routed_cluster",
            self.routed_cluster.clone(),
            o.routed.clone(),
        );
        check(
            "path",
            self.path.clone(),
            o.upstream_header(":path").map(str::to_owned),
        );
        check(
            "authority",
            self.authority.clone(),
            o.upstream_header(":authority").map(str::to_owned),
        );
        check(
            "location",
            self.location.clone(),
            o.response_headers.get("location").cloned(),
        );
        for (name, value) in &self.headers {
            let name = name.to_ascii_lowercase();
            check(
                &format!("header {name}"),
                Some(scalar(value)),
                o.upstream_header(&name).map(str::to_owned),
            );
        }
        for (name, value) in &self.response_headers {
            let name = name.to_ascii_lowercase();
            check(
                &format!("response header {name}"),
                Some(scalar(value)),
                o.response_headers.get(&name).cloned(),
            );
        }
        if let Some(mirrors) = &self.mirrors {
            if mirrors.len() == o.mirrors.len() {
                for (i, (want, got)) in mirrors.iter().zip(&o.mirrors).enumerate() {
                    check(
                        &format!("mirrors[{i}].cluster"),
                        want.cluster.clone(),
                        Some(got.cluster.clone()),
                    );
                    check(
                        &format!("mirrors[{i}].path"),
                        want.path.clone(),
                        Some(got.path.clone()),
                    );
                    check(
                        &format!("mirrors[{i}].authority"),
                        want.authority.clone(),
                        Some(got.authority.clone()),
                    );
                }
            } else {
                let got: Vec<&str> = o.mirrors.iter().map(|m| m.cluster.as_str()).collect();
                check(
                    "mirrors",
                    Some(format!("{} copies", mirrors.len())),
                    Some(format!("{} copies {got:?}", o.mirrors.len())),
                );
            }
        }
        if let Some(want) = &self.auth_check {
            match &o.check {
                None => check("auth_check", Some(String::from("a check")), None),
                Some(got) => {
                    let fields = [
                        ("protocol", &want.protocol, got.protocol.to_owned()),
                        ("cluster", &want.cluster, got.cluster.clone()),
                        ("method", &want.method, got.method.clone()),
                        ("path", &want.path, got.path.clone()),
                        ("authority", &want.authority, got.authority.clone()),
                        ("body", &want.body, got.body.clone()),
                    ];
                    for (what, want, got) in fields {
                        check(&format!("auth_check.{what}"), want.clone(), Some(got));
                    }
                    for (name, value) in &want.headers {
                        let name = name.to_ascii_lowercase();
                        check(
                            &format!("auth_check header {name}"),
                            Some(scalar(value)),
                            got.headers.get(&name).cloned(),
                        );
                    }
                    for name in &want.absent_headers {
                        if let Some(value) = got.headers.get(&name.to_ascii_lowercase()) {
                            problems.push(format!(
                                "auth_check header {name}: expected absent, got {value}"
                            ));
                        }
                    }
                }
            }
        }
        for name in &self.absent_headers {
            if let Some(value) = o.upstream_header(&name.to_ascii_lowercase()) {
                problems.push(format!("header {name}: expected absent, got {value}"));
            }
        }
        for name in &self.absent_response_headers {
            if let Some(value) = o.response_headers.get(&name.to_ascii_lowercase()) {
                problems.push(format!(
                    "response header {name}: expected absent, got {value}"
                ));
            }
        }
        if let Some(trap) = &o.trap {
            problems.push(format!("the filter trapped: {trap}"));
        }
        problems
    }
}

/// Shares within tolerance; with `exhaustive`, every observed key must be expected too.
pub(super) fn compare_split(
    what: &str,
    want: &BTreeMap<String, f64>,
    counts: &BTreeMap<String, u32>,
    exhaustive: bool,
) -> Vec<String> {
    let share =
        |key: &str| f64::from(counts.get(key).copied().unwrap_or(0)) / f64::from(SPLIT_REQUESTS);
    let mut problems: Vec<String> = want
        .iter()
        .filter(|(key, expected)| (share(key) - **expected).abs() > SPLIT_TOLERANCE)
        .map(|(key, expected)| {
            format!(
                "{what} {key}: expected {expected:.2}, got {:.3}",
                share(key)
            )
        })
        .collect();
    for (key, count) in counts
        .iter()
        .filter(|(key, _)| exhaustive && !want.contains_key(*key))
    {
        problems.push(format!("{what}: {count} of {SPLIT_REQUESTS} requests went to {key}, which the case does not expect"));
    }
    problems
}
