//! From configuration bytes to typed objects.
//!
//! Only bytes that are not a JSON object at all are fatal ([`ConfigError`]). Each entry of
//! `resources` is read on its own, so one malformed object is reported (with the exact field
//! path) and skipped while the others still serve.
//!
//! Each resource is kept as its raw JSON text until it is read into its typed object: a
//! `serde_json::Value` tree of a large configuration takes about 20 times the JSON's size, and
//! wasm memory never shrinks, so that peak would stay for the VM's life. For the same reason the
//! top level is read by hand instead of with `#[serde(flatten)]`, which cannot carry raw values.
//!
//! Field paths come from `serde_path_to_error` under the default `field-paths` feature. The
//! filter turns it off to stay small: its messages then keep serde's own text, which names the
//! offending field or value, and the line and column, but not the path to it.

use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{
    Gateway, GrpcRoute, HttpRoute, ListenerSet, Namespace, PluginConfig, ReferenceGrant, Service,
};
use crate::problem::Problem;

/// A configuration that cannot serve at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The bytes are not the JSON object the plugin expects.
    #[error("configuration: {}{message} (line {line}, column {column})", field_prefix(.path))]
    Json {
        /// Field path where parsing stopped (`.` for the top level); empty without the
        /// `field-paths` feature.
        path: String,
        /// What serde_json reported.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// `target` names a mode or header the filter cannot use.
    #[error("configuration: target: {0}")]
    Target(String),
}

/// One Gateway API object the compiler uses.
#[derive(Clone, Debug)]
pub enum Resource {
    /// A Gateway.
    Gateway(Gateway),
    /// An HTTPRoute.
    HttpRoute(HttpRoute),
    /// A GRPCRoute.
    GrpcRoute(GrpcRoute),
    /// A ReferenceGrant.
    ReferenceGrant(ReferenceGrant),
    /// A Namespace (labels for selectors).
    Namespace(Namespace),
    /// A Service or ServiceImport (known backends, mesh parents).
    Service(Service),
    /// A ListenerSet (listeners added to a Gateway).
    ListenerSet(ListenerSet),
}

impl PluginConfig {
    /// Parses configuration bytes. Empty input is the empty configuration (no routes).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Json`] when the bytes are not a JSON object of the right shape.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        #[cfg(feature = "field-paths")]
        let parsed = serde_path_to_error::deserialize(de)
            .map_err(|err| (err.path().to_string(), err.into_inner()));
        #[cfg(not(feature = "field-paths"))]
        let parsed = serde::Deserialize::deserialize(de).map_err(|err| (String::new(), err));
        parsed.map_err(|(path, inner)| ConfigError::Json {
            path,
            message: strip_position(&inner.to_string()),
            line: inner.line(),
            column: inner.column(),
        })
    }

    /// Reads `resources` into typed objects, reporting and skipping what cannot be read.
    pub fn objects(&self, problems: &mut Vec<Problem>) -> Vec<Resource> {
        self.resources
            .iter()
            .enumerate()
            .filter_map(|(index, value)| read_object(index, value, problems))
            .collect()
    }
}

impl<'de> Deserialize<'de> for PluginConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TopLevel)
    }
}

/// Reads the top-level object field by field; unknown fields go to `unknown`.
struct TopLevel;

impl<'de> Visitor<'de> for TopLevel {
    type Value = PluginConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct PluginConfig")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PluginConfig, A::Error> {
        let mut config = PluginConfig::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "gateway" => config.gateway = map.next_value()?,
                "target" => config.target = map.next_value()?,
                "services" => config.services = map.next_value()?,
                "namespace" => config.namespace = map.next_value()?,
                "resources" => config.resources = map.next_value()?,
                _ => {
                    let value: Value = map.next_value()?;
                    config.unknown.insert(key, value);
                }
            }
        }
        Ok(config)
    }
}

/// One resource: its raw text becomes a `Value` only while it is read (it is valid JSON, so
/// that cannot fail), so only one object's tree is in memory at a time.
fn read_object(index: usize, raw: &RawValue, problems: &mut Vec<Problem>) -> Option<Resource> {
    let value: Value = serde_json::from_slice(raw.get().as_bytes()).unwrap_or_default();
    let value = &value;
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let metadata = value.get("metadata").unwrap_or(&Value::Null);
    let label = object_label(kind, metadata).unwrap_or_else(|| format!("resources[{index}]"));
    let resource = match kind {
        "Gateway" => typed(value, &label, problems).map(Resource::Gateway),
        "HTTPRoute" => typed(value, &label, problems).map(Resource::HttpRoute),
        "GRPCRoute" => typed(value, &label, problems).map(Resource::GrpcRoute),
        "ReferenceGrant" => typed(value, &label, problems).map(Resource::ReferenceGrant),
        "Namespace" => typed(value, &label, problems).map(Resource::Namespace),
        "Service" | "ServiceImport" => typed(value, &label, problems).map(Resource::Service),
        "ListenerSet" => typed(value, &label, problems).map(Resource::ListenerSet),
        "" => {
            problems.push(Problem::error(
                &label,
                "kind",
                "missing; the object was skipped",
            ));
            None
        }
        other => {
            problems.push(Problem::warning(
                &label,
                "kind",
                format!("{other} is not used by the filter; the object was skipped"),
            ));
            None
        }
    };
    if let Some(Resource::Gateway(_) | Resource::HttpRoute(_) | Resource::GrpcRoute(_)) = &resource
    {
        if metadata
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty()
        {
            problems.push(Problem::error(
                &label,
                "metadata.name",
                "missing; the object was skipped",
            ));
            return None;
        }
    }
    resource
}

fn typed<T: DeserializeOwned>(
    value: &Value,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    #[cfg(feature = "field-paths")]
    let parsed = serde_path_to_error::deserialize(value)
        .map_err(|err| (err.path().to_string(), err.into_inner()));
    #[cfg(not(feature = "field-paths"))]
    let parsed = T::deserialize(value).map_err(|err| (String::new(), err));
    parsed
        .map_err(|(path, err)| {
            problems.push(Problem::error(
                label,
                path,
                format!(
                    "{}; the object was skipped",
                    strip_position(&err.to_string())
                ),
            ));
        })
        .ok()
}

/// `path: `, or nothing when the path is unknown.
fn field_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// `Kind namespace/name` for messages, from an object that may not parse.
fn object_label(kind: &str, metadata: &Value) -> Option<String> {
    let name = metadata.get("name")?.as_str()?;
    let namespace = metadata
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|ns| !ns.is_empty())
        .unwrap_or("default");
    let kind = if kind.is_empty() { "object" } else { kind };
    Some(format!("{kind} {namespace}/{name}"))
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{PluginConfig, Resource};

    #[test]
    fn empty_configuration_has_no_routes() {
        let config = PluginConfig::parse(b"").unwrap();
        assert!(config.resources.is_empty());
        assert!(PluginConfig::parse(b"  \n").is_ok());
    }

    #[test]
    fn malformed_json_reports_position() {
        let err = PluginConfig::parse(b"{\"gateway\": 3}")
            .unwrap_err()
            .to_string();
        let (gateway, top) = if cfg!(feature = "field-paths") {
            ("gateway: ", ".: ")
        } else {
            ("", "")
        };
        assert_eq!(err, format!("configuration: {gateway}invalid type: integer `3`, expected a string (line 1, column 13)"));
        let err = PluginConfig::parse(b"[1]").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("configuration: {top}invalid type: sequence")),
            "{err}"
        );
    }

    #[test]
    fn a_bad_object_is_skipped_with_its_field_path() {
        let config = PluginConfig::parse(
            br#"{"resources": [
                {"kind": "HTTPRoute", "metadata": {"name": "bad", "namespace": "app"},
                 "spec": {"rules": [{"backendRefs": [{"name": "x", "port": "eighty"}]}]}},
                {"kind": "HTTPRoute", "metadata": {"name": "good", "namespace": "app"}},
                {"kind": "Deployment", "metadata": {"name": "svc"}}
            ]}"#,
        )
        .unwrap();
        let mut problems = Vec::new();
        let objects = config.objects(&mut problems);
        assert_eq!(objects.len(), 1);
        assert!(matches!(&objects[0], Resource::HttpRoute(r) if r.metadata.name == "good"));
        assert_eq!(problems.len(), 2);
        let path = if cfg!(feature = "field-paths") {
            "spec.rules[0].backendRefs[0].port: "
        } else {
            ""
        };
        assert_eq!(
            problems[0].to_string(),
            format!("HTTPRoute app/bad: {path}invalid type: string \"eighty\", expected a JSON number; the object was skipped")
        );
        assert_eq!(
            problems[1].to_string(),
            "Deployment default/svc: kind: Deployment is not used by the filter; the object was skipped"
        );
    }
}
