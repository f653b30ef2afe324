//! Kubernetes Services (and multi-cluster ServiceImports) as the filter needs them: which
//! backends exist, the names of their ports (a mesh parentRef's `sectionName`) and the
//! ClusterIP a mesh request may be addressed to.

use serde::Deserialize;

use super::{lenient, ObjectMeta};

/// A `Service` or `ServiceImport`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Service {
    /// Name and namespace.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Ports and address.
    #[serde(default)]
    pub spec: ServiceSpec,
}

/// `Service.spec` (the parts routing reads).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// The virtual IP callers may use instead of a name (`None` or `"None"` when headless).
    #[serde(default, rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    /// Service ports.
    #[serde(default)]
    pub ports: Vec<ServicePort>,
}

/// One `spec.ports[]` entry.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ServicePort {
    /// Port name, the target of a mesh parentRef's `sectionName`.
    #[serde(default)]
    pub name: Option<String>,
    /// Service port.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub port: Option<u32>,
}
