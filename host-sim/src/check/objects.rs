//! Reading manifests as written: an object's kind, name, namespace and fields, the objects of
//! each kind, where a parentRef points, and which listeners it selects.
//!
//! What the objects mean for routing is the core's compile; this file only looks things up.

use serde_json::Value;

use crate::manifests::Manifests;

/// The Gateway API group.
pub(super) const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// `kind`, or empty.
pub(super) fn kind(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// `metadata.name`, or empty.
pub(super) fn name(object: &Value) -> &str {
    str_at(object, "/metadata/name").unwrap_or("")
}

/// `metadata.namespace`, `default` when unset.
pub(super) fn namespace(object: &Value) -> &str {
    str_at(object, "/metadata/namespace")
        .filter(|ns| !ns.is_empty())
        .unwrap_or("default")
}

/// `namespace/name`.
pub(super) fn key(object: &Value) -> String {
    format!("{}/{}", namespace(object), name(object))
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped kinds, as problems name objects.
pub(super) fn label(object: &Value) -> String {
    match kind(object) {
        "GatewayClass" | "Namespace" => format!("{} {}", kind(object), name(object)),
        other => format!("{other} {}", key(object)),
    }
}

/// A string at a JSON pointer.
pub(super) fn str_at<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// An array at a JSON pointer, empty when absent.
pub(super) fn array_at<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The API group of an object, from its `apiVersion` (`""` for the core group).
pub(super) fn group(object: &Value) -> &str {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

pub(super) fn of_kind<'a>(
    objects: &'a [Value],
    wanted: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    objects.iter().filter(move |o| kind(o) == wanted)
}

/// HTTPRoutes and GRPCRoutes, in order.
pub(super) fn routes(manifests: &Manifests) -> impl Iterator<Item = &Value> + '_ {
    manifests
        .resources
        .iter()
        .filter(|o| matches!(kind(o), "HTTPRoute" | "GRPCRoute"))
}

/// Gateways, in order.
pub(super) fn gateways(manifests: &Manifests) -> impl Iterator<Item = &Value> + '_ {
    of_kind(&manifests.resources, "Gateway")
}

/// ListenerSets, in order.
pub(super) fn listener_sets(manifests: &Manifests) -> impl Iterator<Item = &Value> + '_ {
    of_kind(&manifests.resources, "ListenerSet")
}

/// A parentRef's group, kind and namespace, with the API defaults applied.
pub(super) fn parent_ref_target<'a>(
    parent: &'a Value,
    route_namespace: &'a str,
) -> (&'a str, &'a str, &'a str) {
    let group = parent
        .get("group")
        .and_then(Value::as_str)
        .unwrap_or(GATEWAY_GROUP);
    let kind = parent
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Gateway");
    let namespace = parent
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|ns| !ns.is_empty())
        .unwrap_or(route_namespace);
    (group, kind, namespace)
}

/// A listener and the Gateway it belongs to, as written.
#[derive(Debug)]
pub(super) struct ListenerRef<'a> {
    /// The Gateway.
    pub(super) gateway: &'a Value,
    /// Index in `spec.listeners`.
    pub(super) index: usize,
    /// The listener.
    pub(super) listener: &'a Value,
}

impl ListenerRef<'_> {
    /// `name`.
    pub(super) fn name(&self) -> &str {
        str_at(self.listener, "/name").unwrap_or("")
    }

    /// `port`.
    pub(super) fn port(&self) -> Option<u64> {
        self.listener
            .get("port")
            .and_then(Value::as_f64)
            .map(|p| p as u64)
    }
}

/// Listeners a parentRef selects: of the Gateway it names, by `sectionName` and `port`
/// (reference §8.1). Whether they accept the route is another matter.
pub(super) fn selected_listeners<'a>(
    manifests: &'a Manifests,
    route: &Value,
    parent: &Value,
) -> Vec<ListenerRef<'a>> {
    let (group, parent_kind, ns) = parent_ref_target(parent, namespace(route));
    if (group, parent_kind) != (GATEWAY_GROUP, "Gateway") {
        return Vec::new();
    }
    let Some(gateway) = gateways(manifests)
        .find(|g| namespace(g) == ns && Some(name(g)) == str_at(parent, "/name"))
    else {
        return Vec::new();
    };
    let section = str_at(parent, "/sectionName");
    let port = parent.get("port").and_then(Value::as_f64).map(|p| p as u64);
    array_at(gateway, "/spec/listeners")
        .iter()
        .enumerate()
        .map(|(index, listener)| ListenerRef {
            gateway,
            index,
            listener,
        })
        .filter(|l| {
            section.is_none_or(|s| s == l.name()) && port.is_none_or(|p| Some(p) == l.port())
        })
        .collect()
}
