//! How Envoy verifies a TLS backend: from a BackendTLSPolicy that targets its Service (reference
//! §5: the policy names the hostname to check and the CA), or from `--upstream-ca`. A backend
//! that speaks TLS with neither gets no TLS context and a note saying why, never an
//! unverified connection.
//!
//! Which backends speak TLS is `protocol`'s question; the cluster itself is built in `envoy`.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::written;

/// Where the system's CA bundle is in Envoy's official images, for `wellKnownCACertificates:
/// System`.
const SYSTEM_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How to verify one backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Verification {
    /// SNI sent, and the DNS name the certificate must carry.
    pub(super) hostname: String,
    /// Further names the certificate may carry instead.
    pub(super) subject_alt_names: Vec<String>,
    /// A PEM bundle of trusted CAs.
    pub(super) ca_file: String,
}

/// The verification for backend `namespace/name:port` (`port_name` is the Service port's name,
/// which a policy's `sectionName` may select): the first BackendTLSPolicy among `others` that
/// targets it, else `--upstream-ca` with the Service's DNS name, else `None`. CA ConfigMaps are
/// read from `<ca_dir>/<namespace>/<configmap>/ca.crt`, the layout of a mounted ConfigMap.
pub(super) fn verification(
    others: &[Json],
    key: &str,
    port_name: Option<&str>,
    upstream_ca: Option<&str>,
    ca_dir: &str,
) -> Option<Verification> {
    let (service, _) = key.rsplit_once(':')?;
    let (namespace, name) = service.split_once('/')?;
    let policy = others.iter().find(|o| {
        o.get("kind").and_then(Json::as_str) == Some("BackendTLSPolicy")
            && written::namespace(o) == namespace
            && o.pointer("/spec/targetRefs")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .any(|t| targets(t, name, port_name))
    });
    if let Some(policy) = policy {
        let validation = policy.pointer("/spec/validation")?;
        let hostname = validation.get("hostname").and_then(Json::as_str)?;
        let ca_file = if validation
            .get("wellKnownCACertificates")
            .and_then(Json::as_str)
            == Some("System")
        {
            SYSTEM_CA.to_owned()
        } else {
            let configmap = validation
                .get("caCertificateRefs")
                .and_then(Json::as_array)
                .and_then(|refs| refs.first())
                .and_then(|r| r.get("name"))
                .and_then(Json::as_str)?;
            format!(
                "{}/{namespace}/{configmap}/ca.crt",
                ca_dir.trim_end_matches('/')
            )
        };
        let subject_alt_names = validation
            .get("subjectAltNames")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|san| {
                san.get("hostname")
                    .or_else(|| san.get("uri"))
                    .and_then(Json::as_str)
            })
            .map(str::to_owned)
            .collect();
        return Some(Verification {
            hostname: hostname.to_owned(),
            subject_alt_names,
            ca_file,
        });
    }
    upstream_ca.map(|ca| Verification {
        hostname: format!("{name}.{namespace}.svc.cluster.local"),
        subject_alt_names: Vec::new(),
        ca_file: ca.to_owned(),
    })
}

/// Whether a policy's targetRef names the Service (and, with `sectionName`, this port).
fn targets(target: &Json, name: &str, port_name: Option<&str>) -> bool {
    let group = target.get("group").and_then(Json::as_str).unwrap_or("");
    let kind = target.get("kind").and_then(Json::as_str);
    let section = target.get("sectionName").and_then(Json::as_str);
    group.is_empty()
        && kind == Some("Service")
        && target.get("name").and_then(Json::as_str) == Some(name)
        && section.is_none_or(|s| Some(s) == port_name)
}

/// The cluster's `transport_socket`: TLS with SNI, the CA, and the names to match.
pub(super) fn transport_socket(v: &Verification) -> Yaml {
    let names: Vec<Yaml> = std::iter::once(&v.hostname)
        .chain(&v.subject_alt_names)
        .map(|n| {
            map! {
                "san_type" => if n.contains("://") { "URI" } else { "DNS" },
                "matcher" => map! { "exact" => n.as_str() },
            }
        })
        .collect();
    map! {
        "name" => "envoy.transport_sockets.tls",
        "typed_config" => map! {
            "@type" => "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "sni" => v.hostname.as_str(),
            "common_tls_context" => map! {
                "validation_context" => map! {
                    "trusted_ca" => map! { "filename" => v.ca_file.as_str() },
                    "match_typed_subject_alt_names" => names,
                },
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::verification;

    fn others(yaml: &str) -> Vec<serde_json::Value> {
        let mut m = crate::manifests::Manifests::default();
        m.add_yaml(yaml).unwrap();
        m.others
    }

    #[test]
    fn a_policy_names_the_hostname_and_ca_and_a_flag_stands_in() {
        let policy = others("kind: BackendTLSPolicy\nmetadata: {name: p, namespace: app}\nspec:\n  targetRefs: [{group: \"\", kind: Service, name: secure, sectionName: https}]\n  validation: {hostname: secure.example.com, caCertificateRefs: [{group: \"\", kind: ConfigMap, name: ca}]}\n");
        let v = verification(&policy, "app/secure:443", Some("https"), None, "/certs").unwrap();
        assert_eq!(v.hostname, "secure.example.com");
        assert_eq!(v.ca_file, "/certs/app/ca/ca.crt");
        assert_eq!(
            verification(&policy, "app/secure:8443", Some("other"), None, "/certs"),
            None,
            "sectionName selects one port"
        );
        let flag = verification(&policy, "app/plain:443", None, Some("/ca.pem"), "/certs").unwrap();
        assert_eq!(flag.hostname, "plain.app.svc.cluster.local");
        assert_eq!(flag.ca_file, "/ca.pem");
    }
}
