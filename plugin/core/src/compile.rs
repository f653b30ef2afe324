//! From a parsed configuration to a [`RouteTable`], with every problem found on the way.
//!
//! Order of work: read objects; find the Gateway this proxy implements and its listeners;
//! order routes by age (oldest first, then `{namespace}/{name}`); attach each route to the
//! listeners that accept it; compile its rules; index every match under each effective hostname
//! of each listener. All sorting and defaulting happens here, none per request.

mod attach;
mod backends;
mod cluster_split;
mod filters;
mod limits;
mod mesh;
mod policies;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{
    ConfigError, Gateway, GrpcRoute, HttpRoute, HttpRouteRule, Listener, ListenerSet, ObjectMeta,
    ParentRef, PluginConfig, ReferenceGrant, Resource, Service, Unknown,
};
use crate::decide::{Target, DEFAULT_CLUSTER_HEADER};
use crate::fnv::FnvHashMap;
use crate::hostname::Hostname;
use crate::precedence::Rank;
use crate::problem::Problem;
use crate::status::{
    Condition, GatewayStatus, ListenerSetStatus, ListenerStatus, ParentStatus, RouteStatus, Status,
};
use crate::table::{
    Candidate, CompiledMatch, HostIndex, ListenerTable, PathIndex, PathKey, RouteInfo, RouteTable,
    Rule,
};

use attach::{
    Attachment, GatewaySide, ListenerSite, ListenerSpec, Owner, ParentOutcome, RouteSide, Unusable,
};
use backends::BackendContext;
use mesh::MeshParents;
use policies::{Policies, RuleScope};
use rules::{RuleParts, RuleSite};

/// The cluster name template for Istio's outbound clusters.
pub const DEFAULT_CLUSTER_TEMPLATE: &str = "outbound|{port}||{name}.{namespace}.svc.cluster.local";
/// The `:authority` template for `authority` mode.
pub const DEFAULT_AUTHORITY_TEMPLATE: &str = "{name}.{namespace}.svc.cluster.local:{port}";

/// A compiled configuration and what was wrong with it.
#[derive(Debug)]
pub struct Compiled {
    /// The table to route with.
    pub table: RouteTable,
    /// Every problem, in the order found.
    pub problems: Vec<Problem>,
    /// Gateway API status conditions, as the filter acts on the configuration.
    pub status: Status,
}

/// Parses and compiles configuration bytes, as `on_configure` does.
///
/// # Errors
///
/// [`ConfigError`] only when the bytes cannot serve at all (not JSON, wrong top-level shape,
/// unknown target mode); everything else is a [`Problem`] next to a table that still serves.
pub fn compile_bytes(bytes: &[u8]) -> Result<Compiled, ConfigError> {
    compile(&PluginConfig::parse(bytes)?)
}

/// Compiles a parsed configuration. Problems never stop the parts that are fine.
///
/// # Errors
///
/// [`ConfigError::Target`] when `target` names a mode or header the filter cannot use.
pub fn compile(config: &PluginConfig) -> Result<Compiled, ConfigError> {
    let mut problems = Vec::new();
    unknown_fields(&config.unknown, "configuration", "", &mut problems);
    let mut table = RouteTable {
        target: target(config)?,
        ..RouteTable::default()
    };
    let names = Names::new(config);
    let objects = config.objects(&mut problems);

    let mut gateways = Vec::new();
    let mut routes = Vec::new();
    let mut grants: Vec<&ReferenceGrant> = Vec::new();
    let mut namespaces = BTreeMap::new();
    let mut service_objects = Vec::new();
    let mut listener_sets = Vec::new();
    let mut splits = Vec::new();
    for (position, object) in objects.iter().enumerate() {
        match object {
            Resource::Gateway(g) => gateways.push(g),
            Resource::HttpRoute(r) => routes.push((position, RouteObject::Http(r))),
            Resource::GrpcRoute(r) => routes.push((position, RouteObject::Grpc(r))),
            Resource::ReferenceGrant(g) => grants.push(g),
            Resource::Namespace(n) => {
                namespaces.insert(n.metadata.name.clone(), n.metadata.labels.clone());
            }
            Resource::Service(s) => service_objects.push(s),
            Resource::ListenerSet(l) => listener_sets.push((position, l)),
            Resource::TrafficPolicy(_) => {}
            Resource::ClusterSplit(s) => splits.push(s),
        }
    }

    let listeners;
    let refused_sets: Vec<Owner<'_>>;
    let mut merged = MergedListeners::default();
    let mut implemented = None;
    let mut parents = match config.gateway.as_deref() {
        // An empty configuration routes nothing (every request gets 404), as DESIGN.md says;
        // without a gateway, resources make it a mesh configuration.
        None if config.resources.is_empty() => {
            return Ok(Compiled {
                table,
                problems,
                status: Status::default(),
            })
        }
        None => Parents::Mesh(MeshParents::new(
            &service_objects,
            config.namespace.as_deref(),
        )),
        Some(key) => {
            let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
            let Some(gateway) = gateways
                .iter()
                .find(|g| g.metadata.namespace() == namespace && g.metadata.name == name)
            else {
                problems.push(
                    Problem::error("configuration", "gateway", format!("Gateway {namespace}/{name} is not among the resources; no route serves"))
                        .with_hint("add the Gateway object to resources, or fix the namespace/name"),
                );
                return Ok(Compiled {
                    table,
                    problems,
                    status: Status::default(),
                });
            };
            let label = format!("Gateway {namespace}/{name}");
            merged = gateway_listeners(gateway, &listener_sets, &namespaces, &label, &mut problems);
            listeners = std::mem::take(&mut merged.specs);
            refused_sets = merged
                .sets
                .iter()
                .filter(|entry| entry.refused.is_some())
                .map(|entry| Owner {
                    kind: "ListenerSet",
                    namespace: entry.set.metadata.namespace(),
                    name: &entry.set.metadata.name,
                })
                .collect();
            implemented = Some(*gateway);
            Parents::Gateway(GatewaySide {
                namespace,
                name,
                listeners: &listeners,
                refused_sets: &refused_sets,
                namespaces: &namespaces,
            })
        }
    };

    sort_by_age(&mut routes, |(position, route)| {
        age_key(*position, route.metadata())
    });
    let services = known_services(config, &service_objects);
    let mut policies = Policies::new(
        &objects,
        config.services.as_deref(),
        implemented.map(|_| config.gateway.as_deref().unwrap_or_default()),
        &mut problems,
    );
    let mut backend_ids = FnvHashMap::default();
    let mut buckets: BTreeMap<(usize, Option<Hostname>), Bucket> = BTreeMap::new();
    let mut kinds: BTreeSet<(usize, &'static str)> = BTreeSet::new();
    let mut status = Status::default();
    let mut attached_routes: BTreeMap<usize, u32> = BTreeMap::new();

    // Sized once: growing these by doubling would, at 10,000 rules, leave several megabytes of
    // linear memory behind in the .wasm, which never shrinks.
    table
        .rules
        .reserve_exact(routes.iter().map(|(_, r)| r.rule_count()).sum());
    table
        .matches
        .reserve_exact(routes.iter().map(|(_, r)| r.match_count()).sum());
    for (route_rank, (_, route)) in routes.iter().enumerate() {
        let kind = route.kind();
        let namespace = route.metadata().namespace();
        let label = format!("{kind} {namespace}/{}", route.metadata().name);
        unknown_fields(route.spec_unknown(), &label, "spec", &mut problems);
        match route {
            RouteObject::Http(r) => limits::http_route(r, &label, &mut problems),
            RouteObject::Grpc(r) => limits::grpc_route(r, &label, &mut problems),
        }
        let hostnames = route_hostnames(route.hostnames(), &label, &mut problems);
        let side = RouteSide {
            kind,
            namespace,
            label: &label,
            parent_refs: route.parent_refs(),
            hostnames: &hostnames,
        };
        let mut attachment = parents.attach(&side, &mut problems);
        if attachment.parents.is_empty() {
            continue; // no parentRef names this proxy
        }
        claim_listeners(
            &mut attachment,
            &buckets,
            &kinds,
            kind,
            &label,
            &parents,
            &mut problems,
        );
        let mut route_status = RouteStatus {
            kind,
            namespace: namespace.to_owned(),
            name: route.metadata().name.clone(),
            parents: Vec::new(),
        };
        if attachment.listeners.is_empty() {
            route_status.parents = attachment
                .parents
                .iter()
                .map(|o| parent_status(o, &RuleOutcome::default()))
                .collect();
            status.routes.push(route_status);
            continue;
        }
        let attached = attachment.listeners;
        kinds.extend(attached.keys().map(|&listener| (listener, kind)));
        let route_id = u32::try_from(table.routes.len()).unwrap_or(u32::MAX);
        table.routes.push(RouteInfo {
            kind,
            namespace: namespace.to_owned(),
            name: route.metadata().name.clone(),
        });
        let mut ctx = BackendContext {
            route_kind: kind,
            route_namespace: namespace,
            services: services.as_ref(),
            grants: &grants,
            names: &names,
            backends: &mut table.backends,
            backend_ids: &mut backend_ids,
            splits: &splits,
            unresolved: None,
        };
        let compiled_rules = route.rules(&label, &mut ctx, &mut problems);
        let outcome = RuleOutcome {
            total: route.rule_count(),
            kept: compiled_rules.iter().map(|(index, _, _)| *index).collect(),
            unresolved: ctx.unresolved.take(),
        };
        route_status.parents = attachment
            .parents
            .iter()
            .map(|o| parent_status(o, &outcome))
            .collect();
        status.routes.push(route_status);
        if !outcome.kept.is_empty() {
            for &listener in attached.keys() {
                *attached_routes.entry(listener).or_default() += 1;
            }
        }
        for (rule_index, name, mut parts) in compiled_rules {
            let scope = RuleScope {
                kind,
                namespace,
                name: &route.metadata().name,
                index: rule_index,
                rule_name: name.as_deref(),
            };
            policies.apply(&scope, &mut parts, &table.backends);
            let rule_id = u32::try_from(table.rules.len()).unwrap_or(u32::MAX);
            let index = u16::try_from(rule_index).unwrap_or(u16::MAX);
            table.rules.push(Rule {
                route: route_id,
                index,
                name,
                filters: parts.filters,
                backends: parts.backends,
                envoy_headers: parts.envoy_headers,
                persistence: parts.persistence.map(Box::new),
            });
            for (match_index, m) in parts.matches.into_iter().enumerate() {
                let matcher = u32::try_from(table.matches.len()).unwrap_or(u32::MAX);
                let rank = Rank {
                    path: m.path,
                    method: m.method,
                    headers: m.headers,
                    query: m.query,
                    route: u32::try_from(route_rank).unwrap_or(u32::MAX),
                    rule: index,
                    matching: u16::try_from(match_index).unwrap_or(u16::MAX),
                };
                for (&listener, hosts) in &attached {
                    for host in hosts {
                        let bucket =
                            buckets
                                .entry((listener, host.clone()))
                                .or_insert_with(|| Bucket {
                                    kind,
                                    entries: Vec::new(),
                                });
                        bucket
                            .entries
                            .push((m.key.clone(), Candidate { rank, matcher }));
                    }
                }
                table.matches.push(CompiledMatch {
                    matcher: m.matcher,
                    rule: rule_id,
                });
            }
        }
    }

    let shapes = parents.shapes();
    let mut hosts: Vec<HostIndex> = shapes.iter().map(|_| HostIndex::default()).collect();
    for ((listener, hostname), bucket) in buckets {
        if let Some(h) = hosts.get_mut(listener) {
            h.insert(hostname, PathIndex::build(bucket.entries));
        }
    }
    table.https_ports_shared = shares_https_port(&parents);
    table.keeps_sessions = table.rules.iter().any(|r| r.persistence.is_some());
    table.listeners = shapes
        .into_iter()
        .zip(hosts)
        .map(|(shape, hosts)| {
            shape.map(|(port, hostname)| ListenerTable {
                port,
                hostname,
                hosts,
            })
        })
        .collect();
    if let Parents::Mesh(mesh) = &parents {
        table.mesh = Some(mesh.names());
    } else {
        // An invalid listener (`None`) still owns its port's requests (they get 404), so
        // with one the port must be read.
        let mut ports = table
            .listeners
            .iter()
            .map(|l| l.as_ref().and_then(|l| l.port));
        let first = ports.next().flatten();
        table.sole_port = first.filter(|&p| ports.all(|other| other == Some(p)));
    }
    status.policies = policies.status();
    if let (Some(gateway), Parents::Gateway(side)) = (implemented, &parents) {
        gateway_and_set_status(
            gateway,
            &merged,
            side.listeners,
            &attached_routes,
            &mut status,
        );
    }
    Ok(Compiled {
        table,
        problems,
        status,
    })
}

/// Whether some port has more than one HTTPS listener, so the SNI can choose another listener
/// than the Host.
fn shares_https_port(parents: &Parents<'_>) -> bool {
    let Parents::Gateway(gateway) = parents else {
        return false;
    };
    let ports: Vec<u16> = gateway
        .listeners
        .iter()
        .flatten()
        .filter(|l| l.is_https())
        .filter_map(|l| l.port)
        .collect();
    ports
        .iter()
        .enumerate()
        .any(|(i, p)| ports[i + 1..].contains(p))
}

/// What compiling a route's rules gave: how many there were, which survived, and the first
/// reference that could not be resolved.
#[derive(Default)]
struct RuleOutcome {
    total: usize,
    kept: Vec<usize>,
    unresolved: Option<(&'static str, String)>,
}

/// The conditions of a route on one parentRef (reference §10).
fn parent_status(parent: &ParentOutcome, rules: &RuleOutcome) -> ParentStatus {
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
fn owner_conditions(
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
fn gateway_and_set_status(
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

/// Backends that exist: `services` plus the ports of Service objects; `None` (every backend
/// exists) when neither is given.
fn known_services(config: &PluginConfig, objects: &[&Service]) -> Option<BTreeSet<String>> {
    if config.services.is_none() && objects.is_empty() {
        return None;
    }
    // Inserted one by one: collecting into the set would sort with a sort of its own.
    let mut known = BTreeSet::new();
    for listed in config.services.iter().flatten() {
        known.insert(listed.clone());
    }
    for s in objects {
        let (ns, name) = (s.metadata.namespace(), &s.metadata.name);
        for port in s.spec.ports.iter().filter_map(|p| p.port) {
            known.insert(format!("{ns}/{name}:{port}"));
        }
    }
    Some(known)
}

/// Where routes attach: the listeners of the Gateway this proxy implements, or (mesh mode) the
/// Services the routes name.
enum Parents<'c> {
    Gateway(GatewaySide<'c>),
    Mesh(MeshParents<'c>),
}

impl Parents<'_> {
    /// The listeners (or mesh scopes) one route attaches to, and what each parentRef got.
    fn attach(&mut self, route: &RouteSide<'_>, problems: &mut Vec<Problem>) -> Attachment {
        match self {
            Self::Gateway(gateway) => attach::attach(route, gateway, problems),
            Self::Mesh(mesh) => mesh.attach(route, problems),
        }
    }

    /// Names a listener or scope in messages.
    fn scope_name(&self, scope: usize) -> String {
        match self {
            Self::Gateway(g) => match g.listeners.get(scope).and_then(Option::as_ref) {
                Some(l) => format!(
                    "{} {}/{} listener {}",
                    l.owner.kind, l.owner.namespace, l.owner.name, l.name
                ),
                None => format!("Gateway {}/{}", g.namespace, g.name),
            },
            Self::Mesh(mesh) => mesh.scope_name(scope),
        }
    }

    /// (port, hostname) of each listener or scope, by index; `None` where a listener is invalid.
    fn shapes(&self) -> Vec<Option<(Option<u16>, Option<Hostname>)>> {
        match self {
            Self::Gateway(g) => g
                .listeners
                .iter()
                .map(|l| l.as_ref().map(|l| (l.port, l.hostname.clone())))
                .collect(),
            Self::Mesh(mesh) => mesh
                .scope_ports()
                .into_iter()
                .map(|port| Some((port, None)))
                .collect(),
        }
    }
}

/// The matches indexed under one (listener, effective hostname), all of one route kind.
struct Bucket {
    kind: &'static str,
    entries: Vec<(PathKey, Candidate)>,
}

/// An HTTPRoute and a GRPCRoute with intersecting hostnames never share a listener: the older
/// route keeps it and the newer one is not accepted there (reference §7.2). Only listeners that
/// already serve the other kind are scanned.
fn claim_listeners(
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
fn hostnames_intersect(a: Option<&Hostname>, b: Option<&Hostname>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.intersect(b).is_some(),
        _ => true,
    }
}

/// The listeners a Gateway serves: its own, then those of the ListenerSets it accepts, oldest
/// first (reference §8.6). `None` where a listener cannot serve, with the reason alongside.
#[derive(Default)]
struct MergedListeners<'c> {
    specs: Vec<Option<ListenerSpec<'c>>>,
    unusable: Vec<Option<Unusable>>,
    /// Each listener's name, as its own object's status reports it.
    names: Vec<String>,
    /// Where each listener is declared, for problems.
    sites: Vec<ListenerSite>,
    /// The ListenerSets that name the Gateway, in merge order.
    sets: Vec<SetEntry<'c>>,
    /// Per listener, the message of its `OverlappingTLSConfig` condition, if it has one.
    overlaps: Vec<Option<String>>,
}

/// A ListenerSet that names the Gateway.
struct SetEntry<'c> {
    set: &'c ListenerSet,
    /// Why the Gateway does not admit it; its listeners are then not merged.
    refused: Option<String>,
    /// Its listeners' indices among the merged ones.
    listeners: std::ops::Range<usize>,
}

fn gateway_listeners<'c>(
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
    fn add(
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
fn names_gateway(set: &ListenerSet, gateway: &Gateway) -> bool {
    let parent = &set.spec.parent_ref;
    parent
        .group
        .as_deref()
        .unwrap_or("gateway.networking.k8s.io")
        == "gateway.networking.k8s.io"
        && parent.kind.as_deref().unwrap_or("Gateway") == "Gateway"
        && parent
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or(set.metadata.namespace())
            == gateway.metadata.namespace()
        && parent.name == gateway.metadata.name
}

/// Why the Gateway's `allowedListeners` does not admit a ListenerSet that names it (default:
/// no ListenerSet is admitted), and what to change; `None` when it does.
fn refusal(
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
            attach::selects(selector, namespaces.get(set_ns).unwrap_or(&empty))
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

/// An HTTPRoute or a GRPCRoute, seen through what attachment and compilation need.
enum RouteObject<'c> {
    Http(&'c HttpRoute),
    Grpc(&'c GrpcRoute),
}

impl<'c> RouteObject<'c> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Http(_) => "HTTPRoute",
            Self::Grpc(_) => "GRPCRoute",
        }
    }

    fn metadata(&self) -> &'c ObjectMeta {
        match self {
            Self::Http(r) => &r.metadata,
            Self::Grpc(r) => &r.metadata,
        }
    }

    fn parent_refs(&self) -> &'c [ParentRef] {
        match self {
            Self::Http(r) => &r.spec.parent_refs,
            Self::Grpc(r) => &r.spec.parent_refs,
        }
    }

    fn hostnames(&self) -> &'c [String] {
        match self {
            Self::Http(r) => &r.spec.hostnames,
            Self::Grpc(r) => &r.spec.hostnames,
        }
    }

    /// Rules the route has, with the API default of one rule when `rules` is absent.
    fn rule_count(&self) -> usize {
        match self {
            Self::Http(r) => r.spec.rules.as_ref().map_or(1, Vec::len),
            Self::Grpc(r) => r.spec.rules.len(),
        }
    }

    /// Matches the route's rules have, counting a rule without matches as one: the table's
    /// size when every rule compiles.
    fn match_count(&self) -> usize {
        match self {
            Self::Http(r) => r.spec.rules.as_ref().map_or(1, |rules| {
                rules
                    .iter()
                    .map(|rule| rule.matches.as_ref().map_or(1, |m| m.len().max(1)))
                    .sum()
            }),
            Self::Grpc(r) => r
                .spec
                .rules
                .iter()
                .map(|rule| rule.matches.len().max(1))
                .sum(),
        }
    }

    fn spec_unknown(&self) -> &'c Unknown {
        match self {
            Self::Http(r) => &r.spec.unknown,
            Self::Grpc(r) => &r.spec.unknown,
        }
    }

    /// (index in `spec.rules`, rule name, compiled parts) of every rule that compiles; the
    /// others are reported and dropped.
    fn rules(
        &self,
        label: &str,
        ctx: &mut BackendContext<'_>,
        problems: &mut Vec<Problem>,
    ) -> Vec<(usize, Option<String>, RuleParts)> {
        let mut compiled = Vec::new();
        let mut keep = |index: usize,
                        name: Option<String>,
                        result: Result<RuleParts, Problem>,
                        problems: &mut Vec<Problem>| match result {
            Ok(parts) => compiled.push((index, name, parts)),
            Err(problem) => problems.push(problem),
        };
        match self {
            Self::Http(route) => {
                let default_rules = [HttpRouteRule::default()];
                for (i, rule) in route
                    .spec
                    .rules
                    .as_deref()
                    .unwrap_or(&default_rules)
                    .iter()
                    .enumerate()
                {
                    let field = format!("spec.rules[{i}]");
                    unknown_fields(&rule.unknown, label, &field, problems);
                    let site = RuleSite {
                        route_kind: "HTTPRoute",
                        field,
                        label,
                    };
                    let result = rules::http_rule(rule, &site, ctx, problems);
                    keep(i, rule.name.clone(), result, problems);
                }
            }
            Self::Grpc(route) => {
                for (i, rule) in route.spec.rules.iter().enumerate() {
                    let field = format!("spec.rules[{i}]");
                    unknown_fields(&rule.unknown, label, &field, problems);
                    let site = RuleSite {
                        route_kind: "GRPCRoute",
                        field,
                        label,
                    };
                    let result = rules::grpc_rule(rule, &site, ctx, problems);
                    keep(i, rule.name.clone(), result, problems);
                }
            }
        }
        compiled
    }
}

/// Oldest first: by `creationTimestamp` when given (ties by `{namespace}/{name}`), else by
/// position in the configuration; objects without a timestamp count as older.
/// Sorts `items` by their [`age_key`], oldest first, keeping the written order among equal
/// keys. Each key is computed once, and every kind of item shares one small merge sort of
/// positions: a library sort would add a sort of its own per item type.
fn sort_by_age<T>(items: &mut Vec<T>, key: impl Fn(&T) -> (String, usize, String)) {
    let keys: Vec<_> = items.iter().map(key).collect();
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        stable_order(&keys)
            .into_iter()
            .filter_map(|index| slots.get_mut(index).and_then(Option::take)),
    );
}

/// The positions of `keys` in ascending order, equal keys in their written order: a bottom-up
/// merge sort, merging runs of 1, 2, 4... positions.
fn stable_order(keys: &[(String, usize, String)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    let mut width = 1;
    while width < order.len() {
        let mut merged = Vec::with_capacity(order.len());
        for run in order.chunks(2 * width) {
            let (left, right) = run.split_at(width.min(run.len()));
            let (mut left, mut right) = (left.iter().peekable(), right.iter().peekable());
            while let (Some(&&l), Some(&&r)) = (left.peek(), right.peek()) {
                if keys.get(r) < keys.get(l) {
                    merged.push(r);
                    right.next();
                } else {
                    merged.push(l);
                    left.next();
                }
            }
            merged.extend(left.chain(right));
        }
        order = merged;
        width *= 2;
    }
    order
}

fn age_key(position: usize, meta: &ObjectMeta) -> (String, usize, String) {
    let name = format!("{}/{}", meta.namespace(), meta.name);
    match &meta.creation_timestamp {
        Some(ts) => (ts.clone(), 0, name),
        None => (String::new(), position, name),
    }
}

fn route_hostnames(values: &[String], label: &str, problems: &mut Vec<Problem>) -> Vec<Hostname> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| {
            let parsed = Hostname::parse(value);
            if parsed.is_none() {
                problems.push(Problem::error(
                    label,
                    format!("spec.hostnames[{i}]"),
                    format!("{value:?} is not a valid hostname; it was ignored"),
                ));
            }
            parsed
        })
        .collect()
}

fn unknown_fields(unknown: &Unknown, object: &str, field: &str, problems: &mut Vec<Problem>) {
    for name in unknown {
        let path = if field.is_empty() {
            name.clone()
        } else {
            format!("{field}.{name}")
        };
        problems.push(Problem::warning(
            object,
            path,
            "unknown field; it was ignored",
        ));
    }
}

/// The target mode: as configured, else `clusterHeader` for a Gateway and `authority` in the
/// mesh, where Istio's own virtual hosts route by `:authority`.
fn target(config: &PluginConfig) -> Result<Target, ConfigError> {
    match config.target.mode.as_deref() {
        None if config.gateway.is_none() => Ok(Target::Authority),
        None | Some("clusterHeader") => {
            let header = config
                .target
                .header
                .as_deref()
                .unwrap_or(DEFAULT_CLUSTER_HEADER)
                .to_ascii_lowercase();
            if !crate::matcher::is_header_name(&header) {
                return Err(ConfigError::Target(format!(
                    "header {header:?} is not a valid header name"
                )));
            }
            Ok(Target::ClusterHeader(header))
        }
        Some("authority") => Ok(Target::Authority),
        Some(other) => Err(ConfigError::Target(format!(
            "mode {other:?} is not supported (supported: clusterHeader, authority)"
        ))),
    }
}

/// The cluster name template for one mesh cluster's subset of a Service (Istio's).
pub const DEFAULT_SUBSET_CLUSTER_TEMPLATE: &str =
    "outbound|{port}|{subset}|{name}.{namespace}.svc.cluster.local";

/// Cluster and authority names for backends, from the configured templates.
pub(crate) struct Names {
    cluster: String,
    authority: String,
    /// `None` in authority mode, where no subset cluster can be chosen.
    subset_cluster: Option<String>,
}

impl Names {
    fn new(config: &PluginConfig) -> Self {
        Self {
            cluster: config
                .target
                .cluster
                .clone()
                .unwrap_or_else(|| DEFAULT_CLUSTER_TEMPLATE.to_owned()),
            authority: config
                .target
                .authority
                .clone()
                .unwrap_or_else(|| DEFAULT_AUTHORITY_TEMPLATE.to_owned()),
            subset_cluster: matches!(target(config), Ok(Target::ClusterHeader(_))).then(|| {
                config
                    .target
                    .subset_cluster
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SUBSET_CLUSTER_TEMPLATE.to_owned())
            }),
        }
    }

    /// The subset cluster template, `None` in authority mode.
    pub(crate) fn subset_cluster(&self) -> Option<&str> {
        self.subset_cluster.as_deref()
    }

    pub(crate) fn cluster(&self, name: &str, namespace: &str, port: u16) -> String {
        fill(&self.cluster, name, namespace, port)
    }

    pub(crate) fn authority(&self, name: &str, namespace: &str, port: u16) -> String {
        fill(&self.authority, name, namespace, port)
    }
}

fn fill(template: &str, name: &str, namespace: &str, port: u16) -> String {
    template
        .replace("{name}", name)
        .replace("{namespace}", namespace)
        .replace("{port}", &port.to_string())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::stable_order;

    #[test]
    fn age_order_is_sorted_and_keeps_the_written_order_of_ties() {
        let keys: Vec<_> = (0..40_usize)
            .map(|i| (format!("{}", (i * 7) % 5), 0, String::new()))
            .collect();
        for len in 0..keys.len() {
            let keys = &keys[..len];
            let mut expected: Vec<usize> = (0..len).collect();
            expected.sort_by_key(|&i| &keys[i]);
            assert_eq!(stable_order(keys), expected, "{len} keys");
        }
    }
}
