//! Reading what `serve` runs under, now and on every change: the plugin configuration (from
//! manifests or given as is), the problems the filter will report for it, and the upstream
//! address of every Envoy cluster it can name. One [`Generation`] is one such reading; a
//! request keeps the generation it started under until it ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};

use crate::cli::{Source, UpstreamSpec};
use crate::deploy::envoy::Address;
use crate::deploy::Plan;
use crate::manifests::Manifests;

/// Where a cluster's requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Upstream {
    /// The Envoy cluster name.
    pub(super) cluster: String,
    /// Host and port.
    pub(super) address: Address,
    /// Requests go upstream over HTTP/2 (h2c): the backend serves a GRPCRoute.
    pub http2: bool,
}

/// One reading of the configuration.
#[derive(Debug)]
pub(super) struct Generation {
    /// Counts readings from 1, as `serve` prints them.
    pub(super) number: u64,
    /// What `on_configure` receives.
    pub(super) configuration: Vec<u8>,
    /// What the filter will say about it, one line each.
    pub(super) problems: Vec<String>,
    /// Upstreams by Envoy cluster name.
    clusters: BTreeMap<String, Upstream>,
    /// The upstream for clusters no mapping names (`--upstream '*'=HOST:PORT`).
    fallback: Option<Upstream>,
}

impl Generation {
    /// Reads `source` and maps the `upstreams` onto the clusters it names.
    ///
    /// # Errors
    ///
    /// When the manifests or the file cannot be read, or the configuration cannot be compiled.
    pub(super) fn load(number: u64, source: &Source, upstreams: &[UpstreamSpec]) -> Result<Self> {
        let (configuration, problems, backends, grpc) = match source {
            Source::Manifests { path, gateway } => {
                let manifests = Manifests::load(path)?;
                let plan = Plan::new(&manifests, gateway.as_deref())?;
                let backends: BTreeMap<String, String> = plan
                    .backends
                    .iter()
                    .map(|b| (b.key.clone(), b.cluster.clone()))
                    .collect();
                (
                    plan.plugin_config_json()?.into_bytes(),
                    plan.problems.iter().map(ToString::to_string).collect(),
                    backends,
                    plan.grpc_backends,
                )
            }
            Source::Inline(bytes) => (
                bytes.clone(),
                Vec::new(),
                BTreeMap::new(),
                Default::default(),
            ),
            Source::File(path) => (
                std::fs::read(path)
                    .with_context(|| format!("failed to read {}", path.display()))?,
                Vec::new(),
                BTreeMap::new(),
                Default::default(),
            ),
        };
        let mut clusters = BTreeMap::new();
        let mut fallback = None;
        for spec in upstreams {
            let upstream = |cluster: &str, http2: bool| Upstream {
                cluster: cluster.to_owned(),
                address: spec.address.clone(),
                http2,
            };
            if spec.key == "*" {
                fallback = Some(upstream("*", false));
            } else if let Some(cluster) = backends.get(&spec.key) {
                clusters.insert(cluster.clone(), upstream(cluster, grpc.contains(&spec.key)));
            } else {
                clusters.insert(spec.key.clone(), upstream(&spec.key, false));
            }
        }
        let mut problems: Vec<String> = problems;
        for (key, cluster) in &backends {
            if !clusters.contains_key(cluster) && fallback.is_none() {
                problems.push(format!(
                    "backend {key} has no --upstream {key}=HOST:PORT: requests routed to it get 503"
                ));
            }
        }
        Ok(Self {
            number,
            configuration,
            problems,
            clusters,
            fallback,
        })
    }

    /// The upstream of the cluster the filter named (`None`: the request named none).
    pub(super) fn upstream(&self, cluster: Option<&str>) -> Option<&Upstream> {
        cluster
            .and_then(|c| self.clusters.get(c))
            .or(self.fallback.as_ref())
    }
}

/// What a change to the configuration looks like from outside: each file's path, size and
/// modification time.
pub(super) type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// The stamp of the files `source` reads (a folder's YAML files for manifests in a folder).
pub(super) fn stamp(source: &Source) -> Stamp {
    let path = match source {
        Source::Manifests { path, .. } | Source::File(path) => path,
        Source::Inline(_) => return Vec::new(),
    };
    let mut files = vec![path.clone()];
    if let Ok(entries) = std::fs::read_dir(path) {
        files = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_manifest(p))
            .collect();
        files.sort();
    }
    files
        .into_iter()
        .map(|file| {
            let meta = std::fs::metadata(&file).ok();
            let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.and_then(|m| m.modified().ok());
            (file, len, modified)
        })
        .collect()
}

fn is_manifest(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}
