//! Where an Istio sidecar's router sends an outbound request after the filter, as istiod builds
//! its routes (pilot/pkg/networking/core/httproute.go), so a case can pin where a decision
//! really lands.
//!
//! Istio serves a Service port whose protocol is declared HTTP (`appProtocol`, or a name like
//! `http-web`) with the route configuration shared by every Service on that port number: one
//! virtual host per Service listening on it, ports ignored in host matching
//! (`ignore_port_in_host_matching`), then a catch-all: `allow_any` to `PassthroughCluster` (the
//! original destination) under `outboundTrafficPolicy: ALLOW_ANY`, `block_all` (502) under
//! `REGISTRY_ONLY`. A port whose protocol is sniffed gets a route configuration of its own,
//! `<fqdn>:<port>`, whose only virtual host (domain `*`) is the dialled Service. With the
//! sidecar route patch that `config --format istio` writes in `clusterHeader` mode, the first
//! route of every virtual host sends a request carrying the decision header to the cluster it
//! names.
//!
//! A `Sidecar` with `egress` hosts narrows what the workload's sidecar knows: a Service outside
//! them has no cluster and no virtual host there, so a call to it takes the catch-all, and a
//! decision header naming its cluster gets Envoy's 503 for a cluster that does not exist. The
//! Sidecar that applies is the workload namespace's one without a `workloadSelector`, else the
//! root namespace's (`istio-system`); Sidecars that select workloads by label are not applied
//! (a case names a namespace, not a workload). VirtualServices are not modelled.

use serde_json::Value as Json;

use crate::envoy::HttpRequest;
use crate::observe::Observed;
use crate::protocol::Protocols;
use crate::written::{self, array_at};

/// Istio's root namespace, whose selector-less `Sidecar` is every namespace's default.
const ROOT_NAMESPACE: &str = "istio-system";

/// What the router answers for a decision header naming a cluster the sidecar does not have.
const NO_CLUSTER: &str = "cluster not found (503)";

/// What Istio does with outbound requests for hosts it does not know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutboundPolicy {
    /// `ALLOW_ANY` (Istio's default): on to the original destination.
    #[default]
    AllowAny,
    /// `REGISTRY_ONLY`: 502.
    RegistryOnly,
}

/// One Service as a sidecar knows it.
#[derive(Clone, Debug)]
struct Known {
    namespace: String,
    name: String,
    cluster_ip: Option<String>,
    /// Port, and whether its protocol is declared HTTP.
    ports: Vec<(u16, bool)>,
}

/// The outbound routes of one sidecar.
#[derive(Clone, Debug, Default)]
pub struct SidecarRoutes {
    services: Vec<Known>,
    /// The workload's namespace: bare Service names resolve in it.
    namespace: Option<String>,
    policy: OutboundPolicy,
    /// A `Sidecar`'s egress hosts apply: only `services` have clusters.
    scoped: bool,
}

impl SidecarRoutes {
    /// Reads the Service objects among `resources`, and the `Sidecar` among `others` that
    /// applies to the workload's namespace.
    pub fn new(
        (resources, others): (&[Json], &[Json]),
        protocols: &Protocols,
        namespace: Option<&str>,
        policy: OutboundPolicy,
    ) -> Self {
        let scope = namespace.and_then(|ns| sidecar_for(others, ns));
        let services = resources
            .iter()
            .filter(|o| o.get("kind").and_then(Json::as_str) == Some("Service"))
            .filter(|o| {
                scope.is_none_or(|s| egress_admits(s, written::namespace(o), written::name(o)))
            })
            .map(|o| {
                let namespace = written::namespace(o).to_owned();
                let name = o
                    .pointer("/metadata/name")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let ports = o
                    .pointer("/spec/ports")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| u16::try_from(p.get("port")?.as_u64()?).ok())
                    .map(|port| {
                        let key = format!("{namespace}/{name}:{port}");
                        (port, protocols.http_declared(&key).unwrap_or(false))
                    })
                    .collect();
                let cluster_ip = o
                    .pointer("/spec/clusterIP")
                    .and_then(Json::as_str)
                    .filter(|ip| !ip.is_empty() && *ip != "None")
                    .map(str::to_owned);
                Known {
                    namespace,
                    name,
                    cluster_ip,
                    ports,
                }
            })
            .collect();
        Self {
            services,
            namespace: namespace.map(str::to_owned),
            policy,
            scoped: scope.is_some(),
        }
    }

    /// Where a forwarded request goes: the cluster (or catch-all) for the authority the caller
    /// dialled on the request's destination port, after the filter's changes in `observed`.
    pub fn route_observed(&self, request: &HttpRequest, observed: &Observed) -> Option<String> {
        let upstream = observed.upstream.as_ref()?;
        let dialled = request
            .headers
            .iter()
            .find(|(n, _)| n == ":authority")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())?;
        let port = request.destination_port?;
        let authority = upstream.get(":authority").map_or("", String::as_str);
        Some(self.route(
            host_of(&dialled),
            port,
            authority,
            observed.cluster.as_deref(),
        ))
    }

    /// The cluster (or catch-all) Envoy's router picks for a request the caller addressed to
    /// `dialled_host` on `port`, whose upstream `:authority` is `authority` and whose decision
    /// header (sidecar route patch) is `decision`.
    pub fn route(
        &self,
        dialled_host: &str,
        port: u16,
        authority: &str,
        decision: Option<&str>,
    ) -> String {
        if let Some(cluster) = decision {
            if self.scoped && !self.has_cluster(cluster) {
                return NO_CLUSTER.to_owned();
            }
            return cluster.to_owned();
        }
        let Some(dialled) = self.resolve(dialled_host) else {
            return self.catch_all();
        };
        match dialled.ports.iter().find(|(p, _)| *p == port) {
            // A sniffed port: the route configuration's one virtual host is the dialled Service.
            Some((_, false)) => return cluster(dialled, port),
            Some((_, true)) => {}
            None => return self.catch_all(),
        }
        match self
            .resolve(host_of(authority))
            .filter(|s| s.ports.iter().any(|(p, _)| *p == port))
        {
            Some(target) => cluster(target, port),
            None => self.catch_all(),
        }
    }

    /// The Service a host names: `name.ns`, `name.ns.svc`, the FQDN, the ClusterIP, or the bare
    /// name in the workload's namespace.
    fn resolve(&self, host: &str) -> Option<&Known> {
        let host = host.to_ascii_lowercase();
        self.services.iter().find(|s| {
            let (ns, name) = (s.namespace.as_str(), s.name.as_str());
            host == format!("{name}.{ns}")
                || host == format!("{name}.{ns}.svc")
                || host == format!("{name}.{ns}.svc.cluster.local")
                || s.cluster_ip.as_deref() == Some(host.as_str())
                || (host == name && self.namespace.as_deref().is_none_or(|own| own == ns))
        })
    }

    /// Whether the sidecar has `cluster` (`outbound|PORT|SUBSET|FQDN`): a port of a Service
    /// it knows.
    fn has_cluster(&self, cluster: &str) -> bool {
        let mut parts = cluster.split('|');
        let (Some("outbound"), Some(port), Some(_subset), Some(fqdn), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return false;
        };
        self.resolve(fqdn)
            .is_some_and(|s| s.ports.iter().any(|(p, _)| p.to_string() == port))
    }

    fn catch_all(&self) -> String {
        match self.policy {
            OutboundPolicy::AllowAny => "PassthroughCluster".to_owned(),
            OutboundPolicy::RegistryOnly => "block_all (502)".to_owned(),
        }
    }
}

/// The `Sidecar` with `egress` hosts that applies to the workloads of `namespace`: the
/// namespace's own without a `workloadSelector`, else the root namespace's.
fn sidecar_for<'a>(others: &'a [Json], namespace: &str) -> Option<&'a Json> {
    let namespace_wide = |ns: &str| {
        others.iter().find(|o| {
            written::kind(o) == "Sidecar"
                && written::namespace(o) == ns
                && o.pointer("/spec/workloadSelector").is_none()
        })
    };
    namespace_wide(namespace)
        .or_else(|| namespace_wide(ROOT_NAMESPACE))
        .filter(|s| s.pointer("/spec/egress").is_some())
}

/// Whether some `egress[].hosts` entry of `sidecar` (`namespace/dnsName`; `.` the Sidecar's
/// namespace, `*` any, `~` none; `*` or `*.suffix` wildcards) admits the Service.
pub(crate) fn egress_admits(sidecar: &Json, service_ns: &str, service: &str) -> bool {
    let own = written::namespace(sidecar);
    let fqdn = format!("{service}.{service_ns}.svc.cluster.local");
    array_at(sidecar, "/spec/egress")
        .iter()
        .flat_map(|e| array_at(e, "/hosts"))
        .filter_map(Json::as_str)
        .any(|entry| {
            let (ns, host) = entry.split_once('/').unwrap_or(("*", entry));
            let ns_ok = match ns {
                "*" => true,
                "." => own == service_ns,
                "~" => false,
                other => other == service_ns,
            };
            let host_ok = host == "*"
                || host == fqdn
                || host
                    .strip_prefix('*')
                    .is_some_and(|suffix| fqdn.ends_with(suffix));
            ns_ok && host_ok
        })
}

fn cluster(service: &Known, port: u16) -> String {
    format!(
        "outbound|{port}||{}.{}.svc.cluster.local",
        service.name, service.namespace
    )
}

/// A `host[:port]` authority's host (IPv6 brackets kept off).
pub(crate) fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::{OutboundPolicy, SidecarRoutes};
    use crate::protocol::Protocols;

    fn routes(policy: OutboundPolicy) -> SidecarRoutes {
        let mut m = crate::manifests::Manifests::default();
        m.add_yaml("kind: Service\nmetadata: {name: api, namespace: app}\nspec: {ports: [{name: http, port: 8080}]}\n---\nkind: Service\nmetadata: {name: v2, namespace: app}\nspec: {ports: [{name: http, port: 9090}]}\n---\nkind: Service\nmetadata: {name: both, namespace: app}\nspec: {ports: [{name: http, port: 8080}, {name: http-alt, port: 9090}]}\n---\nkind: Service\nmetadata: {name: raw, namespace: app}\nspec: {ports: [{port: 8080}]}\n").unwrap();
        let protocols = Protocols::new(&m.resources);
        SidecarRoutes::new((&m.resources, &m.others), &protocols, Some("app"), policy)
    }

    #[test]
    fn the_dialled_port_decides_the_virtual_hosts() {
        let r = routes(OutboundPolicy::AllowAny);
        let via = |host: &str, authority: &str| r.route(host, 8080, authority, None);
        assert_eq!(
            via("api", "both.app.svc.cluster.local:8080"),
            "outbound|8080||both.app.svc.cluster.local"
        );
        assert_eq!(
            via("api", "v2.app.svc.cluster.local:9090"),
            "PassthroughCluster"
        );
        assert_eq!(
            via("api", "both.app.svc.cluster.local:9090"),
            "outbound|8080||both.app.svc.cluster.local",
            "ports are ignored in host matching"
        );
        assert_eq!(
            via("raw.app", "api.app.svc.cluster.local:8080"),
            "outbound|8080||raw.app.svc.cluster.local",
            "a sniffed port has one virtual host"
        );
        assert_eq!(
            r.route(
                "api",
                8080,
                "v2:9090",
                Some("outbound|9090||v2.app.svc.cluster.local")
            ),
            "outbound|9090||v2.app.svc.cluster.local"
        );
        let strict = routes(OutboundPolicy::RegistryOnly);
        assert_eq!(
            strict.route("api", 8080, "v2.app:9090", None),
            "block_all (502)"
        );
    }
}
