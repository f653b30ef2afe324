//! `host-sim migrate`: the Gateway API objects for the Ingresses in PATH on stdout, what they
//! cannot say on stderr; with `--verify`, the replay report instead, exit 1 when a request
//! differs.

use std::io::Write;

use anyhow::Result;

use super::Exit;
use crate::cli::MigrateArgs;
use crate::envoy::WasmModule;
use crate::manifests::Manifests;
use crate::migrate::verify::Verification;
use crate::migrate::Migration;
use crate::wasm;

/// Runs `host-sim migrate`.
///
/// # Errors
///
/// When the manifests or the module cannot be read, or the filter refuses a configuration.
pub fn migrate(args: &MigrateArgs) -> Result<Exit> {
    let manifests = Manifests::load(&args.path)?;
    let migration = Migration::build(&manifests, &args.options)?;
    if args.verify {
        let module =
            WasmModule::from_file(&wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?)?;
        let verification = Verification::run(&migration, &module)?;
        std::io::stdout()
            .lock()
            .write_all(verification.render(&migration).as_bytes())?;
        return Ok(if verification.differing() == 0 {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    std::io::stdout()
        .lock()
        .write_all(migration.yaml()?.as_bytes())?;
    let mut err = std::io::stderr().lock();
    err.write_all(crate::migrate::verify::problem_lines(migration.problems()).as_bytes())?;
    for note in migration.distinct_notes() {
        writeln!(err, "{note}")?;
    }
    Ok(Exit::Success)
}
