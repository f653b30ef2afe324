//! One route rule compiled: its matches, header modifiers and weighted backends.
//!
//! A rule that cannot be implemented (unknown match type, invalid regex, unsupported filter) is
//! dropped with an error naming the field, and the route's other rules keep serving
//! (reference §8.5). An invalid backend keeps its share of the weight and answers 500 for it
//! (reference §5).

use crate::config::{
    BackendRef, GrpcMethodMatch, GrpcRouteMatch, GrpcRouteRule, HttpRouteFilter, HttpRouteMatch,
    HttpRouteRule, NamedValueMatch, Retry, SessionPersistence, Timeouts,
};
use crate::filters::Filters;
use crate::matcher::{
    is_header_name, Condition, PathMatcher, Pattern, RequestMatcher, ValueMatcher, METHODS,
};
use crate::precedence::PathRank;
use crate::problem::Problem;
use crate::session::{backend_hash, Carrier, Persistence};
use crate::table::{PathKey, WeightedBackend};

use super::backends::BackendContext;
use super::cluster_split::{self, Share};
use super::filters::{self, FilterSite};

/// A rule ready for the table, before it gets its index.
pub(crate) struct RuleParts {
    pub(crate) filters: Filters,
    pub(crate) backends: Vec<WeightedBackend>,
    pub(crate) matches: Vec<MatchParts>,
    /// `x-envoy-*` request headers carrying the rule's timeouts and retry policy.
    pub(crate) envoy_headers: Vec<(String, String)>,
    /// Session persistence, when the rule asks for it.
    pub(crate) persistence: Option<Persistence>,
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

/// Where a rule sits, for messages.
pub(crate) struct RuleSite<'a> {
    pub(crate) route_kind: &'static str,
    pub(crate) field: String,
    pub(crate) label: &'a str,
}

/// Compiles one HTTPRoute rule; `Err` is the reason it was dropped.
pub(crate) fn http_rule(
    rule: &HttpRouteRule,
    site: &RuleSite<'_>,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
) -> Result<RuleParts, Problem> {
    let matches = compile_matches(
        rule.matches.as_deref().unwrap_or_default(),
        site,
        problems,
        http_match,
    )?;
    let mut parts = rule_parts(
        matches,
        &rule.filters,
        &rule.backend_refs,
        rule.session_persistence.as_ref(),
        site,
        ctx,
        problems,
    )?;
    parts.envoy_headers =
        envoy_headers(rule.timeouts.as_ref(), rule.retry.as_ref()).map_err(|(sub, e)| {
            Problem::error(
                site.label,
                format!("{}{sub}", site.field),
                format!("{e}; the rule was dropped"),
            )
        })?;
    Ok(parts)
}

/// Compiles one GRPCRoute rule; `Err` is the reason it was dropped.
pub(crate) fn grpc_rule(
    rule: &GrpcRouteRule,
    site: &RuleSite<'_>,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
) -> Result<RuleParts, Problem> {
    let matches = compile_matches(&rule.matches, site, problems, grpc_match)?;
    rule_parts(
        matches,
        &rule.filters,
        &rule.backend_refs,
        rule.session_persistence.as_ref(),
        site,
        ctx,
        problems,
    )
}

/// A rule's `sessionPersistence`: cookie (default) or header, a name (generated from the route
/// and rule when absent), timeouts, and `Permanent` cookies that need an absolute timeout.
pub(crate) fn persistence(
    p: &SessionPersistence,
    site: &RuleSite<'_>,
) -> Result<Persistence, Problem> {
    let field = format!("{}.sessionPersistence", site.field);
    let drop = |sub: &str, message: String| {
        Problem::error(
            site.label,
            format!("{field}{sub}"),
            format!("{message}; the rule was dropped"),
        )
    };
    let carrier = match p.kind.as_deref().unwrap_or("Cookie") {
        "Cookie" => Carrier::Cookie,
        "Header" => Carrier::Header,
        other => {
            return Err(drop(
                ".type",
                crate::matcher::unsupported(other, "Cookie, Header"),
            ))
        }
    };
    let name = match &p.session_name {
        Some(name) if is_header_name(name) => name.clone(),
        Some(name) => {
            return Err(drop(
                ".sessionName",
                format!("{name:?} is not a valid cookie or header name"),
            ))
        }
        None => format!(
            "gatewasm-{:012x}",
            backend_hash(&format!("{} {}", site.label, site.field)) >> 16
        ),
    };
    let secs = |value: Option<&str>, sub: &str| {
        value
            .map(|v| {
                duration_ms(v)
                    .map(|ms| ms.div_ceil(1000))
                    .ok_or_else(|| drop(sub, format!("{v:?} is not a Gateway API duration")))
            })
            .transpose()
    };
    let absolute_secs = secs(p.absolute_timeout.as_deref(), ".absoluteTimeout")?;
    let idle_secs = secs(p.idle_timeout.as_deref(), ".idleTimeout")?;
    let permanent = match p
        .cookie_config
        .as_ref()
        .and_then(|c| c.lifetime_type.as_deref())
    {
        None | Some("Session") => false,
        Some("Permanent") if absolute_secs.is_some() => true,
        Some("Permanent") => {
            return Err(drop(
                ".cookieConfig.lifetimeType",
                String::from("Permanent needs absoluteTimeout"),
            ))
        }
        Some(other) => {
            return Err(drop(
                ".cookieConfig.lifetimeType",
                crate::matcher::unsupported(other, "Session, Permanent"),
            ))
        }
    };
    let name = if carrier == Carrier::Header {
        name.to_ascii_lowercase()
    } else {
        name
    };
    Ok(Persistence {
        carrier,
        name,
        absolute_secs,
        idle_secs,
        permanent,
        cookie_attributes: None,
    })
}

/// Compiles a rule's matches, each with its field path; no matches means one default match
/// (HTTPRoute: `PathPrefix /`; GRPCRoute: every gRPC request).
fn compile_matches<M: Default>(
    matches: &[M],
    site: &RuleSite<'_>,
    problems: &mut Vec<Problem>,
    compile: fn(&M, &str, &str, &mut Vec<Problem>) -> Result<MatchParts, Problem>,
) -> Result<Vec<MatchParts>, Problem> {
    let default_match = [M::default()];
    let matches = if matches.is_empty() {
        &default_match[..]
    } else {
        matches
    };
    matches
        .iter()
        .enumerate()
        .map(|(i, m)| {
            compile(
                m,
                &format!("{}.matches[{i}]", site.field),
                site.label,
                problems,
            )
        })
        .collect()
}

/// Filters, backends and session persistence, shared by both route kinds.
fn rule_parts(
    matches: Vec<MatchParts>,
    rule_filters: &[HttpRouteFilter],
    backend_refs: &[BackendRef],
    session: Option<&SessionPersistence>,
    site: &RuleSite<'_>,
    ctx: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
) -> Result<RuleParts, Problem> {
    let single_prefix = match matches.as_slice() {
        [only] if only.path != PathRank::Exact => match &only.key {
            PathKey::Prefix(prefix) => Some(prefix.as_str()),
            _ => None,
        },
        _ => None,
    };
    // Most rules and backendRefs have no filters: their field paths are only built for lists
    // that have entries (a configuration of 10,000 rules would otherwise format 20,000 paths).
    let compile_filters = |list: &[HttpRouteFilter],
                           field: &dyn Fn() -> String,
                           in_rule: bool,
                           ctx: &mut BackendContext<'_>,
                           problems: &mut Vec<Problem>| {
        if list.is_empty() {
            return Ok(Filters::default());
        }
        let site = FilterSite {
            route_kind: site.route_kind,
            single_prefix,
            in_rule,
            field: field(),
            label: site.label,
        };
        filters::compile(list, &site, ctx, problems)
    };
    let filters = compile_filters(
        rule_filters,
        &|| format!("{}.filters", site.field),
        true,
        ctx,
        problems,
    )?;
    if filters.redirect.is_some() && !backend_refs.is_empty() {
        return Err(Problem::error(
            site.label,
            format!("{}.filters", site.field),
            "RequestRedirect cannot be used together with backendRefs; the rule was dropped",
        ));
    }
    let mut shares = Vec::with_capacity(backend_refs.len());
    for (i, b) in backend_refs.iter().enumerate() {
        let field = || format!("{}.backendRefs[{i}]", site.field);
        let split = b.filters.iter().find(|f| cluster_split::names_split(f));
        let filters = compile_filters(
            &b.filters,
            &|| format!("{}.filters", field()),
            false,
            ctx,
            problems,
        )?;
        let weight = b.weight.unwrap_or(1);
        let backend = match ctx.resolve(b) {
            Ok(id) => Some(id),
            Err(reason) => {
                if weight > 0 {
                    problems.push(Problem::error(
                        site.label,
                        field(),
                        format!("{reason}; requests for this backend get 500"),
                    ));
                }
                None
            }
        };
        let mut entries = vec![(backend, 1, filters)];
        if let (Some(split), Some(base)) = (split, backend) {
            match cluster_split::subsets(split, base, ctx) {
                Ok(subsets) => {
                    entries.clear();
                    for (id, cluster_weight) in subsets {
                        // Each cluster's entry carries the backendRef's own filters.
                        let filters = compile_filters(
                            &b.filters,
                            &|| format!("{}.filters", field()),
                            false,
                            ctx,
                            &mut Vec::new(),
                        )?;
                        entries.push((Some(id), cluster_weight, filters));
                    }
                }
                Err(message) => problems.push(Problem::error(
                    site.label,
                    format!("{}.filters", field()),
                    format!("{message}; the backend gets its whole share, unsplit"),
                )),
            }
        }
        shares.push(Share { weight, entries });
    }
    let backends = cluster_split::flatten(shares).map_err(|message| {
        Problem::error(
            site.label,
            format!("{}.backendRefs", site.field),
            format!("{message}; the rule was dropped"),
        )
    })?;
    Ok(RuleParts {
        filters,
        backends,
        matches,
        envoy_headers: Vec::new(),
        persistence: session.map(|p| persistence(p, site)).transpose()?,
    })
}

/// The `x-envoy-*` request headers Envoy's router reads for a rule's timeouts and retry policy
/// (reference §6; Envoy notes §5b).
fn envoy_headers(
    timeouts: Option<&Timeouts>,
    retry: Option<&Retry>,
) -> Result<Vec<(String, String)>, (&'static str, String)> {
    let mut headers = Vec::new();
    let ms = |value: &str| {
        duration_ms(value).ok_or_else(|| {
            format!("{value:?} is not a Gateway API duration such as 500ms, 10s or 1h30m")
        })
    };
    if let Some(t) = timeouts {
        let request = t
            .request
            .as_deref()
            .map(ms)
            .transpose()
            .map_err(|e| (".timeouts.request", e))?;
        let backend = t
            .backend_request
            .as_deref()
            .map(ms)
            .transpose()
            .map_err(|e| (".timeouts.backendRequest", e))?;
        if let (Some(request), Some(backend)) = (request, backend) {
            if request != 0 && backend > request {
                return Err((
                    ".timeouts.backendRequest",
                    String::from("must not be longer than timeouts.request"),
                ));
            }
        }
        if let Some(request) = request {
            headers.push((
                String::from("x-envoy-upstream-rq-timeout-ms"),
                request.to_string(),
            ));
        }
        if let Some(backend) = backend {
            headers.push((
                String::from("x-envoy-upstream-rq-per-try-timeout-ms"),
                backend.to_string(),
            ));
        }
    }
    if let Some(r) = retry {
        if let Some(bad) = r.codes.iter().find(|c| !(400..=599).contains(*c)) {
            return Err((
                ".retry.codes",
                format!("{bad} is not a status code between 400 and 599"),
            ));
        }
        let mut retry_on = String::from("connect-failure,refused-stream,reset");
        if !r.codes.is_empty() {
            retry_on.insert_str(0, "retriable-status-codes,");
            let codes: Vec<String> = r.codes.iter().map(ToString::to_string).collect();
            headers.push((
                String::from("x-envoy-retriable-status-codes"),
                codes.join(","),
            ));
        }
        headers.push((String::from("x-envoy-retry-on"), retry_on));
        if let Some(attempts) = r.attempts {
            headers.push((String::from("x-envoy-max-retries"), attempts.to_string()));
        }
        if let Some(backoff) = r.backoff.as_deref() {
            ms(backoff).map_err(|e| (".retry.backoff", e))?;
        }
    }
    Ok(headers)
}

/// Milliseconds of a GEP-2257 duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`).
pub(crate) fn duration_ms(value: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut rest = value;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 5 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1, 2)
        } else if rest.starts_with('h') {
            (3_600_000, 1)
        } else if rest.starts_with('m') {
            (60_000, 1)
        } else if rest.starts_with('s') {
            (1_000, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total += number * unit;
        parts += 1;
    }
    (1..=4).contains(&parts).then_some(total)
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
    let (key, rank, path_regex) = match path {
        PathMatcher::Exact(p) => (PathKey::Exact(p), PathRank::Exact, None),
        PathMatcher::Prefix(q) => {
            let rank = PathRank::Prefix(q.len());
            (PathKey::Prefix(q), rank, None)
        }
        PathMatcher::Regex(pattern) => {
            let rank = PathRank::Regex(pattern.len());
            (PathKey::Regex, rank, Some(pattern))
        }
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
    let headers = conditions(Field::Headers, &m.headers, field, label, problems)?;
    let query = conditions(Field::QueryParams, &m.query_params, field, label, problems)?;
    let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    Ok(MatchParts {
        method: method.is_some(),
        headers: count(headers.len()),
        query: count(query.len()),
        path: rank,
        key,
        matcher: RequestMatcher {
            path_regex,
            method,
            headers,
            query,
            grpc: false,
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
fn conditions(
    which: Field,
    entries: &[NamedValueMatch],
    field: &str,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Condition>, Problem> {
    let (list, noun) = match which {
        Field::Headers => ("headers", "header"),
        Field::QueryParams => ("queryParams", "query parameter"),
    };
    let mut conditions: Vec<Condition> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let (kind, name, value) = (entry.kind.as_deref(), entry.name.as_str(), &entry.value);
        let at = || format!("{field}.{list}[{i}]");
        if !is_header_name(name) {
            return Err(Problem::error(
                label,
                format!("{}.name", at()),
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
                at(),
                format!(
                    "{noun} {name:?} is already matched by an earlier entry; this one is ignored"
                ),
            ));
            continue;
        }
        let value = ValueMatcher::new(kind, value)
            .map_err(|e| Problem::error(label, at(), format!("{e}; the rule was dropped")))?;
        conditions.push(Condition { name, value });
    }
    conditions.shrink_to_fit();
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
    let (path_regex, key, rank) = match &m.method {
        None => (
            None,
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
    let headers = conditions(Field::Headers, &m.headers, field, label, problems)?;
    Ok(MatchParts {
        method: false,
        headers: u16::try_from(headers.len()).unwrap_or(u16::MAX),
        query: 0,
        path: rank,
        key,
        matcher: RequestMatcher {
            path_regex,
            method: None,
            headers,
            query: Vec::new(),
            grpc: true,
        },
    })
}

/// A GRPCRoute method match as a path: its regex (when it needs one), index key and rank.
type GrpcPath = (Option<Box<Pattern>>, PathKey, PathRank);

fn grpc_method(m: &GrpcMethodMatch) -> Result<GrpcPath, (&'static str, String)> {
    let service = m.service.as_deref().filter(|s| !s.is_empty());
    let method = m.method.as_deref().filter(|s| !s.is_empty());
    let rank = PathRank::Grpc {
        service: service.map_or(0, str::len),
        method: method.map_or(0, str::len),
    };
    let regex =
        |source: String| Pattern::new(&source).map(|p| (Some(Box::new(p)), PathKey::Regex, rank));
    match m.kind() {
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
                    Ok((None, PathKey::Exact(path), rank))
                }
                (Some(s), None) => Ok((None, PathKey::Prefix(format!("/{s}")), rank)),
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

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::duration_ms;

    #[test]
    fn durations_follow_gep_2257() {
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("10s"), Some(10_000));
        assert_eq!(duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(duration_ms("0s"), Some(0));
        assert_eq!(duration_ms("1h1m1s1ms"), Some(3_661_001));
        for bad in [
            "",
            "10",
            "1.5s",
            "123456s",
            "1h1m1s1ms1ms",
            "5 s",
            "-1s",
            "1d",
        ] {
            assert_eq!(duration_ms(bad), None, "{bad}");
        }
    }
}
