//! `ClusterSplit` (`gatewasm.io/v1alpha1`): gatewasm's own object, not a Gateway API kind. A
//! backendRef names it through an `ExtensionRef` filter (Gateway API's extension point) to split
//! that backend's share across the clusters of a multi-cluster mesh by weight.
//!
//! ```yaml
//! apiVersion: gatewasm.io/v1alpha1
//! kind: ClusterSplit
//! metadata: {name: api-v1-clusters, namespace: app}
//! spec:
//!   clusters:
//!     - {name: us-west-1, weight: 60}
//!     - {name: us-east-1, weight: 40}
//! ```
//!
//! This file only reads it; `compile::cluster_split` turns it into weighted subset clusters.

use super::json::Node;
use super::{ObjectMeta, Unknown};

/// The API group of gatewasm's own objects.
pub const GATEWASM_GROUP: &str = "gatewasm.io";

/// A `ClusterSplit`.
#[derive(Clone, Debug, Default)]
pub struct ClusterSplit {
    /// Name and namespace: a backendRef's `ExtensionRef` names it in the route's namespace.
    pub metadata: ObjectMeta,
    /// `spec.clusters`, in order.
    pub clusters: Vec<ClusterWeight>,
    /// Fields of `spec` this version does not know.
    pub unknown: Unknown,
}

impl ClusterSplit {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        let metadata = fields.or_default("metadata", ObjectMeta::read);
        let (clusters, unknown) = fields
            .opt("spec", |spec| {
                let mut fields = spec.object();
                (
                    fields.list("clusters", ClusterWeight::read),
                    fields.unknown(),
                )
            })
            .unwrap_or_default();
        Self {
            metadata,
            clusters,
            unknown,
        }
    }
}

/// One `spec.clusters[]` entry: a cluster of the mesh (Istio's `topology.istio.io/cluster`) and
/// its relative weight.
#[derive(Clone, Debug, Default)]
pub struct ClusterWeight {
    /// The cluster's name, as the mesh labels its endpoints.
    pub name: String,
    /// Relative weight, default 1.
    pub weight: Option<u32>,
}

impl ClusterWeight {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.string("name"),
            weight: fields.opt_u32("weight"),
        }
    }
}
