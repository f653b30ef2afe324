//! Finding the `.wasm` to run: `--wasm FILE`, else `$GATEWASM_WASM`, else the module built from
//! this workspace. Building from the workspace runs `cargo build --release --target
//! wasm32-wasip1 -p <package>` (a no-op when up to date), takes the artefact path from cargo's
//! own JSON messages, so a custom target directory works too, and then optimises it with
//! binaryen's `wasm-opt` and demangles its function names (`names`), as the module ships: what
//! host-sim runs is what Envoy loads.
//!
//! `wasm-opt` is `$WASM_OPT`, else `tools/node_modules/.bin/wasm-opt` (`npm ci --prefix tools`
//! installs the pinned binaryen), else `wasm-opt` on `PATH`. Without it host-sim runs the module
//! as the compiler wrote it, which behaves the same but is larger, and says so; with
//! `GATEWASM_REQUIRE_WASM_OPT` set (`scripts/test` sets it) that is an error instead.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod names;

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
    optimise(&build(package)?)
}

/// What `wasm-opt` does to a built module: optimise for size (`-Os` runs requests as fast as
/// the compiler's own output in `host-sim bench`, in 70 KB less), keeping the name section
/// (`--debuginfo`) so that Envoy can name the functions of a trap's backtrace.
pub const WASM_OPT_FLAGS: [&str; 2] = ["-Os", "--debuginfo"];

/// The module `wasm-opt` makes of `built`, its function names demangled, written to
/// `optimised/` beside it and reused while newer than `built`; `built` itself when no
/// `wasm-opt` is installed.
///
/// # Errors
///
/// When `wasm-opt` is found but fails, or the result cannot be written.
pub fn optimise(built: &Path) -> Result<PathBuf> {
    let Some(tool) = wasm_opt() else {
        if std::env::var_os("GATEWASM_REQUIRE_WASM_OPT").is_some() {
            bail!(
                "wasm-opt not found, and GATEWASM_REQUIRE_WASM_OPT asks for the module as it \
                 ships: run `npm ci --prefix tools`, or set WASM_OPT"
            );
        }
        eprintln!(
            "host-sim: wasm-opt not found; running {} as compiled, not as it ships \
             (`npm ci --prefix tools` installs it)",
            built.display()
        );
        return Ok(built.to_path_buf());
    };
    let (Some(dir), Some(name)) = (built.parent(), built.file_name()) else {
        bail!("{} is not a file path", built.display());
    };
    let out = dir.join("optimised").join(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(done), Some(input)) = (modified(&out), modified(built)) {
        if done >= input {
            return Ok(out);
        }
    }
    std::fs::create_dir_all(dir.join("optimised"))
        .with_context(|| format!("failed to create {}", dir.join("optimised").display()))?;
    // Written aside and renamed, so a concurrent run never reads half a module.
    let partial = out.with_extension(format!("wasm.{}", std::process::id()));
    let output = Command::new(&tool)
        .arg(built)
        .args(WASM_OPT_FLAGS)
        .arg("-o")
        .arg(&partial)
        .output()
        .with_context(|| format!("failed to run {}", tool.to_string_lossy()))?;
    if !output.status.success() {
        bail!(
            "`{} {} {} -o {}` failed:\n{}",
            tool.to_string_lossy(),
            built.display(),
            WASM_OPT_FLAGS.join(" "),
            partial.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let optimised =
        std::fs::read(&partial).with_context(|| format!("failed to read {}", partial.display()))?;
    let demangled = names::demangle(&optimised)
        .with_context(|| format!("{} written by wasm-opt", partial.display()))?;
    std::fs::write(&partial, demangled)
        .with_context(|| format!("failed to write {}", partial.display()))?;
    std::fs::rename(&partial, &out)
        .with_context(|| format!("failed to write {}", out.display()))?;
    Ok(out)
}

/// `$WASM_OPT`, the workspace's pinned binaryen, or `wasm-opt` on `PATH`.
fn wasm_opt() -> Option<OsString> {
    if let Some(tool) = std::env::var_os("WASM_OPT").filter(|t| !t.is_empty()) {
        return Some(tool);
    }
    let pinned = workspace()
        .map(|w| w.join("tools/node_modules/.bin/wasm-opt"))
        .filter(|p| p.is_file());
    if let Some(pinned) = pinned {
        return Some(pinned.into_os_string());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("wasm-opt"))
        .find(|p| p.is_file())
        .map(PathBuf::into_os_string)
}

/// The gatewasm workspace host-sim was built in, when it is still there.
fn workspace() -> Option<&'static Path> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .filter(|w| w.join("Cargo.toml").is_file())
}

/// Builds `package` for wasm32-wasip1 in release mode and returns the `.wasm` path.
///
/// # Errors
///
/// When cargo is missing, the build fails, or no `.wasm` artefact is reported.
pub fn build(package: &str) -> Result<PathBuf> {
    let workspace = workspace().context(
        "host-sim was built outside the gatewasm workspace; pass --wasm FILE or set GATEWASM_WASM",
    )?;
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
