//! The compact plugin configuration through the real `gatewasm.wasm`: it routes exactly as the
//! plain form it carries, and a damaged one is rejected while the last good one keeps serving.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

use std::sync::OnceLock;

use gatewasm_core::bench::{route_set, PORT};
use host_sim::deploy::compact::compact;
use host_sim::envoy::{HttpRequest, PluginOptions, Proxy, StreamOutcome, WasmModule};
use host_sim::wasm;

/// The module, built and loaded once for every test here (tests run in parallel).
fn module() -> &'static WasmModule {
    static MODULE: OnceLock<WasmModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = wasm::locate(None, wasm::FILTER_PACKAGE).expect("build gatewasm.wasm");
        WasmModule::from_file(&path).expect("load gatewasm.wasm")
    })
}

fn start(module: &WasmModule, configuration: Vec<u8>) -> Proxy {
    Proxy::start(
        module,
        PluginOptions {
            configuration,
            random_seed: 5,
            ..PluginOptions::default()
        },
    )
    .expect("the configuration is accepted")
}

fn compact_bytes(plain: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&compact(plain).unwrap()).unwrap()
}

/// What a stream decided, as the client and the upstream see it.
fn decision(outcome: &StreamOutcome) -> String {
    assert!(outcome.trap.is_none(), "trap: {:?}", outcome.trap);
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        outcome.upstream,
        outcome.local_reply,
        outcome.response_headers,
        outcome.filter_state,
        outcome.http_calls
    )
}

#[test]
fn the_compact_form_routes_the_bench_mix_exactly_as_the_plain_form_at_10000_rules() {
    let module = module();
    let set = route_set(10_000, 5);
    let compact = compact_bytes(&set.configuration);
    assert!(compact.len() * 10 < set.configuration.len(), "compressed");
    let mut plain = start(module, set.configuration.clone());
    let mut packed = start(module, compact);
    assert!(packed
        .logs()
        .iter()
        .any(|l| l.message.starts_with("configured: 10000 rules")));
    let mut routed = 0;
    // Twice through the mix, so weighted choices draw from the same sequence on both.
    for request in set.requests.iter().chain(&set.requests) {
        let request = HttpRequest {
            headers: request.header_pairs(),
            destination_port: Some(PORT),
            ..HttpRequest::default()
        };
        let (a, b) = (plain.stream(&request), packed.stream(&request));
        assert_eq!(decision(&a), decision(&b));
        routed += usize::from(a.upstream.is_some());
    }
    assert!(routed > set.requests.len(), "most of the mix is routed");
}

#[test]
fn a_damaged_compact_configuration_is_rejected_and_the_last_good_one_serves() {
    let module = module();
    let set = route_set(100, 5);
    let mut proxy = start(module, compact_bytes(&set.configuration));
    let request = HttpRequest {
        headers: set.requests[0].header_pairs(),
        destination_port: Some(PORT),
        ..HttpRequest::default()
    };
    let before = decision(&proxy.stream(&request));

    let good = String::from_utf8(compact_bytes(&set.configuration)).unwrap();
    let data_at = good.find(r#""data":""#).unwrap() + 8;
    // One base64 character changed in the middle of the stream: zlib's checksum catches it.
    let mut changed = good.clone().into_bytes();
    let at = data_at + (good.len() - data_at) / 2;
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    // Cut short, as a truncated copy and paste would.
    let cut = format!("{}\"}}", &good[..data_at + (good.len() - data_at) / 2]);
    for damaged in [changed, cut.into_bytes()] {
        assert!(proxy.reconfigure(damaged).is_err());
        let rejected = proxy.logs().iter().rev().find(|l| {
            l.message
                .ends_with("configuration rejected, the previous one keeps serving")
        });
        let rejected = rejected.expect("the rejection is logged");
        assert!(
            rejected
                .message
                .starts_with("configuration: data: not zlib data")
                || rejected.message.starts_with("configuration: size:"),
            "{}",
            rejected.message
        );
        assert!(rejected.message.contains("host-sim config --compact"));
        assert_eq!(decision(&proxy.stream(&request)), before);
    }
}
