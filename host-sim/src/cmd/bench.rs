//! `host-sim bench`: the real `.wasm` against the floor filter, per request, at several route
//! counts, plus on_configure time and linear memory.
//!
//! For each size it generates a route set (`gatewasm_core::bench::route_set`), starts gatewasm
//! with it, the floor filter (`gatewasm-floor`) beside it, and a second gatewasm with the
//! smallest size's set, warms them up, then sends the request mixes through full stream
//! lifecycles, rotating among the three request by request, and times every `Proxy::stream` on
//! its own. Both ratios it prints (to the floor, and to the smallest set) therefore compare
//! times taken in the same moments, so a machine that speeds up or slows down during the run
//! moves both sides alike. It reports the median and p99 of those times; it never asserts on
//! them. Both filters run under the same wasmtime engine and host, so the ratio
//! is what gatewasm adds over the unavoidable host calls; absolute times are wasmtime's, not V8's
//! or Envoy's (BENCHMARKS.md).
//!
//! With `--config PATH` it measures the same way on a user's manifests and request mix
//! ([`mix`]) instead of the generated sets.

mod mix;

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use gatewasm_core::bench::{route_set, BenchRequest, PORT};
use serde_json::json;

use super::Exit;
use crate::cli::BenchArgs;

mod configuration;
use crate::envoy::{HttpRequest, PluginOptions, Proxy, WasmModule};
use crate::request::RequestSpec;
use crate::wasm;

/// `Proxy::start` runs per size, with and without routes, to time on_configure.
const START_RUNS: usize = 5;

/// The floor filter's package.
const FLOOR_PACKAGE: &str = "gatewasm-floor";

/// Median and p99 of one filter's stream times, in nanoseconds.
#[derive(Clone, Copy, Debug)]
struct Spread {
    median: f64,
    p99: f64,
}

impl Spread {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let at = |q: f64| {
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(index).map_or(0.0, |d| d.as_nanos() as f64)
        };
        Self {
            median: at(0.5),
            p99: at(0.99),
        }
    }
}

/// Everything measured at one route count.
struct SizeResult {
    rules: usize,
    routed: usize,
    requests: usize,
    gatewasm: Spread,
    floor: Spread,
    /// gatewasm with the smallest size's route set, measured in the same loop.
    smallest: Spread,
    start_ms: f64,
    start_empty_ms: f64,
    memory: usize,
}

impl SizeResult {
    fn ratio(&self) -> f64 {
        self.gatewasm.median / self.floor.median
    }

    /// What this size costs against the smallest one, per request (p50).
    fn growth(&self) -> f64 {
        self.gatewasm.median / self.smallest.median
    }

    /// One on_configure: `Proxy::start` configures twice (canary VM, then worker VM), so the
    /// difference with an empty configuration is halved.
    fn on_configure_ms(&self) -> f64 {
        ((self.start_ms - self.start_empty_ms) / 2.0).max(0.0)
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "rules": self.rules,
            "requests": self.requests,
            "routed": self.routed,
            "gatewasm_ns": {"median": self.gatewasm.median, "p99": self.gatewasm.p99},
            "floor_ns": {"median": self.floor.median, "p99": self.floor.p99},
            "smallest_ns": {"median": self.smallest.median, "p99": self.smallest.p99},
            "ratio_median": self.ratio(),
            "growth_median": self.growth(),
            "start_ms": self.start_ms,
            "start_empty_ms": self.start_empty_ms,
            "on_configure_ms": self.on_configure_ms(),
            "memory_bytes": self.memory,
        })
    }
}

/// Runs `host-sim bench`.
///
/// # Errors
///
/// When a module cannot be built or loaded, gatewasm rejects a generated configuration, or a
/// filter traps.
pub fn bench(args: &BenchArgs) -> Result<Exit> {
    let gatewasm_path = wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?;
    let floor_path = wasm::locate(args.floor.as_deref(), FLOOR_PACKAGE)?;
    let gatewasm = WasmModule::from_file(&gatewasm_path)?;
    if args.configuration {
        return configuration::bench(&gatewasm, args);
    }
    let floor = WasmModule::from_file(&floor_path)?;
    let size_of = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let mut out = std::io::stdout().lock();
    if let Some(config) = &args.config {
        return user_mix(args, config, &gatewasm, &floor, &mut out);
    }
    if !args.json {
        writeln!(
            out,
            "gatewasm.wasm {} bytes, floor {} bytes; {} streams per filter per size after {} warm-up",
            size_of(&gatewasm_path),
            size_of(&floor_path),
            args.streams,
            args.warmup
        )?;
        writeln!(
            out,
            "{:>6} {:>7} {:>11} {:>11} {:>11} {:>11} {:>6} {:>9} {:>13} {:>10}",
            "rules",
            "routed",
            "gw p50 µs",
            "gw p99 µs",
            "floor p50",
            "floor p99",
            "ratio",
            "/smallest",
            "configure ms",
            "memory MiB"
        )?;
    }
    let smallest = args.rules.iter().copied().min().unwrap_or(10);
    let mut results = Vec::new();
    for &rules in &args.rules {
        let result = measure(&gatewasm, &floor, rules, smallest, args)?;
        if !args.json {
            writeln!(
                out,
                "{:>6} {:>6.0}% {:>11.2} {:>11.2} {:>11.2} {:>11.2} {:>6.2} {:>9.2} {:>13.2} {:>10.2}",
                result.rules,
                100.0 * result.routed as f64 / result.requests as f64,
                result.gatewasm.median / 1e3,
                result.gatewasm.p99 / 1e3,
                result.floor.median / 1e3,
                result.floor.p99 / 1e3,
                result.ratio(),
                result.growth(),
                result.on_configure_ms(),
                result.memory as f64 / f64::from(1u32 << 20),
            )?;
        }
        results.push(result);
    }
    if args.json {
        let report = json!({
            "wasm": {"gatewasm": {"path": gatewasm_path, "bytes": size_of(&gatewasm_path)},
                     "floor": {"path": floor_path, "bytes": size_of(&floor_path)}},
            "streams": args.streams,
            "warmup": args.warmup,
            "seed": args.seed,
            "sizes": results.iter().map(SizeResult::to_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(
            out,
            "ratio: gatewasm p50 / floor p50; /smallest: gatewasm p50 / gatewasm p50 with the \
             {smallest}-rule set, both measured in the same loop\n\
             configure ms: one on_configure inside the .wasm = (Proxy::start with the routes - \
             Proxy::start with none) / 2, medians of {START_RUNS}"
        )?;
    }
    Ok(Exit::Success)
}

/// `--config PATH`: gatewasm on the user's configuration against the floor, per request.
fn user_mix(
    args: &BenchArgs,
    config: &std::path::Path,
    gatewasm: &WasmModule,
    floor: &WasmModule,
    out: &mut impl Write,
) -> Result<Exit> {
    let (configuration, specs) =
        mix::load(config, args.gateway.as_deref(), args.requests.as_deref())?;
    let requests = specs
        .iter()
        .map(RequestSpec::build)
        .collect::<Result<Vec<_>>>()
        .context("a request of the mix is not usable")?;
    let label = config.display().to_string();
    let start_empty_ms = start_ms(gatewasm, b"", args.seed)?;
    let start_with_ms = start_ms(gatewasm, &configuration, args.seed)?;
    let options = PluginOptions {
        configuration,
        random_seed: args.seed,
        ..PluginOptions::default()
    };
    let mut routed_proxy = Proxy::start(gatewasm, options)
        .map_err(|e| anyhow::anyhow!("gatewasm refused {label}: {e}"))?;
    let memory = routed_proxy.memory_size();
    let mut floor_proxy = Proxy::start(floor, PluginOptions::default())
        .map_err(|e| anyhow::anyhow!("the floor filter did not start: {e}"))?;
    let routed = requests
        .iter()
        .filter(|r| routed_proxy.stream(r).upstream.is_some())
        .count();
    let times = time_rotating(
        &mut [
            (&mut routed_proxy, &requests),
            (&mut floor_proxy, &requests),
        ],
        args,
        &format!("on {label}"),
    )?;
    let [gw_times, floor_times]: [Vec<Duration>; 2] = times
        .try_into()
        .map_err(|_| anyhow::anyhow!("two filters were timed"))?;
    let (gw, fl) = (Spread::of(gw_times), Spread::of(floor_times));
    let on_configure_ms = ((start_with_ms - start_empty_ms) / 2.0).max(0.0);
    if args.json {
        let report = json!({
            "config": label,
            "requests": requests.len(),
            "routed": routed,
            "streams": args.streams,
            "gatewasm_ns": {"median": gw.median, "p99": gw.p99},
            "floor_ns": {"median": fl.median, "p99": fl.p99},
            "ratio_median": gw.median / fl.median,
            "on_configure_ms": on_configure_ms,
            "memory_bytes": memory,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(
            out,
            "{label}: {} requests in the mix, {routed} forwarded; {} streams per filter after {} \
             warm-up\n  gatewasm p50 {:.2} µs, p99 {:.2} µs; floor p50 {:.2} µs, p99 {:.2} µs; \
             ratio {:.2}\n  on_configure {on_configure_ms:.2} ms; linear memory {:.2} MiB",
            requests.len(),
            args.streams,
            args.warmup,
            gw.median / 1e3,
            gw.p99 / 1e3,
            fl.median / 1e3,
            fl.p99 / 1e3,
            gw.median / fl.median,
            memory as f64 / f64::from(1u32 << 20),
        )?;
    }
    Ok(Exit::Success)
}

fn measure(
    gatewasm: &WasmModule,
    floor: &WasmModule,
    rules: usize,
    smallest: usize,
    args: &BenchArgs,
) -> Result<SizeResult> {
    let set = route_set(rules, args.seed);
    let small_set = route_set(smallest, args.seed);
    let options = |configuration: Vec<u8>| PluginOptions {
        configuration,
        random_seed: args.seed,
        ..PluginOptions::default()
    };
    let start_empty_ms = start_ms(gatewasm, b"", args.seed)?;
    let start_ms = start_ms(gatewasm, &set.configuration, args.seed)?;

    let mut routed_proxy = Proxy::start(gatewasm, options(set.configuration.clone()))
        .map_err(|e| anyhow::anyhow!("gatewasm refused the {rules}-rule set: {e}"))?;
    let memory = routed_proxy.memory_size();
    let mut floor_proxy = Proxy::start(floor, PluginOptions::default())
        .map_err(|e| anyhow::anyhow!("the floor filter did not start: {e}"))?;
    let mut small_proxy = Proxy::start(gatewasm, options(small_set.configuration.clone()))
        .map_err(|e| anyhow::anyhow!("gatewasm refused the {smallest}-rule set: {e}"))?;

    let requests: Vec<HttpRequest> = set.requests.iter().map(http_request).collect();
    let small_requests: Vec<HttpRequest> = small_set.requests.iter().map(http_request).collect();
    if requests.is_empty() || small_requests.is_empty() {
        bail!("the {rules}-rule or {smallest}-rule set has no requests");
    }
    let mut routed = 0;
    for request in &requests {
        let outcome = routed_proxy.stream(request);
        if let Some(trap) = outcome.trap {
            bail!("gatewasm trapped at {rules} rules: {trap}");
        }
        routed += usize::from(outcome.upstream.is_some());
    }
    // gatewasm, floor, gatewasm with the smallest set, each with the requests it gets.
    let times = time_rotating(
        &mut [
            (&mut routed_proxy, &requests),
            (&mut floor_proxy, &requests),
            (&mut small_proxy, &small_requests),
        ],
        args,
        &format!("at {rules} rules"),
    )?;
    let [gw_times, floor_times, small_times]: [Vec<Duration>; 3] = times
        .try_into()
        .map_err(|_| anyhow::anyhow!("three filters were timed"))?;
    Ok(SizeResult {
        rules,
        routed,
        requests: requests.len(),
        gatewasm: Spread::of(gw_times),
        floor: Spread::of(floor_times),
        smallest: Spread::of(small_times),
        start_ms,
        start_empty_ms,
        memory,
    })
}

/// The median time of [`START_RUNS`] `Proxy::start`s with `configuration`, in milliseconds.
fn start_ms(gatewasm: &WasmModule, configuration: &[u8], seed: u64) -> Result<f64> {
    let mut times = Vec::with_capacity(START_RUNS);
    for _ in 0..START_RUNS {
        let began = Instant::now();
        let proxy = Proxy::start(
            gatewasm,
            PluginOptions {
                configuration: configuration.to_vec(),
                random_seed: seed,
                ..PluginOptions::default()
            },
        );
        times.push(began.elapsed());
        proxy.map_err(|e| anyhow::anyhow!("gatewasm refused a configuration: {e}"))?;
    }
    Ok(Spread::of(times).median / 1e6)
}

/// Sends `args.warmup` then `args.streams` streams through every proxy, each cycling through
/// its own requests, rotating which proxy goes first; returns each one's measured times.
///
/// # Errors
///
/// When a filter traps (`at` says where, for the message).
fn time_rotating(
    contenders: &mut [(&mut Proxy, &Vec<HttpRequest>)],
    args: &BenchArgs,
    at: &str,
) -> Result<Vec<Vec<Duration>>> {
    let count = contenders.len();
    let mut times: Vec<Vec<Duration>> = (0..count)
        .map(|_| Vec::with_capacity(args.streams))
        .collect();
    for i in 0..args.warmup + args.streams {
        let measured = i >= args.warmup;
        // Rotate which one goes first, so none always runs on a warmer cache.
        for slot in (0..count).map(|k| (i + k) % count) {
            let Some((proxy, requests)) = contenders.get_mut(slot) else {
                continue;
            };
            let Some(request) = requests.get(i % requests.len().max(1)) else {
                continue;
            };
            let began = Instant::now();
            let outcome = proxy.stream(request);
            let elapsed = began.elapsed();
            if let Some(trap) = outcome.trap {
                bail!("a filter trapped {at}: {trap}");
            }
            if let (true, Some(list)) = (measured, times.get_mut(slot)) {
                list.push(elapsed);
            }
        }
    }
    Ok(times)
}

fn http_request(request: &BenchRequest) -> HttpRequest {
    HttpRequest {
        headers: request.header_pairs(),
        destination_port: Some(PORT),
        ..HttpRequest::default()
    }
}
