//! Status conditions from what compiling found: a route's per parentRef (reference §10), and the
//! Gateway's and ListenerSets' from their listeners (reference §8.3, §8.6).
//!
//! The listeners' own conditions come from `attach::listener_status`; this file only combines.

use std::collections::BTreeMap;

use super::attach::{self, ListenerSpec, ParentOutcome};
use super::listeners::MergedListeners;
use crate::config::Gateway;
use crate::status::{
    Condition, GatewayStatus, ListenerSetStatus, ListenerStatus, ParentStatus, Status,
};

/// What compiling a route's rules gave: how many there were, which survived, and the first
/// reference that could not be resolved.
#[derive(Default)]
pub(super) struct RuleOutcome {
    pub(super) total: usize,
    pub(super) kept: Vec<usize>,
    pub(super) unresolved: Option<(&'static str, String)>,
}

/// The conditions of a route on one parentRef (reference §10).
pub(super) fn parent_status(parent: &ParentOutcome, rules: &RuleOutcome) -> ParentStatus {
    let mut conditions = vec![match &parent.refusal {
        Some((reason, message)) => Condition::no("Accepted", reason, message.clone()),
        None if rules.kept.is_empty() => Condition::no(
            "Accepted",
            "UnsupportedValue",
            "no rule of the route is valid",
        ),
        None => Condition::yes("Accepted", "Accepted", "the route is accepted"),
    }];
    conditions.push(match &rules.unresolved {
        Some((reason, message)) => Condition::no("ResolvedRefs", reason, message.clone()),
        None => Condition::yes("ResolvedRefs", "ResolvedRefs", "all references resolved"),
    });
    if !rules.kept.is_empty() && rules.kept.len() < rules.total {
        let dropped: Vec<String> = (0..rules.total)
            .filter(|i| !rules.kept.contains(i))
            .map(|i| format!("rules[{i}]"))
            .collect();
        conditions.push(Condition::yes(
            "PartiallyInvalid",
            "UnsupportedValue",
            format!("Dropped Rule(s): {}", dropped.join(", ")),
        ));
    }
    ParentStatus {
        parent: parent.parent.clone(),
        section_name: parent.section_name.clone(),
        port: parent.port,
        conditions,
    }
}

/// `Accepted` and `Programmed` of a Gateway or ListenerSet from its listeners' status: accepted
/// with its usable listeners, `ListenersNotValid` when some are not (reference §8.3, §8.6).
/// `others_serve`: listeners elsewhere (a Gateway's admitted ListenerSets) keep it programmed.
pub(super) fn owner_conditions(
    listeners: &[ListenerStatus],
    others_serve: bool,
    what: &str,
) -> Vec<Condition> {
    let usable = listeners.iter().any(ListenerStatus::programmed);
    let all = !listeners.is_empty() && listeners.iter().all(ListenerStatus::programmed);
    let accepted = if all {
        Condition::yes("Accepted", "Accepted", "every listener is valid")
    } else if usable || others_serve {
        Condition::yes(
            "Accepted",
            "ListenersNotValid",
            "some listeners are invalid, conflicted or not HTTP; the others serve",
        )
    } else {
        Condition::no(
            "Accepted",
            "ListenersNotValid",
            "no listener can serve HTTP routes",
        )
    };
    let programmed = if usable || others_serve {
        Condition::yes(
            "Programmed",
            "Programmed",
            format!("the filter routes this {what}"),
        )
    } else {
        // A Gateway says Invalid, as it always has; a ListenerSet's reason is ListenersNotValid.
        let reason = if what == "Gateway" {
            "Invalid"
        } else {
            "ListenersNotValid"
        };
        Condition::no("Programmed", reason, "nothing to program")
    };
    vec![accepted, programmed]
}

/// Status of the Gateway's own listeners and of every ListenerSet that names it.
pub(super) fn gateway_and_set_status(
    gateway: &Gateway,
    merged: &MergedListeners<'_>,
    specs: &[Option<ListenerSpec<'_>>],
    attached_routes: &BTreeMap<usize, u32>,
    status: &mut Status,
) {
    let listener = |i: usize| {
        let mut status = attach::listener_status(
            merged.names.get(i).map_or("", String::as_str),
            specs.get(i).and_then(Option::as_ref),
            merged.unusable.get(i).and_then(Option::as_ref),
            attached_routes.get(&i).copied().unwrap_or(0),
        );
        // Negative polarity: set only when True.
        if let Some(message) = merged.overlaps.get(i).and_then(Option::as_ref) {
            status.conditions.push(Condition::yes(
                "OverlappingTLSConfig",
                "OverlappingHostnames",
                message.clone(),
            ));
        }
        status
    };
    let mut set_serves = false;
    let mut attached_sets = 0;
    for entry in &merged.sets {
        let listeners: Vec<ListenerStatus> = entry.listeners.clone().map(listener).collect();
        let conditions = match &entry.refused {
            Some(message) => vec![
                Condition::no("Accepted", "NotAllowed", message.clone()),
                Condition::no(
                    "Programmed",
                    "NotAllowed",
                    "the Gateway does not admit this ListenerSet; nothing is programmed",
                ),
            ],
            None => {
                attached_sets += 1;
                owner_conditions(&listeners, false, "ListenerSet")
            }
        };
        set_serves |= listeners.iter().any(ListenerStatus::programmed);
        status.listener_sets.push(ListenerSetStatus {
            namespace: entry.set.metadata.namespace().to_owned(),
            name: entry.set.metadata.name.clone(),
            conditions,
            listeners,
        });
    }
    let own: Vec<ListenerStatus> = (0..gateway.spec.listeners.len()).map(listener).collect();
    status.gateways.push(GatewayStatus {
        namespace: gateway.metadata.namespace().to_owned(),
        name: gateway.metadata.name.clone(),
        conditions: owner_conditions(&own, set_serves, "Gateway"),
        listeners: own,
        attached_listener_sets: attached_sets,
    });
}
