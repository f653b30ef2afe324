//! The filter's metrics: each defined with the host the first time it is counted, its id kept
//! by name, so a request costs one name written into a reused buffer, one lookup and one host
//! call. The names and labels are the core's ([`gatewasm_core::metrics`]).
//!
//! Metrics are never defined while the VM starts (Envoy refuses host calls there) and never
//! fail the filter: a metric the host refuses is simply not counted.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use gatewasm_core::metrics::{self as names, reply_reason, write_name};
use gatewasm_core::{Compiled, LocalReply, RuleRef, Severity};

use crate::host::{self, MetricKind};

/// Metric ids by name, shared by the root context and every stream of the VM.
#[derive(Default)]
pub(crate) struct Metrics {
    ids: RefCell<BTreeMap<String, u32>>,
    /// The name being looked up, reused so that a known metric allocates nothing.
    name: RefCell<String>,
    /// `metrics.rules` of the configuration serving.
    per_rule: Cell<bool>,
}

/// What an accepted configuration compiled to, for the configuration metrics.
pub(crate) struct Accepted<'c> {
    pub(crate) compiled: &'c Compiled,
    /// `metrics.rules`.
    pub(crate) per_rule: bool,
    /// [`gatewasm_core::metrics::configuration_generation`] of its bytes.
    pub(crate) generation: u64,
}

impl Metrics {
    /// A forwarded request: its route and rule, and the backend chosen.
    pub(crate) fn forwarded(&self, rule: &RuleRef<'_>, backend: &str) {
        let index = if self.per_rule.get() {
            rule.index.to_string()
        } else {
            String::new()
        };
        let route: [&str; 3] = [rule.namespace, "/", rule.name];
        let mut labels: [(&str, &[&str]); 4] = [
            ("route_kind", &[rule.kind]),
            ("route", &route),
            ("backend", &[backend]),
            ("rule", &[&index]),
        ];
        let count = if self.per_rule.get() { 4 } else { 3 };
        if let Some(labels) = labels.get_mut(..count) {
            self.add(MetricKind::Counter, names::REQUESTS, labels, 1);
        }
    }

    /// A local reply, by its reason (and gRPC status, for gRPC requests).
    pub(crate) fn replied(&self, reply: &LocalReply) {
        let reason = reply_reason(reply.details);
        match reply.grpc_status {
            Some(code) => {
                let code = code.to_string();
                let labels: [(&str, &[&str]); 2] =
                    [("reason", &[reason]), ("grpc_status", &[&code])];
                self.add(MetricKind::Counter, names::LOCAL_REPLIES, &labels, 1);
            }
            None => {
                let labels: [(&str, &[&str]); 1] = [("reason", &[reason])];
                self.add(MetricKind::Counter, names::LOCAL_REPLIES, &labels, 1);
            }
        }
    }

    /// A mirror copy sent to `backend`.
    pub(crate) fn mirrored(&self, backend: &str) {
        let labels: [(&str, &[&str]); 1] = [("backend", &[backend])];
        self.add(MetricKind::Counter, names::MIRRORS, &labels, 1);
    }

    /// A configuration accepted (`Some`, with what it compiled to) or rejected.
    pub(crate) fn configured(&self, accepted: Option<Accepted<'_>>) {
        let result = if accepted.is_some() {
            "accepted"
        } else {
            "rejected"
        };
        let labels: [(&str, &[&str]); 1] = [("result", &[result])];
        self.add(MetricKind::Counter, names::CONFIGURATIONS, &labels, 1);
        self.set(
            names::CONFIGURATION_REJECTED,
            &[],
            u64::from(accepted.is_none()),
        );
        let Some(accepted) = accepted else {
            return;
        };
        self.per_rule.set(accepted.per_rule);
        self.set(names::CONFIGURATION_GENERATION, &[], accepted.generation);
        let compiled = accepted.compiled;
        let table = &compiled.table;
        self.set(names::ROUTES, &[], table.route_count() as u64);
        self.set(names::RULES, &[], table.rule_count() as u64);
        for (severity, label) in [(Severity::Error, "error"), (Severity::Warning, "warning")] {
            let count = compiled
                .problems
                .iter()
                .filter(|p| p.severity == severity)
                .count();
            let labels: [(&str, &[&str]); 1] = [("severity", &[label])];
            self.set(names::PROBLEMS, &labels, count as u64);
        }
    }

    fn set(&self, metric: &str, labels: &[(&str, &[&str])], value: u64) {
        if let Some(id) = self.id(MetricKind::Gauge, metric, labels) {
            host::record_metric(id, value);
        }
    }

    fn add(&self, kind: MetricKind, metric: &str, labels: &[(&str, &[&str])], delta: i64) {
        if let Some(id) = self.id(kind, metric, labels) {
            host::increment_metric(id, delta);
        }
    }

    /// The id of the named metric, defined with the host on first use.
    fn id(&self, kind: MetricKind, metric: &str, labels: &[(&str, &[&str])]) -> Option<u32> {
        let mut name = self.name.try_borrow_mut().ok()?;
        write_name(&mut name, metric, labels);
        let mut ids = self.ids.try_borrow_mut().ok()?;
        if let Some(id) = ids.get(name.as_str()) {
            return Some(*id);
        }
        let id = host::define_metric(kind, &name)?;
        ids.insert(name.clone(), id);
        Some(id)
    }
}
