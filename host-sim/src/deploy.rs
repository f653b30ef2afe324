//! Deployment artefacts from manifests: the plugin configuration, an Envoy bootstrap, Istio
//! objects, and the OCI image Istio pulls.
//!
//! [`Plan`] reads the manifests once: which mode the filter runs in (a Gateway, or the mesh),
//! the plugin configuration, and the backends its compiled route table can send to. The
//! generators in [`envoy`] and [`istio`] turn a plan into documents; [`oci`] packages the
//! module. Documents are ordered YAML values, so JSON and YAML renderings keep the field order a
//! reader expects. Turning documents into text and reading flags is `cmd::config`'s job.

use anyhow::{bail, Context, Result};
use gatewasm_core::{Backend, Problem, DEFAULT_CLUSTER_HEADER};
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::manifests::Manifests;
use crate::protocol::Protocols;
use crate::written;
use connection_pool::ConnectionPool;

/// Builds an ordered mapping: `map! { "key" => value, ... }`, each value anything that converts
/// into a YAML value.
macro_rules! map {
    ($($key:expr => $value:expr),* $(,)?) => {{
        #[allow(unused_mut, reason = "an empty map! has nothing to insert")]
        let mut mapping = serde_norway::Mapping::new();
        $( mapping.insert(serde_norway::Value::from($key), serde_norway::Value::from($value)); )*
        serde_norway::Value::Mapping(mapping)
    }};
}

mod backend_tls;
pub mod compact;
pub mod connection_pool;
pub mod envoy;
pub mod istio;
pub mod oci;
pub mod subsets;

/// Where the filter runs, which decides how its decision reaches Envoy's router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The proxy implements this Gateway: `clusterHeader` target, listeners from the Gateway.
    Gateway {
        /// Gateway namespace.
        namespace: String,
        /// Gateway name.
        name: String,
    },
    /// No Gateway: an Istio sidecar's outbound filter, `authority` target.
    Mesh,
}

/// How a sidecar's filter hands its decision to Envoy's router (mesh mode only; a Gateway's
/// proxy always uses `clusterHeader` and its route patch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MeshTarget {
    /// Set `x-gatewasm-cluster`; the `SIDECAR_OUTBOUND` route patch sends the request to that
    /// cluster. Reaches every backend the sidecar has a cluster for, on any port.
    #[default]
    ClusterHeader,
    /// Rewrite `:authority`; Istio's own virtual hosts pick the cluster. No EnvoyFilter, but
    /// only backends on the port the caller dialled are reached (`sidecar_reach` in the core).
    Authority,
}

impl MeshTarget {
    /// Reads `clusterHeader` or `authority`.
    ///
    /// # Errors
    ///
    /// On any other value.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "clusterHeader" => Ok(Self::ClusterHeader),
            "authority" => Ok(Self::Authority),
            _ => bail!("unknown target mode {value:?} (expected clusterHeader or authority)"),
        }
    }

    /// The plugin configuration's `target` for a sidecar's filter in this mode, fields in
    /// DESIGN.md's order.
    #[must_use]
    pub fn plugin_target(self) -> Yaml {
        match self {
            Self::ClusterHeader => {
                map! { "mode" => "clusterHeader", "header" => DEFAULT_CLUSTER_HEADER }
            }
            Self::Authority => map! { "mode" => "authority" },
        }
    }
}

/// What the proxy does when the filter fails (a trap, a VM that cannot start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailStrategy {
    /// Rebuild the VM after a backoff; requests fail meanwhile (Envoy ≥ 1.33, Istio ≥ 1.27).
    Reload,
    /// Fail every request the filter would have seen.
    Close,
    /// Skip the filter: requests go on as if it were absent.
    Open,
}

impl FailStrategy {
    /// Reads `reload`, `close` or `open`, or the Istio or Envoy enum names.
    ///
    /// # Errors
    ///
    /// On any other value.
    pub fn parse(value: &str) -> Result<Self> {
        match value.to_ascii_lowercase().as_str() {
            "reload" | "fail_reload" => Ok(Self::Reload),
            "close" | "closed" | "fail_close" | "fail_closed" => Ok(Self::Close),
            "open" | "fail_open" => Ok(Self::Open),
            _ => bail!("unknown fail strategy {value:?} (expected reload, close or open)"),
        }
    }

    /// The WasmPlugin `failStrategy` value.
    pub fn istio(self) -> &'static str {
        match self {
            Self::Reload => "FAIL_RELOAD",
            Self::Close => "FAIL_CLOSE",
            Self::Open => "FAIL_OPEN",
        }
    }

    /// The Envoy `PluginConfig.failure_policy` value.
    pub fn envoy(self) -> &'static str {
        match self {
            Self::Reload => "FAIL_RELOAD",
            Self::Close => "FAIL_CLOSED",
            Self::Open => "FAIL_OPEN",
        }
    }
}

/// Documents a generator produced, and what the user should know about them.
#[derive(Debug, Default)]
pub struct Generated {
    /// The documents, in the order they should be applied.
    pub documents: Vec<Yaml>,
    /// Warnings: choices the generator made that the user may want to change.
    pub notes: Vec<String>,
}

/// Manifests read once, for every generator.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Gateway or mesh.
    pub mode: Mode,
    /// Mesh mode: how the decision reaches the router.
    pub mesh_target: MeshTarget,
    /// The plugin configuration: `gateway`, `target`, `resources`, in that order.
    pub plugin_config: Yaml,
    /// Every backend a rule can send to, from the compiled route table.
    pub backends: Vec<Backend>,
    /// What Envoy speaks to each backend.
    pub protocols: Protocols,
    /// The manifests' objects of other kinds (BackendTLSPolicies among them).
    pub others: Vec<Json>,
    /// What the compiler said about the configuration.
    pub problems: Vec<Problem>,
    /// The Gateway object, in Gateway mode.
    pub gateway: Option<gatewasm_core::config::Gateway>,
    /// Whether the generators deliver the configuration in its compact form
    /// ([`compact::compact`]).
    pub compact: bool,
    /// The Gateway's class's connection pool (its `parametersRef` ConfigMap's `proxy-config`).
    pub connection_pool: Option<ConnectionPool>,
}

impl Plan {
    /// Reads the mode, builds the plugin configuration and compiles it.
    ///
    /// `gateway` is the `--gateway` flag. Without it, the only Gateway in the manifests is used,
    /// and manifests without any Gateway mean mesh mode, where `mesh_target` applies.
    ///
    /// # Errors
    ///
    /// When the Gateway asked for is not in the manifests, when several are and none was asked
    /// for, when `authority` is asked for a Gateway, or when the configuration cannot be
    /// compiled at all.
    pub fn new(
        manifests: &Manifests,
        gateway: Option<&str>,
        mesh_target: MeshTarget,
    ) -> Result<Self> {
        let gateways = manifests.gateways();
        let key = match (gateway, gateways.as_slice()) {
            (Some(asked), _) => Some(asked.to_owned()),
            (None, []) => None,
            (None, [only]) => Some(only.clone()),
            (None, many) => bail!(
                "the manifests hold several Gateways ({}); pass --gateway NAMESPACE/NAME",
                many.join(", ")
            ),
        };
        let mut connection_pool = None;
        let (mode, gateway) = match key {
            None => (Mode::Mesh, None),
            Some(key) => {
                let (namespace, name) = key
                    .split_once('/')
                    .with_context(|| format!("--gateway {key:?} must be NAMESPACE/NAME"))?;
                let object = manifests
                    .resources
                    .iter()
                    .filter(|o| o.get("kind").and_then(Json::as_str) == Some("Gateway"))
                    .find(|o| {
                        written::namespace(o) == namespace
                            && o.pointer("/metadata/name").and_then(Json::as_str) == Some(name)
                    })
                    .with_context(|| {
                        format!(
                            "Gateway {key} is not in the manifests (they hold: {})",
                            if gateways.is_empty() {
                                "none".to_owned()
                            } else {
                                gateways.join(", ")
                            }
                        )
                    })?;
                let gateway = gatewasm_core::config::Gateway::from_json(&object.to_string())
                    .with_context(|| format!("Gateway {key} cannot be read"))?;
                connection_pool = connection_pool::for_gateway(manifests, object);
                let mode = Mode::Gateway {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                };
                (mode, Some(gateway))
            }
        };
        if mode != Mode::Mesh && mesh_target == MeshTarget::Authority {
            bail!(
                "--target authority is for sidecars; a Gateway's proxy uses clusterHeader and \
                 the route patch (pass manifests without a Gateway for mesh mode)"
            );
        }
        let plugin_config = plugin_config(manifests, &mode, mesh_target)?;
        let compiled = gatewasm_core::compile_bytes(&serde_json::to_vec(&plugin_config)?)
            .context("the plugin configuration cannot be compiled")?;
        Ok(Self {
            mode,
            mesh_target,
            backends: compiled.table.backends().to_vec(),
            protocols: Protocols::new(&manifests.resources),
            others: manifests.others.clone(),
            problems: compiled.problems,
            plugin_config,
            gateway,
            compact: false,
            connection_pool,
        })
    }

    /// The plugin configuration as the generators deliver it: plain, or its compact form.
    ///
    /// # Errors
    ///
    /// Never in practice: the value was built from JSON.
    pub fn delivered_config(&self) -> Result<Yaml> {
        if self.compact {
            compact::compact(&serde_json::to_vec(&self.plugin_config)?)
        } else {
            Ok(self.plugin_config.clone())
        }
    }

    /// The delivered plugin configuration as pretty JSON, as Envoy's `configuration` string
    /// carries it.
    ///
    /// # Errors
    ///
    /// Never in practice: the value was built from JSON.
    pub fn plugin_config_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(&self.delivered_config()?)?)
    }
}

/// The plugin configuration for a mode, fields in DESIGN.md's order.
fn plugin_config(manifests: &Manifests, mode: &Mode, mesh_target: MeshTarget) -> Result<Yaml> {
    let mut config = serde_norway::Mapping::new();
    let target = match mode {
        Mode::Gateway { namespace, name } => {
            config.insert("gateway".into(), format!("{namespace}/{name}").into());
            map! { "mode" => "clusterHeader", "header" => DEFAULT_CLUSTER_HEADER }
        }
        Mode::Mesh => mesh_target.plugin_target(),
    };
    config.insert("target".into(), target);
    if let Some(class) = manifests.ingress_class() {
        config.insert("ingress".into(), map! { "class" => class });
    }
    config.insert(
        "resources".into(),
        serde_norway::to_value(&manifests.resources)?,
    );
    Ok(Yaml::Mapping(config))
}

#[cfg(test)]
mod tests {
    use super::{FailStrategy, MeshTarget, Mode, Plan};
    use crate::manifests::Manifests;
    use crate::protocol::Protocol;

    const GATEWAY: &str = "kind: Gateway\nmetadata: {name: gw, namespace: infra}\nspec: {listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}\n";
    const ROUTE: &str = "kind: GRPCRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  rules: [{backendRefs: [{name: users, port: 9090}]}]\n";

    fn manifests(text: &str) -> Manifests {
        let mut m = Manifests::default();
        m.add_yaml(text).unwrap();
        m
    }

    #[test]
    fn grpc_authorization_servers_are_grpc_backends_and_http_ones_are_not() {
        let route = "kind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  rules:\n    - filters: [{type: ExternalAuth, externalAuth: {protocol: GRPC, backendRef: {name: authz, namespace: auth, port: 9001}, grpc: {}}}]\n      backendRefs: [{name: web, port: 8080}]\n    - filters: [{type: ExternalAuth, externalAuth: {protocol: HTTP, backendRef: {name: check, port: 9000}, http: {}}}]\n      backendRefs: [{name: web, port: 8080}]\n";
        let plan = Plan::new(
            &manifests(&format!("{GATEWAY}---\n{route}")),
            None,
            MeshTarget::default(),
        )
        .unwrap();
        assert_eq!(plan.protocols.of("auth/authz:9001"), Protocol::H2c);
        assert_eq!(plan.protocols.of("app/check:9000"), Protocol::Http1);
    }

    #[test]
    fn the_only_gateway_is_implemented_and_its_backends_are_listed() {
        let plan = Plan::new(
            &manifests(&format!("{GATEWAY}---\n{ROUTE}")),
            None,
            MeshTarget::default(),
        )
        .unwrap();
        assert_eq!(
            plan.mode,
            Mode::Gateway {
                namespace: "infra".into(),
                name: "gw".into()
            }
        );
        let json: serde_json::Value = serde_json::to_value(&plan.plugin_config).unwrap();
        assert_eq!(json["gateway"], "infra/gw");
        assert_eq!(json["target"]["mode"], "clusterHeader");
        let keys: Vec<_> = plan.backends.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["app/users:9090"]);
        assert_eq!(plan.protocols.of("app/users:9090"), Protocol::H2c);
        let text = plan.plugin_config_json().unwrap();
        assert!(text.find("\"gateway\"").unwrap() < text.find("\"resources\"").unwrap());
    }

    #[test]
    fn no_gateway_means_mesh_mode_with_either_target() {
        let plan = Plan::new(&manifests(ROUTE), None, MeshTarget::default()).unwrap();
        assert_eq!(plan.mode, Mode::Mesh);
        let json: serde_json::Value = serde_json::to_value(&plan.plugin_config).unwrap();
        assert_eq!(json["target"]["mode"], "clusterHeader");
        assert!(json.get("gateway").is_none());
        let plan = Plan::new(&manifests(ROUTE), None, MeshTarget::Authority).unwrap();
        let json: serde_json::Value = serde_json::to_value(&plan.plugin_config).unwrap();
        assert_eq!(json["target"]["mode"], "authority");
        let gateway = format!("{GATEWAY}---\n{ROUTE}");
        assert!(Plan::new(&manifests(&gateway), None, MeshTarget::Authority).is_err());
    }

    #[test]
    fn a_missing_or_ambiguous_gateway_is_an_error() {
        let err = Plan::new(
            &manifests(GATEWAY),
            Some("infra/other"),
            MeshTarget::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("infra/gw"), "{err}");
        let two = format!("{GATEWAY}---\n{}", GATEWAY.replace("name: gw", "name: gw2"));
        let err = Plan::new(&manifests(&two), None, MeshTarget::default()).unwrap_err();
        assert!(err.to_string().contains("--gateway"), "{err}");
    }

    #[test]
    fn fail_strategies_read_every_spelling() {
        assert_eq!(
            FailStrategy::parse("FAIL_CLOSED").unwrap(),
            FailStrategy::Close
        );
        assert_eq!(
            FailStrategy::parse("reload").unwrap().istio(),
            "FAIL_RELOAD"
        );
        assert_eq!(FailStrategy::parse("close").unwrap().envoy(), "FAIL_CLOSED");
        assert!(FailStrategy::parse("maybe").is_err());
    }
}
