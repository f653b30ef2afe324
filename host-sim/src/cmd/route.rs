//! `host-sim route`: one request through the real `.wasm`, and where it went.

use std::io::Write;

use anyhow::{Context, Result};

use super::Exit;
use crate::cli::RouteArgs;
use crate::envoy::{PluginOptions, Proxy, WasmModule};
use crate::manifests::Manifests;
use crate::observe::Observed;
use crate::wasm;

/// Runs `host-sim route`.
///
/// # Errors
///
/// When the manifests, the module or the request cannot be used.
pub fn route(args: &RouteArgs) -> Result<Exit> {
    let mut manifests = Manifests::load(&args.config)?;
    manifests.ingress_class.clone_from(&args.ingress_class);
    let gateway = manifests.choose_gateway(args.gateway.as_deref())?;
    let configuration = serde_json::to_vec(&manifests.plugin_config(gateway.as_deref(), None))?;
    let module = WasmModule::from_file(&wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?)?;
    let options = PluginOptions {
        configuration,
        random_seed: crate::cases::RANDOM_SEED,
        ..PluginOptions::default()
    };
    let mut proxy = Proxy::start(&module, options)
        .map_err(|e| anyhow::anyhow!("the filter refused the configuration: {e}"))?;
    let request = args.request.build().context("invalid --request")?;
    let observed = Observed::new(
        &request,
        &proxy.stream(&request),
        gatewasm_core::DEFAULT_CLUSTER_HEADER,
    );
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&observed.to_json())?
        )?;
    } else {
        writeln!(out, "{} {}", args.request.method, args.request.url)?;
        write!(out, "{}", observed.render("  "))?;
    }
    Ok(if observed.status == 404 || observed.trap.is_some() {
        Exit::Failure
    } else {
        Exit::Success
    })
}
