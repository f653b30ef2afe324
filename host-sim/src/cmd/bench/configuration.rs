//! `host-sim bench --configuration`: what a generated route set weighs as a plugin configuration,
//! plain and compact, and as the WasmPlugin `config --format istio` writes, and what each form
//! costs `on_configure` inside the `.wasm`.
//!
//! Route sets are the same as the request benchmark's (`gatewasm_core::bench::route_set`), read
//! as manifests and planned as `config` plans them. on_configure is measured as the request
//! benchmark measures it: half the difference between `Proxy::start` with the configuration and
//! with an empty one (canary VM, then worker VM), medians of five starts.

use std::io::Write as _;

use anyhow::{Context as _, Result};
use gatewasm_core::bench::route_set;
use serde_json::{json, Value as Json};

use super::{start_ms, Exit};
use crate::cli::BenchArgs;
use crate::deploy::compact::{human, SizeReport};
use crate::deploy::{MeshTarget, Plan};
use crate::envoy::{PluginOptions, Proxy, WasmModule};
use crate::manifests::Manifests;

/// Runs `host-sim bench --configuration`.
///
/// # Errors
///
/// When a generated set cannot be planned or gatewasm refuses one of its forms.
pub(super) fn bench(gatewasm: &WasmModule, args: &BenchArgs) -> Result<Exit> {
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(
            out,
            "{:>7} {:>11} {:>11} {:>16} {:>16} {:>13} {:>13} {:>11} {:>11}",
            "rules",
            "plain JSON",
            "compact",
            "WasmPlugin plain",
            "WasmPlugin cmp.",
            "configure ms",
            "compact ms",
            "memory MiB",
            "compact MiB"
        )?;
    }
    let empty_ms = start_ms(gatewasm, b"", args.seed)?;
    let mut rows = Vec::new();
    for &rules in &args.rules {
        let set = route_set(rules, args.seed);
        let generated: Json = serde_json::from_slice(&set.configuration)?;
        let mut manifests = Manifests::default();
        let resources = generated["resources"].as_array().cloned();
        for object in resources.context("a generated set has resources")? {
            manifests.add_object(object);
        }
        let mut plan = Plan::new(&manifests, None, MeshTarget::default())?;
        let sizes = SizeReport::measure(&plan)?;
        let plain = serde_json::to_vec(&plan.plugin_config)?;
        plan.compact = true;
        let compact = serde_json::to_vec(&plan.delivered_config()?)?;
        let configure = |bytes: &[u8]| -> Result<(f64, usize)> {
            let ms = ((start_ms(gatewasm, bytes, args.seed)? - empty_ms) / 2.0).max(0.0);
            let options = PluginOptions {
                configuration: bytes.to_vec(),
                random_seed: args.seed,
                ..PluginOptions::default()
            };
            let proxy = Proxy::start(gatewasm, options)
                .map_err(|e| anyhow::anyhow!("gatewasm refused the {rules}-rule set: {e}"))?;
            Ok((ms, proxy.memory_size()))
        };
        let (plain_ms, plain_memory) = configure(&plain)?;
        let (compact_ms, compact_memory) = configure(&compact)?;
        let mib = |bytes: usize| bytes as f64 / f64::from(1u32 << 20);
        if !args.json {
            writeln!(
                out,
                "{:>7} {:>11} {:>11} {:>16} {:>16} {:>13.1} {:>13.1} {:>11.2} {:>11.2}",
                rules,
                human(sizes.plain_config),
                human(sizes.compact_config),
                human(sizes.plain_wasm_plugin),
                human(sizes.compact_wasm_plugin),
                plain_ms,
                compact_ms,
                mib(plain_memory),
                mib(compact_memory),
            )?;
        }
        rows.push(json!({
            "rules": rules,
            "sizes": sizes,
            "on_configure_ms": {"plain": plain_ms, "compact": compact_ms},
            "memory_bytes": {"plain": plain_memory, "compact": compact_memory},
        }));
    }
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"sizes": rows}))?
        )?;
    } else {
        writeln!(
            out,
            "sizes: the plugin configuration as minified JSON and its compact form; the \
             WasmPlugin YAML `config --format istio` writes with each\n\
             configure ms: one on_configure inside the .wasm = (Proxy::start - Proxy::start \
             with no configuration) / 2, medians of 5; memory: linear memory after configure"
        )?;
    }
    Ok(Exit::Success)
}
