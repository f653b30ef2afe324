//! Object metadata shared by every Kubernetes object the configuration carries.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Fields an object carried that this version does not know, kept to be reported.
pub type Unknown = BTreeMap<String, serde_json::Value>;

/// The parts of `metadata` that routing depends on.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Object namespace; empty means `default`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// RFC 3339 creation time; the oldest route wins precedence ties.
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    /// Labels, tested by `allowedRoutes` namespace selectors.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
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
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Namespace {
    /// Name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
}
