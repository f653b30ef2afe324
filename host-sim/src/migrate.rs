//! Ingresses with ingress-nginx annotations in, the Gateway API objects that do the same out, and
//! proof by replay that they do.
//!
//! [`Migration::build`] reads the Ingresses among the manifests with the core's own reader,
//! lays them out as nginx does ([`plan`]), and converts them ([`convert`], [`rules`]), noting
//! everything Gateway API cannot say ([`notes`]). [`verify`] sends requests generated from the
//! Ingresses ([`probes`]) through the real `.wasm` twice, once serving the Ingresses and once the
//! converted routes ([`replay`]), and groups the requests whose outcome differs by the note that
//! explains them.

pub mod convert;
pub mod notes;
pub mod plan;
pub mod probes;
pub mod replay;
pub mod rules;
pub mod verify;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use gatewasm_core::config::{IngressConfig, PluginConfig};
use gatewasm_core::Problem;

use crate::manifests::Manifests;
use convert::GatewayRef;
use notes::Note;
use plan::Plan;

/// How to convert.
#[derive(Clone, Debug)]
pub struct Options {
    /// The IngressClass served (ingress-nginx's `--ingress-class`); by default the only
    /// ingress-nginx IngressClass among the manifests, else `nginx`.
    pub class: Option<String>,
    /// Whether classless Ingresses are served (`--watch-ingress-without-class`).
    pub without_class: bool,
    /// `namespace/name` of the Gateway to write; by default `nginx` in the Ingresses'
    /// namespace when they share one, else in `default`.
    pub gateway: Option<String>,
    /// The Gateway's `gatewayClassName`.
    pub gateway_class: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            class: None,
            without_class: false,
            gateway: None,
            gateway_class: "istio".to_owned(),
        }
    }
}

/// The conversion of the Ingresses in some manifests.
#[derive(Debug)]
pub struct Migration {
    /// The class served, as the filter's `ingress` section says it.
    pub ingress: IngressConfig,
    /// What nginx makes of the Ingresses.
    pub plan: Plan,
    /// The Gateway the routes attach to.
    pub gateway: GatewayRef,
    /// Gateway, ReferenceGrants and HTTPRoutes, in that order.
    pub objects: Vec<Value>,
    /// What the objects do differently from nginx.
    pub notes: Vec<Note>,
    /// Services and Namespaces of the manifests, which both replays need.
    pub context: Vec<Value>,
    /// The Ingresses and IngressClasses as written.
    pub ingresses: Vec<Value>,
}

fn kind(object: &Value) -> &str {
    object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl Migration {
    /// Converts the Ingresses in `manifests`.
    ///
    /// # Errors
    ///
    /// When the Ingresses cannot be read as a plugin configuration.
    pub fn build(manifests: &Manifests, options: &Options) -> Result<Self> {
        let all = manifests.resources.iter().chain(&manifests.others);
        let ingresses: Vec<Value> = all
            .clone()
            .filter(|o| matches!(kind(o), "Ingress" | "IngressClass"))
            .cloned()
            .collect();
        let context: Vec<Value> = all
            .filter(|o| matches!(kind(o), "Service" | "ServiceImport" | "Namespace"))
            .cloned()
            .collect();
        let bytes = serde_json::to_vec(&json!({ "resources": ingresses }))?;
        let config = PluginConfig::parse(&bytes).context("the Ingresses cannot be read")?;
        let mut problems = Vec::new();
        let ingress = IngressConfig {
            class: options.class.clone().or_else(|| manifests.ingress_class()),
            watch_without_class: Some(options.without_class),
            ..IngressConfig::default()
        };
        let mut plan = Plan::build(config.objects(&mut problems), &ingress);
        problems.append(&mut plan.problems);
        plan.problems = problems;
        let gateway = gateway_ref(&plan, &ingress, options);
        let mut notes = Vec::new();
        let objects = convert::objects(&plan, &gateway, &mut notes);
        Ok(Self {
            ingress,
            plan,
            gateway,
            objects,
            notes,
            context,
            ingresses,
        })
    }

    /// Problems nginx would have with the Ingresses (ignored canaries and paths, bad values).
    pub fn problems(&self) -> &[Problem] {
        &self.plan.problems
    }

    /// The notes once each: a note made for several paths of a host says the same thing.
    pub fn distinct_notes(&self) -> Vec<&Note> {
        let mut out: Vec<&Note> = Vec::new();
        for note in &self.notes {
            if !out
                .iter()
                .any(|n| n.heading() == note.heading() && n.why == note.why)
            {
                out.push(note);
            }
        }
        out
    }

    /// The objects as YAML documents, ready for `kubectl apply -f -`.
    ///
    /// # Errors
    ///
    /// When an object cannot be written as YAML.
    pub fn yaml(&self) -> Result<String> {
        let mut out = String::new();
        for object in &self.objects {
            out.push_str("---\n");
            out.push_str(&serde_norway::to_string(object)?);
        }
        Ok(out)
    }

    /// The plugin configuration serving the Ingresses as ingress-nginx does. The decision goes
    /// to Envoy in a cluster header, as on the converted routes' Gateway, so that the two
    /// replays differ only where routing does.
    ///
    /// # Errors
    ///
    /// Never in practice: JSON values always serialise.
    pub fn ingress_configuration(&self) -> Result<Vec<u8>> {
        let resources: Vec<&Value> = self.ingresses.iter().chain(&self.context).collect();
        Ok(serde_json::to_vec(&json!({
            "ingress": {"class": self.ingress.class(), "watchWithoutClass": self.ingress.watch_without_class},
            "target": {"mode": "clusterHeader"},
            "resources": resources,
        }))?)
    }

    /// The plugin configuration serving the converted routes on their Gateway.
    ///
    /// # Errors
    ///
    /// Never in practice: JSON values always serialise.
    pub fn converted_configuration(&self) -> Result<Vec<u8>> {
        let resources: Vec<&Value> = self.objects.iter().chain(&self.context).collect();
        Ok(serde_json::to_vec(&json!({
            "gateway": format!("{}/{}", self.gateway.namespace, self.gateway.name),
            "resources": resources,
        }))?)
    }
}

fn gateway_ref(plan: &Plan, ingress: &IngressConfig, options: &Options) -> GatewayRef {
    let class = options.gateway_class.clone();
    if let Some((namespace, name)) = options.gateway.as_deref().and_then(|g| g.split_once('/')) {
        return GatewayRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            class,
        };
    }
    let mut namespaces: Vec<&str> = plan
        .model
        .ingresses
        .iter()
        .map(|s| s.namespace.as_str())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let namespace = match namespaces.as_slice() {
        [only] => (*only).to_owned(),
        _ => "default".to_owned(),
    };
    GatewayRef {
        namespace,
        name: ingress.class().to_owned(),
        class,
    }
}
