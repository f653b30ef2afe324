//! Names the decision hands to Envoy: the target mode, and the cluster and authority of each
//! backend (and of its mesh-cluster subsets) from the configured templates.
//!
//! Which backend a rule goes to is `backends`'; this file only spells its names.

use crate::config::{ConfigError, PluginConfig};
use crate::effect::{Target, DEFAULT_CLUSTER_HEADER};

/// The cluster name template for Istio's outbound clusters.
pub const DEFAULT_CLUSTER_TEMPLATE: &str = "outbound|{port}||{name}.{namespace}.svc.cluster.local";

/// The `:authority` template for `authority` mode.
pub const DEFAULT_AUTHORITY_TEMPLATE: &str = "{name}.{namespace}.svc.cluster.local:{port}";

/// The cluster name template for one mesh cluster's subset of a Service (Istio's).
pub const DEFAULT_SUBSET_CLUSTER_TEMPLATE: &str =
    "outbound|{port}|{subset}|{name}.{namespace}.svc.cluster.local";

/// The target mode: as configured, else `clusterHeader` for a Gateway and `authority` in the
/// mesh, where Istio's own virtual hosts route by `:authority`.
pub(super) fn target(config: &PluginConfig) -> Result<Target, ConfigError> {
    match config.target.mode.as_deref() {
        None if config.gateway.is_none() => Ok(Target::Authority),
        None | Some("clusterHeader") => {
            let header = config
                .target
                .header
                .as_deref()
                .unwrap_or(DEFAULT_CLUSTER_HEADER)
                .to_ascii_lowercase();
            if !crate::matcher::is_header_name(&header) {
                return Err(ConfigError::Target(format!(
                    "header {header:?} is not a valid header name"
                )));
            }
            Ok(Target::ClusterHeader(header))
        }
        Some("authority") => Ok(Target::Authority),
        Some(other) => Err(ConfigError::Target(format!(
            "mode {other:?} is not supported (supported: clusterHeader, authority)"
        ))),
    }
}

/// Cluster and authority names for backends, from the configured templates.
pub(crate) struct Names {
    pub(super) cluster: String,
    pub(super) authority: String,
    /// `None` in authority mode, where no subset cluster can be chosen.
    pub(super) subset_cluster: Option<String>,
}

impl Names {
    pub(super) fn new(config: &PluginConfig) -> Self {
        Self {
            cluster: config
                .target
                .cluster
                .clone()
                .unwrap_or_else(|| DEFAULT_CLUSTER_TEMPLATE.to_owned()),
            authority: config
                .target
                .authority
                .clone()
                .unwrap_or_else(|| DEFAULT_AUTHORITY_TEMPLATE.to_owned()),
            subset_cluster: matches!(target(config), Ok(Target::ClusterHeader(_))).then(|| {
                config
                    .target
                    .subset_cluster
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SUBSET_CLUSTER_TEMPLATE.to_owned())
            }),
        }
    }

    /// The subset cluster template, `None` in authority mode.
    pub(crate) fn subset_cluster(&self) -> Option<&str> {
        self.subset_cluster.as_deref()
    }

    pub(crate) fn cluster(&self, name: &str, namespace: &str, port: u16) -> String {
        fill(&self.cluster, name, namespace, port)
    }

    pub(crate) fn authority(&self, name: &str, namespace: &str, port: u16) -> String {
        fill(&self.authority, name, namespace, port)
    }
}

pub(super) fn fill(template: &str, name: &str, namespace: &str, port: u16) -> String {
    template
        .replace("{name}", name)
        .replace("{namespace}", namespace)
        .replace("{port}", &port.to_string())
}
