//! `host-sim check` on every folder of `testdata/troubleshooting/`, against its golden files.
//!
//! A folder holds `manifests.yaml` (or `check.args`: the arguments to check instead, one per
//! line, relative to the workspace), and the expected stdout of `check` and of
//! `check --output json` in `check.txt` and `check.json`. The exit status must agree with the
//! JSON summary. The folders' `cases.yaml` files are run by `tests/cases.rs` like every case file.
//!
//! `GATEWASM_BLESS=1 cargo test -p host-sim --test troubleshooting` rewrites the golden files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn folders() -> Vec<PathBuf> {
    let root = workspace().join("testdata/troubleshooting");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    folders
}

/// `check`'s arguments for a folder, relative to the workspace.
fn check_args(folder: &Path) -> Vec<String> {
    let args = folder.join("check.args");
    if args.exists() {
        return std::fs::read_to_string(args)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
    }
    let manifests = folder.join("manifests.yaml");
    assert!(
        manifests.exists(),
        "{} has no manifests.yaml",
        folder.display()
    );
    vec![manifests
        .strip_prefix(workspace())
        .unwrap()
        .display()
        .to_string()]
}

/// Runs `host-sim check ARGS [extra]` from the workspace: stdout and exit code.
fn check(args: &[String], extra: &[&str]) -> (String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_host-sim"))
        .arg("check")
        .args(args)
        .args(extra)
        .current_dir(workspace())
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "host-sim check {} exited {code}:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    (String::from_utf8(output.stdout).unwrap(), code)
}

#[test]
fn every_folder_matches_its_golden_check_output() {
    let bless = std::env::var_os("GATEWASM_BLESS").is_some();
    let mut stale = Vec::new();
    for folder in folders() {
        let args = check_args(&folder);
        let (text, text_code) = check(&args, &[]);
        let (json, json_code) = check(&args, &["--output", "json"]);
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            text_code, json_code,
            "{name}: text and JSON exit differently"
        );
        let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            summary["summary"]["exitCode"], text_code,
            "{name}: the exit status is not the one the summary gives"
        );
        for (file, got) in [("check.txt", &text), ("check.json", &json)] {
            let path = folder.join(file);
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if *got == want {
                continue;
            }
            if bless {
                std::fs::write(&path, got).unwrap();
            } else {
                stale.push(format!(
                    "{name}/{file} differs from `host-sim check {}`:\n{}",
                    args.join(" "),
                    first_difference(&want, got)
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nregenerate with GATEWASM_BLESS=1 cargo test -p host-sim --test troubleshooting",
        stale.join("\n")
    );
}

/// The first line that differs, as expected/got.
fn first_difference(want: &str, got: &str) -> String {
    let mut want_lines = want.lines();
    let mut got_lines = got.lines();
    for line in 1.. {
        match (want_lines.next(), got_lines.next()) {
            (None, None) => break,
            (w, g) if w != g => {
                return format!(
                    "  line {line}\n  expected: {}\n  got:      {}",
                    w.unwrap_or("<end>"),
                    g.unwrap_or("<end>")
                )
            }
            _ => {}
        }
    }
    "  (line endings differ)".to_owned()
}

/// Every row of the seed's troubleshooting table ("报错排查", rows 1 to 10) and every pitfall
/// that applies to a data plane has its folder, and so do the seed's own examples.
#[test]
fn every_seed_row_and_pitfall_has_a_reproducer() {
    let names: Vec<String> = folders()
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for row in 1..=10 {
        let prefix = format!("{row:02}-");
        assert!(
            names.iter().any(|n| n.starts_with(&prefix)),
            "no folder for row {row}"
        );
    }
    for pitfall in [2, 3, 4] {
        let prefix = format!("pitfall-{pitfall}-");
        assert!(
            names.iter().any(|n| n.starts_with(&prefix)),
            "no folder for pitfall {pitfall}"
        );
    }
    for seed in ["seed-production", "seed-migration"] {
        assert!(names.iter().any(|n| n == seed), "no folder {seed}");
    }
}

#[test]
fn unreadable_manifests_exit_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_host-sim"))
        .args(["check", "testdata/troubleshooting/no-such-file.yaml"])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("failed to read"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("troubleshooting-not-yaml.yaml");
    std::fs::write(&scratch, "kind: [unclosed").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_host-sim"))
        .arg("check")
        .arg(&scratch)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
