//! ListenerSet: extra listeners attached to a Gateway from another object (reference §8.6).

use super::json::Node;
use super::{Listener, ObjectMeta, ParentRef, Unknown};

/// A `gateway.networking.k8s.io` ListenerSet.
#[derive(Clone, Debug, Default)]
pub struct ListenerSet {
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// Parent Gateway and listeners.
    pub spec: ListenerSetSpec,
}

impl ListenerSet {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
            spec: fields.or_default("spec", ListenerSetSpec::read),
        }
    }
}

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

impl ListenerSetSpec {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            parent_ref: fields.or_default("parentRef", ParentRef::read),
            listeners: fields.list("listeners", Listener::read),
            unknown: fields.unknown(),
        }
    }
}
