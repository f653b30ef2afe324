//! The Ingress part of the route table: nginx's servers and locations compiled into matchers,
//! each location's settings ready, built once per configuration from [`NginxModel`].
//!
//! Backends go into the route table's shared list (the same `namespace/name:port` keys and
//! cluster names as Gateway API routes). A location whose path nginx would refuse, or whose
//! rewrite target names groups the path does not have, is dropped with a problem; the rest of
//! the host still serves. How a request is answered is [`super::decide`]'s.

use regex_lite::Regex;

use super::model::{Location, LocationKind, NginxModel, Server, ServiceRef, CATCH_ALL};
use super::rewrite::{location_regex, Rewrite};
use crate::config::{
    Affinity, Canary, Cidr, IngressAnnotations, IngressCors, Service, ANNOTATION_PREFIX,
};
use crate::effect::HeaderEdits;
use crate::filters::OriginPattern;
use crate::fnv::FnvHashMap;
use crate::problem::Problem;
use crate::session::{Carrier, Persistence};

/// nginx's default `proxy-body-size` (`client_max_body_size 1m`).
pub(crate) const DEFAULT_BODY_SIZE: u64 = 1 << 20;

/// Every Ingress the proxy serves, compiled.
#[derive(Debug, Default)]
pub(crate) struct IngressTable {
    /// Exact host → server.
    pub(crate) exact: FnvHashMap<String, u32>,
    /// `*.domain` servers as `(".domain", server)`: one label before the domain.
    pub(crate) wildcards: Vec<(String, u32)>,
    pub(crate) catch_all: u32,
    pub(crate) servers: Vec<ServerTable>,
    /// `from-to-www-redirect`: host → host to redirect to.
    pub(crate) www: FnvHashMap<String, String>,
    pub(crate) ingresses: Vec<IngressSettings>,
    pub(crate) canaries: Vec<CanaryTable>,
    /// Some location tests the client address.
    pub(crate) needs_client: bool,
    /// Some location keeps cookie affinity.
    pub(crate) keeps_sessions: bool,
}

/// One nginx server.
#[derive(Debug)]
pub(crate) struct ServerTable {
    pub(crate) tls: bool,
    pub(crate) regex: bool,
    /// The first location's `app-root`, a server-level redirect of `/`.
    pub(crate) app_root: Option<String>,
    pub(crate) locations: Vec<LocationTable>,
}

/// How a location matches a path.
#[derive(Debug)]
pub(crate) enum PathTest {
    Exact(String),
    Prefix(String),
    Regex(Regex),
}

/// Where a location sends requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upstream {
    /// The default backend: 404.
    Default,
    /// A Service that cannot be resolved (unknown Service or port name): 503, as nginx
    /// answers for an upstream without endpoints.
    Unavailable,
    /// A backend in the route table.
    Backend(u32),
}

/// One nginx location.
#[derive(Debug)]
pub(crate) struct LocationTable {
    pub(crate) test: PathTest,
    /// Index into [`IngressTable::ingresses`]; `None` uses nginx's defaults.
    pub(crate) ingress: Option<u32>,
    /// `spec.rules[]` index in that Ingress, for decisions.
    pub(crate) rule: u16,
    pub(crate) ingress_path: String,
    pub(crate) upstream: Upstream,
    /// Index into [`IngressTable::canaries`].
    pub(crate) canary: Option<u32>,
    pub(crate) rewrite: Option<Rewrite>,
    /// `X-Forwarded-Prefix` when the path is rewritten.
    pub(crate) forwarded_prefix: Option<HeaderEdits>,
    pub(crate) persistence: Option<Box<Persistence>>,
    /// The Ingress's redirects do not apply here.
    pub(crate) without_redirects: bool,
}

impl LocationTable {
    /// Whether the location matches by regex (its host is in regex mode).
    pub(crate) fn is_regex(&self) -> bool {
        matches!(self.test, PathTest::Regex(_))
    }
}

/// What one Ingress's annotations ask of its locations, compiled.
#[derive(Debug)]
pub(crate) struct IngressSettings {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) annotations: IngressAnnotations,
    pub(crate) cors_origins: Vec<OriginPattern>,
    /// Timeout and retry headers for Envoy's router.
    pub(crate) envoy_headers: Vec<(String, String)>,
    /// The same without retries, for methods nginx does not retry.
    pub(crate) envoy_headers_idempotent_only: Vec<(String, String)>,
    pub(crate) mirror: Option<u32>,
}

/// A canary attached to a primary upstream.
#[derive(Debug)]
pub(crate) struct CanaryTable {
    pub(crate) upstream: Upstream,
    pub(crate) rules: Canary,
    /// `canary-by-header`, lowercase.
    pub(crate) header: Option<String>,
    /// `canary-by-header-pattern`, unanchored; `None` also when it does not compile (nginx
    /// then routes to the primary).
    pub(crate) pattern: Option<Regex>,
}

/// Resolves a Service reference to a backend of the route table.
pub(crate) trait ResolveService {
    /// The backend index, or why it cannot be used.
    fn resolve(&mut self, service: &ServiceRef, port: u16) -> Result<u32, String>;
}

impl IngressTable {
    /// Compiles the model, reporting what cannot be served.
    pub(crate) fn build(
        model: &NginxModel,
        services: &[&Service],
        resolver: &mut dyn ResolveService,
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut table = Self::default();
        let mut upstreams: FnvHashMap<String, Upstream> = FnvHashMap::default();
        let mut upstream = |service: &ServiceRef,
                            label: &str,
                            problems: &mut Vec<Problem>|
         -> Upstream {
            let key = service.upstream();
            if let Some(known) = upstreams.get(&key) {
                return *known;
            }
            let resolved = match port_number(service, services) {
                Err(why) => Err(why),
                Ok(port) => resolver.resolve(service, port),
            };
            let result = match resolved {
                Ok(id) => Upstream::Backend(id),
                Err(why) => {
                    problems.push(Problem::error(
                        label,
                        "spec",
                        format!("{why}; requests for it get 503, as from ingress-nginx for a Service without endpoints"),
                    ));
                    Upstream::Unavailable
                }
            };
            upstreams.insert(key, result);
            result
        };
        for served in &model.ingresses {
            let label = served.label();
            let mirror = served.annotations.mirror_target.as_deref().and_then(|url| {
                let service = mirror_service(url, &served.namespace);
                if service.is_none() {
                    problems.push(Problem::warning(
                        &label,
                        format!("metadata.annotations[{ANNOTATION_PREFIX}/mirror-target]"),
                        format!("{url:?} names no Service of the cluster (http://name.namespace.svc:port/...); the filter does not mirror"),
                    ).with_hint("mirror to a Service, whose Envoy cluster the filter can send copies to"));
                }
                match upstream(&service?, &label, problems) {
                    Upstream::Backend(id) => Some(id),
                    _ => None,
                }
            });
            let (envoy_headers, envoy_headers_idempotent_only) =
                router_headers(&served.annotations);
            let cors_origins = served
                .annotations
                .cors
                .as_ref()
                .map(|c| cors_origins(c, &label, problems))
                .unwrap_or_default();
            table.needs_client |= !served.annotations.allow_source_ranges.is_empty()
                || !served.annotations.deny_source_ranges.is_empty();
            table.ingresses.push(IngressSettings {
                namespace: served.namespace.clone(),
                name: served.name.clone(),
                annotations: served.annotations.clone(),
                cors_origins,
                envoy_headers,
                envoy_headers_idempotent_only,
                mirror,
            });
        }
        let mut canary_ids: FnvHashMap<String, u32> = FnvHashMap::default();
        for (primary, canary) in &model.canaries {
            let Some(served) = model.ingresses.get(canary.ingress) else {
                continue;
            };
            let Some(rules) = served.annotations.canary.clone() else {
                continue;
            };
            let label = served.label();
            let pattern = rules.by_header_pattern.as_deref().and_then(|p| {
                regex_lite::RegexBuilder::new(p)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|err| {
                        problems.push(Problem::warning(
                            &label,
                            format!("metadata.annotations[{ANNOTATION_PREFIX}/canary-by-header-pattern]"),
                            format!("{p:?} is not a regular expression the filter can run ({}); requests with the header go to the primary, as nginx sends them when the pattern fails", err.to_string().lines().last().unwrap_or_default().trim()),
                        ));
                    })
                    .ok()
            });
            let id = u32::try_from(table.canaries.len()).unwrap_or(u32::MAX);
            table.canaries.push(CanaryTable {
                upstream: upstream(&canary.service, &label, problems),
                header: rules.by_header.as_ref().map(|h| h.to_ascii_lowercase()),
                pattern,
                rules,
            });
            canary_ids.insert(primary.clone(), id);
        }
        let servers = model
            .servers
            .iter()
            .chain(std::iter::once(&model.catch_all));
        for server in servers {
            let id = u32::try_from(table.servers.len()).unwrap_or(u32::MAX);
            let mut locations = Vec::with_capacity(server.locations.len());
            for location in &server.locations {
                let Some(compiled) = table.location(
                    model,
                    server,
                    location,
                    &canary_ids,
                    &mut upstream,
                    problems,
                ) else {
                    continue;
                };
                locations.push(compiled);
            }
            let app_root = server.locations.iter().find_map(|l| {
                l.ingress
                    .and_then(|i| model.ingresses.get(i))
                    .and_then(|i| i.annotations.app_root.clone())
            });
            table.servers.push(ServerTable {
                tls: server.tls,
                regex: server.regex,
                app_root,
                locations,
            });
            match server.host.as_str() {
                CATCH_ALL => table.catch_all = id,
                host => match host.strip_prefix('*') {
                    Some(domain) => table.wildcards.push((domain.to_owned(), id)),
                    None => {
                        table.exact.insert(host.to_owned(), id);
                    }
                },
            }
        }
        for (from, to) in &model.www_redirects {
            table.www.insert(from.clone(), to.clone());
        }
        table
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one location needs every part of the model"
    )]
    fn location(
        &mut self,
        model: &NginxModel,
        server: &Server,
        location: &Location,
        canary_ids: &FnvHashMap<String, u32>,
        upstream: &mut dyn FnMut(&ServiceRef, &str, &mut Vec<Problem>) -> Upstream,
        problems: &mut Vec<Problem>,
    ) -> Option<LocationTable> {
        let served = location.ingress.and_then(|i| model.ingresses.get(i));
        let label = served.map_or_else(|| String::from("Ingress"), |s| s.label());
        let field = match location.source {
            Some((rule, path)) => format!("spec.rules[{rule}].http.paths[{path}].path"),
            None => String::from("spec"),
        };
        let test = match location.kind {
            LocationKind::Exact => PathTest::Exact(location.path.clone()),
            LocationKind::Prefix => PathTest::Prefix(location.path.clone()),
            LocationKind::Regex => match location_regex(&location.path) {
                Ok(regex) => PathTest::Regex(regex),
                Err(why) => {
                    problems.push(
                        Problem::error(&label, field, format!("{why}; the path was skipped"))
                            .with_hint(format!(
                                "host {:?} is in regex mode (use-regex or rewrite-target on one of its paths), so every path there is a regular expression",
                                server.host
                            )),
                    );
                    return None;
                }
            },
        };
        let annotations = served.map(|s| &s.annotations);
        let rewrite = match annotations.and_then(|a| a.rewrite_target.as_deref()) {
            Some(target) if target != location.path && !location.without_redirects => {
                // A root location the Ingress did not write gets the rewrite too; nginx leaves
                // the groups it lacks empty there.
                match Rewrite::new(&location.path, target, location.source.is_some()) {
                    Ok(rewrite) => Some(rewrite),
                    Err(why) => {
                        problems.push(
                            Problem::error(
                                &label,
                                format!("metadata.annotations[{ANNOTATION_PREFIX}/rewrite-target]"),
                                format!("{why}; the path {:?} was skipped", location.path),
                            )
                            .with_hint(
                                "refer only to the groups the path captures, $1 for the first",
                            ),
                        );
                        return None;
                    }
                }
            }
            _ => None,
        };
        let forwarded_prefix = rewrite.as_ref().and_then(|_| {
            let prefix = annotations?.x_forwarded_prefix.clone()?;
            Some(HeaderEdits {
                set: vec![(String::from("x-forwarded-prefix"), prefix)],
                ..HeaderEdits::default()
            })
        });
        let (target, canary, persistence) = match &location.service {
            None => (Upstream::Default, None, None),
            Some(service) => {
                let key = service.upstream();
                let affinity = model
                    .affinity
                    .get(&key)
                    .and_then(|i| model.ingresses.get(*i))
                    .and_then(|i| i.annotations.affinity.as_ref());
                let persistence = affinity.map(|a| Box::new(cookie(a, &location.ingress_path)));
                self.keeps_sessions |= persistence.is_some();
                (
                    upstream(service, &label, problems),
                    canary_ids.get(&key).copied(),
                    persistence,
                )
            }
        };
        Some(LocationTable {
            test,
            ingress: location.ingress.and_then(|i| u32::try_from(i).ok()),
            rule: location
                .source
                .and_then(|(rule, _)| u16::try_from(rule).ok())
                .unwrap_or(0),
            ingress_path: location.ingress_path.clone(),
            upstream: target,
            canary,
            rewrite,
            forwarded_prefix,
            persistence,
            without_redirects: location.without_redirects,
        })
    }
}

/// The Service port a reference names: its number, or its name looked up in the Service.
fn port_number(service: &ServiceRef, services: &[&Service]) -> Result<u16, String> {
    if let Ok(number) = service.port.parse::<u16>() {
        return if number == 0 {
            Err(format!(
                "Service {}/{} port 0 is not a port",
                service.namespace, service.name
            ))
        } else {
            Ok(number)
        };
    }
    services
        .iter()
        .filter(|s| s.metadata.namespace() == service.namespace && s.metadata.name == service.name)
        .flat_map(|s| &s.spec.ports)
        .find(|p| p.name.as_deref() == Some(service.port.as_str()))
        .and_then(|p| p.port.and_then(|p| u16::try_from(p).ok()))
        .ok_or_else(|| {
            format!(
                "Service {}/{} has no port named {:?} among the Services given",
                service.namespace, service.name, service.port
            )
        })
}

/// `mirror-target` as a Service: `http(s)://name[.namespace[.svc[.cluster.local]]][:port]/...`.
fn mirror_service(url: &str, namespace: &str) -> Option<ServiceRef> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '$']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().ok()?),
        None => (authority, if url.starts_with("https") { 443 } else { 80 }),
    };
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let host = host.strip_suffix(".svc").unwrap_or(host);
    let mut labels = host.split('.');
    let name = labels.next().filter(|n| !n.is_empty())?;
    let ns = labels.next().unwrap_or(namespace);
    if labels.next().is_some() {
        return None;
    }
    Some(ServiceRef {
        namespace: ns.to_owned(),
        name: name.to_owned(),
        port: port.to_string(),
    })
}

/// The allowed origins other than `*`, as CORS patterns.
fn cors_origins(
    cors: &IngressCors,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Vec<OriginPattern> {
    cors.allow_origins
        .iter()
        .filter(|o| *o != "*")
        .filter_map(|origin| {
            let parsed = OriginPattern::parse(origin);
            if parsed.is_none() {
                problems.push(Problem::warning(
                    label,
                    format!("metadata.annotations[{ANNOTATION_PREFIX}/cors-allow-origin]"),
                    format!("{origin:?} is not an origin (scheme://host[:port]); ingress-nginx skips it and so does the filter"),
                ));
            }
            parsed
        })
        .collect()
}

/// Request headers as name and value.
type Headers = Vec<(String, String)>;

/// Envoy router headers for the proxy timeouts and `proxy-next-upstream`: all of them, and the
/// same without retries for methods nginx retries only under `non_idempotent`.
fn router_headers(annotations: &IngressAnnotations) -> (Headers, Headers) {
    let proxy = &annotations.proxy;
    let mut timeouts = Vec::new();
    if proxy.connect.is_some() || proxy.read.is_some() {
        // An attempt may take the time to connect, then the time to wait for the response.
        let seconds = u64::from(proxy.connect.unwrap_or(5)) + u64::from(proxy.read.unwrap_or(60));
        timeouts.push((
            String::from("x-envoy-upstream-rq-per-try-timeout-ms"),
            (seconds * 1000).to_string(),
        ));
    }
    let mut retries = Vec::new();
    if proxy.next_upstream.is_some() || proxy.next_upstream_tries.is_some() {
        let conditions = proxy
            .next_upstream
            .clone()
            .unwrap_or_else(|| vec![String::from("error"), String::from("timeout")]);
        let off = conditions.iter().any(|c| c == "off");
        let mut on: Vec<&str> = Vec::new();
        let mut codes: Vec<&str> = Vec::new();
        for condition in &conditions {
            match condition.as_str() {
                "error" => on.extend(["connect-failure", "refused-stream", "reset"]),
                "timeout" => on.push("gateway-error"),
                "http_500" => codes.push("500"),
                "http_502" => codes.push("502"),
                "http_503" => codes.push("503"),
                "http_504" => codes.push("504"),
                "http_403" => codes.push("403"),
                "http_404" => codes.push("404"),
                "http_429" => codes.push("429"),
                _ => {}
            }
        }
        if !codes.is_empty() {
            on.push("retriable-status-codes");
        }
        on.dedup();
        let tries = proxy.next_upstream_tries.unwrap_or(3);
        if off || on.is_empty() {
            retries.push((String::from("x-envoy-max-retries"), String::from("0")));
        } else {
            retries.push((String::from("x-envoy-retry-on"), on.join(",")));
            if !codes.is_empty() {
                retries.push((
                    String::from("x-envoy-retriable-status-codes"),
                    codes.join(","),
                ));
            }
            // nginx counts the first attempt among its tries; 0 means no limit.
            let max = if tries == 0 {
                10
            } else {
                tries.saturating_sub(1)
            };
            retries.push((String::from("x-envoy-max-retries"), max.to_string()));
        }
    }
    let all = timeouts.iter().chain(&retries).cloned().collect();
    let non_idempotent = annotations
        .proxy
        .next_upstream
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| c == "non_idempotent"));
    let without = if non_idempotent || retries.is_empty() {
        timeouts.iter().chain(&retries).cloned().collect()
    } else {
        let mut t = timeouts;
        t.push((String::from("x-envoy-max-retries"), String::from("0")));
        t
    };
    (all, without)
}

/// nginx's affinity cookie, on the session-persistence machinery: the cookie names the backend,
/// HttpOnly always, its path the location's unless `session-cookie-path` says otherwise.
fn cookie(affinity: &Affinity, location_path: &str) -> Persistence {
    let path = affinity.path.as_deref().unwrap_or(location_path);
    let mut attributes = format!("Path={path}");
    if let Some(max_age) = affinity.max_age.or(affinity.expires) {
        attributes.push_str(&format!("; Max-Age={max_age}"));
    }
    if let Some(same_site) = &affinity.same_site {
        attributes.push_str(&format!("; SameSite={same_site}"));
    }
    if affinity.secure {
        attributes.push_str("; Secure");
    }
    Persistence {
        carrier: Carrier::Cookie,
        name: affinity.cookie_name.clone(),
        absolute_secs: None,
        idle_secs: None,
        permanent: false,
        cookie_attributes: Some(attributes.into_boxed_str()),
    }
}

/// Whether `cidrs` holds an address.
pub(crate) fn any_contains(cidrs: &[Cidr], addr: std::net::IpAddr) -> bool {
    cidrs.iter().any(|c| c.contains(addr))
}
