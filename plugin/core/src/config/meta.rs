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
        or_namespace(self.namespace.as_deref(), "default")
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace(), self.name)
    }

    /// `Kind namespace/name`, as problems and status name a namespaced object.
    pub fn label(&self, kind: &str) -> String {
        format!("{kind} {}", self.key())
    }
}

/// A reference's namespace: the one written, else (unset or empty) the referrer's own.
pub(crate) fn or_namespace<'a>(written: Option<&'a str>, own: &'a str) -> &'a str {
    written.filter(|ns| !ns.is_empty()).unwrap_or(own)
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
