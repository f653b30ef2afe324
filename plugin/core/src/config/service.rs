//! Kubernetes Services (and multi-cluster ServiceImports) as the filter needs them: which
//! backends exist, the names of their ports (a mesh parentRef's `sectionName`) and the
//! ClusterIP a mesh request may be addressed to.

use super::json::Node;
use super::ObjectMeta;

/// A `Service` or `ServiceImport`.
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// Name and namespace.
    pub metadata: ObjectMeta,
    /// Ports and address.
    pub spec: ServiceSpec,
}

impl Service {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
            spec: fields.or_default("spec", ServiceSpec::read),
        }
    }
}

/// `Service.spec` (the parts routing reads).
#[derive(Clone, Debug, Default)]
pub struct ServiceSpec {
    /// The virtual IP callers may use instead of a name (`None` or `"None"` when headless).
    pub cluster_ip: Option<String>,
    /// Service ports.
    pub ports: Vec<ServicePort>,
}

impl ServiceSpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            cluster_ip: fields.opt_string("clusterIP"),
            ports: fields.list("ports", ServicePort::read),
        }
    }
}

/// One `spec.ports[]` entry.
#[derive(Clone, Debug, Default)]
pub struct ServicePort {
    /// Port name, the target of a mesh parentRef's `sectionName`.
    pub name: Option<String>,
    /// Service port.
    pub port: Option<u32>,
}

impl ServicePort {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.opt_string("name"),
            port: fields.opt_u32("port"),
        }
    }
}
