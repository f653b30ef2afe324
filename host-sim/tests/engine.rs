//! The engine end to end: the floor filter (a real proxy-wasm 0.2.5 module) and a few tiny
//! hand-assembled modules run through `Proxy`, pinning Envoy's lifecycle as reference §1.7 and
//! §3.5 describe it.
//!
//! The floor filter must be built first:
//! `cargo build --release --target wasm32-wasip1 -p gatewasm-floor`.

#![allow(clippy::panic, reason = "test helpers report failures by panicking")]

use std::path::PathBuf;
use std::sync::OnceLock;

use host_sim::envoy::{
    FailurePolicy, HttpRequest, LogLevel, PluginOptions, Proxy, StreamOutcome, WasmModule,
};

const FLOOR_BUILD: &str = "cargo build --release --target wasm32-wasip1 -p gatewasm-floor";

/// The floor filter, compiled once per test binary.
fn floor() -> &'static WasmModule {
    static MODULE: OnceLock<WasmModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
            PathBuf::from,
        );
        let path = target.join("wasm32-wasip1/release/gatewasm_floor.wasm");
        assert!(
            path.is_file(),
            "{} is missing: build the floor filter first with `{FLOOR_BUILD}`",
            path.display()
        );
        WasmModule::from_file(&path).unwrap_or_else(|err| panic!("{err:#}"))
    })
}

fn start(module: &WasmModule, options: PluginOptions) -> Proxy {
    Proxy::start(module, options)
        .unwrap_or_else(|err| panic!("start failed: {err}: {:?}", err.logs))
}

fn get(path: &str) -> HttpRequest {
    HttpRequest::new("GET", "https", "app.example.com", path)
}

fn header<'a>(pairs: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
    pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
        .collect()
}

// === the floor filter ===

#[test]
fn floor_sets_its_header_clears_the_route_cache_and_continues() {
    let mut proxy = start(floor(), PluginOptions::default());
    let request = get("/a?b=1").header("X-Tag", "1").header("x-tag", "2");
    let out = proxy.stream(&request);
    assert_eq!(out.trap, None);
    assert!(out.local_reply.is_none());
    let upstream = out.upstream.as_ref().expect("forwarded");
    let names: Vec<&str> = upstream.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            ":method",
            ":scheme",
            ":authority",
            ":path",
            "x-tag",
            "x-tag",
            "x-floor-cluster"
        ]
    );
    assert_eq!(header(&upstream.headers, "x-tag"), [b"1", b"2"]);
    assert_eq!(out.upstream_header("x-floor-cluster"), Some(&b"floor"[..]));
    assert!(out.route_cache_cleared);
    assert!(!upstream.headers_modified_after_route);
    assert_eq!(out.status(), Some(200));
    assert_eq!(
        out.response_headers,
        [(":status".to_string(), b"200".to_vec())]
    );
    assert!(!out.paused && !out.reset);
}

#[test]
fn floor_makes_exactly_the_unavoidable_hostcalls() {
    let mut proxy = start(floor(), PluginOptions::default());
    let out = proxy.stream(&get("/"));
    assert_eq!(
        out.calls,
        [
            "proxy_get_header_map_pairs",
            "proxy_replace_header_map_value",
            "proxy_call_foreign_function"
        ]
    );
}

#[test]
fn floor_replaces_repeated_headers_and_keeps_binary_values() {
    let mut proxy = start(floor(), PluginOptions::default());
    let request = get("/")
        .header("x-floor-cluster", "a")
        .header("x-bin", [0xff, 0x00, 0x80])
        .header("X-Floor-Cluster", "b");
    let out = proxy.stream(&request);
    assert_eq!(out.trap, None);
    let upstream = &out.upstream.as_ref().expect("forwarded").headers;
    assert_eq!(header(upstream, "x-floor-cluster"), [b"floor"]);
    assert_eq!(header(upstream, "x-bin"), [&[0xff, 0x00, 0x80][..]]);
}

#[test]
fn stream_contexts_count_up_from_two_and_response_headers_pass_through() {
    let mut proxy = start(floor(), PluginOptions::default());
    assert_eq!(proxy.root_context_id(), 1);
    let mut request = get("/");
    request.response_headers = vec![
        (":status".into(), b"404".to_vec()),
        ("X-Up".into(), b"1".to_vec()),
    ];
    let first = proxy.stream(&request);
    let second = proxy.stream(&request);
    assert_eq!((first.context_id, second.context_id), (2, 3));
    assert_eq!(second.status(), Some(404));
    assert_eq!(header(&second.response_headers, "x-up"), [b"1"]);
    assert!(proxy.memory_size() >= 64 * 1024);
}

#[test]
fn reconfigure_gives_the_worker_a_new_root_context() {
    let mut proxy = start(
        floor(),
        PluginOptions {
            configuration: b"{}".to_vec(),
            ..PluginOptions::default()
        },
    );
    proxy
        .reconfigure(b"{\"v\":2}".to_vec())
        .expect("floor accepts any configuration");
    assert!(proxy.root_context_id() > 1);
    assert_eq!(proxy.configuration(), b"{\"v\":2}");
    let out = proxy.stream(&get("/"));
    assert_eq!(out.upstream_header("x-floor-cluster"), Some(&b"floor"[..]));
}

#[test]
fn floor_is_deterministic_across_proxies() {
    let options = PluginOptions {
        random_seed: 7,
        log_level: LogLevel::Trace,
        ..PluginOptions::default()
    };
    let mut a = start(floor(), options.clone());
    let mut b = start(floor(), options);
    let (x, y): (StreamOutcome, StreamOutcome) = (a.stream(&get("/")), b.stream(&get("/")));
    assert_eq!(x.upstream, y.upstream);
    assert_eq!(x.calls, y.calls);
}

// === hand-assembled modules ===

/// A minimal WebAssembly binary encoder: enough for a few test modules.
mod wasm {
    pub(super) const I32: u8 = 0x7f;

    pub(super) fn leb(mut value: u32, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    pub(super) fn sleb(mut value: i32, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
            out.push(if done { byte } else { byte | 0x80 });
            if done {
                return;
            }
        }
    }

    fn name(text: &str, out: &mut Vec<u8>) {
        leb(text.len() as u32, out);
        out.extend_from_slice(text.as_bytes());
    }

    fn section(id: u8, count: usize, body: Vec<u8>, out: &mut Vec<u8>) {
        let mut content = Vec::new();
        leb(count as u32, &mut content);
        content.extend(body);
        out.push(id);
        leb(content.len() as u32, out);
        out.extend(content);
    }

    /// A function signature: i32 parameters and results only.
    #[derive(Clone, Copy)]
    pub(super) struct Sig(pub(super) usize, pub(super) usize);

    pub(super) struct Import(
        pub(super) &'static str,
        pub(super) &'static str,
        pub(super) Sig,
    );

    /// An exported function and its instructions (without the final `end`).
    pub(super) struct Func(pub(super) &'static str, pub(super) Sig, pub(super) Vec<u8>);

    /// Builds a module with one page of exported memory and an optional data segment at 16.
    pub(super) fn module(imports: &[Import], funcs: &[Func], data: &[u8]) -> Vec<u8> {
        let mut out = b"\0asm\x01\0\0\0".to_vec();
        let sigs: Vec<Sig> = imports
            .iter()
            .map(|i| i.2)
            .chain(funcs.iter().map(|f| f.1))
            .collect();
        let mut types = Vec::new();
        for Sig(params, results) in &sigs {
            types.push(0x60);
            leb(*params as u32, &mut types);
            types.extend(std::iter::repeat_n(I32, *params));
            leb(*results as u32, &mut types);
            types.extend(std::iter::repeat_n(I32, *results));
        }
        section(1, sigs.len(), types, &mut out);
        let mut body = Vec::new();
        for (index, Import(module, field, _)) in imports.iter().enumerate() {
            name(module, &mut body);
            name(field, &mut body);
            body.push(0x00);
            leb(index as u32, &mut body);
        }
        section(2, imports.len(), body, &mut out);
        let mut body = Vec::new();
        for index in 0..funcs.len() {
            leb((imports.len() + index) as u32, &mut body);
        }
        section(3, funcs.len(), body, &mut out);
        section(5, 1, vec![0x00, 0x01], &mut out);
        let mut body = Vec::new();
        name("memory", &mut body);
        body.extend([0x02, 0x00]);
        for (index, Func(export, _, _)) in funcs.iter().enumerate() {
            name(export, &mut body);
            body.push(0x00);
            leb((imports.len() + index) as u32, &mut body);
        }
        section(7, funcs.len() + 1, body, &mut out);
        let mut body = Vec::new();
        for Func(_, _, code) in funcs {
            let mut func = vec![0x00]; // no locals
            func.extend(code);
            func.push(0x0b);
            leb(func.len() as u32, &mut body);
            body.extend(func);
        }
        section(10, funcs.len(), body, &mut out);
        if !data.is_empty() {
            let mut body = vec![0x00, 0x41, 16, 0x0b];
            leb(data.len() as u32, &mut body);
            body.extend_from_slice(data);
            section(11, 1, body, &mut out);
        }
        out
    }

    pub(super) fn i32_const(value: i32) -> Vec<u8> {
        let mut out = vec![0x41];
        sleb(value, &mut out);
        out
    }

    pub(super) fn call(index: u32) -> Vec<u8> {
        let mut out = vec![0x10];
        leb(index, &mut out);
        out
    }

    /// `if <condition on stack> unreachable end`
    pub(super) const TRAP_IF: [u8; 4] = [0x04, 0x40, 0x00, 0x0b];
    pub(super) const UNREACHABLE: u8 = 0x00;
    pub(super) const DROP: u8 = 0x1a;
    pub(super) const I32_NE: u8 = 0x47;
    pub(super) const I32_LT_U: u8 = 0x49;
    /// `i32.load align=2 offset=0`
    pub(super) const I32_LOAD: [u8; 3] = [0x28, 0x02, 0x00];
    pub(super) const LOCAL_GET_1: [u8; 2] = [0x20, 0x01];
}

use wasm::{call, i32_const, Func, Import, Sig};

/// The exports every test module has: allocator (a fixed buffer at 4096) and the ABI marker.
fn base_funcs() -> Vec<Func> {
    vec![
        Func("proxy_on_memory_allocate", Sig(1, 1), i32_const(4096)),
        Func("proxy_abi_version_0_2_1", Sig(0, 0), Vec::new()),
    ]
}

fn build(imports: &[Import], extra: Vec<Func>, data: &[u8]) -> WasmModule {
    let mut funcs = base_funcs();
    funcs.extend(extra);
    let bytes = wasm::module(imports, &funcs, data);
    WasmModule::from_bytes(&bytes).unwrap_or_else(|err| panic!("{err:#}"))
}

/// `on_request_headers` traps; `on_configure` accepts configurations shorter than 10 bytes.
fn trapping_module() -> WasmModule {
    let configure = [
        wasm::LOCAL_GET_1.to_vec(),
        i32_const(10),
        vec![wasm::I32_LT_U],
    ]
    .concat();
    build(
        &[],
        vec![
            Func(
                "proxy_on_request_headers",
                Sig(3, 1),
                vec![wasm::UNREACHABLE],
            ),
            Func("proxy_on_configure", Sig(2, 1), configure),
        ],
        &[],
    )
}

#[test]
fn a_trap_fails_the_stream_closed_and_later_streams_without_the_plugin() {
    let mut proxy = start(&trapping_module(), PluginOptions::default());
    let first = proxy.stream(&get("/"));
    let trap = first.trap.as_deref().expect("trapped");
    assert!(trap.contains("unreachable"), "{trap}");
    let reply = first.local_reply.as_ref().expect("fail closed");
    assert_eq!(
        (reply.status, reply.details.as_str(), reply.grpc_status),
        (503, "wasm_fail_stream", Some(14))
    );
    assert!(first.upstream.is_none());
    assert_eq!(first.status(), Some(503));
    assert!(proxy.failure().is_some());
    let second = proxy.stream(&get("/").header("content-type", "application/grpc"));
    assert_eq!(second.trap, None, "a failed VM is never called again");
    assert_eq!(
        second.status(),
        Some(200),
        "gRPC local replies are trailers-only 200s"
    );
    assert_eq!(header(&second.response_headers, "grpc-status"), [b"14"]);
}

#[test]
fn fail_open_passes_requests_untouched() {
    let options = PluginOptions {
        failure_policy: FailurePolicy::FailOpen,
        ..PluginOptions::default()
    };
    let mut proxy = start(&trapping_module(), options);
    let first = proxy.stream(&get("/x"));
    assert!(first.trap.is_some());
    assert!(first.local_reply.is_none());
    assert_eq!(first.upstream_header(":path"), Some(&b"/x"[..]));
    let second = proxy.stream(&get("/y"));
    assert_eq!((second.trap.as_deref(), second.status()), (None, Some(200)));
    assert_eq!(second.upstream_header(":path"), Some(&b"/y"[..]));
}

#[test]
fn fail_reload_builds_a_new_worker_for_the_next_stream() {
    let options = PluginOptions {
        failure_policy: FailurePolicy::FailReload,
        ..PluginOptions::default()
    };
    let mut proxy = start(&trapping_module(), options);
    let first = proxy.stream(&get("/"));
    assert_eq!(first.status(), Some(503));
    let second = proxy.stream(&get("/"));
    assert!(
        second.trap.is_some(),
        "the reloaded VM ran (and trapped) again"
    );
    assert_eq!(
        second.context_id, 2,
        "a new VM counts contexts from 1 again"
    );
}

#[test]
fn a_rejected_configuration_fails_start_and_nacks_updates() {
    let err = Proxy::start(
        &trapping_module(),
        PluginOptions {
            configuration: vec![b'x'; 12],
            ..PluginOptions::default()
        },
    )
    .err()
    .expect("on_configure returned false");
    assert_eq!(err.reason, "canary VM: proxy_on_configure returned false");

    let options = PluginOptions {
        configuration: b"ok".to_vec(),
        failure_policy: FailurePolicy::FailOpen,
        ..PluginOptions::default()
    };
    let mut proxy = start(&trapping_module(), options);
    let nack = proxy
        .reconfigure(vec![b'y'; 20])
        .expect_err("canary rejects");
    assert!(nack.reason.starts_with("canary VM:"), "{}", nack.reason);
    assert_eq!(proxy.configuration(), b"ok");
    assert_eq!(proxy.root_context_id(), 1, "the worker was not touched");
    assert!(proxy.failure().is_none());
}

#[test]
fn request_headers_vanish_after_continue() {
    // on_request_headers: get_header_map_value(request, ":path") must be Ok (0).
    // on_response_headers: the same call must be BadArgument (2), get_header_map_pairs Ok with
    // size 0. Any other status traps.
    let get_path = [0, 16, 5, 32, 36]
        .iter()
        .flat_map(|v| i32_const(*v))
        .chain(call(0))
        .collect::<Vec<u8>>();
    let on_request = [get_path.clone(), wasm::TRAP_IF.to_vec(), i32_const(0)].concat();
    let on_response = [
        get_path,
        i32_const(2),
        vec![wasm::I32_NE],
        wasm::TRAP_IF.to_vec(),
        [0, 40, 44]
            .iter()
            .flat_map(|v| i32_const(*v))
            .chain(call(1))
            .collect(),
        wasm::TRAP_IF.to_vec(),
        i32_const(44),
        wasm::I32_LOAD.to_vec(),
        wasm::TRAP_IF.to_vec(),
        i32_const(0),
    ]
    .concat();
    let module = build(
        &[
            Import("env", "proxy_get_header_map_value", Sig(5, 1)),
            Import("env", "proxy_get_header_map_pairs", Sig(3, 1)),
        ],
        vec![
            Func("proxy_on_request_headers", Sig(3, 1), on_request),
            Func("proxy_on_response_headers", Sig(3, 1), on_response),
        ],
        b":path",
    );
    let mut proxy = start(&module, PluginOptions::default());
    let out = proxy.stream(&get("/p"));
    assert_eq!(out.trap, None);
    assert_eq!(out.status(), Some(200));
    assert_eq!(
        out.calls,
        [
            "proxy_get_header_map_value",
            "proxy_get_header_map_value",
            "proxy_get_header_map_pairs"
        ]
    );
}

#[test]
fn a_local_reply_is_deferred_forces_stop_and_runs_the_response_phase() {
    // on_request_headers sends 403 "access denied" with body "no" and returns Continue anyway.
    // on_response_headers then requires the request headers to be still readable.
    let send = [403, 16, 13, 29, 2, 0, 0, -1]
        .iter()
        .flat_map(|v| i32_const(*v))
        .chain(call(0))
        .chain([wasm::DROP])
        .chain(i32_const(0))
        .collect();
    let path_readable = [
        [0, 31, 5, 40, 44]
            .iter()
            .flat_map(|v| i32_const(*v))
            .chain(call(1))
            .collect(),
        wasm::TRAP_IF.to_vec(),
        i32_const(0),
    ]
    .concat();
    let module = build(
        &[
            Import("env", "proxy_send_local_response", Sig(8, 1)),
            Import("env", "proxy_get_header_map_value", Sig(5, 1)),
        ],
        vec![
            Func("proxy_on_request_headers", Sig(3, 1), send),
            Func("proxy_on_response_headers", Sig(3, 1), path_readable),
        ],
        b"access deniedno:path",
    );
    let mut proxy = start(&module, PluginOptions::default());
    let out = proxy.stream(&get("/"));
    assert_eq!(out.trap, None);
    assert!(out.upstream.is_none(), "a local reply never goes upstream");
    let reply = out.local_reply.as_ref().expect("local reply");
    assert_eq!(
        (reply.status, reply.details.as_str(), reply.body.as_slice()),
        (403, "access_denied", &b"no"[..])
    );
    assert_eq!(reply.grpc_status, None);
    assert_eq!(out.status(), Some(403));
    assert_eq!(header(&out.response_headers, "content-length"), [b"2"]);
}

#[test]
fn a_replaced_root_context_lives_until_its_last_stream_ends() {
    // on_done logs "done" (warn) and returns true, for roots and streams alike.
    let done = [
        i32_const(3),
        i32_const(16),
        i32_const(4),
        call(0),
        vec![wasm::DROP],
        i32_const(1),
    ]
    .concat();
    let module = build(
        &[Import("env", "proxy_log", Sig(3, 1))],
        vec![Func("proxy_on_done", Sig(1, 1), done)],
        b"done",
    );
    let mut proxy = start(&module, PluginOptions::default());
    let done_in =
        |logs: &[host_sim::envoy::LogEntry]| logs.iter().filter(|l| l.message == "done").count();

    let a = proxy.begin_stream(&get("/a"));
    assert!(a.in_flight());
    proxy
        .reconfigure(b"{\"v\":2}".to_vec())
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        done_in(proxy.logs()),
        0,
        "stream A still holds the first root context"
    );
    let b = proxy.stream(&get("/b"));
    assert_eq!(done_in(&b.logs), 1, "B's own context is done");
    assert_eq!(done_in(proxy.logs()), 0);

    let a = proxy.finish_stream(a);
    assert_eq!(done_in(&a.logs), 1, "A's own context is done");
    assert_eq!(done_in(proxy.logs()), 1, "then the replaced root context");

    proxy
        .reconfigure(b"{\"v\":3}".to_vec())
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        done_in(proxy.logs()),
        2,
        "with no stream in flight, at once"
    );
}

#[test]
fn hostcalls_other_than_log_trap_during_vm_start() {
    let init = [i32_const(0), call(0), vec![wasm::DROP]].concat();
    let module = build(
        &[Import("env", "proxy_get_log_level", Sig(1, 1))],
        vec![Func("_initialize", Sig(0, 0), init)],
        &[],
    );
    let err = Proxy::start(&module, PluginOptions::default())
        .err()
        .expect("restricted");
    assert!(err.reason.starts_with("base VM:"), "{}", err.reason);
    assert!(err.reason.contains("restricted_callback"), "{}", err.reason);
}

#[test]
fn a_module_without_the_abi_marker_is_refused() {
    let bytes = wasm::module(
        &[],
        &[Func("proxy_on_memory_allocate", Sig(1, 1), i32_const(0))],
        &[],
    );
    let err = WasmModule::from_bytes(&bytes).err().expect("no marker");
    assert!(
        format!("{err:#}").contains("proxy_abi_version_0_2_1"),
        "{err:#}"
    );
}

#[test]
fn unknown_wasi_imports_load_and_return_enosys() {
    // _initialize calls wasi sched_yield (not implemented) and traps unless it returns 52.
    let init = [
        call(0),
        i32_const(52),
        vec![wasm::I32_NE],
        wasm::TRAP_IF.to_vec(),
    ]
    .concat();
    let module = build(
        &[Import("wasi_snapshot_preview1", "sched_yield", Sig(0, 1))],
        vec![Func("_initialize", Sig(0, 0), init)],
        &[],
    );
    start(&module, PluginOptions::default());
}

#[test]
fn ticks_and_root_callouts_with_delivered_responses() {
    // on_vm_start sets a 100 ms tick; on_tick dispatches an http call (trap unless Ok);
    // on_http_call_response traps unless it got one header and can read `:status` from it.
    use host_sim::abi::headers::serialize_pairs;
    let headers = serialize_pairs(&[
        (":method", "GET"),
        (":path", "/m"),
        (":authority", "mirror"),
    ]);
    let (cluster_at, headers_at, status_at) = (16, 22, 22 + headers.len() as i32);
    let data = [b"mirror".as_slice(), &headers, b":status"].concat();
    let vm_start = [i32_const(100), call(0), vec![wasm::DROP], i32_const(1)].concat();
    let http_call = [
        cluster_at,
        6,
        headers_at,
        headers.len() as i32,
        0,
        0,
        0,
        0,
        500,
        200,
    ]
    .iter()
    .flat_map(|v| i32_const(*v))
    .chain(call(1))
    .chain(wasm::TRAP_IF)
    .collect();
    let on_response = [
        vec![0x20, 0x02],
        i32_const(1),
        vec![wasm::I32_NE],
        wasm::TRAP_IF.to_vec(),
        [6, status_at, 7, 300, 304]
            .iter()
            .flat_map(|v| i32_const(*v))
            .chain(call(2))
            .collect(),
        wasm::TRAP_IF.to_vec(),
    ]
    .concat();
    let module = build(
        &[
            Import("env", "proxy_set_tick_period_milliseconds", Sig(1, 1)),
            Import("env", "proxy_http_call", Sig(10, 1)),
            Import("env", "proxy_get_header_map_value", Sig(5, 1)),
        ],
        vec![
            Func("proxy_on_vm_start", Sig(2, 1), vm_start),
            Func("proxy_on_tick", Sig(1, 0), http_call),
            Func("proxy_on_http_call_response", Sig(5, 0), on_response),
        ],
        &data,
    );
    let mut proxy = start(&module, PluginOptions::default());
    assert!(proxy.tick());
    let call = proxy
        .http_calls()
        .first()
        .cloned()
        .expect("dispatched from on_tick");
    assert_eq!(
        (call.cluster.as_str(), call.timeout_ms, call.context_id),
        ("mirror", 500, 1)
    );
    let response = host_sim::envoy::HttpCallResponse {
        headers: vec![(":status".into(), b"200".to_vec())],
        ..Default::default()
    };
    proxy
        .deliver_http_call_response(call.token, &response)
        .expect("delivered");
    assert!(
        proxy
            .deliver_http_call_response(call.token, &response)
            .is_err(),
        "only once"
    );
    assert!(proxy.failure().is_none());
    assert!(proxy.tick());
    let second = proxy.http_calls()[1].token;
    let failed = proxy.deliver_http_call_response(second, &Default::default());
    assert!(failed.is_err(), "num_headers = 0 makes this module trap");
    assert!(proxy.failure().is_some());
}

#[test]
fn a_trap_at_access_log_time_keeps_the_answer_but_fails_the_vm() {
    let module = build(
        &[],
        vec![Func("proxy_on_log", Sig(1, 0), vec![wasm::UNREACHABLE])],
        &[],
    );
    let mut proxy = start(&module, PluginOptions::default());
    let first = proxy.stream(&get("/"));
    assert!(first.trap.is_some());
    assert_eq!(
        (first.status(), first.local_reply.is_none()),
        (Some(200), true)
    );
    assert!(first.upstream.is_some());
    assert_eq!(
        proxy.stream(&get("/")).status(),
        Some(503),
        "later streams fail closed"
    );
}

#[test]
fn proxies_and_modules_can_move_between_threads() {
    fn send<T: Send>() {}
    fn sync<T: Send + Sync>() {}
    send::<Proxy>();
    sync::<WasmModule>();
}
