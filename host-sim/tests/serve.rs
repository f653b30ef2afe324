//! `host-sim serve` on loopback, checked with clients gatewasm did not write: curl over HTTP/1.1
//! and HTTP/2 (prior knowledge), a grpcio client, headless Chromium's own CORS checks, and wrk
//! under configuration reloads. Backends are `host-sim echo` (answers with what it received) and
//! a grpcio server. Ports are chosen by the OS and read from each process's start-up line.
//! `scripts/setup test` installs the clients (curl, wrk, chromium, grpcio, playwright-core).
//!
//! Assertions are about behaviour only; timing numbers from the load run go to BENCHMARKS.md,
//! never into an assertion.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers report failures by panicking"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const HOST_SIM: &str = env!("CARGO_BIN_EXE_host-sim");
/// How long a process may take to say it is ready (the first serve compiles the module).
const READY: Duration = Duration::from_secs(180);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn clients() -> PathBuf {
    workspace().join("host-sim/tests/clients")
}

fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is not installed: run scripts/setup test");
}

/// A process started by the test, killed when dropped; its stderr lines are kept.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    fresh: Receiver<String>,
}

impl Running {
    fn start(command: &mut Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {command:?}: {e}"));
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, fresh) = mpsc::channel();
        let kept = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            fresh,
        }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + READY;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.fresh.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no line with {needle:?}; stderr so far:\n{}",
                    self.lines.lock().unwrap().join("\n")
                ),
            }
        }
    }

    fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `HOST:PORT` at the end of a start-up line (`... on http://127.0.0.1:PORT ...`).
fn address(line: &str) -> String {
    let after = line
        .split("://")
        .nth(1)
        .or_else(|| line.split("listening on ").nth(1))
        .unwrap();
    after.split([' ', '/']).next().unwrap().to_owned()
}

fn echo(name: &str) -> (Running, String) {
    let running = Running::start(Command::new(HOST_SIM).args([
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--name",
        name,
    ]));
    let addr = address(&running.wait_for("listening on"));
    (running, addr)
}

/// A temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "gatewasm-serve-{label}-{}-{unique}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `text` to `dir/name` at once (written aside, then renamed), as editors save files.
fn write_atomically(dir: &Path, name: &str, text: &str) {
    let aside = dir.join(format!(".{name}.tmp"));
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, dir.join(name)).unwrap();
}

/// The seed's production manifests plus the local routes, in a folder `serve` watches.
fn seed_folder(allowed_origin: &str) -> TempDir {
    let dir = TempDir::new("seed");
    let seed = std::fs::read_to_string(workspace().join("testdata/seed/manifests/production.yaml"))
        .unwrap();
    let local = std::fs::read_to_string(workspace().join("testdata/serve/local-routes.yaml"))
        .unwrap()
        .replace("ALLOWED_ORIGIN", allowed_origin);
    write_atomically(&dir.0, "production.yaml", &seed);
    // Read after the seed (folders load in name order), so the seed's routes are the older ones.
    write_atomically(&dir.0, "serve-local-routes.yaml", &local);
    dir
}

/// `serve` on one loopback listener presented to the filter as the Gateway's port 443.
struct Serve {
    running: Running,
    addr: String,
    admin: String,
}

fn serve(config: &Path, upstreams: &[(&str, &str)]) -> Serve {
    serve_with(&["--config".as_ref(), config.as_os_str()], upstreams)
}

fn serve_with(source: &[&std::ffi::OsStr], upstreams: &[(&str, &str)]) -> Serve {
    let mut command = Command::new(HOST_SIM);
    command.arg("serve").args(source).args([
        "--listen",
        "127.0.0.1:0=443",
        "--admin",
        "127.0.0.1:0",
        "--workers",
        "2",
        "--poll-ms",
        "50",
    ]);
    for (key, addr) in upstreams {
        command.args(["--upstream", &format!("{key}={addr}")]);
    }
    let running = Running::start(&mut command);
    let addr = address(&running.wait_for("serve: listening on"));
    let admin = address(&running.wait_for("serve: admin on"));
    running.wait_for("serve: ready");
    Serve {
        running,
        addr,
        admin,
    }
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("failed to run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// curl with `protocol` (`--http1.1` or `--http2-prior-knowledge`); returns stdout.
fn curl(protocol: &str, args: &[&str]) -> String {
    let output = run(Command::new("curl")
        .args(["-sS", "--max-time", "30", protocol])
        .args(args));
    String::from_utf8(output.stdout).unwrap()
}

/// The status code curl gets for `url` with `protocol` and the `extra` arguments (headers).
fn curl_status(protocol: &str, extra: &[&str], url: &str) -> String {
    let mut args = vec!["-o", "/dev/null", "-w", "%{http_code}"];
    args.extend_from_slice(extra);
    args.push(url);
    curl(protocol, &args)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

const PROTOCOLS: [&str; 2] = ["--http1.1", "--http2-prior-knowledge"];

#[test]
fn curl_sees_the_seed_routes_over_http1_and_http2() {
    require("curl");
    let (_v1, v1) = echo("api-v1");
    let (_v2, v2) = echo("api-v2");
    let dir = seed_folder("http://127.0.0.1:1");
    let gw = serve(
        &dir.0,
        &[("app/api-v1:8080", &v1), ("app/api-v2:8080", &v2)],
    );
    let base = format!("http://{}", gw.addr);
    for protocol in PROTOCOLS {
        let expect_protocol = if protocol == "--http1.1" {
            "HTTP/1.1"
        } else {
            "HTTP/2.0"
        };
        // Header canary: rule 0 sends to api-v2 and adds X-Route-Tag, seen by the backend.
        let body = curl(
            protocol,
            &[
                "-H",
                "Host: app.example.com",
                "-H",
                "X-Canary: true",
                &format!("{base}/api/v2/users?q=1"),
            ],
        );
        let echoed = &json_lines(&body)[0];
        assert_eq!(echoed["name"], "api-v2", "{body}");
        assert_eq!(echoed["headers"]["x-route-tag"], "canary-v2", "{body}");
        assert_eq!(echoed["path"], "/api/v2/users?q=1", "{body}");
        assert_eq!(echoed["authority"], "app.example.com", "{body}");
        assert_eq!(
            echoed["headers"]["x-gatewasm-cluster"],
            "outbound|8080||api-v2.app.svc.cluster.local"
        );
        // The request reached serve over the protocol asked for (the echo reports the upstream
        // hop, HTTP/1.1 to an HTTP backend).
        let written = curl(
            protocol,
            &[
                "-o",
                "/dev/null",
                "-w",
                "%{http_version}",
                "-H",
                "Host: app.example.com",
                &format!("{base}/health"),
            ],
        );
        assert_eq!(
            written,
            expect_protocol
                .trim_start_matches("HTTP/")
                .replace(".0", "")
        );
        // A header edit: rule 3 sets X-Health-Check, and the router's own headers never leave.
        let body = curl(
            protocol,
            &["-H", "Host: app.example.com", &format!("{base}/health")],
        );
        let echoed = &json_lines(&body)[0];
        assert_eq!(echoed["name"], "api-v1");
        assert_eq!(echoed["headers"]["x-health-check"], "true");
        // A response-phase edit reaches the client.
        let headers = curl(
            protocol,
            &[
                "-D",
                "-",
                "-o",
                "/dev/null",
                "-H",
                "Host: localhost",
                &format!("{base}/tagged"),
            ],
        );
        assert!(
            headers
                .to_ascii_lowercase()
                .contains("x-served-by: gatewasm"),
            "{headers}"
        );
        // A redirect is the filter's local reply, Location kept from the request.
        let headers = curl(
            protocol,
            &[
                "-D",
                "-",
                "-o",
                "/dev/null",
                "-H",
                "Host: localhost",
                &format!("{base}/old/page?x=1"),
            ],
        );
        assert!(headers.contains(" 301"), "{headers}");
        // The listener is the Gateway's port 443 served in plain HTTP: the port stays.
        assert!(
            headers
                .to_ascii_lowercase()
                .contains("location: http://localhost:443/new/page?x=1"),
            "{headers}"
        );
        // No route for the host: 404 from the filter.
        let status = curl_status(
            protocol,
            &["-H", "Host: nowhere.example.com"],
            &format!("{base}/api"),
        );
        assert_eq!(status, "404");
        // The weighted rule, measured over real requests. Over HTTP/1.1 one curl sends them
        // all on one connection; over HTTP/2 each request is its own curl, because Debian 12's
        // curl 7.88.1 fails ("Error in the HTTP2 framing layer") to reuse a prior-knowledge
        // connection for a second request.
        let n = 600;
        let url = format!("{base}/api/v2/users");
        let args = ["-H", "Host: app.example.com", url.as_str()];
        let answers: Vec<Value> = if protocol == "--http1.1" {
            let mut many: Vec<&str> = args[..2].to_vec();
            many.extend(std::iter::repeat_n(url.as_str(), n));
            json_lines(&curl(protocol, &many))
        } else {
            std::thread::scope(|scope| {
                let threads: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            (0..n / 4)
                                .flat_map(|_| json_lines(&curl(protocol, &args)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .flat_map(|t| t.join().unwrap())
                    .collect()
            })
        };
        assert_eq!(answers.len(), n);
        let v2_share = answers.iter().filter(|a| a["name"] == "api-v2").count() as f64 / n as f64;
        // 20% expected; the binomial standard deviation over 600 requests is 1.6%.
        assert!(
            (0.13..=0.27).contains(&v2_share),
            "api-v2 got {v2_share} of {n} requests over {protocol}, expected 0.2"
        );
    }
    // The admin endpoint counted them by rule and backend.
    let stats: Value = serde_json::from_str(&curl(
        "--http1.1",
        &[&format!("http://{}/stats?format=json", gw.admin)],
    ))
    .unwrap();
    assert!(
        stats["routes"]["app/app-route 1"].as_u64().unwrap() >= 1200,
        "{stats}"
    );
    assert!(
        stats["backends"]["app/api-v2:8080"].as_u64().unwrap() > 0,
        "{stats}"
    );
}

#[test]
fn a_grpc_authorization_server_is_asked_and_its_answer_decides() {
    require("curl");
    let (_echo, echo_addr) = echo("echo");
    let peer = clients().join("grpc_peer.py");
    let authz = |name: &str, verdict: &str| {
        let running = Running::start(
            Command::new("python3")
                .arg(&peer)
                .args(["authz", name, verdict]),
        );
        let addr = address(&running.wait_for("listening on"));
        (running, addr)
    };
    let (allow, allow_addr) = authz("allow", "allow");
    let (deny, deny_addr) = authz("deny", "deny");
    let dir = TempDir::new("grpc-authz");
    let manifests =
        checked_routes("protocol: GRPC, backendRef: {name: SERVER, port: 9001}, grpc: {}");
    write_atomically(&dir.0, "routes.yaml", &manifests);
    let serve = serve(
        &dir.0,
        &[
            ("app/echo:80", echo_addr.as_str()),
            ("app/allow:9001", allow_addr.as_str()),
            ("app/deny:9001", deny_addr.as_str()),
        ],
    );
    let url = |path: &str| format!("http://{}{path}", serve.addr);
    let allowed = run(Command::new("curl").args(["-s", "--http1.1", &url("/allowed/x")]));
    let echoed: Value = serde_json::from_slice(&allowed.stdout).unwrap_or_else(|_| {
        panic!(
            "{}\n{}",
            String::from_utf8_lossy(&allowed.stdout),
            serve.running.stderr()
        )
    });
    assert_eq!(echoed["headers"]["x-authz"], "allow", "{echoed}");
    let refused = run(Command::new("curl").args([
        "-s",
        "-w",
        " %{http_code}",
        "--http1.1",
        &url("/refused/x"),
    ]));
    assert_eq!(
        String::from_utf8_lossy(&refused.stdout),
        "denied by deny 403"
    );
    for server in [&allow, &deny] {
        let asked = server.stderr();
        assert!(
            asked.contains("called /envoy.service.auth.v3.Authorization/Check"),
            "the check reached the server: {asked}"
        );
    }
}

#[test]
fn a_grpc_client_gets_routed_unimplemented_and_unavailable() {
    let peer = clients().join("grpc_peer.py");
    let start = |name: &str| {
        let running = Running::start(Command::new("python3").arg(&peer).args(["server", name]));
        let addr = address(&running.wait_for("listening on"));
        (running, addr)
    };
    let (_users, users) = start("user-service");
    let (_orders, orders) = start("order-service");
    let dir = seed_folder("http://127.0.0.1:1");
    let gw = serve(
        &dir.0,
        &[
            ("app/user-service:9090", &users),
            ("app/order-service:9090", &orders),
        ],
    );
    let call = |method: &str| -> Value {
        let output = run(Command::new("python3").arg(&peer).args([
            "call",
            &gw.addr,
            "grpc.example.com",
            method,
        ]));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let routed = call("/com.example.api.UserService/GetUser");
    assert_eq!(routed["code"], "OK", "{routed}");
    assert_eq!(routed["reply"], "user-service:hello");
    let routed = call("/com.example.api.OrderService/ListOrders");
    assert_eq!(routed["reply"], "order-service:hello", "{routed}");
    let unmatched = call("/com.example.api.UserService/DeleteUser");
    assert_eq!(unmatched["code"], "UNIMPLEMENTED", "{unmatched}");
    let invalid = call("/com.example.api.BrokenService/Anything");
    assert_eq!(invalid["code"], "UNAVAILABLE", "{invalid}");
}

#[test]
fn chromium_enforces_cors_for_allowed_and_disallowed_origins() {
    for tool in ["chromium", "node", "python3"] {
        require(tool);
    }
    let browser = clients().join("browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run scripts/setup test"
    );
    let page_dir = TempDir::new("page");
    std::fs::write(
        page_dir.0.join("index.html"),
        "<!doctype html><title>gatewasm CORS</title><p>page",
    )
    .unwrap();
    // A free port for Python's page server, which says nothing useful when ready.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pages = Running::start(
        Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(&page_dir.0),
    );
    let allowed = format!("http://127.0.0.1:{port}");
    let (_v1, v1) = echo("api-v1");
    let dir = seed_folder(&allowed);
    let gw = serve(&dir.0, &[("app/api-v1:8080", &v1)]);
    wait_for_http(&format!("{allowed}/index.html"));
    let serve_port = gw.addr.rsplit(':').next().unwrap().to_owned();
    let fetch = |page_origin: &str| -> Value {
        let output = run(Command::new("node")
            .current_dir(&browser)
            .arg("cors.mjs")
            .arg(format!("{page_origin}/index.html"))
            .arg(format!("http://localhost:{serve_port}/cors/data")));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let from_allowed = fetch(&allowed);
    assert_eq!(from_allowed["fetched"], true, "{from_allowed}");
    assert_eq!(from_allowed["status"], 200, "{from_allowed}");
    let echoed: Value =
        serde_json::from_str(from_allowed["body"].as_str().unwrap().trim()).unwrap();
    assert_eq!(echoed["headers"]["x-gatewasm-test"], "cors");
    // Another origin (same page server, another host name): the browser blocks the read.
    let from_other = fetch(&format!("http://localhost:{port}"));
    assert_eq!(from_other["fetched"], false, "{from_other}");
    // Blocked by the browser's CORS check of the filter's preflight answer, not a network error.
    assert!(
        from_other.to_string().contains("blocked by CORS policy"),
        "{from_other}"
    );
    drop(pages);
    assert!(gw.running.stderr().contains("serve: ready"));
}

/// Waits until `url` answers (a server that prints nothing when ready).
fn wait_for_http(url: &str) {
    let deadline = Instant::now() + READY;
    while Instant::now() < deadline {
        let ok = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "--max-time", "5", url])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} never answered");
}

/// Table A sends `/api` to api-v1 with X-Table: a; table B to api-v2 with X-Table: b.
fn table(name: &str) -> String {
    let (backend, tag) = if name == "a" {
        ("api-v1", "a")
    } else {
        ("api-v2", "b")
    };
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: infra}}
spec:
  gatewayClassName: gatewasm
  listeners: [{{name: http, port: 443, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: tables, namespace: app}}
spec:
  parentRefs: [{{name: gw, namespace: infra}}]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /api}}}}]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: {{set: [{{name: X-Table, value: {tag}}}]}}
      backendRefs: [{{name: {backend}, port: 8080}}]
"
    )
}

#[test]
fn reloads_every_second_under_load_lose_no_request() {
    require("wrk");
    let (_v1, v1) = echo("api-v1");
    let (_v2, v2) = echo("api-v2");
    let dir = TempDir::new("reload");
    write_atomically(&dir.0, "routes.yaml", &table("a"));
    let gw = serve(
        &dir.0,
        &[("app/api-v1:8080", &v1), ("app/api-v2:8080", &v2)],
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, folder) = (Arc::clone(&stop), dir.0.clone());
        std::thread::spawn(move || {
            let mut flips = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                flips += 1;
                write_atomically(
                    &folder,
                    "routes.yaml",
                    &table(if flips % 2 == 1 { "b" } else { "a" }),
                );
            }
            flips
        })
    };
    let output = run(Command::new("wrk")
        .args(["-t2", "-c16", "-d8s", "--timeout", "10s", "--latency", "-s"])
        .arg(clients().join("consistent.lua"))
        .arg(format!("http://{}/api/x", gw.addr)));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let flips = writer.join().unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{report}");
    let checked_line = report
        .lines()
        .find(|l| l.starts_with("checked "))
        .unwrap_or_else(|| panic!("no summary from the wrk script:\n{report}"));
    let fields: Vec<u64> = checked_line
        .split(' ')
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(fields[0] > 100, "{report}");
    assert_eq!(
        fields[1], 0,
        "responses not from one whole table:\n{report}"
    );
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
    let applied = gw.running.stderr().matches("applied").count();
    eprintln!("reload-under-load: {flips} rewrites, {applied} configurations applied");
    assert!(applied >= 4, "{}", gw.running.stderr());
}

#[test]
fn a_bad_update_keeps_the_last_good_table_serving() {
    require("curl");
    let (_v1, v1) = echo("api-v1");
    let (_v2, v2) = echo("api-v2");
    let dir = TempDir::new("bad");
    write_atomically(&dir.0, "routes.yaml", &table("a"));
    let gw = serve(
        &dir.0,
        &[("app/api-v1:8080", &v1), ("app/api-v2:8080", &v2)],
    );
    let ask = || {
        json_lines(&curl("--http1.1", &[&format!("http://{}/api/x", gw.addr)]))[0]["name"].clone()
    };
    assert_eq!(ask(), "api-v1");
    write_atomically(
        &dir.0,
        "routes.yaml",
        "kind: HTTPRoute\n  metadata: [unclosed\n",
    );
    let rejected = gw.running.wait_for("rejected");
    assert!(
        rejected.contains("configuration 1 keeps serving"),
        "{rejected}"
    );
    assert_eq!(ask(), "api-v1");
    write_atomically(&dir.0, "routes.yaml", &table("b"));
    gw.running.wait_for("applied");
    assert_eq!(ask(), "api-v2");
}

#[test]
fn another_proxy_wasm_module_serves_with_its_plugin_configuration() {
    require("curl");
    // The floor filter is not gatewasm: it sets x-floor-cluster: floor and continues.
    let floor = host_sim::wasm::locate(None, "gatewasm-floor").unwrap();
    let (_backend, backend) = echo("floor-backend");
    let gw = serve_with(
        &[
            "--wasm".as_ref(),
            floor.as_os_str(),
            "--plugin-config".as_ref(),
            "".as_ref(),
            "--cluster-header".as_ref(),
            "x-floor-cluster".as_ref(),
        ],
        &[("floor", &backend)],
    );
    let echoed = &json_lines(&curl(
        "--http2-prior-knowledge",
        &[
            "-H",
            "Host: any.example.com",
            &format!("http://{}/x", gw.addr),
        ],
    ))[0];
    assert_eq!(echoed["name"], "floor-backend", "{echoed}");
    assert_eq!(echoed["headers"]["x-floor-cluster"], "floor", "{echoed}");
}

#[test]
fn an_https_listener_serves_http2_and_http1_with_the_given_certificate() {
    require("curl");
    require("openssl");
    let certs = TempDir::new("tls");
    let (cert, key) = (certs.0.join("cert.pem"), certs.0.join("key.pem"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=app.example.com"])
        .args(["-addext", "subjectAltName=DNS:app.example.com", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    let (_v1, v1) = echo("api-v1");
    let (_v2, v2) = echo("api-v2");
    let dir = seed_folder("http://127.0.0.1:1");
    let gw = serve_with(
        &[
            "--config".as_ref(),
            dir.0.as_os_str(),
            "--cert".as_ref(),
            cert.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
            "--listen".as_ref(),
            "https://127.0.0.1:0=443".as_ref(),
        ],
        &[("app/api-v1:8080", &v1), ("app/api-v2:8080", &v2)],
    );
    // serve_with adds a plain listener too; take the HTTPS one from its start-up line.
    let https = address(
        gw.running
            .stderr()
            .lines()
            .find(|l| l.contains("listening on https://"))
            .unwrap_or_default(),
    );
    let port = https.rsplit(':').next().unwrap().to_owned();
    let resolve = format!("app.example.com:{port}:127.0.0.1");
    let url = format!("https://app.example.com:{port}/api/v2/users");
    for protocol in ["--http1.1", "--http2"] {
        let cacert = cert.to_str().unwrap();
        let body = curl(
            protocol,
            &[
                "--cacert",
                cacert,
                "--resolve",
                &resolve,
                "-H",
                "X-Canary: true",
                &url,
            ],
        );
        let echoed = &json_lines(&body)[0];
        assert_eq!(echoed["name"], "api-v2", "{body}");
        assert_eq!(echoed["headers"]["x-route-tag"], "canary-v2", "{body}");
        let version = curl(
            protocol,
            &[
                "--cacert",
                cacert,
                "--resolve",
                &resolve,
                "-o",
                "/dev/null",
                "-w",
                "%{http_version}",
                &url,
            ],
        );
        assert_eq!(version, if protocol == "--http2" { "2" } else { "1.1" });
    }
}

#[test]
fn ingress_source_ranges_see_the_real_client_address() {
    require("curl");
    let (_echo, echo_addr) = echo("echo");
    let dir = TempDir::new("source-range");
    let ingress = |name: &str, range: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: app\n  annotations:\n    nginx.ingress.kubernetes.io/whitelist-source-range: \"{range}\"\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: {name}.local\n    http:\n      paths:\n      - {{path: /, pathType: Prefix, backend: {{service: {{name: echo, port: {{number: 80}}}}}}}}\n---\n"
        )
    };
    // Loopback may call `loopback`; only the simulated default client (10.0.0.10) could call
    // `private`, so it answers 403 when the filter sees the real address.
    let manifests = format!(
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {{name: nginx}}\nspec: {{controller: k8s.io/ingress-nginx}}\n---\n{}{}",
        ingress("loopback", "127.0.0.0/8"),
        ingress("private", "10.0.0.0/8")
    );
    write_atomically(&dir.0, "ingresses.yaml", &manifests);
    let serve = serve(&dir.0, &[("app/echo:80", echo_addr.as_str())]);
    let url = format!("http://{}/", serve.addr);
    let status = |host: &str| curl_status("--http1.1", &["-H", &format!("host: {host}")], &url);
    assert_eq!(status("loopback.local"), "200");
    assert_eq!(status("private.local"), "403");
}

/// A Gateway and an HTTPRoute whose `/allowed` rule asks authorization server `allow` and whose
/// `/refused` rule asks `deny`, both forwarding to `echo`: `external_auth` is the filter's
/// `externalAuth` fields with SERVER for the server's name.
fn checked_routes(external_auth: &str) -> String {
    let rule = |path: &str, server: &str| {
        let external_auth = external_auth.replace("SERVER", server);
        format!(
            "  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]\n    filters:\n    - type: ExternalAuth\n      externalAuth: {{{external_auth}}}\n    backendRefs: [{{name: echo, port: 80}}]\n"
        )
    };
    format!(
        "kind: Gateway\napiVersion: gateway.networking.k8s.io/v1\nmetadata: {{name: gw, namespace: infra}}\nspec:\n  gatewayClassName: gatewasm\n  listeners: [{{name: http, port: 443, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}]\n---\nkind: HTTPRoute\napiVersion: gateway.networking.k8s.io/v1\nmetadata: {{name: checked, namespace: app}}\nspec:\n  parentRefs: [{{name: gw, namespace: infra}}]\n  rules:\n{}{}",
        rule("/allowed", "allow"),
        rule("/refused", "deny")
    )
}

#[test]
fn an_http_authorization_server_is_asked_and_its_answer_decides() {
    require("curl");
    let (_echo, echo_addr) = echo("echo");
    // A server that allows: host-sim echo answers 200. One that refuses: Python's file server
    // on an empty folder answers 404 to every check.
    let (_allow, allow_addr) = echo("authz");
    let empty = TempDir::new("authz-empty");
    let deny = Running::start(Command::new("sh").args([
        "-c",
        &format!(
            "exec python3 -u -m http.server 0 --bind 127.0.0.1 --directory {} 1>&2",
            empty.0.display()
        ),
    ]));
    let deny_addr = address(&deny.wait_for("Serving HTTP"));
    let dir = TempDir::new("authz");
    let manifests = checked_routes(
        "protocol: HTTP, backendRef: {name: SERVER, port: 9000}, http: {path: /check}",
    );
    write_atomically(&dir.0, "routes.yaml", &manifests);
    let serve = serve(
        &dir.0,
        &[
            ("app/echo:80", echo_addr.as_str()),
            ("app/allow:9000", allow_addr.as_str()),
            ("app/deny:9000", deny_addr.as_str()),
        ],
    );
    let status =
        |path: &str| curl_status("--http1.1", &[], &format!("http://{}{path}", serve.addr));
    assert_eq!(status("/allowed/x"), "200", "{}", serve.running.stderr());
    assert_eq!(status("/refused/x"), "404", "{}", serve.running.stderr());
    let asked = deny.stderr();
    assert!(
        asked.contains("GET /check/refused/x"),
        "the check reached the server: {asked}"
    );
}
