//! `host-sim route`: one request through the real `.wasm`, and where it went.

use std::io::Write;

use anyhow::{Context, Result};

use super::Exit;
use crate::cli::{RouteArgs, Source};
use crate::envoy::{PluginOptions, Proxy, WasmModule};
use crate::manifests::Manifests;
use crate::observe::Observed;
use crate::protocol::Protocols;
use crate::sidecar::{OutboundPolicy, SidecarRoutes};
use crate::wasm;

/// Runs `host-sim route`.
///
/// # Errors
///
/// When the manifests, the module or the request cannot be used.
pub fn route(args: &RouteArgs) -> Result<Exit> {
    // The manifests, and whether they run in mesh mode, when the configuration comes from them.
    let mut loaded = None;
    let configuration = match &args.config {
        Source::Manifests { path, gateway } => {
            let mut manifests = Manifests::load(path)?;
            manifests.ingress_class.clone_from(&args.ingress_class);
            // A workload namespace means the sidecar's view: Gateways in the manifests are not its.
            let gateway = match &args.namespace {
                Some(_) => None,
                None => manifests.choose_gateway(gateway.as_deref())?,
            };
            // In the mesh, the target mode `config` writes for the sidecars.
            let target = match gateway {
                Some(_) => None,
                None => Some(serde_json::to_value(args.target.plugin_target())?),
            };
            let configuration =
                serde_json::to_vec(&manifests.plugin_config(gateway.as_deref(), target.as_ref()))?;
            loaded = Some((manifests, gateway.is_none()));
            configuration
        }
        other => other.read_plugin_config()?.unwrap_or_default(),
    };
    let module = WasmModule::from_file(&wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?)?;
    let options = PluginOptions {
        configuration,
        random_seed: crate::cases::RANDOM_SEED,
        connection_manager: args.connection_manager,
        ..PluginOptions::default()
    }
    .in_namespace(args.namespace.as_deref());
    let mut proxy = Proxy::start(&module, options)
        .map_err(|e| anyhow::anyhow!("the filter refused the configuration: {e}"))?;
    let request = args.request.build().context("invalid --request")?;
    let resources = loaded
        .as_ref()
        .map_or(&[][..], |(m, _)| m.resources.as_slice());
    let protocols = Protocols::new(resources);
    let mut observed = Observed::new(
        &request,
        &proxy.stream(&request),
        gatewasm_core::DEFAULT_CLUSTER_HEADER,
    )
    .with_protocol(&protocols);
    if let Some((manifests, true)) = &loaded {
        let policy = OutboundPolicy::default();
        let sidecar = SidecarRoutes::new(
            (&manifests.resources, &manifests.others),
            &protocols,
            args.namespace.as_deref(),
            policy,
        );
        observed.routed = sidecar.route_observed(&request, &observed);
    }
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
