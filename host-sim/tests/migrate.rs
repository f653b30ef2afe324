//! `host-sim migrate` on the seed's step 3 and on `examples/ingress-migration/`: the converted
//! objects, the notes and the replay report through the real `gatewasm.wasm` are compared with
//! the files beside the manifests (`GATEWASM_BLESS=1` rewrites them), and the facts the reports
//! rest on are asserted on their own.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use host_sim::envoy::WasmModule;
use host_sim::manifests::Manifests;
use host_sim::migrate::verify::{problem_lines, Verification};
use host_sim::migrate::{Migration, Options};
use host_sim::wasm;
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The module, built and compiled once for all tests (they run in parallel).
fn module() -> &'static WasmModule {
    static MODULE: OnceLock<WasmModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = wasm::locate(None, wasm::FILTER_PACKAGE).unwrap();
        WasmModule::from_file(&path).unwrap()
    })
}

/// Converts and replays the manifests at `manifests`; compares the three reports with
/// `<stem>.gateway-api.yaml`, `<stem>.notes.txt` and `<stem>.verify.txt` in `golden`.
fn migrate(
    manifests: &str,
    options: &Options,
    golden: &str,
    stem: &str,
) -> (Migration, Verification) {
    let root = root();
    let loaded = Manifests::load(&root.join(manifests)).unwrap();
    let migration = Migration::build(&loaded, options).unwrap();
    let verification = Verification::run(&migration, module()).unwrap();
    let mut notes = problem_lines(migration.problems());
    for note in migration.distinct_notes() {
        notes.push_str(&format!("{note}\n"));
    }
    let outputs = [
        ("gateway-api.yaml", migration.yaml().unwrap()),
        ("notes.txt", notes),
        ("verify.txt", verification.render(&migration)),
    ];
    let mut stale = Vec::new();
    for (suffix, text) in outputs {
        let path = root.join(golden).join(format!("{stem}.{suffix}"));
        if std::env::var_os("GATEWASM_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != text {
            stale.push(format!("{}:\n{text}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "outputs differ from the files (GATEWASM_BLESS=1 rewrites them):\n{}",
        stale.join("\n")
    );
    (migration, verification)
}

fn route<'a>(migration: &'a Migration, name: &str) -> &'a Value {
    migration
        .objects
        .iter()
        .find(|o| o["kind"] == "HTTPRoute" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no HTTPRoute {name}"))
}

#[test]
fn the_seed_canary_without_a_primary_serves_nothing_and_converts_to_nothing() {
    let options = Options {
        without_class: true,
        ..Options::default()
    };
    let (migration, verification) = migrate(
        "testdata/seed/step3/as-written.yaml",
        &options,
        "testdata/seed/step3",
        "as-written",
    );
    assert!(migration
        .problems()
        .iter()
        .any(|p| p.object == "Ingress default/app-ingress" && p.message.contains("no primary")));
    assert!(!migration.objects.iter().any(|o| o["kind"] == "HTTPRoute"));
    assert_eq!(verification.differing(), 0);
}

#[test]
fn the_seed_pair_converts_to_the_guides_80_20_route_and_replays_the_same() {
    let (migration, verification) = migrate(
        "testdata/seed/step3/with-primary.yaml",
        &Options::default(),
        "testdata/seed/step3",
        "with-primary",
    );
    let route = route(&migration, "app-ingress-app-example-com");
    assert_eq!(route["metadata"]["namespace"], "app");
    assert_eq!(route["spec"]["hostnames"], json!(["app.example.com"]));
    let rules = route["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0]["matches"],
        json!([{"path": {"type": "PathPrefix", "value": "/api"}}])
    );
    assert_eq!(
        rules[0]["backendRefs"],
        json!([{"name": "api-v1", "port": 8080, "weight": 80}, {"name": "api-v2", "port": 8080, "weight": 20}])
    );
    assert!(verification.probes.iter().any(|p| p.split));
    assert_eq!(verification.differing(), 0);
}

#[test]
fn the_example_reports_each_difference_under_its_cause() {
    let (migration, verification) = migrate(
        "examples/ingress-migration/manifests",
        &Options::default(),
        "examples/ingress-migration",
        "migrate",
    );
    assert!(verification.differing() > 0);
    let causes: Vec<String> = verification
        .groups
        .iter()
        .map(|g| {
            g.note
                .map(|n| migration.notes[n].cause.clone())
                .unwrap_or_default()
        })
        .collect();
    assert!(
        !causes.contains(&String::new()),
        "unexplained differences: {causes:?}"
    );
    assert!(migration
        .notes
        .iter()
        .any(|n| n.security && n.cause.ends_with("/configuration-snippet")));
}
