//! One request through the Ingress table, in the order nginx handles it.
//!
//! Server (the `from-to-www-redirect` servers first, then the exact host, a one-label wildcard,
//! the catch-all), then the server-level `app-root` redirect of `/`, then the location (regex
//! mode: the first match in order; otherwise `= path`, then the longest prefix), then the body
//! size limit (413, checked on `Content-Length`), then the location's rewrite phase (a CORS
//! preflight answered 204, the permanent or temporal redirect, `rewrite-target`), then the SSL
//! redirect, then the source ranges (403), and last the balancer: the affinity cookie, the
//! canary's header, cookie and weight (`balancer.lua`), and the backend. What the table holds
//! is built in [`super::table`].

use super::rewrite::RewriteInput;
use super::table::{
    any_contains, IngressSettings, IngressTable, LocationTable, PathTest, ServerTable, Upstream,
    DEFAULT_BODY_SIZE,
};
use crate::decision::{Action, Decision, Forward, RuleRef};
use crate::effect::{Backend, HeaderEdits, LocalReply};
use crate::request::RequestView;
use crate::session::{backend_hash, cookie};

/// nginx's `http-redirect-code` default, for SSL and www redirects.
const REDIRECT_CODE: u16 = 308;

impl IngressTable {
    /// Whether requests need the client address (`source.address`).
    pub(crate) fn needs_client(&self) -> bool {
        self.needs_client
    }

    /// Decides a request no Gateway API route took; `backends` are the route table's, which
    /// the Ingress table's upstreams index.
    pub(crate) fn decide<'t>(
        &'t self,
        backends: &'t [Backend],
        request: &RequestView<'_>,
        draw: u64,
    ) -> Decision<'t> {
        let scheme = if request.scheme == b"https" {
            "https"
        } else {
            "http"
        };
        let uri = String::from_utf8_lossy(request.full_path);
        let path = String::from_utf8_lossy(request.path);
        if let Some((_, to)) = self.www.iter().find(|(from, _)| *from == request.host) {
            let port = request
                .port
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            let uri = uri.strip_suffix('/').unwrap_or(&uri);
            return reply(
                None,
                redirect(REDIRECT_CODE, format!("{scheme}://{to}:{port}{uri}")),
            );
        }
        let Some(server) = self.server(&request.host) else {
            return reply(None, LocalReply::new(404, "gatewasm_no_route"));
        };
        if let (Some(app_root), "/") = (&server.app_root, path.as_ref()) {
            let authority = String::from_utf8_lossy(request.authority);
            return reply(
                None,
                redirect(302, format!("{scheme}://{authority}{app_root}")),
            );
        }
        let Some(location) = server.location(&path) else {
            return reply(None, LocalReply::new(404, "gatewasm_no_route"));
        };
        let settings = location
            .ingress
            .and_then(|i| self.ingresses.get(i as usize));
        let rule = settings.map(|s| RuleRef {
            kind: "Ingress",
            namespace: &s.namespace,
            name: &s.name,
            index: usize::from(location.rule),
            rule_name: Some(&location.ingress_path),
        });
        let limit = settings.map_or(DEFAULT_BODY_SIZE, |s| {
            s.annotations.proxy_body_size.unwrap_or(DEFAULT_BODY_SIZE)
        });
        let length = request
            .header("content-length")
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok());
        if limit > 0 && length.is_some_and(|length| length > limit) {
            return reply(
                rule,
                LocalReply::new(413, "gatewasm_ingress_body_too_large"),
            );
        }
        let cors = settings.and_then(|s| cors_headers(s, request));
        if let (Some(headers), b"OPTIONS") = (&cors, request.method) {
            let mut headers = headers.set.clone();
            headers.push((
                String::from("content-type"),
                String::from("text/plain charset=UTF-8"),
            ));
            headers.push((String::from("content-length"), String::from("0")));
            return reply(
                rule,
                LocalReply {
                    headers,
                    ..LocalReply::new(204, "gatewasm_ingress_cors_preflight")
                },
            );
        }
        let annotations = settings
            .filter(|_| !location.without_redirects)
            .map(|s| &s.annotations);
        if let Some(target) = annotations.and_then(|a| a.redirect.as_ref()) {
            return reply(rule, redirect(target.code, target.url.clone()));
        }
        let rewritten = location.rewrite.as_ref().and_then(|r| {
            r.apply(&RewriteInput {
                path: &path,
                query: &String::from_utf8_lossy(request.query),
                host: &String::from_utf8_lossy(request.authority),
                scheme,
            })
        });
        let ssl =
            annotations.is_some_and(|a| a.force_ssl_redirect || (a.ssl_redirect && server.tls));
        if scheme == "http" && ssl {
            let uri = uri.strip_suffix('/').unwrap_or(&uri);
            let location = format!("https://{}{uri}", request.host);
            return reply(rule, redirect(REDIRECT_CODE, location));
        }
        if let Some(s) = settings {
            let client = request.client;
            let denied = client.is_some_and(|c| any_contains(&s.annotations.deny_source_ranges, c));
            let allowed = s.annotations.allow_source_ranges.is_empty()
                || client.is_some_and(|c| any_contains(&s.annotations.allow_source_ranges, c));
            if denied || !allowed {
                return reply(rule, LocalReply::new(403, "gatewasm_ingress_source_denied"));
            }
        }
        let chosen = self.balance(backends, location, request, draw);
        let backend = match chosen {
            Upstream::Default => {
                return reply(
                    rule,
                    LocalReply::new(404, "gatewasm_ingress_default_backend"),
                )
            }
            Upstream::Unavailable => {
                return reply(rule, LocalReply::new(503, "gatewasm_ingress_no_endpoints"))
            }
            Upstream::Backend(id) => match backends.get(id as usize) {
                Some(backend) => backend,
                None => return reply(rule, LocalReply::new(503, "gatewasm_ingress_no_endpoints")),
            },
        };
        let session = location.persistence.as_ref().map(|p| {
            let kept = p.session(request).map(|s| s.issued);
            p.response_headers(&backend.key, kept, request.now)
        });
        let retries_allowed = !matches!(request.method, b"POST" | b"LOCK" | b"PATCH");
        Action::Forward(Forward {
            auth: None,
            backend,
            request_headers: location
                .forwarded_prefix
                .iter()
                .filter(|_| rewritten.is_some())
                .collect(),
            envoy_headers: settings.map_or(&[][..], |s| {
                if retries_allowed {
                    &s.envoy_headers
                } else {
                    &s.envoy_headers_idempotent_only
                }
            }),
            authority: settings.and_then(|s| s.annotations.upstream_vhost.as_deref()),
            path: rewritten,
            mirrors: settings
                .and_then(|s| s.mirror)
                .and_then(|id| backends.get(id as usize))
                .into_iter()
                .collect(),
            response_headers: Vec::new(),
            generated_response_headers: cors.into_iter().chain(session).collect(),
        })
        .into_decision(rule)
    }

    /// The server for a host: exact, then a one-label wildcard, then the catch-all.
    fn server(&self, host: &str) -> Option<&ServerTable> {
        let id = self.exact.get(host).copied().or_else(|| {
            self.wildcards.iter().find_map(|(domain, id)| {
                let label = host.strip_suffix(domain.as_str())?;
                let one_label = !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                one_label.then_some(*id)
            })
        });
        self.servers.get(id.unwrap_or(self.catch_all) as usize)
    }

    /// The balancer: a request with the affinity cookie of the primary or the canary stays
    /// there; otherwise the canary's header, then its cookie, then its weight decide.
    fn balance(
        &self,
        backends: &[Backend],
        location: &LocationTable,
        request: &RequestView<'_>,
        draw: u64,
    ) -> Upstream {
        let primary = location.upstream;
        let Some(canary) = location.canary.and_then(|c| self.canaries.get(c as usize)) else {
            return primary;
        };
        let key = |upstream: Upstream| match upstream {
            Upstream::Backend(id) => backends
                .get(id as usize)
                .map(|b: &Backend| backend_hash(&b.key)),
            _ => None,
        };
        if let Some(session) = location
            .persistence
            .as_ref()
            .and_then(|p| p.session(request))
        {
            if key(primary) == Some(session.backend) {
                return primary;
            }
            if key(canary.upstream) == Some(session.backend) {
                return canary.upstream;
            }
        }
        let rules = &canary.rules;
        if let Some(value) = canary.header.as_deref().and_then(|h| request.header(h)) {
            let value = String::from_utf8_lossy(&value);
            match (&rules.by_header_value, &rules.by_header_pattern) {
                (Some(wanted), _) => {
                    if *wanted == value {
                        return canary.upstream;
                    }
                }
                (None, Some(_)) => {
                    if canary.pattern.as_ref().is_some_and(|p| p.is_match(&value)) {
                        return canary.upstream;
                    }
                }
                (None, None) if value == "always" => return canary.upstream,
                (None, None) if value == "never" => return primary,
                (None, None) => {}
            }
        }
        let cookie_value = rules.by_cookie.as_deref().and_then(|name| {
            let header = request.header("cookie")?;
            cookie(&String::from_utf8_lossy(&header), name).map(str::to_owned)
        });
        match cookie_value.as_deref() {
            Some("always") => return canary.upstream,
            Some("never") => return primary,
            _ => {}
        }
        // math.random(total) <= weight: the canary gets `weight` of `total` draws.
        if draw % u64::from(rules.effective_total()) < u64::from(rules.weight) {
            canary.upstream
        } else {
            primary
        }
    }
}

impl ServerTable {
    /// nginx's location choice.
    fn location(&self, path: &str) -> Option<&LocationTable> {
        if self.regex {
            return self.locations.iter().find(|l| match &l.test {
                PathTest::Regex(regex) => regex.is_match(path),
                _ => false,
            });
        }
        let exact = self
            .locations
            .iter()
            .find(|l| matches!(&l.test, PathTest::Exact(p) if p == path));
        exact.or_else(|| {
            self.locations
                .iter()
                .filter_map(|l| match &l.test {
                    PathTest::Prefix(p) if path.starts_with(p.as_str()) => Some((p.len(), l)),
                    _ => None,
                })
                .max_by_key(|(len, _)| *len)
                .map(|(_, l)| l)
        })
    }
}

/// The CORS headers nginx adds when `enable-cors` is on and the origin is allowed (`*` allows
/// every request, with or without `Origin`).
fn cors_headers(settings: &IngressSettings, request: &RequestView<'_>) -> Option<HeaderEdits> {
    let cors = settings.annotations.cors.as_ref()?;
    let origin = if cors.allow_origins.iter().any(|o| o == "*") {
        String::from("*")
    } else {
        let origin = String::from_utf8_lossy(&request.header("origin")?).into_owned();
        let parsed = crate::filters::OriginPattern::parse(&origin)?;
        if !settings.cors_origins.iter().any(|p| p.matches(&parsed)) {
            return None;
        }
        origin
    };
    let mut set = vec![(String::from("access-control-allow-origin"), origin)];
    if cors.allow_credentials {
        set.push((
            String::from("access-control-allow-credentials"),
            String::from("true"),
        ));
    }
    set.push((
        String::from("access-control-allow-methods"),
        cors.allow_methods.clone(),
    ));
    set.push((
        String::from("access-control-allow-headers"),
        cors.allow_headers.clone(),
    ));
    if let Some(expose) = &cors.expose_headers {
        set.push((
            String::from("access-control-expose-headers"),
            expose.clone(),
        ));
    }
    set.push((
        String::from("access-control-max-age"),
        cors.max_age.to_string(),
    ));
    Some(HeaderEdits {
        set,
        ..HeaderEdits::default()
    })
}

fn redirect(status: u16, location: String) -> LocalReply {
    LocalReply {
        headers: vec![(String::from("location"), location)],
        ..LocalReply::new(status, "gatewasm_ingress_redirect")
    }
}

fn reply(rule: Option<RuleRef<'_>>, reply: LocalReply) -> Decision<'_> {
    Decision {
        rule,
        action: Action::Reply(reply),
    }
}

impl<'t> Action<'t> {
    fn into_decision(self, rule: Option<RuleRef<'t>>) -> Decision<'t> {
        Decision { rule, action: self }
    }
}
