//! The proxy-wasm Rust SDK's own examples, built from the SDK's published source and run
//! through host-sim as Envoy runs them: each behaves as the example says it does.
//!
//! The source is the `proxy-wasm` crate 0.2.0 from crates.io, the last release that ships its
//! `examples/` (cargo fetches it into a scratch project; nothing is copied into this
//! repository): `hello_world`, `http_headers`, `http_auth_random`, `http_body`, `http_config`.
//! They are built once per test binary for `wasm32-wasip1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use host_sim::envoy::{
    CalloutAnswer, HttpCallResponse, HttpRequest, PluginOptions, Proxy, StreamOutcome, WasmModule,
};

/// The SDK release whose published crate carries the examples.
const SDK_VERSION: &str = "0.2.0";

/// Runs cargo; panics with its output when it fails.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The examples' `.wasm` files, built once: cargo fetches the SDK crate into a scratch project,
/// and its examples are built from where cargo unpacked it.
fn examples_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-examples");
        std::fs::create_dir_all(scratch.join("src")).unwrap();
        std::fs::write(
            scratch.join("Cargo.toml"),
            format!(
                "[package]\nname = \"sdk-examples\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                 [dependencies]\nproxy-wasm = \"={SDK_VERSION}\"\n[workspace]\n"
            ),
        )
        .unwrap();
        std::fs::write(scratch.join("src/lib.rs"), "").unwrap();
        let metadata: serde_json::Value =
            serde_json::from_str(&cargo(&scratch, &["metadata", "--format-version", "1"])).unwrap();
        let sdk = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "proxy-wasm")
            .expect("cargo resolved proxy-wasm");
        let manifest = PathBuf::from(sdk["manifest_path"].as_str().unwrap());
        let target = scratch.join("target");
        cargo(
            manifest.parent().unwrap(),
            &[
                "build",
                "--release",
                "--examples",
                "--target",
                "wasm32-wasip1",
                "--target-dir",
                target.to_str().unwrap(),
            ],
        );
        target.join("wasm32-wasip1/release/examples")
    })
}

fn example(name: &str) -> WasmModule {
    WasmModule::from_file(&examples_dir().join(format!("{name}.wasm"))).unwrap()
}

fn start(name: &str, configuration: &[u8]) -> Proxy {
    let options = PluginOptions {
        configuration: configuration.to_vec(),
        ..PluginOptions::default()
    };
    Proxy::start(&example(name), options)
        .unwrap_or_else(|err| panic!("{name} failed to start: {err}: {:?}", err.logs))
}

fn get(path: &str) -> HttpRequest {
    HttpRequest::new("GET", "http", "example.com", path)
}

/// The values of `name` in header pairs, as text.
fn header(pairs: &[(String, Vec<u8>)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}

fn logged(proxy: &Proxy, outcome: &StreamOutcome) -> Vec<String> {
    let lines = proxy.logs().iter().chain(&outcome.logs);
    lines.map(|l| l.message.clone()).collect()
}

#[test]
fn http_headers_answers_hello_itself_and_logs_every_header_both_ways() {
    let mut proxy = start("http_headers", b"");
    let hello = proxy.stream(&get("/hello"));
    let reply = hello.local_reply.as_ref().expect("answered by the plugin");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"Hello, World!\n");
    assert_eq!(header(&hello.response_headers, "hello"), ["World"]);
    assert_eq!(
        header(&hello.response_headers, "powered-by"),
        ["proxy-wasm"]
    );
    assert!(hello.upstream.is_none());

    let other = proxy.stream(&get("/other").header("x-a", "1"));
    assert!(other.upstream.is_some(), "any other path goes upstream");
    let lines = logged(&proxy, &other);
    for want in [
        "-> :path: /other",
        "-> x-a: 1",
        "<- :status: 200",
        "completed.",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "no log line with {want:?}: {lines:#?}"
        );
    }
}

#[test]
fn http_config_adds_its_configuration_as_a_response_header() {
    let mut proxy = start("http_config", b"hello from the configuration");
    let outcome = proxy.stream(&get("/"));
    assert_eq!(
        header(&outcome.response_headers, "custom-header"),
        ["hello from the configuration"]
    );
}

#[test]
fn http_auth_random_lets_even_bytes_through_and_forbids_odd_ones() {
    let mut proxy = start("http_auth_random", b"");
    let answer = |byte: u8| {
        let mut request = get("/");
        request.callout_answer = Some(CalloutAnswer::Http(HttpCallResponse {
            headers: vec![(":status".to_owned(), b"200".to_vec())],
            body: vec![byte],
            trailers: Vec::new(),
        }));
        request
    };

    let granted = proxy.stream(&answer(2));
    let call = &granted.http_calls[0];
    assert_eq!(call.cluster, "httpbin");
    assert_eq!(header(&call.headers, ":path"), ["/bytes/1"]);
    assert!(
        granted.upstream.is_some(),
        "an even byte lets the request through"
    );
    assert_eq!(
        header(&granted.response_headers, "powered-by"),
        ["proxy-wasm"]
    );

    let forbidden = proxy.stream(&answer(1));
    let reply = forbidden
        .local_reply
        .as_ref()
        .expect("an odd byte is answered");
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body, b"Access forbidden.\n");
    assert_eq!(
        header(&forbidden.response_headers, "powered-by"),
        ["proxy-wasm"]
    );
    assert!(forbidden.upstream.is_none());
}

#[test]
fn http_body_redacts_bodies_with_a_secret_and_drops_their_length() {
    let mut proxy = start("http_body", b"");
    let respond = |body: &str| {
        let mut request = get("/");
        request.response_headers = vec![
            (":status".to_owned(), b"200".to_vec()),
            (
                "content-length".to_owned(),
                body.len().to_string().into_bytes(),
            ),
        ];
        request.response_body = Some(body.as_bytes().to_vec());
        request
    };

    let secret = proxy.stream(&respond("the secret is 42"));
    assert_eq!(
        secret.response_body.as_deref(),
        Some(&b"Original message body (16 bytes) redacted."[..]),
        "the whole body, buffered across both pieces, is replaced"
    );
    assert!(header(&secret.response_headers, "content-length").is_empty());

    let plain = proxy.stream(&respond("nothing to hide"));
    assert_eq!(
        plain.response_body.as_deref(),
        Some(&b"nothing to hide"[..])
    );
}

#[test]
fn hello_world_greets_at_start_and_logs_the_time_on_every_tick() {
    let mut proxy = start("hello_world", b"");
    let greeted = proxy.logs().iter().any(|l| l.message == "Hello, World!");
    assert!(greeted, "{:#?}", proxy.logs());
    assert!(proxy.tick(), "the example sets a tick period");
    let last = proxy.logs().last().expect("the tick logs").message.clone();
    assert!(last.starts_with("It's "), "{last}");
}
