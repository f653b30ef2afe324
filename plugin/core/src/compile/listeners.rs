//! Merging a Gateway's listeners: its own, then those of the ListenerSets it admits, oldest
//! first (reference §8.6), each checked, conflicts dropped and overlaps flagged.
//!
//! What a listener accepts is `attach`'s business; this file only builds the merged list and
//! says why a ListenerSet is not admitted.

use std::collections::BTreeMap;

use super::attach::{self, ListenerSite, ListenerSpec, Owner, Unusable};
use super::{limits, unknown_fields};
use crate::age::{age_key, sort_by_age};
use crate::config::{Gateway, Listener, ListenerSet};
use crate::problem::Problem;

/// The listeners a Gateway serves: its own, then those of the ListenerSets it accepts, oldest
/// first (reference §8.6). `None` where a listener cannot serve, with the reason alongside.
#[derive(Default)]
pub(super) struct MergedListeners<'c> {
    pub(super) specs: Vec<Option<ListenerSpec<'c>>>,
    pub(super) unusable: Vec<Option<Unusable>>,
    /// Each listener's name, as its own object's status reports it.
    pub(super) names: Vec<String>,
    /// Where each listener is declared, for problems.
    pub(super) sites: Vec<ListenerSite>,
    /// The ListenerSets that name the Gateway, in merge order.
    pub(super) sets: Vec<SetEntry<'c>>,
    /// Per listener, the message of its `OverlappingTLSConfig` condition, if it has one.
    pub(super) overlaps: Vec<Option<String>>,
}

/// A ListenerSet that names the Gateway.
pub(super) struct SetEntry<'c> {
    pub(super) set: &'c ListenerSet,
    /// Why the Gateway does not admit it; its listeners are then not merged.
    pub(super) refused: Option<String>,
    /// Its listeners' indices among the merged ones.
    pub(super) listeners: std::ops::Range<usize>,
}

pub(super) fn gateway_listeners<'c>(
    gateway: &'c Gateway,
    sets: &[(usize, &'c ListenerSet)],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    label: &str,
    problems: &mut Vec<Problem>,
) -> MergedListeners<'c> {
    unknown_fields(&gateway.spec.unknown, label, "spec", problems);
    limits::listeners(&gateway.spec.listeners, label, problems);
    let mut merged = MergedListeners::default();
    let owner = Owner {
        kind: "Gateway",
        namespace: gateway.metadata.namespace(),
        name: &gateway.metadata.name,
    };
    merged.add(&gateway.spec.listeners, owner, label, problems);
    let mut sets: Vec<_> = sets
        .iter()
        .filter(|(_, set)| names_gateway(set, gateway))
        .collect();
    sort_by_age(&mut sets, |(position, set)| {
        age_key(*position, &set.metadata)
    });
    for (_, set) in sets {
        let owner = Owner {
            kind: "ListenerSet",
            namespace: set.metadata.namespace(),
            name: &set.metadata.name,
        };
        let set_label = format!("ListenerSet {}/{}", owner.namespace, owner.name);
        unknown_fields(&set.spec.unknown, &set_label, "spec", problems);
        limits::listeners(&set.spec.listeners, &set_label, problems);
        let refused = refusal(set, gateway, namespaces);
        let start = merged.specs.len();
        match &refused {
            Some((message, hint)) => problems.push(
                Problem::error(
                    &set_label,
                    "spec.parentRef",
                    format!("{message}; its listeners are not served"),
                )
                .with_hint(hint),
            ),
            None => merged.add(&set.spec.listeners, owner, &set_label, problems),
        }
        merged.sets.push(SetEntry {
            set,
            refused: refused.map(|(message, _)| message),
            listeners: start..merged.specs.len(),
        });
    }
    attach::drop_conflicts(
        &mut merged.specs,
        &mut merged.unusable,
        &merged.sites,
        problems,
    );
    merged.overlaps = attach::overlapping_tls(&merged.specs, &merged.sites, problems);
    merged
}

impl<'c> MergedListeners<'c> {
    pub(super) fn add(
        &mut self,
        listeners: &'c [Listener],
        owner: Owner<'c>,
        label: &str,
        problems: &mut Vec<Problem>,
    ) {
        for (i, l) in listeners.iter().enumerate() {
            let field = format!("spec.listeners[{i}]");
            unknown_fields(&l.unknown, label, &field, problems);
            if let Some(allowed) = &l.allowed_routes {
                unknown_fields(
                    &allowed.unknown,
                    label,
                    &format!("{field}.allowedRoutes"),
                    problems,
                );
                if let Some(ns) = &allowed.namespaces {
                    unknown_fields(
                        &ns.unknown,
                        label,
                        &format!("{field}.allowedRoutes.namespaces"),
                        problems,
                    );
                }
            }
            let before = problems.len();
            // Names are unique within one object: a sectionName and the status name one listener.
            let spec = match listeners.iter().position(|other| other.name == l.name) {
                Some(first) if first < i => {
                    problems.push(
                        Problem::error(
                            label,
                            format!("{field}.name"),
                            format!(
                                "{:?} is already the name of spec.listeners[{first}]; the listener was skipped",
                                l.name
                            ),
                        )
                        .with_hint("give every listener of one object its own name: parentRefs pick listeners by sectionName"),
                    );
                    None
                }
                _ => ListenerSpec::new(l, owner, &field, label, problems),
            };
            let why = problems
                .get(before..)
                .and_then(<[Problem]>::last)
                .map(|p| p.message.clone());
            self.unusable.push(
                spec.is_none()
                    .then(|| Unusable::Invalid(why.unwrap_or_default())),
            );
            self.specs.push(spec);
            self.names.push(l.name.clone());
            self.sites.push(ListenerSite {
                object: label.to_owned(),
                field,
                name: l.name.clone(),
            });
        }
    }
}

/// Whether a ListenerSet's `parentRef` names this Gateway.
pub(super) fn names_gateway(set: &ListenerSet, gateway: &Gateway) -> bool {
    let parent = &set.spec.parent_ref;
    parent.is_gateway()
        && parent.namespace(set.metadata.namespace()) == gateway.metadata.namespace()
        && parent.name == gateway.metadata.name
}

/// Why the Gateway's `allowedListeners` does not admit a ListenerSet that names it (default:
/// no ListenerSet is admitted), and what to change; `None` when it does.
pub(super) fn refusal(
    set: &ListenerSet,
    gateway: &Gateway,
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
) -> Option<(String, String)> {
    let set_ns = set.metadata.namespace();
    let gateway_ns = gateway.metadata.namespace();
    let allowed = gateway
        .spec
        .allowed_listeners
        .as_ref()
        .and_then(|a| a.namespaces.as_ref());
    let from = allowed.and_then(|n| n.from.as_deref()).unwrap_or("None");
    let selector = allowed.and_then(|n| n.selector.as_ref());
    let admitted = match from {
        "All" => true,
        "Same" => set_ns == gateway_ns,
        "Selector" => selector.is_some_and(|selector| {
            let empty = BTreeMap::new();
            selector.selects(namespaces.get(set_ns).unwrap_or(&empty))
        }),
        _ => false,
    };
    if admitted {
        return None;
    }
    let gateway = format!("Gateway {gateway_ns}/{}", gateway.metadata.name);
    let widen = format!("set spec.allowedListeners.namespaces.from on {gateway} to All, or to Selector with a selector namespace {set_ns} matches");
    let (policy, hint) = match (from, allowed) {
        ("None", None) => (
            String::from("admits no ListenerSet: spec.allowedListeners.namespaces.from defaults to None"),
            widen,
        ),
        ("None", Some(_)) => (String::from("admits no ListenerSet (allowedListeners from: None)"), widen),
        ("Same", _) => (format!("admits ListenerSets only from its own namespace {gateway_ns}"), widen),
        ("Selector", _) => {
            let labels: Vec<String> = selector
                .map(|s| s.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            (
                String::from("admits ListenerSets only from namespaces its selector matches"),
                if labels.is_empty() {
                    widen
                } else {
                    format!("label namespace {set_ns} {}, or widen the Gateway's allowedListeners", labels.join(" "))
                },
            )
        }
        (other, _) => (
            format!("has allowedListeners from: {other:?}, which admits nothing (supported: None, Same, All, Selector)"),
            widen,
        ),
    };
    Some((
        format!("{gateway} {policy}; namespace {set_ns} is not allowed (NotAllowed)"),
        hint,
    ))
}
