//! Rules that can never match: each match of a rule is turned into the request it describes and
//! decided by the compiled table; when every such request goes to another rule with the very
//! same match (which wins the precedence tie), the rule is dead.
//!
//! Only what can be proven is reported: a match with a regular expression, or a request that
//! another, more specific match wins, counts as live. This is a reading aid for `check`, not a
//! validation the filter makes; the precedence itself is the core's (reference §3.7, §7.4).

use gatewasm_core::config::{Gateway, GrpcRouteMatch, HttpRouteMatch, NamedValueMatch, Route};
use gatewasm_core::{borrow_pairs, Problem, RequestView, RouteTable};

use crate::objects::Objects;

/// Warnings for the rules of routes on `gateway` that can never match.
pub(super) fn dead_rules(
    objects: &Objects<'_>,
    gateway: &Gateway,
    table: &RouteTable,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for route in objects.routes() {
        let listeners: Vec<(u16, Option<&str>)> = route
            .parent_refs()
            .iter()
            .flat_map(|p| objects.selected_listeners(route, p))
            .filter(|l| std::ptr::eq(l.gateway, gateway))
            .filter_map(|l| {
                let port = u16::try_from(l.listener.port?).ok()?;
                Some((port, l.listener.hostname.as_deref()))
            })
            .collect();
        if listeners.is_empty() {
            continue;
        }
        for (index, matches) in rule_matches(route) {
            if let Some(winner) = dead_rule(objects, route, index, &matches, &listeners, table) {
                problems.push(
                    Problem::warning(
                        route.label(),
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

/// One match of a rule; `None` inside is a rule without matches, which matches every request.
#[derive(Clone, Copy)]
enum Match<'c> {
    Http(Option<&'c HttpRouteMatch>),
    Grpc(Option<&'c GrpcRouteMatch>),
}

/// The matches of each rule `spec.rules` lists, with the rule's index.
fn rule_matches(route: Route<'_>) -> Vec<(usize, Vec<Match<'_>>)> {
    match route {
        Route::Http(r) => r
            .spec
            .rules
            .iter()
            .flatten()
            .map(|rule| match rule.matches.as_deref() {
                None | Some([]) => vec![Match::Http(None)],
                Some(matches) => matches.iter().map(|m| Match::Http(Some(m))).collect(),
            })
            .enumerate()
            .collect(),
        Route::Grpc(r) => r
            .spec
            .rules
            .iter()
            .map(|rule| match rule.matches.as_slice() {
                [] => vec![Match::Grpc(None)],
                matches => matches.iter().map(|m| Match::Grpc(Some(m))).collect(),
            })
            .enumerate()
            .collect(),
    }
}

/// The rule that takes every request of this rule, if there is one.
fn dead_rule(
    objects: &Objects<'_>,
    route: Route<'_>,
    index: usize,
    matches: &[Match<'_>],
    listeners: &[(u16, Option<&str>)],
    table: &RouteTable,
) -> Option<String> {
    let meta = route.metadata();
    let mut winner = None;
    for &m in matches {
        let headers = probe(m)?;
        let mut evidence = false;
        for &(port, listener_host) in listeners {
            for host in probe_hosts(route, listener_host) {
                let mut request = headers.clone();
                request.push((":authority".to_owned(), host.into_bytes()));
                request.push((":scheme".to_owned(), b"https".to_vec()));
                let request = borrow_pairs(&request);
                let view = RequestView::new(&request, Some(port));
                let Some(won) = table.decide(&view, 0).rule else {
                    continue;
                };
                let ours = won.kind == route.kind()
                    && won.namespace == meta.namespace()
                    && won.name == meta.name;
                if ours && won.index == index {
                    return None;
                }
                let rival = objects
                    .route(won.kind, won.namespace, won.name)
                    .and_then(|r| rule_matches(r).into_iter().nth(won.index));
                let same =
                    rival.is_some_and(|(_, rival)| rival.iter().any(|&x| normal(x) == normal(m)));
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
fn probe_hosts(route: Route<'_>, listener_host: Option<&str>) -> Vec<String> {
    let concrete = |h: &str| match h.strip_prefix('*') {
        Some(suffix) => format!("gatewasm-probe{suffix}"),
        None => h.to_owned(),
    };
    let hosts: Vec<String> = route.hostnames().iter().map(|h| concrete(h)).collect();
    if !hosts.is_empty() {
        return hosts;
    }
    vec![listener_host.map_or_else(|| "gatewasm-probe.invalid".to_owned(), concrete)]
}

/// The request a match describes, without its Host; `None` when it cannot be written down
/// (regular expressions, method-only gRPC matches, query values that need escaping).
fn probe(m: Match<'_>) -> Option<Vec<(String, Vec<u8>)>> {
    let mut headers = Vec::new();
    let written_headers = match m {
        Match::Http(m) => m.map_or(&[][..], |m| m.headers.as_slice()),
        Match::Grpc(m) => m.map_or(&[][..], |m| m.headers.as_slice()),
    };
    for h in written_headers {
        if h.kind() != "Exact" {
            return None;
        }
        headers.push((h.name.to_ascii_lowercase(), h.value.as_bytes().to_vec()));
    }
    let (method, path) = match m {
        Match::Grpc(m) => {
            headers.push(("content-type".to_owned(), b"application/grpc".to_vec()));
            let method = m.and_then(|m| m.method.as_ref());
            if method.is_some_and(|x| x.kind() != "Exact") {
                return None;
            }
            let service = method.and_then(|x| x.service.as_deref());
            let rpc = method.and_then(|x| x.method.as_deref());
            let path = match (service, rpc) {
                (Some(s), Some(r)) => format!("/{s}/{r}"),
                (Some(s), None) => format!("/{s}/GatewasmProbe"),
                (None, Some(_)) => return None,
                (None, None) => "/gatewasm.Probe/Probe".to_owned(),
            };
            ("POST".to_owned(), path)
        }
        Match::Http(m) => {
            let path = m.and_then(|m| m.path.as_ref());
            let value = path.map_or("/", |p| p.value());
            // A prefix is probed below itself, so that an Exact match of the same value (which
            // wins over any prefix) does not hide whether the prefix is live.
            let mut path = match path.map_or("PathPrefix", |p| p.kind()) {
                "Exact" => value.to_owned(),
                "PathPrefix" => format!("{}/gatewasm-probe", value.trim_end_matches('/')),
                _ => return None,
            };
            let mut separator = '?';
            for q in m.map_or(&[][..], |m| m.query_params.as_slice()) {
                let plain = |s: &str| {
                    s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
                };
                if q.kind() != "Exact" || !plain(&q.name) || !plain(&q.value) {
                    return None;
                }
                path.push(separator);
                path.push_str(&format!("{}={}", q.name, q.value));
                separator = '&';
            }
            let method = m.and_then(|m| m.method.as_deref()).unwrap_or("GET");
            (method.to_owned(), path)
        }
    };
    headers.push((":method".to_owned(), method.into_bytes()));
    headers.push((":path".to_owned(), path.into_bytes()));
    Some(headers)
}

/// A match with the API defaults applied and lists in a fixed order, for comparison.
#[derive(PartialEq, Eq)]
struct Normal<'c> {
    headers: Vec<(String, &'c str, &'c str)>,
    query: Vec<(String, &'c str, &'c str)>,
    /// HTTP: method, path type and path; gRPC: method type, service and method.
    request: [Option<&'c str>; 3],
}

fn normal(m: Match<'_>) -> Normal<'_> {
    match m {
        Match::Grpc(m) => {
            let method = m.and_then(|m| m.method.as_ref());
            Normal {
                headers: sorted(m.map_or(&[][..], |m| m.headers.as_slice()), true),
                query: Vec::new(),
                request: [
                    Some(method.map_or("Exact", |x| x.kind())),
                    method.and_then(|x| x.service.as_deref()),
                    method.and_then(|x| x.method.as_deref()),
                ],
            }
        }
        Match::Http(m) => {
            let path = m.and_then(|m| m.path.as_ref());
            Normal {
                headers: sorted(m.map_or(&[][..], |m| m.headers.as_slice()), true),
                query: sorted(m.map_or(&[][..], |m| m.query_params.as_slice()), false),
                request: [
                    m.and_then(|m| m.method.as_deref()),
                    Some(path.map_or("PathPrefix", |p| p.kind())),
                    Some(path.map_or("/", |p| p.value())),
                ],
            }
        }
    }
}

/// Header or query matches by name (header names lowercased), type and value, sorted.
fn sorted(matches: &[NamedValueMatch], lowercase: bool) -> Vec<(String, &str, &str)> {
    let mut list: Vec<(String, &str, &str)> = matches
        .iter()
        .map(|h| {
            let name = if lowercase {
                h.name.to_ascii_lowercase()
            } else {
                h.name.clone()
            };
            (name, h.kind(), h.value.as_str())
        })
        .collect();
    list.sort();
    list
}

#[cfg(test)]
mod tests {
    use super::dead_rules;
    use crate::manifests::Manifests;
    use crate::objects::Objects;

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
        let objects = Objects::read(&m.resources).unwrap();
        let gateway = objects.gateways().next().unwrap();
        let problems: Vec<String> = dead_rules(&objects, gateway, &compiled.table)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("HTTPRoute app/new: spec.rules[1]: never matches: every request it matches goes to HTTPRoute app/old rule 0"), "{problems:?}");
    }
}
