//! Mesh (sidecar) attachment: routes whose parentRef is a Service apply to requests addressed
//! to that Service (reference §8.1, §12; GEP-1294).
//!
//! Each (Service, port) a route names becomes one routing scope — a "listener" in the table —
//! reached by the Service's DNS names or ClusterIP and the destination port the caller used. A
//! route in the Service's namespace is a producer route and applies to every caller; a route in
//! another namespace is a consumer route and applies only when this sidecar's workload runs in
//! the route's namespace. Requests to Services without routes are not the filter's business.

use std::collections::BTreeMap;

use crate::config::Service;
use crate::problem::Problem;

use super::attach::{Attachment, ParentOutcome, RouteSide};

/// What the compiler knows about one Service.
struct ServiceInfo<'c> {
    ports: Vec<(Option<&'c str>, u16)>,
    cluster_ip: Option<&'c str>,
}

/// The Services routes attach to in mesh mode, and the scopes created for them.
pub(crate) struct MeshParents<'c> {
    services: BTreeMap<(&'c str, &'c str), ServiceInfo<'c>>,
    /// This sidecar's namespace, when known.
    namespace: Option<&'c str>,
    /// (namespace, name, port) of each scope, by scope index.
    scopes: Vec<(String, String, Option<u16>)>,
    ids: BTreeMap<(String, String, Option<u16>), usize>,
}

impl<'c> MeshParents<'c> {
    pub(crate) fn new(services: &[&'c Service], namespace: Option<&'c str>) -> Self {
        // Inserted one by one: collecting into the map would sort with a sort of its own.
        let mut by_name = BTreeMap::new();
        for s in services {
            let ports = s
                .spec
                .ports
                .iter()
                .filter_map(|p| Some((p.name.as_deref(), u16::try_from(p.port?).ok()?)))
                .collect();
            let cluster_ip = s
                .spec
                .cluster_ip
                .as_deref()
                .filter(|ip| !ip.is_empty() && *ip != "None");
            by_name.insert(
                (s.metadata.namespace(), s.metadata.name.as_str()),
                ServiceInfo { ports, cluster_ip },
            );
        }
        Self {
            services: by_name,
            namespace,
            scopes: Vec::new(),
            ids: BTreeMap::new(),
        }
    }

    /// Attaches a route to the scopes of the Services its parentRefs name; the hostnames are
    /// always `None` (every name the Service is reached by).
    pub(crate) fn attach(
        &mut self,
        route: &RouteSide<'_>,
        problems: &mut Vec<Problem>,
    ) -> Attachment {
        let mut attachment = Attachment::default();
        for (i, parent) in route.parent_refs.iter().enumerate() {
            // A Service parent names the core group explicitly; the default group is Gateway API's.
            if !parent.is_service() {
                continue;
            }
            let namespace = parent.namespace(route.namespace);
            if namespace != route.namespace && self.namespace != Some(route.namespace) {
                continue; // a consumer route of another namespace's workloads
            }
            let mut outcome = ParentOutcome {
                parent: format!("Service {namespace}/{}", parent.name),
                section_name: parent.section_name.clone(),
                port: parent.port.and_then(|p| u16::try_from(p).ok()),
                field: format!("spec.parentRefs[{i}]"),
                listeners: Vec::new(),
                refusal: None,
            };
            let service = self.services.get(&(namespace, parent.name.as_str()));
            match self.ports(service, parent.section_name.as_deref(), parent.port) {
                Ok(ports) => {
                    for port in ports {
                        let key = (namespace.to_owned(), parent.name.clone(), port);
                        let next = self.scopes.len();
                        let id = *self.ids.entry(key.clone()).or_insert(next);
                        if id == next {
                            self.scopes.push(key);
                        }
                        attachment.listeners.insert(id, vec![None]);
                        outcome.listeners.push(id);
                    }
                }
                Err(reason) => {
                    let message = format!(
                        "Service {namespace}/{}: {reason} (NoMatchingParent)",
                        parent.name
                    );
                    problems.push(
                        Problem::error(route.label, &outcome.field, &message)
                            .with_hint("check sectionName and port against the Service's ports"),
                    );
                    outcome.refusal = Some(("NoMatchingParent", message));
                }
            }
            attachment.parents.push(outcome);
        }
        attachment
    }

    /// The ports a parentRef covers: by `sectionName` (port name), by `port`, both (must agree),
    /// or every port of the Service (`None` when the Service object is unknown).
    fn ports(
        &self,
        service: Option<&ServiceInfo<'_>>,
        section: Option<&str>,
        port: Option<u32>,
    ) -> Result<Vec<Option<u16>>, String> {
        let port = port
            .map(|p| u16::try_from(p).map_err(|_| format!("port {p} is not a port")))
            .transpose()?;
        match (service, section) {
            (None, Some(name)) => Err(format!(
                "port name {name} cannot be resolved without the Service object"
            )),
            (None, None) => Ok(vec![port]),
            (Some(s), Some(name)) => match s.ports.iter().find(|(n, _)| *n == Some(name)) {
                Some(&(_, p)) if port.is_none_or(|want| want == p) => Ok(vec![Some(p)]),
                Some(&(_, p)) => Err(format!(
                    "port {name} is {p}, not {}",
                    port.unwrap_or_default()
                )),
                None => Err(format!("has no port named {name}")),
            },
            (Some(s), None) => match port {
                Some(p) if s.ports.iter().any(|&(_, q)| q == p) => Ok(vec![Some(p)]),
                Some(p) => Err(format!("has no port {p}")),
                None if s.ports.is_empty() => Ok(vec![None]),
                None => Ok(s.ports.iter().map(|&(_, p)| Some(p)).collect()),
            },
        }
    }

    /// `namespace/name:port` of a scope, for messages.
    pub(crate) fn scope_name(&self, scope: usize) -> String {
        self.scopes
            .get(scope)
            .map_or_else(String::new, |(ns, name, port)| match port {
                Some(port) => format!("Service {ns}/{name}:{port}"),
                None => format!("Service {ns}/{name}"),
            })
    }

    /// `namespace/name` of a scope's Service and the port callers dial to reach it.
    pub(crate) fn scope_service(&self, scope: usize) -> Option<(String, Option<u16>)> {
        self.scopes
            .get(scope)
            .map(|(ns, name, port)| (format!("{ns}/{name}"), *port))
    }

    /// Whether Service `namespace/name` listens on `port`; `None` when the Service is unknown.
    pub(crate) fn has_port(&self, namespace: &str, name: &str, port: u16) -> Option<bool> {
        let service = self.services.get(&(namespace, name))?;
        Some(service.ports.iter().any(|&(_, p)| p == port))
    }

    /// Port of each scope, by scope index.
    pub(crate) fn scope_ports(&self) -> Vec<Option<u16>> {
        self.scopes.iter().map(|(_, _, port)| *port).collect()
    }

    /// Every name a request may address a scope's Service by — `name.ns`, `name.ns.svc`,
    /// `name.ns.svc.cluster.local`, the ClusterIP, and the bare `name` when the caller is in the
    /// Service's namespace — with the scopes it reaches.
    pub(crate) fn names(&self) -> BTreeMap<String, Vec<u32>> {
        let mut names: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (scope, (ns, name, _)) in self.scopes.iter().enumerate() {
            let scope = u32::try_from(scope).unwrap_or(u32::MAX);
            let cluster_ip = self
                .services
                .get(&(ns.as_str(), name.as_str()))
                .and_then(|s| s.cluster_ip);
            // A bare name resolves in the caller's own namespace only.
            let bare = (self.namespace.is_none_or(|own| own == ns)).then(|| name.clone());
            let variants = [
                format!("{name}.{ns}"),
                format!("{name}.{ns}.svc"),
                format!("{name}.{ns}.svc.cluster.local"),
            ];
            for variant in variants
                .into_iter()
                .chain(bare)
                .chain(cluster_ip.map(str::to_owned))
            {
                names
                    .entry(variant.to_ascii_lowercase())
                    .or_default()
                    .push(scope);
            }
        }
        names
    }
}
