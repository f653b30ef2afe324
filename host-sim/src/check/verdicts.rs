//! Verdicts on the objects and annotations gatewasm does not route with: what each one does in a
//! cluster (often nothing), and the Gateway API configuration that does what it means.
//!
//! The seed's advanced section is the model: a mirror written as an `istio.io/traffic-mirror`
//! annotation that nothing reads, a `BackendTrafficPolicy` under an API group that does not
//! serve it, an Argo `Rollout` that names an HTTPRoute as an Istio VirtualService, and a
//! GatewayClass `parametersRef` ConfigMap with connection-pool settings Istio ignores. Every
//! other object `check` does not use is named with the reason; one that looks like routing
//! configuration (a kind or annotation naming mirror, retry, timeout, canary or weight) is a
//! warning. Routing itself is the core's compile; cluster-side checks are `cluster`'s.

use gatewasm_core::config::{Route, GATEWAY_GROUP};
use gatewasm_core::Problem;
use serde_json::{json, Map, Value};

use crate::manifests::Manifests;
use crate::objects::Objects;
use crate::written::{array_at, key, kind, label, name, namespace, str_at};

/// The API group of gatewasm's own objects.
const GATEWASM_GROUP: &str = gatewasm_core::config::GATEWASM_GROUP;

/// Words that make an object or annotation look like routing configuration.
const ROUTING_WORDS: [&str; 5] = ["mirror", "retry", "timeout", "canary", "weight"];
/// The Gateway API plugin of Argo Rollouts, as `trafficRouting.plugins` names it.
const ROLLOUTS_PLUGIN: &str = "argoproj-labs/gatewayAPI";
/// The keys Istio reads from a gateway customization ConfigMap (Gateway
/// `infrastructure.parametersRef`).
const ISTIO_CUSTOMIZATION: [&str; 5] = [
    "deployment",
    "service",
    "serviceAccount",
    "horizontalPodAutoscaler",
    "podDisruptionBudget",
];
/// Envoy Gateway's API group.
const ENVOY_GATEWAY_GROUP: &str = "gateway.envoyproxy.io";

/// What the verdicts found.
#[derive(Debug, Default)]
pub(super) struct Verdicts {
    /// Objects and annotations that do nothing, each with the configuration that works.
    pub problems: Vec<Problem>,
    /// Objects `check` does not use, each with the reason.
    pub notes: Vec<String>,
}

/// Runs every verdict.
pub(super) fn verdicts(manifests: &Manifests, objects: &Objects<'_>) -> Verdicts {
    let mut verdicts = Verdicts::default();
    mirror_annotations(manifests, &mut verdicts.problems);
    misplaced_policies(manifests, objects, &mut verdicts.problems);
    rollouts(manifests, objects, &mut verdicts);
    class_parameters(manifests, &mut verdicts);
    unread(manifests, &mut verdicts);
    verdicts
}

/// A JSON value as one line of YAML flow style, for fixes printed after `fix:`.
pub(super) fn flow(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), flow(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(s) => scalar(s),
        other => other.to_string(),
    }
}

/// A string as a plain YAML scalar when it reads back as the same string, quoted otherwise.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !s.starts_with(['-', '.'])
        && s.parse::<f64>().is_err()
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off");
    if plain {
        s.to_owned()
    } else {
        Value::from(s).to_string()
    }
}

/// Routes, by kind, among the resources.
/// Routes of a kind with a name, in any namespace.
fn routes_named<'o>(objects: &'o Objects<'_>, kind: &str, name: &str) -> Vec<Route<'o>> {
    objects
        .routes()
        .filter(|r| r.kind() == kind && r.metadata().name == name)
        .collect()
}

// === istio.io/traffic-mirror ===

fn mirror_annotations(manifests: &Manifests, problems: &mut Vec<Problem>) {
    for route in manifests
        .resources
        .iter()
        .filter(|o| matches!(kind(o), "HTTPRoute" | "GRPCRoute"))
    {
        let Some(text) = str_at(route, "/metadata/annotations/istio.io~1traffic-mirror") else {
            continue;
        };
        let parsed: Value = serde_norway::from_str(text).unwrap_or(Value::Null);
        let host = str_at(&parsed, "/mirror/hostname").unwrap_or("MIRROR-SERVICE");
        let port = parsed
            .pointer("/mirror/port")
            .cloned()
            .unwrap_or(json!(8080));
        let percent = parsed
            .pointer("/mirrorPercentage/value")
            .and_then(Value::as_f64)
            .unwrap_or(100.0);
        // A Service name, or the first label of its DNS name.
        let service = host.split('.').next().unwrap_or(host);
        let mut mirror = json!({"backendRef": {"name": service, "port": port}});
        if percent.fract() == 0.0 && (0.0..=100.0).contains(&percent) {
            mirror["percent"] = json!(percent as u64);
        } else {
            mirror["fraction"] =
                json!({"numerator": (percent * 100.0).round() as u64, "denominator": 10000});
        }
        let filter = json!({"type": "RequestMirror", "requestMirror": mirror});
        let rules = array_at(route, "/spec/rules").len().max(1);
        problems.push(
            Problem::warning(
                label(route),
                "metadata.annotations.istio.io/traffic-mirror",
                "is not an annotation anything reads (not Istio, not Gateway API, not gatewasm): no request is mirrored",
            )
            .with_hint(format!(
                "remove the annotation and add to the filters of {} this RequestMirror filter: {}",
                if rules == 1 { "the rule".to_owned() } else { format!("each of the {rules} rules") },
                flow(&filter)
            )),
        );
    }
}

// === BackendTrafficPolicy under an API that does not serve it ===

fn misplaced_policies(manifests: &Manifests, objects: &Objects<'_>, problems: &mut Vec<Problem>) {
    for policy in manifests
        .resources
        .iter()
        .filter(|o| kind(o) == "BackendTrafficPolicy")
    {
        let api_version = str_at(policy, "/apiVersion").unwrap_or("");
        if api_version.starts_with(&format!("{ENVOY_GATEWAY_GROUP}/")) {
            continue;
        }
        let converted = convert_policy(policy);
        let mut message = format!(
            "{api_version:?} serves no BackendTrafficPolicy (Gateway API has none; its experimental XBackendTrafficPolicy holds only a retry budget and session persistence): the API server refuses the object and nothing retries"
        );
        let targets: Vec<&Value> = policy
            .pointer("/spec/targetRef")
            .into_iter()
            .chain(array_at(policy, "/spec/targetRefs"))
            .collect();
        for target in targets {
            let target_kind = str_at(target, "/kind").unwrap_or("HTTPRoute");
            let target_name = str_at(target, "/name").unwrap_or("");
            let wanted = format!("{}/{target_name}", namespace(policy));
            let found = routes_named(objects, target_kind, target_name);
            if found.iter().any(|r| r.metadata().key() == wanted) {
                continue;
            }
            let elsewhere = match found.first() {
                Some(other) => format!(
                    " ({target_kind} {} is; a policy targets objects in its own namespace only)",
                    other.metadata().key()
                ),
                None => String::new(),
            };
            message.push_str(&format!(
                "; its target {target_kind} {wanted} is not in the manifests{elsewhere}"
            ));
        }
        problems.push(
            Problem::error(label(policy), "apiVersion", message).with_hint(format!(
                "the fields are Envoy Gateway's BackendTrafficPolicy (retryOn -> retry.retryOn.triggers, attempts -> retry.numRetries, backoff -> retry.perRetry.backOff); write it as {} and target a route in the policy's namespace",
                flow(&converted)
            )),
        );
    }
}

/// The seed-style policy (`retryOn` list, `attempts`, `backoff`) as Envoy Gateway's.
fn convert_policy(policy: &Value) -> Value {
    let mut spec = Map::new();
    let targets: Vec<Value> = policy
        .pointer("/spec/targetRef")
        .into_iter()
        .chain(array_at(policy, "/spec/targetRefs"))
        .map(|t| {
            json!({
                "group": str_at(t, "/group").unwrap_or(GATEWAY_GROUP),
                "kind": str_at(t, "/kind").unwrap_or("HTTPRoute"),
                "name": str_at(t, "/name").unwrap_or(""),
            })
        })
        .collect();
    spec.insert("targetRefs".to_owned(), Value::Array(targets));
    if let Some(retry) = policy.pointer("/spec/retry") {
        let mut converted = Map::new();
        if let Some(attempts) = retry.get("attempts").or_else(|| retry.get("numRetries")) {
            converted.insert("numRetries".to_owned(), attempts.clone());
        }
        let triggers: Vec<Value> = array_at(retry, "/retryOn").to_vec();
        if !triggers.is_empty() {
            converted.insert("retryOn".to_owned(), json!({"triggers": triggers}));
        }
        if let Some(backoff) = retry.get("backoff") {
            let mut back_off = Map::new();
            if let Some(base) = backoff
                .get("defaultDuration")
                .or_else(|| backoff.get("baseInterval"))
            {
                back_off.insert("baseInterval".to_owned(), base.clone());
            }
            if let Some(max) = backoff
                .get("maxDuration")
                .or_else(|| backoff.get("maxInterval"))
            {
                back_off.insert("maxInterval".to_owned(), max.clone());
            }
            converted.insert("perRetry".to_owned(), json!({"backOff": back_off}));
        }
        spec.insert("retry".to_owned(), Value::Object(converted));
    }
    json!({
        "apiVersion": format!("{ENVOY_GATEWAY_GROUP}/v1alpha1"),
        "kind": "BackendTrafficPolicy",
        "metadata": {"name": name(policy), "namespace": namespace(policy)},
        "spec": spec,
    })
}

// === Argo Rollouts ===

fn rollouts(manifests: &Manifests, objects: &Objects<'_>, verdicts: &mut Verdicts) {
    for rollout in manifests.others.iter().filter(|o| kind(o) == "Rollout") {
        let routing = "/spec/strategy/canary/trafficRouting";
        let stable = str_at(rollout, "/spec/strategy/canary/stableService").unwrap_or("");
        let canary = str_at(rollout, "/spec/strategy/canary/canaryService").unwrap_or("");
        let services = array_at(rollout, &format!("{routing}/istio/virtualServices"));
        for (i, vs) in services.iter().enumerate() {
            let vs_name = str_at(vs, "/name").unwrap_or("");
            let virtual_service = manifests
                .others
                .iter()
                .any(|o| kind(o) == "VirtualService" && name(o) == vs_name);
            if virtual_service {
                continue;
            }
            let route = routes_named(objects, "HTTPRoute", vs_name)
                .into_iter()
                .next();
            let what = match route {
                Some(r) => format!("HTTPRoute {}, not a VirtualService", r.metadata().key()),
                None => "not a VirtualService in the manifests".to_owned(),
            };
            let route_ns = route.map_or(namespace(rollout), |r| r.metadata().namespace());
            let plugin = json!({"plugins": {ROLLOUTS_PLUGIN: {"httpRoute": vs_name, "namespace": route_ns}}});
            let mut hint = format!(
                "replace trafficRouting.istio with the Gateway API plugin: trafficRouting: {}",
                flow(&plugin)
            );
            if route_ns != namespace(rollout) {
                hint.push_str(&format!(
                    ", and create the Rollout in namespace {route_ns} with its Services (the plugin edits routes in its namespace)"
                ));
            }
            hint.push_str(&format!(
                "; register the plugin in ConfigMap argo-rollouts-config (trafficRouterPlugins: [{{name: {ROLLOUTS_PLUGIN}, location: ...}}]) and keep one rule of the route with both {stable} and {canary} as backendRefs"
            ));
            verdicts.problems.push(
                Problem::error(
                    label(rollout),
                    format!("spec.strategy.canary.trafficRouting.istio.virtualServices[{i}]"),
                    format!("names {vs_name}, which is {what}: Argo Rollouts' Istio support edits VirtualServices only, so the rollout errors at its first setWeight and no traffic ever shifts"),
                )
                .with_hint(hint),
            );
        }
        let Some(plugin) = rollout.pointer(&format!(
            "{routing}/plugins/{}",
            ROLLOUTS_PLUGIN.replace('/', "~1")
        )) else {
            continue;
        };
        let route_ns = str_at(plugin, "/namespace").unwrap_or(namespace(rollout));
        let mut named: Vec<(&str, String)> = Vec::new();
        for (field, route_kind) in [("httpRoute", "HTTPRoute"), ("grpcRoute", "GRPCRoute")] {
            if let Some(n) = str_at(plugin, &format!("/{field}")) {
                named.push((route_kind, n.to_owned()));
            }
            for r in array_at(plugin, &format!("/{field}s")) {
                named.push((route_kind, str_at(r, "/name").unwrap_or("").to_owned()));
            }
        }
        for (route_kind, route_name) in named {
            let Some(route) = objects.route(route_kind, route_ns, &route_name) else {
                verdicts.problems.push(
                    Problem::error(
                        label(rollout),
                        format!("spec.strategy.canary.trafficRouting.plugins.{ROLLOUTS_PLUGIN}"),
                        format!("{route_kind} {route_ns}/{route_name} is not in the manifests, so the plugin has nothing to shift"),
                    )
                    .with_hint("name the route that carries the traffic, and its namespace"),
                );
                continue;
            };
            let rules = route.backend_refs();
            let both: Vec<String> = rules
                .iter()
                .filter(|(_, refs)| {
                    let names: Vec<&str> = refs.iter().map(|b| b.name.as_str()).collect();
                    names.contains(&stable) && names.contains(&canary)
                })
                .map(|(i, _)| format!("rules[{i}]"))
                .collect();
            for (i, refs) in &rules {
                if let [only] = refs {
                    if only.name == canary {
                        verdicts.problems.push(
                            Problem::warning(
                                route.label(),
                                format!("spec.rules[{i}]"),
                                format!("sends only to the canary {canary}, so Argo Rollouts' Gateway API plugin ({}) takes it for one of its own header routes: it never reweights the rule, and deletes it when it removes its managed routes", label(rollout)),
                            )
                            .with_hint("drop the rule and let the rollout add it (a setHeaderRoute step, named under managedRoutes), or route it to a Service the rollout does not manage"),
                        );
                    }
                }
            }
            if both.is_empty() {
                verdicts.problems.push(
                    Problem::error(
                        label(rollout),
                        format!("spec.strategy.canary.trafficRouting.plugins.{ROLLOUTS_PLUGIN}"),
                        format!("no rule of {route_kind} {} has both {stable} and {canary} as backendRefs, so the plugin finds nothing to reweight", route.metadata().key()),
                    )
                    .with_hint(format!("add {canary} with weight: 0 beside {stable} in the rules the rollout should shift")),
                );
            } else {
                verdicts.notes.push(format!(
                    "{}: Argo Rollouts' Gateway API plugin sets the weights of {stable} and {canary} in {route_kind} {} {} at each step; gatewasm routes each step as written (testdata/cases/rollouts/)",
                    label(rollout),
                    route.metadata().key(),
                    both.join(", ")
                ));
            }
        }
    }
}

// === GatewayClass parametersRef ConfigMap ===

fn class_parameters(manifests: &Manifests, verdicts: &mut Verdicts) {
    for class in manifests
        .others
        .iter()
        .filter(|o| kind(o) == "GatewayClass")
    {
        let Some(params) = class.pointer("/spec/parametersRef") else {
            continue;
        };
        if str_at(params, "/kind") != Some("ConfigMap") {
            continue;
        }
        let params_ns = str_at(params, "/namespace").unwrap_or("default");
        let params_name = str_at(params, "/name").unwrap_or("");
        let Some(map) = manifests.others.iter().find(|o| {
            kind(o) == "ConfigMap" && name(o) == params_name && namespace(o) == params_ns
        }) else {
            continue;
        };
        let keys: Vec<&str> = map
            .get("data")
            .and_then(Value::as_object)
            .map(|d| d.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let pool = str_at(map, "/data/proxy-config").is_some();
        let mut problem = Problem::warning(
            label(map),
            "data",
            format!(
                "GatewayClass {} points its parametersRef here, but Istio's gateway customization ConfigMaps hold only {}, none of these keys ({}): the connection pool and outlier detection take no effect in Istio",
                name(class),
                ISTIO_CUSTOMIZATION.join(", "),
                keys.join(", ")
            ),
        );
        if pool {
            problem = problem.with_hint("in Istio, write connectionPool and outlierDetection in a DestinationRule's trafficPolicy for each backend Service (proxy concurrency goes in the Gateway's ProxyConfig); `host-sim config --format envoy` turns proxy-config into every cluster's circuit_breakers and outlier_detection");
        }
        verdicts.problems.push(problem);
    }
}

// === MultiClusterService clusterBackends ===

/// A MultiClusterService's `clusterBackends` as gatewasm's ClusterSplit and the backendRef that
/// names it, or `None` when it lists no clusters.
pub(super) fn cluster_split_translation(service: &Value, manifests: &Manifests) -> Option<String> {
    let clusters: Vec<Value> = array_at(service, "/spec/clusterBackends")
        .iter()
        .map(|c| {
            json!({
                "name": str_at(c, "/cluster").unwrap_or(""),
                "weight": c.get("weight").cloned().unwrap_or(json!(1)),
            })
        })
        .collect();
    if clusters.is_empty() {
        return None;
    }
    let import = str_at(service, "/spec/serviceImport/name").unwrap_or(name(service));
    let split_name = format!("{import}-clusters");
    let port = manifests
        .resources
        .iter()
        .find(|o| {
            kind(o) == "ServiceImport" && name(o) == import && namespace(o) == namespace(service)
        })
        .and_then(|o| o.pointer("/spec/ports/0/port").cloned())
        .unwrap_or(json!(8080));
    let split = json!({
        "apiVersion": format!("{GATEWASM_GROUP}/v1alpha1"),
        "kind": "ClusterSplit",
        "metadata": {"name": split_name, "namespace": namespace(service)},
        "spec": {"clusters": clusters},
    });
    let backend = json!({
        "group": "multicluster.x-k8s.io",
        "kind": "ServiceImport",
        "name": import,
        "port": port,
        "filters": [{"type": "ExtensionRef", "extensionRef": {"group": GATEWASM_GROUP, "kind": "ClusterSplit", "name": split_name}}],
    });
    Some(format!(
        "gatewasm splits a backend across clusters with its own ClusterSplit object (not a Gateway API kind): create {} and route to {}; `host-sim config --format istio` writes the DestinationRule subsets (topology.istio.io/cluster) those clusters need",
        flow(&split),
        flow(&backend)
    ))
}

// === everything else ===

/// Why `check` does not use an object of a kind it knows about, or `None`.
fn reason(object: &Value) -> Option<&'static str> {
    Some(match kind(object) {
        "ConfigMap" => "a ConfigMap that no GatewayClass parametersRef names",
        "VirtualService" | "DestinationRule" | "EnvoyFilter" | "WasmPlugin" | "ServiceEntry" => {
            "Istio configuration: Istio applies it, gatewasm does not read it"
        }
        "Deployment" | "StatefulSet" | "DaemonSet" | "Pod" | "ReplicaSet" | "Job" => {
            "a workload, not routing configuration"
        }
        "Rollout" => "an Argo Rollouts object: the rollouts controller acts on it, not the proxy",
        "ServiceAccount" | "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding" => {
            "access control, not routing configuration"
        }
        _ => return None,
    })
}

fn unread(manifests: &Manifests, verdicts: &mut Verdicts) {
    let read_elsewhere = [
        "GatewayClass",
        "Secret",
        "ServiceExport",
        "MultiClusterService",
        "Sidecar",
    ];
    let parameters: Vec<String> = manifests
        .others
        .iter()
        .filter(|o| kind(o) == "GatewayClass")
        .filter_map(|c| {
            let p = c.pointer("/spec/parametersRef")?;
            Some(format!(
                "{}/{}",
                str_at(p, "/namespace").unwrap_or("default"),
                str_at(p, "/name")?
            ))
        })
        .collect();
    let mut plain = Vec::new();
    for object in &manifests.others {
        if read_elsewhere.contains(&kind(object))
            || (kind(object) == "ConfigMap" && parameters.contains(&key(object)))
        {
            continue;
        }
        let lower = kind(object).to_ascii_lowercase();
        let looks_routing = ROUTING_WORDS.iter().find(|w| lower.contains(*w));
        if let Some(word) = looks_routing {
            verdicts.problems.push(
                Problem::warning(
                    label(object),
                    "kind",
                    format!("{} is not a kind gatewasm or Gateway API reads, though its name speaks of {word}: it changes no routing", kind(object)),
                )
                .with_hint("express it with Gateway API: backendRef weights, RequestMirror, a rule's retry and timeouts, or a BackendTrafficPolicy"),
            );
            continue;
        }
        if kind(object) != "Rollout" {
            let why = reason(object).unwrap_or("not routing configuration gatewasm knows");
            plain.push(format!("{} ({why})", label(object)));
        }
    }
    // An Ingress's annotations are ingress-nginx's, which the filter serves itself.
    let annotated = manifests.resources.iter().chain(&manifests.others);
    for object in annotated.filter(|o| kind(o) != "Ingress") {
        let Some(annotations) = object
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        else {
            continue;
        };
        let routing: Vec<&String> = annotations
            .keys()
            .filter(|a| *a != "istio.io/traffic-mirror")
            .filter(|a| {
                let lower = a.to_ascii_lowercase();
                ROUTING_WORDS.iter().any(|w| lower.contains(w))
            })
            .collect();
        if routing.is_empty() {
            continue;
        }
        let names: Vec<&str> = routing.iter().map(|a| a.as_str()).collect();
        verdicts.problems.push(
            Problem::warning(
                label(object),
                "metadata.annotations",
                format!(
                    "{} {} routing, but gatewasm reads no annotations and Gateway API defines none: under gatewasm {} nothing",
                    names.join(", "),
                    if names.len() == 1 { "looks like" } else { "look like" },
                    if names.len() == 1 { "it changes" } else { "they change" }
                ),
            )
            .with_hint("express it with Gateway API: backendRef weights, RequestMirror, a rule's retry and timeouts, or a BackendTrafficPolicy"),
        );
    }
    if !plain.is_empty() {
        verdicts
            .notes
            .push(format!("not read: {}", plain.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{flow, verdicts};
    use crate::manifests::Manifests;
    use crate::objects::Objects;

    #[test]
    fn flow_style_quotes_only_what_needs_it() {
        assert_eq!(
            flow(&json!({"a": "b-c", "n": 10, "s": "10", "t": "x: y", "l": ["true", "ok"]})),
            r#"{a: b-c, l: ["true", ok], n: 10, s: "10", t: "x: y"}"#
        );
    }

    #[test]
    fn a_kind_that_sounds_like_routing_is_a_warning() {
        let mut m = Manifests::default();
        m.add_yaml("kind: CanaryRelease\nmetadata: {name: c, namespace: app}\n---\nkind: Deployment\nmetadata: {name: d, namespace: app}\n")
            .unwrap();
        let v = verdicts(&m, &Objects::read(&m.resources).unwrap());
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert!(v.problems[0]
            .to_string()
            .contains("CanaryRelease app/c: kind:"));
        assert_eq!(
            v.notes,
            ["not read: Deployment app/d (a workload, not routing configuration)"]
        );
    }
}
