//! Status of each object from the core's own compile: once per Gateway in the manifests, and in
//! mesh mode when routes name Services, so it is exactly what the filter will do; listener
//! certificates the cluster-side checks found unresolved are folded in.
//!
//! The conditions themselves are the core's; this file places them on the objects as written.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use gatewasm_core::{Compiled, ListenerStatus, Status};
use serde_json::Value;

use super::cluster::Diagnosis;
use super::model::{
    set, Cond, GatewayReport, ListenerReport, ListenerSetReport, ParentRefReport, ParentReport,
    RouteReport,
};
use super::objects::{
    self, array_at, key, kind, label, name, namespace, parent_ref_target, str_at,
};
use crate::deploy::MeshTarget;
use crate::manifests::Manifests;

/// One compile per Gateway, plus mesh mode (in `target` mode) when routes name Services: once
/// for producer routes, and once per namespace whose consumer routes name another namespace's
/// Service.
pub(super) fn compile_all(
    manifests: &Manifests,
    target: MeshTarget,
) -> Result<Vec<(Option<String>, Compiled)>> {
    let mut configs: Vec<Value> = manifests
        .gateways()
        .iter()
        .map(|g| manifests.plugin_config(Some(g), None))
        .collect();
    let mut mesh_namespaces: BTreeSet<Option<&str>> = BTreeSet::new();
    for route in objects::routes(manifests) {
        for parent in array_at(route, "/spec/parentRefs") {
            let (group, kind, ns) = parent_ref_target(parent, namespace(route));
            if (group, kind) == ("", "Service") {
                mesh_namespaces.insert(None);
                if ns != namespace(route) {
                    mesh_namespaces.insert(Some(namespace(route)));
                }
            }
        }
    }
    let ingresses = manifests
        .resources
        .iter()
        .any(|o| o.get("kind").and_then(Value::as_str) == Some("Ingress"));
    if ingresses && configs.is_empty() {
        mesh_namespaces.insert(None);
    }
    for ns in mesh_namespaces {
        let target = serde_json::to_value(target.plugin_target())?;
        let mut config = manifests.plugin_config(None, Some(&target));
        if let Some(ns) = ns {
            config["namespace"] = Value::from(ns);
        }
        configs.push(config);
    }
    configs
        .iter()
        .map(|config| {
            let gateway = config.get("gateway").and_then(Value::as_str);
            let what = gateway.map_or_else(|| "mesh mode".to_owned(), |g| format!("Gateway {g}"));
            let compiled = gatewasm_core::compile_bytes(&serde_json::to_vec(config)?)
                .with_context(|| format!("the configuration for {what} cannot be compiled"))?;
            Ok((gateway.map(str::to_owned), compiled))
        })
        .collect()
}

pub(super) fn gateway_report(
    gateway: &Value,
    statuses: &[&Status],
    diagnosis: &Diagnosis,
) -> GatewayReport {
    let gateway_key = key(gateway);
    let status = statuses
        .iter()
        .flat_map(|s| &s.gateways)
        .find(|g| g.namespace == namespace(gateway) && g.name == name(gateway));
    let mut conditions: Vec<Cond> = status
        .map(|s| s.conditions.iter().map(Cond::from_core).collect())
        .unwrap_or_default();
    let mut listeners = listener_reports(gateway, status.map(|s| s.listeners.as_slice()));
    certificate_status(gateway, &mut conditions, &mut listeners, diagnosis);
    if let Some(why) = diagnosis.pending.get(&gateway_key) {
        set(
            &mut conditions,
            Cond::new("Accepted", "Unknown", "Pending", why),
        );
        set(
            &mut conditions,
            Cond::new("Programmed", "Unknown", "Pending", why),
        );
    }
    GatewayReport {
        namespace: namespace(gateway).to_owned(),
        name: name(gateway).to_owned(),
        gateway_class_name: str_at(gateway, "/spec/gatewayClassName")
            .unwrap_or("")
            .to_owned(),
        conditions,
        listeners,
        attached_listener_sets: status.map_or(0, |s| s.attached_listener_sets),
    }
}

/// Listeners whose certificates do not resolve are not programmed (`ResolvedRefs` False with
/// `diagnose`'s reason), and their object (Gateway or ListenerSet) says so in `Accepted`.
pub(super) fn certificate_status(
    object: &Value,
    conditions: &mut Vec<Cond>,
    listeners: &mut [ListenerReport],
    diagnosis: &Diagnosis,
) {
    let object_label = label(object);
    let mut invalid = false;
    for listener in listeners.iter_mut() {
        let Some((reason, message)) = diagnosis
            .certificates
            .get(&(object_label.clone(), listener.name.clone()))
        else {
            continue;
        };
        invalid = true;
        set(
            &mut listener.conditions,
            Cond::new("ResolvedRefs", "False", reason, message),
        );
        set(
            &mut listener.conditions,
            Cond::new(
                "Programmed",
                "False",
                "Invalid",
                "the listener has no usable certificate",
            ),
        );
    }
    if !invalid {
        return;
    }
    let programmed = |l: &ListenerReport| {
        l.conditions
            .iter()
            .any(|c| c.kind == "Programmed" && c.status == "True")
    };
    if listeners.iter().any(programmed) {
        set(
            conditions,
            Cond::new(
                "Accepted",
                "True",
                "ListenersNotValid",
                "some listeners are invalid; the others serve",
            ),
        );
    } else {
        set(
            conditions,
            Cond::new(
                "Accepted",
                "False",
                "ListenersNotValid",
                "no listener can serve",
            ),
        );
        let reason = if kind(object) == "Gateway" {
            "Invalid"
        } else {
            "ListenersNotValid"
        };
        set(
            conditions,
            Cond::new("Programmed", "False", reason, "nothing to program"),
        );
    }
}

/// The listeners an object (Gateway or ListenerSet) declares, with the status its compile gave
/// each (matched by position, else by name).
pub(super) fn listener_reports(
    object: &Value,
    statuses: Option<&[ListenerStatus]>,
) -> Vec<ListenerReport> {
    array_at(object, "/spec/listeners")
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let listener_name = str_at(raw, "/name").unwrap_or("");
            let core = statuses.and_then(|s| {
                s.get(i)
                    .filter(|l| l.name == listener_name)
                    .or_else(|| s.iter().find(|l| l.name == listener_name))
            });
            ListenerReport {
                name: listener_name.to_owned(),
                port: raw.get("port").and_then(Value::as_f64).map(|p| p as u64),
                protocol: str_at(raw, "/protocol").unwrap_or("").to_owned(),
                hostname: str_at(raw, "/hostname").map(str::to_owned),
                attached_routes: core.map_or(0, |l| l.attached_routes),
                supported_kinds: core.map(|l| l.supported_kinds.clone()).unwrap_or_default(),
                conditions: core
                    .map(|l| l.conditions.iter().map(Cond::from_core).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// A ListenerSet's status from the compile of the Gateway it names; `Pending` when that
/// Gateway is not in the manifests, so nothing reconciles the set.
pub(super) fn listener_set_report(
    set: &Value,
    statuses: &[&Status],
    diagnosis: &Diagnosis,
) -> ListenerSetReport {
    let parent_ns = str_at(set, "/spec/parentRef/namespace")
        .filter(|ns| !ns.is_empty())
        .unwrap_or(namespace(set));
    let parent = format!(
        "{parent_ns}/{}",
        str_at(set, "/spec/parentRef/name").unwrap_or("")
    );
    let status = statuses
        .iter()
        .flat_map(|s| &s.listener_sets)
        .find(|s| s.namespace == namespace(set) && s.name == name(set));
    let mut conditions = match status {
        Some(status) => status.conditions.iter().map(Cond::from_core).collect(),
        None => {
            let why = format!("Waiting for controller: Gateway {parent} is not in the manifests");
            vec![
                Cond::new("Accepted", "Unknown", "Pending", &why),
                Cond::new("Programmed", "Unknown", "Pending", why),
            ]
        }
    };
    let mut listeners = match status {
        Some(s) if !s.listeners.is_empty() => listener_reports(set, Some(&s.listeners)),
        _ => Vec::new(),
    };
    certificate_status(set, &mut conditions, &mut listeners, diagnosis);
    ListenerSetReport {
        namespace: namespace(set).to_owned(),
        name: name(set).to_owned(),
        parent,
        conditions,
        listeners,
    }
}

pub(super) fn route_report(route: &Value, statuses: &[&Status]) -> RouteReport {
    let refs = array_at(route, "/spec/parentRefs");
    let mut parents: Vec<(usize, ParentReport)> = Vec::new();
    let mut seen = BTreeSet::new();
    let core = statuses.iter().flat_map(|s| &s.routes).filter(|r| {
        r.kind == kind(route) && r.namespace == namespace(route) && r.name == name(route)
    });
    for parent in core.flat_map(|r| &r.parents) {
        if !seen.insert((
            parent.parent.clone(),
            parent.section_name.clone(),
            parent.port,
        )) {
            continue;
        }
        let (parent_kind, parent_key) = parent
            .parent
            .split_once(' ')
            .unwrap_or(("", &parent.parent));
        let (parent_ns, parent_name) = parent_key.split_once('/').unwrap_or(("", parent_key));
        // Order parents as the route lists them.
        let position = refs
            .iter()
            .position(|r| {
                let (_, ref_kind, ref_ns) = parent_ref_target(r, namespace(route));
                ref_kind == parent_kind
                    && ref_ns == parent_ns
                    && str_at(r, "/name") == Some(parent_name)
                    && str_at(r, "/sectionName").map(str::to_owned) == parent.section_name
                    && r.get("port").and_then(Value::as_u64) == parent.port.map(u64::from)
            })
            .unwrap_or(usize::MAX);
        parents.push((
            position,
            ParentReport {
                parent_ref: ParentRefReport {
                    kind: parent_kind.to_owned(),
                    namespace: parent_ns.to_owned(),
                    name: parent_name.to_owned(),
                    section_name: parent.section_name.clone(),
                    port: parent.port,
                },
                conditions: parent.conditions.iter().map(Cond::from_core).collect(),
            },
        ));
    }
    parents.sort_by_key(|(position, _)| *position);
    RouteReport {
        kind: kind(route).to_owned(),
        namespace: namespace(route).to_owned(),
        name: name(route).to_owned(),
        parents: parents.into_iter().map(|(_, p)| p).collect(),
    }
}
