//! Benchmark route sets: a deterministic, seeded generator of HTTPRoute configurations of any
//! size and of a request mix that hits early, late and missing routes.
//!
//! It only produces data (plugin configuration bytes and requests); it times nothing. The native
//! benches (`benches/routing.rs`), the linear baseline's agreement test ([`crate::baseline`]) and
//! `host-sim bench` all route the same sets, so their numbers compare. Compiled only with the
//! `bench` feature.
//!
//! # Shape
//!
//! Routes carry [`RULES_PER_ROUTE`] rules each (the last one fewer), and every four routes share
//! one hostname, so a hostname bucket holds up to 40 rules of four owners. One hostname in five
//! is a wildcard (`*.wN.example.com`), one in five an exact pair, the rest single exact names.
//! Each route uses the path space `/rN` with: a catch-all prefix; nested API prefixes; a header
//! canary; a 90/10 weighted split; Exact paths; a POST-only Exact path; a query match; a header
//! regex; and, on one route in ten, a RegularExpression path. Requests carry eight ordinary
//! headers besides the pseudo-headers, as a browser or SDK would send.

use serde_json::{json, Value};

use crate::SplitMix64;

/// Rules in each generated route (the last route may have fewer).
pub const RULES_PER_ROUTE: usize = 10;

/// Routes sharing one hostname.
const ROUTES_PER_HOST: usize = 4;

/// Requests in a generated mix.
pub const MIX_LEN: usize = 512;

/// The listener port every generated request arrives on.
pub const PORT: u16 = 80;

/// A generated configuration and the requests to send through it.
#[derive(Clone, Debug)]
pub struct RouteSet {
    /// Number of HTTPRoute rules in the configuration.
    pub rules: usize,
    /// Plugin configuration JSON, as `on_configure` reads it.
    pub configuration: Vec<u8>,
    /// The request mix, in sending order.
    pub requests: Vec<BenchRequest>,
}

/// Where in the route set a request is meant to land.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aim {
    /// A rule of one of the first routes (first 5%).
    Early,
    /// A rule of one of the last routes (last 5%).
    Late,
    /// A rule of any route.
    Middle,
    /// A Host no route serves.
    UnknownHost,
    /// A served Host, a path none of its routes covers.
    UnknownPath,
}

/// One generated request.
#[derive(Clone, Debug)]
pub struct BenchRequest {
    /// What the request aims at.
    pub aim: Aim,
    /// `:method`.
    pub method: &'static str,
    /// `:authority`.
    pub authority: String,
    /// `:path`, query included.
    pub path: String,
    /// Ordinary headers after the pseudo-headers, lowercase names.
    pub headers: Vec<(String, String)>,
}

impl BenchRequest {
    /// Header pairs as Envoy hands them over: `:method`, `:scheme`, `:authority`, `:path`, then
    /// the ordinary headers.
    pub fn header_pairs(&self) -> Vec<(String, Vec<u8>)> {
        let pseudo = [
            (":method", self.method),
            (":scheme", "http"),
            (":authority", self.authority.as_str()),
            (":path", self.path.as_str()),
        ];
        pseudo
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.as_bytes().to_vec()))
            .chain(
                self.headers
                    .iter()
                    .map(|(n, v)| (n.clone(), v.as_bytes().to_vec())),
            )
            .collect()
    }
}

/// A route set of exactly `rules` HTTPRoute rules and its request mix, the same for the same
/// `(rules, seed)` on every machine.
///
/// # Examples
///
/// ```
/// let set = gatewasm_core::bench::route_set(100, 7);
/// let compiled = gatewasm_core::compile_bytes(&set.configuration)?;
/// assert_eq!(compiled.table.rule_count(), 100);
/// assert!(compiled.problems.is_empty());
/// # Ok::<(), gatewasm_core::ConfigError>(())
/// ```
pub fn route_set(rules: usize, seed: u64) -> RouteSet {
    let routes = rules.div_ceil(RULES_PER_ROUTE);
    let mut resources = vec![json!({
        "kind": "Gateway",
        "metadata": {"name": "bench-gw", "namespace": "infra"},
        "spec": {"listeners": [{"name": "http", "port": PORT, "protocol": "HTTP",
                                "allowedRoutes": {"namespaces": {"from": "All"}}}]}
    })];
    for route in 0..routes {
        let count = (rules - route * RULES_PER_ROUTE).min(RULES_PER_ROUTE);
        resources.push(http_route(route, count));
    }
    let configuration = json!({"gateway": "infra/bench-gw", "resources": resources});
    let mut rng = SplitMix64::new(seed);
    let requests = (0..MIX_LEN)
        .map(|_| request(&mut rng, routes, rules))
        .collect();
    RouteSet {
        rules,
        configuration: serde_json::to_vec(&configuration).unwrap_or_default(),
        requests,
    }
}

// === routes ===

/// The hostnames of the routes sharing host group `host`.
fn hostnames(host: usize) -> Vec<String> {
    match host % 5 {
        4 => vec![format!("*.w{host}.example.com")],
        3 => vec![
            format!("api{host}.example.com"),
            format!("www{host}.example.com"),
        ],
        _ => vec![format!("app{host}.example.com")],
    }
}

/// A Host that `hostnames(host)` serves.
fn authority(host: usize, rng: &mut SplitMix64) -> String {
    match host % 5 {
        4 => format!("tenant{}.w{host}.example.com", below(rng, 1000)),
        3 if below(rng, 2) == 0 => format!("www{host}.example.com"),
        3 => format!("api{host}.example.com"),
        _ => format!("app{host}.example.com"),
    }
}

fn backend(route: usize, version: &str, weight: Option<u32>) -> Value {
    let mut b = json!({"name": format!("svc{route}-{version}"), "port": 8080});
    if let Some(w) = weight {
        b["weight"] = json!(w);
    }
    b
}

fn prefix(value: &str) -> Value {
    json!({"type": "PathPrefix", "value": value})
}

/// Rule `j` of route `r`: its matches, and its backends.
fn rule(r: usize, j: usize) -> Value {
    let base = format!("/r{r}");
    let v1 = || vec![backend(r, "v1", None)];
    let (matches, backends) = match j {
        0 => (vec![json!({"path": prefix(&base)})], v1()),
        1 => (
            vec![json!({"path": prefix(&format!("{base}/api/v1"))})],
            v1(),
        ),
        2 => (
            vec![json!({"path": prefix(&format!("{base}/api/v1/users")),
                        "headers": [{"name": "x-canary", "value": "true"}]})],
            vec![backend(r, "v2", None)],
        ),
        3 => (
            vec![json!({"path": prefix(&format!("{base}/api/v1/users"))})],
            vec![backend(r, "v1", Some(90)), backend(r, "v2", Some(10))],
        ),
        4 => (
            vec![
                json!({"path": {"type": "Exact", "value": format!("{base}/healthz")}}),
                json!({"path": {"type": "Exact", "value": format!("{base}/readyz")}}),
            ],
            v1(),
        ),
        5 => (
            vec![
                json!({"path": {"type": "Exact", "value": format!("{base}/api/v1/login")},
                        "method": "POST"}),
            ],
            v1(),
        ),
        6 => (
            vec![json!({"path": prefix(&format!("{base}/search")),
                        "queryParams": [{"name": "version", "value": "beta"}]})],
            vec![backend(r, "v2", None)],
        ),
        7 if r % 10 == 0 => (
            vec![json!({"path": {"type": "RegularExpression",
                                 "value": format!("{base}/items/[0-9]+")}})],
            v1(),
        ),
        7 => (
            vec![json!({"path": prefix(&format!("{base}/items"))})],
            v1(),
        ),
        8 => (
            vec![json!({"path": prefix(&format!("{base}/static/assets/img"))})],
            vec![backend(r, "static", None)],
        ),
        _ => (
            vec![
                json!({"path": prefix(&format!("{base}/api/v2")), "method": "GET",
                        "headers": [{"name": "x-client", "type": "RegularExpression",
                                     "value": "mobile-(ios|android)"}]}),
            ],
            vec![backend(r, "v2", None)],
        ),
    };
    json!({"matches": matches, "backendRefs": backends})
}

fn http_route(r: usize, rules: usize) -> Value {
    json!({
        "kind": "HTTPRoute",
        "metadata": {"name": format!("route{r}"), "namespace": format!("team{}", r % 16)},
        "spec": {
            "parentRefs": [{"name": "bench-gw", "namespace": "infra"}],
            "hostnames": hostnames(r / ROUTES_PER_HOST),
            "rules": (0..rules).map(|j| rule(r, j)).collect::<Vec<_>>(),
        }
    })
}

// === requests ===

const USER_AGENTS: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "okhttp/4.12.0",
    "curl/8.5.0",
];

fn request(rng: &mut SplitMix64, routes: usize, rules: usize) -> BenchRequest {
    let edge = (routes / 20).max(1);
    let aim = match below(rng, 10) {
        _ if routes == 0 => Aim::UnknownHost,
        0 | 1 => Aim::Early,
        2 | 3 => Aim::Late,
        4..=7 => Aim::Middle,
        8 => Aim::UnknownHost,
        _ => Aim::UnknownPath,
    };
    let route = match aim {
        Aim::Early => below(rng, edge),
        Aim::Late => routes - 1 - below(rng, edge),
        Aim::Middle | Aim::UnknownHost | Aim::UnknownPath => below(rng, routes.max(1)),
    };
    let host = route / ROUTES_PER_HOST;
    let rules_here = (rules - route * RULES_PER_ROUTE).min(RULES_PER_ROUTE);
    let mut method = "GET";
    let mut headers = Vec::new();
    let (authority, path) = match aim {
        Aim::UnknownHost => (
            format!("shop{}.example.org", below(rng, 1000)),
            String::from("/r0/api/v1/users"),
        ),
        Aim::UnknownPath => (
            authority(host, rng),
            format!("/unknown/{}/page", below(rng, 1000)),
        ),
        Aim::Early | Aim::Late | Aim::Middle => {
            let base = format!("/r{route}");
            let id = below(rng, 100_000);
            let path = match below(rng, rules_here) {
                0 => format!("{base}/about/team"),
                1 => format!("{base}/api/v1/orders/{id}"),
                2 => {
                    headers.push(("x-canary".to_owned(), "true".to_owned()));
                    format!("{base}/api/v1/users/{id}/profile")
                }
                3 => format!("{base}/api/v1/users/{id}"),
                4 => format!("{base}/healthz"),
                5 => {
                    method = "POST";
                    format!("{base}/api/v1/login")
                }
                6 => format!("{base}/search?q=shoes&version=beta&page=2"),
                7 => format!("{base}/items/{id}"),
                8 => format!("{base}/static/assets/img/logo-{id}.png"),
                _ => {
                    headers.push(("x-client".to_owned(), "mobile-ios".to_owned()));
                    format!("{base}/api/v2/feed")
                }
            };
            (authority(host, rng), path)
        }
    };
    let ua = USER_AGENTS[below(rng, USER_AGENTS.len())];
    let mut ordinary = vec![
        ("user-agent", ua.to_owned()),
        ("accept", String::from("application/json, text/plain, */*")),
        ("accept-encoding", String::from("gzip, deflate, br")),
        ("accept-language", String::from("en-US,en;q=0.9")),
        (
            "x-forwarded-for",
            format!("10.{}.{}.7", below(rng, 256), below(rng, 256)),
        ),
        ("x-forwarded-proto", String::from("http")),
        (
            "x-request-id",
            format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
        ),
        (
            "cookie",
            format!("session={:016x}; theme=dark", rng.next_u64()),
        ),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect::<Vec<_>>();
    ordinary.append(&mut headers);
    BenchRequest {
        aim,
        method,
        authority,
        path,
        headers: ordinary,
    }
}

/// A number in `0..n` from `rng` (`0` when `n` is 0).
fn below(rng: &mut SplitMix64, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    usize::try_from(rng.next_u64() % n as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{route_set, Aim};
    use crate::borrow_pairs;
    use crate::{compile_bytes, Action, RequestView};

    #[test]
    fn sizes_are_exact_and_clean() {
        for rules in [1, 10, 95, 1000] {
            let set = route_set(rules, 1);
            let compiled = compile_bytes(&set.configuration).unwrap();
            assert_eq!(compiled.table.rule_count(), rules);
            assert!(compiled.problems.is_empty(), "{:?}", compiled.problems);
        }
    }

    #[test]
    fn deterministic_from_the_seed() {
        let (a, b, c) = (route_set(100, 3), route_set(100, 3), route_set(100, 4));
        assert_eq!(a.configuration, b.configuration);
        assert_eq!(format!("{:?}", a.requests), format!("{:?}", b.requests));
        assert_ne!(format!("{:?}", a.requests), format!("{:?}", c.requests));
    }

    #[test]
    fn aimed_requests_route_and_misses_do_not() {
        let set = route_set(1000, 9);
        let table = compile_bytes(&set.configuration).unwrap().table;
        for request in &set.requests {
            let owned = request.header_pairs();
            let headers = borrow_pairs(&owned);
            let decision = table.decide(&RequestView::new(&headers, Some(super::PORT)), 0);
            let forwarded = matches!(decision.action, Action::Forward { .. });
            let miss = matches!(request.aim, Aim::UnknownHost | Aim::UnknownPath);
            assert_eq!(forwarded, !miss, "{request:?}");
        }
        for aim in [Aim::Early, Aim::Late, Aim::Middle, Aim::UnknownHost] {
            assert!(set.requests.iter().any(|r| r.aim == aim), "{aim:?}");
        }
    }
}
