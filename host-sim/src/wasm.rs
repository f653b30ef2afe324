//! Finding the `.wasm` to run: `--wasm FILE`, else `$GATEWASM_WASM`, else the module built from
//! this workspace. Building from the workspace runs `cargo build --release --target
//! wasm32-wasip1 -p <package>` (a no-op when up to date) and takes the artefact path from
//! cargo's own JSON messages, so a custom target directory works too.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The filter package whose module host-sim runs by default.
pub const FILTER_PACKAGE: &str = "gatewasm";

/// The module to run for `package`, building it from the workspace when needed.
///
/// # Errors
///
/// When the workspace is not available and no path was given, or the build fails.
pub fn locate(explicit: Option<&Path>, package: &str) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if package == FILTER_PACKAGE {
        if let Some(path) = std::env::var_os("GATEWASM_WASM") {
            return Ok(PathBuf::from(path));
        }
    }
    build(package)
}

/// Builds `package` for wasm32-wasip1 in release mode and returns the `.wasm` path.
///
/// # Errors
///
/// When cargo is missing, the build fails, or no `.wasm` artefact is reported.
pub fn build(package: &str) -> Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .filter(|w| w.join("Cargo.toml").is_file())
        .context("host-sim was built outside the gatewasm workspace; pass --wasm FILE or set GATEWASM_WASM")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-wasip1",
            "-p",
            package,
        ])
        .arg("--message-format=json-render-diagnostics")
        .output()
        .with_context(|| format!("failed to run {}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        bail!(
            "`cargo build --release --target wasm32-wasip1 -p {package}` failed:\n{}\n\
             (is the target installed? `rustup target add wasm32-wasip1`)",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let artefact = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact" && m["target"]["name"] == package.replace('-', "_")
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"));
    artefact.with_context(|| format!("cargo built {package} but reported no .wasm file"))
}
