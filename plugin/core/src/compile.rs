//! From a parsed configuration to a [`RouteTable`], with every problem found on the way.
//!
//! Order of work: read objects; find the Gateway this proxy implements and its listeners;
//! order routes by age (oldest first, then `{namespace}/{name}`); attach each route to the
//! listeners that accept it; compile its rules; index every match under each effective hostname
//! of each listener. All sorting and defaulting happens here, none per request.
//!
//! This file is the pipeline; the steps live beside it: `listeners` merges a Gateway's listeners
//! with its ListenerSets', `parents` picks the Gateway or mesh side (`crate::age` sorts by age),
//! `routes` walks a route's rules (compiled in `rules`, `filters`, `backends`), `attach` and
//! `mesh` attach routes, `claims` keeps HTTPRoutes and GRPCRoutes off each other's hostnames,
//! `status` writes the conditions and `names` spells Envoy's cluster and authority names.

mod attach;
mod backends;
mod claims;
mod cluster_split;
mod filters;
mod ingress;
mod limits;
mod listeners;
mod mesh;
mod names;
mod parents;
mod policies;
mod routes;
mod rules;
mod sidecar_reach;
mod status;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{ConfigError, PluginConfig, ReferenceGrant, Resource, Route, Service, Unknown};
use crate::effect::Target;
use crate::fnv::FnvHashMap;
use crate::hostname::Hostname;
use crate::precedence::Rank;
use crate::problem::Problem;
use crate::status::{RouteStatus, Status};
use crate::table::{
    Candidate, CompiledMatch, HostIndex, ListenerTable, PathIndex, RouteInfo, RouteTable, Rule,
};

use crate::age::{age_key, sort_by_age};
use attach::{GatewaySide, Owner, RouteSide};
use backends::BackendContext;
use claims::{claim_listeners, Bucket};
use listeners::{gateway_listeners, MergedListeners};
use mesh::MeshParents;
use names::{target, Names};
pub use names::{
    DEFAULT_AUTHORITY_TEMPLATE, DEFAULT_CLUSTER_TEMPLATE, DEFAULT_SUBSET_CLUSTER_TEMPLATE,
};
use parents::{shares_https_port, Parents};
use policies::{Policies, RuleScope};
use status::{gateway_and_set_status, parent_status, RuleOutcome};

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
    unknown_fields(
        &config.metrics.unknown,
        "configuration",
        "metrics",
        &mut problems,
    );
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
    let mut ingresses = Vec::new();
    let mut ingress_classes = Vec::new();
    let mut splits = Vec::new();
    for (position, object) in objects.iter().enumerate() {
        match object {
            Resource::Gateway(g) => gateways.push(g),
            Resource::HttpRoute(r) => routes.push((position, Route::Http(r))),
            Resource::GrpcRoute(r) => routes.push((position, Route::Grpc(r))),
            Resource::ReferenceGrant(g) => grants.push(g),
            Resource::Namespace(n) => {
                namespaces.insert(n.metadata.name.clone(), n.metadata.labels.clone());
            }
            Resource::Service(s) => service_objects.push(s),
            Resource::ListenerSet(l) => listener_sets.push((position, l)),
            Resource::Ingress(i) => ingresses.push((position, i)),
            Resource::IngressClass(c) => ingress_classes.push(c),
            Resource::TrafficPolicy(_) => {}
            Resource::ClusterSplit(s) => splits.push(s),
        }
    }

    let mut backend_ids = FnvHashMap::default();
    table.ingress = ingress::compile_ingresses(
        config,
        &ingresses,
        &ingress_classes,
        &service_objects,
        &names,
        &mut table.backends,
        &mut backend_ids,
        &mut problems,
    );

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
        let label = route.label();
        unknown_fields(route.spec_unknown(), &label, "spec", &mut problems);
        match route {
            Route::Http(r) => limits::http_route(r, &label, &mut problems),
            Route::Grpc(r) => limits::grpc_route(r, &label, &mut problems),
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
            grants_required: matches!(parents, Parents::Gateway(_)),
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
            if let (Parents::Mesh(mesh), Target::Authority) = (&parents, &table.target) {
                let scopes: Vec<usize> = attached.keys().copied().collect();
                let (backends, label) = (&table.backends, &label);
                sidecar_reach::check(
                    mesh,
                    &scopes,
                    label,
                    rule_index,
                    &parts.backends,
                    backends,
                    &mut problems,
                );
            }
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
        // Ingresses serve any port the proxy sends the filter, so the port must be read.
        table.sole_port = first
            .filter(|&p| ports.all(|other| other == Some(p)))
            .filter(|_| table.ingress.is_none());
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
