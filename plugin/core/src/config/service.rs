//! Kubernetes Services (and multi-cluster ServiceImports) as the filter needs them: which
//! backends exist, the names of their ports (a mesh parentRef's `sectionName`) and the
//! ClusterIP a mesh request may be addressed to.

use super::json::impl_from_json;
use super::{lenient, ObjectMeta};

/// A `Service` or `ServiceImport`.
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// Name and namespace.
    pub metadata: ObjectMeta,
    /// Ports and address.
    pub spec: ServiceSpec,
}

impl_from_json!(Service {
    "metadata" => metadata,
    "spec" => spec,
});

/// `Service.spec` (the parts routing reads).
#[derive(Clone, Debug, Default)]
pub struct ServiceSpec {
    /// The virtual IP callers may use instead of a name (`None` or `"None"` when headless).
    pub cluster_ip: Option<String>,
    /// Service ports.
    pub ports: Vec<ServicePort>,
}

impl_from_json!(ServiceSpec {
    "clusterIP" => cluster_ip,
    "ports" => ports,
});

/// One `spec.ports[]` entry.
#[derive(Clone, Debug, Default)]
pub struct ServicePort {
    /// Port name, the target of a mesh parentRef's `sectionName`.
    pub name: Option<String>,
    /// Service port.
    pub port: Option<u32>,
}

impl_from_json!(ServicePort {
    "name" => name,
    "port" => port (lenient::opt_u32),
});
