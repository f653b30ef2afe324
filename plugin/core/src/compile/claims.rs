//! Listener claims between route kinds: an HTTPRoute and a GRPCRoute with intersecting
//! hostnames never share a listener (reference §7.2); the older route keeps it.
//!
//! Attachment itself is `attach`'s; this file only takes listeners away from a newer route.

use std::collections::{BTreeMap, BTreeSet};

use super::attach::Attachment;
use super::parents::Parents;
use crate::hostname::Hostname;
use crate::problem::Problem;
use crate::table::{Candidate, PathKey};

/// The matches indexed under one (listener, effective hostname), all of one route kind.
pub(super) struct Bucket {
    pub(super) kind: &'static str,
    pub(super) entries: Vec<(PathKey, Candidate)>,
}

/// An HTTPRoute and a GRPCRoute with intersecting hostnames never share a listener: the older
/// route keeps it and the newer one is not accepted there (reference §7.2). Only listeners that
/// already serve the other kind are scanned.
pub(super) fn claim_listeners(
    attachment: &mut Attachment,
    buckets: &BTreeMap<(usize, Option<Hostname>), Bucket>,
    kinds: &BTreeSet<(usize, &'static str)>,
    kind: &'static str,
    label: &str,
    parents: &Parents<'_>,
    problems: &mut Vec<Problem>,
) {
    let mut refused: Vec<(usize, String)> = Vec::new();
    let mut keeps = |listener: usize, hosts: &[Option<Hostname>]| {
        if !kinds.iter().any(|&(l, k)| l == listener && k != kind) {
            return true;
        }
        let conflict = buckets
            .range((listener, None)..)
            .take_while(|((l, _), _)| *l == listener)
            .filter(|(_, bucket)| bucket.kind != kind)
            .find(|((_, taken), _)| {
                hosts
                    .iter()
                    .any(|host| hostnames_intersect(host.as_ref(), taken.as_ref()))
            });
        let Some(((_, taken), bucket)) = conflict else {
            return true;
        };
        let scope = parents.scope_name(listener);
        let taken = taken.as_ref().map_or_else(
            || String::from("every hostname"),
            |h| format!("hostname {h}"),
        );
        let message = format!(
            "an older {} already serves {taken} on {scope}; this route is not accepted there",
            bucket.kind
        );
        problems.push(
            Problem::error(label, "spec.hostnames", &message)
                .with_hint("HTTPRoute and GRPCRoute may not share hostnames on a listener: give them distinct hostnames"),
        );
        refused.push((listener, message));
        false
    };
    // Rebuilt rather than `retain`ed: removing from a BTreeMap brings in its rebalancing code.
    for (listener, hosts) in std::mem::take(&mut attachment.listeners) {
        if keeps(listener, &hosts) {
            attachment.listeners.insert(listener, hosts);
        }
    }
    for parent in &mut attachment.parents {
        let before = parent.listeners.len();
        parent
            .listeners
            .retain(|l| !refused.iter().any(|(r, _)| r == l));
        if before > 0 && parent.listeners.is_empty() && parent.refusal.is_none() {
            let message = refused.first().map(|(_, m)| m.clone()).unwrap_or_default();
            parent.refusal = Some(("NotAllowedByListeners", message));
        }
    }
}

/// Whether two effective hostnames (`None`: every Host) have a Host in common.
pub(super) fn hostnames_intersect(a: Option<&Hostname>, b: Option<&Hostname>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.intersect(b).is_some(),
        _ => true,
    }
}
