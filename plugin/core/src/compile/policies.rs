//! Backend traffic policies attached to the objects they target (GEP-713), and what they change
//! in the rules they reach.
//!
//! A `BackendTrafficPolicy` (Envoy Gateway) targets a Gateway, an HTTPRoute or a GRPCRoute (a
//! rule of one, with `sectionName`) and lands as the same `x-envoy-*` router headers a rule's own
//! `retry` and `timeouts` produce. An `XBackendTrafficPolicy` (Gateway API, experimental)
//! targets a Service and gives the rules that route to it its `sessionPersistence`.
//!
//! Precedence, per setting (retry, request timeout, per-try timeout, session persistence): the
//! more specific object wins (GEP-713, "hierarchy": a policy on a route beats one on its
//! Gateway). A rule's own field is the most specific of all, so it beats every policy, as it
//! does in Envoy Gateway (envoyproxy/gateway#4844: a Gateway policy fills in only what the
//! route leaves unset). A policy naming a rule (`sectionName`) beats one naming its route. Two
//! policies of one kind on the same target: the oldest (`creationTimestamp`, then
//! `namespace/name`) is accepted there, the other is `Conflicted` (GEP-713, "conflict
//! resolution"). Parsing the policies is `config::policy`'s job; the rule's own headers are
//! `rules`'.

use crate::config::{PolicyKind, Resource, Route, TrafficPolicy};
use crate::effect::Backend;
use crate::problem::Problem;
use crate::session::Persistence;
use crate::status::{Condition, PolicyStatus, PolicyTargetStatus};

use super::rules::{duration_ms, persistence, RuleParts, RuleSite};
use super::{age_key, sort_by_age, unknown_fields};

/// Retry conditions Envoy's router reads from `x-envoy-retry-on`.
const HTTP_TRIGGERS: [&str; 8] = [
    "5xx",
    "gateway-error",
    "reset",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "http3-post-connect-failure",
];
/// Retry conditions Envoy's router reads from `x-envoy-retry-grpc-on`.
const GRPC_TRIGGERS: [&str; 5] = [
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];
/// Envoy Gateway's defaults when `retry.retryOn` is absent.
const DEFAULT_TRIGGERS: [&str; 5] = [
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
];
/// Envoy Gateway's default retries (`numRetries`).
const DEFAULT_RETRIES: u32 = 2;

/// The settings a rule can get from one place or another; each comes from the most specific.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setting {
    Retry,
    RequestTimeout,
    PerTryTimeout,
}

impl Setting {
    const ALL: [Self; 3] = [Self::Retry, Self::RequestTimeout, Self::PerTryTimeout];

    fn of(header: &str) -> Self {
        match header {
            "x-envoy-upstream-rq-timeout-ms" => Self::RequestTimeout,
            "x-envoy-upstream-rq-per-try-timeout-ms" => Self::PerTryTimeout,
            _ => Self::Retry,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::RequestTimeout => "request timeout",
            Self::PerTryTimeout => "per-try timeout",
        }
    }
}

/// What a target reference resolved to.
enum Reach {
    /// A route (kind, namespace, name) or one rule of it by name.
    Route(&'static str, String, String, Option<String>),
    /// A Gateway, `namespace/name`.
    Gateway(String),
    /// A Service or ServiceImport, `namespace/name`.
    Service(String),
}

/// One target of one policy: what it reaches, and the policy's condition there.
struct Target {
    reach: Option<Reach>,
    label: String,
    condition: Condition,
}

/// One policy, validated, with its effects ready to apply.
struct Entry<'c> {
    policy: &'c TrafficPolicy,
    /// Its index among the policies as written (entries are kept oldest first).
    written: usize,
    /// Whether it is valid at all (its API exists and its fields compile).
    valid: bool,
    headers: Vec<(String, String)>,
    persistence: Option<Persistence>,
    targets: Vec<Target>,
    changed: Vec<String>,
}

/// Every policy of a configuration, resolved against its objects.
pub(crate) struct Policies<'c> {
    entries: Vec<Entry<'c>>,
    /// The Gateway this proxy implements, `namespace/name`.
    gateway: Option<&'c str>,
}

/// The rule being compiled, as policies see it.
pub(crate) struct RuleScope<'a> {
    pub(crate) kind: &'static str,
    pub(crate) namespace: &'a str,
    pub(crate) name: &'a str,
    pub(crate) index: usize,
    pub(crate) rule_name: Option<&'a str>,
}

impl<'c> Policies<'c> {
    /// Reads, validates and resolves every policy among `objects`. `services`: the configured
    /// backend list, when there is one; `gateway`: the Gateway this proxy implements.
    pub(crate) fn new(
        objects: &'c [Resource],
        services: Option<&[String]>,
        gateway: Option<&'c str>,
        problems: &mut Vec<Problem>,
    ) -> Self {
        // (position in the configuration, index among the policies, policy)
        let mut policies: Vec<(usize, usize, &TrafficPolicy)> = Vec::new();
        for (position, object) in objects.iter().enumerate() {
            if let Resource::TrafficPolicy(p) = object {
                policies.push((position, policies.len(), &**p));
            }
        }
        sort_by_age(&mut policies, |(position, _, p)| {
            age_key(*position, &p.metadata)
        });
        let mut entries: Vec<Entry<'c>> = Vec::new();
        for (_, written, policy) in policies {
            let mut entry = validate(policy, problems);
            entry.written = written;
            entry.targets = policy
                .target_refs
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    let label = target_label(policy, i);
                    let reach = resolve(policy, i, objects, services);
                    let condition = match (&reach, entry.valid) {
                        (Err(message), _) => {
                            problems.push(
                                Problem::error(
                                    policy_label(policy),
                                    format!("spec.targetRefs[{i}]"),
                                    format!("{message}; the policy does nothing there"),
                                )
                                .with_hint(
                                    "name an object in the policy's own namespace: targetRefs are local references",
                                ),
                            );
                            Condition::no("Accepted", "TargetNotFound", message.clone())
                        }
                        (Ok(_), false) => Condition::no(
                            "Accepted",
                            "Invalid",
                            "the policy is invalid (see its problems)",
                        ),
                        (Ok(_), true) => Condition::yes("Accepted", "Accepted", "the policy applies"),
                    };
                    Target {
                        reach: reach.ok().flatten(),
                        label,
                        condition,
                    }
                })
                .collect();
            if policy.target_refs.is_empty() {
                problems.push(Problem::error(
                    policy_label(policy),
                    "spec.targetRefs",
                    "the policy names no target, so it does nothing",
                ).with_hint("add targetRefs naming the HTTPRoute, GRPCRoute or Gateway (BackendTrafficPolicy), or the Service (XBackendTrafficPolicy)"));
            }
            conflicts(&mut entry, &entries, problems);
            entries.push(entry);
        }
        Self { entries, gateway }
    }

    /// Adds to a rule what the policies reaching it set and it does not set itself, and notes
    /// the change on each policy. `backends` names the rule's backends.
    pub(crate) fn apply(
        &mut self,
        rule: &RuleScope<'_>,
        parts: &mut RuleParts,
        backends: &[Backend],
    ) {
        if self.entries.is_empty() {
            return;
        }
        let site = format!(
            "{} {}/{} rules[{}]",
            rule.kind, rule.namespace, rule.name, rule.index
        );
        let own: Vec<Setting> = parts
            .envoy_headers
            .iter()
            .map(|(name, _)| Setting::of(name))
            .collect();
        let mut taken = own.clone();
        // Most specific first: the rule by name, the route, the Gateway.
        let gateway = self.gateway;
        let scopes: [&dyn Fn(&Reach) -> bool; 3] = [
            &|r| matches!(r, Reach::Route(k, ns, n, Some(s)) if *k == rule.kind && ns == rule.namespace && n == rule.name && Some(s.as_str()) == rule.rule_name),
            &|r| matches!(r, Reach::Route(k, ns, n, None) if *k == rule.kind && ns == rule.namespace && n == rule.name),
            &|r| matches!(r, Reach::Gateway(g) if Some(g.as_str()) == gateway),
        ];
        for reaches in scopes {
            let Some(entry) = self.entries.iter_mut().find(|e| {
                e.policy.kind == PolicyKind::Envoy
                    && e.targets
                        .iter()
                        .any(|t| t.condition.status && t.reach.as_ref().is_some_and(reaches))
            }) else {
                continue;
            };
            let mut gave = Vec::new();
            let mut kept = Vec::new();
            for setting in Setting::ALL {
                let offered = entry.headers.iter().any(|(n, _)| Setting::of(n) == setting);
                if !offered {
                    continue;
                }
                if taken.contains(&setting) {
                    if own.contains(&setting) {
                        kept.push(setting.name());
                    }
                    continue;
                }
                taken.push(setting);
                gave.push(setting.name());
                parts.envoy_headers.extend(
                    entry
                        .headers
                        .iter()
                        .filter(|(n, _)| Setting::of(n) == setting)
                        .cloned(),
                );
            }
            if !gave.is_empty() {
                entry.changed.push(format!("{site}: {}", gave.join(", ")));
            }
            if !kept.is_empty() {
                entry.changed.push(format!(
                    "{site}: keeps its own {} (the rule's field wins)",
                    kept.join(", ")
                ));
            }
        }
        if parts.persistence.is_some() {
            return;
        }
        let services: Vec<&str> = parts
            .backends
            .iter()
            .filter_map(|b| backends.get(usize::try_from(b.backend?).ok()?))
            .map(|b| b.key.rsplit_once(':').map_or(b.key.as_str(), |(s, _)| s))
            .collect();
        let found = self.entries.iter_mut().find_map(|e| {
            let service = e.targets.iter().find_map(|t| match &t.reach {
                Some(Reach::Service(s)) if t.condition.status && services.contains(&s.as_str()) => {
                    Some(s.clone())
                }
                _ => None,
            })?;
            let persistence = e.persistence.clone()?;
            Some((e, service, persistence))
        });
        if let Some((entry, service, persistence)) = found {
            parts.persistence = Some(persistence);
            entry
                .changed
                .push(format!("{site}: session persistence (backend {service})"));
        }
    }

    /// Every policy's status, in the order written.
    pub(crate) fn status(self) -> Vec<PolicyStatus> {
        let mut slots: Vec<Option<PolicyStatus>> = self.entries.iter().map(|_| None).collect();
        for e in self.entries {
            let status = PolicyStatus {
                kind: e.policy.kind.name(),
                namespace: e.policy.metadata.namespace().to_owned(),
                name: e.policy.metadata.name.clone(),
                targets: e
                    .targets
                    .into_iter()
                    .map(|t| PolicyTargetStatus {
                        target: t.label,
                        condition: t.condition,
                    })
                    .collect(),
                changed: e.changed,
            };
            if let Some(slot) = slots.get_mut(e.written) {
                *slot = Some(status);
            }
        }
        slots.into_iter().flatten().collect()
    }
}

fn policy_label(policy: &TrafficPolicy) -> String {
    format!(
        "{} {}/{}",
        policy.kind.name(),
        policy.metadata.namespace(),
        policy.metadata.name
    )
}

/// `Kind ns/name` of target `i`, with `#sectionName` when it names a section.
fn target_label(policy: &TrafficPolicy, i: usize) -> String {
    let Some(target) = policy.target_refs.get(i) else {
        return String::new();
    };
    let section = target
        .section_name
        .as_deref()
        .map_or_else(String::new, |s| format!("#{s}"));
    format!(
        "{} {}/{}{section}",
        target.kind,
        policy.metadata.namespace(),
        target.name
    )
}

/// What target `i` names: `Ok(None)` when it exists but this proxy has nothing to change there
/// (a kind the policy does not support is reported by `validate`), `Err` when it is not there.
fn resolve(
    policy: &TrafficPolicy,
    i: usize,
    objects: &[Resource],
    services: Option<&[String]>,
) -> Result<Option<Reach>, String> {
    let Some(target) = policy.target_refs.get(i) else {
        return Ok(None);
    };
    let namespace = policy.metadata.namespace();
    let name = target.name.as_str();
    let section = target.section_name.clone();
    let group = target.group.as_deref().unwrap_or_default();
    let missing = |what: &str| format!("{what} {namespace}/{name} is not in the configuration");
    match (policy.kind, group, target.kind.as_str()) {
        (PolicyKind::Envoy, "gateway.networking.k8s.io", "Gateway") => {
            let found = objects.iter().any(|o| {
                matches!(o, Resource::Gateway(g) if g.metadata.namespace() == namespace && g.metadata.name == name)
            });
            if !found {
                return Err(missing("Gateway"));
            }
            Ok(Some(Reach::Gateway(format!("{namespace}/{name}"))))
        }
        (PolicyKind::Envoy, "gateway.networking.k8s.io", kind @ ("HTTPRoute" | "GRPCRoute")) => {
            let route = objects.iter().filter_map(Route::of).find(|r| {
                r.kind() == kind
                    && r.metadata().namespace() == namespace
                    && r.metadata().name == name
            });
            let Some(route) = route else {
                return Err(missing(kind));
            };
            if let Some(s) = &section {
                if !route.rule_names().contains(&Some(s.as_str())) {
                    return Err(format!("{kind} {namespace}/{name} has no rule named {s:?}"));
                }
            }
            let kind = route.kind();
            Ok(Some(Reach::Route(
                kind,
                namespace.to_owned(),
                name.to_owned(),
                section,
            )))
        }
        (
            PolicyKind::Backend,
            "" | "multicluster.x-k8s.io",
            kind @ ("Service" | "ServiceImport"),
        ) => {
            let objects_known = objects.iter().any(|o| matches!(o, Resource::Service(_)));
            let listed = services.is_some_and(|list| {
                list.iter().any(|s| {
                    s.rsplit_once(':').map_or(s.as_str(), |(key, _)| key)
                        == format!("{namespace}/{name}")
                })
            });
            let object = objects.iter().any(|o| {
                matches!(o, Resource::Service(s) if s.metadata.namespace() == namespace && s.metadata.name == name)
            });
            if (objects_known || services.is_some()) && !listed && !object {
                return Err(missing(kind));
            }
            Ok(Some(Reach::Service(format!("{namespace}/{name}"))))
        }
        _ => Ok(None),
    }
}

/// Checks a policy's API and fields and computes what it sets.
fn validate<'c>(policy: &'c TrafficPolicy, problems: &mut Vec<Problem>) -> Entry<'c> {
    let label = policy_label(policy);
    let mut entry = Entry {
        policy,
        written: 0,
        valid: true,
        headers: Vec::new(),
        persistence: None,
        targets: Vec::new(),
        changed: Vec::new(),
    };
    // Problems that make the whole policy invalid.
    let mut fatal: Vec<Problem> = Vec::new();
    let kind = policy.kind;
    if policy.group() != kind.group() {
        let written = policy.api_version.as_deref().unwrap_or_default();
        fatal.push(Problem::error(
                &label,
                "apiVersion",
                format!(
                    "{written:?} does not serve {}: the API server refuses the object, so the policy does nothing",
                    kind.name()
                ),
            )
            .with_hint(format!("use apiVersion: {}/v1alpha1", kind.group())));
    }
    unknown_fields(&policy.unknown, &label, "spec", problems);
    for (i, target) in policy.target_refs.iter().enumerate() {
        let group = target.group.as_deref().unwrap_or_default();
        let supported = match kind {
            PolicyKind::Envoy => {
                group == "gateway.networking.k8s.io"
                    && matches!(target.kind.as_str(), "Gateway" | "HTTPRoute" | "GRPCRoute")
                    && !(target.kind == "Gateway" && target.section_name.is_some())
            }
            PolicyKind::Backend => {
                matches!(
                    (group, target.kind.as_str()),
                    ("", "Service") | ("multicluster.x-k8s.io", "ServiceImport")
                ) && target.section_name.is_none()
            }
        };
        if !supported {
            fatal.push(Problem::error(
                &label,
                format!("spec.targetRefs[{i}]"),
                format!(
                    "{} {group:?} (sectionName {:?}) is not a target {} supports (BackendTrafficPolicy: Gateway, HTTPRoute, GRPCRoute, sectionName a rule's; XBackendTrafficPolicy: Service, ServiceImport)",
                    target.kind, target.section_name, kind.name()
                ),
            ));
        }
    }
    match kind {
        PolicyKind::Envoy => match envoy_headers(policy) {
            Ok(headers) => entry.headers = headers,
            Err((field, message)) => fatal.push(Problem::error(
                &label,
                field,
                format!("{message}; the policy does nothing"),
            )),
        },
        PolicyKind::Backend => {
            if let Some(p) = &policy.session_persistence {
                let site = RuleSite {
                    route_kind: "XBackendTrafficPolicy",
                    field: String::from("spec"),
                    label: &label,
                };
                match persistence(p, &site) {
                    Ok(p) => entry.persistence = Some(p),
                    Err(problem) => fatal.push(problem),
                }
            }
            if let Some(c) = &policy.retry_constraint {
                let durations = [
                    ("spec.retryConstraint.budget.interval", &c.budget_interval),
                    (
                        "spec.retryConstraint.minRetryRate.interval",
                        &c.min_retry_interval,
                    ),
                ];
                for (field, value) in durations {
                    if let Some(v) = value.as_deref().filter(|v| duration_ms(v).is_none()) {
                        fatal.push(Problem::error(&label, field, format!("{v:?} is not a Gateway API duration such as 10s; the policy does nothing")));
                    }
                }
                if c.budget_percent.is_some_and(|p| p > 100) {
                    fatal.push(Problem::error(
                        &label,
                        "spec.retryConstraint.budget.percent",
                        "must be between 0 and 100; the policy does nothing",
                    ));
                }
            }
        }
    }
    if let Some(timeout) = &policy.timeout {
        if kind == PolicyKind::Envoy && !timeout.connection.is_empty() {
            problems.push(
                Problem::warning(
                    &label,
                    "spec.timeout",
                    format!(
                        "{} configure the upstream connection, which belongs to Envoy's cluster: the filter cannot set them per request, so they were ignored",
                        timeout.connection.join(", ")
                    ),
                )
                .with_hint("set connect_timeout and common_http_protocol_options on the cluster (host-sim config --format envoy writes the clusters)"),
            );
        }
    }
    entry.valid = fatal.is_empty();
    problems.extend(fatal);
    entry
}

/// The router headers of a BackendTrafficPolicy's `retry` and `timeout.http.requestTimeout`,
/// or the field that cannot be implemented and why.
fn envoy_headers(policy: &TrafficPolicy) -> Result<Vec<(String, String)>, (String, String)> {
    let mut headers = Vec::new();
    let ms = |field: &str, value: &str| {
        duration_ms(value).ok_or_else(|| {
            (
                field.to_owned(),
                format!("{value:?} is not a Gateway API duration such as 250ms or 10s"),
            )
        })
    };
    if let Some(request) = policy
        .timeout
        .as_ref()
        .and_then(|t| t.request_timeout.as_deref())
    {
        let request = ms("spec.timeout.http.requestTimeout", request)?;
        headers.push((
            String::from("x-envoy-upstream-rq-timeout-ms"),
            request.to_string(),
        ));
    }
    let Some(retry) = &policy.retry else {
        return Ok(headers);
    };
    let (triggers, mut codes): (Vec<&str>, Vec<u32>) = match &retry.retry_on {
        Some(on) => (
            on.triggers.iter().map(String::as_str).collect(),
            on.http_status_codes.clone(),
        ),
        None => (DEFAULT_TRIGGERS.to_vec(), vec![503]),
    };
    let mut http = Vec::new();
    let mut grpc = Vec::new();
    for (i, trigger) in triggers.iter().enumerate() {
        if HTTP_TRIGGERS.contains(trigger) {
            http.push(*trigger);
        } else if GRPC_TRIGGERS.contains(trigger) {
            grpc.push(*trigger);
        } else {
            return Err((
                format!("spec.retry.retryOn.triggers[{i}]"),
                format!("{trigger:?} is not one of Envoy's retry triggers"),
            ));
        }
    }
    if let Some(bad) = codes.iter().find(|c| !(100..=599).contains(*c)) {
        return Err((
            String::from("spec.retry.retryOn.httpStatusCodes"),
            format!("{bad} is not an HTTP status code"),
        ));
    }
    if !codes.is_empty() && !http.contains(&"retriable-status-codes") {
        http.push("retriable-status-codes");
    }
    if !http.contains(&"retriable-status-codes") {
        codes.clear();
    }
    if !http.is_empty() {
        headers.push((String::from("x-envoy-retry-on"), http.join(",")));
    }
    if !grpc.is_empty() {
        headers.push((String::from("x-envoy-retry-grpc-on"), grpc.join(",")));
    }
    if !codes.is_empty() {
        let codes: Vec<String> = codes.iter().map(ToString::to_string).collect();
        headers.push((
            String::from("x-envoy-retriable-status-codes"),
            codes.join(","),
        ));
    }
    headers.push((
        String::from("x-envoy-max-retries"),
        retry.num_retries.unwrap_or(DEFAULT_RETRIES).to_string(),
    ));
    if let Some(per_retry) = &retry.per_retry {
        if let Some(timeout) = per_retry.timeout.as_deref() {
            let timeout = ms("spec.retry.perRetry.timeout", timeout)?;
            headers.push((
                String::from("x-envoy-upstream-rq-per-try-timeout-ms"),
                timeout.to_string(),
            ));
        }
        if let Some((base, max)) = &per_retry.back_off {
            for (field, value) in [("baseInterval", base), ("maxInterval", max)] {
                if let Some(value) = value.as_deref() {
                    ms(&format!("spec.retry.perRetry.backOff.{field}"), value)?;
                }
            }
        }
    }
    Ok(headers)
}

/// Marks `entry` `Conflicted` on every target an older policy of its kind already holds.
fn conflicts(entry: &mut Entry<'_>, older: &[Entry<'_>], problems: &mut Vec<Problem>) {
    for (i, target) in entry.targets.iter_mut().enumerate() {
        if !target.condition.status {
            continue;
        }
        let holder = older.iter().find(|e| {
            e.policy.kind == entry.policy.kind
                && e.targets
                    .iter()
                    .any(|t| t.condition.status && t.label == target.label)
        });
        if let Some(holder) = holder {
            let message = format!(
                "{} already targets {} and is older, so it wins there",
                policy_label(holder.policy),
                target.label
            );
            problems.push(
                Problem::error(
                    policy_label(entry.policy),
                    format!("spec.targetRefs[{i}]"),
                    &message,
                )
                    .with_hint("merge the two policies into one, or target another object (a rule by sectionName is more specific than its route)"),
            );
            target.condition = Condition::no("Accepted", "Conflicted", message);
        }
    }
}
