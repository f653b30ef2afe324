//! Decisions: what the filter does with a request once the table has matched it.
//!
//! Reference §0 steps 4–6 and §5: no match answers 404; the chosen rule picks one backendRef by
//! weight (default 1, weight 0 never chosen); an invalid backend answers 500 for its share; a
//! rule without backends (or with only zero weights) answers 500 and never falls through. The
//! rule's RequestHeaderModifier runs first, then the chosen backend's own.
//!
//! gRPC requests (`content-type: application/grpc...`) and rules of a GRPCRoute get gRPC
//! replies instead (reference §7.5): HTTP 200 with `grpc-status` UNIMPLEMENTED (12) when nothing
//! matches, UNAVAILABLE (14) where HTTP would say 500.
//!
//! The random draw is an argument, so the core stays deterministic; the filter supplies it.

use crate::request::RequestView;
use crate::table::{RouteTable, Rule};

/// A backend the filter can send to, with its names precomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// `namespace/name:port`.
    pub key: String,
    /// Envoy cluster name (the `clusterHeader` value).
    pub cluster: String,
    /// Upstream `:authority` in `authority` mode.
    pub authority: String,
}

/// How the decision reaches Envoy's router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Set this header to the cluster name; a `cluster_header` route reads it.
    ClusterHeader(String),
    /// Rewrite `:authority` to the backend's, keeping the original in `x-forwarded-host`.
    Authority,
}

impl Default for Target {
    fn default() -> Self {
        Self::ClusterHeader(String::from(DEFAULT_CLUSTER_HEADER))
    }
}

/// The request header a `cluster_header` route reads unless configured otherwise.
pub const DEFAULT_CLUSTER_HEADER: &str = "x-gatewasm-cluster";

/// One compiled `RequestHeaderModifier` (or `ResponseHeaderModifier`): lowercase names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderEdits {
    /// Replace every value (or create).
    pub set: Vec<(String, String)>,
    /// Append a value.
    pub add: Vec<(String, String)>,
    /// Delete every value.
    pub remove: Vec<String>,
}

/// The route and rule a decision came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRef<'t> {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: &'static str,
    /// Route namespace.
    pub namespace: &'t str,
    /// Route name.
    pub name: &'t str,
    /// Index in `spec.rules`.
    pub index: usize,
    /// `spec.rules[].name`, when given.
    pub rule_name: Option<&'t str>,
}

/// A reply the filter sends itself instead of forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalReply {
    /// HTTP status.
    pub status: u16,
    /// Envoy response details (`%RESPONSE_CODE_DETAILS%`), no spaces.
    pub details: &'static str,
    /// gRPC status for gRPC requests (the HTTP status is then 200).
    pub grpc_status: Option<u8>,
}

/// gRPC status UNIMPLEMENTED: no route for this method.
pub const GRPC_UNIMPLEMENTED: u8 = 12;
/// gRPC status UNAVAILABLE: the chosen backend cannot be used.
pub const GRPC_UNAVAILABLE: u8 = 14;

impl LocalReply {
    /// Nothing matched: 404, or gRPC UNIMPLEMENTED.
    fn no_route(grpc: bool) -> Self {
        Self::new(grpc, 404, GRPC_UNIMPLEMENTED, "gatewasm_no_route")
    }

    /// The rule has no usable backend for this request: 500, or gRPC UNAVAILABLE.
    fn no_backend(grpc: bool) -> Self {
        Self::new(grpc, 500, GRPC_UNAVAILABLE, "gatewasm_no_valid_backend")
    }

    fn new(grpc: bool, http: u16, grpc_status: u8, details: &'static str) -> Self {
        if grpc {
            Self {
                status: 200,
                details,
                grpc_status: Some(grpc_status),
            }
        } else {
            Self {
                status: http,
                details,
                grpc_status: None,
            }
        }
    }
}

/// What to do with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<'t> {
    /// Send it upstream to `backend` after applying `request_headers`, in order.
    Forward {
        /// The chosen backend.
        backend: &'t Backend,
        /// Header edits: the rule's, then the backend's.
        request_headers: Vec<&'t HeaderEdits>,
    },
    /// Answer locally.
    Reply(LocalReply),
}

/// The outcome for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'t> {
    /// The rule that matched; `None` when nothing did.
    pub rule: Option<RuleRef<'t>>,
    /// What to do.
    pub action: Action<'t>,
}

impl RouteTable {
    /// Decides one request. `draw` is a uniformly random number used for the weighted choice.
    ///
    /// # Examples
    ///
    /// ```
    /// use gatewasm_core::{compile, Action, PluginConfig, RequestView};
    ///
    /// let config = PluginConfig::parse(br#"{"gateway": "infra/gw", "resources": [
    ///   {"kind": "Gateway", "metadata": {"name": "gw", "namespace": "infra"},
    ///    "spec": {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
    ///                            "allowedRoutes": {"namespaces": {"from": "All"}}}]}},
    ///   {"kind": "HTTPRoute", "metadata": {"name": "web", "namespace": "app"},
    ///    "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
    ///             "rules": [{"backendRefs": [{"name": "web", "port": 8080}]}]}}
    /// ]}"#)?;
    /// let table = compile(&config).table;
    /// let headers = vec![(":authority".to_owned(), b"example.com".to_vec()), (":path".to_owned(), b"/".to_vec())];
    /// let decision = table.decide(&RequestView::new(&headers, Some(80)), 0);
    /// let Action::Forward { backend, .. } = decision.action else { panic!("not forwarded") };
    /// assert_eq!(backend.cluster, "outbound|8080||web.app.svc.cluster.local");
    /// # Ok::<(), gatewasm_core::ConfigError>(())
    /// ```
    pub fn decide(&self, request: &RequestView<'_>, draw: u64) -> Decision<'_> {
        let Some(rule) = self
            .find(request)
            .and_then(|m| self.rules.get(m.rule as usize))
        else {
            let reply = LocalReply::no_route(request.is_grpc());
            return Decision {
                rule: None,
                action: Action::Reply(reply),
            };
        };
        let rule_ref = self.rule_ref(rule);
        let grpc = rule_ref.kind == "GRPCRoute" || request.is_grpc();
        Decision {
            rule: Some(rule_ref),
            action: self.rule_action(rule, draw, grpc),
        }
    }

    /// How the decision reaches the router.
    pub fn target(&self) -> &Target {
        &self.target
    }

    fn rule_ref<'t>(&'t self, rule: &'t Rule) -> RuleRef<'t> {
        let route = self.routes.get(rule.route as usize);
        RuleRef {
            kind: route.map_or("HTTPRoute", |r| r.kind),
            namespace: route.map_or("", |r| r.namespace.as_str()),
            name: route.map_or("", |r| r.name.as_str()),
            index: usize::from(rule.index),
            rule_name: rule.name.as_deref(),
        }
    }

    fn rule_action<'t>(&'t self, rule: &'t Rule, draw: u64, grpc: bool) -> Action<'t> {
        let no_backend = Action::Reply(LocalReply::no_backend(grpc));
        let total: u64 = rule.backends.iter().map(|b| u64::from(b.weight)).sum();
        if total == 0 {
            return no_backend;
        }
        let mut point = draw % total;
        let Some(chosen) = rule.backends.iter().find(|b| {
            let weight = u64::from(b.weight);
            if point < weight {
                return true;
            }
            point -= weight;
            false
        }) else {
            return no_backend;
        };
        let Some(backend) = chosen.backend.and_then(|id| self.backends.get(id as usize)) else {
            return no_backend;
        };
        let request_headers = rule
            .request_headers
            .iter()
            .chain(&chosen.request_headers)
            .collect();
        Action::Forward {
            backend,
            request_headers,
        }
    }
}
