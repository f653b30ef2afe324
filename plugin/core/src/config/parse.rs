//! From configuration bytes to typed objects.
//!
//! Only bytes that are not a JSON object of the plugin configuration's shape are fatal
//! ([`ConfigError`]). Each entry of `resources` is read on its own, so one malformed object is
//! reported (with the exact field path) and skipped while the others still serve.
//!
//! Each resource is kept as its JSON text until it is read into its typed object, one at a time:
//! wasm memory never shrinks, so a peak holding every typed object beside the text would stay for
//! the VM's life. The reading itself is [`super::json`]'s.

use super::compact::Compact;
use super::json::{field_prefix, from_json, from_json_bytes, JsonError, Node};
use super::{
    ClusterSplit, Gateway, GrpcRoute, HttpRoute, Ingress, IngressClass, ListenerSet, Namespace,
    PluginConfig, RawJson, ReferenceGrant, Service, TrafficPolicy,
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
    /// A compact configuration (`compressed`) that cannot be expanded.
    #[error("configuration: {field}: {problem}")]
    Compact {
        /// The field of the compact form at fault.
        field: String,
        /// What is wrong, and how to fix it.
        problem: String,
    },
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

/// The configuration as it arrived: plain, or compact (the plain form compressed).
// The plain variant is large only where pointers are 64-bit, so the lint fires natively only.
#[cfg_attr(
    not(target_pointer_width = "32"),
    expect(
        clippy::large_enum_variant,
        reason = "one short-lived value per configuration, moved once"
    )
)]
enum Form {
    Plain(PluginConfig),
    Compact(Compact),
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
    /// A BackendTrafficPolicy or XBackendTrafficPolicy (retry, timeouts, sessions).
    TrafficPolicy(Box<TrafficPolicy>),
    /// gatewasm's ClusterSplit (a backend's share split across mesh clusters).
    ClusterSplit(ClusterSplit),
    /// A `networking.k8s.io/v1` Ingress.
    Ingress(Ingress),
    /// An IngressClass (which class is the default).
    IngressClass(IngressClass),
}

impl PluginConfig {
    /// Parses configuration bytes, plain JSON or its compact form ([`super::compact`]). Empty
    /// input is the empty configuration (no routes).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Json`] when the bytes (or those a compact form expands to) are not a JSON
    /// object of the right shape, [`ConfigError::Compact`] when a compact form cannot be expanded.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        // Resources (two levels down) stay text until `objects` reads them.
        let form = from_json_bytes(bytes, 2, |node| {
            if Compact::is_compact(node) {
                Form::Compact(Compact::read(node))
            } else {
                Form::Plain(Self::read(node))
            }
        })?;
        match form {
            Form::Plain(config) => Ok(config),
            Form::Compact(compact) => Ok(from_json_bytes(&compact.expand()?, 2, Self::read)?),
        }
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

/// One resource: parsed (its grammar was checked with the whole configuration), named for
/// messages, then read into its type.
fn read_object(index: usize, raw: &RawJson, problems: &mut Vec<Problem>) -> Option<Resource> {
    from_json(raw.get(), |root| read_resource(index, root, problems))
        .ok()
        .flatten()
}

fn read_resource(
    index: usize,
    root: Node<'_, '_>,
    problems: &mut Vec<Problem>,
) -> Option<Resource> {
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
    let metadata = root.get("metadata");
    let name = metadata.and_then(|m| m.get("name")).and_then(Node::as_str);
    let label = match name {
        Some(name) => {
            let namespace = metadata
                .and_then(|m| m.get("namespace"))
                .and_then(Node::as_str)
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default");
            let kind = if kind.is_empty() { "object" } else { kind };
            format!("{kind} {namespace}/{name}")
        }
        None => format!("resources[{index}]"),
    };
    let resource = match kind {
        "Gateway" => typed(root, Gateway::read, &label, problems).map(Resource::Gateway),
        "HTTPRoute" => typed(root, HttpRoute::read, &label, problems).map(Resource::HttpRoute),
        "GRPCRoute" => typed(root, GrpcRoute::read, &label, problems).map(Resource::GrpcRoute),
        "ReferenceGrant" => {
            typed(root, ReferenceGrant::read, &label, problems).map(Resource::ReferenceGrant)
        }
        "Namespace" => typed(root, Namespace::read, &label, problems).map(Resource::Namespace),
        "Service" | "ServiceImport" => {
            typed(root, Service::read, &label, problems).map(Resource::Service)
        }
        "ListenerSet" => {
            typed(root, ListenerSet::read, &label, problems).map(Resource::ListenerSet)
        }
        "BackendTrafficPolicy" => {
            let read = TrafficPolicy::read_envoy;
            typed(root, read, &label, problems).map(|p| Resource::TrafficPolicy(Box::new(p)))
        }
        "XBackendTrafficPolicy" => {
            let read = TrafficPolicy::read_backend;
            typed(root, read, &label, problems).map(|p| Resource::TrafficPolicy(Box::new(p)))
        }
        "ClusterSplit" => {
            typed(root, ClusterSplit::read, &label, problems).map(Resource::ClusterSplit)
        }
        "Ingress" => typed(root, Ingress::read, &label, problems).map(Resource::Ingress),
        "IngressClass" => {
            typed(root, IngressClass::read, &label, problems).map(Resource::IngressClass)
        }
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
    if let Some(
        Resource::Gateway(_)
        | Resource::HttpRoute(_)
        | Resource::GrpcRoute(_)
        | Resource::Ingress(_)
        | Resource::IngressClass(_),
    ) = &resource
    {
        if name.unwrap_or_default().is_empty() {
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

/// Reads `root` with `read`, or reports why it cannot be read.
fn typed<T>(
    root: Node<'_, '_>,
    read: fn(Node<'_, '_>) -> T,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    root.checked(read)
        .map_err(|err| {
            problems.push(Problem::error(
                label,
                err.path,
                format!("{}; the object was skipped", err.message),
            ));
        })
        .ok()
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
