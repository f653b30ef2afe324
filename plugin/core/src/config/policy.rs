//! Backend traffic policies as the user writes them: Envoy Gateway's `BackendTrafficPolicy`
//! (`gateway.envoyproxy.io/v1alpha1`) and Gateway API's experimental `XBackendTrafficPolicy`
//! (`gateway.networking.x-k8s.io/v1alpha1`).
//!
//! Both attach to other objects through `targetRefs` (GEP-713 policy attachment). This file only
//! reads them; which objects they reach, their precedence and what they change is
//! `compile::policies`'s job.

use super::httproute::SessionPersistence;
use super::json::{self, Node};
use super::{ObjectMeta, Unknown};

/// Which of the two policy kinds an object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Envoy Gateway's `BackendTrafficPolicy`: retry and timeout for routes and Gateways.
    Envoy,
    /// Gateway API's `XBackendTrafficPolicy`: retry budget and session persistence for Services.
    Backend,
}

impl PolicyKind {
    /// The kind as written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Self::Envoy => "BackendTrafficPolicy",
            Self::Backend => "XBackendTrafficPolicy",
        }
    }

    /// The API group that serves the kind.
    pub fn group(self) -> &'static str {
        match self {
            Self::Envoy => "gateway.envoyproxy.io",
            Self::Backend => "gateway.networking.x-k8s.io",
        }
    }
}

/// A `BackendTrafficPolicy` or an `XBackendTrafficPolicy`.
#[derive(Clone, Debug)]
pub struct TrafficPolicy {
    /// Which kind it is.
    pub kind: PolicyKind,
    /// `apiVersion` as written.
    pub api_version: Option<String>,
    /// Name, namespace, creation time.
    pub metadata: ObjectMeta,
    /// `spec.targetRefs`, with Envoy Gateway's older single `spec.targetRef` appended.
    pub target_refs: Vec<PolicyTargetRef>,
    /// `spec.retry` (BackendTrafficPolicy).
    pub retry: Option<PolicyRetry>,
    /// `spec.timeout` (BackendTrafficPolicy).
    pub timeout: Option<PolicyTimeout>,
    /// `spec.retryConstraint` (XBackendTrafficPolicy).
    pub retry_constraint: Option<RetryConstraint>,
    /// `spec.sessionPersistence` (XBackendTrafficPolicy).
    pub session_persistence: Option<SessionPersistence>,
    /// Fields of `spec` this version does not know.
    pub unknown: Unknown,
}

impl TrafficPolicy {
    pub(crate) fn read_envoy(node: Node<'_, '_>) -> Self {
        Self::read(node, PolicyKind::Envoy)
    }

    pub(crate) fn read_backend(node: Node<'_, '_>) -> Self {
        Self::read(node, PolicyKind::Backend)
    }

    fn read(node: Node<'_, '_>, kind: PolicyKind) -> Self {
        let mut fields = node.object();
        let api_version = fields.opt_string("apiVersion");
        let metadata = fields.or_default("metadata", ObjectMeta::read);
        // Each kind reads only its own fields: another kind's is reported as unknown.
        let mut policy = match kind {
            PolicyKind::Envoy => fields.or_default("spec", Self::envoy_spec),
            PolicyKind::Backend => fields.or_default("spec", Self::backend_spec),
        };
        policy.kind = kind;
        policy.api_version = api_version;
        policy.metadata = metadata;
        policy
    }

    fn envoy_spec(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        let mut target_refs = fields.list("targetRefs", PolicyTargetRef::read);
        // Envoy Gateway's older single reference.
        target_refs.extend(fields.opt("targetRef", PolicyTargetRef::read));
        Self {
            target_refs,
            retry: fields.opt("retry", PolicyRetry::read),
            timeout: fields.opt("timeout", PolicyTimeout::read),
            unknown: fields.unknown(),
            ..Self::default()
        }
    }

    fn backend_spec(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            target_refs: fields.list("targetRefs", PolicyTargetRef::read),
            retry_constraint: fields.opt("retryConstraint", RetryConstraint::read),
            session_persistence: fields.opt("sessionPersistence", SessionPersistence::read),
            unknown: fields.unknown(),
            ..Self::default()
        }
    }

    /// The API group of `apiVersion` (empty when absent).
    pub fn group(&self) -> &str {
        let version = self.api_version.as_deref().unwrap_or_default();
        version.rsplit_once('/').map_or("", |(group, _)| group)
    }
}

impl Default for TrafficPolicy {
    fn default() -> Self {
        Self {
            kind: PolicyKind::Envoy,
            api_version: None,
            metadata: ObjectMeta::default(),
            target_refs: Vec::new(),
            retry: None,
            timeout: None,
            retry_constraint: None,
            session_persistence: None,
            unknown: Unknown::new(),
        }
    }
}

/// One `targetRefs[]` entry: a local object, optionally one section of it (a route rule's name).
#[derive(Clone, Debug, Default)]
pub struct PolicyTargetRef {
    /// API group; `gateway.networking.k8s.io` for Gateways and routes, `""` for Services.
    pub group: Option<String>,
    /// `Gateway`, `HTTPRoute`, `GRPCRoute`, `Service` or `ServiceImport`.
    pub kind: String,
    /// Name, in the policy's namespace.
    pub name: String,
    /// A route rule's `name`, or a Gateway listener's.
    pub section_name: Option<String>,
}

impl PolicyTargetRef {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            group: fields.opt_string("group"),
            kind: fields.string("kind"),
            name: fields.string("name"),
            section_name: fields.opt_string("sectionName"),
        }
    }
}

/// `BackendTrafficPolicy.spec.retry`.
#[derive(Clone, Debug, Default)]
pub struct PolicyRetry {
    /// Retries after the first try; Envoy Gateway's default is 2.
    pub num_retries: Option<u32>,
    /// What is retried.
    pub retry_on: Option<RetryOn>,
    /// Per-try timeout and back-off.
    pub per_retry: Option<PerRetry>,
    /// Fields this version does not know.
    pub unknown: Unknown,
}

impl PolicyRetry {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            num_retries: fields.opt_u32("numRetries"),
            retry_on: fields.opt("retryOn", RetryOn::read),
            per_retry: fields.opt("perRetry", PerRetry::read),
            unknown: fields.unknown(),
        }
    }
}

/// `retry.retryOn`.
#[derive(Clone, Debug, Default)]
pub struct RetryOn {
    /// Envoy retry conditions: `5xx`, `connect-failure`, `unavailable`, ...
    pub triggers: Vec<String>,
    /// Status codes retried with `retriable-status-codes`.
    pub http_status_codes: Vec<u32>,
}

impl RetryOn {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            triggers: fields.strings("triggers"),
            http_status_codes: fields.list("httpStatusCodes", json::u32),
        }
    }
}

/// `retry.perRetry`.
#[derive(Clone, Debug, Default)]
pub struct PerRetry {
    /// Deadline of each try, a Gateway API Duration.
    pub timeout: Option<String>,
    /// `backOff.baseInterval` and `backOff.maxInterval`.
    pub back_off: Option<(Option<String>, Option<String>)>,
}

impl PerRetry {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            timeout: fields.opt_string("timeout"),
            back_off: fields.opt("backOff", |node| {
                let mut fields = node.object();
                (
                    fields.opt_string("baseInterval"),
                    fields.opt_string("maxInterval"),
                )
            }),
        }
    }
}

/// `BackendTrafficPolicy.spec.timeout`.
#[derive(Clone, Debug, Default)]
pub struct PolicyTimeout {
    /// `http.requestTimeout`: the deadline of the whole request.
    pub request_timeout: Option<String>,
    /// Settings of the upstream connection (`tcp.*`, `http.connectionIdleTimeout`,
    /// `http.maxConnectionDuration`), which belong to Envoy's cluster, not to a request.
    pub connection: Vec<String>,
}

impl PolicyTimeout {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        let mut timeout = Self::default();
        if let Some((request, mut connection)) = fields.opt("http", |node| {
            let mut fields = node.object();
            let request = fields.opt_string("requestTimeout");
            let mut connection = Vec::new();
            for key in ["connectionIdleTimeout", "maxConnectionDuration"] {
                if fields.opt_string(key).is_some() {
                    connection.push(format!("http.{key}"));
                }
            }
            (request, connection)
        }) {
            timeout.request_timeout = request;
            timeout.connection.append(&mut connection);
        }
        if fields.opt("tcp", |node| node.keys()).is_some() {
            timeout.connection.push(String::from("tcp"));
        }
        timeout
    }
}

/// `XBackendTrafficPolicy.spec.retryConstraint`: a retry budget for the target's clients.
#[derive(Clone, Debug, Default)]
pub struct RetryConstraint {
    /// `budget.percent`: the share of active requests that may be retries (default 20).
    pub budget_percent: Option<u32>,
    /// `budget.interval`.
    pub budget_interval: Option<String>,
    /// `minRetryRate.count`: retries allowed whatever the budget.
    pub min_retry_count: Option<u32>,
    /// `minRetryRate.interval`.
    pub min_retry_interval: Option<String>,
}

impl RetryConstraint {
    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        let (budget_percent, budget_interval) = fields
            .opt("budget", |node| {
                let mut fields = node.object();
                (fields.opt_u32("percent"), fields.opt_string("interval"))
            })
            .unwrap_or_default();
        let (min_retry_count, min_retry_interval) = fields
            .opt("minRetryRate", |node| {
                let mut fields = node.object();
                (fields.opt_u32("count"), fields.opt_string("interval"))
            })
            .unwrap_or_default();
        Self {
            budget_percent,
            budget_interval,
            min_retry_count,
            min_retry_interval,
        }
    }
}
