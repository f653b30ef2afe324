//! One route rule compiled: its matches, header modifiers and weighted backends.
//!
//! A rule that cannot be implemented (unknown match type, invalid regex, unsupported filter) is
//! dropped with an error naming the field, and the route's other rules keep serving
//! (reference §8.5). An invalid backend keeps its share of the weight and answers 500 for it
//! (reference §5).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{
    BackendRef, HeaderModifier, HttpRouteFilter, HttpRouteMatch, HttpRouteRule, ReferenceGrant,
};
use crate::decide::{Backend, HeaderEdits};
use crate::matcher::{
    is_header_name, HeaderCondition, PathMatcher, QueryCondition, RequestMatcher, ValueMatcher,
    METHODS,
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
    let request_headers = filters(&rule.filters, &format!("{field}.filters"), label)?;
    let backends = rule
        .backend_refs
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
    let mut headers: Vec<HeaderCondition> = Vec::new();
    for (i, h) in m.headers.iter().enumerate() {
        if !is_header_name(&h.name) {
            return Err(drop(
                &format!(".headers[{i}].name"),
                format!("{:?} is not a valid header name", h.name),
            ));
        }
        let name = h.name.to_ascii_lowercase();
        if headers.iter().any(|c| c.name == name) {
            problems.push(Problem::warning(
                label,
                format!("{field}.headers[{i}]"),
                format!(
                    "header {:?} is already matched by an earlier entry; this one is ignored",
                    h.name
                ),
            ));
            continue;
        }
        let value = ValueMatcher::new(h.kind.as_deref(), &h.value)
            .map_err(|e| drop(&format!(".headers[{i}]"), e))?;
        headers.push(HeaderCondition { name, value });
    }
    let mut query: Vec<QueryCondition> = Vec::new();
    for (i, q) in m.query_params.iter().enumerate() {
        if !is_header_name(&q.name) {
            return Err(drop(
                &format!(".queryParams[{i}].name"),
                format!("{:?} is not a valid query parameter name", q.name),
            ));
        }
        if query.iter().any(|c| c.name == q.name) {
            problems.push(Problem::warning(
                label,
                format!("{field}.queryParams[{i}]"),
                format!(
                    "parameter {:?} is already matched by an earlier entry; this one is ignored",
                    q.name
                ),
            ));
            continue;
        }
        let value = ValueMatcher::new(q.kind.as_deref(), &q.value)
            .map_err(|e| drop(&format!(".queryParams[{i}]"), e))?;
        query.push(QueryCondition {
            name: q.name.clone(),
            value,
        });
    }
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
