//! Object metadata shared by every Kubernetes object the configuration carries.

use std::collections::BTreeMap;

use super::json::{self, Node};

/// The parts of `metadata` that routing depends on.
#[derive(Clone, Debug, Default)]
pub struct ObjectMeta {
    /// Object name.
    pub name: String,
    /// Object namespace; empty means `default`.
    pub namespace: Option<String>,
    /// RFC 3339 creation time; the oldest route wins precedence ties.
    pub creation_timestamp: Option<String>,
    /// Labels, tested by `allowedRoutes` namespace selectors.
    pub labels: BTreeMap<String, String>,
}

impl ObjectMeta {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            name: fields.string("name"),
            namespace: fields.opt_string("namespace"),
            creation_timestamp: fields.opt_string("creationTimestamp"),
            labels: fields.or_default("labels", json::string_map),
        }
    }
}

impl ObjectMeta {
    /// The namespace, with Kubernetes' default applied.
    pub fn namespace(&self) -> &str {
        match self.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => "default",
        }
    }
}

/// A `Namespace` object: only its labels matter, for `allowedRoutes.namespaces.selector`.
#[derive(Clone, Debug, Default)]
pub struct Namespace {
    /// Name and labels.
    pub metadata: ObjectMeta,
}

impl Namespace {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            metadata: fields.or_default("metadata", ObjectMeta::read),
        }
    }
}
