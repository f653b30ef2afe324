//! Declarative case files: a configuration plus requests and what must happen to them.
//!
//! The format is DESIGN.md's "Case files". Every key is known or the file is refused, so a typo
//! never turns into a check that silently passes. The same runner serves `host-sim test` and
//! the workspace's `cargo test` trials.

mod check_response;
mod expect;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::envoy::connection_manager::ConnectionManager;
use crate::envoy::{CalloutAnswer, HttpCallResponse, PluginOptions, Proxy, WasmModule};
use crate::manifests::Manifests;
use crate::observe::Observed;
use crate::protocol::Protocols;
use crate::request::RequestSpec;
use crate::sidecar::{OutboundPolicy, SidecarRoutes};
use expect::{compare_metrics, compare_split};
pub use expect::{Expect, ExpectCheck, ExpectMirror};

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
    /// Inline manifests, after those of `config` when both are given.
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
            (None, Some(grpc), false) => {
                let headers = grpc
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), scalar(v)))
                    .collect();
                Ok(CalloutAnswer::Grpc(check_response::encode(grpc, headers)))
            }
            (None, None, true) => Ok(CalloutAnswer::Fail),
            _ => bail!("auth: give exactly one of `status` (HTTP), `grpc` and `fail: true`"),
        }
    }
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
        if let Some(config) = &file.config {
            let base = path.parent().unwrap_or(Path::new("."));
            manifests = Manifests::load(&base.join(config))?;
        }
        match &file.resources {
            Some(resources) => resources
                .iter()
                .cloned()
                .for_each(|r| manifests.add_object(r)),
            None if file.config.is_none() => bail!(
                "{}: give `config` (a manifest file or folder), `resources` (inline manifests), or both",
                path.display()
            ),
            None => {}
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
                (&manifests.resources, &manifests.others),
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
        let options = PluginOptions {
            configuration: self.configuration.clone(),
            random_seed: RANDOM_SEED,
            connection_manager: self.connection_manager,
            ..PluginOptions::default()
        }
        .in_namespace(self.namespace.as_deref());
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

/// A YAML scalar as the string a header would carry (`true` → `"true"`).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
