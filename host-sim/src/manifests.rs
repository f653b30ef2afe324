//! Kubernetes manifests in, plugin configuration out — what `kubectl apply -f PATH` would see.
//!
//! PATH is a YAML (or JSON) file, or a folder whose `*.yaml`, `*.yml` and `*.json` files are read
//! in name order, each holding any number of `---`-separated documents. Gateway API objects,
//! Ingresses and IngressClasses, Namespaces (labels for `allowedRoutes` selectors), Services
//! and ServiceImports (the known backends, and mesh parents), backend traffic policies and
//! gatewasm's ClusterSplits go to `resources`; anything else is listed as skipped. Object order
//! is creation order. The IngressClass served is the one asked for, else the only ingress-nginx
//! IngressClass among the manifests, else the filter's default.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::written;

/// Objects read from manifests.
#[derive(Debug, Default)]
pub struct Manifests {
    /// Objects for the plugin's `resources`, in creation order.
    pub resources: Vec<Value>,
    /// `Kind namespace/name` of objects the filter does not use.
    pub skipped: Vec<String>,
    /// Those objects themselves, in file order, for checks the filter does not make.
    pub others: Vec<Value>,
    /// The IngressClass the plugin configuration serves (`--ingress-class`, a case file's
    /// `ingress_class`); when `None`, [`Manifests::plugin_config`] chooses.
    pub ingress_class: Option<String>,
}

/// Kinds that travel to the filter in `resources`.
const RESOURCE_KINDS: [&str; 13] = [
    "Gateway",
    "Ingress",
    "IngressClass",
    "ListenerSet",
    "HTTPRoute",
    "GRPCRoute",
    "ReferenceGrant",
    "Namespace",
    "Service",
    "ServiceImport",
    "BackendTrafficPolicy",
    "XBackendTrafficPolicy",
    "ClusterSplit",
];

impl Manifests {
    /// Reads a file or a folder of manifests.
    ///
    /// # Errors
    ///
    /// When a file cannot be read or is not YAML.
    pub fn load(path: &Path) -> Result<Self> {
        let mut manifests = Self::default();
        for file in manifest_files(path)? {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read {}", file.display()))?;
            manifests
                .add_yaml(&text)
                .with_context(|| format!("failed to parse {}", file.display()))?;
        }
        Ok(manifests)
    }

    /// Adds every document of a YAML text.
    ///
    /// # Errors
    ///
    /// When the text is not YAML or a document does not map to JSON.
    pub fn add_yaml(&mut self, text: &str) -> Result<()> {
        for document in serde_norway::Deserializer::from_str(text) {
            let value = Value::deserialize(document)?;
            self.add_object(value);
        }
        Ok(())
    }

    /// Adds one object, sorting it by kind.
    pub fn add_object(&mut self, object: Value) {
        if object.is_null() {
            return;
        }
        let kind = written::kind(&object);
        if RESOURCE_KINDS.contains(&kind) {
            self.resources.push(object);
        } else {
            let kind = if kind.is_empty() {
                "object without kind"
            } else {
                kind
            };
            self.skipped
                .push(format!("{kind} {}", written::key(&object)));
            self.others.push(object);
        }
    }

    /// The Gateways among the resources, as `namespace/name`.
    pub fn gateways(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|o| written::kind(o) == "Gateway")
            .map(written::key)
            .collect()
    }

    /// The gateway to implement: the one asked for, or the only one there is; `None` (mesh
    /// mode) when there is none.
    ///
    /// # Errors
    ///
    /// When none is asked for and there are several Gateways.
    pub fn choose_gateway(&self, asked: Option<&str>) -> Result<Option<String>> {
        if let Some(gateway) = asked {
            return Ok(Some(gateway.to_owned()));
        }
        match self.gateways().as_slice() {
            [only] => Ok(Some(only.clone())),
            [] => Ok(None),
            many => bail!(
                "the manifests hold several Gateways ({}); pass --gateway NAMESPACE/NAME",
                many.join(", ")
            ),
        }
    }

    /// The IngressClass to serve: the one asked for, or the only IngressClass of
    /// ingress-nginx's controller among the manifests; `None` leaves the filter's default.
    pub fn ingress_class(&self) -> Option<String> {
        if let Some(class) = &self.ingress_class {
            return Some(class.clone());
        }
        let mut nginx = self.resources.iter().filter(|o| {
            o.get("kind").and_then(Value::as_str) == Some("IngressClass")
                && o.pointer("/spec/controller").and_then(Value::as_str)
                    == Some(gatewasm_core::config::NGINX_CONTROLLER)
        });
        let only = nginx.next()?;
        if nginx.next().is_some() {
            return None;
        }
        only.pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The plugin configuration JSON for these objects.
    pub fn plugin_config(&self, gateway: Option<&str>, target: Option<&Value>) -> Value {
        let mut config = json!({ "resources": self.resources });
        if let Some(class) = self.ingress_class() {
            config["ingress"] = json!({ "class": class });
        }
        if let Some(gateway) = gateway {
            config["gateway"] = json!(gateway);
        }
        if let Some(target) = target {
            config["target"] = target.clone();
        }
        config
    }
}

fn manifest_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(path).with_context(|| format!("failed to read {}", path.display()))?
    {
        let file = entry?.path();
        if matches!(
            file.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::Manifests;

    #[test]
    fn objects_keep_creation_order_and_unused_kinds_are_skipped() {
        let mut m = Manifests::default();
        m.add_yaml(
            "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: app}\nspec: {ports: [{port: 8080}]}\n---\n\
             kind: HTTPRoute\nmetadata: {name: r1, namespace: app}\n---\n---\n\
             kind: ConfigMap\nmetadata: {name: old, namespace: app}\n---\n\
             kind: Gateway\nmetadata: {name: gw, namespace: infra}\n",
        )
        .unwrap();
        let kinds: Vec<_> = m
            .resources
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["Service", "HTTPRoute", "Gateway"]);
        assert_eq!(m.skipped, ["ConfigMap app/old"]);
        assert_eq!(m.others[0]["kind"], "ConfigMap");
        assert_eq!(m.choose_gateway(None).unwrap().as_deref(), Some("infra/gw"));
        let config = m.plugin_config(Some("infra/gw"), None);
        assert_eq!(config["gateway"], "infra/gw");
        assert_eq!(config["resources"][1]["metadata"]["name"], "r1");
    }

    #[test]
    fn ingresses_travel_with_the_class_asked_for_or_the_only_nginx_class() {
        let mut m = Manifests::default();
        m.add_yaml(
            "kind: Ingress\nmetadata: {name: web}\n---\n\
             kind: IngressClass\nmetadata: {name: public}\nspec: {controller: k8s.io/ingress-nginx}\n---\n\
             kind: IngressClass\nmetadata: {name: other}\nspec: {controller: example.com/other}\n",
        )
        .unwrap();
        assert_eq!(m.resources.len(), 3);
        assert_eq!(m.plugin_config(None, None)["ingress"]["class"], "public");
        m.ingress_class = Some("internal".into());
        assert_eq!(m.plugin_config(None, None)["ingress"]["class"], "internal");
        let mut bare = Manifests::default();
        bare.add_yaml("kind: Ingress\nmetadata: {name: web}\n")
            .unwrap();
        assert!(bare.plugin_config(None, None).get("ingress").is_none());
    }

    #[test]
    fn without_gateways_the_configuration_is_for_the_mesh() {
        let mut m = Manifests::default();
        m.add_yaml("kind: HTTPRoute\nmetadata: {name: r}\n")
            .unwrap();
        assert_eq!(m.choose_gateway(None).unwrap(), None);
        assert!(m.plugin_config(None, None).get("gateway").is_none());
    }
}
