//! The request path through the real `gatewasm.wasm` in host-sim: any header names and values
//! (non-UTF-8, empty names, huge values, thousands of headers), paths, methods, authorities,
//! response headers and bodies, against the configurations of `testdata/` (fuzz/configs/).
//! Never a trap, and every stream ends forwarded, answered locally, or paused for its
//! authorization check.
//!
//! Each input is one request in the form of `gatewasm_fuzz::request_text`. The module is
//! compiled once per process (`GATEWASM_WASM`, which `scripts/fuzz` sets) and each configuration
//! starts one simulated proxy that serves every request for it. The core's own decision is
//! computed natively too: libFuzzer cannot see coverage inside the `.wasm`, so the native core
//! is what guides it toward new branches of the same code.

#![no_main]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gatewasm_core::{borrow_pairs, compile_bytes, RequestView, RouteTable};
use gatewasm_fuzz::request_text::decode;
use host_sim::envoy::{PluginOptions, Proxy, WasmModule};
use libfuzzer_sys::fuzz_target;

struct Configuration {
    bytes: Vec<u8>,
    table: Option<RouteTable>,
}

fn configurations() -> &'static [Configuration] {
    static CONFIGURATIONS: OnceLock<Vec<Configuration>> = OnceLock::new();
    CONFIGURATIONS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        let configurations: Vec<_> = paths
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(|bytes| Configuration {
                table: compile_bytes(&bytes).ok().map(|c| c.table),
                bytes,
            })
            .collect();
        assert!(
            !configurations.is_empty(),
            "no configurations in {}",
            dir.display()
        );
        configurations
    })
}

fn module() -> &'static WasmModule {
    static MODULE: OnceLock<WasmModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let Some(path) = std::env::var_os("GATEWASM_WASM") else {
            panic!("set GATEWASM_WASM to the optimised gatewasm.wasm (scripts/fuzz does)");
        };
        WasmModule::from_file(Path::new(&path)).unwrap_or_else(|err| panic!("{err:#}"))
    })
}

thread_local! {
    static PROXIES: RefCell<Vec<Option<Proxy>>> = const { RefCell::new(Vec::new()) };
}

fuzz_target!(|data: &[u8]| {
    let configurations = configurations();
    let input = decode(data);
    let index = input.configuration % configurations.len();
    let Some(configuration) = configurations.get(index) else {
        return;
    };
    if let Some(table) = &configuration.table {
        let headers = borrow_pairs(&input.request.headers);
        let view = RequestView::new(&headers, input.request.destination_port);
        let _ = table.decide(&view, 0);
    }
    PROXIES.with_borrow_mut(|proxies| {
        proxies.resize_with(configurations.len(), || None);
        let Some(slot) = proxies.get_mut(index) else {
            return;
        };
        let proxy = slot.get_or_insert_with(|| {
            let options = PluginOptions {
                configuration: configuration.bytes.clone(),
                ..PluginOptions::default()
            };
            Proxy::start(module(), options).unwrap_or_else(|err| panic!("start: {err}"))
        });
        let outcome = proxy.stream(&input.request);
        assert_eq!(outcome.trap, None, "the filter trapped");
        assert!(
            outcome.upstream.is_some()
                || outcome.local_reply.is_some()
                || outcome.awaited.is_some(),
            "neither forwarded nor answered: {outcome:?}"
        );
    });
});
