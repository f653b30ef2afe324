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
    /// Every route that names a parent this proxy serves.
    pub routes: Vec<RouteStatus>,
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
        self.gateways.iter().all(|g| {
            g.conditions.iter().all(healthy)
                && g.listeners.iter().all(|l| l.conditions.iter().all(healthy))
        }) && self
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
}
