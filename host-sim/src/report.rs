//! The `host-sim check` report: for every object, the status a controller running gatewasm would
//! write, and every problem with a fix, as data.
//!
//! The status comes from the core's own compile — once per Gateway in the manifests, and in mesh
//! mode when routes name Services — so it is exactly what the filter will do. [`diagnose`] adds
//! what only the cluster knows (classes, certificates, missing Gateways, injection,
//! multi-cluster objects), [`crate::verdicts`] what the objects it does not route with do, and
//! this file merges them all, has `hints` add fixes to the filter's problems where the
//! manifests say what to change, and orders everything by object. Printing it is `cmd::check`'s
//! job.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use gatewasm_core::{Compiled, Condition, ListenerStatus, Problem, Severity, Status};
use serde::Serialize;
use serde_json::Value;

use crate::dead_rules::dead_rules;
use crate::diagnose::{
    self, array_at, diagnose, key, kind, label, name, namespace, parent_ref_target,
    selected_listeners, str_at, Diagnosis, ListenerRef,
};
use crate::manifests::Manifests;
use crate::policy_report::{policy_reports, PolicyReport};
use crate::verdicts::verdicts;

mod hints;

use hints::{refusal, with_hint};

/// Everything `check` found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// GatewayClasses in the manifests.
    pub gateway_classes: Vec<ClassReport>,
    /// Gateways, in manifest order.
    pub gateways: Vec<GatewayReport>,
    /// ListenerSets, in manifest order.
    pub listener_sets: Vec<ListenerSetReport>,
    /// HTTPRoutes and GRPCRoutes, in manifest order.
    pub routes: Vec<RouteReport>,
    /// BackendTrafficPolicies and XBackendTrafficPolicies, in manifest order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyReport>,
    /// Problems, ordered by object.
    pub problems: Vec<Finding>,
    /// What was not checked, and why.
    pub notes: Vec<String>,
    /// Counts and the exit code.
    pub summary: Summary,
}

/// A GatewayClass's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassReport {
    /// Class name.
    pub name: String,
    /// `spec.controllerName`.
    pub controller_name: String,
    /// `Accepted`.
    pub conditions: Vec<Cond>,
}

/// A Gateway's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.gatewayClassName`.
    pub gateway_class_name: String,
    /// `Accepted`, `Programmed`.
    pub conditions: Vec<Cond>,
    /// In spec order.
    pub listeners: Vec<ListenerReport>,
    /// ListenerSets the Gateway admitted.
    pub attached_listener_sets: u32,
}

/// A ListenerSet's status (reference §8.6).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerSetReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The Gateway its `spec.parentRef` names, `namespace/name`.
    pub parent: String,
    /// `Accepted`, `Programmed`.
    pub conditions: Vec<Cond>,
    /// In spec order; empty when the Gateway does not admit the set.
    pub listeners: Vec<ListenerReport>,
}

/// A listener's status, with the spec fields a reader needs beside it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerReport {
    /// Listener name.
    pub name: String,
    /// `port`.
    pub port: Option<u64>,
    /// `protocol`.
    pub protocol: String,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Routes accepted on the listener.
    pub attached_routes: u32,
    /// Route kinds it admits.
    pub supported_kinds: Vec<String>,
    /// `Accepted`, `Conflicted`, `ResolvedRefs`, `Programmed`.
    pub conditions: Vec<Cond>,
}

/// A route's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteReport {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// One entry per parent that accepted or refused it; empty when nothing did.
    pub parents: Vec<ParentReport>,
}

/// A route's conditions on one parent.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReport {
    /// The parentRef.
    pub parent_ref: ParentRefReport,
    /// `Accepted`, `ResolvedRefs`, `PartiallyInvalid`.
    pub conditions: Vec<Cond>,
}

/// A parentRef, as status lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRefReport {
    /// `Gateway` or `Service`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `sectionName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// `port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// One status condition.
#[derive(Clone, Debug, Serialize)]
pub struct Cond {
    /// Condition type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// The spec's reason.
    pub reason: String,
    /// For people.
    pub message: String,
}

/// One problem.
#[derive(Debug, Serialize)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// `Kind namespace/name`.
    pub object: String,
    /// Field path, possibly empty.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Counts, and what `check` exits with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Error-severity problems.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Whether every object is fully accepted (no condition in a bad state).
    pub all_accepted: bool,
    /// 0 clean, 1 otherwise.
    pub exit_code: u8,
}

// === impl Cond ===

impl Cond {
    fn new(kind: &str, status: &'static str, reason: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            status,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    fn from_core(condition: &Condition) -> Self {
        let status = if condition.status { "True" } else { "False" };
        Self::new(condition.kind, status, condition.reason, &condition.message)
    }

    /// Whether the condition is in the state a working object has (`Conflicted` and
    /// `PartiallyInvalid` are negative: `True` is the bad state).
    pub fn healthy(&self) -> bool {
        match (self.kind.as_str(), self.status) {
            (_, "Unknown") => false,
            ("Conflicted" | "PartiallyInvalid", status) => status == "False",
            (_, status) => status == "True",
        }
    }
}

/// Sets a condition, replacing one of the same type or appending.
fn set(conditions: &mut Vec<Cond>, condition: Cond) {
    match conditions.iter_mut().find(|c| c.kind == condition.kind) {
        Some(slot) => *slot = condition,
        None => conditions.push(condition),
    }
}

// === building ===

impl Report {
    /// Compiles the manifests as the filter would, runs the cluster-side checks, and merges.
    ///
    /// # Errors
    ///
    /// When a configuration built from the manifests cannot be compiled at all.
    pub fn build(manifests: &Manifests, controllers: &[String]) -> Result<Self> {
        let diagnosis = diagnose(manifests, controllers);
        let verdicts = verdicts(manifests);
        let compiled = compile_all(manifests)?;
        let statuses: Vec<&Status> = compiled.iter().map(|(_, c)| &c.status).collect();

        let gateway_classes = diagnosis
            .classes
            .iter()
            .map(|c| ClassReport {
                name: c.name.clone(),
                controller_name: c.controller.clone(),
                conditions: vec![if c.ours {
                    Cond::new(
                        "Accepted",
                        "True",
                        "Accepted",
                        format!("handled by {}", c.controller),
                    )
                } else {
                    Cond::new("Accepted", "Unknown", "Pending", "Waiting for controller")
                }],
            })
            .collect();
        let gateways = diagnose::gateways(manifests)
            .map(|g| gateway_report(g, &statuses, &diagnosis))
            .collect();
        let listener_sets = diagnose::listener_sets(manifests)
            .map(|s| listener_set_report(s, &statuses, &diagnosis))
            .collect();
        let routes = diagnose::routes(manifests)
            .map(|r| route_report(r, &statuses))
            .collect();

        let mut report = Self {
            gateway_classes,
            gateways,
            listener_sets,
            routes,
            policies: policy_reports(&statuses),
            problems: Vec::new(),
            notes: diagnosis
                .notes
                .iter()
                .cloned()
                .chain(verdicts.notes)
                .chain(notes(manifests))
                .collect(),
            summary: Summary {
                errors: 0,
                warnings: 0,
                all_accepted: true,
                exit_code: 0,
            },
        };
        let mut problems = diagnosis.problems;
        problems.extend(verdicts.problems);
        for problem in compiled.iter().flat_map(|(_, c)| &c.problems) {
            if !problems.contains(problem) {
                problems.push(with_hint(manifests, &report.gateways, problem.clone()));
            }
        }
        for (gateway, compiled) in &compiled {
            let Some(gateway) = gateway
                .as_deref()
                .and_then(|g| diagnose::gateways(manifests).find(|o| key(o) == g))
            else {
                continue;
            };
            for problem in dead_rules(manifests, gateway, &compiled.table) {
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
        for problem in crate::ingress_advice::findings(manifests) {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        problems.extend(idle_listeners(manifests, &report));
        problems.extend(unexplained(&report, &problems));
        report.problems = ordered(manifests, problems);
        report.summary = report.summarize();
        Ok(report)
    }

    fn conditions(&self) -> impl Iterator<Item = &Cond> {
        let classes = self.gateway_classes.iter().flat_map(|c| &c.conditions);
        let gateways = self.gateways.iter().flat_map(|g| {
            g.conditions
                .iter()
                .chain(g.listeners.iter().flat_map(|l| &l.conditions))
        });
        let sets = self.listener_sets.iter().flat_map(|s| {
            s.conditions
                .iter()
                .chain(s.listeners.iter().flat_map(|l| &l.conditions))
        });
        let routes = self
            .routes
            .iter()
            .flat_map(|r| r.parents.iter().flat_map(|p| &p.conditions));
        classes.chain(gateways).chain(sets).chain(routes)
    }

    fn summarize(&self) -> Summary {
        let errors = self
            .problems
            .iter()
            .filter(|p| p.severity == "error")
            .count();
        let warnings = self.problems.len() - errors;
        let all_accepted = self.conditions().all(Cond::healthy)
            && self
                .policies
                .iter()
                .flat_map(|p| &p.targets)
                .all(|t| t.healthy());
        Summary {
            errors,
            warnings,
            all_accepted,
            exit_code: u8::from(errors > 0 || !all_accepted),
        }
    }
}

/// One compile per Gateway, plus mesh mode when routes name Services: once for producer
/// routes, and once per namespace whose consumer routes name another namespace's Service.
fn compile_all(manifests: &Manifests) -> Result<Vec<(Option<String>, Compiled)>> {
    let mut configs: Vec<Value> = manifests
        .gateways()
        .iter()
        .map(|g| manifests.plugin_config(Some(g), None))
        .collect();
    let mut mesh_namespaces: BTreeSet<Option<&str>> = BTreeSet::new();
    for route in diagnose::routes(manifests) {
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
        let mut config = manifests.plugin_config(None, None);
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

fn gateway_report(gateway: &Value, statuses: &[&Status], diagnosis: &Diagnosis) -> GatewayReport {
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
fn certificate_status(
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
fn listener_reports(object: &Value, statuses: Option<&[ListenerStatus]>) -> Vec<ListenerReport> {
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
fn listener_set_report(
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

fn route_report(route: &Value, statuses: &[&Status]) -> RouteReport {
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

/// What `check` did not look at.
fn notes(manifests: &Manifests) -> Vec<String> {
    let mut notes = Vec::new();
    let has_services = manifests
        .resources
        .iter()
        .any(|o| matches!(kind(o), "Service" | "ServiceImport"));
    let has_secrets = manifests.others.iter().any(|o| kind(o) == "Secret");
    let certificates: Vec<String> = diagnose::gateways(manifests)
        .chain(diagnose::listener_sets(manifests))
        .flat_map(|g| {
            array_at(g, "/spec/listeners").iter().flat_map(move |l| {
                array_at(l, "/tls/certificateRefs")
                    .iter()
                    .filter_map(move |c| {
                        let ns = str_at(c, "/namespace").unwrap_or(namespace(g));
                        (ns == namespace(g))
                            .then(|| format!("{ns}/{}", str_at(c, "/name").unwrap_or("")))
                    })
            })
        })
        .collect();
    if !has_secrets && !certificates.is_empty() {
        notes.push(format!(
            "no Secret objects: the certificates listeners name ({}) are taken to exist",
            certificates.join(", ")
        ));
    }
    if !has_services && diagnose::routes(manifests).next().is_some() {
        notes.push(
            "no Service objects: every backendRef is taken to exist (add the Services to check them)"
                .to_owned(),
        );
    }
    notes
}

// === problems status shows but nobody reported ===

/// Listeners no route attaches to although routes name them and are accepted elsewhere: the
/// filter has nothing to report (each route serves), but traffic to that listener gets 404.
fn idle_listeners(manifests: &Manifests, report: &Report) -> Vec<Problem> {
    let mut problems = Vec::new();
    for gateway in diagnose::gateways(manifests) {
        let Some(status) = report
            .gateways
            .iter()
            .find(|g| g.namespace == namespace(gateway) && g.name == name(gateway))
        else {
            continue;
        };
        for (index, listener) in array_at(gateway, "/spec/listeners").iter().enumerate() {
            let reference = ListenerRef {
                gateway,
                index,
                listener,
            };
            let Some(listener_status) = status.listeners.get(index) else {
                continue;
            };
            let programmed = listener_status
                .conditions
                .iter()
                .any(|c| c.kind == "Programmed" && c.status == "True");
            if listener_status.attached_routes > 0 || !programmed {
                continue;
            }
            let mut refused: Vec<(String, Vec<String>)> = Vec::new();
            let mut fixes = Vec::new();
            for route in diagnose::routes(manifests) {
                let accepted_elsewhere = report.routes.iter().any(|r| {
                    r.kind == kind(route)
                        && r.namespace == namespace(route)
                        && r.name == name(route)
                        && r.parents.iter().any(|p| {
                            p.parent_ref.kind == "Gateway"
                                && p.parent_ref.namespace == namespace(gateway)
                                && p.parent_ref.name == name(gateway)
                                && p.conditions
                                    .iter()
                                    .any(|c| c.kind == "Accepted" && c.status == "True")
                        })
                });
                let names_it = array_at(route, "/spec/parentRefs").iter().any(|p| {
                    selected_listeners(manifests, route, p)
                        .iter()
                        .any(|l| l.index == reference.index && key(l.gateway) == key(gateway))
                });
                if !accepted_elsewhere || !names_it {
                    continue;
                }
                if let Some(why) = refusal(manifests, route, &reference) {
                    match refused.iter_mut().find(|(w, _)| *w == why.why) {
                        Some((_, routes)) => routes.push(label(route)),
                        None => refused.push((why.why, vec![label(route)])),
                    }
                    if !fixes.contains(&why.fix) {
                        fixes.push(why.fix);
                    }
                }
            }
            if refused.is_empty() {
                continue;
            }
            let mut problem = Problem::warning(
                label(gateway),
                format!("spec.listeners[{index}]"),
                format!(
                    "listener {} serves no route, so requests on port {} get 404: {}",
                    reference.name(),
                    reference.port().unwrap_or(0),
                    refused
                        .iter()
                        .map(|(why, routes)| format!("refused {} because {why}", routes.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
            if !fixes.is_empty() {
                problem = problem.with_hint(fixes.join("; or "));
            }
            problems.push(problem);
        }
    }
    problems
}

/// A problem for every object whose status is bad but that no problem names yet, so the list
/// always explains the exit code.
fn unexplained(report: &Report, problems: &[Problem]) -> Vec<Problem> {
    let mut extra = Vec::new();
    let named = |object: &str| problems.iter().any(|p| p.object == object);
    let mut add = |object: String, field: String, condition: &Cond| {
        if condition.healthy() || condition.status == "Unknown" || named(&object) {
            return;
        }
        extra.push(Problem::error(
            object,
            field,
            format!(
                "{} is {} ({}): {}",
                condition.kind, condition.status, condition.reason, condition.message
            ),
        ));
    };
    for gateway in &report.gateways {
        let object = format!("Gateway {}/{}", gateway.namespace, gateway.name);
        for condition in &gateway.conditions {
            add(object.clone(), "status".to_owned(), condition);
        }
        for (i, listener) in gateway.listeners.iter().enumerate() {
            for condition in &listener.conditions {
                add(object.clone(), format!("status.listeners[{i}]"), condition);
            }
        }
    }
    for set in &report.listener_sets {
        let object = format!("ListenerSet {}/{}", set.namespace, set.name);
        for condition in &set.conditions {
            add(object.clone(), "status".to_owned(), condition);
        }
        for (i, listener) in set.listeners.iter().enumerate() {
            for condition in &listener.conditions {
                add(object.clone(), format!("status.listeners[{i}]"), condition);
            }
        }
    }
    for route in &report.routes {
        let object = format!("{} {}/{}", route.kind, route.namespace, route.name);
        for (i, parent) in route.parents.iter().enumerate() {
            for condition in &parent.conditions {
                add(object.clone(), format!("status.parents[{i}]"), condition);
            }
        }
    }
    extra
}

/// Problems ordered by the object they name (classes, Gateways, routes, then the rest in
/// manifest order), keeping the order found within one object.
fn ordered(manifests: &Manifests, problems: Vec<Problem>) -> Vec<Finding> {
    let mut order: Vec<String> = manifests
        .others
        .iter()
        .filter(|o| kind(o) == "GatewayClass")
        .map(label)
        .collect();
    order.extend(diagnose::gateways(manifests).map(label));
    order.extend(diagnose::listener_sets(manifests).map(label));
    order.extend(diagnose::routes(manifests).map(label));
    order.extend(
        manifests
            .resources
            .iter()
            .chain(&manifests.others)
            .map(label),
    );
    let rank = |object: &str| order.iter().position(|o| o == object).unwrap_or(usize::MAX);
    let mut problems: Vec<(usize, Vec<FieldPart>, usize, Problem)> = problems
        .into_iter()
        .enumerate()
        .map(|(i, p)| (rank(&p.object), field_order(&p.field), i, p))
        .collect();
    problems.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    problems
        .into_iter()
        .map(|(_, _, _, p)| Finding {
            severity: match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            object: p.object,
            field: p.field,
            message: p.message,
            hint: p.hint,
        })
        .collect()
}

/// One piece of a field path: text, or an index compared as a number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum FieldPart {
    Text(String),
    Index(u64),
}

/// A field path as a sort key, so `spec.listeners[2]` comes before `spec.listeners[10]` and a
/// field before its subfields. Problems without a field come first.
fn field_order(field: &str) -> Vec<FieldPart> {
    field
        .split(['[', ']', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| match part.parse() {
            Ok(n) => FieldPart::Index(n),
            Err(_) => FieldPart::Text(part.to_owned()),
        })
        .collect()
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: ", self.severity, self.object)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}
