//! The hand-written examples against the systems they are for: examples/observability's
//! PrometheusRule against the Prometheus Operator's CRD (`schema/crd_check.mjs`, npm package
//! @kubernetes-models/prometheus-operator) with every query of it and of the Grafana dashboard
//! parsed by Prometheus' own PromQL grammar (`schema/promql_check.mjs`, npm package
//! @prometheus-io/lezer-promql), and examples/envoy's docker-compose.yaml against the bootstrap
//! it runs. The checkers fail the test, never skip it, when their packages are missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod common;

use std::path::Path;

use common::{checker, crd_check, documents, schema_dir, scratch, workspace, write_json, NPM};
use serde_json::Value;

/// Prometheus' PromQL grammar: parses a JSON array of expressions.
fn promql_check(file: &Path) -> Result<String, String> {
    let script = schema_dir().join("promql_check.mjs");
    checker(
        "node",
        &[script.to_str().unwrap(), file.to_str().unwrap()],
        NPM,
    )
}

/// Every `expr` in a JSON value, depth first.
fn expressions(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", Value::String(expr)) => found.push(expr.clone()),
                    _ => expressions(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| expressions(v, found)),
        _ => {}
    }
}

#[test]
fn the_example_alerts_and_dashboard_pass_the_crd_and_promql() {
    let dir = workspace().join("examples/observability");
    let rules = documents(&dir.join("prometheus-rules.yaml"));
    let scratch = scratch("observability");
    if let Err(report) = crd_check(&write_json(
        &scratch,
        "rules.json",
        &Value::from(rules.clone()),
    )) {
        panic!("the PrometheusRule fails its CRD:\n{report}");
    }
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("grafana-dashboard.json")).unwrap())
            .unwrap();
    let mut exprs = Vec::new();
    expressions(&Value::from(rules), &mut exprs);
    let alerts = exprs.len();
    expressions(&dashboard, &mut exprs);
    assert!(alerts >= 4 && exprs.len() > alerts + 8, "{exprs:#?}");
    if let Err(report) = promql_check(&write_json(&scratch, "exprs.json", &Value::from(exprs))) {
        panic!("an example query is not PromQL:\n{report}");
    }
    // The checker itself refuses what Prometheus refuses.
    let broken = write_json(
        &scratch,
        "broken.json",
        &serde_json::json!(["sum(rate(x[5m])"]),
    );
    assert!(promql_check(&broken).is_err());
}

// === the Envoy example's docker-compose.yaml fits its bootstrap ===

/// Every `socket_address` of a bootstrap, as (address, port), found at any depth under `at`.
fn socket_addresses(value: &Value, out: &mut Vec<(String, u64)>) {
    match value {
        Value::Object(map) => {
            if let Some(socket) = map.get("socket_address") {
                out.push((
                    socket["address"].as_str().unwrap().to_owned(),
                    socket["port_value"].as_u64().unwrap(),
                ));
            }
            map.values().for_each(|v| socket_addresses(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| socket_addresses(v, out)),
        _ => {}
    }
}

/// Every `filename` of a bootstrap (the module, certificates), at any depth.
fn filenames(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("filename").and_then(Value::as_str) {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| filenames(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| filenames(v, out)),
        _ => {}
    }
}

#[test]
fn the_envoy_compose_file_mounts_what_exists_and_publishes_the_bootstraps_ports() {
    let example = workspace().join("examples/envoy");
    let compose = &documents(&example.join("docker-compose.yaml"))[0];
    let bootstrap = &documents(&example.join("envoy.yaml"))[0];
    let services = compose["services"].as_object().unwrap();
    let envoy = &services["envoy"];
    assert!(
        envoy["image"]
            .as_str()
            .unwrap()
            .starts_with("envoyproxy/envoy:v1."),
        "Envoy is pinned by a version tag"
    );

    // Mounts: every file mounted from this folder exists, the module is the one host-sim
    // builds and optimises, and each lands where the bootstrap reads it.
    let mounts: Vec<(String, String)> = envoy["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let mut parts = v.as_str().unwrap().split(':');
            let source = parts.next().unwrap().to_owned();
            (source, parts.next().unwrap().to_owned())
        })
        .collect();
    let target_of = |source_suffix: &str| {
        mounts
            .iter()
            .find(|(s, _)| s.ends_with(source_suffix))
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("nothing mounts {source_suffix}"))
    };
    for (source, _) in mounts.iter().filter(|(s, _)| s.starts_with('.')) {
        let path = example.join(source);
        if source.ends_with(".wasm") {
            let module = host_sim::wasm::locate(None, host_sim::wasm::FILTER_PACKAGE).unwrap();
            assert_eq!(
                path.canonicalize().ok(),
                module.canonicalize().ok(),
                "the compose file mounts {source}, host-sim runs {} (the module as it ships \
                 needs wasm-opt: npm ci --prefix tools)",
                module.display()
            );
        }
        assert!(path.is_file(), "{source} does not exist");
    }
    let command: Vec<&str> = envoy["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command, ["-c", target_of("/envoy.yaml").as_str()]);
    let mut files = Vec::new();
    filenames(bootstrap, &mut files);
    assert!(files.contains(&target_of(".wasm")), "module at {files:?}");
    let certs = target_of("certs");
    assert!(
        files
            .iter()
            .filter(|f| f.ends_with(".crt") || f.ends_with(".key"))
            .all(|f| f.starts_with(&format!("{certs}/infra/prod-wildcard-cert/"))),
        "certificates at {files:?}, volume at {certs}"
    );
    assert!(services["certs"]["command"]
        .to_string()
        .contains("/certs/infra/prod-wildcard-cert"));

    // Ports: the published container ports are exactly the bootstrap's listeners and admin.
    let mut sockets = Vec::new();
    socket_addresses(bootstrap, &mut sockets);
    let mut listening: Vec<u64> = sockets
        .iter()
        .filter(|(address, _)| address == "0.0.0.0")
        .map(|(_, port)| *port)
        .collect();
    listening.sort_unstable();
    let mut published: Vec<u64> = envoy["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    published.sort_unstable();
    assert_eq!(
        published, listening,
        "published ports against the bootstrap's"
    );

    // Backends: the echo services are the hosts the bootstrap's api clusters send to.
    for backend in ["api-v1", "api-v2"] {
        assert!(services.contains_key(backend), "no service {backend}");
        assert!(
            sockets.contains(&(backend.to_owned(), 8080)),
            "the bootstrap does not send to {backend}:8080"
        );
        assert!(envoy["depends_on"].get(backend).is_some());
    }
}
