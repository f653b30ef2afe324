//! Decisions: what the filter does with a request once the table has matched it.
//!
//! Reference §0 steps 4–6, §4 and §5. No match answers 404. A matched rule runs its filters:
//! an unresolvable `ExtensionRef` answers 500, a CORS preflight is answered here, a
//! `RequestRedirect` answers with `Location`. Otherwise one backendRef is picked by weight
//! (default 1, weight 0 never chosen); an invalid backend answers 500 for its share, and a rule
//! without backends (or with only zero weights) answers 500 and never falls through. The
//! chosen backend's own filters run after the rule's: header edits in that order, a backend
//! rewrite field overrides the rule's, mirrors add up.
//!
//! gRPC requests (`content-type: application/grpc...`) and rules of a GRPCRoute get gRPC
//! replies instead (reference §7.5): HTTP 200 with `grpc-status` UNIMPLEMENTED (12) when nothing
//! matches, UNAVAILABLE (14) where HTTP would say 500.
//!
//! In the mesh, a request to a Service no route is attached to passes untouched. A TLS request
//! whose Host belongs to another listener than its SNI's answers 421 (reference §2.5).
//!
//! A rule with session persistence sends a client back to the backend its token names
//! (reference §6.3).
//!
//! A rule with `ExternalAuth` (reference §4.8) puts an auth step on its forward decision: the
//! filter makes the check before any of the decision's edits, mirrors or routing take effect,
//! and carries the decision out only if the server allows it. Replies the configuration itself
//! dictates (ExtensionRef, CORS preflight, redirect, invalid backend) send nothing upstream and
//! go out without a check; a rule whose authorization server cannot be resolved answers 403.
//!
//! The random draw is an argument, so the core stays deterministic; the filter supplies it.
//! Mirror percentages use draws derived from it.

use crate::auth::{AuthCheck, UNRESOLVED};
use crate::decision::{Action, Decision, Forward, RuleRef};
use crate::effect::{LocalReply, Target, GRPC_UNAVAILABLE, GRPC_UNIMPLEMENTED};
use crate::filters::{Cors, Filters, PathModifier};
use crate::request::RequestView;
use crate::session::backend_hash;
use crate::splitmix::SplitMix64;
use crate::table::{Miss, RouteTable, Rule, WeightedBackend};

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
    /// let table = compile(&config)?.table;
    /// let headers: [(&str, &[u8]); 2] = [(":authority", b"example.com"), (":path", b"/")];
    /// let decision = table.decide(&RequestView::new(&headers, Some(80)), 0);
    /// assert!(matches!(decision.action,
    ///     Action::Forward(f) if f.backend.cluster == "outbound|8080||web.app.svc.cluster.local"));
    /// # Ok::<(), gatewasm_core::ConfigError>(())
    /// ```
    pub fn decide(&self, request: &RequestView<'_>, draw: u64) -> Decision<'_> {
        let found = self.find(request).map(|m| self.rules.get(m.rule as usize));
        let Ok(Some(rule)) = found else {
            if let (Some(ingress), Err(Miss::NoListener | Miss::NoRule)) = (&self.ingress, found) {
                return ingress.decide(&self.backends, request, draw);
            }
            let (status, details) = match found {
                Err(Miss::NoListener) if self.is_mesh() => {
                    return Decision {
                        rule: None,
                        action: Action::Pass,
                    }
                }
                Err(Miss::Misdirected) => (421, "gatewasm_misdirected_request"),
                _ => (404, "gatewasm_no_route"),
            };
            let reply = LocalReply::error(request.is_grpc(), status, GRPC_UNIMPLEMENTED, details);
            return Decision {
                rule: None,
                action: Action::Reply(reply),
            };
        };
        let rule_ref = self.rule_ref(rule);
        let grpc = rule_ref.kind == "GRPCRoute" || request.is_grpc();
        Decision {
            rule: Some(rule_ref),
            action: self.rule_action(rule, request, draw, grpc),
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

    fn rule_action<'t>(
        &'t self,
        rule: &'t Rule,
        request: &RequestView<'_>,
        draw: u64,
        grpc: bool,
    ) -> Action<'t> {
        if let Some(reply) = answer_locally(&rule.filters, request, grpc) {
            return Action::Reply(reply);
        }
        let auth = match &rule.filters.auth {
            None => None,
            Some(auth) => match auth.backend.and_then(|id| self.backends.get(id as usize)) {
                Some(server) => Some(AuthCheck::new(auth, server)),
                None => return Action::Reply(LocalReply::new(403, UNRESOLVED)),
            },
        };
        let no_backend = || {
            Action::Reply(LocalReply::error(
                grpc,
                500,
                GRPC_UNAVAILABLE,
                "gatewasm_no_valid_backend",
            ))
        };
        // A client with a live session keeps its backend while that backend still takes traffic.
        let session = rule.persistence.as_ref().and_then(|p| p.session(request));
        let pinned = session.and_then(|s| {
            rule.backends.iter().find(|b| {
                b.weight > 0
                    && b.backend
                        .and_then(|id| self.backends.get(id as usize))
                        .is_some_and(|be| backend_hash(&be.key) == s.backend)
            })
        });
        let Some(chosen) = pinned.or_else(|| pick(&rule.backends, draw)) else {
            return no_backend();
        };
        let Some(backend) = chosen.backend.and_then(|id| self.backends.get(id as usize)) else {
            return no_backend();
        };
        if let Some(reply) = answer_locally(&chosen.filters, request, grpc) {
            return Action::Reply(reply);
        }
        let (rule_filters, backend_filters) = (&rule.filters, &chosen.filters);
        let both = [rule_filters, backend_filters];
        let rewrite = |field: fn(&Filters) -> Option<&PathModifier>| {
            field(backend_filters).or_else(|| field(rule_filters))
        };
        let path = rewrite(|f| f.rewrite.as_ref().and_then(|r| r.path.as_ref())).map(|modifier| {
            let path = modifier.apply(&String::from_utf8_lossy(request.path));
            match request.query {
                [] => path,
                query => format!("{path}?{}", String::from_utf8_lossy(query)),
            }
        });
        let authority = [backend_filters, rule_filters]
            .iter()
            .find_map(|f| f.rewrite.as_ref().and_then(|r| r.hostname.as_deref()));
        let mirrors = both
            .iter()
            .flat_map(|f| &f.mirrors)
            .enumerate()
            .filter(|(i, m)| {
                mix(draw, *i as u64) % u64::from(m.denominator) < u64::from(m.numerator)
            })
            .filter_map(|(_, m)| self.backends.get(m.backend as usize))
            .collect();
        let cors = [backend_filters, rule_filters]
            .iter()
            .find_map(|f| f.cors.as_ref())
            .and_then(|c| c.response_headers(request));
        let session = rule.persistence.as_ref().map(|p| {
            p.response_headers(
                &backend.key,
                pinned.and(session).map(|s| s.issued),
                request.now,
            )
        });
        Action::Forward(Forward {
            auth,
            backend,
            request_headers: both
                .iter()
                .filter_map(|f| f.request_headers.as_deref())
                .collect(),
            envoy_headers: &rule.envoy_headers,
            authority,
            path,
            mirrors,
            response_headers: both
                .iter()
                .filter_map(|f| f.response_headers.as_deref())
                .collect(),
            generated_response_headers: cors.into_iter().chain(session).collect(),
        })
    }
}

/// The replies a filters list gives instead of forwarding: unresolvable extension, CORS
/// preflight, redirect — in that order.
fn answer_locally(filters: &Filters, request: &RequestView<'_>, grpc: bool) -> Option<LocalReply> {
    if filters.unresolved_extension {
        return Some(LocalReply::error(
            grpc,
            500,
            GRPC_UNAVAILABLE,
            "gatewasm_unresolved_extension_ref",
        ));
    }
    if let Some(cors) = filters
        .cors
        .as_ref()
        .filter(|_| Cors::is_preflight(request))
    {
        return Some(LocalReply {
            headers: cors.preflight_headers(request),
            ..LocalReply::new(200, "gatewasm_cors_preflight")
        });
    }
    filters.redirect.as_ref().map(|redirect| LocalReply {
        headers: vec![(String::from("location"), redirect.location(request))],
        ..LocalReply::new(redirect.status, "gatewasm_redirect")
    })
}

/// The backendRef a draw lands on, each getting `weight / Σweight` of the draws.
fn pick(backends: &[WeightedBackend], draw: u64) -> Option<&WeightedBackend> {
    let total: u64 = backends.iter().map(|b| u64::from(b.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut point = draw % total;
    backends.iter().find(|b| {
        let weight = u64::from(b.weight);
        if point < weight {
            return true;
        }
        point -= weight;
        false
    })
}

/// A further draw derived from `draw`, independent of the weighted pick.
fn mix(draw: u64, salt: u64) -> u64 {
    SplitMix64::mix(draw ^ salt.wrapping_add(1).wrapping_mul(SplitMix64::GAMMA))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::Action;
    use crate::{compile_bytes, RequestView};

    /// A table with one route on `gw`'s port-80 listener holding `rules` (JSON).
    fn table(rules: &str) -> crate::RouteTable {
        let config = format!(
            r#"{{"gateway": "infra/gw", "resources": [
              {{"kind": "Gateway", "metadata": {{"name": "gw", "namespace": "infra"}},
                "spec": {{"listeners": [{{"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {{"namespaces": {{"from": "All"}}}}}}]}}}},
              {{"kind": "HTTPRoute", "metadata": {{"name": "r", "namespace": "app"}},
                "spec": {{"parentRefs": [{{"name": "gw", "namespace": "infra"}}], "rules": {rules}}}}}]}}"#
        );
        let compiled = compile_bytes(config.as_bytes()).unwrap();
        assert!(compiled.problems.is_empty(), "{:?}", compiled.problems);
        compiled.table
    }

    fn headers(path: &str) -> Vec<(&'static str, &[u8])> {
        vec![
            (":authority", b"example.com"),
            (":path", path.as_bytes()),
            (":scheme", b"http"),
        ]
    }

    #[test]
    fn mirrors_follow_their_share() {
        let t = table(
            r#"[{"filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "all", "port": 80}}},
                             {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "none", "port": 80}, "percent": 0}}],
                 "backendRefs": [{"name": "web", "port": 80}]}]"#,
        );
        let h = headers("/");
        for draw in 0..50 {
            let Action::Forward(f) = t.decide(&RequestView::new(&h, Some(80)), draw).action else {
                panic!("not forwarded")
            };
            let mirrored: Vec<&str> = f.mirrors.iter().map(|b| b.key.as_str()).collect();
            assert_eq!(mirrored, ["app/all:80"]);
        }
    }

    #[test]
    fn redirect_and_rewrite_shape_the_request() {
        let t = table(
            r#"[{"matches": [{"path": {"value": "/old"}}],
                 "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/new"}}}]},
                {"matches": [{"path": {"value": "/api"}}],
                 "filters": [{"type": "URLRewrite", "urlRewrite": {"hostname": "internal", "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                 "backendRefs": [{"name": "web", "port": 80}]}]"#,
        );
        let h = headers("/old/x?q=1");
        let Action::Reply(reply) = t.decide(&RequestView::new(&h, Some(80)), 0).action else {
            panic!("not a reply")
        };
        assert_eq!(reply.status, 302);
        assert_eq!(
            reply.headers,
            [(
                "location".to_owned(),
                "https://example.com/new/x?q=1".to_owned()
            )]
        );
        let h = headers("/api/v1?q=1");
        let Action::Forward(f) = t.decide(&RequestView::new(&h, Some(80)), 0).action else {
            panic!("not forwarded")
        };
        assert_eq!(f.path.as_deref(), Some("/v1?q=1"));
        assert_eq!(f.authority, Some("internal"));
    }
}

#[cfg(test)]
mod empty_configuration {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::Action;
    use crate::{compile_bytes, RequestView};

    #[test]
    fn routes_nothing() {
        let table = compile_bytes(b"").unwrap().table;
        let headers: [(&str, &[u8]); 2] = [(":authority", b"example.com"), (":path", b"/")];
        let decision = table.decide(&RequestView::new(&headers, Some(80)), 0);
        assert!(
            matches!(decision.action, Action::Reply(ref r) if r.status == 404),
            "{decision:?}"
        );
    }
}
