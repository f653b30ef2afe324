//! The requests `migrate --verify` sends: for every location of every host, the edges where
//! nginx and Gateway API could disagree.
//!
//! Per host: the host as written (a wildcard filled with one label, and with two) and with an
//! explicit port; HTTP, and HTTPS too for TLS hosts. Per path: the path, its parent, a child, a
//! sibling sharing the prefix, the other trailing slash, another letter case, a query. Per
//! canary: each header and cookie value that decides, and the plain request for the weight
//! split. Per CORS location: a preflight, a plain OPTIONS and a request with `Origin`. What the
//! answers are is [`super::replay`]'s concern.

use std::collections::BTreeMap;

use crate::request::RequestSpec;

use gatewasm_core::config::IngressAnnotations;
use gatewasm_core::ingress::{Location, Server, CATCH_ALL};

use super::notes::Affects;
use super::plan::Plan;

/// The host probes use for nginx's catch-all server: no Ingress names it.
pub const UNKNOWN_HOST: &str = "unknown.invalid";

/// The client address probes come from: outside every network a source range names, unless
/// the location admits only some networks (then from inside the first).
pub const CLIENT: &str = "203.0.113.7";

/// One generated request and what it exercises.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The request.
    pub request: RequestSpec,
    /// The server host it targets, as written in the Ingress.
    pub host: String,
    /// The location path it was made from.
    pub path: String,
    /// `Ingress namespace/name` owning the location.
    pub source: String,
    /// What kind of edge it is, for finding the note that explains a difference.
    pub kind: Affects,
    /// Whether the outcome is a split over many requests.
    pub split: bool,
}

/// Every probe for the plan, without repeats.
pub fn generate(plan: &Plan) -> Vec<Probe> {
    let mut all = Vec::new();
    for server in plan.servers() {
        for location in plan.locations(server) {
            all.extend(location_probes(plan, server, location));
        }
    }
    all.extend(written_paths(plan));
    // A repeated request is sent once; it is a split when any of its makers asked for one.
    let mut probes: Vec<Probe> = Vec::new();
    let mut seen = BTreeMap::new();
    for probe in all {
        let r = &probe.request;
        let key = (
            r.method.clone(),
            r.url.clone(),
            r.headers.clone(),
            r.client.clone(),
        );
        match seen.get(&key).and_then(|at: &usize| probes.get_mut(*at)) {
            Some(kept) => kept.split |= probe.split,
            None => {
                seen.insert(key, probes.len());
                probes.push(probe);
            }
        }
    }
    probes
}

/// One request per path of each canary Ingress, which has no location of its own: a canary
/// nginx ignores (no primary, not the first) is then still asked for.
fn written_paths(plan: &Plan) -> Vec<Probe> {
    let mut out = Vec::new();
    for (index, object) in plan.objects.iter().enumerate() {
        let Some(object) = object else { continue };
        let Some(annotations) = plan.annotations(index).filter(|a| a.canary.is_some()) else {
            continue;
        };
        for rule in &object.spec.rules {
            let host = match rule.host.as_deref() {
                Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
                _ => CATCH_ALL.to_owned(),
            };
            for path in rule.http.iter().flat_map(|h| &h.paths) {
                let written = path.path.clone().unwrap_or_else(|| "/".to_owned());
                let sent = if annotations.use_regex {
                    sample(&written)
                } else {
                    written.clone()
                };
                out.push(Probe {
                    request: RequestSpec {
                        method: "GET".to_owned(),
                        url: format!("http://{}{sent}", concrete(&host, "a")),
                        client: Some(CLIENT.to_owned()),
                        ..RequestSpec::default()
                    },
                    host: host.clone(),
                    path: written,
                    source: plan.label(index),
                    kind: Affects::Any,
                    split: false,
                });
            }
        }
    }
    out
}

/// A concrete host name for a server: the host itself, a wildcard filled with `label`, or
/// [`UNKNOWN_HOST`] for the catch-all.
fn concrete(host: &str, label: &str) -> String {
    if host == CATCH_ALL {
        UNKNOWN_HOST.to_owned()
    } else if let Some(domain) = host.strip_prefix("*.") {
        format!("{label}.{domain}")
    } else {
        host.to_owned()
    }
}

/// A path a regex could match: groups and classes replaced by a sample character.
fn sample(pattern: &str) -> String {
    let mut out = pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .replace("(/|$)", "/")
        .replace("(.*)", "x")
        .replace("(.+)", "x")
        .replace(".*", "x")
        .replace(".+", "x")
        .replace("[^/]+", "x")
        .replace("[0-9]+", "1")
        .replace("\\d+", "1");
    out.retain(|c| !"()?^$".contains(c));
    let mut unescaped = String::with_capacity(out.len());
    let mut chars = out.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            unescaped.extend(chars.next());
        } else {
            unescaped.push(c);
        }
    }
    unescaped
}

/// The edges of a path: `(path, kind)`.
fn path_variants(path: &str) -> Vec<(String, Affects)> {
    let trimmed = path.trim_end_matches('/');
    let mut out = vec![
        (path.to_owned(), Affects::Any),
        (format!("{path}?q=1"), Affects::Query),
        (format!("{trimmed}/child"), Affects::Any),
    ];
    if !trimmed.is_empty() {
        out.push((format!("{trimmed}x"), Affects::Any));
        let parent = match trimmed.rfind('/') {
            Some(0) | None => "/".to_owned(),
            Some(at) => trimmed[..at].to_owned(),
        };
        out.push((parent, Affects::Any));
        if path.ends_with('/') {
            out.push((trimmed.to_owned(), Affects::Any));
        } else {
            out.push((format!("{path}/"), Affects::Any));
        }
    }
    let upper = path.to_ascii_uppercase();
    if upper != path {
        out.push((upper, Affects::Case));
    }
    out
}

fn location_probes(plan: &Plan, server: &Server, location: &Location) -> Vec<Probe> {
    let default = IngressAnnotations::default();
    let a = location
        .ingress
        .and_then(|i| plan.annotations(i))
        .unwrap_or(&default);
    let source = location.ingress.map(|i| plan.label(i)).unwrap_or_default();
    let path = if a.use_regex {
        sample(&location.ingress_path)
    } else {
        location.ingress_path.clone()
    };
    let schemes: &[&str] = if server.tls {
        &["http", "https"]
    } else {
        &["http"]
    };
    let host = concrete(&server.host, "a");
    let network = |cidr: &gatewasm_core::config::Cidr| {
        let text = cidr.to_string();
        text.split('/').next().unwrap_or_default().to_owned()
    };
    let client = a
        .allow_source_ranges
        .first()
        .map_or_else(|| CLIENT.to_owned(), network);
    let mut out = Vec::new();
    let probe = |url: String, kind: Affects| Probe {
        host: server.host.clone(),
        path: location.ingress_path.clone(),
        source: source.clone(),
        kind: if kind == Affects::Any && url.ends_with('/') {
            Affects::TrailingSlash
        } else {
            kind
        },
        request: RequestSpec {
            method: "GET".to_owned(),
            url,
            client: Some(client.clone()),
            ..RequestSpec::default()
        },
        split: false,
    };
    for scheme in schemes {
        for (variant, kind) in path_variants(&path) {
            out.push(probe(format!("{scheme}://{host}{variant}"), kind));
        }
        let port = if *scheme == "https" { 443 } else { 80 };
        out.push(probe(
            format!("{scheme}://{host}:{port}{path}"),
            Affects::Any,
        ));
        if server.host.starts_with("*.") {
            let deeper = concrete(&server.host, "a.b");
            out.push(probe(format!("{scheme}://{deeper}{path}"), Affects::Labels));
        }
    }
    let main = schemes.last().copied().unwrap_or("http");
    let url = format!("{main}://{host}{path}");
    let canary = location
        .service
        .as_ref()
        .and_then(|s| plan.canary(s))
        .and_then(|(i, _)| plan.annotations(i))
        .and_then(|a| a.canary.clone());
    if let Some(canary) = canary {
        let with = |headers: Vec<(String, String)>| {
            let mut p = probe(url.clone(), Affects::Canary);
            p.request.headers = headers;
            p
        };
        let cookie =
            |name: &str, value: &str| ("Cookie".to_owned(), format!("theme=dark; {name}={value}"));
        if let Some(header) = &canary.by_header {
            let mut values = vec!["always", "never", "other"];
            values.extend(canary.by_header_value.as_deref());
            for value in values {
                out.push(with(vec![(header.clone(), value.to_owned())]));
            }
            if let Some(name) = &canary.by_cookie {
                out.push(with(vec![
                    (header.clone(), "never".to_owned()),
                    cookie(name, "always"),
                ]));
            }
        }
        if let Some(name) = &canary.by_cookie {
            for value in ["always", "never", "other"] {
                out.push(with(vec![cookie(name, value)]));
            }
        }
        let mut split = probe(url.clone(), Affects::Canary);
        split.split = true;
        out.push(split);
    }
    if let Some(cors) = &a.cors {
        let unlisted = "https://unlisted.example.org".to_owned();
        let mut origins = vec![unlisted];
        origins.extend(cors.allow_origins.iter().find(|o| *o != "*").cloned());
        for origin in origins {
            let mut preflight = probe(url.clone(), Affects::Cors);
            preflight.request.method = "OPTIONS".to_owned();
            preflight.request.headers = vec![
                ("Origin".to_owned(), origin.clone()),
                (
                    "Access-Control-Request-Method".to_owned(),
                    "POST".to_owned(),
                ),
            ];
            out.push(preflight);
            let mut actual = probe(url.clone(), Affects::Cors);
            actual.request.headers = vec![("Origin".to_owned(), origin)];
            out.push(actual);
        }
        let mut options = probe(url.clone(), Affects::Cors);
        options.request.method = "OPTIONS".to_owned();
        out.push(options);
    }
    let elsewhere = [
        (!a.allow_source_ranges.is_empty()).then(|| CLIENT.to_owned()),
        a.deny_source_ranges.first().map(network),
    ];
    for address in elsewhere.into_iter().flatten() {
        let mut p = probe(url.clone(), Affects::Source);
        p.request.client = Some(address);
        out.push(p);
    }
    if a.app_root.is_some() {
        out.push(probe(format!("{main}://{host}/"), Affects::Any));
    }
    for (from, _) in plan
        .model
        .www_redirects
        .iter()
        .filter(|(_, to)| *to == server.host)
    {
        let mut p = probe(format!("http://{from}{path}"), Affects::Any);
        p.host.clone_from(from);
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{path_variants, sample};

    #[test]
    fn a_regex_path_gets_a_sample_it_matches() {
        assert_eq!(sample("/api(/|$)(.*)"), "/api/x");
        assert_eq!(sample("/users/[0-9]+/orders"), "/users/1/orders");
        assert_eq!(sample("^/a\\.b$"), "/a.b");
    }

    #[test]
    fn a_path_has_its_edges() {
        let paths: Vec<String> = path_variants("/api").into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "/api",
                "/api?q=1",
                "/api/child",
                "/apix",
                "/",
                "/api/",
                "/API"
            ]
        );
        let paths: Vec<String> = path_variants("/").into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/", "/?q=1", "/child"]);
    }
}
