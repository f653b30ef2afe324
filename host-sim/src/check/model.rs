//! The `host-sim check` report as data: the status of every object, as a controller running
//! gatewasm would write it, and the problems found, each with a fix.
//!
//! Building it is `check`'s; printing it is `cmd::check`'s.

use gatewasm_core::Condition;
use serde::Serialize;

/// Everything `check` found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// GatewayClasses in the manifests.
    pub gateway_classes: Vec<ClassReport>,
    /// Gateways, in manifest order.
    pub gateways: Vec<GatewayReport>,
    /// ListenerSets, in manifest order.
    pub listener_sets: Vec<ListenerSetReport>,
    /// HTTPRoutes and GRPCRoutes, in manifest order.
    pub routes: Vec<RouteReport>,
    /// BackendTrafficPolicies and XBackendTrafficPolicies, in manifest order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<super::PolicyReport>,
    /// Problems, ordered by object.
    pub problems: Vec<Finding>,
    /// What was not checked, and why.
    pub notes: Vec<String>,
    /// Counts and the exit code.
    pub summary: Summary,
}

/// A GatewayClass's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassReport {
    /// Class name.
    pub name: String,
    /// `spec.controllerName`.
    pub controller_name: String,
    /// `Accepted`.
    pub conditions: Vec<Cond>,
}

/// A Gateway's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.gatewayClassName`.
    pub gateway_class_name: String,
    /// `Accepted`, `Programmed`.
    pub conditions: Vec<Cond>,
    /// In spec order.
    pub listeners: Vec<ListenerReport>,
    /// ListenerSets the Gateway admitted.
    pub attached_listener_sets: u32,
}

/// A ListenerSet's status (reference §8.6).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerSetReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The Gateway its `spec.parentRef` names, `namespace/name`.
    pub parent: String,
    /// `Accepted`, `Programmed`.
    pub conditions: Vec<Cond>,
    /// In spec order; empty when the Gateway does not admit the set.
    pub listeners: Vec<ListenerReport>,
}

/// A listener's status, with the spec fields a reader needs beside it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerReport {
    /// Listener name.
    pub name: String,
    /// `port`.
    pub port: Option<u64>,
    /// `protocol`.
    pub protocol: String,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Routes accepted on the listener.
    pub attached_routes: u32,
    /// Route kinds it admits.
    pub supported_kinds: Vec<String>,
    /// `Accepted`, `Conflicted`, `ResolvedRefs`, `Programmed`.
    pub conditions: Vec<Cond>,
}

/// A route's status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteReport {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// One entry per parent that accepted or refused it; empty when nothing did.
    pub parents: Vec<ParentReport>,
}

/// A route's conditions on one parent.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReport {
    /// The parentRef.
    pub parent_ref: ParentRefReport,
    /// `Accepted`, `ResolvedRefs`, `PartiallyInvalid`.
    pub conditions: Vec<Cond>,
}

/// A parentRef, as status lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRefReport {
    /// `Gateway` or `Service`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `sectionName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// `port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// One status condition.
#[derive(Clone, Debug, Serialize)]
pub struct Cond {
    /// Condition type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// The spec's reason.
    pub reason: String,
    /// For people.
    pub message: String,
}

/// One problem.
#[derive(Debug, Serialize)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// `Kind namespace/name`.
    pub object: String,
    /// Field path, possibly empty.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Counts, and what `check` exits with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Error-severity problems.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Whether every object is fully accepted (no condition in a bad state).
    pub all_accepted: bool,
    /// 0 clean, 1 otherwise.
    pub exit_code: u8,
}

impl Cond {
    pub(super) fn new(
        kind: &str,
        status: &'static str,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.to_owned(),
            status,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    pub(super) fn from_core(condition: &Condition) -> Self {
        let status = if condition.status { "True" } else { "False" };
        Self::new(condition.kind, status, condition.reason, &condition.message)
    }

    /// Whether the condition is in the state a working object has (`Conflicted` and
    /// `PartiallyInvalid` are negative: `True` is the bad state).
    pub fn healthy(&self) -> bool {
        match (self.kind.as_str(), self.status) {
            (_, "Unknown") => false,
            ("Conflicted" | "PartiallyInvalid", status) => status == "False",
            (_, status) => status == "True",
        }
    }
}

/// Sets a condition, replacing one of the same type or appending.
pub(super) fn set(conditions: &mut Vec<Cond>, condition: Cond) {
    match conditions.iter_mut().find(|c| c.kind == condition.kind) {
        Some(slot) => *slot = condition,
        None => conditions.push(condition),
    }
}
