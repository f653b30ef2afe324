//! What ingress-nginx makes of a set of Ingresses: the nginx servers and locations, in nginx's
//! order, with the canary merged into its primary.
//!
//! This is the controller's work (`internal/ingress/controller/controller.go`, `location.go`,
//! `store.go`), done once per configuration: class selection, creation-time order with ties by
//! `namespace/name` descending, the first Ingress naming a host owning the host's root location
//! and TLS, a later Ingress with the same host, path and pathType ignored, `ImplementationSpecific`
//! read as `Prefix`, a `Prefix /p` location split into `/p/` and `= /p`, per-host regex mode, and
//! the canary attached to its primary's upstream. It holds names and written values only;
//! [`super::serve`] compiles it into matchers, and a converter can read it to know what nginx
//! would do. Request-time behaviour is not here.

use crate::age::{age_key, sort_by_age};
use crate::config::{
    Ingress, IngressAnnotations, IngressBackend, IngressClass, IngressConfig, NGINX_CONTROLLER,
};
use crate::problem::Problem;

/// The catch-all server's name, nginx's `_`.
pub const CATCH_ALL: &str = "_";

/// ingress-nginx's strict path check for `Exact` and `Prefix` paths (`inspector/rules.go`).
fn strict_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|rest| {
        rest.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
    })
}

/// Every served Ingress, and the servers nginx builds from them.
#[derive(Clone, Debug, Default)]
pub struct NginxModel {
    /// The Ingresses of the served class, in nginx's order; locations refer to them by index.
    pub ingresses: Vec<ServedIngress>,
    /// Servers with a host name, sorted by it (nginx's order).
    pub servers: Vec<Server>,
    /// The catch-all server `_`: unknown hosts and rules without a host.
    pub catch_all: Server,
    /// Canaries by the primary upstream they are attached to (`namespace-name-port`).
    pub canaries: Vec<(String, CanaryRef)>,
    /// Cookie affinity by upstream: the last Ingress that asks for it on that upstream.
    pub affinity: Vec<(String, usize)>,
    /// `from-to-www-redirect` servers: the host redirected from, and the server's host.
    pub www_redirects: Vec<(String, String)>,
}

/// One Ingress nginx serves.
#[derive(Clone, Debug)]
pub struct ServedIngress {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its annotations, read as ingress-nginx reads them.
    pub annotations: IngressAnnotations,
    /// Whether it is a canary (`canary: "true"`): it creates no server or location.
    pub canary: bool,
}

impl ServedIngress {
    /// `Ingress namespace/name`, for messages.
    pub fn label(&self) -> String {
        format!("Ingress {}/{}", self.namespace, self.name)
    }
}

/// An nginx `server` block.
#[derive(Clone, Debug, Default)]
pub struct Server {
    /// Host name (`*.` plus a domain for a one-label wildcard), or `_`.
    pub host: String,
    /// Some Ingress names the host in `spec.tls`: `ssl-redirect` applies.
    pub tls: bool,
    /// Some location uses `use-regex` or a `rewrite-target` other than its path: every location
    /// of the server is then a case-insensitive regex anchored at the start, tried in order.
    pub regex: bool,
    /// Locations in nginx's order.
    pub locations: Vec<Location>,
}

/// How a location matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocationKind {
    /// `location = /p`.
    Exact,
    /// `location /p`: a plain string prefix.
    Prefix,
    /// `location ~* "^/p"` (the server is in regex mode).
    Regex,
}

/// An nginx `location` block.
#[derive(Clone, Debug)]
pub struct Location {
    /// The location's path as nginx writes it (`/p/` for the prefix half of `Prefix /p`).
    pub path: String,
    /// The path as the Ingress wrote it (`/` for the root location).
    pub ingress_path: String,
    /// How it matches.
    pub kind: LocationKind,
    /// The Ingress whose annotations apply, by index into [`NginxModel::ingresses`]; `None` for
    /// the catch-all's root with no Ingress.
    pub ingress: Option<usize>,
    /// Where in that Ingress: `spec.rules[rule].http.paths[path]`; `None` for a root location
    /// the Ingress did not write (its host's default).
    pub source: Option<(usize, usize)>,
    /// The Service it proxies to; `None` is the default backend (404).
    pub service: Option<ServiceRef>,
    /// Redirects and rewrites of the Ingress do not apply (the catch-all served by an Ingress's
    /// `defaultBackend`).
    pub without_redirects: bool,
}

/// A Service port an Ingress names, in the Ingress's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRef {
    /// Namespace.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// Port number, or its name.
    pub port: String,
}

impl ServiceRef {
    fn from_backend(namespace: &str, backend: &IngressBackend) -> Option<Self> {
        let service = backend.service.as_ref()?;
        let port = match (&service.port.number, &service.port.name) {
            (Some(number), _) => number.to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        };
        Some(Self {
            namespace: namespace.to_owned(),
            name: service.name.clone(),
            port,
        })
    }

    /// nginx's upstream name: `namespace-name-port`.
    pub fn upstream(&self) -> String {
        format!("{}-{}-{}", self.namespace, self.name, self.port)
    }
}

/// The canary attached to a primary upstream.
#[derive(Clone, Debug)]
pub struct CanaryRef {
    /// The canary Ingress, by index.
    pub ingress: usize,
    /// Its Service.
    pub service: ServiceRef,
}

/// A path of an Ingress after nginx's defaults: path `/` when empty, pathType `Prefix` for
/// `ImplementationSpecific` and none.
struct PathEntry {
    host: String,
    path: String,
    exact: bool,
    service: Option<ServiceRef>,
    rule: usize,
    index: usize,
}

impl NginxModel {
    /// Builds the servers nginx would build from `ingresses` (each with its position among the
    /// resources), serving the class `config` names.
    pub fn build(
        config: &IngressConfig,
        ingresses: &[(usize, &Ingress)],
        classes: &[&IngressClass],
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut model = Self {
            catch_all: Server {
                host: CATCH_ALL.to_owned(),
                locations: vec![root(None, None)],
                ..Server::default()
            },
            ..Self::default()
        };
        let mut served: Vec<(usize, &Ingress)> = Vec::with_capacity(ingresses.len());
        for &(position, ingress) in ingresses {
            if is_served(config, ingress, classes) {
                served.push((position, ingress));
                continue;
            }
            let label = format!(
                "Ingress {}/{}",
                ingress.metadata.namespace(),
                ingress.metadata.name
            );
            let (field, why) = match ingress.class_name() {
                Some(class) => (
                    if ingress.spec.ingress_class_name.is_some() {
                        String::from("spec.ingressClassName")
                    } else {
                        format!("metadata.annotations[{}]", crate::config::LEGACY_CLASS_ANNOTATION)
                    },
                    format!("class {class:?} is not the class this proxy serves ({:?})", config.class()),
                ),
                None => (
                    String::from("spec.ingressClassName"),
                    format!("no class, and this proxy serves classless Ingresses only with ingress.watchWithoutClass or a default IngressClass {:?}", config.class()),
                ),
            };
            problems.push(
                Problem::warning(label, field, format!("{why}; the Ingress was skipped"))
                    .with_hint("set the class in the Ingress, or the plugin configuration's ingress.class (host-sim: --ingress-class)"),
            );
        }
        // store.go sortIngressSlice: creation time, ties by namespace/name descending.
        sort_by_age(&mut served, |(position, i)| age_key(*position, &i.metadata));
        reverse_runs(&mut served, |(_, i)| i.metadata.creation_timestamp.clone());
        let mut entries = Vec::with_capacity(served.len());
        for (_, ingress) in &served {
            let label = format!(
                "Ingress {}/{}",
                ingress.metadata.namespace(),
                ingress.metadata.name
            );
            let annotations = IngressAnnotations::parse(&ingress.annotations, &label, problems);
            let canary = annotations.canary.is_some();
            if !annotations.not_served.is_empty() {
                let names: Vec<&str> = annotations
                    .not_served
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect();
                let snippets = annotations.not_served.iter().any(|n| n.snippet);
                problems.push(
                    Problem::warning(
                        &label,
                        "metadata.annotations",
                        format!(
                            "not executed by the filter: {}{}",
                            names.join(", "),
                            if snippets {
                                " (raw nginx configuration snippets are never run)"
                            } else {
                                ""
                            }
                        ),
                    )
                    .with_hint("host-sim check says what to write instead of each"),
                );
            }
            entries.push(paths(ingress, &label, problems));
            model.ingresses.push(ServedIngress {
                namespace: ingress.metadata.namespace().to_owned(),
                name: ingress.metadata.name.clone(),
                annotations,
                canary,
            });
        }
        model.create_servers(&served);
        model.add_locations(&entries, problems);
        model.merge_canaries(&served, &entries, problems);
        model.finish();
        model
    }

    /// createServers: one server per host, its root location backed by the first Ingress's
    /// `defaultBackend` (or the 404 default backend); an Ingress with a `defaultBackend` and no
    /// rules backs the catch-all. TLS goes to hosts some Ingress lists in `spec.tls`.
    fn create_servers(&mut self, served: &[(usize, &Ingress)]) {
        for (index, (_, ingress)) in served.iter().enumerate() {
            if self.is_canary(index) {
                continue;
            }
            let namespace = ingress.metadata.namespace();
            let default = ingress
                .spec
                .default_backend
                .as_ref()
                .and_then(|b| ServiceRef::from_backend(namespace, b));
            if let (Some(service), true) = (&default, ingress.spec.rules.is_empty()) {
                if let Some(root) = self.catch_all.locations.first_mut() {
                    if root.ingress.is_none() && root.service.is_none() {
                        *root = Location {
                            service: Some(service.clone()),
                            without_redirects: true,
                            ..self::root(Some(index), None)
                        };
                    }
                }
            }
            for rule in &ingress.spec.rules {
                let host = host_of(rule.host.as_deref());
                if host == CATCH_ALL || self.server(&host).is_some() {
                    continue;
                }
                self.servers.push(Server {
                    host,
                    locations: vec![root(Some(index), default.clone())],
                    ..Server::default()
                });
            }
        }
        for (index, (_, ingress)) in served.iter().enumerate() {
            if self.is_canary(index) {
                continue;
            }
            for rule in &ingress.spec.rules {
                let host = host_of(rule.host.as_deref());
                let covered = ingress.spec.tls.iter().any(|tls| {
                    tls.hosts.is_empty() || tls.hosts.iter().any(|h| tls_covers(h, &host))
                });
                if covered && host != CATCH_ALL {
                    if let Some(server) = self.server_mut(&host) {
                        server.tls = true;
                    }
                }
            }
        }
    }

    /// getBackendServers: each path of each Ingress becomes a location of its host's server,
    /// unless a location with the same path and pathType is already there (a host's root
    /// location, which only stands in for the default backend, is replaced).
    fn add_locations(&mut self, entries: &[Vec<PathEntry>], problems: &mut Vec<Problem>) {
        for (index, paths) in entries.iter().enumerate() {
            if self.is_canary(index) {
                continue;
            }
            for entry in paths {
                let Some(service) = &entry.service else {
                    continue;
                };
                let label = self.label(index);
                let field = path_field(entry.rule, entry.index);
                let server = match self.server_mut(&entry.host) {
                    Some(server) => server,
                    None => &mut self.catch_all,
                };
                let same = server.locations.iter_mut().find(|l| {
                    l.path == entry.path && (l.kind == LocationKind::Exact) == entry.exact
                });
                let location = Location {
                    path: entry.path.clone(),
                    ingress_path: entry.path.clone(),
                    kind: if entry.exact {
                        LocationKind::Exact
                    } else {
                        LocationKind::Prefix
                    },
                    ingress: Some(index),
                    source: Some((entry.rule, entry.index)),
                    service: Some(service.clone()),
                    without_redirects: false,
                };
                match same {
                    Some(existing) if existing.source.is_none() && !existing.without_redirects => {
                        *existing = location;
                    }
                    Some(existing) => {
                        let owner = existing
                            .ingress
                            .and_then(|i| self.ingresses.get(i))
                            .map_or_else(String::new, ServedIngress::label);
                        problems.push(
                            Problem::warning(
                                label,
                                field,
                                format!(
                                    "host {:?} path {:?} is already served by {owner}, which is older; ingress-nginx ignores this path and so does the filter",
                                    entry.host, entry.path
                                ),
                            )
                            .with_hint("remove the path from one of the two Ingresses, or make this one a canary"),
                        );
                    }
                    None => server.locations.push(location),
                }
            }
        }
    }

    /// mergeAlternativeBackends: a canary Ingress's path attaches its Service to the upstream of
    /// the location with the same host, path and pathType; only the first canary of an upstream
    /// is used, and a canary with no such location serves nothing.
    fn merge_canaries(
        &mut self,
        served: &[(usize, &Ingress)],
        entries: &[Vec<PathEntry>],
        problems: &mut Vec<Problem>,
    ) {
        if self.ingresses.iter().all(|i| i.canary) {
            for (index, _) in served.iter().enumerate() {
                problems.push(no_primary(
                    &self.label(index),
                    "spec.rules",
                    "no Ingress of the class is a primary",
                ));
            }
            return;
        }
        for (index, paths) in entries.iter().enumerate() {
            if !self.is_canary(index) {
                continue;
            }
            let label = self.label(index);
            for entry in paths {
                let Some(service) = &entry.service else {
                    continue;
                };
                let field = path_field(entry.rule, entry.index);
                let server = self
                    .server(&entry.host)
                    .or((entry.host == CATCH_ALL).then_some(&self.catch_all));
                let Some(server) = server else {
                    problems.push(no_primary(
                        &label,
                        &field,
                        &format!("no Ingress serves host {:?}", entry.host),
                    ));
                    continue;
                };
                let primary = server.locations.iter().find(|l| {
                    l.source.is_some()
                        && l.path == entry.path
                        && (l.kind == LocationKind::Exact) == entry.exact
                });
                let Some(primary) = primary.and_then(|l| l.service.clone()) else {
                    problems.push(no_primary(
                        &label,
                        &field,
                        &format!(
                            "no Ingress serves host {:?} path {:?} with this pathType",
                            entry.host, entry.path
                        ),
                    ));
                    continue;
                };
                if primary.upstream() == service.upstream() {
                    problems.push(no_primary(
                        &label,
                        &field,
                        "the canary names the primary's own Service",
                    ));
                    continue;
                }
                let upstream = primary.upstream();
                match self
                    .canaries
                    .iter()
                    .find(|(u, _)| *u == upstream)
                    .map(|(_, c)| c)
                {
                    Some(first) if first.ingress == index => {}
                    Some(first) => {
                        let owner = self.label(first.ingress);
                        problems.push(
                            Problem::error(
                                label.clone(),
                                format!("metadata.annotations[{}/canary]", crate::config::ANNOTATION_PREFIX),
                                format!(
                                    "Service {}/{} already has the canary {owner}; ingress-nginx uses only the first canary of a Service, so this one serves nothing",
                                    primary.namespace, primary.name
                                ),
                            )
                            .with_hint("keep one canary Ingress per primary Service and shift traffic with its canary-weight"),
                        );
                    }
                    None => {
                        let canary = CanaryRef {
                            ingress: index,
                            service: service.clone(),
                        };
                        self.canaries.push((upstream, canary));
                    }
                }
            }
        }
        // Affinity belongs to upstreams: the last Ingress asking for it on one sets the cookie.
        for (index, paths) in entries.iter().enumerate() {
            if self
                .ingresses
                .get(index)
                .is_some_and(|i| i.annotations.affinity.is_some())
            {
                for service in paths.iter().filter_map(|e| e.service.as_ref()) {
                    let upstream = service.upstream();
                    self.affinity.retain(|(u, _)| *u != upstream);
                    self.affinity.push((upstream, index));
                }
            }
        }
    }

    /// Regex mode, nginx's location order, the `Prefix` split, and the www redirect servers.
    fn finish(&mut self) {
        sort_by_age(&mut self.servers, |s| (String::new(), 0, s.host.clone()));
        let ingresses = &self.ingresses;
        for server in self
            .servers
            .iter_mut()
            .chain(std::iter::once(&mut self.catch_all))
        {
            let uses_regex = |l: &Location| {
                l.ingress.and_then(|i| ingresses.get(i)).is_some_and(|i| {
                    i.annotations.use_regex || needs_rewrite(&i.annotations, &l.ingress_path)
                }) && !l.without_redirects
            };
            // Stable sorts by path descending, then by length descending: longest first, equal
            // lengths by path descending, equal paths as written.
            let locations = &mut server.locations;
            sort_by_age(locations, |l| {
                (String::new(), usize::MAX - l.path.len(), l.path.clone())
            });
            reverse_runs(locations, |l| Some(l.path.len()));
            reverse_runs(locations, |l| Some(l.path.clone()));
            // updateServerLocations: `Prefix /p` → `/p/` and `= /p` (unless `= /p` exists).
            let exact: Vec<String> = server
                .locations
                .iter()
                .filter(|l| l.kind == LocationKind::Exact)
                .map(|l| l.path.clone())
                .collect();
            let mut split = Vec::with_capacity(server.locations.len());
            for mut location in std::mem::take(&mut server.locations) {
                let plain = location.path != "/"
                    && location.kind == LocationKind::Prefix
                    && !uses_regex(&location);
                if plain && !location.path.ends_with('/') {
                    let had_exact = exact.contains(&location.path);
                    let exact_half = Location {
                        kind: LocationKind::Exact,
                        ..location.clone()
                    };
                    location.path.push('/');
                    split.push(location);
                    if !had_exact {
                        split.push(exact_half);
                    }
                } else {
                    split.push(location);
                }
            }
            // enforceRegexModifier runs on the split locations: a `Prefix /p` of an Ingress whose
            // rewrite-target is `/p` becomes `/p/`, which then needs a rewrite.
            server.regex = split.iter().any(|l| {
                !l.without_redirects
                    && l.ingress.and_then(|i| ingresses.get(i)).is_some_and(|i| {
                        i.annotations.use_regex || needs_rewrite(&i.annotations, &l.path)
                    })
            });
            if server.regex {
                for location in &mut split {
                    location.kind = LocationKind::Regex;
                }
            }
            server.locations = split;
        }
        for server in &self.servers {
            let www = server.locations.iter().any(|l| {
                l.ingress
                    .and_then(|i| ingresses.get(i))
                    .is_some_and(|i| i.annotations.from_to_www_redirect)
            });
            if !www || server.host.starts_with("*.") {
                continue;
            }
            let from = match server.host.strip_prefix("www.") {
                Some(bare) => bare.to_owned(),
                None => format!("www.{}", server.host),
            };
            if self.servers.iter().all(|s| s.host != from) {
                self.www_redirects.push((from, server.host.clone()));
            }
        }
    }

    fn is_canary(&self, index: usize) -> bool {
        self.ingresses.get(index).is_some_and(|i| i.canary)
    }

    fn label(&self, index: usize) -> String {
        self.ingresses
            .get(index)
            .map_or_else(String::new, ServedIngress::label)
    }

    /// The server for a host name exactly as written (not the catch-all).
    pub fn server(&self, host: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.host == host)
    }

    fn server_mut(&mut self, host: &str) -> Option<&mut Server> {
        self.servers.iter_mut().find(|s| s.host == host)
    }
}

/// Reverses every run of neighbours with the same `Some` key (stable ascending order becomes
/// descending within the run).
fn reverse_runs<T, K: PartialEq>(items: &mut [T], key: impl Fn(&T) -> Option<K>) {
    let mut start = 0;
    while start < items.len() {
        let first = items.get(start).and_then(&key);
        let mut end = start + 1;
        while first.is_some() && end < items.len() && items.get(end).and_then(&key) == first {
            end += 1;
        }
        if let Some(run) = items.get_mut(start..end) {
            run.reverse();
        }
        start = end;
    }
}

/// Whether nginx rewrites a location's path (`needsRewrite`): a target other than the path
/// itself (the location's path, `/p/` for the prefix half of `Prefix /p`).
pub fn needs_rewrite(annotations: &IngressAnnotations, path: &str) -> bool {
    annotations
        .rewrite_target
        .as_deref()
        .is_some_and(|target| target != path)
}

/// A host's root location before any Ingress writes `/`: the default backend.
fn root(ingress: Option<usize>, service: Option<ServiceRef>) -> Location {
    Location {
        path: "/".to_owned(),
        ingress_path: "/".to_owned(),
        kind: LocationKind::Prefix,
        ingress,
        source: None,
        service,
        without_redirects: false,
    }
}

fn host_of(host: Option<&str>) -> String {
    match host {
        Some(host) if !host.is_empty() => host.to_ascii_lowercase(),
        _ => CATCH_ALL.to_owned(),
    }
}

/// Whether a `spec.tls[].hosts` entry covers `host` (exactly, or as a one-label wildcard).
fn tls_covers(tls_host: &str, host: &str) -> bool {
    let tls_host = tls_host.to_ascii_lowercase();
    if tls_host == host {
        return true;
    }
    match tls_host.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .and_then(|label| label.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => false,
    }
}

fn path_field(rule: usize, index: usize) -> String {
    format!("spec.rules[{rule}].http.paths[{index}]")
}

fn no_primary(label: &str, field: &str, why: &str) -> Problem {
    Problem::warning(
        label,
        field,
        format!(
            "this canary has no primary ({why}); ingress-nginx ignores it and so does the filter"
        ),
    )
    .with_hint(
        "add the primary Ingress with the same host, path and pathType, or remove the canary",
    )
}

/// Whether ingress-nginx serving `config`'s class serves this Ingress.
fn is_served(config: &IngressConfig, ingress: &Ingress, classes: &[&IngressClass]) -> bool {
    let class = config.class();
    match ingress.class_name() {
        Some(name) => name == class,
        None => {
            config.watch_without_class.unwrap_or(false)
                || classes.iter().any(|c| {
                    c.metadata.name == class
                        && c.is_default
                        && c.controller
                            .as_deref()
                            .is_none_or(|c| c == NGINX_CONTROLLER)
                })
        }
    }
}

/// The paths of an Ingress with nginx's defaults, reporting those nginx refuses.
fn paths(ingress: &Ingress, label: &str, problems: &mut Vec<Problem>) -> Vec<PathEntry> {
    let namespace = ingress.metadata.namespace();
    let mut out = Vec::new();
    for (r, rule) in ingress.spec.rules.iter().enumerate() {
        let host = host_of(rule.host.as_deref());
        if let Some(invalid) = rule.host.as_deref().filter(|h| !valid_host(h)) {
            problems.push(
                Problem::error(
                    label,
                    format!("spec.rules[{r}].host"),
                    format!("{invalid:?} is not a valid host; the rule was skipped"),
                )
                .with_hint("write a DNS name, or \"*.\" and a domain for one label of subdomain"),
            );
            continue;
        }
        let Some(http) = &rule.http else { continue };
        for (p, path) in http.paths.iter().enumerate() {
            let field = path_field(r, p);
            let written = path.path.as_deref().unwrap_or("");
            let exact = match path.path_type.as_deref() {
                Some("Exact") => true,
                Some("Prefix" | "ImplementationSpecific") | None => false,
                Some(other) => {
                    problems.push(
                        Problem::error(
                            label,
                            format!("{field}.pathType"),
                            format!("{other:?} is not a pathType; the path was skipped"),
                        )
                        .with_hint("use Exact, Prefix or ImplementationSpecific"),
                    );
                    continue;
                }
            };
            let strict = path.path_type.as_deref() != Some("ImplementationSpecific");
            if strict && !written.is_empty() && !strict_path(written) {
                problems.push(
                    Problem::error(
                        label,
                        format!("{field}.path"),
                        format!(
                            "{written:?} cannot be used with pathType {}: ingress-nginx refuses an Exact or Prefix path with characters other than letters, digits, \".\", \"_\", \"-\" and \"/\"; the path was skipped",
                            path.path_type.as_deref().unwrap_or("<nil>")
                        ),
                    )
                    .with_hint("use pathType ImplementationSpecific for a regular expression"),
                );
                continue;
            }
            let service = ServiceRef::from_backend(namespace, &path.backend);
            if service.is_none() {
                problems.push(Problem::warning(
                    label,
                    format!("{field}.backend"),
                    "names no Service (a resource backend); ingress-nginx serves the default backend there and so does the filter",
                ));
            }
            out.push(PathEntry {
                host: host.clone(),
                path: if written.is_empty() {
                    "/".to_owned()
                } else {
                    written.to_owned()
                },
                exact,
                service,
                rule: r,
                index: p,
            });
        }
    }
    out
}

/// A host as the Ingress API accepts it: DNS labels, optionally `*.` first.
fn valid_host(host: &str) -> bool {
    let name = host.strip_prefix("*.").unwrap_or(host);
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
