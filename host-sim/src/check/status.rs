//! Status of each object from the core's own compile: once per Gateway in the manifests, and in
//! mesh mode when routes name Services, so it is exactly what the filter will do; listener
//! certificates the cluster-side checks found unresolved are folded in.
//!
//! The conditions themselves are the core's; this file places them on the objects as written.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use gatewasm_core::config::{Gateway, Listener, ListenerSet, ObjectMeta, Route};
use gatewasm_core::{Compiled, ListenerStatus, Status};
use serde_json::Value;

use super::cluster::Diagnosis;
use super::model::{
    set, Cond, GatewayReport, ListenerReport, ListenerSetReport, ParentRefReport, ParentReport,
    RouteReport,
};
use crate::deploy::MeshTarget;
use crate::manifests::Manifests;
use crate::objects::Objects;

/// One compile per Gateway, plus mesh mode (in `target` mode) when routes name Services: once
/// for producer routes, and once per namespace whose consumer routes name another namespace's
/// Service.
pub(super) fn compile_all(
    manifests: &Manifests,
    objects: &Objects<'_>,
    target: MeshTarget,
) -> Result<Vec<(Option<String>, Compiled)>> {
    let mut configs: Vec<Value> = manifests
        .gateways()
        .iter()
        .map(|g| manifests.plugin_config(Some(g), None))
        .collect();
    let mut mesh_namespaces: BTreeSet<Option<&str>> = BTreeSet::new();
    for route in objects.routes() {
        let route_ns = route.metadata().namespace();
        for parent in route.parent_refs().iter().filter(|p| p.is_service()) {
            mesh_namespaces.insert(None);
            if parent.namespace(route_ns) != route_ns {
                mesh_namespaces.insert(Some(route_ns));
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
    gateway: &Gateway,
    statuses: &[&Status],
    diagnosis: &Diagnosis,
) -> GatewayReport {
    let meta = &gateway.metadata;
    let status = statuses
        .iter()
        .flat_map(|s| &s.gateways)
        .find(|g| g.namespace == meta.namespace() && g.name == meta.name);
    let mut conditions: Vec<Cond> = status
        .map(|s| s.conditions.iter().map(Cond::from_core).collect())
        .unwrap_or_default();
    let mut listeners = listener_reports(
        &gateway.spec.listeners,
        status.map(|s| s.listeners.as_slice()),
    );
    let label = meta.label("Gateway");
    certificate_status(&label, &mut conditions, &mut listeners, diagnosis);
    if let Some(why) = diagnosis.pending.get(&meta.key()) {
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
        namespace: meta.namespace().to_owned(),
        name: meta.name.clone(),
        gateway_class_name: gateway.spec.gateway_class_name.clone(),
        conditions,
        listeners,
        attached_listener_sets: status.map_or(0, |s| s.attached_listener_sets),
    }
}

/// Listeners whose certificates do not resolve are not programmed (`ResolvedRefs` False with
/// `diagnose`'s reason), and their object (`Gateway ns/name` or `ListenerSet ns/name`) says so
/// in `Accepted`.
pub(super) fn certificate_status(
    object_label: &str,
    conditions: &mut Vec<Cond>,
    listeners: &mut [ListenerReport],
    diagnosis: &Diagnosis,
) {
    let mut invalid = false;
    for listener in listeners.iter_mut() {
        let Some((reason, message)) = diagnosis
            .certificates
            .get(&(object_label.to_owned(), listener.name.clone()))
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
        let reason = if object_label.starts_with("Gateway ") {
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
    listeners: &[Listener],
    statuses: Option<&[ListenerStatus]>,
) -> Vec<ListenerReport> {
    listeners
        .iter()
        .enumerate()
        .map(|(i, listener)| {
            let listener_name = listener.name.as_str();
            let core = statuses.and_then(|s| {
                s.get(i)
                    .filter(|l| l.name == listener_name)
                    .or_else(|| s.iter().find(|l| l.name == listener_name))
            });
            ListenerReport {
                name: listener_name.to_owned(),
                port: listener.port.map(u64::from),
                protocol: listener.protocol.clone(),
                hostname: listener.hostname.clone(),
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
    set: &ListenerSet,
    statuses: &[&Status],
    diagnosis: &Diagnosis,
) -> ListenerSetReport {
    let meta = &set.metadata;
    let parent_ref = &set.spec.parent_ref;
    let parent = format!(
        "{}/{}",
        parent_ref.namespace(meta.namespace()),
        parent_ref.name
    );
    let status = statuses
        .iter()
        .flat_map(|s| &s.listener_sets)
        .find(|s| s.namespace == meta.namespace() && s.name == meta.name);
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
        Some(s) if !s.listeners.is_empty() => {
            listener_reports(&set.spec.listeners, Some(&s.listeners))
        }
        _ => Vec::new(),
    };
    let label = meta.label("ListenerSet");
    certificate_status(&label, &mut conditions, &mut listeners, diagnosis);
    ListenerSetReport {
        namespace: meta.namespace().to_owned(),
        name: meta.name.clone(),
        parent,
        conditions,
        listeners,
    }
}

pub(super) fn route_report(route: Route<'_>, statuses: &[&Status]) -> RouteReport {
    let meta: &ObjectMeta = route.metadata();
    let route_ns = meta.namespace();
    let mut parents: Vec<(usize, ParentReport)> = Vec::new();
    let mut seen = BTreeSet::new();
    let core = statuses
        .iter()
        .flat_map(|s| &s.routes)
        .filter(|r| r.kind == route.kind() && r.namespace == route_ns && r.name == meta.name);
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
        let position = route
            .parent_refs()
            .iter()
            .position(|r| {
                r.kind() == parent_kind
                    && r.namespace(route_ns) == parent_ns
                    && r.name == parent_name
                    && r.section_name == parent.section_name
                    && r.port == parent.port.map(u32::from)
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
        kind: route.kind().to_owned(),
        namespace: route_ns.to_owned(),
        name: meta.name.clone(),
        parents: parents.into_iter().map(|(_, p)| p).collect(),
    }
}
