//! How a plugin is configured in Envoy: its configuration, failure policy and the host-side
//! settings, and the error of a plugin that fails to start.
//!
//! What the options do is `proxy`'s business.

use std::fmt;

use super::connection_manager::ConnectionManager;
use crate::abi::log::LogEntry;
use crate::abi::properties::PropertyValue;
use crate::abi::types::LogLevel;

/// What Envoy does with streams once the VM has failed (`PluginConfig.failure_policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Local reply 503 `wasm_fail_stream`, gRPC UNAVAILABLE (Envoy's default).
    #[default]
    FailClosed,
    /// Skip the filter: requests pass untouched.
    FailOpen,
    /// Build a new worker VM from the last good configuration for the next stream (Envoy ≥1.33;
    /// its reload backoff is not modelled: the next stream reloads at once).
    FailReload,
}

/// The plugin's Envoy configuration (`PluginConfig` and its `vm_config`).
#[derive(Clone, Debug, Default)]
pub struct PluginOptions {
    /// `configuration`: what `on_configure` reads as `PLUGIN_CONFIGURATION`.
    pub configuration: Vec<u8>,
    /// `vm_config.configuration`: what `on_vm_start` reads as `VM_CONFIGURATION`.
    pub vm_configuration: Vec<u8>,
    /// `root_id` (`plugin_root_id`).
    pub root_id: String,
    /// `name` (`plugin_name`); empty means "same as `root_id`".
    pub name: String,
    /// `vm_config.vm_id` (`plugin_vm_id`, and the shared data / queue namespace).
    pub vm_id: String,
    /// `failure_policy`.
    pub failure_policy: FailurePolicy,
    /// Seed of the deterministic WASI `random_get`; the first worker VM uses it as is.
    pub random_seed: u64,
    /// `vm_config.environment_variables`: the only environment the module sees.
    pub env: Vec<(String, String)>,
    /// Envoy's wasm log level: lower lines are dropped, `proxy_get_log_level` reports it.
    pub log_level: LogLevel,
    /// Clusters that exist for `proxy_http_call`; `None` means every name exists.
    pub clusters: Option<Vec<String>>,
    /// Extra properties visible in every context (path segments, encoded value).
    pub properties: Vec<PropertyValue>,
    /// Not the plugin's but its HTTP connection manager's: what it does to a request before
    /// the filter runs (path normalisation, underscores); Envoy's edge-proxy settings unless
    /// told otherwise.
    pub connection_manager: ConnectionManager,
}

impl PluginOptions {
    /// Options for a sidecar of a workload in `namespace`: Envoy's node metadata `NAMESPACE`,
    /// which Istio sets and the filter reads in mesh mode.
    #[must_use]
    pub fn in_namespace(mut self, namespace: Option<&str>) -> Self {
        if let Some(namespace) = namespace {
            let path = ["node", "metadata", "NAMESPACE"].map(String::from).to_vec();
            self.properties.push((path, namespace.as_bytes().to_vec()));
        }
        self
    }

    pub(super) fn plugin_name(&self) -> &str {
        if self.name.is_empty() {
            &self.root_id
        } else {
            &self.name
        }
    }
}

/// Why the plugin did not start or a configuration was rejected (Envoy: start failure or NACK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartError {
    /// What failed, e.g. `canary VM: proxy_on_configure returned false`.
    pub reason: String,
    /// Everything the VMs logged during the attempt.
    pub logs: Vec<LogEntry>,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for StartError {}
