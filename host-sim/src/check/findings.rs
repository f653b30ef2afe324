//! Problems the status shows but nobody reported (listeners no route attaches to, conditions
//! without a problem), the notes on what was not checked, and the order problems are printed in.
//!
//! Finding the problems is the core's compile, `cluster` and `dead_rules`; this file completes
//! and orders them.

use gatewasm_core::{Problem, Severity};

use super::hints::refusal;
use super::model::{Cond, Finding, Report};
use crate::manifests::Manifests;
use crate::objects::{ListenerRef, Objects};
use crate::written::{kind, label};

/// What `check` did not look at.
pub(super) fn notes(manifests: &Manifests, objects: &Objects<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    let has_services = objects.services().next().is_some();
    let has_secrets = manifests.others.iter().any(|o| kind(o) == "Secret");
    let certificates: Vec<String> = objects
        .listener_owners()
        .flat_map(|(_, owner, listeners)| {
            let ns = owner.namespace();
            listeners
                .iter()
                .filter_map(|l| l.tls.as_ref())
                .flat_map(|tls| tls.certificates())
                .filter(move |(_, c)| c.namespace(ns) == ns)
                .map(move |(_, c)| format!("{ns}/{}", c.name))
        })
        .collect();
    if !has_secrets && !certificates.is_empty() {
        notes.push(format!(
            "no Secret objects: the certificates listeners name ({}) are taken to exist",
            certificates.join(", ")
        ));
    }
    if !has_services && objects.routes().next().is_some() {
        notes.push(
            "no Service objects: every backendRef is taken to exist (add the Services to check them)"
                .to_owned(),
        );
    }
    notes
}

/// Listeners no route attaches to although routes name them and are accepted elsewhere: the
/// filter has nothing to report (each route serves), but traffic to that listener gets 404.
pub(super) fn idle_listeners(objects: &Objects<'_>, report: &Report) -> Vec<Problem> {
    let mut problems = Vec::new();
    for gateway in objects.gateways() {
        let meta = &gateway.metadata;
        let Some(status) = report
            .gateways
            .iter()
            .find(|g| g.namespace == meta.namespace() && g.name == meta.name)
        else {
            continue;
        };
        for (index, listener) in gateway.spec.listeners.iter().enumerate() {
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
            for route in objects.routes() {
                let accepted_elsewhere = report.routes.iter().any(|r| {
                    r.kind == route.kind()
                        && r.namespace == route.metadata().namespace()
                        && r.name == route.metadata().name
                        && r.parents.iter().any(|p| {
                            p.parent_ref.kind == "Gateway"
                                && p.parent_ref.namespace == meta.namespace()
                                && p.parent_ref.name == meta.name
                                && p.conditions
                                    .iter()
                                    .any(|c| c.kind == "Accepted" && c.status == "True")
                        })
                });
                let names_it = route.parent_refs().iter().any(|p| {
                    objects
                        .selected_listeners(route, p)
                        .iter()
                        .any(|l| l.index == index && std::ptr::eq(l.gateway, gateway))
                });
                if !accepted_elsewhere || !names_it {
                    continue;
                }
                if let Some(why) = refusal(objects, route, &reference) {
                    match refused.iter_mut().find(|(w, _)| *w == why.why) {
                        Some((_, routes)) => routes.push(route.label()),
                        None => refused.push((why.why, vec![route.label()])),
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
                meta.label("Gateway"),
                format!("spec.listeners[{index}]"),
                format!(
                    "listener {} serves no route, so requests on port {} get 404: {}",
                    listener.name,
                    listener.port.unwrap_or(0),
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
pub(super) fn unexplained(report: &Report, problems: &[Problem]) -> Vec<Problem> {
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
pub(super) fn ordered(
    manifests: &Manifests,
    objects: &Objects<'_>,
    problems: Vec<Problem>,
) -> Vec<Finding> {
    let mut order: Vec<String> = manifests
        .others
        .iter()
        .filter(|o| kind(o) == "GatewayClass")
        .map(label)
        .collect();
    order.extend(
        objects
            .listener_owners()
            .map(|(kind, meta, _)| meta.label(kind)),
    );
    order.extend(objects.routes().map(|r| r.label()));
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
pub(super) enum FieldPart {
    Text(String),
    Index(u64),
}

/// A field path as a sort key, so `spec.listeners[2]` comes before `spec.listeners[10]` and a
/// field before its subfields. Problems without a field come first.
pub(super) fn field_order(field: &str) -> Vec<FieldPart> {
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
