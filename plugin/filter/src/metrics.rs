//! The filter's metrics. The names and labels are the core's ([`gatewasm_core::metrics`]); this
//! file defines them with the host and counts.
//!
//! A request counter is defined the first time it counts, and its id kept under a key made of
//! the addresses of the route table's own strings (route, backend, reply details), which do not
//! move while the table lives; the root context that owns these metrics owns that table. So a
//! request costs one lookup of a few integers and one host call per metric it moves, whatever
//! the size of the configuration; the name is written only on first use.
//!
//! Metrics are never defined while the VM starts (Envoy refuses host calls there) and never
//! fail the filter: a metric the host refuses is simply not counted.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use gatewasm_core::metrics::{self as names, reply_reason, write_name};
use gatewasm_core::{Compiled, LocalReply, RuleRef, Severity};

use crate::host::{self, MetricKind};

/// Which series of which counter: the counter, then addresses and small numbers.
type Key = [usize; 5];

const REQUESTS: usize = 0;
const LOCAL_REPLIES: usize = 1;
const MIRRORS: usize = 2;

/// Counter ids, shared by the root context and every stream it creates.
#[derive(Default)]
pub(crate) struct Metrics {
    ids: RefCell<BTreeMap<Key, u32>>,
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
        let per_rule = self.per_rule.get();
        let rule_index = if per_rule { rule.index } else { usize::MAX };
        let key = [
            REQUESTS,
            addr(rule.namespace),
            addr(rule.name),
            addr(backend),
            rule_index,
        ];
        self.count(key, |name| {
            let route: [&str; 3] = [rule.namespace, "/", rule.name];
            let index = rule.index.to_string();
            let labels: [(&str, &[&str]); 4] = [
                ("route_kind", &[rule.kind]),
                ("route", &route),
                ("backend", &[backend]),
                ("rule", &[&index]),
            ];
            let labels = if per_rule { &labels[..] } else { &labels[..3] };
            write_name(name, names::REQUESTS, labels);
        });
    }

    /// A local reply, by its reason (and gRPC status, for gRPC requests).
    pub(crate) fn replied(&self, reply: &LocalReply) {
        let grpc = reply.grpc_status.map_or(usize::MAX, usize::from);
        let key = [LOCAL_REPLIES, addr(reply.details), grpc, 0, 0];
        self.count(key, |name| {
            let code = reply.grpc_status.map(|c| c.to_string()).unwrap_or_default();
            let labels: [(&str, &[&str]); 2] = [
                ("reason", &[reply_reason(reply.details)]),
                ("grpc_status", &[&code]),
            ];
            let labels = if reply.grpc_status.is_some() {
                &labels[..]
            } else {
                &labels[..1]
            };
            write_name(name, names::LOCAL_REPLIES, labels);
        });
    }

    /// A mirror copy sent to `backend`.
    pub(crate) fn mirrored(&self, backend: &str) {
        self.count([MIRRORS, addr(backend), 0, 0, 0], |name| {
            write_name(name, names::MIRRORS, &[("backend", &[backend])]);
        });
    }

    /// A configuration accepted (`Some`, with what it compiled to) or rejected.
    pub(crate) fn configured(&self, accepted: Option<Accepted<'_>>) {
        let result = if accepted.is_some() {
            "accepted"
        } else {
            "rejected"
        };
        let mut name = String::new();
        write_name(&mut name, names::CONFIGURATIONS, &[("result", &[result])]);
        if let Some(id) = host::define_metric(MetricKind::Counter, &name) {
            host::increment_metric(id, 1);
        }
        set(names::CONFIGURATION_REJECTED, u64::from(accepted.is_none()));
        let Some(accepted) = accepted else {
            return;
        };
        self.per_rule.set(accepted.per_rule);
        set(names::CONFIGURATION_GENERATION, accepted.generation);
        let compiled = accepted.compiled;
        set(names::ROUTES, compiled.table.route_count() as u64);
        set(names::RULES, compiled.table.rule_count() as u64);
        for (severity, label) in [(Severity::Error, "error"), (Severity::Warning, "warning")] {
            let count = compiled
                .problems
                .iter()
                .filter(|p| p.severity == severity)
                .count();
            write_name(&mut name, names::PROBLEMS, &[("severity", &[label])]);
            set(&name, count as u64);
        }
    }

    /// Adds one to the counter `key` names; `name` writes its name when it is first used.
    fn count(&self, key: Key, name: impl FnOnce(&mut String)) {
        let Ok(mut ids) = self.ids.try_borrow_mut() else {
            return;
        };
        let id = match ids.get(&key) {
            Some(id) => *id,
            None => {
                let mut text = String::new();
                name(&mut text);
                let Some(id) = host::define_metric(MetricKind::Counter, &text) else {
                    return;
                };
                ids.insert(key, id);
                id
            }
        };
        host::increment_metric(id, 1);
    }
}

/// Sets the gauge `name`.
fn set(name: &str, value: u64) {
    if let Some(id) = host::define_metric(MetricKind::Gauge, name) {
        host::record_metric(id, value);
    }
}

/// Where a string's bytes are: the same for the same string of the route table.
fn addr(text: &str) -> usize {
    text.as_ptr() as usize
}
