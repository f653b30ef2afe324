//! `host-sim route` as a user runs it: one request through the real module, printed as JSON.
//! Routing itself is pinned by the case files; this is about what the command's options do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `host-sim route ARGS --json` from the workspace root, its JSON.
fn route(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_host-sim"))
        .arg("route")
        .args(args)
        .arg("--json")
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "host-sim route {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn namespace_and_target_run_the_manifests_as_that_namespaces_sidecar() {
    // The mesh manifests of the sidecar case files, and a Sidecar in namespace client that
    // leaves only app/api known to the sidecars there.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("route-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        workspace().join("testdata/cases/mesh/manifests/sidecar-ports.yaml"),
        dir.join("services.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("sidecar.yaml"),
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: client}\nspec: {egress: [{hosts: [\"app/api.app.svc.cluster.local\"]}]}\n",
    )
    .unwrap();
    let config = dir.to_str().unwrap();
    let request = ["--request", "GET http://api.app:8080/same"];

    let anywhere = route(&[&["--config", config][..], &request].concat());
    assert_eq!(anywhere["backend"], "app/api-v1:8080", "{anywhere}");
    assert_eq!(
        anywhere["routed_cluster"], "outbound|8080||api-v1.app.svc.cluster.local",
        "without a namespace no Sidecar applies: {anywhere}"
    );

    // In clusterHeader mode (the default, as `config` writes it) the decision names the
    // cluster, which client's Sidecar leaves out; in authority mode the call takes the catch-all.
    let in_client = ["--config", config, "--namespace", "client"];
    let named = route(&[&in_client[..], &request].concat());
    assert_eq!(named["backend"], "app/api-v1:8080", "{named}");
    assert_eq!(
        named["cluster"], "outbound|8080||api-v1.app.svc.cluster.local",
        "{named}"
    );
    assert_eq!(
        named["routed_cluster"], "cluster not found (503)",
        "{named}"
    );
    let authority = route(&[&in_client[..], &["--target", "authority"], &request].concat());
    assert_eq!(authority["cluster"], Value::Null, "{authority}");
    assert_eq!(
        authority["routed_cluster"], "PassthroughCluster",
        "{authority}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
