//! What the integration tests that check artefacts against real schemas share: the workspace,
//! scratch folders, and the schema checkers in `tests/schema/` (Envoy's API types through
//! Python, the CRDs through Node.js), which fail the test with the install command when their
//! interpreter or packages are missing, never skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

pub(crate) const PIP: &str = "pip install -r host-sim/tests/schema/requirements.txt";
pub(crate) const NPM: &str = "npm ci --prefix host-sim/tests/schema";

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema")
}

/// A fresh folder under cargo's temporary folder for integration tests.
pub(crate) fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "schema-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a schema checker; `Err` carries its report when the input is refused. A missing
/// interpreter or package fails the test with the install command.
pub(crate) fn checker(program: &str, args: &[&str], install: &str) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run {program} ({err}): the schema tests need it, then `{install}`")
        });
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    match output.status.code() {
        Some(0) => Ok(report),
        Some(3) => {
            panic!("the schema packages are missing; install them with `{install}`:\n{report}")
        }
        _ => Err(report),
    }
}

/// Istio's and the Prometheus Operator's CRDs: checks a JSON array of objects.
pub(crate) fn crd_check(file: &Path) -> Result<String, String> {
    let script = schema_dir().join("crd_check.mjs");
    checker(
        "node",
        &[script.to_str().unwrap(), file.to_str().unwrap()],
        NPM,
    )
}

/// The documents of a YAML text as kubectl and Envoy read them (PyYAML, YAML 1.1), checked
/// against how host-sim's own YAML reader reads them.
pub(crate) fn documents(yaml_file: &Path) -> Vec<Value> {
    let script = schema_dir().join("envoy_check.py");
    let json = checker(
        "python3",
        &[
            script.to_str().unwrap(),
            "yaml-to-json",
            yaml_file.to_str().unwrap(),
        ],
        PIP,
    )
    .unwrap_or_else(|report| panic!("{} is not YAML:\n{report}", yaml_file.display()));
    let documents: Vec<Value> = serde_json::from_str(&json).unwrap();
    let text = std::fs::read_to_string(yaml_file).unwrap();
    let ours: Vec<Value> = serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|d: &Value| !d.is_null())
        .collect();
    assert_eq!(documents, ours, "YAML 1.1 and 1.2 readers disagree");
    documents
}

pub(crate) fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}
