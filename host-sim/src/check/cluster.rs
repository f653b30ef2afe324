//! Checks of manifests that belong to the cluster rather than to the filter: what the API server
//! and a Gateway controller would say before a single request reaches gatewasm.
//!
//! The filter sees one Gateway (or the mesh) and the routes that name it; it cannot know whether
//! a GatewayClass exists (seed troubleshooting row 1), whose controller it names (row 2), whether
//! a route's or ListenerSet's parentRef names a Gateway that is not there at all (row 3),
//! whether Gateway and ListenerSet listener certificates resolve (row 4, pitfall 3), whether pods get a sidecar (row 8) or whether multi-cluster
//! objects can have endpoints (row 9, pitfall 5). These checks read the Gateway API objects
//! through the core's reader and the cluster's own objects as written, and flag weights written as percentages (pitfall 4). Routing itself — attachment, rules,
//! backends — is the core's compile, which `report` runs and merges with these findings.

use std::collections::{BTreeMap, BTreeSet};

use gatewasm_core::config::{ParentRef, GATEWAY_GROUP};
use gatewasm_core::Problem;
use serde_json::Value;

use crate::manifests::Manifests;
use crate::objects::Objects;
use crate::written::{array_at, group, key, kind, label, name, namespace, of_kind, str_at};

/// Istio's controllerName.
const ISTIO_CONTROLLER: &str = "istio.io/gateway-controller";
/// GatewayClasses Istio creates itself once the Gateway API CRDs are installed.
const ISTIO_CLASSES: [&str; 3] = ["istio", "istio-remote", "istio-waypoint"];
/// The Kubernetes Multi-Cluster Services API group (ServiceImport, ServiceExport).
const MCS_GROUP: &str = "multicluster.x-k8s.io";

/// What the cluster-side checks found.
#[derive(Debug, Default)]
pub(super) struct Diagnosis {
    /// Problems, each with a fix.
    pub(super) problems: Vec<Problem>,
    /// Every GatewayClass in the manifests, in order.
    pub(super) classes: Vec<ClassState>,
    /// Gateways (`namespace/name`) that no controller gatewasm runs under picks up, and why.
    pub(super) pending: BTreeMap<String, String>,
    /// Listener certificates that do not resolve: (`Gateway ns/name` or `ListenerSet ns/name`,
    /// listener name) → (`ResolvedRefs` reason, message).
    pub(super) certificates: BTreeMap<(String, String), (&'static str, String)>,
    /// Assumptions that are not problems: what the cluster must provide beyond the manifests.
    pub(super) notes: Vec<String>,
}

/// One GatewayClass and whether gatewasm's controller handles it.
#[derive(Debug)]
pub(super) struct ClassState {
    /// Class name.
    pub(super) name: String,
    /// `spec.controllerName`.
    pub(super) controller: String,
    /// Whether the controller is one gatewasm runs under.
    pub(super) ours: bool,
}

/// Runs every cluster-side check. `controllers` are the controllerNames gatewasm runs under.
pub(super) fn diagnose(
    manifests: &Manifests,
    objects: &Objects<'_>,
    controllers: &[String],
) -> Diagnosis {
    let mut diagnosis = Diagnosis::default();
    gateway_classes(manifests, objects, controllers, &mut diagnosis);
    certificates(manifests, objects, &mut diagnosis);
    gateway_parents(objects, &mut diagnosis.problems);
    multi_cluster(manifests, &mut diagnosis.problems);
    injection(objects, &mut diagnosis.problems);
    weights(objects, &mut diagnosis.problems);
    super::sidecar_scope::check(manifests, objects, &mut diagnosis.problems);
    diagnosis
}

// === rows 1 and 2: GatewayClass ===

fn gateway_classes(
    manifests: &Manifests,
    objects: &Objects<'_>,
    controllers: &[String],
    diagnosis: &mut Diagnosis,
) {
    for class in of_kind(&manifests.others, "GatewayClass") {
        let controller = str_at(class, "/spec/controllerName")
            .unwrap_or("")
            .to_owned();
        let ours = controllers.contains(&controller);
        if !ours {
            let users: Vec<String> = objects
                .gateways()
                .filter(|g| g.spec.gateway_class_name == name(class))
                .map(|g| g.metadata.key())
                .collect();
            let consequence = if users.is_empty() {
                String::new()
            } else {
                format!(", so Gateway {} stays Pending", users.join(", "))
            };
            diagnosis.problems.push(
                Problem::error(
                    label(class),
                    "spec.controllerName",
                    format!(
                        "{controller:?} is not the controller gatewasm runs under ({}); no controller accepts this class{consequence}",
                        controllers.join(", ")
                    ),
                )
                .with_hint(format!(
                    "set controllerName: {} (`kubectl get gatewayclass` shows the registered controller), or pass --controller {controller} if gatewasm runs under it",
                    controllers.first().map_or(ISTIO_CONTROLLER, String::as_str)
                )),
            );
        }
        diagnosis.classes.push(ClassState {
            name: name(class).to_owned(),
            controller,
            ours,
        });
    }
    // Classes the manifests do not define: checked only when they define some (a class is
    // usually installed with the controller, not applied with the routes).
    let checked = !diagnosis.classes.is_empty();
    let mut unchecked: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for gateway in objects.gateways() {
        let class_name = gateway.spec.gateway_class_name.as_str();
        let (label, key) = (gateway.metadata.label("Gateway"), gateway.metadata.key());
        if class_name.is_empty() {
            diagnosis.problems.push(
                Problem::error(
                    label,
                    "spec.gatewayClassName",
                    "is required; no controller picks up a Gateway without a class",
                )
                .with_hint(
                    "name the GatewayClass of your controller, e.g. gatewayClassName: istio",
                ),
            );
            diagnosis
                .pending
                .insert(key, "no gatewayClassName".to_owned());
            continue;
        }
        match diagnosis.classes.iter().find(|c| c.name == class_name) {
            Some(class) if class.ours => {}
            Some(class) => {
                diagnosis.pending.insert(
                    key.clone(),
                    format!(
                        "Waiting for controller: GatewayClass {class_name} belongs to {}",
                        class.controller
                    ),
                );
            }
            None if !checked || istio_made(class_name, controllers) => {
                unchecked.entry(class_name).or_default().push(key.clone());
            }
            None => {
                let known: Vec<&str> = diagnosis.classes.iter().map(|c| c.name.as_str()).collect();
                let hint = match closest(class_name, &known) {
                    Some(near) => format!("did you mean gatewayClassName: {near}?"),
                    None => "create the GatewayClass, or name an installed one (`kubectl get gatewayclass`); without the Gateway API CRDs and a controller there is none".to_owned(),
                };
                diagnosis.problems.push(
                    Problem::error(
                        label,
                        "spec.gatewayClassName",
                        format!("GatewayClass {class_name} not found in the manifests; no controller accepts this Gateway, so it stays Pending and none of its routes serve"),
                    )
                    .with_hint(hint),
                );
                diagnosis.pending.insert(
                    key.clone(),
                    format!("Waiting for controller: GatewayClass {class_name} not found"),
                );
            }
        }
    }
    for (class_name, users) in unchecked {
        let origin = if istio_made(class_name, controllers) {
            "Istio creates it when the Gateway API CRDs are installed and its Gateway API support is on"
        } else {
            "it must be installed in the cluster"
        };
        diagnosis.notes.push(format!(
            "GatewayClass {class_name} (Gateway {}) is not in the manifests: {origin}; `kubectl get gatewayclass {class_name}` should show ACCEPTED True",
            users.join(", ")
        ));
    }
}

/// Whether Istio creates this GatewayClass itself, and gatewasm runs under Istio.
fn istio_made(class_name: &str, controllers: &[String]) -> bool {
    ISTIO_CLASSES.contains(&class_name) && controllers.iter().any(|c| c == ISTIO_CONTROLLER)
}

// === row 4, pitfall 3: listener certificates ===

/// Certificates of Gateway and ListenerSet listeners. Each object needs its own ReferenceGrant
/// for Secrets elsewhere: a ListenerSet does not inherit its Gateway's (reference §8.6).
fn certificates(manifests: &Manifests, objects: &Objects<'_>, diagnosis: &mut Diagnosis) {
    let secrets: Vec<&Value> = of_kind(&manifests.others, "Secret").collect();
    for (owner_kind, owner, listeners) in objects.listener_owners() {
        let gateway_ns = owner.namespace();
        let owner_label = owner.label(owner_kind);
        for (i, listener) in listeners.iter().enumerate() {
            let listener_name = listener.name.as_str();
            let certificates = listener.tls.iter().flat_map(|tls| tls.certificates());
            for (j, cert) in certificates {
                let field = format!("spec.listeners[{i}].tls.certificateRefs[{j}]");
                let (cert_group, cert_kind) = (cert.group(), cert.kind());
                let cert_name = cert.name.as_str();
                let cert_ns = cert.namespace(gateway_ns);
                let found = if (cert_group, cert_kind) != ("", "Secret") {
                    Some((
                        "InvalidCertificateRef",
                        format!("refers to a {cert_kind} of group {cert_group:?}, not a Secret"),
                        "certificateRefs name Secrets of type kubernetes.io/tls (group \"\", kind Secret)".to_owned(),
                    ))
                } else if cert_ns != gateway_ns
                    && !objects.grants().any(|g| {
                        g.metadata.namespace() == cert_ns
                            && g.permits(
                                (GATEWAY_GROUP, owner_kind, gateway_ns),
                                ("", "Secret", cert_name),
                            )
                    })
                {
                    Some((
                        "RefNotPermitted",
                        format!(
                            "Secret {cert_ns}/{cert_name} is in another namespace and no ReferenceGrant in {cert_ns} lets {owner_kind}s from {gateway_ns} use it; listener {listener_name} has no certificate"
                        ),
                        format!(
                            "add a ReferenceGrant in namespace {cert_ns} (from: {owner_kind} in {gateway_ns}, to: Secret {cert_name}), or issue the certificate into namespace {gateway_ns}"
                        ),
                    ))
                } else if secrets.is_empty() {
                    None
                } else {
                    match secrets.iter().find(|s| namespace(s) == cert_ns && name(s) == cert_name) {
                        None => Some((
                            "InvalidCertificateRef",
                            format!("Secret {cert_ns}/{cert_name} is not in the manifests; listener {listener_name} has no certificate"),
                            format!("create it (kubectl create secret tls {cert_name} -n {cert_ns} --cert=... --key=...) or fix the name"),
                        )),
                        Some(secret) if !is_tls_secret(secret) => Some((
                            "InvalidCertificateRef",
                            format!("Secret {cert_ns}/{cert_name} holds no key pair (tls.crt and tls.key)"),
                            "recreate it with kubectl create secret tls".to_owned(),
                        )),
                        Some(_) => None,
                    }
                };
                if let Some((reason, message, hint)) = found {
                    diagnosis
                        .problems
                        .push(Problem::error(&owner_label, field, &message).with_hint(hint));
                    diagnosis
                        .certificates
                        .entry((owner_label.clone(), listener_name.to_owned()))
                        .or_insert((reason, message));
                }
            }
        }
    }
}

/// Whether a Secret carries a key pair: `tls.crt` and `tls.key` (or Istio's `cert` and `key`).
fn is_tls_secret(secret: &Value) -> bool {
    let has = |field: &str| {
        ["data", "stringData"]
            .iter()
            .any(|map| secret.get(map).and_then(|m| m.get(field)).is_some())
    };
    (has("tls.crt") && has("tls.key")) || (has("cert") && has("key"))
}

// === row 3: parentRefs (of routes and ListenerSets) to Gateways that are not there ===

fn gateway_parents(objects: &Objects<'_>, problems: &mut Vec<Problem>) {
    let known: Vec<String> = objects.gateways().map(|g| g.metadata.key()).collect();
    for route in objects.routes() {
        let route_ns = route.metadata().namespace();
        let parents = route.parent_refs();
        if parents.is_empty() {
            problems.push(
                Problem::error(route.label(), "spec.parentRefs", "the route names no parent, so no Gateway accepts it")
                    .with_hint("add a parentRef to the Gateway (or, in a mesh, the Service) that should serve it"),
            );
            continue;
        }
        for (i, parent) in parents.iter().enumerate() {
            if !parent.is_gateway() {
                continue;
            }
            let wanted = format!("{}/{}", parent.namespace(route_ns), parent.name);
            if known.contains(&wanted) {
                continue;
            }
            let field = format!("spec.parentRefs[{i}]");
            if known.is_empty() {
                problems.push(Problem::warning(
                    route.label(),
                    field,
                    format!("Gateway {wanted} is not in the manifests; attachment to it was not checked"),
                ));
                continue;
            }
            let hint = missing_gateway_hint(&known, parent, &wanted, "route's", route_ns);
            problems.push(
                Problem::error(
                    route.label(),
                    field,
                    format!("Gateway {wanted} does not exist, so it does not accept the route"),
                )
                .with_hint(hint),
            );
        }
    }
    for set in objects.listener_sets() {
        let parent = &set.spec.parent_ref;
        let set_ns = set.metadata.namespace();
        let wanted = format!("{}/{}", parent.namespace(set_ns), parent.name);
        if !parent.is_gateway() || known.contains(&wanted) {
            continue;
        }
        let hint = missing_gateway_hint(&known, parent, &wanted, "ListenerSet's", set_ns);
        problems.push(
            Problem::error(
                set.metadata.label("ListenerSet"),
                "spec.parentRef",
                format!(
                    "Gateway {wanted} is not in the manifests, so nothing serves these listeners"
                ),
            )
            .with_hint(hint),
        );
    }
}

/// How to fix a reference to Gateway `wanted` (`ns/name`) that the manifests lack: the namespace
/// of a Gateway with that name, or the nearest name. `whose`/`own_ns`: the referring object.
fn missing_gateway_hint(
    known: &[String],
    parent: &ParentRef,
    wanted: &str,
    whose: &str,
    own_ns: &str,
) -> String {
    let gateway_name = parent.name.as_str();
    let same_name: Vec<&String> = known
        .iter()
        .filter(|k| k.rsplit_once('/').is_some_and(|(_, n)| n == gateway_name))
        .collect();
    if let [other] = same_name.as_slice() {
        let other_ns = other.split_once('/').map_or("", |(n, _)| n);
        if parent.namespace.is_none() {
            format!("Gateway {gateway_name} is in namespace {other_ns}: add namespace: {other_ns} (a parentRef without namespace means the {whose} own namespace, {own_ns})")
        } else {
            format!("Gateway {gateway_name} is in namespace {other_ns}: set namespace: {other_ns}")
        }
    } else {
        let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
        match closest(wanted, &candidates) {
            Some(near) => format!("did you mean Gateway {near}?"),
            None if known.is_empty() => {
                "add the Gateway to the manifests, or fix the parentRef".to_owned()
            }
            None => format!("the manifests define Gateway {}", known.join(", ")),
        }
    }
}

// === row 9, pitfall 5: multi-cluster objects ===

fn multi_cluster(manifests: &Manifests, problems: &mut Vec<Problem>) {
    let exports: BTreeSet<String> = manifests
        .others
        .iter()
        .filter(|o| kind(o) == "ServiceExport")
        .map(key)
        .collect();
    for import in of_kind(&manifests.resources, "ServiceImport") {
        if group(import) != MCS_GROUP {
            problems.push(
                Problem::warning(
                    label(import),
                    "apiVersion",
                    format!(
                        "ServiceImport is not served by {:?}; the API server refuses the object (no matches for kind ServiceImport), so backendRefs to it get 500 in the cluster",
                        import.get("apiVersion").and_then(Value::as_str).unwrap_or("")
                    ),
                )
                .with_hint(format!("use apiVersion: {MCS_GROUP}/v1alpha1, and backendRefs with group: {MCS_GROUP}, kind: ServiceImport")),
            );
        }
        if import.pointer("/spec/resolution").is_some() {
            problems.push(
                Problem::warning(label(import), "spec.resolution", "not a ServiceImport field (it belongs to Istio's ServiceEntry); it does nothing here")
                    .with_hint("remove it: a ServiceImport is resolved through the MCS controller's clusterset.local DNS"),
            );
        }
        let exported =
            exports.contains(&key(import)) || !array_at(import, "/status/clusters").is_empty();
        if !exported {
            problems.push(
                Problem::warning(
                    label(import),
                    "",
                    format!(
                        "no ServiceExport {} in the manifests and no status.clusters: no cluster exports this service, so its endpoints are empty",
                        key(import)
                    ),
                )
                .with_hint(format!(
                    "create ServiceExport {} in every cluster that runs the Service (the MCS controller then writes the ServiceImport), and check that the clusters' control planes and east-west gateways reach each other",
                    key(import)
                )),
            );
        }
    }
    for service in of_kind(&manifests.others, "MultiClusterService") {
        if group(service) == GATEWAY_GROUP {
            let split = super::verdicts::cluster_split_translation(service, manifests)
                .map_or_else(String::new, |s| format!("; {s}"));
            problems.push(
                Problem::warning(
                    label(service),
                    "apiVersion",
                    "MultiClusterService is not a Gateway API kind; the API server refuses the object (no matches for kind), and gatewasm does not read it",
                )
                .with_hint(format!(
                    "export the Service with a ServiceExport and route to its ServiceImport (backendRef group: {MCS_GROUP}, kind: ServiceImport){split}"
                )),
            );
        }
    }
}

// === row 8: sidecar injection ===

fn injection(objects: &Objects<'_>, problems: &mut Vec<Problem>) {
    let namespaces = objects.namespace_labels();
    let mut seen = BTreeSet::new();
    for route in objects.routes() {
        let route_ns = route.metadata().namespace();
        let mesh = route.parent_refs().iter().find(|p| p.is_service());
        let (Some(parent), Some(labels)) = (mesh, namespaces.get(route_ns)) else {
            continue;
        };
        if !seen.insert(route_ns) {
            continue;
        }
        let label_value = |k: &str| labels.get(k).map(String::as_str);
        if label_value("istio-injection") == Some("enabled")
            || label_value("istio.io/rev").is_some()
        {
            continue;
        }
        let service = format!("{}/{}", parent.namespace(route_ns), parent.name);
        let why = if label_value("istio.io/dataplane-mode") == Some("ambient") {
            "is in ambient mode: its pods have no sidecar".to_owned()
        } else {
            match label_value("istio-injection") {
                Some(value) => format!("has istio-injection={value}: its pods get no sidecar"),
                None => "has no istio-injection=enabled label: its pods get no sidecar".to_owned(),
            }
        };
        problems.push(
            Problem::warning(
                format!("Namespace {route_ns}"),
                "metadata.labels",
                format!("namespace {route_ns} {why}, so gatewasm, which runs in the calling pod's sidecar, never sees requests to Service {service} (HTTPRoute rules there do nothing)"),
            )
            .with_hint(format!("kubectl label namespace {route_ns} istio-injection=enabled (or istio.io/rev=REVISION), then restart its pods")),
        );
    }
}

// === pitfall 4: weights written as percentages ===

fn weights(objects: &Objects<'_>, problems: &mut Vec<Problem>) {
    for route in objects.routes() {
        for (i, refs) in route.backend_refs() {
            let weights: Vec<(&str, u64)> = refs
                .iter()
                .map(|b| (b.name.as_str(), b.weight.map_or(1, u64::from)))
                .collect();
            let sum: u64 = weights.iter().map(|(_, w)| w).sum();
            if weights.len() < 2 || sum <= 100 || weights.iter().any(|(_, w)| *w > 100) {
                continue;
            }
            let written: Vec<String> = weights.iter().map(|(_, w)| w.to_string()).collect();
            let shares: Vec<String> = weights
                .iter()
                .map(|(n, w)| format!("{n} {:.1}%", *w as f64 * 100.0 / sum as f64))
                .collect();
            problems.push(
                Problem::warning(
                    route.label(),
                    format!("spec.rules[{i}].backendRefs"),
                    format!(
                        "weights {} add up to {sum}, not 100; weights are relative, so the split is {}",
                        written.join(" + "),
                        shares.join(", ")
                    ),
                )
                .with_hint("make them add up to 100 if they are meant as percentages"),
            );
        }
    }
}

// === suggestions ===

/// The candidate nearest to `wanted` by edit distance, if it is a plausible typo or
/// abbreviation (one name starts with the other).
pub(super) fn closest<'a>(wanted: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(wanted, c), *c))
        .filter(|&(d, c)| {
            d > 0 && (d <= 3.max(c.len() / 4) || c.starts_with(wanted) || wanted.starts_with(c))
        })
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let value = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(left + 1);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = value;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{closest, diagnose, edit_distance};
    use crate::manifests::Manifests;
    use crate::objects::Objects;

    fn run(yaml: &str) -> Vec<String> {
        let mut m = Manifests::default();
        m.add_yaml(yaml).unwrap();
        diagnose(
            &m,
            &Objects::read(&m.resources).unwrap(),
            &["istio.io/gateway-controller".to_owned()],
        )
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    const GATEWAY: &str = "kind: Gateway\nmetadata: {name: gw, namespace: infra}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n";

    #[test]
    fn typos_get_the_nearest_name() {
        assert_eq!(edit_distance("istio-prod", "istio-production"), 6);
        assert_eq!(
            closest("main-gatway", &["main-gateway", "other"]),
            Some("main-gateway")
        );
        assert_eq!(
            closest("istio-prod", &["istio-production"]),
            Some("istio-production")
        );
        assert_eq!(closest("x", &["main-gateway"]), None);
        assert_eq!(closest("same", &["same"]), None);
    }

    #[test]
    fn a_missing_class_is_an_error_only_among_defined_classes() {
        let class = "kind: GatewayClass\nmetadata: {name: istio-production}\nspec: {controllerName: istio.io/gateway-controller}\n---\n";
        let problems = run(&format!(
            "{class}{}",
            GATEWAY.replace("istio", "istio-prod")
        ));
        assert!(
            problems[0].contains("GatewayClass istio-prod not found"),
            "{problems:?}"
        );
        assert!(run(&GATEWAY.replace("istio", "istio-prod")).is_empty());
        assert!(run(GATEWAY).is_empty());
    }

    #[test]
    fn a_class_of_another_controller_leaves_its_gateways_pending() {
        let yaml = format!("kind: GatewayClass\nmetadata: {{name: istio}}\nspec: {{controllerName: example.com/other}}\n---\n{GATEWAY}");
        let mut m = Manifests::default();
        m.add_yaml(&yaml).unwrap();
        let objects = Objects::read(&m.resources).unwrap();
        let d = diagnose(&m, &objects, &["istio.io/gateway-controller".to_owned()]);
        assert!(
            d.problems[0]
                .to_string()
                .contains("Gateway infra/gw stays Pending"),
            "{:?}",
            d.problems
        );
        assert!(d.pending.contains_key("infra/gw"));
    }

    #[test]
    fn cross_namespace_certificates_need_a_grant() {
        let gateway = "kind: Gateway\nmetadata: {name: gw, namespace: infra}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c, namespace: certs}]}}]\n";
        let problems = run(gateway);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("no ReferenceGrant in certs")),
            "{problems:?}"
        );
        let grant = "kind: ReferenceGrant\nmetadata: {name: g, namespace: certs}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]\n  to: [{group: \"\", kind: Secret}]\n";
        let problems = run(&format!("{gateway}---\n{grant}"));
        assert!(
            !problems.iter().any(|p| p.contains("ReferenceGrant")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_listener_set_needs_its_own_certificate_grant() {
        let set = "kind: ListenerSet\nmetadata: {name: ls, namespace: team}\nspec:\n  parentRef: {name: gw, namespace: infra}\n  listeners: [{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c, namespace: certs}]}}]\n";
        let grant = |kind: &str| {
            format!("kind: ReferenceGrant\nmetadata: {{name: g, namespace: certs}}\nspec:\n  from: [{{group: gateway.networking.k8s.io, kind: {kind}, namespace: team}}]\n  to: [{{group: \"\", kind: Secret}}]\n")
        };
        let problems = run(&format!("{set}---\n{}", grant("Gateway")));
        assert!(
            problems.iter().any(|p| p.contains(
                "ListenerSet team/ls: spec.listeners[0].tls.certificateRefs[0]: Secret certs/c is in another namespace and no ReferenceGrant in certs lets ListenerSets from team use it"
            )),
            "a grant for Gateways does not cover ListenerSets: {problems:?}"
        );
        let problems = run(&format!("{set}---\n{}", grant("ListenerSet")));
        assert!(
            !problems.iter().any(|p| p.contains("ReferenceGrant")),
            "{problems:?}"
        );
    }

    #[test]
    fn weights_over_100_show_the_real_split() {
        let route = "kind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  rules: [{backendRefs: [{name: a, port: 80, weight: 80}, {name: b, port: 80, weight: 30}]}]\n";
        let problems = run(&format!("{GATEWAY}---\n{route}"));
        assert!(
            problems.iter().any(|p| p.contains("a 72.7%, b 27.3%")),
            "{problems:?}"
        );
    }
}
