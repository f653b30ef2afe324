//! The Ingresses to convert, as ingress-nginx lays them out: the core's [`NginxModel`] (the
//! filter serves from the same model), the Ingress objects it was built from (for what the model
//! does not keep, such as certificate Secret names), and the problems nginx would have.
//!
//! Nothing here decides what nginx does; that is the core's model. This file only gathers and
//! looks up.

use gatewasm_core::config::{Ingress, IngressAnnotations, IngressConfig, Resource};
use gatewasm_core::ingress::{Location, LocationKind, NginxModel, Server, ServiceRef};
use gatewasm_core::Problem;

/// The served Ingresses and what nginx makes of them.
#[derive(Debug, Default)]
pub struct Plan {
    /// Servers, locations, canaries and affinity, as the filter serves them.
    pub model: NginxModel,
    /// The served Ingress objects, parallel to `model.ingresses`.
    pub objects: Vec<Option<Ingress>>,
    /// What nginx ignores or corrects (canaries without primary, duplicate paths, bad values).
    pub problems: Vec<Problem>,
}

impl Plan {
    /// Builds the model of `resources` serving `config`'s class.
    pub fn build(resources: Vec<Resource>, config: &IngressConfig) -> Self {
        let mut ingresses = Vec::new();
        let mut classes = Vec::new();
        for (position, resource) in resources.into_iter().enumerate() {
            match resource {
                Resource::Ingress(ingress) => ingresses.push((position, ingress)),
                Resource::IngressClass(class) => classes.push(class),
                _ => {}
            }
        }
        let mut problems = Vec::new();
        let refs: Vec<(usize, &Ingress)> = ingresses.iter().map(|(p, i)| (*p, i)).collect();
        let class_refs: Vec<_> = classes.iter().collect();
        let model = NginxModel::build(config, &refs, &class_refs, &mut problems);
        let objects = model
            .ingresses
            .iter()
            .map(|served| {
                ingresses
                    .iter()
                    .map(|(_, i)| i)
                    .find(|i| {
                        i.metadata.namespace() == served.namespace && i.metadata.name == served.name
                    })
                    .cloned()
            })
            .collect();
        Self {
            model,
            objects,
            problems,
        }
    }

    /// Every server, the catch-all last.
    pub fn servers(&self) -> impl Iterator<Item = &Server> {
        self.model
            .servers
            .iter()
            .chain(std::iter::once(&self.model.catch_all))
    }

    /// `Ingress namespace/name` of a served Ingress.
    pub fn label(&self, ingress: usize) -> String {
        self.model
            .ingresses
            .get(ingress)
            .map(|i| i.label())
            .unwrap_or_default()
    }

    /// The annotations of a served Ingress.
    pub fn annotations(&self, ingress: usize) -> Option<&IngressAnnotations> {
        self.model.ingresses.get(ingress).map(|i| &i.annotations)
    }

    /// The value of an annotation as written on a served Ingress.
    pub fn written(&self, ingress: usize, name: &str) -> Option<&str> {
        self.objects
            .get(ingress)?
            .as_ref()?
            .annotations
            .get(name)
            .map(String::as_str)
    }

    /// The Secret the first Ingress listing `host` in `spec.tls` names: (its namespace, name).
    pub fn certificate(&self, host: &str) -> Option<(String, String)> {
        self.model
            .ingresses
            .iter()
            .zip(&self.objects)
            .filter(|(served, _)| !served.canary)
            .find_map(|(served, object)| {
                object.as_ref()?.spec.tls.iter().find_map(|tls| {
                    let listed = tls.hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
                    let secret = tls.secret_name.clone()?;
                    listed.then(|| (served.namespace.clone(), secret))
                })
            })
    }

    /// The locations of a server worth a rule each: one per path an Ingress wrote (the two
    /// halves nginx makes of a `Prefix` path are one Gateway API `PathPrefix`), and the root
    /// when a Service backs it.
    pub fn locations<'a>(&self, server: &'a Server) -> Vec<&'a Location> {
        let mut seen = Vec::new();
        server
            .locations
            .iter()
            .filter(|l| l.service.is_some())
            .filter(|l| {
                let key = (l.ingress, l.source, l.ingress_path.clone());
                if seen.contains(&key) {
                    return false;
                }
                seen.push(key);
                true
            })
            .collect()
    }

    /// Whether the Ingress wrote this location's path as `Exact`.
    pub fn exact(&self, server: &Server, location: &Location) -> bool {
        match location.kind {
            LocationKind::Exact => !server.locations.iter().any(|other| {
                other.kind == LocationKind::Prefix
                    && other.source == location.source
                    && other.ingress == location.ingress
                    && other.source.is_some()
            }),
            LocationKind::Prefix => false,
            LocationKind::Regex => self
                .objects
                .get(location.ingress.unwrap_or(usize::MAX))
                .and_then(Option::as_ref)
                .zip(location.source)
                .and_then(|(object, (rule, path))| {
                    object
                        .spec
                        .rules
                        .get(rule)?
                        .http
                        .as_ref()?
                        .paths
                        .get(path)?
                        .path_type
                        .clone()
                })
                .is_some_and(|t| t == "Exact"),
        }
    }

    /// The canary attached to a Service's upstream: its Ingress and Service.
    pub fn canary(&self, service: &ServiceRef) -> Option<(usize, &ServiceRef)> {
        let upstream = service.upstream();
        self.model
            .canaries
            .iter()
            .find(|(key, _)| *key == upstream)
            .map(|(_, c)| (c.ingress, &c.service))
    }

    /// The Ingress whose affinity settings apply to a Service's upstream.
    pub fn affinity(&self, service: &ServiceRef) -> Option<usize> {
        let upstream = service.upstream();
        self.model
            .affinity
            .iter()
            .find(|(key, _)| *key == upstream)
            .map(|(_, ingress)| *ingress)
    }
}
