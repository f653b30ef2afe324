//! A complete static Envoy bootstrap that runs gatewasm for one Gateway.
//!
//! Each port of the Gateway's HTTP and HTTPS listeners becomes an Envoy listener whose HTTP
//! connection manager runs the wasm filter, then the router with a single route that takes its
//! cluster from `x-gatewasm-cluster` (reference §5b). Each backend of the compiled route table
//! becomes a cluster named as the filter names it, speaking the backend's protocol (`protocol`:
//! HTTP/2 with prior knowledge for h2c and gRPC, TLS where `backend_tls` says how to verify it).
//! The connection managers allow WebSocket upgrades and not CONNECT. Certificates for HTTPS listeners are files
//! named after the listener's `certificateRefs` (`<tls-dir>/<namespace>/<name>/tls.crt` and
//! `tls.key`, the layout of a mounted Kubernetes TLS Secret), or, on request, the listener is
//! served in plain text. Listeners of other protocols (TLS, TCP, UDP) are left out with a note.
//! The stats configuration extracts the filter's metric labels as tags. The options are
//! `options`'; rendering and flags live in `cmd::config`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anyhow::{bail, Result};
use gatewasm_core::config::Listener;
use gatewasm_core::DEFAULT_CLUSTER_HEADER;
use serde_norway::Value as Yaml;

use super::connection_pool::ConnectionPool;
use super::{backend_tls, FailStrategy, Generated, Mode, Plan};
use crate::envoy::connection_manager::EscapedSlashes;
use crate::protocol::Protocol;

mod options;

pub use options::{Address, EnvoyOptions, Runtime, Tls, DEFAULT_MODULE, DEFAULT_TLS_DIR};

/// `max_request_headers_kb`: the request headers Envoy accepts, and so the most the filter
/// reads (Envoy's default, 431 beyond it).
pub const MAX_REQUEST_HEADERS_KB: u32 = 60;
/// `max_headers_count`: request headers Envoy accepts (its default, 431 beyond it).
pub const MAX_HEADERS_COUNT: u32 = 100;

/// Access log line: the request, the answer, and gatewasm's decision from filter state.
const ACCESS_LOG_FORMAT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(:AUTHORITY)%%REQ(:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% gatewasm=\"%FILTER_STATE(wasm.gatewasm:PLAIN)%\" cluster=%UPSTREAM_CLUSTER%\n";

/// Builds the bootstrap for the plan's Gateway.
///
/// # Errors
///
/// In mesh mode (a bootstrap needs a Gateway's listeners), when the Gateway has no HTTP or HTTPS
/// listener Envoy can serve, when one port mixes HTTP and HTTPS, when FAIL_OPEN is asked for (it
/// would let clients pick clusters), or when `--address` names no backend.
pub fn bootstrap(plan: &Plan, options: &EnvoyOptions) -> Result<Generated> {
    let (Mode::Gateway { namespace, name }, Some(gateway)) = (&plan.mode, &plan.gateway) else {
        bail!(
            "--format envoy needs a Gateway: its listeners become Envoy's listeners, and the \
             manifests hold none (pass manifests with a Gateway, or --gateway NAMESPACE/NAME)"
        );
    };
    if options.fail == FailStrategy::Open {
        bail!(
            "--fail-strategy open would let a client's own {DEFAULT_CLUSTER_HEADER} header choose \
             the cluster whenever the filter is skipped; use reload or close"
        );
    }
    for key in options.addresses.keys() {
        if !plan.backends.iter().any(|b| &b.key == key) {
            let known: Vec<_> = plan.backends.iter().map(|b| b.key.as_str()).collect();
            bail!(
                "--address {key}: no route sends to that backend (backends: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    let mut notes = Vec::new();
    let http_filters = http_filters(plan, options)?;
    let listeners = listeners(
        &gateway.spec.listeners,
        namespace,
        &format!("Gateway {namespace}/{name}"),
        options,
        &http_filters,
        &mut notes,
    )?;
    let ca_dir = match &options.tls {
        Tls::Files(dir) => dir.as_str(),
        Tls::Plaintext => DEFAULT_TLS_DIR,
    };
    let mut clusters = Vec::new();
    for backend in &plan.backends {
        let address = options
            .addresses
            .get(&backend.key)
            .cloned()
            .unwrap_or_else(|| kubernetes_address(&backend.key));
        let protocol = plan.protocols.of(&backend.key);
        let verification = backend_tls::verification(
            &plan.others,
            &backend.key,
            plan.protocols.port_name(&backend.key),
            options.upstream_ca.as_deref(),
            ca_dir,
        );
        if protocol.tls() && verification.is_none() {
            notes.push(format!(
                "backend {} speaks {} but nothing says how to verify its certificate: its \
                 cluster has no TLS, so the backend will refuse the connection; add a \
                 BackendTLSPolicy for the Service (validation.hostname and caCertificateRefs \
                 or wellKnownCACertificates) or pass --upstream-ca FILE",
                backend.key,
                protocol.name()
            ));
        }
        clusters.push(cluster(
            &backend.cluster,
            &address,
            protocol,
            verification.as_ref(),
            plan.connection_pool.as_ref(),
        ));
    }
    if clusters.is_empty() {
        notes.push(
            "no route sends anywhere: the bootstrap has no clusters, and every request gets 404 or 500"
                .to_owned(),
        );
    }
    let bootstrap = map! {
        "static_resources" => map! {
            "listeners" => listeners,
            "clusters" => clusters,
        },
        "admin" => map! { "address" => socket_address(&options.admin) },
        "stats_config" => stats_config(),
    };
    Ok(Generated {
        documents: vec![bootstrap],
        notes,
    })
}

/// Tag extraction for the filter's metric labels ([`gatewasm_core::metrics`]): each
/// `label=.=value;.;` cut out of a metric's name becomes the tag `label`, so
/// `/stats/prometheus` shows `gatewasm_requests_total{route="shop/api",...}`.
fn stats_config() -> Yaml {
    let tags: Vec<Yaml> = gatewasm_core::metrics::LABELS
        .iter()
        .map(|label| map! { "tag_name" => *label, "regex" => metric_label_regex(label) })
        .collect();
    map! { "stats_tags" => tags }
}

/// The tag extraction regex for one label of Istio's tag syntax: the whole `label=.=value;.;`
/// is cut out of the name, the value is the tag. Istio's own bootstrap writes the same for
/// every name in `extraStatTags`.
pub fn metric_label_regex(label: &str) -> String {
    format!("({label}=\\.=(.*?);\\.;)")
}

/// Envoy listeners, one per port, from the Gateway's listeners.
fn listeners(
    gateway_listeners: &[Listener],
    gateway_namespace: &str,
    gateway_label: &str,
    options: &EnvoyOptions,
    http_filters: &Yaml,
    notes: &mut Vec<String>,
) -> Result<Vec<Yaml>> {
    let mut by_port: BTreeMap<u16, Vec<&Listener>> = BTreeMap::new();
    for listener in gateway_listeners {
        let port = listener
            .port
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0);
        match (listener.protocol.as_str(), port) {
            ("HTTP" | "HTTPS", Some(port)) => by_port.entry(port).or_default().push(listener),
            ("HTTP" | "HTTPS", None) => notes.push(format!(
                "{gateway_label}: listener {:?} has no valid port; it was left out",
                listener.name
            )),
            (protocol, _) => notes.push(format!(
                "{gateway_label}: listener {:?} speaks {protocol:?}, which gatewasm does not \
                 route (HTTP and HTTPS only); it was left out",
                listener.name
            )),
        }
    }
    let mut envoy_listeners = Vec::new();
    for (port, group) in by_port {
        let https = group.iter().filter(|l| l.protocol == "HTTPS").count();
        if https != 0 && https != group.len() {
            bail!(
                "{gateway_label}: port {port} has both HTTP and HTTPS listeners ({}); one Envoy \
                 listener cannot serve both",
                names(&group)
            );
        }
        let name = match group.as_slice() {
            [only] => only.name.clone(),
            _ => format!("port-{port}"),
        };
        let hcm = connection_manager(&name, http_filters, options);
        let tls_files = match &options.tls {
            Tls::Files(dir) if https > 0 => Some(dir.as_str()),
            Tls::Files(_) => None,
            Tls::Plaintext => {
                if https > 0 {
                    notes.push(format!(
                        "{gateway_label}: HTTPS listener {} on port {port} is served in PLAIN TEXT \
                         (--plaintext-https); for local testing only",
                        names(&group)
                    ));
                }
                None
            }
        };
        let mut listener = serde_norway::Mapping::new();
        listener.insert("name".into(), name.clone().into());
        listener.insert(
            "address".into(),
            socket_address(&Address {
                host: "0.0.0.0".to_owned(),
                port,
            }),
        );
        let chains = match tls_files {
            None => vec![map! { "filters" => vec![hcm] }],
            Some(dir) => {
                let chains = tls_chains(&group, gateway_namespace, gateway_label, dir, &hcm, notes);
                if chains.is_empty() {
                    continue;
                }
                if chains.iter().any(|c| c.get("filter_chain_match").is_some()) {
                    listener.insert(
                        "listener_filters".into(),
                        vec![map! {
                            "name" => "envoy.filters.listener.tls_inspector",
                            "typed_config" => map! {
                                "@type" => "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
                            },
                        }]
                        .into(),
                    );
                }
                chains
            }
        };
        listener.insert("filter_chains".into(), chains.into());
        envoy_listeners.push(Yaml::Mapping(listener));
    }
    if envoy_listeners.is_empty() {
        bail!("{gateway_label} has no HTTP or HTTPS listener that Envoy could serve");
    }
    Ok(envoy_listeners)
}

/// One TLS filter chain per HTTPS listener of a port, chosen by SNI when it has a hostname.
fn tls_chains(
    group: &[&Listener],
    gateway_namespace: &str,
    gateway_label: &str,
    dir: &str,
    hcm: &Yaml,
    notes: &mut Vec<String>,
) -> Vec<Yaml> {
    let mut chains = Vec::new();
    let mut seen_hostnames = Vec::new();
    for listener in group {
        let hostname = listener.hostname.clone().filter(|h| !h.is_empty());
        if seen_hostnames.contains(&hostname) {
            notes.push(format!(
                "{gateway_label}: listener {:?} has the same port and hostname as an earlier one \
                 (a conflict in the Gateway API); it was left out",
                listener.name
            ));
            continue;
        }
        let certificates = certificates(listener, gateway_namespace, dir);
        if certificates.is_empty() {
            notes.push(format!(
                "{gateway_label}: HTTPS listener {:?} has no Secret in tls.certificateRefs, or its \
                 tls.mode is not Terminate; it was left out",
                listener.name
            ));
            continue;
        }
        seen_hostnames.push(hostname.clone());
        let mut chain = serde_norway::Mapping::new();
        chain.insert("name".into(), listener.name.clone().into());
        if let Some(hostname) = hostname {
            chain.insert(
                "filter_chain_match".into(),
                map! { "server_names" => vec![hostname] },
            );
        }
        chain.insert(
            "transport_socket".into(),
            map! {
                "name" => "envoy.transport_sockets.tls",
                "typed_config" => map! {
                    "@type" => "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                    "common_tls_context" => map! {
                        "alpn_protocols" => vec!["h2", "http/1.1"],
                        "tls_certificates" => certificates,
                    },
                },
            },
        );
        chain.insert("filters".into(), vec![hcm.clone()].into());
        chains.push(Yaml::Mapping(chain));
    }
    chains
}

/// `tls_certificates` for a listener's Secret references (`tls.mode: Terminate`, the default).
fn certificates(listener: &Listener, gateway_namespace: &str, dir: &str) -> Vec<Yaml> {
    let Some(tls) = listener.tls.as_ref() else {
        return Vec::new();
    };
    if tls.mode.as_deref().unwrap_or("Terminate") != "Terminate" {
        return Vec::new();
    }
    tls.certificates()
        .filter(|(_, r)| r.kind() == "Secret" && r.group().is_empty())
        .map(|(_, r)| {
            let (name, namespace) = (&r.name, r.namespace(gateway_namespace));
            let base = format!("{}/{namespace}/{name}", dir.trim_end_matches('/'));
            map! {
                "certificate_chain" => map! { "filename" => format!("{base}/tls.crt") },
                "private_key" => map! { "filename" => format!("{base}/tls.key") },
            }
        })
        .collect()
}

/// The HTTP connection manager every listener runs.
fn connection_manager(stat_prefix: &str, http_filters: &Yaml, options: &EnvoyOptions) -> Yaml {
    let paths = &options.connection_manager;
    let escaped_slashes = match paths.escaped_slashes {
        EscapedSlashes::Keep => "KEEP_UNCHANGED",
        EscapedSlashes::Reject => "REJECT_REQUEST",
        EscapedSlashes::Redirect => "UNESCAPE_AND_REDIRECT",
        EscapedSlashes::Forward => "UNESCAPE_AND_FORWARD",
    };
    let underscores = if paths.reject_underscores {
        "REJECT_REQUEST"
    } else {
        "ALLOW"
    };
    let mut hcm = map! {
        "@type" => "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix" => stat_prefix,
        "codec_type" => "AUTO",
        "normalize_path" => paths.normalize_path,
        "merge_slashes" => paths.merge_slashes,
        "path_with_escaped_slashes_action" => escaped_slashes,
        "access_log" => vec![map! {
            "name" => "envoy.access_loggers.stdout",
            "typed_config" => map! {
                "@type" => "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                "log_format" => map! { "text_format_source" => map! { "inline_string" => ACCESS_LOG_FORMAT } },
            },
        }],
        "route_config" => map! {
            "name" => "gatewasm",
            "virtual_hosts" => vec![map! {
                "name" => "gatewasm",
                "domains" => vec!["*"],
                "routes" => vec![decision_route()],
            }],
        },
        "http_filters" => http_filters.clone(),
        // WebSocket upgrades reach the backend the filter chose (HTTPRoute
        // BackendProtocolWebSocket); CONNECT is not listed, so Envoy refuses it.
        "upgrade_configs" => vec![map! { "upgrade_type" => "websocket" }],
    };
    // Envoy's own header limits, written out: they bound what the filter reads per request.
    insert(
        &mut hcm,
        "max_request_headers_kb",
        MAX_REQUEST_HEADERS_KB.into(),
    );
    let mut common = map! {
        "headers_with_underscores_action" => underscores,
        "max_headers_count" => MAX_HEADERS_COUNT,
    };
    if options.edge_limits {
        // Envoy's edge-proxy guidance ("Configuring Envoy as an edge proxy").
        insert(&mut common, "idle_timeout", "3600s".into());
        insert(&mut hcm, "use_remote_address", true.into());
        insert(&mut hcm, "stream_idle_timeout", "300s".into());
        insert(&mut hcm, "request_timeout", "300s".into());
        let http2 = map! {
            "max_concurrent_streams" => 100,
            "initial_stream_window_size" => 65536,
            "initial_connection_window_size" => 1048576,
        };
        insert(&mut hcm, "http2_protocol_options", http2);
    }
    insert(&mut hcm, "common_http_protocol_options", common);
    map! {
        "name" => "envoy.filters.network.http_connection_manager",
        "typed_config" => hcm,
    }
}

/// Adds `key` to a mapping built with `map!`.
fn insert(mapping: &mut Yaml, key: &str, value: Yaml) {
    if let Yaml::Mapping(mapping) = mapping {
        mapping.insert(key.into(), value);
    }
}

/// The one route: the cluster gatewasm named in its header. The header is read when the route
/// is resolved and removed before the request goes upstream. `timeout: 0s` turns off Envoy's
/// 15 s default, as Istio does for Gateway API routes.
pub(crate) fn decision_route() -> Yaml {
    map! {
        "name" => "gatewasm-decision",
        "match" => map! { "prefix" => "/" },
        "route" => map! {
            "cluster_header" => DEFAULT_CLUSTER_HEADER,
            "timeout" => "0s",
        },
        "request_headers_to_remove" => vec![DEFAULT_CLUSTER_HEADER],
    }
}

/// The wasm filter, then the router.
fn http_filters(plan: &Plan, options: &EnvoyOptions) -> Result<Yaml> {
    Ok(vec![
        map! {
            "name" => "envoy.filters.http.wasm",
            "typed_config" => map! {
                "@type" => "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config" => map! {
                    "name" => "gatewasm",
                    "root_id" => "gatewasm",
                    "failure_policy" => options.fail.envoy(),
                    "vm_config" => map! {
                        "runtime" => options.runtime.extension(),
                        "code" => map! { "local" => map! { "filename" => options.module.as_str() } },
                    },
                    "configuration" => map! {
                        "@type" => "type.googleapis.com/google.protobuf.StringValue",
                        "value" => plan.plugin_config_json()?,
                    },
                },
            },
        },
        map! {
            "name" => "envoy.filters.http.router",
            "typed_config" => map! {
                "@type" => "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
            },
        },
    ]
    .into())
}

/// One cluster: DNS-resolved for names, static for IP addresses; HTTP/2 with prior knowledge
/// for h2c and gRPC backends, HTTP/1.1 (upgrades included) otherwise; TLS where verified; the
/// GatewayClass's connection pool, when it has one.
fn cluster(
    name: &str,
    address: &Address,
    protocol: Protocol,
    tls: Option<&backend_tls::Verification>,
    pool: Option<&ConnectionPool>,
) -> Yaml {
    let literal_ip = address.host.parse::<IpAddr>().is_ok();
    let mut cluster = serde_norway::Mapping::new();
    cluster.insert("name".into(), name.into());
    cluster.insert(
        "type".into(),
        if literal_ip { "STATIC" } else { "STRICT_DNS" }.into(),
    );
    if !literal_ip {
        cluster.insert("dns_lookup_family".into(), "V4_PREFERRED".into());
    }
    cluster.insert("connect_timeout".into(), "5s".into());
    let http2 = protocol == Protocol::H2c;
    let per_connection = pool.and_then(|p| p.max_requests_per_connection);
    if http2 || per_connection.is_some() {
        let protocol = if http2 {
            "http2_protocol_options"
        } else {
            "http_protocol_options"
        };
        let mut options = serde_norway::Mapping::new();
        options.insert(
            "@type".into(),
            "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions".into(),
        );
        options.insert("explicit_http_config".into(), map! { protocol => map! {} });
        if let Some(limit) = per_connection {
            options.insert(
                "common_http_protocol_options".into(),
                map! { "max_requests_per_connection" => limit },
            );
        }
        cluster.insert(
            "typed_extension_protocol_options".into(),
            map! { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" => Yaml::Mapping(options) },
        );
    }
    if let Some(tls) = tls {
        cluster.insert(
            "transport_socket".into(),
            backend_tls::transport_socket(tls),
        );
    }
    if let Some(pool) = pool {
        pool.apply(&mut cluster);
    }
    cluster.insert(
        "load_assignment".into(),
        map! {
            "cluster_name" => name,
            "endpoints" => vec![map! {
                "lb_endpoints" => vec![map! {
                    "endpoint" => map! { "address" => socket_address(address) },
                }],
            }],
        },
    );
    Yaml::Mapping(cluster)
}

fn socket_address(address: &Address) -> Yaml {
    map! {
        "socket_address" => map! {
            "address" => address.host.as_str(),
            "port_value" => address.port,
        },
    }
}

/// `<name>.<namespace>.svc.cluster.local:<port>` for a `namespace/name:port` key.
fn kubernetes_address(key: &str) -> Address {
    let (service, port) = key.rsplit_once(':').unwrap_or((key, "80"));
    let (namespace, name) = service.split_once('/').unwrap_or(("default", service));
    Address {
        host: format!("{name}.{namespace}.svc.cluster.local"),
        port: port.parse().unwrap_or(80),
    }
}

fn names(group: &[&Listener]) -> String {
    group
        .iter()
        .map(|l| format!("{:?}", l.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{bootstrap, Address, EnvoyOptions, Runtime, Tls};
    use crate::deploy::{FailStrategy, MeshTarget, Plan};
    use crate::manifests::Manifests;

    fn plan(text: &str) -> Plan {
        let mut m = Manifests::default();
        m.add_yaml(text).unwrap();
        Plan::new(&m, None, MeshTarget::default()).unwrap()
    }

    const MANIFESTS: &str = "\
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  listeners:
    - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
    - {name: a, port: 443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: a-cert}]}, allowedRoutes: {namespaces: {from: All}}}
    - {name: b, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: b-cert, namespace: certs}]}, allowedRoutes: {namespaces: {from: All}}}
    - {name: raw, port: 9000, protocol: TCP}
---
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: api, port: 8080}, {name: db, port: 5432}]}]
";

    fn json(generated: &crate::deploy::Generated) -> serde_json::Value {
        serde_json::to_value(&generated.documents[0]).unwrap()
    }

    #[test]
    fn listeners_follow_the_gateway_and_clusters_the_backends() {
        let mut options = EnvoyOptions::default();
        options.addresses.insert(
            "app/db:5432".into(),
            Address::parse("10.1.2.3:15432").unwrap(),
        );
        let generated = bootstrap(&plan(MANIFESTS), &options).unwrap();
        let b = json(&generated);
        let listeners = b["static_resources"]["listeners"].as_array().unwrap();
        assert_eq!(listeners.len(), 2, "TCP is left out");
        assert!(generated.notes.iter().any(|n| n.contains("\"raw\"")));
        assert_eq!(listeners[0]["name"], "http");
        assert_eq!(listeners[1]["name"], "port-443");
        let chains = listeners[1]["filter_chains"].as_array().unwrap();
        assert_eq!(
            chains[0]["filter_chain_match"]["server_names"][0],
            "a.example.com"
        );
        assert!(chains[1].get("filter_chain_match").is_none());
        let certs = &chains[1]["transport_socket"]["typed_config"]["common_tls_context"]
            ["tls_certificates"];
        assert_eq!(
            certs[0]["certificate_chain"]["filename"],
            "/etc/envoy/certs/certs/b-cert/tls.crt"
        );
        assert!(listeners[1].get("listener_filters").is_some());
        let clusters = b["static_resources"]["clusters"].as_array().unwrap();
        assert_eq!(
            clusters[0]["name"],
            "outbound|8080||api.app.svc.cluster.local"
        );
        assert_eq!(clusters[0]["type"], "STRICT_DNS");
        let endpoint =
            &clusters[1]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"];
        assert_eq!(endpoint["address"]["socket_address"]["port_value"], 15432);
        assert_eq!(clusters[1]["type"], "STATIC");
    }

    #[test]
    fn mirror_targets_get_clusters_too() {
        let mirrored = MANIFESTS.replace(
            "rules: [{backendRefs: [{name: api, port: 8080}, {name: db, port: 5432}]}]",
            "rules: [{backendRefs: [{name: api, port: 8080}], filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 8080}}}]}]",
        );
        let b = json(&bootstrap(&plan(&mirrored), &EnvoyOptions::default()).unwrap());
        let names: Vec<_> = b["static_resources"]["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            names.contains(&"outbound|8080||shadow.app.svc.cluster.local".to_owned()),
            "{names:?}"
        );
    }

    #[test]
    fn plaintext_https_is_served_and_said() {
        let options = EnvoyOptions {
            tls: Tls::Plaintext,
            runtime: Runtime::parse("wamr").unwrap(),
            ..EnvoyOptions::default()
        };
        let generated = bootstrap(&plan(MANIFESTS), &options).unwrap();
        let b = json(&generated);
        let https = &b["static_resources"]["listeners"][1];
        assert!(https["filter_chains"][0].get("transport_socket").is_none());
        assert!(generated.notes.iter().any(|n| n.contains("PLAIN TEXT")));
    }

    #[test]
    fn refusals_say_why() {
        let mesh = "kind: HTTPRoute\nmetadata: {name: r, namespace: app}\n";
        let err = bootstrap(&plan(mesh), &EnvoyOptions::default()).unwrap_err();
        assert!(err.to_string().contains("needs a Gateway"), "{err}");
        let open = EnvoyOptions {
            fail: FailStrategy::Open,
            ..EnvoyOptions::default()
        };
        assert!(bootstrap(&plan(MANIFESTS), &open).is_err());
        let mut unknown = EnvoyOptions::default();
        unknown
            .addresses
            .insert("app/nope:1".into(), Address::parse("x:1").unwrap());
        let err = bootstrap(&plan(MANIFESTS), &unknown).unwrap_err();
        assert!(err.to_string().contains("app/api:8080"), "{err}");
        assert!(Address::parse("nohost").is_err());
        assert_eq!(Address::parse("[::1]:80").unwrap().host, "::1");
    }

    #[test]
    fn each_label_regex_cuts_out_its_own_label_only() {
        let labels = gatewasm_core::metrics::LABELS;
        let name: String = labels
            .iter()
            .map(|l| format!("{l}=.=v-{l};.;"))
            .chain(["gatewasm_requests_total".to_owned()])
            .collect();
        for label in labels {
            let regex = regex_lite::Regex::new(&super::metric_label_regex(label)).unwrap();
            let found: Vec<_> = regex.captures_iter(&name).collect();
            assert_eq!(found.len(), 1, "{label}");
            assert_eq!(&found[0][2], format!("v-{label}"), "{label}");
        }
        let b = serde_json::to_value(
            bootstrap(&plan(MANIFESTS), &EnvoyOptions::default())
                .unwrap()
                .documents[0]
                .clone(),
        )
        .unwrap();
        let tags = b["stats_config"]["stats_tags"].as_array().unwrap();
        assert_eq!(tags.len(), labels.len());
        assert_eq!(tags[1]["regex"], r"(route=\.=(.*?);\.;)");
    }
}
