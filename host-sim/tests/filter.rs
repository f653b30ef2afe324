//! The real `gatewasm.wasm` through the simulated Envoy: configuration lifecycle, target modes,
//! what the filter records, and inputs that must never trap.
//!
//! Routing semantics are pinned by the case files (`tests/cases.rs`); these tests pin what
//! case files cannot express: rejected and replaced configurations, logs, host calls.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

use std::sync::OnceLock;

use host_sim::envoy::{HttpRequest, LogLevel, PluginOptions, Proxy, StreamOutcome, WasmModule};
use host_sim::manifests::Manifests;
use host_sim::wasm;

fn module() -> &'static WasmModule {
    static MODULE: OnceLock<WasmModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = wasm::locate(None, wasm::FILTER_PACKAGE).expect("build gatewasm.wasm");
        WasmModule::from_file(&path).expect("load gatewasm.wasm")
    })
}

const GATEWAY: &str = "
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
";

/// Plugin configuration JSON for the Gateway plus `routes` (YAML documents, may be empty).
fn configuration(routes: &str, target: Option<&str>) -> Vec<u8> {
    let mut manifests = Manifests::default();
    manifests
        .add_yaml(&format!("{GATEWAY}---\n{routes}"))
        .unwrap();
    let target = target.map(|t| serde_json::from_str(t).unwrap());
    serde_json::to_vec(&manifests.plugin_config(Some("infra/gw"), target.as_ref())).unwrap()
}

/// Plugin configuration JSON for the Gateway plus one route sending `prefix` to `backend`.
fn config(prefix: &str, backend: &str, target: Option<&str>) -> Vec<u8> {
    let route = format!(
        "kind: HTTPRoute\nmetadata: {{name: r, namespace: app}}\nspec:\n  parentRefs: [{{name: gw, namespace: infra}}]\n  rules:\n  - matches: [{{path: {{value: {prefix}}}}}]\n    backendRefs: [{{name: {backend}, port: 8080}}]\n"
    );
    configuration(&route, target)
}

/// A configuration whose route sends `/api` to `backend` and answers with `x-config: tag`.
fn tagged(tag: &str, backend: &str) -> Vec<u8> {
    let route = format!(
        "kind: HTTPRoute\nmetadata: {{name: r, namespace: app}}\nspec:\n  parentRefs: [{{name: gw, namespace: infra}}]\n  rules:\n  - matches: [{{path: {{value: /api}}}}]\n    filters: [{{type: ResponseHeaderModifier, responseHeaderModifier: {{set: [{{name: x-config, value: {tag}}}]}}}}]\n    backendRefs: [{{name: {backend}, port: 8080}}]\n"
    );
    configuration(&route, None)
}

fn start(configuration: Vec<u8>) -> Proxy {
    Proxy::start(
        module(),
        PluginOptions {
            configuration,
            ..PluginOptions::default()
        },
    )
    .expect("configuration accepted")
}

fn get(path: &str) -> HttpRequest {
    let mut request = HttpRequest::new("GET", "http", "example.com", path);
    request.destination_port = Some(80);
    request
}

/// The backend the filter recorded in its `gatewasm` filter state.
fn backend(outcome: &StreamOutcome) -> Option<String> {
    let decision = String::from_utf8_lossy(outcome.filter_state.get("gatewasm")?).into_owned();
    decision.split(' ').nth(2).map(str::to_owned)
}

#[test]
fn empty_configuration_routes_nothing() {
    let mut proxy = start(Vec::new());
    let outcome = proxy.stream(&get("/"));
    assert_eq!(
        outcome.status(),
        Some(404),
        "{outcome:#?}\n{:#?}",
        proxy.logs()
    );
    assert_eq!(
        outcome.local_reply.as_ref().map(|r| r.details.as_str()),
        Some("gatewasm_no_route")
    );
    assert!(outcome.trap.is_none());
}

#[test]
fn unparseable_configuration_is_rejected_with_its_position() {
    let err = Proxy::start(
        module(),
        PluginOptions {
            configuration: b"{\"gateway\": ".to_vec(),
            ..PluginOptions::default()
        },
    )
    .err()
    .expect("rejected");
    let logged: Vec<_> = err
        .logs
        .iter()
        .filter(|l| l.level == LogLevel::Error)
        .map(|l| l.message.as_str())
        .collect();
    assert!(
        logged.iter().any(|m| m.starts_with("configuration: ")
            && m.contains("line 1")
            && m.ends_with("configuration rejected, the previous one keeps serving")),
        "{logged:?}"
    );
}

#[test]
fn a_rejected_update_leaves_the_previous_table_serving() {
    let mut proxy = start(config("/api", "v1", None));
    assert_eq!(
        backend(&proxy.stream(&get("/api/x"))).as_deref(),
        Some("app/v1:8080")
    );

    assert!(proxy.reconfigure(b"not json".to_vec()).is_err());
    assert!(proxy
        .reconfigure(config("/api", "v1", Some(r#"{"mode": "carrier-pigeon"}"#)))
        .is_err());
    assert_eq!(
        backend(&proxy.stream(&get("/api/x"))).as_deref(),
        Some("app/v1:8080")
    );

    proxy
        .reconfigure(config("/api", "v2", None))
        .expect("good update accepted");
    assert_eq!(
        backend(&proxy.stream(&get("/api/x"))).as_deref(),
        Some("app/v2:8080")
    );
}

/// The value of response header `name` the client received.
fn response_header(outcome: &StreamOutcome, name: &str) -> Option<String> {
    let (_, value) = outcome.response_headers.iter().find(|(n, _)| n == name)?;
    Some(String::from_utf8_lossy(value).into_owned())
}

/// `outcome` went to `backend` under the configuration tagged `tag` (see [`tagged`]).
fn assert_served(outcome: &StreamOutcome, backend_name: &str, tag: &str) {
    assert_eq!(
        (outcome.status(), backend(outcome).as_deref()),
        (Some(200), Some(backend_name)),
        "{outcome:#?}"
    );
    assert_eq!(
        response_header(outcome, "x-config").as_deref(),
        Some(tag),
        "{outcome:#?}"
    );
    assert!(outcome.trap.is_none(), "{outcome:#?}");
}

#[test]
fn a_stream_in_flight_finishes_with_the_configuration_it_started_under() {
    let mut proxy = start(tagged("one", "v1"));
    let a = proxy.begin_stream(&get("/api/a"));
    assert!(a.in_flight());

    proxy
        .reconfigure(tagged("two", "v2"))
        .expect("good update accepted");
    let b = proxy.begin_stream(&get("/api/b"));
    assert_served(&proxy.finish_stream(b), "app/v2:8080", "two");

    // A's request phase chose v1 and the `one` response edits; its response phase applies them.
    assert_served(&proxy.finish_stream(a), "app/v1:8080", "one");
    assert_served(&proxy.stream(&get("/api/c")), "app/v2:8080", "two");
}

#[test]
fn a_rejected_update_while_a_stream_is_in_flight_changes_nothing() {
    let mut proxy = start(tagged("one", "v1"));
    let a = proxy.begin_stream(&get("/api/a"));
    assert!(a.in_flight());

    let err = proxy
        .reconfigure(b"{\"resources\": [".to_vec())
        .expect_err("unparseable update rejected");
    let why = |m: &str| {
        m.starts_with("configuration: ")
            && m.ends_with("configuration rejected, the previous one keeps serving")
    };
    assert!(
        err.logs
            .iter()
            .any(|l| l.level == LogLevel::Error && why(&l.message)),
        "{:#?}",
        err.logs
    );
    assert!(
        proxy.logs().iter().any(|l| why(&l.message)),
        "the proxy's log keeps the reason"
    );

    assert_served(&proxy.stream(&get("/api/b")), "app/v1:8080", "one");
    assert_served(&proxy.finish_stream(a), "app/v1:8080", "one");
}

#[test]
fn a_stream_in_flight_outlives_the_removal_of_its_route() {
    let mut proxy = start(tagged("one", "v1"));
    let a = proxy.begin_stream(&get("/api/a"));
    let cluster = a.upstream().and_then(|u| {
        u.headers
            .iter()
            .find(|(n, _)| n == "x-gatewasm-cluster")
            .map(|(_, v)| v.clone())
    });
    assert_eq!(
        cluster.as_deref(),
        Some(&b"outbound|8080||v1.app.svc.cluster.local"[..]),
        "A went upstream to v1 before the update"
    );

    proxy
        .reconfigure(configuration("", None))
        .expect("a configuration without routes is accepted");
    let b = proxy.stream(&get("/api/b"));
    assert_eq!(
        (
            b.status(),
            b.local_reply.as_ref().map(|r| r.details.as_str())
        ),
        (Some(404), Some("gatewasm_no_route")),
        "{b:#?}"
    );

    assert_served(&proxy.finish_stream(a), "app/v1:8080", "one");
}

#[test]
fn a_broken_rule_is_dropped_and_named_while_the_rest_serves() {
    let mut manifests = Manifests::default();
    manifests
        .add_yaml(&format!(
            "{GATEWAY}---\nkind: HTTPRoute\nmetadata: {{name: r, namespace: app}}\nspec:\n  parentRefs: [{{name: gw, namespace: infra}}]\n  rules:\n  - matches: [{{path: {{type: Exact, value: api}}}}]\n    backendRefs: [{{name: bad, port: 80}}]\n  - backendRefs: [{{name: good, port: 80}}]\n"
        ))
        .unwrap();
    let proxy_config =
        serde_json::to_vec(&manifests.plugin_config(Some("infra/gw"), None)).unwrap();
    let mut proxy = start(proxy_config);
    let errors: Vec<_> = proxy
        .logs()
        .iter()
        .filter(|l| l.level == LogLevel::Error)
        .map(|l| l.message.clone())
        .collect();
    assert!(
        errors.contains(&"HTTPRoute app/r: spec.rules[0].matches[0].path: \"api\" must start with \"/\"; the rule was dropped".to_owned()),
        "{errors:?}"
    );
    assert_eq!(
        backend(&proxy.stream(&get("/api"))).as_deref(),
        Some("app/good:80")
    );
}

#[test]
fn cluster_header_mode_sets_the_header_and_clears_the_route_cache() {
    let mut proxy = start(config("/", "web", None));
    let outcome = proxy.stream(&get("/").header("x-gatewasm-cluster", "outbound|1||attacker.evil"));
    assert_eq!(
        outcome.upstream_header("x-gatewasm-cluster"),
        Some(&b"outbound|8080||web.app.svc.cluster.local"[..])
    );
    let upstream = outcome.upstream.as_ref().expect("forwarded");
    assert_eq!(
        upstream
            .headers
            .iter()
            .filter(|(n, _)| n == "x-gatewasm-cluster")
            .count(),
        1,
        "a client-sent value never survives"
    );
    assert!(outcome.route_cache_cleared);
    assert!(!upstream.headers_modified_after_route);
    assert_eq!(
        outcome.filter_state.get("gatewasm").map(Vec::as_slice),
        Some(&b"app/r 0 app/web:8080"[..])
    );
}

#[test]
fn authority_mode_rewrites_authority_and_keeps_the_original() {
    let mut proxy = start(config("/", "web", Some(r#"{"mode": "authority"}"#)));
    let outcome = proxy.stream(&get("/"));
    assert_eq!(
        outcome.upstream_header(":authority"),
        Some(&b"web.app.svc.cluster.local:8080"[..])
    );
    assert_eq!(
        outcome.upstream_header("x-forwarded-host"),
        Some(&b"example.com"[..])
    );
    assert!(outcome.upstream_header("x-gatewasm-cluster").is_none());
    assert!(outcome.route_cache_cleared);
}

#[test]
fn grpc_requests_without_a_route_get_unimplemented() {
    let mut proxy = start(config("/api", "web", None));
    let outcome = proxy.stream(&get("/pkg.Svc/Method").header("content-type", "application/grpc"));
    let reply = outcome.local_reply.as_ref().expect("answered locally");
    assert_eq!((reply.status, reply.grpc_status), (200, Some(12)));
}

#[test]
fn hostile_requests_never_trap() {
    let mut proxy = start(config("/", "web", None));
    let mut seed = 0x1234_5678_9abc_def0_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let bytes = |next: &mut dyn FnMut() -> u64, len: usize| {
        (0..len).map(|_| (next() & 0xff) as u8).collect::<Vec<u8>>()
    };
    for i in 0..300 {
        let len = (next() % 64) as usize;
        let destination_port = if i % 3 == 0 {
            None
        } else {
            Some((next() % 3) as u16 * 40 + 80)
        };
        let headers = vec![
            (":method".into(), bytes(&mut next, len % 9)),
            (":scheme".into(), b"http".to_vec()),
            (":authority".into(), bytes(&mut next, len)),
            (
                ":path".into(),
                [b"/".to_vec(), bytes(&mut next, len * 4)].concat(),
            ),
            ("x-bin".into(), bytes(&mut next, len)),
            ("x-bin".into(), vec![0xff, 0xfe, 0x00, 0x80]),
            (
                "content-type".into(),
                if i % 2 == 0 {
                    b"application/grpc".to_vec()
                } else {
                    bytes(&mut next, 8)
                },
            ),
        ];
        let mut request = HttpRequest {
            headers,
            destination_port,
            ..HttpRequest::default()
        };
        if i % 7 == 0 {
            request.headers.retain(|(n, _)| !n.starts_with(':'));
        }
        let outcome = proxy.stream(&request);
        assert!(
            outcome.trap.is_none(),
            "request {i} trapped: {:?}",
            outcome.trap
        );
        assert!(
            outcome.upstream.is_some() || outcome.local_reply.is_some(),
            "request {i} stalled"
        );
    }
}

/// A Gateway whose listeners share one port needs no `destination.port` per request; with two
/// ports the filter asks, and a request on each port reaches that port's listener.
#[test]
fn the_port_is_read_only_when_listeners_differ_in_port() {
    let route = "kind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  rules:\n  - backendRefs: [{name: svc, port: 8080}]\n";
    let mut one_port = start(configuration(route, None));
    let outcome = one_port.stream(&get("/"));
    assert!(outcome.upstream.is_some(), "{outcome:?}");
    assert!(
        !outcome.calls.contains(&"proxy_get_property"),
        "{:?}",
        outcome.calls
    );

    let mut manifests = Manifests::default();
    manifests
        .add_yaml(&format!(
            "kind: Gateway\nmetadata: {{name: gw, namespace: infra}}\nspec:\n  listeners:\n  - {{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}\n  - {{name: alt, port: 8000, protocol: HTTP, hostname: other.example, allowedRoutes: {{namespaces: {{from: All}}}}}}\n---\n{route}"
        ))
        .unwrap();
    let two_ports = serde_json::to_vec(&manifests.plugin_config(Some("infra/gw"), None)).unwrap();
    let mut two_ports = start(two_ports);
    let outcome = two_ports.stream(&get("/"));
    assert!(
        outcome.calls.contains(&"proxy_get_property"),
        "{:?}",
        outcome.calls
    );
    assert!(outcome.upstream.is_some(), "{outcome:?}");
    let mut on_8000 = get("/");
    on_8000.destination_port = Some(8000);
    let outcome = two_ports.stream(&on_8000);
    assert_eq!(outcome.status(), Some(404), "{outcome:?}");
}

/// The worker VM's value of a metric, by its Prometheus series.
fn metric(proxy: &Proxy, series: &str) -> Option<u64> {
    let metrics = proxy.metrics();
    metrics
        .iter()
        .find(|m| m.series() == series)
        .map(|m| m.value)
}

#[test]
fn configuration_metrics_say_what_serves_and_whether_the_last_update_was_rejected() {
    use gatewasm_core::metrics::configuration_generation;

    let first = config("/api", "v1", None);
    let mut proxy = start(first.clone());
    let accepted = r#"gatewasm_configurations_total{result="accepted"}"#;
    let rejected = r#"gatewasm_configurations_total{result="rejected"}"#;
    let warnings = r#"gatewasm_configuration_problems{severity="warning"}"#;
    // Every VM that configures counts: Envoy's canary, then the worker (one per worker thread).
    assert_eq!(metric(&proxy, accepted), Some(2));
    assert_eq!(metric(&proxy, "gatewasm_configuration_rejected"), Some(0));
    let generation = Some(configuration_generation(&first));
    assert_eq!(
        metric(&proxy, "gatewasm_configuration_generation"),
        generation
    );
    assert_eq!(metric(&proxy, "gatewasm_routes"), Some(1));
    assert_eq!(metric(&proxy, "gatewasm_rules"), Some(1));
    assert_eq!(metric(&proxy, warnings), Some(0));

    // The canary rejects it; the worker never sees it.
    assert!(proxy.reconfigure(b"not json".to_vec()).is_err());
    assert_eq!(metric(&proxy, rejected), Some(1));
    assert_eq!(metric(&proxy, "gatewasm_configuration_rejected"), Some(1));
    assert_eq!(
        metric(&proxy, "gatewasm_configuration_generation"),
        generation,
        "the configuration serving is still the first"
    );
    assert_eq!(
        backend(&proxy.stream(&get("/api/x"))).as_deref(),
        Some("app/v1:8080")
    );

    // Two routes, one with a field this version does not know: accepted with a warning.
    let second = configuration(
        "kind: HTTPRoute\nmetadata: {name: a, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  rules: [{backendRefs: [{name: v2, port: 8080}]}]\n---\nkind: HTTPRoute\nmetadata: {name: b, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  colour: blue\n  rules: [{matches: [{path: {value: /b}}], backendRefs: [{name: v2, port: 8080}]}, {matches: [{path: {value: /c}}], backendRefs: [{name: v2, port: 8080}]}]\n",
        None,
    );
    proxy.reconfigure(second.clone()).expect("accepted");
    assert_eq!(metric(&proxy, accepted), Some(4));
    assert_eq!(metric(&proxy, "gatewasm_configuration_rejected"), Some(0));
    assert_eq!(
        metric(&proxy, "gatewasm_configuration_generation"),
        Some(configuration_generation(&second))
    );
    assert_eq!(metric(&proxy, "gatewasm_routes"), Some(2));
    assert_eq!(metric(&proxy, "gatewasm_rules"), Some(3));
    assert_eq!(metric(&proxy, warnings), Some(1));
}

#[test]
fn the_example_alerts_and_dashboard_use_only_metrics_the_filter_defines() {
    let mut proxy = start(configuration(
        "kind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{name: gw, namespace: infra}]\n  rules:\n  - matches: [{path: {value: /api}}]\n    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 8080}}}]\n    backendRefs: [{name: v1, port: 8080}]\n",
        None,
    ));
    proxy.stream(&get("/api"));
    proxy.stream(&get("/elsewhere"));
    assert!(proxy.reconfigure(b"not json".to_vec()).is_err());
    let defined: Vec<String> = proxy
        .metrics()
        .iter()
        .map(|m| m.series().split('{').next().unwrap().to_owned())
        .collect();

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/observability");
    let mut used = Vec::new();
    for file in [
        "prometheus-rules.yaml",
        "grafana-dashboard.json",
        "README.md",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for (at, _) in text.match_indices("gatewasm_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !used.contains(&name) {
                used.push(name);
            }
        }
    }
    used.retain(|name| name != "gatewasm_" && !defined.contains(name));
    assert!(
        used.is_empty(),
        "not defined by the filter: {used:?}; defined: {defined:?}"
    );
}
