//! The Ingress part of a configuration: the nginx model of the served class, compiled into the
//! route table's Ingress section with backends shared with the Gateway API routes.

use std::collections::BTreeSet;

use crate::config::{BackendRef, Ingress, IngressClass, PluginConfig, Service};
use crate::effect::Backend;
use crate::fnv::FnvHashMap;
use crate::ingress::{IngressTable, NginxModel, ResolveService, ServiceRef};
use crate::problem::Problem;

use super::backends::BackendContext;
use super::{known_services, Names};

/// Compiles the Ingresses among the resources; `None` when there are none.
#[expect(
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
