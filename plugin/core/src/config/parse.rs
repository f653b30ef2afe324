//! From configuration bytes to typed objects.
//!
//! Only bytes that are not a JSON object of the plugin configuration's shape are fatal
//! ([`ConfigError`]). Each entry of `resources` is read on its own, so one malformed object is
//! reported (with the exact field path) and skipped while the others still serve.
//!
//! Each resource is kept as its JSON text until it is read into its typed object, one at a time:
//! wasm memory never shrinks, so a peak holding every typed object beside the text would stay for
//! the VM's life. The reading itself is [`super::json`]'s.

use super::json::{field_prefix, from_json, from_json_bytes, At, FromJson, Json, JsonError};
use super::{
    Gateway, GrpcRoute, HttpRoute, ListenerSet, Namespace, PluginConfig, RawJson, ReferenceGrant,
    Service,
};
use crate::problem::Problem;

/// A configuration that cannot serve at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The bytes are not the JSON object the plugin expects.
    #[error("configuration: {}{message} (line {line}, column {column})", field_prefix(.path))]
    Json {
        /// Field path of the offending value; empty for the configuration as a whole.
        path: String,
        /// What is wrong, naming the offending value.
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

impl From<JsonError> for ConfigError {
    fn from(err: JsonError) -> Self {
        Self::Json {
            path: err.path,
            message: err.message,
            line: err.line,
            column: err.column,
        }
    }
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
        Ok(from_json_bytes(bytes)?)
    }

    /// Reads `resources` into typed objects, reporting and skipping what cannot be read.
    pub fn objects(&self, problems: &mut Vec<Problem>) -> Vec<Resource> {
        self.resources
            .iter()
            .enumerate()
            .filter_map(|(index, raw)| read_object(index, raw, problems))
            .collect()
    }
}

/// One resource, read twice: first leniently for what names it in messages, then into its type.
fn read_object(index: usize, raw: &RawJson, problems: &mut Vec<Problem>) -> Option<Resource> {
    let text = raw.get();
    let identity = Identity::read(text);
    let label = identity
        .label()
        .unwrap_or_else(|| format!("resources[{index}]"));
    let resource = match identity.kind.as_str() {
        "Gateway" => typed(text, &label, problems).map(Resource::Gateway),
        "HTTPRoute" => typed(text, &label, problems).map(Resource::HttpRoute),
        "GRPCRoute" => typed(text, &label, problems).map(Resource::GrpcRoute),
        "ReferenceGrant" => typed(text, &label, problems).map(Resource::ReferenceGrant),
        "Namespace" => typed(text, &label, problems).map(Resource::Namespace),
        "Service" | "ServiceImport" => typed(text, &label, problems).map(Resource::Service),
        "ListenerSet" => typed(text, &label, problems).map(Resource::ListenerSet),
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
        if identity.name.unwrap_or_default().is_empty() {
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

fn typed<T: FromJson>(text: &str, label: &str, problems: &mut Vec<Problem>) -> Option<T> {
    from_json(text)
        .map_err(|err| {
            problems.push(Problem::error(
                label,
                err.path,
                format!("{}; the object was skipped", err.message),
            ));
        })
        .ok()
}

/// What names an object in messages: its `kind`, `metadata.name` and `metadata.namespace`,
/// read from an object that may not be of its type (a value of the wrong type is left out here
/// and reported by the typed read).
#[derive(Default)]
struct Identity {
    kind: String,
    name: Option<String>,
    namespace: Option<String>,
}

impl Identity {
    fn read(text: &str) -> Self {
        let mut identity = Self::default();
        // The configuration's reader already checked the text's grammar, and only objects are
        // entered, so there is nothing to report: an object without a usable `kind` or
        // `metadata` keeps the defaults.
        let _ = Json::new(text).object(At::Root, &mut |json, key, at| {
            match key {
                "kind" => identity.kind = json.string_or_skip(at)?.unwrap_or_default(),
                "metadata" if json.next_is(b'{') => {
                    json.object(at, &mut |json, key, at| {
                        match key {
                            "name" => identity.name = json.string_or_skip(at)?,
                            "namespace" => identity.namespace = json.string_or_skip(at)?,
                            _ => {
                                json.skip(at)?;
                            }
                        }
                        Ok(())
                    })?;
                }
                _ => {
                    json.skip(at)?;
                }
            }
            Ok(())
        });
        identity
    }

    /// `Kind namespace/name`, or `None` without a name.
    fn label(&self) -> Option<String> {
        let name = self.name.as_deref()?;
        let namespace = self
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or("default");
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        };
        Some(format!("{kind} {namespace}/{name}"))
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
    fn malformed_json_reports_path_and_position() {
        let err = PluginConfig::parse(b"{\"gateway\": 3}")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "configuration: gateway: invalid type: integer `3`, expected a string (line 1, column 13)");
        let err = PluginConfig::parse(b"{\"target\": {\"mode\": [1]}}")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "configuration: target.mode: invalid type: sequence, expected a string (line 1, column 21)");
        let err = PluginConfig::parse(b"[1]").unwrap_err().to_string();
        assert_eq!(
            err,
            "configuration: invalid type: sequence, expected an object (line 1, column 1)"
        );
        let err = PluginConfig::parse(b"{\"resources\": [{\"kind\": \"Gateway\"}, {]}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "configuration: resources[1]: expected a key in double quotes, found ']' (line 1, column 38)"
        );
        let err = PluginConfig::parse(b"{\"gateway\": \"\xff\"}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "configuration: invalid UTF-8; the text must be UTF-8 (line 1, column 14)"
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
        assert_eq!(
            problems[0].to_string(),
            "HTTPRoute app/bad: spec.rules[0].backendRefs[0].port: invalid type: string \"eighty\", expected a non-negative integer; the object was skipped"
        );
        assert_eq!(
            problems[1].to_string(),
            "Deployment default/svc: kind: Deployment is not used by the filter; the object was skipped"
        );
    }
}
