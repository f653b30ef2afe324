//! Declarative case files: a configuration plus requests and what must happen to them.
//!
//! The format is DESIGN.md's "Case files". Every key is known or the file is refused, so a typo
//! never turns into a check that silently passes. The same runner serves `host-sim test` and
//! the workspace's `cargo test` trials.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

use gatewasm_core::proto::{put_bytes, put_varint};

use crate::envoy::connection_manager::ConnectionManager;
use crate::envoy::{CalloutAnswer, HttpCallResponse, PluginOptions, Proxy, WasmModule};
use crate::manifests::Manifests;
use crate::observe::Observed;
use crate::protocol::Protocols;
use crate::request::RequestSpec;
use crate::sidecar::{OutboundPolicy, SidecarRoutes};

/// Requests sent for a `split` expectation.
pub const SPLIT_REQUESTS: u32 = 1000;
/// Allowed absolute difference between an expected and an observed share.
pub const SPLIT_TOLERANCE: f64 = 0.05;
/// The random seed the simulated host uses, so runs repeat exactly.
pub const RANDOM_SEED: u64 = 0x6761_7465_7761_736d;

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// Manifests, relative to the case file.
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// Inline manifests.
    #[serde(default)]
    pub resources: Option<Vec<Value>>,
    /// `namespace/name` of the Gateway; the only one in the manifests when absent.
    #[serde(default)]
    pub gateway: Option<String>,
    /// Plugin `target` settings.
    #[serde(default)]
    pub target: Option<Value>,
    /// Plugin `metrics` settings (`{rules: true}`: a `rule` label on the request counter).
    #[serde(default)]
    pub metrics: Option<Value>,
    /// Mesh mode: the namespace of the workload whose sidecar runs the filter. The manifests'
    /// Gateways are then ignored, as a sidecar does.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Mesh mode: Istio's `outboundTrafficPolicy.mode`, `ALLOW_ANY` (default) or `REGISTRY_ONLY`.
    #[serde(default)]
    pub outbound_traffic_policy: Option<String>,
    /// What the connection manager does to paths before the filter: a preset of
    /// [`crate::envoy::connection_manager::PRESETS`]; `edge` when absent.
    #[serde(default)]
    pub path_normalization: Option<String>,
    /// The IngressClass the filter serves (the plugin configuration's `ingress.class`).
    #[serde(default)]
    pub ingress_class: Option<String>,
    /// The requests.
    pub cases: Vec<Case>,
}

/// One request and its expectations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique within the file.
    pub name: String,
    /// The request.
    pub request: CaseRequest,
    /// What the authorization server answers, when the request waits for a check.
    #[serde(default)]
    pub auth: Option<CaseAuth>,
    /// What must happen.
    pub expect: Expect,
}

/// `auth:` in a case: the answer to the callout the request pauses for. One of `status` (an
/// HTTP server), `grpc` (an ext_authz gRPC server) or `fail`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAuth {
    /// HTTP: the answer's status (200 allows).
    #[serde(default)]
    pub status: Option<u16>,
    /// HTTP: the answer's headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// HTTP: the answer's body.
    #[serde(default)]
    pub body: Option<String>,
    /// gRPC: the `CheckResponse`.
    #[serde(default)]
    pub grpc: Option<CaseGrpcAuth>,
    /// The call fails without an answer (reset; UNAVAILABLE for a gRPC call).
    #[serde(default)]
    pub fail: bool,
}

/// `auth.grpc:` a `CheckResponse`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseGrpcAuth {
    /// `status.code`: 0 (the default) allows.
    #[serde(default)]
    pub code: i32,
    /// `ok_response.headers` when allowed, `denied_response.headers` when denied.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// `ok_response.headers_to_remove`.
    #[serde(default)]
    pub remove: Vec<String>,
    /// `denied_response.status`.
    #[serde(default)]
    pub status: Option<u16>,
    /// `denied_response.body`.
    #[serde(default)]
    pub body: Option<String>,
}

impl CaseAuth {
    /// The answer the simulated Envoy delivers.
    ///
    /// # Errors
    ///
    /// When not exactly one of `status`, `grpc` and `fail` is given.
    pub fn answer(&self) -> Result<CalloutAnswer> {
        let header_pairs = |headers: &BTreeMap<String, Value>| -> Vec<(String, Vec<u8>)> {
            headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), scalar(v).into_bytes()))
                .collect()
        };
        if self.status.is_none() && (!self.headers.is_empty() || self.body.is_some()) {
            bail!("auth: `headers` and `body` belong to an HTTP answer, which needs `status`");
        }
        if let Some(grpc) = self.grpc.as_ref().filter(|g| g.code == 0) {
            if grpc.status.is_some() || grpc.body.is_some() {
                bail!("auth.grpc: `status` and `body` belong to a denial, which needs a `code` other than 0");
            }
        }
        match (self.status, &self.grpc, self.fail) {
            (Some(status), None, false) => Ok(CalloutAnswer::Http(HttpCallResponse {
                headers: std::iter::once((":status".to_owned(), status.to_string().into_bytes()))
                    .chain(header_pairs(&self.headers))
                    .collect(),
                body: self.body.clone().unwrap_or_default().into_bytes(),
                trailers: Vec::new(),
            })),
            (None, Some(grpc), false) => Ok(CalloutAnswer::Grpc(check_response(
                grpc,
                &header_pairs(&grpc.headers),
            ))),
            (None, None, true) => Ok(CalloutAnswer::Fail),
            _ => bail!("auth: give exactly one of `status` (HTTP), `grpc` and `fail: true`"),
        }
    }
}

/// An encoded `CheckResponse`: `status {code}`, then `ok_response {headers, headers_to_remove}`
/// for code 0, else `denied_response {status {code}, headers, body}`.
fn check_response(g: &CaseGrpcAuth, headers: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut status = Vec::new();
    put_varint(&mut status, 1, i64::from(g.code) as u64);
    let mut out = Vec::new();
    put_bytes(&mut out, 1, &status);
    let mut http = Vec::new();
    if let (Some(code), true) = (g.status, g.code != 0) {
        let mut status = Vec::new();
        put_varint(&mut status, 1, u64::from(code));
        put_bytes(&mut http, 1, &status);
    }
    for (name, value) in headers {
        let mut header = Vec::new();
        put_bytes(&mut header, 1, name.as_bytes());
        put_bytes(&mut header, 2, value);
        let mut option = Vec::new();
        put_bytes(&mut option, 1, &header);
        put_bytes(&mut http, 2, &option);
    }
    if g.code == 0 {
        for name in &g.remove {
            put_bytes(&mut http, 5, name.as_bytes());
        }
        put_bytes(&mut out, 3, &http);
    } else {
        if let Some(body) = &g.body {
            put_bytes(&mut http, 3, body.as_bytes());
        }
        put_bytes(&mut out, 2, &http);
    }
    out
}

/// `request:` in a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRequest {
    /// Default `GET`.
    #[serde(default)]
    pub method: Option<String>,
    /// `scheme://host[:port]/path?query`; with `grpc`, just `scheme://host[:port]`.
    pub url: String,
    /// Listener port.
    #[serde(default)]
    pub port: Option<u16>,
    /// Headers; a list value sends the header once per element.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// A gRPC call: POST to `/<service>/<method>` with `content-type: application/grpc`.
    #[serde(default)]
    pub grpc: Option<GrpcCall>,
    /// Headers the backend answers with (`:status: 200` is added).
    #[serde(default)]
    pub response_headers: BTreeMap<String, Value>,
    /// TLS SNI the client sent.
    #[serde(default)]
    pub sni: Option<String>,
    /// Request body.
    #[serde(default)]
    pub body: Option<String>,
    /// The client's IP address (Envoy's `source.address`); default `10.0.0.10`.
    #[serde(default)]
    pub client: Option<String>,
}

/// `request.grpc:` in a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcCall {
    /// Fully qualified service, e.g. `com.example.api.UserService`.
    pub service: String,
    /// Method, e.g. `GetUser`.
    pub method: String,
}

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

/// A case file with its configuration resolved.
#[derive(Debug)]
pub struct LoadedFile {
    /// Where it came from.
    pub path: PathBuf,
    /// The plugin configuration bytes.
    pub configuration: Vec<u8>,
    /// The header that carries the cluster decision.
    pub cluster_header: String,
    /// Mesh mode: the namespace the simulated sidecar runs in.
    pub namespace: Option<String>,
    /// What Envoy speaks to each backend, from the manifests.
    pub protocols: Protocols,
    /// Mesh mode: the sidecar's outbound routes, to show where a decision lands.
    pub sidecar: Option<SidecarRoutes>,
    /// The connection manager's settings.
    pub connection_manager: ConnectionManager,
    /// The cases.
    pub cases: Vec<Case>,
}

impl LoadedFile {
    /// Reads a case file and its manifests.
    ///
    /// # Errors
    ///
    /// When the file or its manifests cannot be read, or it has unknown keys.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_serving(path, None)
    }

    /// [`LoadedFile::load`], serving `ingress_class` unless the file names its own.
    ///
    /// # Errors
    ///
    /// As [`LoadedFile::load`].
    pub fn load_serving(path: &Path, ingress_class: Option<&str>) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let file: CaseFile = serde_norway::from_str(&text)
            .with_context(|| format!("{}: not a valid case file", path.display()))?;
        let mut manifests = Manifests::default();
        match (&file.config, &file.resources) {
            (Some(config), None) => {
                let base = path.parent().unwrap_or(Path::new("."));
                manifests = Manifests::load(&base.join(config))?;
            }
            (None, Some(resources)) => resources
                .iter()
                .cloned()
                .for_each(|r| manifests.add_object(r)),
            _ => bail!(
                "{}: give exactly one of `config` and `resources`",
                path.display()
            ),
        }
        let mut names = std::collections::BTreeSet::new();
        if let Some(dup) = file.cases.iter().find(|c| !names.insert(c.name.as_str())) {
            bail!("{}: case name {:?} is used twice", path.display(), dup.name);
        }
        manifests.ingress_class = file
            .ingress_class
            .clone()
            .or_else(|| ingress_class.map(str::to_owned));
        // A workload namespace means the sidecar's view: Gateways in the manifests are not its.
        let gateway = match (&file.namespace, &file.gateway) {
            (Some(_), Some(_)) => bail!(
                "{}: give at most one of `gateway` (a Gateway's proxy) and `namespace` (a sidecar)",
                path.display()
            ),
            (Some(_), None) => None,
            (None, asked) => manifests.choose_gateway(asked.as_deref())?,
        };
        let policy = match file.outbound_traffic_policy.as_deref() {
            None | Some("ALLOW_ANY") => OutboundPolicy::AllowAny,
            Some("REGISTRY_ONLY") => OutboundPolicy::RegistryOnly,
            Some(other) => bail!(
                "{}: outbound_traffic_policy {other:?} is not ALLOW_ANY or REGISTRY_ONLY",
                path.display()
            ),
        };
        let protocols = Protocols::new(&manifests.resources);
        let sidecar = gateway.is_none().then(|| {
            SidecarRoutes::new(
                &manifests.resources,
                &protocols,
                file.namespace.as_deref(),
                policy,
            )
        });
        let mut config = manifests.plugin_config(gateway.as_deref(), file.target.as_ref());
        if let Some(metrics) = &file.metrics {
            config["metrics"] = metrics.clone();
        }
        let cluster_header = file
            .target
            .as_ref()
            .and_then(|t| t.get("header"))
            .and_then(Value::as_str)
            .unwrap_or(gatewasm_core::DEFAULT_CLUSTER_HEADER)
            .to_ascii_lowercase();
        let connection_manager = match &file.path_normalization {
            Some(name) => ConnectionManager::preset(name)
                .with_context(|| format!("{}: path_normalization", path.display()))?,
            None => ConnectionManager::default(),
        };
        Ok(Self {
            path: path.to_path_buf(),
            configuration: serde_json::to_vec(&config)?,
            cluster_header,
            namespace: file.namespace,
            sidecar,
            protocols,
            connection_manager,
            cases: file.cases,
        })
    }

    /// Starts a simulated proxy with this file's configuration.
    ///
    /// # Errors
    ///
    /// When the filter rejects the configuration.
    pub fn start(&self, module: &WasmModule) -> Result<Proxy> {
        let node_namespace = |ns: &String| {
            let path = ["node", "metadata", "NAMESPACE"].map(String::from).to_vec();
            (path, ns.as_bytes().to_vec())
        };
        let options = PluginOptions {
            configuration: self.configuration.clone(),
            random_seed: RANDOM_SEED,
            properties: self.namespace.iter().map(node_namespace).collect(),
            connection_manager: self.connection_manager,
            ..PluginOptions::default()
        };
        Proxy::start(module, options).map_err(|err| {
            anyhow::anyhow!(
                "{}: the filter refused the configuration: {err}",
                self.path.display()
            )
        })
    }
}

impl Case {
    /// The request this case sends.
    pub fn request_spec(&self) -> RequestSpec {
        let mut headers = Vec::new();
        for (name, value) in &self.request.headers {
            match value {
                Value::Array(values) => {
                    headers.extend(values.iter().map(|v| (name.clone(), scalar(v))))
                }
                other => headers.push((name.clone(), scalar(other))),
            }
        }
        let mut url = self.request.url.clone();
        let mut method = self
            .request
            .method
            .clone()
            .unwrap_or_else(|| "GET".to_owned());
        if let Some(grpc) = &self.request.grpc {
            url = format!(
                "{}/{}/{}",
                url.trim_end_matches('/'),
                grpc.service,
                grpc.method
            );
            method = String::from("POST");
            headers.push(("content-type".to_owned(), "application/grpc".to_owned()));
            headers.push(("te".to_owned(), "trailers".to_owned()));
        }
        let response_headers = self
            .request
            .response_headers
            .iter()
            .map(|(n, v)| (n.clone(), scalar(v)))
            .collect();
        RequestSpec {
            method,
            url,
            port: self.request.port,
            headers,
            response_headers,
            sni: self.request.sni.clone(),
            body: self.request.body.clone(),
            client: self.request.client.clone(),
        }
    }

    /// Runs the case on `file`'s proxy; `Ok` holds the observation of its first request, `Err`
    /// every mismatch.
    ///
    /// # Errors
    ///
    /// The list of differences between what was expected and what happened.
    pub fn run(&self, proxy: &mut Proxy, file: &LoadedFile) -> Result<Observed, Vec<String>> {
        let cluster_header = file.cluster_header.as_str();
        let mut request = self
            .request_spec()
            .build()
            .map_err(|e| vec![e.to_string()])?;
        request.callout_answer = self
            .auth
            .as_ref()
            .map(CaseAuth::answer)
            .transpose()
            .map_err(|e| vec![e.to_string()])?;
        let outcome = proxy.stream(&request);
        let mut observed =
            Observed::new(&request, &outcome, cluster_header).with_protocol(&file.protocols);
        if let Some(sidecar) = &file.sidecar {
            observed.routed = sidecar.route_observed(&request, &observed);
        }
        let mut problems = self.expect.compare(&observed);
        problems.extend(compare_metrics(&self.expect.metrics, &observed.metrics));
        let logged = proxy.logs().iter().chain(&outcome.logs);
        let logged: Vec<&str> = logged.map(|l| l.message.as_str()).collect();
        for text in &self.expect.log {
            if !logged.iter().any(|line| line.contains(text.as_str())) {
                problems.push(format!(
                    "log: expected a line containing {text:?}, got:\n    {}",
                    logged.join("\n    ")
                ));
            }
        }
        let e = &self.expect;
        if e.split.is_some() || e.mirror_split.is_some() || e.cluster_split.is_some() {
            let mut backends: BTreeMap<String, u32> = BTreeMap::new();
            let mut clusters: BTreeMap<String, u32> = BTreeMap::new();
            let mut mirrors: BTreeMap<String, u32> = BTreeMap::new();
            for _ in 0..SPLIT_REQUESTS {
                let o = Observed::new(&request, &proxy.stream(&request), cluster_header);
                let (backend, cluster) = if o.status == 200 {
                    (o.backend.unwrap_or_default(), o.cluster.unwrap_or_default())
                } else {
                    (o.status.to_string(), o.status.to_string())
                };
                *backends.entry(backend).or_default() += 1;
                *clusters.entry(cluster).or_default() += 1;
                let clusters: BTreeSet<String> = o.mirrors.into_iter().map(|m| m.cluster).collect();
                for cluster in clusters {
                    *mirrors.entry(cluster).or_default() += 1;
                }
            }
            if let Some(split) = &self.expect.split {
                problems.extend(compare_split("split", split, &backends, true));
            }
            if let Some(split) = &self.expect.mirror_split {
                problems.extend(compare_split("mirror_split", split, &mirrors, false));
            }
            if let Some(split) = &self.expect.cluster_split {
                problems.extend(compare_split("cluster_split", split, &clusters, true));
            }
        }
        if problems.is_empty() {
            Ok(observed)
        } else {
            Err(problems)
        }
    }
}

/// The listed metric deltas against the observed ones; series compare without quotes.
fn compare_metrics(want: &BTreeMap<String, i64>, got: &BTreeMap<String, i64>) -> Vec<String> {
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
    fn compare(&self, o: &Observed) -> Vec<String> {
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
fn compare_split(
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

/// A YAML scalar as the string a header would carry (`true` → `"true"`).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
