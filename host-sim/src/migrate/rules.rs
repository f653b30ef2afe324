//! One nginx location as HTTPRoute rules: its path match, the canary's header and cookie rules
//! before the weighted rule, and the filters its Ingress's annotations ask for.
//!
//! Everything Gateway API cannot say exactly becomes a [`Note`]. Which routes and listeners the
//! rules go into is [`super::convert`]'s job; which Ingresses own which locations is
//! [`super::plan`]'s.

use serde_json::{json, Map, Value};

use gatewasm_core::config::{Canary, IngressAnnotations, ANNOTATION_PREFIX};
use gatewasm_core::ingress::{Location, Server, ServiceRef};

use super::notes::{Affects, Note};
use super::plan::Plan;

/// nginx's redirect code for `ssl-redirect`, `force-ssl-redirect` and `from-to-www-redirect`.
pub const HTTPS_REDIRECT_CODE: u16 = 308;

/// Redirect codes HTTPRoute's `RequestRedirect` accepts.
const REDIRECT_CODES: [u16; 5] = [301, 302, 303, 307, 308];

/// The full name of an ingress-nginx annotation.
pub fn annotation(name: &str) -> String {
    format!("{ANNOTATION_PREFIX}/{name}")
}

/// A `backendRefs` entry (Services are in the route's namespace, as in the Ingress).
fn backend_ref(service: &ServiceRef, weight: Option<u32>) -> Value {
    let mut object = json!({ "name": service.name });
    match service.port.parse::<u32>() {
        Ok(number) => object["port"] = json!(number),
        Err(_) => object["port"] = json!(service.port),
    }
    if let Some(weight) = weight {
        object["weight"] = json!(weight);
    }
    object
}

/// The location's path match: nginx's case-insensitive start-anchored regex in regex mode,
/// else `Exact` or `PathPrefix` of the path the Ingress wrote.
fn path_match(plan: &Plan, server: &Server, location: &Location) -> Value {
    let path = &location.ingress_path;
    if server.regex {
        json!({"type": "RegularExpression", "value": format!("(?i)(?:{path}).*")})
    } else if plan.exact(server, location) {
        json!({"type": "Exact", "value": path})
    } else {
        json!({"type": "PathPrefix", "value": path})
    }
}

/// A header match on `cookie` that finds `name=value` among the cookies (names compared
/// without case, as nginx's `$cookie_` variables do).
fn cookie_match(name: &str, value: &str) -> Value {
    json!({
        "type": "RegularExpression",
        "name": "cookie",
        "value": format!("(?:.*;\\s*)?(?i:{})={value}(?:\\s*;.*)?", regex_literal(name)),
    })
}

/// `text` with the regex metacharacters escaped.
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether gatewasm (and RE2-style engines) accept `pattern`.
fn re2_accepts(pattern: &str) -> bool {
    regex_lite::Regex::new(pattern).is_ok()
}

/// Converts one location into rules, noting what is lost.
pub struct LocationRules<'a> {
    /// The plan the location belongs to.
    pub plan: &'a Plan,
    /// Its server.
    pub server: &'a Server,
    /// The location.
    pub location: &'a Location,
    /// Notes are added here.
    pub notes: &'a mut Vec<Note>,
}

impl LocationRules<'_> {
    /// The owning Ingress's annotations; nginx's defaults where they do not apply.
    fn annotations(&self) -> IngressAnnotations {
        match self.location.ingress.and_then(|i| self.plan.annotations(i)) {
            Some(a) if !self.location.without_redirects => a.clone(),
            _ => IngressAnnotations::default(),
        }
    }

    fn label(&self) -> String {
        self.location
            .ingress
            .map(|i| self.plan.label(i))
            .unwrap_or_default()
    }

    fn written(&self, name: &str) -> bool {
        self.location
            .ingress
            .and_then(|i| self.plan.written(i, &annotation(name)))
            .is_some()
    }

    fn note(&mut self, note: Note) {
        let note = note.on(&self.server.host, Some(&self.location.ingress_path));
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// The rules for plain HTTP when `to_https`, which redirect where nginx would.
    pub fn rules(&mut self, to_https: bool) -> Vec<Value> {
        let Some(primary) = self.location.service.clone() else {
            return Vec::new();
        };
        let path = path_match(self.plan, self.server, self.location);
        let a = self.annotations();
        if let Some(rules) = self.redirect_rules(&a, &path) {
            return rules;
        }
        if to_https && (a.force_ssl_redirect || (a.ssl_redirect && self.server.tls)) {
            return vec![json!({
                "matches": [{"path": path}],
                "filters": [{"type": "RequestRedirect",
                             "requestRedirect": {"scheme": "https", "statusCode": HTTPS_REDIRECT_CODE}}],
            })];
        }
        let (filters, path) = self.filters(&a, path);
        let mut extra = Map::new();
        self.timeouts_and_retry(&a, &mut extra);
        self.session(&primary, &mut extra);
        let mut rules = Vec::new();
        let rule = |matches: Value, backends: Vec<Value>| {
            let mut rule = json!({"matches": matches, "backendRefs": backends});
            if !filters.is_empty() {
                rule["filters"] = json!(filters);
            }
            for (key, value) in &extra {
                rule[key] = value.clone();
            }
            rule
        };
        let primary = &primary;
        let canary = self
            .plan
            .canary(primary)
            .map(|(ingress, service)| (ingress, service.clone()));
        match canary {
            None => rules.push(rule(
                json!([{"path": path}]),
                vec![backend_ref(primary, None)],
            )),
            Some((canary_ingress, canary_backend)) => {
                let canary = self
                    .plan
                    .annotations(canary_ingress)
                    .and_then(|a| a.canary.clone())
                    .unwrap_or_default();
                let label = self.plan.label(canary_ingress);
                let sticky = self.plan.affinity(primary).is_some();
                for (matches, to_canary) in self.canary_matches(&canary, &label, &path, sticky) {
                    let backend = if to_canary { &canary_backend } else { primary };
                    rules.push(rule(json!([matches]), vec![backend_ref(backend, None)]));
                }
                let total = canary.effective_total();
                let weight = canary.weight.min(total);
                let backends = if weight == 0 {
                    vec![backend_ref(primary, None)]
                } else {
                    vec![
                        backend_ref(primary, Some(total - weight)),
                        backend_ref(&canary_backend, Some(weight)),
                    ]
                };
                rules.push(rule(json!([{"path": path}]), backends));
            }
        }
        rules
    }

    /// The header and cookie matches of a canary in nginx's order, each with where it sends
    /// the request: header first (value, else pattern, else `always`/`never`), then cookie.
    fn canary_matches(
        &mut self,
        canary: &Canary,
        label: &str,
        path: &Value,
        sticky: bool,
    ) -> Vec<(Value, bool)> {
        let mut out = Vec::new();
        let with = |header: Value| json!({"path": path, "headers": [header]});
        if let Some(name) = &canary.by_header {
            if let Some(value) = &canary.by_header_value {
                out.push((
                    with(json!({"type": "Exact", "name": name, "value": value})),
                    true,
                ));
            } else if let Some(pattern) = &canary.by_header_pattern {
                let wrapped = format!(".*(?:{pattern}).*");
                if re2_accepts(&wrapped) {
                    out.push((
                        with(json!({"type": "RegularExpression", "name": name, "value": wrapped})),
                        true,
                    ));
                } else {
                    self.note(
                        Note::annotation(
                            label,
                            &annotation("canary-by-header-pattern"),
                            pattern,
                            "nginx tests the pattern with PCRE; Gateway API regular expressions are RE2-style here and this one does not compile, so the converted route has no header rule and such requests follow the weight",
                            "rewrite the pattern without PCRE-only syntax (lookarounds, backreferences), or list the values with canary-by-header-value",
                        )
                        .affecting(Affects::Canary),
                    );
                }
            } else {
                for (value, to_canary) in [("always", true), ("never", false)] {
                    out.push((
                        with(json!({"type": "Exact", "name": name, "value": value})),
                        to_canary,
                    ));
                }
            }
        }
        if let Some(name) = &canary.by_cookie {
            for (value, to_canary) in [("always", true), ("never", false)] {
                out.push((with(cookie_match(name, value)), to_canary));
            }
        }
        if sticky && !out.is_empty() {
            self.note(
                Note::annotation(
                    label,
                    &annotation("affinity"),
                    "cookie",
                    "nginx keeps a client that carries its affinity cookie where it was before it looks at the canary header or cookie; in Gateway API a header match wins over sessionPersistence",
                    "accept that the canary header moves sticky clients, or drop affinity for the rollout",
                )
                .affecting(Affects::Canary),
            );
        }
        out
    }

    /// `temporal-redirect` / `permanent-redirect` and `app-root` as redirect rules; `None`
    /// when the location forwards.
    fn redirect_rules(&mut self, a: &IngressAnnotations, path: &Value) -> Option<Vec<Value>> {
        let redirect = a.redirect.as_ref()?;
        let label = self.label();
        let name = if self.written("temporal-redirect") {
            annotation("temporal-redirect")
        } else {
            annotation("permanent-redirect")
        };
        let mut body = Map::new();
        let Some((scheme, rest)) = redirect.url.split_once("://") else {
            self.note(Note::annotation(
                &label,
                &name,
                &redirect.url,
                "the URL has no scheme, which a Gateway API redirect needs to be read",
                "write the full URL, https://host/path",
            ));
            return None;
        };
        body.insert("scheme".into(), json!(scheme));
        let (authority, path_and_query) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        match authority
            .rsplit_once(':')
            .map(|(h, p)| (h, p.parse::<u16>()))
        {
            Some((host, Ok(port))) => {
                body.insert("hostname".into(), json!(host));
                body.insert("port".into(), json!(port));
            }
            _ => {
                body.insert("hostname".into(), json!(authority));
            }
        }
        let (target_path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let target_path = if target_path.is_empty() {
            "/"
        } else {
            target_path
        };
        body.insert(
            "path".into(),
            json!({"type": "ReplaceFullPath", "replaceFullPath": target_path}),
        );
        let code = if REDIRECT_CODES.contains(&redirect.code) {
            redirect.code
        } else {
            self.note(Note::annotation(
                &label,
                &format!("{name}-code"),
                &redirect.code.to_string(),
                "HTTPRoute redirects answer 301, 302, 303, 307 or 308 only; the converted route answers 302",
                "use one of those codes",
            ));
            302
        };
        body.insert("statusCode".into(), json!(code));
        self.note(
            Note::annotation(
                &label,
                &name,
                &redirect.url,
                match query {
                    Some(_) => "nginx answers with the URL as written, query included, whatever the request's query; a Gateway API redirect cannot set a query and keeps the request's own",
                    None => "nginx answers with the URL as written and drops the request's query; a Gateway API redirect keeps the request's query",
                },
                "make the target ignore unknown query parameters, or keep this redirect in front of the Gateway",
            )
            .affecting(Affects::Query),
        );
        Some(vec![json!({
            "matches": [{"path": path}],
            "filters": [{"type": "RequestRedirect", "requestRedirect": body}],
        })])
    }

    /// URL rewrites, `X-Forwarded-Prefix`, CORS and mirrors; returns them with the path match
    /// the rule should use (a capture rewrite of the form `P(/|$)(.*)` becomes a prefix).
    fn filters(&mut self, a: &IngressAnnotations, path: Value) -> (Vec<Value>, Value) {
        let mut filters = Vec::new();
        let mut path = path;
        let label = self.label();
        let mut rewrite = Map::new();
        let mut rewrote = false;
        let written_path = self.location.ingress_path.clone();
        if let Some(target) = a.rewrite_target.as_deref().filter(|t| *t != written_path) {
            if !target.contains('$') {
                rewrite.insert(
                    "path".into(),
                    json!({"type": "ReplaceFullPath", "replaceFullPath": target}),
                );
                rewrote = true;
            } else if let Some(prefix) = prefix_capture(&written_path, target) {
                path = json!({"type": "PathPrefix", "value": prefix});
                rewrite.insert(
                    "path".into(),
                    json!({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}),
                );
                rewrote = true;
                if self.server.regex {
                    self.note(
                        Note::rule(
                            &label,
                            "regex mode",
                            "the capture rewrite is converted to a PathPrefix with replacePrefixMatch, which matches letter case exactly; nginx matches the path case-insensitively",
                            "accept that /API no longer matches /api, or add a RegularExpression rule for the other spellings",
                        )
                        .affecting(Affects::Case),
                    );
                }
            } else {
                self.note(Note::annotation(
                    &label,
                    &annotation("rewrite-target"),
                    target,
                    "Gateway API cannot rewrite with capture groups ($1..$9) yet (GEP-4360 is provisional); the converted rule forwards the path unchanged",
                    "write the path as PREFIX(/|$)(.*) with rewrite-target /$2, which converts to replacePrefixMatch, or rewrite in the backend",
                ));
            }
        }
        if let Some(vhost) = &a.upstream_vhost {
            rewrite.insert("hostname".into(), json!(vhost));
        }
        if !rewrite.is_empty() {
            filters.push(json!({"type": "URLRewrite", "urlRewrite": rewrite}));
        }
        if let (Some(prefix), true) = (&a.x_forwarded_prefix, rewrote) {
            filters.push(json!({"type": "RequestHeaderModifier",
                "requestHeaderModifier": {"set": [{"name": "X-Forwarded-Prefix", "value": prefix}]}}));
        }
        if let Some(cors) = &a.cors {
            let split = |text: &str| -> Vec<String> {
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let mut body = json!({
                "allowOrigins": cors.allow_origins,
                "allowMethods": split(&cors.allow_methods),
                "allowHeaders": split(&cors.allow_headers),
                "allowCredentials": cors.allow_credentials,
                "maxAge": cors.max_age,
            });
            if let Some(expose) = &cors.expose_headers {
                body["exposeHeaders"] = json!(split(expose));
            }
            filters.push(json!({"type": "CORS", "cors": body}));
            self.note(
                Note::annotation(
                    &label,
                    &annotation("enable-cors"),
                    "true",
                    "nginx answers every OPTIONS request 204 itself, preflight or not, and adds the CORS headers to every answer; Gateway API CORS answers only preflights and sends the headers only to requests with an Origin",
                    "let the backend answer plain OPTIONS requests, or keep them away from it",
                )
                .affecting(Affects::Cors),
            );
        }
        if let Some(target) = &a.mirror_target {
            match mirror_service(target) {
                Some((name, namespace, port)) => {
                    let mut backend = json!({"name": name, "port": port});
                    let own = self.location.service.as_ref().map(|s| s.namespace.as_str());
                    if Some(namespace.as_str()) != own {
                        backend["namespace"] = json!(namespace);
                    }
                    filters.push(json!({"type": "RequestMirror",
                        "requestMirror": {"backendRef": backend}}));
                }
                None => self.note(Note::annotation(
                    &label,
                    &annotation("mirror-target"),
                    target,
                    "Gateway API mirrors to a Service (backendRef), not to a URL; this URL names no Service of the cluster",
                    "create a Service (type ExternalName for an outside host) and mirror to it with a RequestMirror filter",
                )),
            }
        }
        (filters, path)
    }

    fn timeouts_and_retry(&mut self, a: &IngressAnnotations, extra: &mut Map<String, Value>) {
        let label = self.label();
        let p = &a.proxy;
        if p.connect.is_some() || p.read.is_some() {
            let seconds = p.connect.unwrap_or(5) + p.read.unwrap_or(60);
            extra.insert(
                "timeouts".into(),
                json!({"backendRequest": format!("{seconds}s")}),
            );
            let name = if self.written("proxy-read-timeout") {
                "proxy-read-timeout"
            } else {
                "proxy-connect-timeout"
            };
            let value = p.read.or(p.connect).unwrap_or_default().to_string();
            self.note(Note::annotation(
                &label,
                &annotation(name),
                &value,
                "nginx's proxy timeouts are idle times (between two reads from the upstream) and the connect time; Gateway API timeouts are deadlines, so backendRequest is connect + read and a slow response that keeps sending is cut there",
                "set timeouts.backendRequest to the longest a response may take",
            ));
        }
        if let Some(seconds) = p.send {
            self.note(Note::annotation(
                &label,
                &annotation("proxy-send-timeout"),
                &seconds.to_string(),
                "Gateway API has no idle timeout for sending the request body",
                "set the route's idle timeout in the proxy (Envoy route idle_timeout, Istio DestinationRule) if uploads are slow",
            ));
        }
        if p.next_upstream.is_some() || p.next_upstream_tries.is_some() {
            let conditions = p
                .next_upstream
                .clone()
                .unwrap_or_else(|| vec!["error".into(), "timeout".into()]);
            if conditions.iter().any(|c| c == "off") {
                extra.insert("retry".into(), json!({"attempts": 0}));
            } else {
                let codes: Vec<u32> = conditions
                    .iter()
                    .filter_map(|c| c.strip_prefix("http_")?.parse().ok())
                    .collect();
                let attempts = p.next_upstream_tries.unwrap_or(3).saturating_sub(1);
                let mut retry = json!({"attempts": attempts});
                if !codes.is_empty() {
                    retry["codes"] = json!(codes);
                }
                extra.insert("retry".into(), retry);
            }
            self.note(Note::annotation(
                &label,
                &annotation("proxy-next-upstream"),
                &conditions.join(" "),
                "nginx retries on another endpoint and never retries POST, LOCK or PATCH unless non_idempotent is listed; Gateway API retry has no such method rule, and connection errors are retried by the implementation's policy",
                "check that the retried methods are safe to repeat",
            ));
        }
    }

    /// Cookie affinity of the Service's upstream (the last Ingress asking for it on that
    /// upstream sets it) as `sessionPersistence`.
    fn session(&mut self, service: &ServiceRef, extra: &mut Map<String, Value>) {
        let Some(affinity) = self
            .plan
            .affinity(service)
            .and_then(|i| self.plan.annotations(i))
            .and_then(|a| a.affinity.clone())
        else {
            return;
        };
        let mut session = json!({"type": "Cookie", "sessionName": affinity.cookie_name});
        if let Some(seconds) = affinity.max_age.or(affinity.expires) {
            session["absoluteTimeout"] = json!(format!("{seconds}s"));
            session["cookieConfig"] = json!({"lifetimeType": "Permanent"});
        }
        extra.insert("sessionPersistence".into(), session);
    }
}

/// The prefix of a path written `PREFIX(/|$)(.*)` whose rewrite target is `/$2`.
fn prefix_capture(path: &str, target: &str) -> Option<String> {
    let prefix = path.strip_suffix("(/|$)(.*)")?;
    let literal = !prefix.contains(|c: char| "\\.+*?()|[]{}^$".contains(c));
    (literal && target == "/$2" && prefix.starts_with('/')).then(|| prefix.to_owned())
}

/// The Service a mirror URL names: `http(s)://NAME.NAMESPACE.svc[.cluster.local][:PORT]/...`.
fn mirror_service(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, if scheme == "https" { 443 } else { 80 }),
    };
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let mut labels = host.split('.');
    let (name, namespace, svc) = (labels.next()?, labels.next()?, labels.next()?);
    (svc == "svc" && labels.next().is_none()).then(|| (name.to_owned(), namespace.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::{mirror_service, prefix_capture};

    #[test]
    fn a_capture_rewrite_of_the_usual_shape_is_a_prefix() {
        assert_eq!(
            prefix_capture("/api(/|$)(.*)", "/$2").as_deref(),
            Some("/api")
        );
        assert_eq!(prefix_capture("/api(/|$)(.*)", "/v2/$2"), None);
        assert_eq!(prefix_capture("/a.i(/|$)(.*)", "/$2"), None);
    }

    #[test]
    fn a_mirror_url_names_a_service_only_in_cluster_dns() {
        assert_eq!(
            mirror_service("http://shadow.shop.svc.cluster.local:8080/x"),
            Some(("shadow".into(), "shop".into(), 8080))
        );
        assert_eq!(
            mirror_service("https://shadow.shop.svc"),
            Some(("shadow".into(), "shop".into(), 443))
        );
        assert_eq!(
            mirror_service("https://test.example.com/$request_uri"),
            None
        );
    }
}
