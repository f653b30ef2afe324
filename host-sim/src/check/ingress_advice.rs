//! `check`'s advice on Ingress annotations the filter does not execute: one finding per
//! annotation, saying what to write instead, and every `*-snippet` as a security warning.
//!
//! The filter itself logs one line per Ingress naming them (the core's problem); this adds the
//! fixes a person needs, which the filter has no room for. Which annotations are served is the
//! core's knowledge ([`gatewasm_core::config::IngressAnnotations`]); only the advice lives here.

use std::collections::BTreeMap;

use gatewasm_core::config::{IngressAnnotations, ANNOTATION_PREFIX};
use gatewasm_core::Problem;
use serde_json::Value;

use crate::manifests::Manifests;

/// The CVE history of snippet annotations, in one sentence.
const SNIPPET_HISTORY: &str = "snippets inject raw nginx configuration, were the root of \
CVE-2021-25742 and IngressNightmare (CVE-2025-1974 with CVE-2025-24514, -1097 and -1098) and \
CVE-2026-24512, and are disabled by default since ingress-nginx v1.9";

/// A finding for every annotation of every Ingress among the manifests that the filter does not
/// execute.
pub(super) fn findings(manifests: &Manifests) -> Vec<Problem> {
    let mut out = Vec::new();
    for ingress in manifests
        .resources
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Ingress"))
    {
        let namespace = ingress
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let name = ingress
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let label = format!("Ingress {namespace}/{name}");
        let annotations: BTreeMap<String, String> = ingress
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        let parsed = IngressAnnotations::parse(&annotations, &label, &mut Vec::new());
        for annotation in &parsed.not_served {
            let field = format!("metadata.annotations[{}]", annotation.name);
            let short = annotation
                .name
                .strip_prefix(ANNOTATION_PREFIX)
                .and_then(|n| n.strip_prefix('/'))
                .unwrap_or(&annotation.name);
            let problem = if annotation.snippet {
                Problem::warning(
                    &label,
                    field,
                    format!("security: {short} is raw nginx configuration, which the filter never runs; {SNIPPET_HISTORY}"),
                )
            } else {
                Problem::warning(
                    &label,
                    field,
                    format!("{short} is not executed by the filter"),
                )
            };
            out.push(problem.with_hint(instead(short)));
        }
        if parsed.proxy.send.is_some() {
            out.push(
                Problem::warning(
                    &label,
                    format!("metadata.annotations[{ANNOTATION_PREFIX}/proxy-send-timeout]"),
                    "has no per-request Envoy header; the filter leaves it to the route",
                )
                .with_hint("set the Envoy route's idle_timeout (Istio: VirtualService timeout) if it matters"),
            );
        }
        if let Some(protocol) = annotations.get(&format!("{ANNOTATION_PREFIX}/backend-protocol")) {
            out.push(
                Problem::warning(
                    &label,
                    format!("metadata.annotations[{ANNOTATION_PREFIX}/backend-protocol]"),
                    format!("{protocol:?} is the upstream protocol, which the Envoy cluster decides; the filter routes as for HTTP"),
                )
                .with_hint("configure the cluster (Istio: the Service port's appProtocol, or a DestinationRule's TLS)"),
            );
        }
    }
    out
}

/// What to write instead of an annotation the filter does not execute.
fn instead(short: &str) -> String {
    let advice = match short {
        "configuration-snippet" => {
            "write header changes as HTTPRoute RequestHeaderModifier / ResponseHeaderModifier filters, redirects and rewrites as RequestRedirect / URLRewrite"
        }
        "server-snippet" => "write each location or directive as an HTTPRoute rule with its filters",
        "auth-snippet" | "modsecurity-snippet" | "stream-snippet" => {
            "use an ExternalAuth filter on an HTTPRoute, or an Envoy filter, for what the snippet did"
        }
        "auth-url" | "auth-signin" | "auth-method" | "auth-response-headers" | "auth-type"
        | "auth-secret" | "auth-realm" => {
            "use an HTTPRoute ExternalAuth filter (an HTTP or gRPC ext_authz server)"
        }
        "limit-rps" | "limit-rpm" | "limit-connections" | "limit-burst-multiplier"
        | "limit-whitelist" | "limit-rate" | "limit-rate-after" => {
            "rate-limit in Envoy (local_ratelimit) or Istio instead"
        }
        "ssl-passthrough" => "use a TLSRoute on a Gateway listener with TLS mode Passthrough",
        "server-alias" => "add the names to the Ingress's rules, or to the HTTPRoute's hostnames",
        "custom-http-errors" | "default-backend" => {
            "serve error pages from the backend, or an Envoy local_reply_config"
        }
        "load-balance" | "upstream-hash-by" | "service-upstream" => {
            "set the Envoy cluster's lb_policy (Istio: a DestinationRule)"
        }
        "proxy-buffering" | "proxy-buffer-size" | "proxy-buffers-number"
        | "client-body-buffer-size" | "proxy-request-buffering" | "proxy-max-temp-file-size" => {
            "Envoy streams and buffers by its own settings; nothing to write"
        }
        "mirror-request-body" | "mirror-uri" => {
            "the filter mirrors headers only (as for HTTPRoute RequestMirror); nothing to write"
        }
        "enable-access-log" | "enable-opentelemetry" | "enable-opentracing" => {
            "configure Envoy's access log or tracing"
        }
        "preserve-trailing-slash" | "use-port-in-redirects" | "http2-push-preload"
        | "x-forwarded-prefix-header" => "no equivalent in the filter; remove it",
        _ if short.starts_with("proxy-ssl-") || short.starts_with("auth-tls-") => {
            "configure TLS to the backend or from clients in Envoy (Gateway API: BackendTLSPolicy, listener TLS)"
        }
        _ => "no equivalent in the filter; configure it in Envoy or Istio, or remove it",
    };
    advice.to_owned()
}

#[cfg(test)]
mod tests {
    use super::findings;
    use crate::manifests::Manifests;

    #[test]
    fn snippets_are_security_warnings_and_others_get_advice() {
        let mut m = Manifests::default();
        m.add_yaml(
            "kind: Ingress\nmetadata:\n  name: web\n  namespace: app\n  annotations:\n    \
             nginx.ingress.kubernetes.io/configuration-snippet: 'more_set_headers x;'\n    \
             nginx.ingress.kubernetes.io/limit-rps: '5'\n    \
             nginx.ingress.kubernetes.io/canary: 'false'\n",
        )
        .unwrap();
        let found: Vec<String> = findings(&m).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 2);
        assert!(found[0].starts_with("Ingress app/web: metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]: security: configuration-snippet is raw nginx configuration"), "{}", found[0]);
        assert!(found[0].contains("CVE-2025-1974"), "{}", found[0]);
        assert_eq!(found[1], "Ingress app/web: metadata.annotations[nginx.ingress.kubernetes.io/limit-rps]: limit-rps is not executed by the filter; rate-limit in Envoy (local_ratelimit) or Istio instead");
    }
}
