//! Rules that can never match: each match of a rule is turned into the request it describes and
//! decided by the compiled table; when every such request goes to another rule with the very
//! same match (which wins the precedence tie), the rule is dead.
//!
//! Only what can be proven is reported: a match with a regular expression, or a request that
//! another, more specific match wins, counts as live. This is a reading aid for `check`, not a
//! validation the filter makes; the precedence itself is the core's (reference §3.7, §7.4).

use gatewasm_core::{borrow_pairs, Problem, RequestView, RouteTable};
use serde_json::{json, Value};

use crate::diagnose::{array_at, key, kind, label, name, namespace, selected_listeners, str_at};
use crate::manifests::Manifests;

/// Warnings for the rules of routes on `gateway` that can never match.
pub fn dead_rules(manifests: &Manifests, gateway: &Value, table: &RouteTable) -> Vec<Problem> {
    let mut problems = Vec::new();
    for route in crate::diagnose::routes(manifests) {
        let listeners: Vec<(u16, Option<String>)> = array_at(route, "/spec/parentRefs")
            .iter()
            .flat_map(|p| selected_listeners(manifests, route, p))
            .filter(|l| key(l.gateway) == key(gateway))
            .filter_map(|l| {
                let port = u16::try_from(l.port()?).ok()?;
                Some((port, str_at(l.listener, "/hostname").map(str::to_owned)))
            })
            .collect();
        if listeners.is_empty() {
            continue;
        }
        for (index, rule) in array_at(route, "/spec/rules").iter().enumerate() {
            if let Some(winner) = dead_rule(manifests, route, index, rule, &listeners, table) {
                problems.push(
                    Problem::warning(
                        label(route),
                        format!("spec.rules[{index}]"),
                        format!(
                            "never matches: every request it matches goes to {winner}, which has the same match and wins the precedence tie (the older route, then namespace/name order, then rule order)"
                        ),
                    )
                    .with_hint("remove the rule, or make its matches differ from that rule's (a header, a longer path)"),
                );
            }
        }
    }
    problems
}

/// The rule that takes every request of this rule, if there is one.
fn dead_rule(
    manifests: &Manifests,
    route: &Value,
    index: usize,
    rule: &Value,
    listeners: &[(u16, Option<String>)],
    table: &RouteTable,
) -> Option<String> {
    let default = [json!({})];
    let matches = match array_at(rule, "/matches") {
        [] => &default[..],
        some => some,
    };
    let grpc = kind(route) == "GRPCRoute";
    let mut winner = None;
    for m in matches {
        let headers = probe(m, grpc)?;
        let mut evidence = false;
        for (port, listener_host) in listeners {
            for host in probe_hosts(route, listener_host.as_deref()) {
                let mut request = headers.clone();
                request.push((":authority".to_owned(), host.into_bytes()));
                request.push((":scheme".to_owned(), b"https".to_vec()));
                let request = borrow_pairs(&request);
                let view = RequestView::new(&request, Some(*port));
                let Some(won) = table.decide(&view, 0).rule else {
                    continue;
                };
                let ours = won.kind == kind(route)
                    && won.namespace == namespace(route)
                    && won.name == name(route);
                if ours && won.index == index {
                    return None;
                }
                let rival = crate::diagnose::routes(manifests)
                    .find(|r| {
                        kind(r) == won.kind && namespace(r) == won.namespace && name(r) == won.name
                    })
                    .and_then(|r| array_at(r, "/spec/rules").get(won.index));
                let same = rival.is_some_and(|r| {
                    let rival_matches = match array_at(r, "/matches") {
                        [] => &default[..],
                        some => some,
                    };
                    rival_matches
                        .iter()
                        .any(|x| normal(x, grpc) == normal(m, grpc))
                });
                if !same {
                    return None;
                }
                evidence = true;
                winner = Some(if ours {
                    format!("rule {} of this route", won.index)
                } else {
                    format!(
                        "{} {}/{} rule {}",
                        won.kind, won.namespace, won.name, won.index
                    )
                });
            }
        }
        if !evidence {
            return None;
        }
    }
    winner
}

/// Host names to send: the route's hostnames (a wildcard gets a label), or the listener's, or
/// any name.
fn probe_hosts(route: &Value, listener_host: Option<&str>) -> Vec<String> {
    let concrete = |h: &str| match h.strip_prefix('*') {
        Some(suffix) => format!("gatewasm-probe{suffix}"),
        None => h.to_owned(),
    };
    let hosts: Vec<String> = array_at(route, "/spec/hostnames")
        .iter()
        .filter_map(Value::as_str)
        .map(concrete)
        .collect();
    if !hosts.is_empty() {
        return hosts;
    }
    vec![listener_host.map_or_else(|| "gatewasm-probe.invalid".to_owned(), concrete)]
}

/// The request a match describes, without its Host; `None` when it cannot be written down
/// (regular expressions, method-only gRPC matches, query values that need escaping).
fn probe(m: &Value, grpc: bool) -> Option<Vec<(String, Vec<u8>)>> {
    let mut headers = Vec::new();
    for h in array_at(m, "/headers") {
        if str_at(h, "/type").unwrap_or("Exact") != "Exact" {
            return None;
        }
        let name = str_at(h, "/name")?.to_ascii_lowercase();
        headers.push((name, str_at(h, "/value")?.as_bytes().to_vec()));
    }
    let (method, path) = if grpc {
        headers.push(("content-type".to_owned(), b"application/grpc".to_vec()));
        let method = m.get("method");
        if method.and_then(|x| str_at(x, "/type")).unwrap_or("Exact") != "Exact" {
            return None;
        }
        let service = method.and_then(|x| str_at(x, "/service"));
        let rpc = method.and_then(|x| str_at(x, "/method"));
        let path = match (service, rpc) {
            (Some(s), Some(r)) => format!("/{s}/{r}"),
            (Some(s), None) => format!("/{s}/GatewasmProbe"),
            (None, Some(_)) => return None,
            (None, None) => "/gatewasm.Probe/Probe".to_owned(),
        };
        ("POST".to_owned(), path)
    } else {
        let path = m.get("path");
        let value = path.and_then(|p| str_at(p, "/value")).unwrap_or("/");
        // A prefix is probed below itself, so that an Exact match of the same value (which wins
        // over any prefix) does not hide whether the prefix is live.
        let mut path = match path
            .and_then(|p| str_at(p, "/type"))
            .unwrap_or("PathPrefix")
        {
            "Exact" => value.to_owned(),
            "PathPrefix" => format!("{}/gatewasm-probe", value.trim_end_matches('/')),
            _ => return None,
        };
        let mut separator = '?';
        for q in array_at(m, "/queryParams") {
            let (name, value) = (str_at(q, "/name")?, str_at(q, "/value")?);
            let plain = |s: &str| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            };
            if str_at(q, "/type").unwrap_or("Exact") != "Exact" || !plain(name) || !plain(value) {
                return None;
            }
            path.push(separator);
            path.push_str(&format!("{name}={value}"));
            separator = '&';
        }
        (str_at(m, "/method").unwrap_or("GET").to_owned(), path)
    };
    headers.push((":method".to_owned(), method.into_bytes()));
    headers.push((":path".to_owned(), path.into_bytes()));
    Some(headers)
}

/// A match with the API defaults applied and lists in a fixed order, for comparison.
fn normal(m: &Value, grpc: bool) -> Value {
    let mut headers: Vec<(String, String, String)> = array_at(m, "/headers")
        .iter()
        .map(|h| {
            (
                str_at(h, "/name").unwrap_or("").to_ascii_lowercase(),
                str_at(h, "/type").unwrap_or("Exact").to_owned(),
                str_at(h, "/value").unwrap_or("").to_owned(),
            )
        })
        .collect();
    headers.sort();
    if grpc {
        let method = m.get("method");
        return json!({
            "headers": headers,
            "type": method.and_then(|x| str_at(x, "/type")).unwrap_or("Exact"),
            "service": method.and_then(|x| str_at(x, "/service")),
            "method": method.and_then(|x| str_at(x, "/method")),
        });
    }
    let mut query: Vec<(String, String, String)> = array_at(m, "/queryParams")
        .iter()
        .map(|q| {
            (
                str_at(q, "/name").unwrap_or("").to_owned(),
                str_at(q, "/type").unwrap_or("Exact").to_owned(),
                str_at(q, "/value").unwrap_or("").to_owned(),
            )
        })
        .collect();
    query.sort();
    let path = m.get("path");
    json!({
        "headers": headers,
        "query": query,
        "method": str_at(m, "/method"),
        "path_type": path.and_then(|p| str_at(p, "/type")).unwrap_or("PathPrefix"),
        "path": path.and_then(|p| str_at(p, "/value")).unwrap_or("/"),
    })
}

#[cfg(test)]
mod tests {
    use super::dead_rules;
    use crate::manifests::Manifests;

    const MANIFESTS: &str = "\
kind: Gateway
metadata: {name: gw, namespace: infra}
spec: {listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
kind: HTTPRoute
metadata: {name: old, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  hostnames: [a.example.com]
  rules: [{matches: [{path: {value: /api}}], backendRefs: [{name: v1, port: 80}]}]
---
kind: HTTPRoute
metadata: {name: new, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  hostnames: [a.example.com]
  rules:
    - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x, value: y}]}]
      backendRefs: [{name: v2, port: 80}]
    - matches: [{path: {type: PathPrefix, value: /api}}]
      backendRefs: [{name: v2, port: 80}]
    - matches: [{path: {type: Exact, value: /api}}]
      backendRefs: [{name: v2, port: 80}]
";

    #[test]
    fn a_rule_with_the_same_match_as_an_older_route_is_dead() {
        let mut m = Manifests::default();
        m.add_yaml(MANIFESTS).unwrap();
        let config = m.plugin_config(Some("infra/gw"), None);
        let compiled = gatewasm_core::compile_bytes(&serde_json::to_vec(&config).unwrap()).unwrap();
        let gateway = &m.resources[0];
        let problems: Vec<String> = dead_rules(&m, gateway, &compiled.table)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("HTTPRoute app/new: spec.rules[1]: never matches: every request it matches goes to HTTPRoute app/old rule 0"), "{problems:?}");
    }
}
