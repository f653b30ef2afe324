//! The compiled route table: everything a request needs, built once per configuration.
//!
//! A request picks its listener (port, then Host, reference §2.4), walks that listener's
//! hostname buckets from most to least specific, and in each bucket finds the path's Exact node
//! or longest covering prefix by hash and walks pre-sorted candidates. Compilation lives in [`crate::compile`]; choosing a backend
//! and building the answer lives in [`crate::decide`].

mod host_index;
mod ingress_overlaps;
mod path_index;

pub(crate) use host_index::HostIndex;
pub(crate) use path_index::{Candidate, PathIndex, PathKey};

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::effect::{Backend, Target};
use crate::filters::Filters;
use crate::hostname::Hostname;
use crate::matcher::RequestMatcher;
use crate::request::RequestView;
use crate::session::Persistence;

/// A compiled configuration, ready to route requests. Immutable: a new configuration builds a
/// new table, and the filter swaps it in whole.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// By index; `None` where a Gateway listener is invalid.
    pub(crate) listeners: Vec<Option<ListenerTable>>,
    pub(crate) matches: Vec<CompiledMatch>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) routes: Vec<RouteInfo>,
    pub(crate) backends: Vec<Backend>,
    pub(crate) target: Target,
    /// Mesh mode: Service names (and ClusterIPs) → the scopes they reach. `None` for a Gateway.
    pub(crate) mesh: Option<BTreeMap<String, Vec<u32>>>,
    /// Some port has several HTTPS listeners (see [`RouteTable::needs_sni`]).
    pub(crate) https_ports_shared: bool,
    /// Some rule keeps sessions (see [`RouteTable::needs_time`]).
    pub(crate) keeps_sessions: bool,
    /// The one port every listener of a Gateway is on (see [`RouteTable::sole_port`]).
    pub(crate) sole_port: Option<u16>,
    /// Ingresses, consulted only for requests no Gateway API route takes.
    pub(crate) ingress: Option<Box<crate::ingress::IngressTable>>,
}

/// Why a request found no rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// No listener (or, in the mesh, no routed Service) owns the request.
    NoListener,
    /// A listener owns it but none of its rules match.
    NoRule,
    /// The TLS connection was made for one listener and the Host belongs to another
    /// (reference §2.5): answer 421.
    Misdirected,
}

/// One Gateway listener and the routes attached to it.
#[derive(Debug)]
pub(crate) struct ListenerTable {
    pub(crate) port: Option<u16>,
    pub(crate) hostname: Option<Hostname>,
    pub(crate) hosts: HostIndex,
}

/// One `matches[]` entry of one rule.
#[derive(Debug)]
pub(crate) struct CompiledMatch {
    pub(crate) matcher: RequestMatcher,
    pub(crate) rule: u32,
}

/// The route a rule came from, for reports.
#[derive(Debug)]
pub(crate) struct RouteInfo {
    pub(crate) kind: &'static str,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

/// One compiled rule: what happens once it is chosen.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) route: u32,
    pub(crate) index: u16,
    pub(crate) name: Option<String>,
    pub(crate) filters: Filters,
    pub(crate) backends: Vec<WeightedBackend>,
    /// `x-envoy-*` request headers for the rule's timeouts and retry policy.
    pub(crate) envoy_headers: Vec<(String, String)>,
    /// Session persistence (reference §6.3); boxed, as few rules have it.
    pub(crate) persistence: Option<Box<Persistence>>,
}

/// One `backendRefs[]` entry of a rule.
#[derive(Debug)]
pub(crate) struct WeightedBackend {
    pub(crate) weight: u32,
    /// Index into the table's backends; `None` when the reference is invalid (500 for its share).
    pub(crate) backend: Option<u32>,
    pub(crate) filters: Filters,
}

impl RouteTable {
    /// The listener that owns a request. For a Gateway: among listeners on its port, the exact
    /// hostname, then the most specific wildcard, then one without hostname (reference §2.4);
    /// when the port is unknown every listener is considered. In the mesh: the scope of the
    /// Service the Host names, on the destination port, else the Service's any-port scope.
    pub(crate) fn listener(&self, port: Option<u16>, host: &str) -> Option<&ListenerTable> {
        let listeners = self.listeners.iter().flatten();
        if let Some(names) = &self.mesh {
            let scopes = names
                .get(host)?
                .iter()
                .filter_map(|&i| self.listeners.get(i as usize)?.as_ref());
            return scopes
                .filter(|l| l.port.is_none() || l.port == port)
                .min_by_key(|l| l.port.is_none());
        }
        listeners
            .filter(|l| port.is_none() || l.port == port)
            .filter(|l| l.hostname.as_ref().is_none_or(|h| h.matches(host)))
            .min_by_key(|l| {
                Reverse(match &l.hostname {
                    Some(h @ Hostname::Exact(_)) => (2, h.len()),
                    Some(h) => (1, h.len()),
                    None => (0, 0),
                })
            })
    }

    /// The listener that owns a request, with misdirected-request detection for TLS: the SNI
    /// chooses the listener, and a Host that another listener owns more specifically (or that
    /// the SNI's listener does not serve) is misdirected (reference §2.5).
    fn owner(&self, request: &RequestView<'_>) -> Result<&ListenerTable, Miss> {
        let by_host = self.listener(request.port, &request.host);
        let by_sni = request
            .sni
            .as_deref()
            .filter(|_| self.mesh.is_none())
            .and_then(|sni| self.listener(request.port, sni));
        match (by_sni, by_host) {
            (None, by_host) => by_host.ok_or(Miss::NoListener),
            (Some(chosen), Some(owner)) if std::ptr::eq(chosen, owner) => Ok(chosen),
            (Some(_), Some(_)) => Err(Miss::Misdirected),
            (Some(_), None) => Err(Miss::NoListener),
        }
    }

    /// Whether requests need their SNI: some port has more than one HTTPS listener, so the
    /// SNI and the Host may choose different ones.
    pub fn needs_sni(&self) -> bool {
        self.mesh.is_none() && self.https_ports_shared
    }

    /// The port every request must have arrived on, when the configuration leaves no other:
    /// a Gateway whose listeners all share one port. The filter runs only on that Gateway's
    /// listeners, so it can skip asking the host (`destination.port`); in the mesh, or with
    /// several ports, this is `None` and the port must be read.
    pub fn sole_port(&self) -> Option<u16> {
        self.sole_port
    }

    /// Whether requests need the time (`RequestView::now`): some rule keeps sessions.
    pub fn needs_time(&self) -> bool {
        self.keeps_sessions || self.ingress.as_ref().is_some_and(|i| i.keeps_sessions)
    }

    /// Whether requests need the client address (`RequestView::client`): some Ingress has
    /// source ranges.
    pub fn needs_client_address(&self) -> bool {
        self.ingress.as_ref().is_some_and(|i| i.needs_client())
    }

    /// Whether this is a mesh table (requests to unknown Services pass untouched).
    pub(crate) fn is_mesh(&self) -> bool {
        self.mesh.is_some()
    }

    /// The winning match for a request: listener, then hostname buckets, then paths.
    pub(crate) fn find(&self, request: &RequestView<'_>) -> Result<&CompiledMatch, Miss> {
        let listener = self.owner(request)?;
        let path = String::from_utf8_lossy(request.path);
        listener
            .hosts
            .buckets(&request.host)
            .find_map(|bucket| {
                bucket
                    .find(&path, |c| {
                        self.matches
                            .get(c.matcher as usize)
                            .is_some_and(|m| m.matcher.matches_after_path_index(request))
                    })
                    .and_then(|c| self.matches.get(c.matcher as usize))
            })
            .ok_or(Miss::NoRule)
    }

    /// Number of compiled rules, for reports.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Number of routes served: HTTPRoutes and GRPCRoutes with a rule in the table, and
    /// Ingresses.
    pub fn route_count(&self) -> usize {
        self.routes.len() + self.ingress.as_ref().map_or(0, |i| i.ingresses.len())
    }

    /// Every backend some rule can send to, each once, in the order first referenced.
    pub fn backends(&self) -> &[Backend] {
        &self.backends
    }
}
