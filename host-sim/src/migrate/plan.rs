//! What ingress-nginx builds from the Ingresses it serves, as the converter needs it: one server
//! per host with its TLS certificate, whether the host is in regex mode, and its locations in
//! the order nginx configured them, each with its owning Ingress and the canary merged into it.
//!
//! It reads the core's typed Ingresses and annotations; it does not decide requests (the filter
//! does, from the same objects) and writes no Gateway API (that is [`super::routes`]).

use gatewasm_core::config::{Ingress, IngressAnnotations, IngressBackend, IngressClass, Resource};
use gatewasm_core::Problem;

/// The host nginx's catch-all server answers for: requests whose host no rule names.
pub const CATCH_ALL: &str = "_";

/// The Ingresses one class serves, as nginx lays them out.
#[derive(Debug, Default)]
pub struct Plan {
    /// Served Ingresses in nginx's order, with their annotations.
    pub ingresses: Vec<Served>,
    /// Servers in the order their hosts first appear.
    pub servers: Vec<Server>,
    /// Ingresses, paths and canaries nginx ignores, and bad annotation values.
    pub problems: Vec<Problem>,
}

/// One served Ingress.
#[derive(Debug)]
pub struct Served {
    /// The object.
    pub ingress: Ingress,
    /// `Ingress namespace/name`.
    pub label: String,
    /// Its annotations, read as ingress-nginx reads them.
    pub annotations: IngressAnnotations,
}

impl Served {
    /// The Ingress's namespace.
    pub fn namespace(&self) -> &str {
        self.ingress.metadata.namespace()
    }

    /// The Ingress's name.
    pub fn name(&self) -> &str {
        &self.ingress.metadata.name
    }
}

/// One nginx `server`: a host and its locations.
#[derive(Debug)]
pub struct Server {
    /// The host as written (`*.example.com` for a wildcard), or [`CATCH_ALL`].
    pub host: String,
    /// The certificate of the first Ingress naming this host in `spec.tls`: (its Ingress, Secret).
    pub tls: Option<(usize, String)>,
    /// Every path of the host is a case-insensitive regex anchored at the start.
    pub regex: bool,
    /// Locations in configuration order.
    pub locations: Vec<Location>,
}

/// One nginx `location`.
#[derive(Clone, Debug)]
pub struct Location {
    /// Index of the owning Ingress in [`Plan::ingresses`].
    pub ingress: usize,
    /// The path as written (`/` when absent).
    pub path: String,
    /// `pathType: Exact` (anything else is a prefix).
    pub exact: bool,
    /// The Service and port.
    pub backend: Backend,
    /// The canary merged into this location: its Ingress and backend.
    pub canary: Option<(usize, Backend)>,
    /// Added for `spec.defaultBackend`.
    pub default_backend: bool,
}

/// A Service port in the Ingress's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// Service name.
    pub name: String,
    /// Port number, or its name.
    pub port: Port,
}

/// `backend.service.port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Port {
    /// By number.
    Number(u32),
    /// By name (resolved through the Service object).
    Name(String),
}

impl Backend {
    fn read(backend: &IngressBackend) -> Option<Self> {
        let service = backend.service.as_ref()?;
        let port = match (&service.port.number, &service.port.name) {
            (Some(number), _) => Port::Number(*number),
            (None, Some(name)) => Port::Name(name.clone()),
            (None, None) => return None,
        };
        Some(Self {
            name: service.name.clone(),
            port,
        })
    }
}

impl Plan {
    /// Lays out the Ingresses among `resources` that the class `class` serves (classless ones
    /// too when `without_class`, or when that class is the default IngressClass).
    pub fn build(resources: Vec<Resource>, class: &str, without_class: bool) -> Self {
        let mut plan = Self::default();
        let mut ingresses = Vec::new();
        let mut default_class = false;
        for (position, resource) in resources.into_iter().enumerate() {
            match resource {
                Resource::Ingress(ingress) => ingresses.push((position, ingress)),
                Resource::IngressClass(IngressClass {
                    metadata,
                    is_default,
                    ..
                }) if metadata.name == class => default_class = is_default,
                _ => {}
            }
        }
        // nginx: creation time ascending, then namespace/name descending.
        ingresses.sort_by(|(pa, a), (pb, b)| {
            let time = |i: &Ingress| i.metadata.creation_timestamp.clone();
            match (time(a), time(b)) {
                (Some(ta), Some(tb)) if ta != tb => ta.cmp(&tb),
                (Some(_), Some(_)) => key(b).cmp(&key(a)),
                _ => pa.cmp(pb),
            }
        });
        for (_, ingress) in ingresses {
            let served = match ingress.class_name() {
                Some(name) => name == class,
                None => without_class || default_class,
            };
            if !served {
                continue;
            }
            let label = format!("Ingress {}", key(&ingress));
            let annotations =
                IngressAnnotations::parse(&ingress.annotations, &label, &mut plan.problems);
            plan.ingresses.push(Served {
                ingress,
                label,
                annotations,
            });
        }
        plan.lay_out();
        plan
    }

    fn server(&mut self, host: &str) -> &mut Server {
        let at = match self.servers.iter().position(|s| s.host == host) {
            Some(at) => at,
            None => {
                self.servers.push(Server {
                    host: host.to_owned(),
                    tls: None,
                    regex: false,
                    locations: Vec::new(),
                });
                self.servers.len() - 1
            }
        };
        &mut self.servers[at]
    }

    fn lay_out(&mut self) {
        let primaries: Vec<usize> = (0..self.ingresses.len())
            .filter(|i| self.ingresses[*i].annotations.canary.is_none())
            .collect();
        let canaries: Vec<usize> = (0..self.ingresses.len())
            .filter(|i| self.ingresses[*i].annotations.canary.is_some())
            .collect();
        for index in primaries {
            self.add_primary(index);
        }
        for index in canaries {
            self.add_canary(index);
        }
        for server in &mut self.servers {
            server.regex = server.locations.iter().any(|l| {
                let a = &self.ingresses[l.ingress].annotations;
                a.use_regex || a.rewrite_target.as_deref().is_some_and(|t| t != l.path)
            });
        }
    }

    /// The paths of one Ingress, `(host, path, exact, backend, field)` in written order.
    fn paths(&self, index: usize) -> Vec<(String, String, bool, Option<Backend>, String)> {
        let spec = &self.ingresses[index].ingress.spec;
        let mut out = Vec::new();
        for (r, rule) in spec.rules.iter().enumerate() {
            let host = rule.host.clone().unwrap_or_else(|| CATCH_ALL.to_owned());
            for (p, path) in rule.http.iter().flat_map(|h| h.paths.iter().enumerate()) {
                out.push((
                    host.clone(),
                    path.path.clone().unwrap_or_else(|| "/".to_owned()),
                    path.path_type.as_deref() == Some("Exact"),
                    Backend::read(&path.backend),
                    format!("spec.rules[{r}].http.paths[{p}]"),
                ));
            }
        }
        out
    }

    fn add_primary(&mut self, index: usize) {
        let label = self.ingresses[index].label.clone();
        let spec = self.ingresses[index].ingress.spec.clone();
        for tls in &spec.tls {
            let Some(secret) = &tls.secret_name else { continue };
            for host in &tls.hosts {
                let server = self.server(host);
                if server.tls.is_none() {
                    server.tls = Some((index, secret.clone()));
                }
            }
        }
        for (host, path, exact, backend, field) in self.paths(index) {
            let Some(backend) = backend else { continue };
            let server = self.server(&host);
            if let Some(owner) = server
                .locations
                .iter()
                .find(|l| l.path == path && l.exact == exact && !l.default_backend)
                .map(|l| l.ingress)
            {
                let owner = self.ingresses[owner].label.clone();
                self.problems.push(
                    Problem::warning(&label, field, format!(
                        "host {host} path {path} is already configured by {owner}, which is older; ingress-nginx ignores this one"
                    ))
                    .with_hint(format!("remove the path from one of the two, or give it to {owner}")),
                );
                continue;
            }
            server.locations.retain(|l| !(l.default_backend && l.path == path && !l.exact));
            server.locations.push(Location {
                ingress: index,
                path,
                exact,
                backend,
                canary: None,
                default_backend: false,
            });
        }
        let default = spec.default_backend.as_ref().and_then(Backend::read);
        if let Some(backend) = default {
            let hosts: Vec<String> = if spec.rules.is_empty() {
                vec![CATCH_ALL.to_owned()]
            } else {
                spec.rules
                    .iter()
                    .map(|r| r.host.clone().unwrap_or_else(|| CATCH_ALL.to_owned()))
                    .collect()
            };
            for host in hosts {
                let server = self.server(&host);
                if !server.locations.iter().any(|l| l.path == "/" && !l.exact) {
                    server.locations.push(Location {
                        ingress: index,
                        path: "/".to_owned(),
                        exact: false,
                        backend: backend.clone(),
                        canary: None,
                        default_backend: true,
                    });
                }
            }
        }
    }

    fn add_canary(&mut self, index: usize) {
        let label = self.ingresses[index].label.clone();
        for (host, path, exact, backend, field) in self.paths(index) {
            let Some(backend) = backend else { continue };
            let primary = self
                .servers
                .iter_mut()
                .find(|s| s.host == host)
                .and_then(|s| {
                    s.locations
                        .iter_mut()
                        .find(|l| l.path == path && l.exact == exact && !l.default_backend)
                });
            let kind = if exact { "Exact" } else { "Prefix" };
            match primary {
                Some(location) if location.canary.is_none() => {
                    location.canary = Some((index, backend));
                }
                Some(location) => {
                    let (other, _) = location.canary.clone().unwrap_or((index, backend));
                    let other = self.ingresses[other].label.clone();
                    self.problems.push(
                        Problem::warning(&label, field, format!(
                            "host {host} path {path} ({kind}) already has the canary {other}; ingress-nginx uses only the first canary of a location and ignores this one"
                        ))
                        .with_hint("merge the two canaries into one Ingress"),
                    );
                }
                None => self.problems.push(
                    Problem::warning(&label, field, format!(
                        "a canary for host {host} path {path} ({kind}), but no Ingress of the class serves that host, path and pathType without canary: ingress-nginx ignores a canary without its primary, so this Ingress serves nothing"
                    ))
                    .with_hint(format!(
                        "add the primary Ingress (the same host, path and pathType, without the canary annotations) that sends the rest of the traffic to the stable Service, or remove nginx.ingress.kubernetes.io/canary to make this one the primary"
                    )),
                ),
            }
        }
    }
}

fn key(ingress: &Ingress) -> String {
    format!("{}/{}", ingress.metadata.namespace(), ingress.metadata.name)
}
