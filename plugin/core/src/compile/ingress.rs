//! The Ingress part of a configuration: the nginx model of the served class, compiled into the
//! route table's Ingress section with backends shared with the Gateway API routes.

use std::collections::BTreeSet;

use crate::config::{BackendRef, Ingress, IngressClass, PluginConfig, Service};
use crate::effect::Backend;
use crate::fnv::FnvHashMap;
use crate::ingress::{IngressTable, NginxModel, ResolveService, ServiceRef};
use crate::problem::Problem;
use crate::request::RequestView;
use crate::table::RouteTable;

use super::backends::BackendContext;
use super::{known_services, Names};

/// Compiles the Ingresses among the resources; `None` when there are none.
#[allow(
    clippy::too_many_arguments,
    reason = "the shared parts of the route table being built"
)]
pub(super) fn compile_ingresses(
    config: &PluginConfig,
    ingresses: &[(usize, &Ingress)],
    classes: &[&IngressClass],
    service_objects: &[&Service],
    names: &Names,
    backends: &mut Vec<Backend>,
    backend_ids: &mut FnvHashMap<String, u32>,
    problems: &mut Vec<Problem>,
) -> Option<Box<IngressTable>> {
    if ingresses.is_empty() {
        return None;
    }
    super::unknown_fields(
        &config.ingress.unknown,
        "configuration",
        "ingress",
        problems,
    );
    let model = NginxModel::build(&config.ingress, ingresses, classes, problems);
    if model.ingresses.is_empty() {
        return None;
    }
    let services = known_services(config, service_objects);
    let mut resolver = Resolver {
        services: services.as_ref(),
        names,
        backends,
        backend_ids,
    };
    let table = IngressTable::build(&model, service_objects, &mut resolver, problems);
    Some(Box::new(table))
}

/// Warns about every Ingress path a Gateway API route also claims (same host and path): the
/// route serves those requests.
pub(super) fn report_shadowed(table: &RouteTable, problems: &mut Vec<Problem>) {
    let Some(ingress) = table.ingress.as_ref() else {
        return;
    };
    let mut reported = BTreeSet::new();
    for (host, server) in ingress
        .exact
        .iter()
        .collect::<std::collections::BTreeMap<_, _>>()
    {
        let Some(server) = ingress.servers.get(*server as usize) else {
            continue;
        };
        for location in server.locations.iter().filter(|l| !l.is_regex()) {
            let Some(settings) = location
                .ingress
                .and_then(|i| ingress.ingresses.get(i as usize))
            else {
                continue;
            };
            let headers: [(&str, &[u8]); 2] = [
                (":authority", host.as_bytes()),
                (":path", location.ingress_path.as_bytes()),
            ];
            let Ok(found) = table.find(&RequestView::new(&headers, None)) else {
                continue;
            };
            let Some(route) = table
                .rules
                .get(found.rule as usize)
                .and_then(|rule| table.routes.get(rule.route as usize))
            else {
                continue;
            };
            let label = format!("Ingress {}/{}", settings.namespace, settings.name);
            if !reported.insert((label.clone(), location.rule, location.ingress_path.clone())) {
                continue;
            }
            problems.push(
                Problem::warning(
                    label,
                    format!("spec.rules[{}]", location.rule),
                    format!(
                        "host {host:?} path {:?} is also claimed by {} {}/{}, which serves the requests it matches (Gateway API routes come first); this Ingress path gets only the rest",
                        location.ingress_path, route.kind, route.namespace, route.name
                    ),
                )
                .with_hint("finish the move: remove the path from the Ingress once the route serves it"),
            );
        }
    }
}

/// Ingress backends through the Gateway API backend resolution: same keys, clusters and known
/// Services check (an Ingress names Services of its own namespace only).
struct Resolver<'c> {
    services: Option<&'c BTreeSet<String>>,
    names: &'c Names,
    backends: &'c mut Vec<Backend>,
    backend_ids: &'c mut FnvHashMap<String, u32>,
}

impl ResolveService for Resolver<'_> {
    fn resolve(&mut self, service: &ServiceRef, port: u16) -> Result<u32, String> {
        let reference = BackendRef {
            name: service.name.clone(),
            port: Some(u32::from(port)),
            ..BackendRef::default()
        };
        BackendContext {
            route_kind: "Ingress",
            route_namespace: &service.namespace,
            services: self.services,
            grants: &[],
            grants_required: false,
            names: self.names,
            backends: self.backends,
            backend_ids: self.backend_ids,
            splits: &[],
            unresolved: None,
        }
        .resolve(&reference)
    }
}
