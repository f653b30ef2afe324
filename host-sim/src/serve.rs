//! `host-sim serve`: a local gateway on real sockets, for local runs and tests (not for
//! production). HTTP/1.1 and HTTP/2 (h2c, or TLS with a given certificate) on tokio and hyper;
//! every request runs through the real `.wasm` with the same Envoy emulation the tests use
//! ([`crate::envoy`]), on one of several worker threads that each own a VM, as Envoy's workers
//! do; then Envoy's router does what the filter decided ([`upstream`]).
//!
//! The configuration is read again whenever its files change ([`watch`]) and delivered to every
//! worker as an xDS update: a configuration the filter rejects leaves the last good one serving,
//! and requests in flight finish under the configuration they started with.
//!
//! On stderr: the listeners once bound, each configuration applied or rejected with its
//! problems, the plugin's log lines. On stdout: one access-log line per request.

mod access_log;
mod configuration;
mod echo;
mod grpc_callout;
mod handler;
mod listener;
mod stats;
mod tls;
mod upstream;
mod watch;
mod worker;

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;

use crate::cli::{ServeArgs, Source};
use crate::envoy::{PluginOptions, WasmModule};
use crate::wasm;
use configuration::Generation;
pub use echo::run as echo;
use stats::Stats;
use upstream::Clients;
use worker::Workers;

/// Errors a response body can end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body `serve` sends: streamed from an upstream, or a local reply.
pub type Body = BoxBody<Bytes, BoxError>;

/// What every connection shares.
pub(crate) struct Shared {
    /// Upstream connection pools.
    clients: Clients,
    /// Counters for `/stats`.
    stats: Stats,
    /// The request header that names the cluster (`x-gatewasm-cluster`).
    cluster_header: String,
    /// Print an access-log line per request.
    access_log: bool,
}

/// Runs `serve` until the process is stopped.
///
/// # Errors
///
/// When the module, the first configuration, a certificate or a listener cannot be set up.
pub fn run(args: &ServeArgs) -> Result<()> {
    let path = wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?;
    let module = WasmModule::from_file(&path)?;
    let first = Arc::new(Generation::load(1, &args.source, &args.upstreams)?);
    print_problems(&first);
    let options = PluginOptions {
        configuration: first.configuration.clone(),
        random_seed: seed(),
        ..PluginOptions::default()
    };
    let workers = Arc::new(Workers::start(&module, &options, &first, args.workers)?);
    let shared = Arc::new(Shared {
        clients: Clients::new(),
        stats: Stats::default(),
        cluster_header: args.cluster_header.clone(),
        access_log: true,
    });
    shared.stats.reload(Some(first.number));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async move {
        let tasks = listener::bind_all(args, &shared, &workers).await?;
        let watched = watch::Watched {
            source: args.source.clone(),
            upstreams: args.upstreams.clone(),
            interval: std::time::Duration::from_millis(args.poll_ms),
        };
        let watcher = tokio::spawn(watch::watch(watched, first, workers, Arc::clone(&shared)));
        eprintln!("serve: ready ({} workers)", args.workers);
        for task in tasks {
            task.await??;
        }
        watcher.await?;
        Ok(())
    })
}

/// A different weighted-choice sequence on every run, as each Envoy start has.
fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(5, |d| d.as_nanos() as u64)
}

/// What the filter will say about a configuration, and upstreams it cannot reach.
fn print_problems(generation: &Generation) {
    for problem in &generation.problems {
        eprintln!("serve: configuration {}: {problem}", generation.number);
    }
}

/// Where the configuration comes from, for messages.
fn describe(source: &Source) -> String {
    match source {
        Source::Manifests { path, .. } | Source::File(path) => path.display().to_string(),
        Source::Inline(_) => String::from("--plugin-config"),
    }
}
