//! `host-sim package`: gatewasm.wasm as the OCI image Istio pulls, written as a layout folder and
//! a tarball; prints the manifest digest that a WasmPlugin's `sha256` pins.
//!
//! Building the image is `deploy::oci`'s job; this file finds the module and writes the files.
//! The digest alone goes to stdout (`SHA=$(host-sim package --out dist/oci)`); the rest of the
//! report goes to stderr.

use std::io::Write;

use anyhow::{Context, Result};

use super::Exit;
use crate::cli::PackageArgs;
use crate::deploy::oci;
use crate::wasm;

/// Runs `host-sim package`.
///
/// # Errors
///
/// When the module cannot be found, built or read, is not WebAssembly, or the output cannot be
/// written.
pub fn package(args: &PackageArgs) -> Result<Exit> {
    let path = wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?;
    let module =
        std::fs::read(&path).with_context(|| format!("failed to read {}", path.display()))?;
    let image = oci::image(&module, &args.tag)
        .with_context(|| format!("cannot package {}", path.display()))?;
    image.write_layout(&args.out)?;
    let tarball = args.tarball();
    std::fs::write(&tarball, image.tarball()?)
        .with_context(|| format!("failed to write {}", tarball.display()))?;
    let digest = image.manifest_sha256();
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "host-sim: packaged {} ({} bytes) as {}:{} (OCI image layout) and {}\n\
         host-sim: manifest sha256:{digest}\n\
         host-sim: push it with, for example:\n\
         \x20   oras cp --from-oci-layout {}:{} REGISTRY/gatewasm:{}\n\
         \x20   skopeo copy oci:{}:{} docker://REGISTRY/gatewasm:{}\n\
         \x20   crane push {} REGISTRY/gatewasm:{}",
        path.display(),
        module.len(),
        args.out.display(),
        args.tag,
        tarball.display(),
        args.out.display(),
        args.tag,
        args.tag,
        args.out.display(),
        args.tag,
        args.tag,
        args.out.display(),
        args.tag,
    )?;
    writeln!(std::io::stdout().lock(), "{digest}")?;
    Ok(Exit::Success)
}
