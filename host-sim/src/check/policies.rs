//! The policy part of the `host-sim check` report: for every BackendTrafficPolicy and
//! XBackendTrafficPolicy, its `Accepted` condition per target (as `PolicyAncestorStatus` lists
//! them) and the rules it changed, merged over the compiles `check` runs.
//!
//! Attaching policies and deciding their precedence is the core's compile
//! (`compile::policies`); this file only gathers and prints what it found.

use std::fmt::Write as _;

use gatewasm_core::{PolicyStatus, Status};
use serde::Serialize;

/// One policy's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// `BackendTrafficPolicy` or `XBackendTrafficPolicy`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Per target, in `targetRefs` order.
    pub targets: Vec<PolicyTargetReport>,
    /// The rules it changed (or that kept their own settings against it).
    pub changed: Vec<String>,
}

/// A policy's `Accepted` condition on one target.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTargetReport {
    /// `Kind namespace/name`, `#sectionName` appended when given.
    pub target: String,
    /// `True` or `False`.
    pub status: &'static str,
    /// `Accepted`, `Conflicted`, `TargetNotFound` or `Invalid`.
    pub reason: String,
    /// For people.
    pub message: String,
}

impl PolicyTargetReport {
    /// Whether the policy takes effect on this target.
    pub fn healthy(&self) -> bool {
        self.status == "True"
    }
}

/// Every policy once, from the compiles' statuses: targets from the first compile that lists
/// the policy (every compile resolves targets against the same objects), changed rules from all.
pub(super) fn policy_reports(statuses: &[&Status]) -> Vec<PolicyReport> {
    let mut reports: Vec<PolicyReport> = Vec::new();
    for policy in statuses.iter().flat_map(|s| &s.policies) {
        let same = |r: &&mut PolicyReport| {
            r.kind == policy.kind && r.namespace == policy.namespace && r.name == policy.name
        };
        match reports.iter_mut().find(same) {
            Some(report) => {
                for change in &policy.changed {
                    if !report.changed.contains(change) {
                        report.changed.push(change.clone());
                    }
                }
            }
            None => reports.push(report(policy)),
        }
    }
    reports
}

fn report(policy: &PolicyStatus) -> PolicyReport {
    PolicyReport {
        kind: policy.kind.to_owned(),
        namespace: policy.namespace.clone(),
        name: policy.name.clone(),
        targets: policy
            .targets
            .iter()
            .map(|t| PolicyTargetReport {
                target: t.target.clone(),
                status: if t.condition.status { "True" } else { "False" },
                reason: t.condition.reason.to_owned(),
                message: t.condition.message.clone(),
            })
            .collect(),
        changed: policy.changed.clone(),
    }
}

/// The policies as text: per policy its targets with their condition, then the changed rules.
pub fn render_policies(out: &mut String, policies: &[PolicyReport]) {
    for policy in policies {
        let _ = writeln!(out, "{} {}/{}", policy.kind, policy.namespace, policy.name);
        if policy.targets.is_empty() {
            let _ = writeln!(out, "  Targets: none");
        }
        let reason = policy
            .targets
            .iter()
            .map(|t| t.reason.len())
            .max()
            .unwrap_or(0);
        for target in &policy.targets {
            let _ = writeln!(out, "  Target {}", target.target);
            let line = format!(
                "    Accepted  {:5}  {:reason$}  {}",
                target.status, target.reason, target.message
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if policy.changed.is_empty() {
            let _ = writeln!(out, "  Changes: no rule");
        } else {
            let _ = writeln!(out, "  Changes:");
            for change in &policy.changed {
                let _ = writeln!(out, "    {change}");
            }
        }
        out.push('\n');
    }
}
