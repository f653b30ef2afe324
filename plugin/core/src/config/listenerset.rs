//! ListenerSet: extra listeners attached to a Gateway from another object (reference §8.6).

use super::json::impl_from_json;
use super::{Listener, ObjectMeta, ParentRef, Unknown};

/// A `gateway.networking.k8s.io` ListenerSet.
#[derive(Clone, Debug, Default)]
pub struct ListenerSet {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Parent Gateway and listeners.
    pub spec: ListenerSetSpec,
}

impl_from_json!(ListenerSet {
    "metadata" => metadata,
    "spec" => spec,
});

/// `ListenerSet.spec`.
#[derive(Clone, Debug, Default)]
pub struct ListenerSetSpec {
    /// The Gateway these listeners join.
    pub parent_ref: ParentRef,
    /// The listeners, in the order written.
    pub listeners: Vec<Listener>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl_from_json!(ListenerSetSpec, unknown: unknown {
    "parentRef" => parent_ref,
    "listeners" => listeners,
});
