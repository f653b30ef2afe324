//! Route sets and requests built from the fuzzer's bytes with `arbitrary`: HTTPRoutes whose
//! hostnames, paths, methods, headers and query parameters come from small alphabets, so that
//! random requests often hit, nearly hit and tie with several rules at once.

use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{json, Value};

/// The listener port of the generated Gateway.
pub const PORT: u16 = 80;

const HOSTS: [&str; 6] = [
    "a.example.com",
    "b.example.com",
    "*.example.com",
    "*.a.example.com",
    "x.a.example.com",
    "A.Example.com",
];
const SEGMENTS: [&str; 7] = ["a", "b", "ab", "api", "v1", "", "%2F"];
const REGEXES: [&str; 8] = [
    "/a/.*",
    "/[ab]+",
    "/api/v[0-9]+(/.*)?",
    "/a(/.*)?",
    ".*",
    "/(a|b)/b",
    "/ab?",
    "/API/.*",
];
const METHODS: [&str; 4] = ["GET", "POST", "get", "DELETE"];
const NAMES: [&str; 3] = ["x-a", "x-b", "X-A"];
const VALUES: [&str; 4] = ["1", "2", "", "1,2"];

/// A generated configuration and the requests to route through it.
#[derive(Debug)]
pub struct RouteSet {
    /// Plugin configuration JSON.
    pub configuration: Vec<u8>,
    /// Requests as Envoy's header pairs.
    pub requests: Vec<Vec<(String, Vec<u8>)>>,
}

impl<'a> Arbitrary<'a> for RouteSet {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let listener_host = if u.arbitrary()? {
            Some(*u.choose(&HOSTS)?)
        } else {
            None
        };
        let mut resources = vec![json!({
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "infra"},
            "spec": {"listeners": [{"name": "http", "port": PORT, "protocol": "HTTP",
                                    "hostname": listener_host,
                                    "allowedRoutes": {"namespaces": {"from": "All"}}}]}
        })];
        for index in 0..u.int_in_range(0..=6)? {
            resources.push(route(u, index)?);
        }
        let mut requests = Vec::new();
        for _ in 0..u.int_in_range(1..=12)? {
            requests.push(request(u)?);
        }
        let configuration = json!({"gateway": "infra/gw", "resources": resources});
        Ok(Self {
            configuration: serde_json::to_vec(&configuration).unwrap_or_default(),
            requests,
        })
    }
}

fn route(u: &mut Unstructured<'_>, index: u32) -> Result<Value> {
    let hostnames = (0..u.int_in_range(0..=2)?)
        .map(|_| u.choose(&HOSTS).copied())
        .collect::<Result<Vec<_>>>()?;
    let mut rules = Vec::new();
    for _ in 0..u.int_in_range(1..=4)? {
        let mut matches = Vec::new();
        for _ in 0..u.int_in_range(0..=3)? {
            matches.push(route_match(u)?);
        }
        rules.push(json!({"matches": matches, "backendRefs": [{"name": "svc", "port": 80}]}));
    }
    let mut metadata = json!({"name": format!("r{index}"), "namespace": *u.choose(&["a", "b"])?});
    if u.arbitrary()? {
        let day = u.int_in_range(1..=3)?;
        metadata["creationTimestamp"] = json!(format!("2024-01-0{day}T00:00:00Z"));
    }
    Ok(json!({
        "kind": "HTTPRoute",
        "metadata": metadata,
        "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
                 "hostnames": hostnames, "rules": rules}
    }))
}

fn route_match(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut m = json!({});
    match u.int_in_range(0..=3)? {
        0 => {}
        1 => m["path"] = json!({"type": "Exact", "value": path(u)?}),
        2 => m["path"] = json!({"type": "PathPrefix", "value": path(u)?}),
        _ => m["path"] = json!({"type": "RegularExpression", "value": *u.choose(&REGEXES)?}),
    }
    if u.ratio(1, 4)? {
        m["method"] = json!(*u.choose(&METHODS)?);
    }
    if u.ratio(1, 3)? {
        m["headers"] = json!([condition(u)?]);
    }
    if u.ratio(1, 4)? {
        m["queryParams"] = json!([condition(u)?]);
    }
    Ok(m)
}

fn condition(u: &mut Unstructured<'_>) -> Result<Value> {
    let kind = if u.ratio(1, 4)? {
        "RegularExpression"
    } else {
        "Exact"
    };
    let value = if kind == "Exact" {
        *u.choose(&VALUES)?
    } else {
        "[12]"
    };
    Ok(json!({"type": kind, "name": *u.choose(&NAMES)?, "value": value}))
}

fn path(u: &mut Unstructured<'_>) -> Result<String> {
    let mut path = String::new();
    for _ in 0..u.int_in_range(0..=3)? {
        path.push('/');
        path.push_str(u.choose(&SEGMENTS)?);
    }
    if path.is_empty() || u.ratio(1, 5)? {
        path.push('/');
    }
    Ok(path)
}

fn request(u: &mut Unstructured<'_>) -> Result<Vec<(String, Vec<u8>)>> {
    let host = u.choose(&HOSTS)?.replace('*', "z");
    let authority = if u.ratio(1, 4)? {
        format!("{host}:{PORT}")
    } else {
        host
    };
    let mut target = path(u)?;
    if u.ratio(1, 3)? {
        target.push_str("?x-a=1&x-b=2");
    }
    let mut headers = vec![
        (
            ":method".to_owned(),
            u.choose(&METHODS)?.as_bytes().to_vec(),
        ),
        (":scheme".to_owned(), b"http".to_vec()),
        (":authority".to_owned(), authority.into_bytes()),
        (":path".to_owned(), target.into_bytes()),
    ];
    for _ in 0..u.int_in_range(0..=3)? {
        let name = u.choose(&NAMES)?.to_ascii_lowercase();
        headers.push((name, u.choose(&VALUES)?.as_bytes().to_vec()));
    }
    Ok(headers)
}
