//! The Gateway API objects for a [`Plan`]: one Gateway with an HTTP listener and an HTTPS
//! listener per TLS host, ReferenceGrants for certificates in other namespaces, and per Ingress
//! and host an HTTPRoute (two when plain HTTP redirects to HTTPS), plus the `www` redirects.
//!
//! Rules come from [`super::rules`]; annotations and nginx rules that no rule can express become
//! [`Note`]s here when they concern a whole Ingress or host.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use gatewasm_core::ingress::{Server, CATCH_ALL};

use super::notes::{Affects, Note};
use super::plan::Plan;
use super::rules::{annotation, LocationRules, HTTPS_REDIRECT_CODE};

/// The Gateway API version the objects are written in.
const API_VERSION: &str = "gateway.networking.k8s.io/v1";

/// The plain-HTTP listener's name.
pub const HTTP_LISTENER: &str = "http";

/// Where the converted routes attach.
#[derive(Clone, Debug)]
pub struct GatewayRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `gatewayClassName`.
    pub class: String,
}

/// A host as a name part: `shop.example.com` → `shop-example-com`, `*.x.io` → `wildcard-x-io`.
fn slug(host: &str) -> String {
    host.replace("*.", "wildcard.").replace('.', "-")
}

/// The HTTPS listener of a TLS host.
fn https_listener(host: &str) -> String {
    format!("https-{}", slug(host))
}

fn metadata(name: &str, namespace: &str) -> Value {
    json!({"name": name, "namespace": namespace})
}

/// Builds the objects and the notes.
pub fn objects(plan: &Plan, gateway: &GatewayRef, notes: &mut Vec<Note>) -> Vec<Value> {
    let mut listeners = vec![json!({
        "name": HTTP_LISTENER, "port": 80, "protocol": "HTTP",
        "allowedRoutes": {"namespaces": {"from": "All"}},
    })];
    let mut grants: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for server in plan.servers().filter(|s| s.tls && s.host != CATCH_ALL) {
        let Some((namespace, secret)) = plan.certificate(&server.host) else {
            notes.push(
                Note::rule(
                    &format!("host {}", server.host),
                    "TLS without a Secret",
                    "the host is listed in spec.tls without secretName, so nginx serves it with its default certificate; the HTTPS listener needs a certificate of its own",
                    "add the certificate's Secret to the listener's certificateRefs",
                )
                .on(&server.host, None),
            );
            continue;
        };
        let mut certificate = json!({"kind": "Secret", "name": secret});
        if namespace != gateway.namespace {
            certificate["namespace"] = json!(namespace);
            grants
                .entry(namespace.clone())
                .or_default()
                .push(secret.clone());
        }
        listeners.push(json!({
            "name": https_listener(&server.host), "port": 443, "protocol": "HTTPS",
            "hostname": server.host,
            "tls": {"mode": "Terminate", "certificateRefs": [certificate]},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }));
    }
    let mut out = vec![json!({
        "apiVersion": API_VERSION,
        "kind": "Gateway",
        "metadata": metadata(&gateway.name, &gateway.namespace),
        "spec": {"gatewayClassName": gateway.class, "listeners": listeners},
    })];
    for (namespace, mut secrets) in grants {
        secrets.sort();
        secrets.dedup();
        out.push(json!({
            "apiVersion": "gateway.networking.k8s.io/v1beta1",
            "kind": "ReferenceGrant",
            "metadata": metadata(&format!("{}-certificates", gateway.name), &namespace),
            "spec": {
                "from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": gateway.namespace}],
                "to": secrets.iter().map(|s| json!({"group": "", "kind": "Secret", "name": s})).collect::<Vec<_>>(),
            },
        }));
    }
    for server in plan.servers() {
        out.extend(server_routes(plan, server, gateway, notes));
    }
    for (from, to) in &plan.model.www_redirects {
        let Some(owner) = plan
            .model
            .server(to)
            .and_then(|s| s.locations.iter().find_map(|l| l.ingress))
        else {
            continue;
        };
        let served = &plan.model.ingresses[owner];
        notes.push(
            Note::annotation(
                &served.label(),
                &annotation("from-to-www-redirect"),
                "true",
                "nginx redirects to $scheme://<host>:$server_port$request_uri, the listener's port always written and one trailing slash dropped; a Gateway API redirect writes the port only when it is not the scheme's default and keeps the path",
                "nothing to do: browsers follow either",
            )
            .on(from, None),
        );
        out.push(json!({
            "apiVersion": API_VERSION,
            "kind": "HTTPRoute",
            "metadata": metadata(&format!("{}-{}", served.name, slug(from)), &served.namespace),
            "spec": {
                "parentRefs": [{"name": gateway.name, "namespace": gateway.namespace, "sectionName": HTTP_LISTENER}],
                "hostnames": [from],
                "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {
                    "hostname": to, "statusCode": HTTPS_REDIRECT_CODE}}]}],
            },
        }));
    }
    ingress_notes(plan, notes);
    out
}

/// The routes of one host: per owning Ingress, one route, or two when plain HTTP redirects.
fn server_routes(
    plan: &Plan,
    server: &Server,
    gateway: &GatewayRef,
    notes: &mut Vec<Note>,
) -> Vec<Value> {
    let locations = plan.locations(server);
    let mut owners: Vec<Option<usize>> = Vec::new();
    for location in &locations {
        if !owners.contains(&location.ingress) {
            owners.push(location.ingress);
        }
    }
    if server.host.starts_with("*.") {
        notes.push(
            Note::rule(
                &format!("host {}", server.host),
                "wildcard host",
                "nginx's wildcard stands for exactly one label; a Gateway API wildcard hostname also matches deeper names (a.b.example.com)",
                "add an HTTPRoute for the deeper names that should get 404, or accept that they are served",
            )
            .on(&server.host, None)
            .affecting(Affects::Labels),
        );
    }
    let parent = |section: &str| json!({"name": gateway.name, "namespace": gateway.namespace, "sectionName": section});
    let mut routes = Vec::new();
    for owner in owners {
        let Some(served) = owner.and_then(|o| plan.model.ingresses.get(o)) else {
            continue;
        };
        let base = if server.host == CATCH_ALL {
            served.name.clone()
        } else {
            format!("{}-{}", served.name, slug(&server.host))
        };
        let mut https_rules = Vec::new();
        let mut http_rules = Vec::new();
        if let Some(root) = &served.annotations.app_root {
            let rule = json!({
                "matches": [{"path": {"type": "Exact", "value": "/"}}],
                "filters": [{"type": "RequestRedirect", "requestRedirect": {
                    "path": {"type": "ReplaceFullPath", "replaceFullPath": root}, "statusCode": 302}}],
            });
            https_rules.push(rule.clone());
            http_rules.push(rule);
        }
        for location in locations.iter().filter(|l| l.ingress == owner) {
            let mut rules = LocationRules {
                plan,
                server,
                location,
                notes: &mut *notes,
            };
            https_rules.extend(rules.rules(false));
            http_rules.extend(rules.rules(true));
        }
        let route = |name: &str, sections: Vec<String>, rules: Vec<Value>| {
            let mut spec = json!({
                "parentRefs": sections.iter().map(|s| parent(s)).collect::<Vec<_>>(),
                "rules": rules,
            });
            if server.host != CATCH_ALL {
                spec["hostnames"] = json!([server.host]);
            }
            json!({
                "apiVersion": API_VERSION,
                "kind": "HTTPRoute",
                "metadata": metadata(name, &served.namespace),
                "spec": spec,
            })
        };
        let tls =
            server.tls && server.host != CATCH_ALL && plan.certificate(&server.host).is_some();
        let redirects = http_rules
            .iter()
            .any(|r| r.pointer("/filters/0/requestRedirect/scheme") == Some(&json!("https")));
        if redirects {
            notes.push(
                Note::annotation(
                    &served.label(),
                    &annotation("ssl-redirect"),
                    "true",
                    "nginx drops one trailing slash from the path it redirects plain HTTP to (unless preserve-trailing-slash is set); a Gateway API redirect keeps the path as it is",
                    "nothing to do unless clients rely on the slash being dropped",
                )
                .on(&server.host, None)
                .affecting(Affects::TrailingSlash),
            );
        }
        if let Some(root) = &served.annotations.app_root {
            notes.push(
                Note::annotation(
                    &served.label(),
                    &annotation("app-root"),
                    root,
                    "nginx redirects to $scheme://$http_host<app-root>: the Host as the client sent it, port included, and no query; a Gateway API redirect keeps the request's query and writes the port only when it is not the scheme's default",
                    "nothing to do unless clients send / with a query or an explicit port",
                )
                .on(&server.host, Some("/")),
            );
        }
        if tls && http_rules != https_rules {
            routes.push(route(
                &base,
                vec![https_listener(&server.host)],
                https_rules,
            ));
            routes.push(route(
                &format!("{base}-http"),
                vec![HTTP_LISTENER.to_owned()],
                http_rules,
            ));
        } else if tls {
            routes.push(route(
                &base,
                vec![HTTP_LISTENER.to_owned(), https_listener(&server.host)],
                https_rules,
            ));
        } else {
            routes.push(route(&base, vec![HTTP_LISTENER.to_owned()], http_rules));
        }
    }
    routes
}

/// Notes about annotations no rule can carry: source ranges, body size, backend protocol and
/// every annotation the filter does not execute.
fn ingress_notes(plan: &Plan, notes: &mut Vec<Note>) {
    for (index, served) in plan.model.ingresses.iter().enumerate() {
        let a = &served.annotations;
        let label = &served.label();
        let written = |name: &str| {
            plan.written(index, &annotation(name))
                .unwrap_or_default()
                .to_owned()
        };
        let hosts: Vec<String> = plan
            .objects
            .get(index)
            .and_then(Option::as_ref)
            .map(|object| {
                object
                    .spec
                    .rules
                    .iter()
                    .map(|r| match r.host.as_deref() {
                        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
                        _ => CATCH_ALL.to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut add = |note: Note| {
            if hosts.is_empty() {
                notes.push(note);
            } else {
                for host in &hosts {
                    notes.push(note.clone().on(host, None));
                }
            }
        };
        for (name, present) in [
            ("whitelist-source-range", !a.allow_source_ranges.is_empty()),
            ("denylist-source-range", !a.deny_source_ranges.is_empty()),
        ] {
            if present {
                add(Note::annotation(
                    label,
                    &annotation(name),
                    &written(name),
                    "Gateway API has no client address rule; the converted routes serve every client",
                    "use your implementation's policy (Istio AuthorizationPolicy with ipBlocks, Envoy Gateway SecurityPolicy authorization) next to the route",
                )
                .affecting(Affects::Source));
            }
        }
        if a.proxy_body_size.is_some() {
            add(Note::annotation(
                label,
                &annotation("proxy-body-size"),
                &written("proxy-body-size"),
                "Gateway API has no request body limit; nginx answers 413 above it",
                "set the limit in the proxy (Envoy's buffer filter max_request_bytes, Istio EnvoyFilter) or in the backend",
            )
            .affecting(Affects::Body));
        }
        if a.backend_protocol != Default::default() {
            add(Note::annotation(
                label,
                &annotation("backend-protocol"),
                &written("backend-protocol"),
                "Gateway API takes the upstream protocol from the Service port, not from the route",
                "set appProtocol on the Service port (kubernetes.io/h2c for H2C and GRPC, https with a BackendTLSPolicy for HTTPS and GRPCS); FCGI has no Gateway API equivalent",
            ));
        }
        for not_served in &a.not_served {
            let value = plan
                .written(index, &not_served.name)
                .unwrap_or_default()
                .to_owned();
            let note = if not_served.snippet {
                Note::annotation(
                    label,
                    &not_served.name,
                    &value,
                    "raw nginx configuration, which neither gatewasm nor any Gateway API implementation runs; snippets are off by default since ingress-nginx v1.9 and rated Critical since v1.12, after a series of CVEs that let them read every Secret of the cluster (CVE-2021-25742, IngressNightmare CVE-2025-1974 with CVE-2025-24514, -1097 and -1098, CVE-2026-24512)",
                    "write what the snippet does as route filters (header modifiers, redirects, rewrites) or as an implementation policy, and delete the snippet",
                )
                .security()
                .affecting(Affects::Nothing)
            } else {
                Note::annotation(
                    label,
                    &not_served.name,
                    &value,
                    "gatewasm does not execute this annotation and Gateway API has no field for it; the converted routes ignore it",
                    "look for a Gateway API filter or an implementation policy that does the same, or drop the annotation",
                )
                .affecting(Affects::Nothing)
            };
            add(note);
        }
    }
}
