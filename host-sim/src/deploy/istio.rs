//! Istio objects that run gatewasm: a WasmPlugin, plus on a gateway the EnvoyFilter route patch
//! that `clusterHeader` mode needs and the DestinationRules of split backends' subsets
//! (`subsets`).
//!
//! Gateway mode attaches the plugin to the Gateway with `targetRefs` and inserts one route at the
//! top of every virtual host of that gateway's proxies: "send a request carrying
//! `x-gatewasm-cluster` to the cluster it names" (DESIGN.md, reference §5a/§5b). Mesh mode runs
//! the plugin on the outbound side of sidecars (`match: [{mode: CLIENT}]`), by default in
//! `clusterHeader` mode with the same route patch for `SIDECAR_OUTBOUND`: a sidecar routes by
//! the port the caller dialled, so only a route that names the cluster reaches a backend on
//! another port (see `sidecar` in host-sim). `--target authority` keeps Istio's own virtual
//! hosts and needs no patch, for backends on the dialled port only. Rendering and flags live in
//! `cmd::config`.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use gatewasm_core::DEFAULT_CLUSTER_HEADER;
use serde_norway::Value as Yaml;

use super::{FailStrategy, Generated, MeshTarget, Mode, Plan};

/// The image URL used when none is given: valid, and plainly a placeholder.
pub const DEFAULT_IMAGE: &str = concat!(
    "oci://registry.example.com/replace-me/gatewasm:",
    env!("CARGO_PKG_VERSION")
);

/// The label both objects carry, so they can be listed and removed together.
pub const PART_OF_LABEL: (&str, &str) = ("app.kubernetes.io/part-of", "gatewasm");

/// Choices `--format istio` offers.
#[derive(Clone, Debug)]
pub struct IstioOptions {
    /// `spec.url`: `oci://...`, `https://...` or `file://...`.
    pub image: String,
    /// `spec.sha256`: the image's manifest digest, 64 hex characters.
    pub sha256: Option<String>,
    /// `spec.failStrategy`.
    pub fail: FailStrategy,
    /// Object name (and `pluginName`, which becomes Envoy's `root_id`).
    pub name: String,
    /// Namespace; by default the Gateway's, or in mesh mode the routes' one namespace.
    pub namespace: Option<String>,
    /// Mesh mode: `spec.selector.matchLabels`; empty selects every workload of the namespace.
    pub selector: BTreeMap<String, String>,
}

impl Default for IstioOptions {
    fn default() -> Self {
        Self {
            image: DEFAULT_IMAGE.to_owned(),
            sha256: None,
            fail: FailStrategy::Reload,
            name: "gatewasm".to_owned(),
            namespace: None,
            selector: BTreeMap::new(),
        }
    }
}

/// Builds the WasmPlugin (and in gateway mode the EnvoyFilter), in the order to apply them.
///
/// # Errors
///
/// When the options contradict the mode: a namespace other than the Gateway's (`targetRefs`
/// must stay in it), a selector in gateway mode, FAIL_OPEN in gateway mode, a sha256 that is
/// not 64 hex characters, or mesh routes spread over several namespaces without `--namespace`.
pub fn objects(plan: &Plan, options: &IstioOptions) -> Result<Generated> {
    let sha256 = options
        .sha256
        .as_deref()
        .map(normalise_sha256)
        .transpose()?;
    let mut notes = Vec::new();
    if options.image == DEFAULT_IMAGE {
        notes.push(format!(
            "spec.url is the placeholder {DEFAULT_IMAGE}; pass --image with your registry"
        ));
    }
    if sha256.is_none() {
        notes.push(
            "spec.sha256 is not set; pass --package-dir or --sha256 to pin the image".to_owned(),
        );
    }
    notes.push(metrics_note());
    let mut documents = Vec::new();
    match &plan.mode {
        Mode::Gateway { namespace, name } => {
            if options.namespace.as_ref().is_some_and(|ns| ns != namespace) {
                bail!(
                    "--namespace must be the Gateway's namespace {namespace:?}: a WasmPlugin's \
                     targetRefs only reach Gateways in its own namespace"
                );
            }
            if !options.selector.is_empty() {
                bail!(
                    "--selector is for mesh mode; in gateway mode targetRefs selects the Gateway"
                );
            }
            if options.fail == FailStrategy::Open {
                bail!(
                    "--fail-strategy open would let a client's own {DEFAULT_CLUSTER_HEADER} header \
                     choose the cluster whenever the filter is skipped; use reload or close"
                );
            }
            let target = map! {
                "targetRefs" => vec![map! {
                    "group" => "gateway.networking.k8s.io",
                    "kind" => "Gateway",
                    "name" => name.as_str(),
                }],
            };
            documents.push(wasm_plugin(plan, options, namespace, target, sha256)?);
            let labels = [(
                Yaml::from("gateway.networking.k8s.io/gateway-name"),
                Yaml::from(name.as_str()),
            )];
            documents.push(envoy_filter(
                &options.name,
                namespace,
                labels.into_iter().collect(),
                "GATEWAY",
            ));
            documents.extend(super::subsets::destination_rules(
                plan,
                &map! { PART_OF_LABEL.0 => PART_OF_LABEL.1 },
            ));
        }
        Mode::Mesh => {
            let namespace = match &options.namespace {
                Some(ns) => ns.clone(),
                None => route_namespace(plan)?,
            };
            let mut target = serde_norway::Mapping::new();
            if !options.selector.is_empty() {
                let labels: serde_norway::Mapping = options
                    .selector
                    .iter()
                    .map(|(k, v)| (Yaml::from(k.as_str()), Yaml::from(v.as_str())))
                    .collect();
                target.insert("selector".into(), map! { "matchLabels" => labels });
            } else {
                notes.push(format!(
                    "no --selector: the plugin runs in every workload of namespace {namespace:?}"
                ));
            }
            target.insert("match".into(), vec![map! { "mode" => "CLIENT" }].into());
            if plan.mesh_target == MeshTarget::ClusterHeader && options.fail == FailStrategy::Open {
                bail!(
                    "--fail-strategy open would let a client's own {DEFAULT_CLUSTER_HEADER} header \
                     choose the cluster whenever the filter is skipped; use reload or close, or \
                     --target authority"
                );
            }
            documents.push(wasm_plugin(
                plan,
                options,
                &namespace,
                Yaml::Mapping(target),
                sha256,
            )?);
            if plan.mesh_target == MeshTarget::ClusterHeader {
                let labels: serde_norway::Mapping = options
                    .selector
                    .iter()
                    .map(|(k, v)| (Yaml::from(k.as_str()), Yaml::from(v.as_str())))
                    .collect();
                documents.push(envoy_filter(
                    &options.name,
                    &namespace,
                    labels,
                    "SIDECAR_OUTBOUND",
                ));
            }
        }
    }
    Ok(Generated { documents, notes })
}

/// How the filter's metrics become labelled Prometheus series in Istio's proxies.
fn metrics_note() -> String {
    let labels: Vec<String> = gatewasm_core::metrics::LABELS
        .iter()
        .map(|l| format!("\"{l}\""))
        .collect();
    format!(
        "metrics: the filter's labels need Istio's tag extraction; give the proxies the pod \
         annotation proxy.istio.io/config: '{{\"extraStatTags\": [{}]}}' (or the same in \
         meshConfig.defaultConfig), and if /stats/prometheus lists no gatewasm_ series add \
         \"proxyStatsMatcher\": {{\"inclusionPrefixes\": [\"wasmcustom.\"]}} \
         (examples/observability/)",
        labels.join(", ")
    )
}

fn wasm_plugin(
    plan: &Plan,
    options: &IstioOptions,
    namespace: &str,
    target: Yaml,
    sha256: Option<String>,
) -> Result<Yaml> {
    let Yaml::Mapping(mut spec) = target else {
        bail!("internal: the WasmPlugin target is not a mapping");
    };
    spec.insert("url".into(), options.image.as_str().into());
    if let Some(sha256) = sha256 {
        spec.insert("sha256".into(), sha256.into());
    }
    spec.insert("imagePullPolicy".into(), "IfNotPresent".into());
    spec.insert("pluginName".into(), options.name.as_str().into());
    spec.insert("type".into(), "HTTP".into());
    spec.insert("phase".into(), "UNSPECIFIED_PHASE".into());
    spec.insert("failStrategy".into(), options.fail.istio().into());
    spec.insert("pluginConfig".into(), plan.delivered_config()?);
    Ok(map! {
        "apiVersion" => "extensions.istio.io/v1alpha1",
        "kind" => "WasmPlugin",
        "metadata" => metadata(&options.name, namespace),
        "spec" => Yaml::Mapping(spec),
    })
}

/// The route patch: first in every virtual host of the selected proxies (`context` GATEWAY or
/// SIDECAR_OUTBOUND), taken only by requests that carry the decision header. Istio's own routes
/// stay below it, unchanged, so the rules' header filters are not applied a second time. Empty
/// `labels` select every workload of the namespace.
fn envoy_filter(
    plugin: &str,
    namespace: &str,
    labels: serde_norway::Mapping,
    context: &str,
) -> Yaml {
    let mut spec = serde_norway::Mapping::new();
    if !labels.is_empty() {
        spec.insert(
            "workloadSelector".into(),
            map! { "labels" => Yaml::Mapping(labels) },
        );
    }
    spec.insert(
        "configPatches".into(),
        vec![map! {
            "applyTo" => "HTTP_ROUTE",
            "match" => map! {
                "context" => context,
                "routeConfiguration" => map! {},
            },
            "patch" => map! {
                "operation" => "INSERT_FIRST",
                "value" => decision_route(),
            },
        }]
        .into(),
    );
    map! {
        "apiVersion" => "networking.istio.io/v1alpha3",
        "kind" => "EnvoyFilter",
        "metadata" => metadata(&format!("{plugin}-cluster-header"), namespace),
        "spec" => Yaml::Mapping(spec),
    }
}

/// The Envoy route the EnvoyFilter inserts (an `envoy.config.route.v3.Route`).
pub fn decision_route() -> Yaml {
    map! {
        "name" => "gatewasm-decision",
        "match" => map! {
            "prefix" => "/",
            "headers" => vec![map! {
                "name" => DEFAULT_CLUSTER_HEADER,
                "present_match" => true,
            }],
        },
        "route" => map! {
            "cluster_header" => DEFAULT_CLUSTER_HEADER,
            "timeout" => "0s",
        },
        "request_headers_to_remove" => vec![DEFAULT_CLUSTER_HEADER],
    }
}

fn metadata(name: &str, namespace: &str) -> Yaml {
    map! {
        "name" => name,
        "namespace" => namespace,
        "labels" => map! { PART_OF_LABEL.0 => PART_OF_LABEL.1 },
    }
}

/// The one namespace of the plan's routes, for a mesh WasmPlugin.
fn route_namespace(plan: &Plan) -> Result<String> {
    let resources = plan
        .plugin_config
        .get("resources")
        .and_then(Yaml::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut namespaces: Vec<String> = resources
        .iter()
        .filter(|o| {
            matches!(
                o.get("kind").and_then(Yaml::as_str),
                Some("HTTPRoute" | "GRPCRoute")
            )
        })
        .map(|o| {
            o.get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Yaml::as_str)
                .unwrap_or("default")
                .to_owned()
        })
        .collect();
    namespaces.sort();
    namespaces.dedup();
    match namespaces.as_slice() {
        [only] => Ok(only.clone()),
        [] => bail!("the manifests hold no routes; pass --namespace for the WasmPlugin"),
        many => bail!(
            "the routes are in several namespaces ({}); pass --namespace for the WasmPlugin",
            many.join(", ")
        ),
    }
}

/// Accepts `sha256:<hex>` or `<hex>`; returns the 64 lowercase hex characters.
fn normalise_sha256(value: &str) -> Result<String> {
    let hex = value
        .strip_prefix("sha256:")
        .unwrap_or(value)
        .to_ascii_lowercase();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("--sha256 {value:?} must be 64 hex characters (the image's manifest digest)");
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::{objects, IstioOptions, DEFAULT_IMAGE};
    use crate::deploy::{FailStrategy, MeshTarget, Plan};
    use crate::manifests::Manifests;

    const GATEWAY: &str = "kind: Gateway\nmetadata: {name: gw, namespace: infra}\nspec: {listeners: [{name: http, port: 80, protocol: HTTP}]}\n---\n";
    const ROUTE: &str = "kind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec: {rules: [{backendRefs: [{name: api, port: 8080}]}]}\n";

    fn plan(text: &str) -> Plan {
        let mut m = Manifests::default();
        m.add_yaml(text).unwrap();
        Plan::new(&m, None, MeshTarget::default()).unwrap()
    }

    fn json(value: &serde_norway::Value) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn gateway_mode_targets_the_gateway_and_patches_its_routes() {
        let options = IstioOptions {
            sha256: Some(format!("sha256:{}", "AB".repeat(32))),
            ..IstioOptions::default()
        };
        let generated = objects(&plan(&format!("{GATEWAY}{ROUTE}")), &options).unwrap();
        let [plugin, filter] = generated.documents.as_slice() else {
            panic!("two documents expected");
        };
        let (plugin, filter) = (json(plugin), json(filter));
        assert_eq!(plugin["metadata"]["namespace"], "infra");
        assert_eq!(plugin["spec"]["targetRefs"][0]["name"], "gw");
        assert_eq!(plugin["spec"]["sha256"], "ab".repeat(32));
        assert_eq!(plugin["spec"]["failStrategy"], "FAIL_RELOAD");
        assert_eq!(
            plugin["spec"]["pluginConfig"]["target"]["mode"],
            "clusterHeader"
        );
        assert_eq!(filter["kind"], "EnvoyFilter");
        assert_eq!(
            filter["spec"]["workloadSelector"]["labels"]["gateway.networking.k8s.io/gateway-name"],
            "gw"
        );
        assert!(generated.notes.iter().any(|n| n.contains(DEFAULT_IMAGE)));
    }

    #[test]
    fn mesh_mode_patches_the_sidecars_routes_for_the_cluster_header() {
        let mut options = IstioOptions::default();
        options.selector.insert("app".into(), "shop".into());
        let generated = objects(&plan(ROUTE), &options).unwrap();
        let [plugin, filter] = generated.documents.as_slice() else {
            panic!("two documents expected");
        };
        let (plugin, filter) = (json(plugin), json(filter));
        assert_eq!(
            plugin["spec"]["pluginConfig"]["target"]["mode"],
            "clusterHeader"
        );
        assert_eq!(filter["metadata"]["namespace"], "app");
        assert_eq!(filter["spec"]["workloadSelector"]["labels"]["app"], "shop");
        let patch = &filter["spec"]["configPatches"][0];
        assert_eq!(patch["match"]["context"], "SIDECAR_OUTBOUND");
        assert_eq!(patch["patch"]["operation"], "INSERT_FIRST");
        let open = IstioOptions {
            fail: FailStrategy::Open,
            ..IstioOptions::default()
        };
        assert!(objects(&plan(ROUTE), &open).is_err());
    }

    #[test]
    fn mesh_mode_in_authority_mode_needs_no_patch() {
        let mut options = IstioOptions {
            fail: FailStrategy::Open,
            ..IstioOptions::default()
        };
        options.selector.insert("app".into(), "shop".into());
        let mut m = Manifests::default();
        m.add_yaml(ROUTE).unwrap();
        let authority = Plan::new(&m, None, MeshTarget::Authority).unwrap();
        let generated = objects(&authority, &options).unwrap();
        let [plugin] = generated.documents.as_slice() else {
            panic!("one document expected");
        };
        let plugin = json(plugin);
        assert_eq!(plugin["metadata"]["namespace"], "app");
        assert_eq!(plugin["spec"]["match"][0]["mode"], "CLIENT");
        assert_eq!(plugin["spec"]["selector"]["matchLabels"]["app"], "shop");
        assert_eq!(
            plugin["spec"]["pluginConfig"]["target"]["mode"],
            "authority"
        );
        assert_eq!(plugin["spec"]["failStrategy"], "FAIL_OPEN");
    }

    #[test]
    fn contradictions_are_refused() {
        let gateway = plan(&format!("{GATEWAY}{ROUTE}"));
        let elsewhere = IstioOptions {
            namespace: Some("app".into()),
            ..IstioOptions::default()
        };
        assert!(objects(&gateway, &elsewhere).is_err());
        let open = IstioOptions {
            fail: FailStrategy::Open,
            ..IstioOptions::default()
        };
        assert!(objects(&gateway, &open).is_err());
        let bad_sha = IstioOptions {
            sha256: Some("abc".into()),
            ..IstioOptions::default()
        };
        assert!(objects(&gateway, &bad_sha).is_err());
        let two_namespaces = plan(&format!("{ROUTE}---\n{}", ROUTE.replace("app", "shop")));
        assert!(objects(&two_namespaces, &IstioOptions::default()).is_err());
    }
}
