//! Gateway API status, as the filter will act on the configuration: conditions per route
//! parent, per Gateway and per listener (reference §8, §10).
//!
//! The compiler fills these in while it attaches routes and compiles rules, so what
//! `host-sim check` reports is exactly what the filter does. Writing status back to a cluster is
//! a controller's job, not the filter's.

/// One condition, as `kubectl describe` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// `Accepted`, `ResolvedRefs`, `PartiallyInvalid`, `Conflicted` or `Programmed`.
    pub kind: &'static str,
    /// `True` or `False`.
    pub status: bool,
    /// The spec's reason, e.g. `NotAllowedByListeners`.
    pub reason: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl Condition {
    /// A condition that holds.
    pub(crate) fn yes(
        kind: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            status: true,
            reason,
            message: message.into(),
        }
    }

    /// A condition that does not hold.
    pub(crate) fn no(kind: &'static str, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: false,
            reason,
            message: message.into(),
        }
    }
}

/// Status of every object the configuration holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The Gateway this proxy implements (none in mesh mode).
    pub gateways: Vec<GatewayStatus>,
    /// The ListenerSets that name that Gateway, in merge order (oldest first).
    pub listener_sets: Vec<ListenerSetStatus>,
    /// Every route that names a parent this proxy serves.
    pub routes: Vec<RouteStatus>,
    /// Every BackendTrafficPolicy and XBackendTrafficPolicy, in configuration order.
    pub policies: Vec<PolicyStatus>,
}

/// A policy's status: one entry per target, as `PolicyAncestorStatus` lists them (GEP-713),
/// and the rules it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyStatus {
    /// `BackendTrafficPolicy` or `XBackendTrafficPolicy`.
    pub kind: &'static str,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Per `targetRefs[]` entry, in order.
    pub targets: Vec<PolicyTargetStatus>,
    /// `Kind ns/name rules[i]: what` for every rule the policy changed, or that kept its own
    /// settings against it.
    pub changed: Vec<String>,
}

/// A policy's `Accepted` condition on one target: `Accepted`, `Conflicted`, `TargetNotFound`
/// or `Invalid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyTargetStatus {
    /// `Kind ns/name`, with `sectionName` after a `#` when given.
    pub target: String,
    /// The `Accepted` condition.
    pub condition: Condition,
}

/// A Gateway's conditions and its listeners'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayStatus {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `Accepted`, `Programmed`.
    pub conditions: Vec<Condition>,
    /// In spec order.
    pub listeners: Vec<ListenerStatus>,
    /// ListenerSets the Gateway admitted (`attachedListenerSets`).
    pub attached_listener_sets: u32,
}

/// A ListenerSet's conditions and its listeners' (reference §8.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerSetStatus {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `Accepted`, `Programmed`.
    pub conditions: Vec<Condition>,
    /// In spec order; none when the Gateway does not admit the set.
    pub listeners: Vec<ListenerStatus>,
}

/// One listener's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerStatus {
    /// Listener name.
    pub name: String,
    /// Routes accepted on this listener.
    pub attached_routes: u32,
    /// Route kinds the listener admits.
    pub supported_kinds: Vec<String>,
    /// `Accepted`, `Conflicted`, `ResolvedRefs`, `Programmed`.
    pub conditions: Vec<Condition>,
}

impl ListenerStatus {
    /// Whether the filter routes this listener.
    pub fn programmed(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.kind == "Programmed" && c.status)
    }
}

/// A route's status, one entry per parentRef this proxy serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteStatus {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: &'static str,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Per parentRef.
    pub parents: Vec<ParentStatus>,
}

/// The conditions of one route on one parentRef.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentStatus {
    /// `Gateway ns/name` or `Service ns/name`.
    pub parent: String,
    /// The parentRef's `sectionName`.
    pub section_name: Option<String>,
    /// The parentRef's `port`.
    pub port: Option<u16>,
    /// `Accepted`, `ResolvedRefs`, and `PartiallyInvalid` when some rules were dropped.
    pub conditions: Vec<Condition>,
}

impl ParentStatus {
    /// Whether the route is accepted on this parent.
    pub fn accepted(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.kind == "Accepted" && c.status)
    }
}

impl Status {
    /// Whether every Gateway, listener and route parent is fully accepted and resolved.
    pub fn all_accepted(&self) -> bool {
        let healthy = |c: &Condition| match c.kind {
            "Conflicted" | "PartiallyInvalid" => !c.status,
            _ => c.status,
        };
        let listeners_healthy =
            |ls: &[ListenerStatus]| ls.iter().all(|l| l.conditions.iter().all(healthy));
        self.gateways
            .iter()
            .all(|g| g.conditions.iter().all(healthy) && listeners_healthy(&g.listeners))
            && self
                .listener_sets
                .iter()
                .all(|s| s.conditions.iter().all(healthy) && listeners_healthy(&s.listeners))
            && self
                .routes
                .iter()
                .all(|r| r.parents.iter().all(|p| p.conditions.iter().all(healthy)))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{Condition, Status};
    use crate::compile_bytes;

    fn status(resources: &str) -> Status {
        let config = format!(r#"{{"gateway": "infra/gw", "resources": [{resources}]}}"#);
        compile_bytes(config.as_bytes()).unwrap().status
    }

    const GATEWAY: &str = r#"{"kind": "Gateway", "metadata": {"name": "gw", "namespace": "infra"}, "spec": {"listeners": [
        {"name": "public", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}},
        {"name": "private", "port": 81, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"gateway-access": "true"}}}}},
        {"name": "raw", "port": 90, "protocol": "TCP"},
        {"name": "web", "port": 90, "protocol": "HTTP"}]}}"#;

    fn condition<'s>(conditions: &'s [Condition], kind: &str) -> Option<&'s Condition> {
        conditions.iter().find(|c| c.kind == kind)
    }

    #[test]
    fn route_conditions_follow_attachment_rules_and_backends() {
        let s = status(&format!(
            r#"{GATEWAY},
            {{"kind": "HTTPRoute", "metadata": {{"name": "private", "namespace": "app"}},
              "spec": {{"parentRefs": [{{"name": "gw", "namespace": "infra", "sectionName": "private"}}], "rules": [{{}}]}}}},
            {{"kind": "HTTPRoute", "metadata": {{"name": "mixed", "namespace": "app"}},
              "spec": {{"parentRefs": [{{"name": "gw", "namespace": "infra", "sectionName": "public"}}],
                       "rules": [{{"matches": [{{"path": {{"type": "Glob"}}}}]}},
                                 {{"backendRefs": [{{"name": "web", "port": 80, "kind": "Bucket", "group": "storage.example.com"}}]}}]}}}},
            {{"kind": "HTTPRoute", "metadata": {{"name": "elsewhere", "namespace": "app"}},
              "spec": {{"parentRefs": [{{"name": "other", "namespace": "infra"}}]}}}}"#
        ));
        assert_eq!(
            s.routes.len(),
            2,
            "routes of other parents have no status here"
        );
        let private = &s.routes[0].parents[0];
        let accepted = condition(&private.conditions, "Accepted").unwrap();
        assert_eq!(
            (accepted.status, accepted.reason),
            (false, "NotAllowedByListeners")
        );
        assert!(
            accepted
                .message
                .contains("namespaces labelled gateway-access=true"),
            "{}",
            accepted.message
        );

        let mixed = &s.routes[1].parents[0];
        assert!(mixed.accepted());
        let resolved = condition(&mixed.conditions, "ResolvedRefs").unwrap();
        assert_eq!((resolved.status, resolved.reason), (false, "InvalidKind"));
        let partial = condition(&mixed.conditions, "PartiallyInvalid").unwrap();
        assert_eq!(
            (partial.status, partial.message.as_str()),
            (true, "Dropped Rule(s): rules[0]")
        );
        assert!(!s.all_accepted());
    }

    #[test]
    fn listeners_report_conflicts_protocols_and_attached_routes() {
        let s = status(&format!(
            r#"{GATEWAY},
            {{"kind": "HTTPRoute", "metadata": {{"name": "a", "namespace": "app"}}, "spec": {{"parentRefs": [{{"name": "gw", "namespace": "infra"}}]}}}}"#
        ));
        let gateway = &s.gateways[0];
        assert_eq!(
            condition(&gateway.conditions, "Accepted").unwrap().reason,
            "ListenersNotValid"
        );
        let by_name = |name: &str| gateway.listeners.iter().find(|l| l.name == name).unwrap();
        assert_eq!(by_name("public").attached_routes, 1);
        assert_eq!(
            by_name("public").supported_kinds,
            ["HTTPRoute", "GRPCRoute"]
        );
        assert_eq!(by_name("private").attached_routes, 0);
        let conflicted = condition(&by_name("web").conditions, "Conflicted").unwrap();
        assert_eq!(
            (conflicted.status, conflicted.reason),
            (true, "ProtocolConflict")
        );
    }

    #[test]
    fn listener_sets_have_their_own_status_and_yield_to_the_gateway() {
        let s = status(
            r#"{"kind": "Gateway", "metadata": {"name": "gw", "namespace": "infra"}, "spec": {
                "allowedListeners": {"namespaces": {"from": "Same"}},
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}},
                              {"name": "http", "port": 81, "protocol": "HTTP"}]}},
            {"kind": "ListenerSet", "metadata": {"name": "extra", "namespace": "infra"}, "spec": {
                "parentRef": {"name": "gw"},
                "listeners": [{"name": "extra", "port": 8080, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}},
                              {"name": "clash", "port": 80, "protocol": "HTTP"}]}},
            {"kind": "ListenerSet", "metadata": {"name": "outsider", "namespace": "team"}, "spec": {
                "parentRef": {"name": "gw", "namespace": "infra"},
                "listeners": [{"name": "team", "port": 8081, "protocol": "HTTP"}]}},
            {"kind": "HTTPRoute", "metadata": {"name": "on-set", "namespace": "app"},
             "spec": {"parentRefs": [{"kind": "ListenerSet", "name": "extra", "namespace": "infra"}]}}"#,
        );
        let gateway = &s.gateways[0];
        assert_eq!(gateway.attached_listener_sets, 1);
        let names: Vec<&str> = gateway.listeners.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["http", "http"],
            "the Gateway lists only its own listeners"
        );
        assert!(gateway.listeners[0].programmed());
        let duplicate = condition(&gateway.listeners[1].conditions, "Accepted").unwrap();
        assert_eq!(
            (duplicate.status, duplicate.reason),
            (false, "UnsupportedValue")
        );
        assert!(
            duplicate
                .message
                .contains("already the name of spec.listeners[0]"),
            "{}",
            duplicate.message
        );

        let [extra, outsider] = s.listener_sets.as_slice() else {
            panic!("{:#?}", s.listener_sets);
        };
        assert_eq!(
            (extra.namespace.as_str(), extra.name.as_str()),
            ("infra", "extra")
        );
        let accepted = condition(&extra.conditions, "Accepted").unwrap();
        assert_eq!(
            (accepted.status, accepted.reason),
            (true, "ListenersNotValid")
        );
        assert_eq!(extra.listeners[0].name, "extra");
        assert_eq!(extra.listeners[0].attached_routes, 1);
        assert!(extra.listeners[0].programmed());
        let conflicted = condition(&extra.listeners[1].conditions, "Conflicted").unwrap();
        assert_eq!(
            (conflicted.status, conflicted.reason),
            (true, "HostnameConflict")
        );
        assert!(
            conflicted
                .message
                .contains("listener http of Gateway infra/gw"),
            "{}",
            conflicted.message
        );

        let refused = condition(&outsider.conditions, "Accepted").unwrap();
        assert_eq!((refused.status, refused.reason), (false, "NotAllowed"));
        assert!(
            refused.message.contains("namespace team is not allowed"),
            "{}",
            refused.message
        );
        assert!(outsider.listeners.is_empty());
        assert!(!s.all_accepted());
    }

    #[test]
    fn https_listeners_with_overlapping_hostnames_say_so() {
        // The spec's own example: A and C overlap, B overlaps nothing; port 8443 is another port.
        let https = |name: &str, port: u16, host: &str| {
            format!(
                r#"{{"name": "{name}", "port": {port}, "protocol": "HTTPS", "hostname": "{host}", "tls": {{"certificateRefs": [{{"name": "c"}}]}}}}"#
            )
        };
        let s = status(&format!(
            r#"{{"kind": "Gateway", "metadata": {{"name": "gw", "namespace": "infra"}}, "spec": {{"listeners": [{}, {}, {}, {}]}}}}"#,
            https("a", 443, "foo.example.com"),
            https("b", 443, "foo.example.org"),
            https("c", 443, "*.example.com"),
            https("d", 8443, "bar.example.com"),
        ));
        let overlap = |name: &str| {
            let listener = s.gateways[0]
                .listeners
                .iter()
                .find(|l| l.name == name)
                .unwrap();
            condition(&listener.conditions, "OverlappingTLSConfig")
                .map(|c| (c.status, c.reason, c.message.clone()))
        };
        assert_eq!(
            overlap("a"),
            Some((true, "OverlappingHostnames", String::from("serves foo.example.com and listener c serves *.example.com on the same HTTPS port 443 (OverlappingHostnames)")))
        );
        assert_eq!(overlap("c").map(|c| c.1), Some("OverlappingHostnames"));
        assert_eq!(overlap("b"), None, "negative polarity: absent, never False");
        assert_eq!(overlap("d"), None);
        assert!(s.all_accepted(), "a warning, not a failure");
    }
}
