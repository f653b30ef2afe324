//! One route rule compiled: its matches, header modifiers and weighted backends.
//!
//! A rule that cannot be implemented (unknown match type, invalid regex, unsupported filter) is
//! dropped with an error naming the field, and the route's other rules keep serving
//! (reference §8.5). An invalid backend keeps its share of the weight and answers 500 for it
//! (reference §5).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{
    BackendRef, GrpcMethodMatch, GrpcRouteMatch, GrpcRouteRule, HeaderModifier, HttpRouteFilter,
    HttpRouteMatch, HttpRouteRule, ReferenceGrant,
};
use crate::decide::{Backend, HeaderEdits};
use crate::matcher::{
    is_header_name, Condition, PathMatcher, Pattern, RequestMatcher, ValueMatcher, METHODS,
};
use crate::precedence::PathRank;
use crate::problem::Problem;
use crate::table::{PathKey, WeightedBackend};

use super::Names;

/// A rule ready for the table, before it gets its index.
pub(crate) struct RuleParts {
    pub(crate) request_headers: Option<HeaderEdits>,
    pub(crate) backends: Vec<WeightedBackend>,
    pub(crate) matches: Vec<MatchParts>,
}

/// One compiled match with what precedence needs to know about it.
pub(crate) struct MatchParts {
    pub(crate) matcher: RequestMatcher,
    pub(crate) key: PathKey,
    pub(crate) path: PathRank,
    pub(crate) method: bool,
    pub(crate) headers: u16,
    pub(crate) query: u16,
}

/// What backend resolution needs from the rest of the configuration.
pub(crate) struct BackendContext<'c> {
    pub(crate) route_kind: &'static str,
    pub(crate) route_namespace: &'c str,
    pub(crate) services: Option<&'c BTreeSet<String>>,
    pub(crate) grants: &'c [&'c ReferenceGrant],
    pub(crate) names: &'c Names,
    pub(crate) backends: &'c mut Vec<Backend>,
    pub(crate) backend_ids: &'c mut BTreeMap<String, u32>,
}

/// Compiles one HTTPRoute rule; `Err` is the reason it was dropped.
pub(crate) fn http_rule(
    rule: &HttpRouteRule,
    field: &str,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
    label: &str,
) -> Result<RuleParts, Problem> {
    let default_match = [HttpRouteMatch::default()];
    let matches = match rule.matches.as_deref() {
        None | Some([]) => &default_match[..],
        Some(m) => m,
    };
    let matches = matches
        .iter()
        .enumerate()
        .map(|(i, m)| http_match(m, &format!("{field}.matches[{i}]"), label, problems))
        .collect::<Result<Vec<_>, _>>()?;
    rule_parts(
        matches,
        &rule.filters,
        &rule.backend_refs,
        field,
        label,
        ctx,
        problems,
    )
}

/// Compiles one GRPCRoute rule; `Err` is the reason it was dropped.
pub(crate) fn grpc_rule(
    rule: &GrpcRouteRule,
    field: &str,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
    label: &str,
) -> Result<RuleParts, Problem> {
    let default_match = [GrpcRouteMatch::default()];
    let matches = if rule.matches.is_empty() {
        &default_match[..]
    } else {
        &rule.matches[..]
    };
    let matches = matches
        .iter()
        .enumerate()
        .map(|(i, m)| grpc_match(m, &format!("{field}.matches[{i}]"), label, problems))
        .collect::<Result<Vec<_>, _>>()?;
    rule_parts(
        matches,
        &rule.filters,
        &rule.backend_refs,
        field,
        label,
        ctx,
        problems,
    )
}

/// Filters and backends, shared by both route kinds.
fn rule_parts(
    matches: Vec<MatchParts>,
    rule_filters: &[HttpRouteFilter],
    backend_refs: &[BackendRef],
    field: &str,
    label: &str,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
) -> Result<RuleParts, Problem> {
    let request_headers = filters(rule_filters, &format!("{field}.filters"), label)?;
    let backends = backend_refs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            backend(
                b,
                &format!("{field}.backendRefs[{i}]"),
                label,
                ctx,
                problems,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RuleParts {
        request_headers,
        backends,
        matches,
    })
}

fn http_match(
    m: &HttpRouteMatch,
    field: &str,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Result<MatchParts, Problem> {
    let drop = |sub: &str, message: String| {
        Problem::error(
            label,
            format!("{field}{sub}"),
            format!("{message}; the rule was dropped"),
        )
    };
    let path = m.path.as_ref();
    let path = PathMatcher::new(
        path.and_then(|p| p.kind.as_deref()),
        path.and_then(|p| p.value.as_deref()),
    )
    .map_err(|e| drop(".path", e))?;
    let (key, rank) = match &path {
        PathMatcher::Exact(p) => (PathKey::Exact(p.clone()), PathRank::Exact),
        PathMatcher::Prefix(q) => (PathKey::Prefix(q.clone()), PathRank::Prefix(q.len())),
        PathMatcher::Regex(pattern) => (PathKey::Regex, PathRank::Regex(pattern.len())),
    };
    let method = match m.method.as_deref() {
        None => None,
        Some(method) if METHODS.contains(&method) => Some(method.to_owned()),
        Some(other) => {
            return Err(drop(
                ".method",
                crate::matcher::unsupported(other, &METHODS.join(", ")),
            ))
        }
    };
    let headers = conditions(
        Field::Headers,
        m.headers
            .iter()
            .map(|h| (h.kind.as_deref(), h.name.as_str(), h.value.as_str())),
        field,
        label,
        problems,
    )?;
    let query = conditions(
        Field::QueryParams,
        m.query_params
            .iter()
            .map(|q| (q.kind.as_deref(), q.name.as_str(), q.value.as_str())),
        field,
        label,
        problems,
    )?;
    let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    Ok(MatchParts {
        method: method.is_some(),
        headers: count(headers.len()),
        query: count(query.len()),
        path: rank,
        key,
        matcher: RequestMatcher {
            path,
            method,
            headers,
            query,
        },
    })
}

/// Which list of conditions a match entry comes from.
#[derive(Clone, Copy)]
enum Field {
    /// `headers`: names compared case-insensitively (stored lowercase).
    Headers,
    /// `queryParams`: names compared exactly.
    QueryParams,
}

/// Header or query conditions; a repeated name keeps its first entry (reference §3.3, §3.4).
fn conditions<'a>(
    which: Field,
    entries: impl Iterator<Item = (Option<&'a str>, &'a str, &'a str)>,
    field: &str,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Condition>, Problem> {
    let (list, noun) = match which {
        Field::Headers => ("headers", "header"),
        Field::QueryParams => ("queryParams", "query parameter"),
    };
    let mut conditions: Vec<Condition> = Vec::new();
    for (i, (kind, name, value)) in entries.enumerate() {
        let at = format!("{field}.{list}[{i}]");
        if !is_header_name(name) {
            return Err(Problem::error(
                label,
                format!("{at}.name"),
                format!("{name:?} is not a valid {noun} name; the rule was dropped"),
            ));
        }
        let name = match which {
            Field::Headers => name.to_ascii_lowercase(),
            Field::QueryParams => name.to_owned(),
        };
        if conditions.iter().any(|c| c.name == name) {
            problems.push(Problem::warning(
                label,
                at,
                format!(
                    "{noun} {name:?} is already matched by an earlier entry; this one is ignored"
                ),
            ));
            continue;
        }
        let value = ValueMatcher::new(kind, value)
            .map_err(|e| Problem::error(label, &at, format!("{e}; the rule was dropped")))?;
        conditions.push(Condition { name, value });
    }
    Ok(conditions)
}

/// One GRPCRoute match: the method match becomes a path condition on `/<service>/<method>`
/// (reference §7.3), ranked by the characters of its service and method.
fn grpc_match(
    m: &GrpcRouteMatch,
    field: &str,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Result<MatchParts, Problem> {
    let (path, key, rank) = match &m.method {
        None => (
            PathMatcher::Prefix("/".to_owned()),
            PathKey::Prefix("/".to_owned()),
            PathRank::Grpc {
                service: 0,
                method: 0,
            },
        ),
        Some(method) => grpc_method(method).map_err(|(sub, e)| {
            Problem::error(
                label,
                format!("{field}.method{sub}"),
                format!("{e}; the rule was dropped"),
            )
        })?,
    };
    let headers = conditions(
        Field::Headers,
        m.headers
            .iter()
            .map(|h| (h.kind.as_deref(), h.name.as_str(), h.value.as_str())),
        field,
        label,
        problems,
    )?;
    Ok(MatchParts {
        method: false,
        headers: u16::try_from(headers.len()).unwrap_or(u16::MAX),
        query: 0,
        path: rank,
        key,
        matcher: RequestMatcher {
            path,
            method: None,
            headers,
            query: Vec::new(),
        },
    })
}

type GrpcPath = (PathMatcher, PathKey, PathRank);

fn grpc_method(m: &GrpcMethodMatch) -> Result<GrpcPath, (&'static str, String)> {
    let service = m.service.as_deref().filter(|s| !s.is_empty());
    let method = m.method.as_deref().filter(|s| !s.is_empty());
    let rank = PathRank::Grpc {
        service: service.map_or(0, str::len),
        method: method.map_or(0, str::len),
    };
    let regex = |source: String| {
        Pattern::new(&source).map(|p| (PathMatcher::Regex(p), PathKey::Regex, rank))
    };
    match m.kind.as_deref().unwrap_or("Exact") {
        _ if service.is_none() && method.is_none() => {
            Err(("", String::from("needs a service, a method, or both")))
        }
        "Exact" => {
            if let Some(s) = service.filter(|s| !is_grpc_service(s)) {
                return Err((
                    ".service",
                    grpc_name_problem(
                        s,
                        "a fully qualified service such as com.example.api.UserService",
                    ),
                ));
            }
            if let Some(name) = method.filter(|name| !is_grpc_method(name)) {
                return Err((
                    ".method",
                    grpc_name_problem(name, "a method name such as GetUser"),
                ));
            }
            match (service, method) {
                (Some(s), Some(name)) => {
                    let path = format!("/{s}/{name}");
                    Ok((PathMatcher::Exact(path.clone()), PathKey::Exact(path), rank))
                }
                (Some(s), None) => Ok((
                    PathMatcher::Prefix(format!("/{s}")),
                    PathKey::Prefix(format!("/{s}")),
                    rank,
                )),
                // Method names are [A-Za-z0-9_], so they need no escaping.
                (None, Some(name)) => regex(format!("/[^/]+/{name}")).map_err(|e| ("", e)),
                (None, None) => Err(("", String::from("needs a service, a method, or both"))),
            }
        }
        "RegularExpression" => regex(format!(
            "/(?:{})/(?:{})",
            service.unwrap_or("[^/]+"),
            method.unwrap_or("[^/]+")
        ))
        .map_err(|e| ("", e)),
        other => Err((
            ".type",
            crate::matcher::unsupported(other, "Exact, RegularExpression"),
        )),
    }
}

/// `^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$` (reference §1).
fn is_grpc_service(service: &str) -> bool {
    let service = service.strip_prefix('.').unwrap_or(service);
    !service.is_empty() && service.split('.').all(is_grpc_method)
}

/// `^[A-Za-z_][A-Za-z_0-9]*$` (reference §1).
fn is_grpc_method(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn grpc_name_problem(value: &str, expected: &str) -> String {
    if value.contains('/') {
        format!("{value:?} contains \"/\": write the service (package.Service) and the method in their own fields")
    } else {
        format!("{value:?} is not {expected}")
    }
}

/// The filters this version implements; any other type drops the rule rather than silently
/// doing less than the route asks.
fn filters(
    filters: &[HttpRouteFilter],
    field: &str,
    label: &str,
) -> Result<Option<HeaderEdits>, Problem> {
    let mut request_headers = None;
    for (i, filter) in filters.iter().enumerate() {
        let field = format!("{field}[{i}]");
        match filter.kind.as_str() {
            "RequestHeaderModifier" => {
                if request_headers.is_some() {
                    return Err(Problem::error(label, format!("{field}.type"), "RequestHeaderModifier may appear only once; the rule was dropped"));
                }
                let Some(modifier) = &filter.request_header_modifier else {
                    return Err(Problem::error(label, format!("{field}.requestHeaderModifier"), "missing for type RequestHeaderModifier; the rule was dropped"));
                };
                request_headers = Some(header_edits(modifier, &format!("{field}.requestHeaderModifier"), label)?);
            }
            other => {
                return Err(Problem::error(label, format!("{field}.type"), format!("filter {other:?} is not supported by this version of gatewasm; the rule was dropped")))
            }
        }
    }
    Ok(request_headers)
}

/// A header modifier with lowercase names; one action per name (reference §4.2).
fn header_edits(
    modifier: &HeaderModifier,
    field: &str,
    label: &str,
) -> Result<HeaderEdits, Problem> {
    let mut seen: Vec<String> = Vec::new();
    let mut name = |action: &str, i: usize, name: &str| {
        let lower = name.to_ascii_lowercase();
        if !is_header_name(name) {
            return Err(Problem::error(
                label,
                format!("{field}.{action}[{i}].name"),
                format!("{name:?} is not a valid header name; the rule was dropped"),
            ));
        }
        if seen.contains(&lower) {
            return Err(Problem::error(
                label,
                format!("{field}.{action}[{i}]"),
                format!("header {name:?} is modified twice in one filter; the rule was dropped"),
            )
            .with_hint(
                "give each header one action; write several values as one comma-separated value",
            ));
        }
        seen.push(lower.clone());
        Ok(lower)
    };
    let mut edits = HeaderEdits::default();
    for (i, h) in modifier.set.iter().enumerate() {
        edits.set.push((name("set", i, &h.name)?, h.value.clone()));
    }
    for (i, h) in modifier.add.iter().enumerate() {
        edits.add.push((name("add", i, &h.name)?, h.value.clone()));
    }
    for (i, h) in modifier.remove.iter().enumerate() {
        edits.remove.push(name("remove", i, h)?);
    }
    Ok(edits)
}

fn backend(
    b: &BackendRef,
    field: &str,
    label: &str,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
) -> Result<WeightedBackend, Problem> {
    let weight = b.weight.unwrap_or(1);
    let request_headers = filters(&b.filters, &format!("{field}.filters"), label)?;
    let backend = match resolve(b, ctx) {
        Ok(backend) => {
            let id = match ctx.backend_ids.get(&backend.key) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(ctx.backends.len()).unwrap_or(u32::MAX);
                    ctx.backend_ids.insert(backend.key.clone(), id);
                    ctx.backends.push(backend);
                    id
                }
            };
            Some(id)
        }
        Err(reason) => {
            if weight > 0 {
                problems.push(Problem::error(
                    label,
                    field.to_owned(),
                    format!("{reason}; requests for this backend get 500"),
                ));
            }
            None
        }
    };
    Ok(WeightedBackend {
        weight,
        backend,
        request_headers,
    })
}

/// The backend a reference names, or why it cannot be used (reference §5, §9).
fn resolve(b: &BackendRef, ctx: &BackendContext<'_>) -> Result<Backend, String> {
    let group = b.group.as_deref().unwrap_or("");
    let kind = b.kind.as_deref().unwrap_or("Service");
    match (group, kind) {
        ("", "Service") | ("multicluster.x-k8s.io", "ServiceImport") => {}
        _ => {
            return Err(format!(
                "backend kind {kind} in group {group:?} is not supported (InvalidKind)"
            ))
        }
    }
    let port = match b.port.map(u16::try_from) {
        Some(Ok(port)) if port > 0 => port,
        _ => {
            return Err(format!(
                "{kind} {:?} needs a port between 1 and 65535",
                b.name
            ))
        }
    };
    let namespace = b
        .namespace
        .as_deref()
        .filter(|ns| !ns.is_empty())
        .unwrap_or(ctx.route_namespace);
    if namespace != ctx.route_namespace && !granted(ctx, group, kind, namespace, &b.name) {
        return Err(format!(
            "{kind} {namespace}/{} is in another namespace and no ReferenceGrant in {namespace} allows {} from {} (RefNotPermitted)",
            b.name, ctx.route_kind, ctx.route_namespace
        ));
    }
    let key = format!("{namespace}/{}:{port}", b.name);
    if let Some(services) = ctx.services {
        if !services.contains(&key) && !services.contains(&format!("{namespace}/{}", b.name)) {
            return Err(format!(
                "{kind} {key} is not among the known services (BackendNotFound)"
            ));
        }
    }
    Ok(Backend {
        cluster: ctx.names.cluster(&b.name, namespace, port),
        authority: ctx.names.authority(&b.name, namespace, port),
        key,
    })
}

/// Whether a ReferenceGrant in the target namespace allows the reference (all four parts).
fn granted(ctx: &BackendContext<'_>, group: &str, kind: &str, namespace: &str, name: &str) -> bool {
    ctx.grants
        .iter()
        .filter(|g| g.metadata.namespace() == namespace)
        .any(|g| {
            g.spec.from.iter().any(|f| {
                f.group == "gateway.networking.k8s.io"
                    && f.kind == ctx.route_kind
                    && f.namespace == ctx.route_namespace
            }) && g.spec.to.iter().any(|t| {
                t.group == group && t.kind == kind && t.name.as_deref().is_none_or(|n| n == name)
            })
        })
}
