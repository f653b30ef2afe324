//! ListenerSet: extra listeners attached to a Gateway from another object (reference §8.6).

use serde::Deserialize;

use super::{Listener, ObjectMeta, ParentRef, Unknown};

/// A `gateway.networking.k8s.io` ListenerSet.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListenerSet {
    /// Name, namespace, creation time.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Parent Gateway and listeners.
    #[serde(default)]
    pub spec: ListenerSetSpec,
}

/// `ListenerSet.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerSetSpec {
    /// The Gateway these listeners join.
    #[serde(default)]
    pub parent_ref: ParentRef,
    /// The listeners, in the order written.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub unknown: Unknown,
}
