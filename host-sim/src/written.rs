//! Objects as written, for the kinds the filter never reads (GatewayClasses, Secrets, Istio's,
//! Argo's and the multi-cluster API's objects) and for what the core's types leave out (fields
//! it does not know, annotations): an object's kind, name, namespace and fields.
//!
//! Gateway API objects are read through the core, in [`crate::objects`].

use serde_json::Value;

/// `kind`, or empty.
pub(crate) fn kind(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// `metadata.name`, or empty.
pub(crate) fn name(object: &Value) -> &str {
    str_at(object, "/metadata/name").unwrap_or("")
}

/// `metadata.namespace`, `default` when unset.
pub(crate) fn namespace(object: &Value) -> &str {
    str_at(object, "/metadata/namespace")
        .filter(|ns| !ns.is_empty())
        .unwrap_or("default")
}

/// `namespace/name`.
pub(crate) fn key(object: &Value) -> String {
    format!("{}/{}", namespace(object), name(object))
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped kinds, as problems name objects.
pub(crate) fn label(object: &Value) -> String {
    match kind(object) {
        "GatewayClass" | "Namespace" => format!("{} {}", kind(object), name(object)),
        other => format!("{other} {}", key(object)),
    }
}

/// A string at a JSON pointer.
pub(crate) fn str_at<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// An array at a JSON pointer, empty when absent.
pub(crate) fn array_at<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The API group of an object, from its `apiVersion` (`""` for the core group).
pub(crate) fn group(object: &Value) -> &str {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

pub(crate) fn of_kind<'a>(
    objects: &'a [Value],
    wanted: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    objects.iter().filter(move |o| kind(o) == wanted)
}
