//! Route attachment: which listeners of the Gateway accept a route, and with which effective
//! hostnames (reference §2.2, §8.1, §8.2).
//!
//! A parentRef selects listeners by `sectionName` and `port` (both must hold when both are set);
//! a listener accepts a route when its `allowedRoutes` namespaces and kinds allow it and their
//! hostnames intersect. A route with no accepting listener serves nothing, and says why.

use std::collections::BTreeMap;

use crate::config::{LabelSelector, Listener, ParentRef, GATEWAY_GROUP};
use crate::hostname::Hostname;
use crate::problem::Problem;
use crate::status::{Condition, ListenerStatus};

/// A listener as attachment needs it.
#[derive(Debug)]
pub(crate) struct ListenerSpec<'c> {
    pub(crate) name: &'c str,
    pub(crate) port: Option<u16>,
    pub(crate) hostname: Option<Hostname>,
    /// The Gateway or ListenerSet that declares the listener.
    pub(crate) owner: Owner<'c>,
    protocol: &'c str,
    from: NamespaceFrom<'c>,
    kinds: Vec<(&'c str, &'c str)>,
}

/// The object a listener belongs to: a route attaches to it by naming that object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner<'c> {
    /// `Gateway` or `ListenerSet`.
    pub(crate) kind: &'c str,
    pub(crate) namespace: &'c str,
    pub(crate) name: &'c str,
}

#[derive(Debug)]
enum NamespaceFrom<'c> {
    Same,
    All,
    Selector(Option<&'c LabelSelector>),
}

impl<'c> ListenerSpec<'c> {
    /// Reads one listener; `None` (with a problem) when it cannot serve HTTP routes at all.
    pub(crate) fn new(
        listener: &'c Listener,
        owner: Owner<'c>,
        field: &str,
        gateway: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Self> {
        let port = match listener.port.map(u16::try_from) {
            Some(Ok(port)) if port > 0 => Some(port),
            _ => {
                problems.push(Problem::error(
                    gateway,
                    format!("{field}.port"),
                    "must be a port between 1 and 65535; the listener was skipped",
                ));
                return None;
            }
        };
        let hostname = match listener.hostname.as_deref() {
            None | Some("") => None,
            Some(value) => match Hostname::parse(value) {
                Some(h) => Some(h),
                None => {
                    problems.push(Problem::error(
                        gateway,
                        format!("{field}.hostname"),
                        format!("{value:?} is not a valid hostname; the listener was skipped"),
                    ));
                    return None;
                }
            },
        };
        let allowed = listener.allowed_routes.as_ref();
        let namespaces = allowed.and_then(|a| a.namespaces.as_ref());
        let from = match namespaces.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
            "Same" => NamespaceFrom::Same,
            "All" => NamespaceFrom::All,
            "Selector" => NamespaceFrom::Selector(namespaces.and_then(|n| n.selector.as_ref())),
            other => {
                problems.push(Problem::error(
                    gateway,
                    format!("{field}.allowedRoutes.namespaces.from"),
                    format!("unsupported value {other:?} (supported: Same, All, Selector); no route may attach"),
                ));
                NamespaceFrom::Selector(None)
            }
        };
        let kinds = allowed
            .map(|a| {
                a.kinds
                    .iter()
                    .map(|k| (k.group.as_deref().unwrap_or(GATEWAY_GROUP), k.kind.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            name: &listener.name,
            port,
            hostname,
            owner,
            protocol: &listener.protocol,
            from,
            kinds,
        })
    }

    /// Whether the listener terminates TLS for HTTP.
    pub(crate) fn is_https(&self) -> bool {
        self.protocol == "HTTPS"
    }

    /// `allowedRoutes.kinds` as (group, kind) pairs.
    fn listed_kinds(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.kinds.iter().copied()
    }

    fn allows_kind(&self, kind: &str) -> bool {
        let protocol_fits = matches!(self.protocol, "HTTP" | "HTTPS");
        if self.kinds.is_empty() {
            return protocol_fits;
        }
        protocol_fits
            && self
                .kinds
                .iter()
                .any(|&(g, k)| g == GATEWAY_GROUP && k == kind)
    }

    fn allows_namespace(
        &self,
        route_ns: &str,
        namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> bool {
        match self.from {
            NamespaceFrom::Same => route_ns == self.owner.namespace,
            NamespaceFrom::All => true,
            NamespaceFrom::Selector(None) => false,
            NamespaceFrom::Selector(Some(selector)) => {
                let empty = BTreeMap::new();
                selector.selects(namespaces.get(route_ns).unwrap_or(&empty))
            }
        }
    }
}

/// Why a listener does not serve: invalid (reason, message) or conflicted with another.
#[derive(Clone, Debug)]
pub(crate) enum Unusable {
    Invalid(String),
    Conflicted(&'static str, String),
}

/// Where a listener is declared, for problems.
#[derive(Debug)]
pub(crate) struct ListenerSite {
    /// `Gateway ns/name` or `ListenerSet ns/name`.
    pub(crate) object: String,
    /// `spec.listeners[i]` in that object.
    pub(crate) field: String,
    /// The listener's name.
    pub(crate) name: String,
}

/// Marks conflicted listeners unusable (reference §8.3): listeners on one port with protocols
/// that cannot share it (`ProtocolConflict`; HTTPS and TLS may share), or with the same port,
/// protocol and hostname (`HostnameConflict`). Within one object none of them is programmed;
/// across objects the listener first in merge order (the Gateway's own, then ListenerSets
/// oldest first) keeps serving and only the later one is conflicted (GEP-1713).
pub(crate) fn drop_conflicts(
    listeners: &mut [Option<ListenerSpec<'_>>],
    unusable: &mut [Option<Unusable>],
    sites: &[ListenerSite],
    problems: &mut Vec<Problem>,
) {
    fn family(protocol: &str) -> &str {
        match protocol {
            "HTTPS" | "TLS" => "TLS",
            other => other,
        }
    }
    let mut conflicted = vec![None; listeners.len()];
    for (i, a) in listeners.iter().enumerate() {
        let Some(a) = a else { continue };
        for (j, b) in listeners.iter().enumerate().skip(i + 1) {
            let Some(b) = b else { continue };
            if a.port != b.port {
                continue;
            }
            let reason = if family(a.protocol) != family(b.protocol) {
                "ProtocolConflict"
            } else if a.protocol == b.protocol && a.hostname == b.hostname {
                "HostnameConflict"
            } else {
                continue;
            };
            if a.owner == b.owner {
                conflicted[i] = conflicted[i].or(Some((reason, j)));
            }
            conflicted[j] = conflicted[j].or(Some((reason, i)));
        }
    }
    for (i, conflict) in conflicted.into_iter().enumerate() {
        let (Some((reason, other)), Some(site)) = (conflict, sites.get(i)) else {
            continue;
        };
        let Some(other) = sites.get(other) else {
            continue;
        };
        let (message, hint) = if other.object == site.object {
            (
                format!(
                    "conflicts with listener {} on the same port ({reason}); neither is programmed",
                    other.name
                ),
                "give each listener on a port the same protocol family and a distinct hostname",
            )
        } else {
            (
                format!("conflicts with listener {} of {} on the same port ({reason}), which comes first; this listener is not programmed", other.name, other.object),
                "use another port or a distinct hostname: the Gateway's own listeners win, then older ListenerSets",
            )
        };
        problems.push(Problem::error(&site.object, &site.field, &message).with_hint(hint));
        if let Some(slot) = unusable.get_mut(i) {
            *slot = Some(Unusable::Conflicted(reason, message));
        }
    }
    for (slot, state) in listeners.iter_mut().zip(unusable.iter()) {
        if state.is_some() {
            *slot = None;
        }
    }
}

/// HTTPS listeners on one port whose hostnames overlap: one is a wildcard covering the other's,
/// or one has none (reference §8.3). Each gets a message for its `OverlappingTLSConfig`
/// condition (reason `OverlappingHostnames`) and a warning: routing is unaffected, since the
/// Host (and the SNI where listeners share a port) picks the listener, but a client that reuses
/// one TLS connection for both hostnames presents the other listener's certificate.
pub(crate) fn overlapping_tls(
    listeners: &[Option<ListenerSpec<'_>>],
    sites: &[ListenerSite],
    problems: &mut Vec<Problem>,
) -> Vec<Option<String>> {
    let shown = |h: Option<&Hostname>| {
        h.map_or_else(|| String::from("every hostname"), ToString::to_string)
    };
    let mut overlaps = vec![None; listeners.len()];
    for (i, a) in listeners.iter().enumerate() {
        let Some(a) = a.as_ref().filter(|l| l.is_https()) else {
            continue;
        };
        let other = listeners.iter().enumerate().find_map(|(j, b)| {
            let b = b
                .as_ref()
                .filter(|b| j != i && b.is_https() && b.port == a.port)?;
            let overlap = match (&a.hostname, &b.hostname) {
                (Some(x), Some(y)) => x != y && x.intersect(y).is_some(),
                (None, None) => false,
                _ => true,
            };
            overlap.then_some((j, b))
        });
        let (Some((j, b)), Some(site)) = (other, sites.get(i)) else {
            continue;
        };
        let b_name = match sites.get(j) {
            Some(other) if other.object != site.object => {
                format!("{} of {}", b.name, other.object)
            }
            _ => b.name.to_owned(),
        };
        let message = format!(
            "serves {} and listener {b_name} serves {} on the same HTTPS port {} (OverlappingHostnames)",
            shown(a.hostname.as_ref()),
            shown(b.hostname.as_ref()),
            a.port.unwrap_or(0)
        );
        problems.push(
            Problem::warning(&site.object, &site.field, &message).with_hint(
                "fine when intended; give each listener a certificate for its own hostnames only, so a reused HTTP/2 connection is not answered with the other's",
            ),
        );
        if let Some(slot) = overlaps.get_mut(i) {
            *slot = Some(message);
        }
    }
    overlaps
}

/// The status of one listener: its conditions, admitted kinds and attached route count.
pub(crate) fn listener_status(
    name: &str,
    spec: Option<&ListenerSpec<'_>>,
    unusable: Option<&Unusable>,
    attached_routes: u32,
) -> ListenerStatus {
    let mut conditions = Vec::new();
    let mut supported_kinds = Vec::new();
    match (spec, unusable) {
        (Some(spec), _) => {
            let serves_http = matches!(spec.protocol, "HTTP" | "HTTPS");
            if serves_http {
                conditions.push(Condition::yes(
                    "Accepted",
                    "Accepted",
                    "the listener serves HTTP routes",
                ));
            } else {
                conditions.push(Condition::no(
                    "Accepted",
                    "UnsupportedProtocol",
                    format!(
                        "gatewasm routes HTTP and HTTPS listeners; {} is left to the proxy",
                        spec.protocol
                    ),
                ));
            }
            conditions.push(Condition::no("Conflicted", "NoConflicts", "no conflicts"));
            let (supported, invalid): (Vec<_>, Vec<_>) = spec
                .listed_kinds()
                .partition(|(g, k)| *g == GATEWAY_GROUP && matches!(*k, "HTTPRoute" | "GRPCRoute"));
            supported_kinds = if spec.kinds.is_empty() && serves_http {
                vec![String::from("HTTPRoute"), String::from("GRPCRoute")]
            } else if serves_http {
                supported.iter().map(|(_, k)| (*k).to_owned()).collect()
            } else {
                Vec::new()
            };
            if invalid.is_empty() {
                conditions.push(Condition::yes(
                    "ResolvedRefs",
                    "ResolvedRefs",
                    "all references resolved",
                ));
            } else {
                let kinds: Vec<String> = invalid.iter().map(|(g, k)| format!("{g}/{k}")).collect();
                conditions.push(Condition::no(
                    "ResolvedRefs",
                    "InvalidRouteKinds",
                    format!("route kinds not supported here: {}", kinds.join(", ")),
                ));
            }
            conditions.push(if serves_http {
                Condition::yes(
                    "Programmed",
                    "Programmed",
                    "the filter routes this listener",
                )
            } else {
                Condition::no("Programmed", "Invalid", "not an HTTP listener")
            });
        }
        (None, Some(Unusable::Conflicted(reason, message))) => {
            conditions.push(Condition::no(
                "Accepted",
                reason,
                "conflicted listeners are not accepted",
            ));
            conditions.push(Condition::yes("Conflicted", reason, message.clone()));
            conditions.push(Condition::no(
                "Programmed",
                reason,
                "conflicted listeners are not programmed",
            ));
        }
        (None, invalid) => {
            let message = match invalid {
                Some(Unusable::Invalid(message)) => message.clone(),
                _ => String::from("the listener is invalid"),
            };
            conditions.push(Condition::no("Accepted", "UnsupportedValue", message));
            conditions.push(Condition::no(
                "Programmed",
                "Invalid",
                "invalid listeners are not programmed",
            ));
        }
    }
    ListenerStatus {
        name: name.to_owned(),
        attached_routes,
        supported_kinds,
        conditions,
    }
}

/// The route being attached.
pub(crate) struct RouteSide<'c> {
    pub(crate) kind: &'static str,
    pub(crate) namespace: &'c str,
    pub(crate) label: &'c str,
    pub(crate) parent_refs: &'c [ParentRef],
    pub(crate) hostnames: &'c [Hostname],
}

/// The Gateway being implemented, with the listeners of its accepted ListenerSets after its
/// own (reference §8.6).
pub(crate) struct GatewaySide<'c> {
    pub(crate) namespace: &'c str,
    pub(crate) name: &'c str,
    pub(crate) listeners: &'c [Option<ListenerSpec<'c>>],
    /// ListenerSets that name the Gateway but that it does not admit.
    pub(crate) refused_sets: &'c [Owner<'c>],
    pub(crate) namespaces: &'c BTreeMap<String, BTreeMap<String, String>>,
}

impl GatewaySide<'_> {
    /// Whether a parentRef names this Gateway or one of its accepted ListenerSets.
    fn serves(&self, owner: Owner<'_>) -> bool {
        (owner.kind == "Gateway" && owner.namespace == self.namespace && owner.name == self.name)
            || self.listeners.iter().flatten().any(|l| l.owner == owner)
    }
}

/// What happened to one parentRef that names this proxy's Gateway (or mesh Service).
#[derive(Debug)]
pub(crate) struct ParentOutcome {
    /// `Gateway ns/name` or `Service ns/name`.
    pub(crate) parent: String,
    pub(crate) section_name: Option<String>,
    pub(crate) port: Option<u16>,
    /// Field path of the parentRef, for problems.
    pub(crate) field: String,
    /// Listeners (or mesh scopes) that accepted the route through this parentRef.
    pub(crate) listeners: Vec<usize>,
    /// Why no listener accepted it: the spec's reason and a message.
    pub(crate) refusal: Option<(&'static str, String)>,
}

/// Listeners (or mesh scopes) and effective hostnames of one route, and what each parentRef got.
#[derive(Debug, Default)]
pub(crate) struct Attachment {
    /// Listener index → effective hostnames (`None` = every Host).
    pub(crate) listeners: BTreeMap<usize, Vec<Option<Hostname>>>,
    pub(crate) parents: Vec<ParentOutcome>,
}

impl ListenerSpec<'_> {
    /// Why this listener refuses routes from `namespace`, in words a user can act on.
    fn namespace_refusal(&self, namespace: &str) -> String {
        let policy = match self.from {
            NamespaceFrom::Same => format!(
                "allows routes only from its own namespace {}",
                self.owner.namespace
            ),
            NamespaceFrom::All => String::from("allows every namespace"),
            NamespaceFrom::Selector(None) => {
                String::from("uses from: Selector without a selector, which selects no namespace")
            }
            NamespaceFrom::Selector(Some(selector)) => {
                let mut terms: Vec<String> = selector
                    .match_labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                terms.extend(
                    selector
                        .match_expressions
                        .iter()
                        .map(|e| format!("{} {} {:?}", e.key, e.operator, e.values)),
                );
                format!(
                    "allows routes only from namespaces labelled {}",
                    terms.join(", ")
                )
            }
        };
        format!(
            "listener {} {policy}; namespace {namespace} is not allowed (NotAllowedByListeners)",
            self.name
        )
    }
}

/// Attaches a route to the listeners of the Gateway its parentRefs name (reference §8.1, §8.2).
pub(crate) fn attach(
    route: &RouteSide<'_>,
    gateway: &GatewaySide<'_>,
    problems: &mut Vec<Problem>,
) -> Attachment {
    let mut attachment = Attachment::default();
    for (i, parent) in route.parent_refs.iter().enumerate() {
        let kind = parent.kind();
        let namespace = parent.namespace(route.namespace);
        let owner = Owner {
            kind,
            namespace,
            name: &parent.name,
        };
        let refused = gateway.refused_sets.contains(&owner);
        if parent.group() != GATEWAY_GROUP || (!refused && !gateway.serves(owner)) {
            continue; // another proxy's parent
        }
        let mut outcome = ParentOutcome {
            parent: format!("{kind} {namespace}/{}", parent.name),
            section_name: parent.section_name.clone(),
            port: parent.port.and_then(|p| u16::try_from(p).ok()),
            field: format!("spec.parentRefs[{i}]"),
            listeners: Vec::new(),
            refusal: None,
        };
        if refused {
            let message = format!(
                "{} is not admitted by Gateway {}/{} (see its status), so no route attaches through it (NotAllowedByListeners)",
                outcome.parent, gateway.namespace, gateway.name
            );
            problems.push(
                Problem::error(route.label, &outcome.field, &message)
                    .with_hint("have the Gateway's allowedListeners admit the ListenerSet's namespace, or attach the route to an accepted parent"),
            );
            outcome.refusal = Some(("NotAllowedByListeners", message));
            attachment.parents.push(outcome);
            continue;
        }
        let mut refusals: Vec<(&'static str, String)> = Vec::new();
        let mut selected = 0;
        for (index, listener) in gateway.listeners.iter().enumerate() {
            // A route on the Gateway never serves a ListenerSet's listeners, nor the reverse.
            let Some(listener) = listener.as_ref().filter(|l| l.owner == owner) else {
                continue;
            };
            if parent
                .section_name
                .as_deref()
                .is_some_and(|s| s != listener.name)
                || parent
                    .port
                    .is_some_and(|p| Some(p) != listener.port.map(u32::from))
            {
                continue;
            }
            selected += 1;
            if !listener.allows_kind(route.kind) {
                refusals.push((
                    "NotAllowedByListeners",
                    format!(
                        "listener {} does not allow {} (NotAllowedByListeners)",
                        listener.name, route.kind
                    ),
                ));
            } else if !listener.allows_namespace(route.namespace, gateway.namespaces) {
                refusals.push((
                    "NotAllowedByListeners",
                    listener.namespace_refusal(route.namespace),
                ));
            } else {
                match effective_hostnames(route.hostnames, listener.hostname.as_ref()) {
                    Some(hosts) => {
                        outcome.listeners.push(index);
                        let entry = attachment.listeners.entry(index).or_default();
                        for host in hosts {
                            if !entry.contains(&host) {
                                entry.push(host);
                            }
                        }
                    }
                    None => refusals.push((
                        "NoMatchingListenerHostname",
                        format!(
                            "no route hostname intersects listener {} hostname {} (NoMatchingListenerHostname)",
                            listener.name,
                            listener.hostname.as_ref().map(ToString::to_string).unwrap_or_default()
                        ),
                    )),
                }
            }
        }
        if selected == 0 {
            let message = format!(
                "no listener of {kind} {namespace}/{} matches this parentRef (NoMatchingParent)",
                parent.name
            );
            problems.push(
                Problem::error(route.label, &outcome.field, &message)
                    .with_hint("check sectionName and port against the listeners"),
            );
            outcome.refusal = Some(("NoMatchingParent", message));
        } else if outcome.listeners.is_empty() {
            let reason = refusals.first().map_or("NotAllowedByListeners", |r| r.0);
            let message = refusals
                .into_iter()
                .map(|r| r.1)
                .collect::<Vec<_>>()
                .join("; ");
            let hint = match reason {
                "NoMatchingListenerHostname" => "give the route a hostname the listener accepts, or remove the listener's hostname",
                _ => "label the route's namespace to match, or widen the listener's allowedRoutes",
            };
            problems.push(Problem::error(route.label, &outcome.field, &message).with_hint(hint));
            outcome.refusal = Some((reason, message));
        }
        attachment.parents.push(outcome);
    }
    attachment
}

/// Route hostnames narrowed to a listener hostname (reference §2.2). `Some(vec![None])` means
/// every Host; `None` means nothing intersects.
fn effective_hostnames(
    route: &[Hostname],
    listener: Option<&Hostname>,
) -> Option<Vec<Option<Hostname>>> {
    match (route.is_empty(), listener) {
        (true, None) => Some(vec![None]),
        (true, Some(l)) => Some(vec![Some(l.clone())]),
        (false, None) => Some(route.iter().cloned().map(Some).collect()),
        (false, Some(l)) => {
            let hosts: Vec<_> = route
                .iter()
                .filter_map(|r| r.intersect(l))
                .map(Some)
                .collect();
            (!hosts.is_empty()).then_some(hosts)
        }
    }
}
