//! Fix hints for the filter's problems: why a listener refuses a route (kind, namespace policy,
//! hostname; reference §8.1, §8.2) and what to change in the manifests, which Services exist
//! for a backendRef that names none, how a gRPC path splits into service and method.
//!
//! Hints only explain: whether a route attaches is the core's decision, reported in its
//! problems and status; `report` asks here for the words.

use gatewasm_core::Problem;
use serde_json::Value;

use super::GatewayReport;
use crate::diagnose::{
    self, array_at, key, kind, label, name, namespace, parent_ref_target, selected_listeners,
    str_at, ListenerRef, GATEWAY_GROUP,
};
use crate::manifests::Manifests;

/// The filter's problem with a fix hint from the manifests, where one helps.
pub(super) fn with_hint(
    manifests: &Manifests,
    gateways: &[GatewayReport],
    mut problem: Problem,
) -> Problem {
    if problem.field.ends_with(".selectorLabels") && problem.message.starts_with("unknown field") {
        let labels = find_listener_field(manifests, &problem, "selectorLabels");
        problem.hint = Some(format!(
            "the field is selector: {{matchLabels: {}}}; without it from: Selector selects no namespace",
            labels.map_or_else(|| "{...}".to_owned(), |l| compact(&l))
        ));
        return problem;
    }
    if problem.hint.is_none() && problem.message.contains("(BackendNotFound)") {
        problem.hint = backend_hint(manifests, &problem);
        return problem;
    }
    if problem.hint.is_none() && problem.message.contains("contains \"/\"") {
        problem.hint = grpc_method_hint(manifests, &problem);
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
    let route = diagnose::routes(manifests).find(|r| label(r) == problem.object);
    if let Some(hint) = route.and_then(|r| parent_hint(manifests, gateways, r, index)) {
        problem.hint = Some(hint);
    }
    problem
}

/// The raw object a problem names, and the value at its field path.
fn problem_target<'a>(
    manifests: &'a Manifests,
    problem: &Problem,
) -> Option<(&'a Value, &'a Value)> {
    let object = manifests
        .resources
        .iter()
        .find(|o| label(o) == problem.object)?;
    let mut pointer = String::new();
    for part in problem
        .field
        .split(['.', '[', ']'])
        .filter(|p| !p.is_empty())
    {
        pointer.push('/');
        pointer.push_str(part);
    }
    Some((object, object.pointer(&pointer)?))
}

/// For a backendRef to a Service that is not there: the Services its namespace does have.
fn backend_hint(manifests: &Manifests, problem: &Problem) -> Option<String> {
    let (route, backend) = problem_target(manifests, problem)?;
    let ns = str_at(backend, "/namespace").unwrap_or(namespace(route));
    let services: Vec<String> = manifests
        .resources
        .iter()
        .filter(|o| matches!(kind(o), "Service" | "ServiceImport") && namespace(o) == ns)
        .map(|s| {
            let ports: Vec<String> = array_at(s, "/spec/ports")
                .iter()
                .filter_map(|p| p.get("port").and_then(Value::as_f64))
                .map(|p| format!("{}", p as u64))
                .collect();
            let noun = if ports.len() == 1 { "port" } else { "ports" };
            format!("{} ({noun} {})", name(s), ports.join(", "))
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
fn grpc_method_hint(manifests: &Manifests, problem: &Problem) -> Option<String> {
    let (_, value) = problem_target(manifests, problem)?;
    let written = value.as_str()?;
    let (service, method) = written.trim_start_matches('/').split_once('/')?;
    Some(format!("write service: {service} and method: {method}"))
}

/// The value of a field named `field` in the listener a problem points at.
fn find_listener_field(manifests: &Manifests, problem: &Problem, field: &str) -> Option<Value> {
    let gateway = diagnose::gateways(manifests).find(|g| label(g) == problem.object)?;
    let index: usize = problem
        .field
        .strip_prefix("spec.listeners[")?
        .split(']')
        .next()?
        .parse()
        .ok()?;
    array_at(gateway, "/spec/listeners")
        .get(index)?
        .pointer(&format!("/allowedRoutes/namespaces/{field}"))
        .cloned()
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
    manifests: &Manifests,
    gateways: &[GatewayReport],
    route: &Value,
    index: usize,
) -> Option<String> {
    let parent = array_at(route, "/spec/parentRefs").get(index)?;
    let (group, parent_kind, _) = parent_ref_target(parent, namespace(route));
    if (group, parent_kind) != (GATEWAY_GROUP, "Gateway") {
        return None;
    }
    let listeners = selected_listeners(manifests, route, parent);
    if listeners.is_empty() {
        let gateway = diagnose::gateways(manifests).find(|g| {
            key(g)
                == format!(
                    "{}/{}",
                    parent_ref_target(parent, namespace(route)).2,
                    str_at(parent, "/name").unwrap_or("")
                )
        })?;
        let names: Vec<String> = array_at(gateway, "/spec/listeners")
            .iter()
            .map(|l| {
                format!(
                    "{} (port {})",
                    str_at(l, "/name").unwrap_or(""),
                    l.get("port")
                        .and_then(Value::as_f64)
                        .map_or(0, |p| p as u64)
                )
            })
            .collect();
        return Some(format!(
            "Gateway {} has listeners {}: set sectionName (and port) to one of them",
            key(gateway),
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
                        l.name()
                    )
                })
                .or_else(|| refusal(manifests, route, l).map(|r| r.fix))
        })
        .collect();
    (!fixes.is_empty()).then(|| fixes.join("; or "))
}

/// The reason a listener is not programmed, from its status.
fn unprogrammed(gateways: &[GatewayReport], listener: &ListenerRef<'_>) -> Option<String> {
    let status = gateways
        .iter()
        .find(|g| g.namespace == namespace(listener.gateway) && g.name == name(listener.gateway))?
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
    manifests: &Manifests,
    route: &Value,
    listener: &ListenerRef<'_>,
) -> Option<Refusal> {
    let route_kind = kind(route);
    let route_ns = namespace(route);
    let gateway_ns = namespace(listener.gateway);
    let listener_name = listener.name();
    let protocol = str_at(listener.listener, "/protocol").unwrap_or("");
    if !matches!(protocol, "HTTP" | "HTTPS") {
        return Some(Refusal {
            why: format!("it is a {protocol} listener"),
            fix: format!(
                "attach to an HTTP or HTTPS listener instead of {listener_name} (sectionName)"
            ),
        });
    }
    let kinds = array_at(listener.listener, "/allowedRoutes/kinds");
    if !kinds.is_empty() && !kinds.iter().any(|k| str_at(k, "/kind") == Some(route_kind)) {
        return Some(Refusal {
            why: format!(
                "it admits only {}",
                kinds
                    .iter()
                    .filter_map(|k| str_at(k, "/kind"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix: format!("add {route_kind} to allowedRoutes.kinds of listener {listener_name}"),
        });
    }
    let namespaces = listener.listener.pointer("/allowedRoutes/namespaces");
    let from = namespaces
        .and_then(|n| n.get("from"))
        .and_then(Value::as_str)
        .unwrap_or("Same");
    let namespace_refusal = match from {
        "All" => None,
        "Same" if route_ns == gateway_ns => None,
        "Same" => Some(Refusal {
            why: format!("it admits routes from its own namespace {gateway_ns} only (allowedRoutes defaults to from: Same)"),
            fix: format!("set allowedRoutes.namespaces.from: All (or Selector) on listener {listener_name} of Gateway {}", key(listener.gateway)),
        }),
        "Selector" => selector_refusal(manifests, route_ns, listener_name, namespaces),
        other => Some(Refusal {
            why: format!("from: {other} is not a valid value"),
            fix: format!("set allowedRoutes.namespaces.from on listener {listener_name} to Same, All or Selector"),
        }),
    };
    if namespace_refusal.is_some() {
        return namespace_refusal;
    }
    let listener_host = str_at(listener.listener, "/hostname")?;
    let hostnames: Vec<&str> = array_at(route, "/spec/hostnames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if hostnames.is_empty() || hostnames.iter().any(|h| hosts_intersect(h, listener_host)) {
        return None;
    }
    Some(Refusal {
        why: format!("no route hostname falls under its hostname {listener_host}"),
        fix: format!("add a hostname covered by {listener_host} to spec.hostnames, or attach to a listener for {}", hostnames.join(", ")),
    })
}

fn selector_refusal(
    manifests: &Manifests,
    route_ns: &str,
    listener_name: &str,
    namespaces: Option<&Value>,
) -> Option<Refusal> {
    let selector = namespaces.and_then(|n| n.get("selector"));
    let Some(selector) = selector else {
        let written = namespaces.and_then(|n| n.get("selectorLabels"));
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
    let labels = manifests
        .resources
        .iter()
        .find(|o| kind(o) == "Namespace" && name(o) == route_ns)
        .and_then(|n| n.pointer("/metadata/labels"))
        .cloned()
        .unwrap_or(Value::Null);
    if selects(selector, &labels) {
        return None;
    }
    let match_labels: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    let fix = if match_labels.is_empty() || selector.get("matchExpressions").is_some() {
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

/// Whether a LabelSelector selects an object with these labels.
fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let match_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let expressions = array_at(selector, "/matchExpressions").iter().all(|e| {
        let value = label(str_at(e, "/key").unwrap_or(""));
        let values: Vec<&str> = array_at(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        match str_at(e, "/operator").unwrap_or("") {
            "In" => value.is_some_and(|v| values.contains(&v)),
            "NotIn" => value.is_none_or(|v| !values.contains(&v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    match_labels && expressions
}

/// Whether two hostnames (either may be a `*.` wildcard) have a name in common (reference §2.2).
fn hosts_intersect(a: &str, b: &str) -> bool {
    let a = a.to_ascii_lowercase();
    let b = b.to_ascii_lowercase();
    let covers = |wild: &str, other: &str| {
        wild.strip_prefix('*').is_some_and(|suffix| {
            other.ends_with(suffix) && other.len() > suffix.len()
                || other.strip_prefix('*').is_some_and(|o| o.ends_with(suffix))
        })
    };
    a == b || covers(&a, &b) || covers(&b, &a)
}

#[cfg(test)]
mod tests {
    use super::{hosts_intersect, selects};
    use serde_json::json;

    #[test]
    fn hostnames_intersect_as_the_spec_says() {
        assert!(hosts_intersect("app.example.com", "*.example.com"));
        assert!(hosts_intersect("*.example.com", "*.example.com"));
        assert!(hosts_intersect("*.foo.example.com", "*.example.com"));
        assert!(!hosts_intersect("example.com", "*.example.com"));
        assert!(!hosts_intersect("app.example.net", "app.example.com"));
    }

    #[test]
    fn selectors_select_by_labels_and_expressions() {
        let labels = json!({"gateway-access": "true", "team": "a"});
        assert!(selects(
            &json!({"matchLabels": {"gateway-access": "true"}}),
            &labels
        ));
        assert!(!selects(
            &json!({"matchLabels": {"gateway-access": "yes"}}),
            &labels
        ));
        assert!(selects(
            &json!({"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}),
            &labels
        ));
        assert!(!selects(
            &json!({"matchExpressions": [{"key": "x", "operator": "Exists"}]}),
            &labels
        ));
        assert!(selects(&json!({}), &json!(null)));
    }
}
