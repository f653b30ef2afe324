//! A whole Argo rollout replayed through one simulated proxy: the HTTPRoute the Gateway API
//! plugin writes at each step (0 → 20 → 50 with a header route → 100 → promoted) arrives as a
//! configuration update of the running filter, and the split is checked after each one.
//!
//! The steps and their expectations are the case files of `testdata/cases/rollouts/`, which
//! `tests/cases.rs` also runs one by one on fresh proxies; here they run in order on the same VM,
//! as Envoy applies successive updates of the plugin configuration.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::Path;

use host_sim::cases::LoadedFile;
use host_sim::envoy::WasmModule;
use host_sim::wasm;

/// The rollout's steps, in the order the plugin writes them.
const STEPS: [&str; 5] = [
    "httproute-0.yaml",
    "httproute-20.yaml",
    "httproute-50-header.yaml",
    "httproute-100.yaml",
    "httproute-done.yaml",
];

#[test]
fn every_step_of_a_rollout_routes_as_the_plugin_intends() {
    let path = wasm::locate(None, wasm::FILTER_PACKAGE).expect("build gatewasm.wasm");
    let module = WasmModule::from_file(&path).expect("load gatewasm.wasm");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases/rollouts");
    let steps: Vec<LoadedFile> = STEPS
        .iter()
        .map(|step| LoadedFile::load(&dir.join(step)).unwrap())
        .collect();
    let mut proxy = steps[0].start(&module).unwrap();
    let mut failures = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        if index > 0 {
            proxy
                .reconfigure(step.configuration.clone())
                .unwrap_or_else(|err| panic!("{STEPS:?}[{index}] refused: {err}"));
        }
        assert_eq!(
            proxy.configuration(),
            step.configuration.as_slice(),
            "the update is the configuration in force"
        );
        for case in &step.cases {
            if let Err(differences) = case.run(&mut proxy, step) {
                failures.push(format!(
                    "{} :: {}: {}",
                    STEPS[index],
                    case.name,
                    differences.join("; ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
