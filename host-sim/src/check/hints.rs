//! Fix hints for the filter's problems: why a listener refuses a route (kind, namespace policy,
//! hostname; reference §8.1, §8.2) and what to change in the manifests, which Services exist
//! for a backendRef that names none, how a gRPC path splits into service and method.
//!
//! Hints only explain: whether a route attaches is the core's decision, reported in its
//! problems and status; `report` asks here for the words.

use gatewasm_core::config::{LabelSelector, Route};
use gatewasm_core::{hostnames_intersect, Problem};
use serde_json::Value;

use super::GatewayReport;
use crate::objects::{ListenerRef, Objects};

/// The filter's problem with a fix hint from the manifests, where one helps.
pub(super) fn with_hint(
    objects: &Objects<'_>,
    gateways: &[GatewayReport],
    mut problem: Problem,
) -> Problem {
    if problem.field.ends_with(".selectorLabels") && problem.message.starts_with("unknown field") {
        let labels = objects.written_at(&problem.object, &problem.field);
        problem.hint = Some(format!(
            "the field is selector: {{matchLabels: {}}}; without it from: Selector selects no namespace",
            labels.map_or_else(|| "{...}".to_owned(), compact)
        ));
        return problem;
    }
    if problem.hint.is_none() && problem.message.contains("(BackendNotFound)") {
        problem.hint = backend_hint(objects, &problem);
        return problem;
    }
    if problem.hint.is_none() && problem.message.contains("contains \"/\"") {
        problem.hint = grpc_method_hint(objects, &problem);
        return problem;
    }
    let Some(index) = problem
        .field
        .strip_prefix("spec.parentRefs[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok())
    else {
        return problem;
    };
    let route = objects.routes().find(|r| r.label() == problem.object);
    if let Some(hint) = route.and_then(|r| parent_hint(objects, gateways, r, index)) {
        problem.hint = Some(hint);
    }
    problem
}

/// For a backendRef (`spec.rules[i].backendRefs[j]`) to a Service that is not there: the
/// Services its namespace does have.
fn backend_hint(objects: &Objects<'_>, problem: &Problem) -> Option<String> {
    let route = objects.routes().find(|r| r.label() == problem.object)?;
    let (rule, backend) = problem
        .field
        .strip_prefix("spec.rules[")?
        .split_once("].backendRefs[")?;
    let (rule, backend): (usize, usize) =
        (rule.parse().ok()?, backend.strip_suffix(']')?.parse().ok()?);
    let refs = route.backend_refs();
    let backend = refs.iter().find(|(i, _)| *i == rule)?.1.get(backend)?;
    let ns = backend.namespace(route.metadata().namespace());
    let services: Vec<String> = objects
        .services()
        .filter(|s| s.metadata.namespace() == ns)
        .map(|s| {
            let ports: Vec<String> = s
                .spec
                .ports
                .iter()
                .filter_map(|p| p.port)
                .map(|p| p.to_string())
                .collect();
            let noun = if ports.len() == 1 { "port" } else { "ports" };
            format!("{} ({noun} {})", s.metadata.name, ports.join(", "))
        })
        .collect();
    Some(if services.is_empty() {
        format!("namespace {ns} has no Service in the manifests: add the Service, or fix the backendRef's name and namespace")
    } else {
        format!(
            "Services in namespace {ns}: {}; fix the backendRef's name and port, or add the Service",
            services.join(", ")
        )
    })
}

/// For a gRPC method match written as a path: the fields as they should be written.
fn grpc_method_hint(objects: &Objects<'_>, problem: &Problem) -> Option<String> {
    let written = objects
        .written_at(&problem.object, &problem.field)?
        .as_str()?;
    let (service, method) = written.trim_start_matches('/').split_once('/')?;
    Some(format!("write service: {service} and method: {method}"))
}

/// JSON in one line, with YAML-ish spacing.
fn compact(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {}", compact(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// The fix for a parentRef no listener accepts: per refusing listener, what to change.
fn parent_hint(
    objects: &Objects<'_>,
    gateways: &[GatewayReport],
    route: Route<'_>,
    index: usize,
) -> Option<String> {
    let parent = route.parent_refs().get(index)?;
    if !parent.is_gateway() {
        return None;
    }
    let listeners = objects.selected_listeners(route, parent);
    if listeners.is_empty() {
        let namespace = parent.namespace(route.metadata().namespace());
        let gateway = objects.gateway(namespace, &parent.name)?;
        let names: Vec<String> = gateway
            .spec
            .listeners
            .iter()
            .map(|l| format!("{} (port {})", l.name, l.port.unwrap_or(0)))
            .collect();
        return Some(format!(
            "Gateway {namespace}/{} has listeners {}: set sectionName (and port) to one of them",
            gateway.metadata.name,
            names.join(", ")
        ));
    }
    let fixes: Vec<String> = listeners
        .iter()
        .filter_map(|l| {
            unprogrammed(gateways, l)
                .map(|why| {
                    format!(
                        "listener {} is not programmed ({why}): fix the listener first",
                        l.listener.name
                    )
                })
                .or_else(|| refusal(objects, route, l).map(|r| r.fix))
        })
        .collect();
    (!fixes.is_empty()).then(|| fixes.join("; or "))
}

/// The reason a listener is not programmed, from its status.
fn unprogrammed(gateways: &[GatewayReport], listener: &ListenerRef<'_>) -> Option<String> {
    let meta = &listener.gateway.metadata;
    let status = gateways
        .iter()
        .find(|g| g.namespace == meta.namespace() && g.name == meta.name)?
        .listeners
        .get(listener.index)?;
    if status
        .conditions
        .iter()
        .any(|c| c.kind == "Programmed" && c.status == "True")
    {
        return None;
    }
    let bad = status.conditions.iter().find(|c| !c.healthy())?;
    Some(format!("{} {}", bad.kind, bad.reason))
}

/// Why a listener refuses a route, and what would change that.
pub(super) struct Refusal {
    /// What refuses the route.
    pub(super) why: String,
    /// What would change that.
    pub(super) fix: String,
}

/// The first reason a listener refuses a route (reference §8.2: kind, namespace, hostname).
pub(super) fn refusal(
    objects: &Objects<'_>,
    route: Route<'_>,
    listener: &ListenerRef<'_>,
) -> Option<Refusal> {
    let route_kind = route.kind();
    let route_ns = route.metadata().namespace();
    let gateway_ns = listener.gateway.metadata.namespace();
    let listener_name = &listener.listener.name;
    let protocol = listener.listener.protocol.as_str();
    if !matches!(protocol, "HTTP" | "HTTPS") {
        return Some(Refusal {
            why: format!("it is a {protocol} listener"),
            fix: format!(
                "attach to an HTTP or HTTPS listener instead of {listener_name} (sectionName)"
            ),
        });
    }
    let allowed = listener.listener.allowed_routes.as_ref();
    let kinds = allowed.map_or(&[][..], |a| a.kinds.as_slice());
    if !kinds.is_empty() && !kinds.iter().any(|k| k.kind == route_kind) {
        return Some(Refusal {
            why: format!(
                "it admits only {}",
                kinds
                    .iter()
                    .map(|k| k.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix: format!("add {route_kind} to allowedRoutes.kinds of listener {listener_name}"),
        });
    }
    let namespaces = allowed.and_then(|a| a.namespaces.as_ref());
    let from = namespaces.and_then(|n| n.from.as_deref()).unwrap_or("Same");
    let namespace_refusal = match from {
        "All" => None,
        "Same" if route_ns == gateway_ns => None,
        "Same" => Some(Refusal {
            why: format!("it admits routes from its own namespace {gateway_ns} only (allowedRoutes defaults to from: Same)"),
            fix: format!(
                "set allowedRoutes.namespaces.from: All (or Selector) on listener {listener_name} of Gateway {gateway_ns}/{}",
                listener.gateway.metadata.name
            ),
        }),
        "Selector" => selector_refusal(objects, route_ns, listener, namespaces.and_then(|n| n.selector.as_ref())),
        other => Some(Refusal {
            why: format!("from: {other} is not a valid value"),
            fix: format!("set allowedRoutes.namespaces.from on listener {listener_name} to Same, All or Selector"),
        }),
    };
    if namespace_refusal.is_some() {
        return namespace_refusal;
    }
    let listener_host = listener.listener.hostname.as_deref()?;
    let hostnames = route.hostnames();
    if hostnames.is_empty()
        || hostnames
            .iter()
            .any(|h| hostnames_intersect(h, listener_host))
    {
        return None;
    }
    Some(Refusal {
        why: format!("no route hostname falls under its hostname {listener_host}"),
        fix: format!("add a hostname covered by {listener_host} to spec.hostnames, or attach to a listener for {}", hostnames.join(", ")),
    })
}

fn selector_refusal(
    objects: &Objects<'_>,
    route_ns: &str,
    listener: &ListenerRef<'_>,
    selector: Option<&LabelSelector>,
) -> Option<Refusal> {
    let listener_name = &listener.listener.name;
    let Some(selector) = selector else {
        let written = objects.written_at(
            &listener.gateway.metadata.label("Gateway"),
            &format!(
                "spec.listeners[{}].allowedRoutes.namespaces.selectorLabels",
                listener.index
            ),
        );
        let fix = match written {
            Some(labels) => format!(
                "write selector: {{matchLabels: {}}} instead of `selectorLabels` on listener {listener_name}, and label namespace {route_ns} to match",
                compact(labels)
            ),
            None => format!("give listener {listener_name} a selector (selector: {{matchLabels: ...}}), or use from: All"),
        };
        return Some(Refusal {
            why: "it uses from: Selector without a selector, which selects no namespace".to_owned(),
            fix,
        });
    };
    let no_labels = Default::default();
    let labels = objects.namespace_labels();
    if selector.selects(labels.get(route_ns).copied().unwrap_or(&no_labels)) {
        return None;
    }
    let match_labels: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let fix = if match_labels.is_empty() || !selector.match_expressions.is_empty() {
        format!("label namespace {route_ns} to match the selector of listener {listener_name}, or widen its allowedRoutes")
    } else {
        format!(
            "label namespace {route_ns} {} (kubectl label namespace {route_ns} {}), or widen allowedRoutes on listener {listener_name}",
            match_labels.join(","),
            match_labels.join(" ")
        )
    };
    Some(Refusal {
        why: format!("its selector does not select namespace {route_ns}"),
        fix,
    })
}
