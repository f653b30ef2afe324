//! The CRD's limits and patterns that the compiler does not otherwise enforce (reference §1):
//! list lengths, value lengths and characters, weights, rule names, CORS lists, and the CEL rules
//! on a Gateway's or ListenerSet's listeners (count, and which protocols take `tls` and
//! `hostname`).
//!
//! The API server rejects objects that break them, so such an object can only reach the filter
//! from elsewhere (a hand-written configuration, a different API version). They are reported as
//! warnings naming the field and the offending value, and nothing is dropped for them: the
//! compiler already drops what it cannot serve.

use crate::config::json::At;
use crate::config::{
    BackendRef, Cors, GrpcRoute, HeaderModifier, HttpRoute, HttpRouteFilter, HttpRouteRule,
    Listener, ListenerTls, ParentRef, PathMatch,
};
use crate::matcher::{is_crd_header_value, is_field_value, is_header_name};
use crate::problem::Problem;

/// Checks the listeners of a Gateway or ListenerSet (`label`) against the CRD's CEL rules that
/// the compiler does not act on. Duplicate names are the compiler's: it skips the later one.
pub(crate) fn listeners(listeners: &[Listener], label: &str, problems: &mut Vec<Problem>) {
    let mut check = Checker { label, problems };
    let spec = At::Field(&At::Root, "spec");
    let list = spec.key("listeners");
    if listeners.is_empty() {
        check.warn_fix(
            list,
            "is empty; at least one listener is required",
            "add a listener, e.g. {name: http, port: 80, protocol: HTTP}",
        );
    }
    check.count(list, listeners.len(), 64);
    for (i, l) in listeners.iter().enumerate() {
        let field = list.index(i);
        let tls = field.key("tls");
        let protocol = l.protocol.as_str();
        let mode = l.tls.as_ref().map(|tls| tls.mode.as_deref().unwrap_or(""));
        if l.tls.is_some() && matches!(protocol, "HTTP" | "TCP" | "UDP") {
            check.warn_fix(
                tls,
                &format!("must not be set for protocol {protocol}"),
                "remove tls, or use protocol HTTPS to terminate TLS",
            );
        }
        if protocol == "HTTPS" && mode.is_some_and(|m| !matches!(m, "" | "Terminate")) {
            check.warn_fix(
                tls.key("mode"),
                &format!(
                    "{:?} is not allowed for protocol HTTPS; it must be Terminate",
                    mode.unwrap_or_default()
                ),
                "use mode Terminate, or protocol TLS for Passthrough (routed by a TLSRoute, not by gatewasm)",
            );
        }
        if protocol == "TLS" && mode.is_none_or(str::is_empty) {
            check.warn_fix(
                tls.key("mode"),
                "must be set for protocol TLS",
                "set tls.mode to Terminate or Passthrough",
            );
        }
        let terminates = protocol == "HTTPS" && mode.is_some_and(|m| matches!(m, "" | "Terminate"));
        let credentials =
            |tls: &ListenerTls| !tls.certificate_refs.is_empty() || !tls.options.is_empty();
        if terminates && !l.tls.as_ref().is_some_and(credentials) {
            check.warn_fix(
                tls,
                "terminates TLS without certificateRefs or options",
                "add tls.certificateRefs naming the Secret with the certificate",
            );
        }
        let hostname = l.hostname.as_deref().filter(|h| !h.is_empty());
        if let (Some(hostname), true) = (hostname, matches!(protocol, "TCP" | "UDP")) {
            check.warn_fix(
                field.key("hostname"),
                &format!("{hostname:?} is not allowed for protocol {protocol}"),
                "remove the hostname; TCP and UDP listeners match by port only",
            );
        }
    }
}

/// Checks an HTTPRoute against the CRD's limits.
pub(crate) fn http_route(route: &HttpRoute, label: &str, problems: &mut Vec<Problem>) {
    let mut check = Checker { label, problems };
    let spec = &route.spec;
    let root = At::Field(&At::Root, "spec");
    check.route_lists(root, &spec.parent_refs, &spec.hostnames);
    let rules = spec.rules.as_deref().unwrap_or_default();
    let field = root.key("rules");
    check.count(field, rules.len(), 16);
    let total: usize = rules
        .iter()
        .map(|r| r.matches.as_ref().map_or(0, Vec::len))
        .sum();
    if total > 128 {
        check.warn(
            field,
            &format!("has {total} matches in all; at most 128 are allowed"),
        );
    }
    check.rule_names(field, rules.iter().map(|r| r.name.as_deref()));
    for (i, rule) in rules.iter().enumerate() {
        check.http_rule(field.index(i), rule);
    }
}

/// Checks a GRPCRoute against the CRD's limits.
pub(crate) fn grpc_route(route: &GrpcRoute, label: &str, problems: &mut Vec<Problem>) {
    let mut check = Checker { label, problems };
    let spec = &route.spec;
    let root = At::Field(&At::Root, "spec");
    check.route_lists(root, &spec.parent_refs, &spec.hostnames);
    let rules = root.key("rules");
    check.count(rules, spec.rules.len(), 16);
    check.rule_names(rules, spec.rules.iter().map(|r| r.name.as_deref()));
    for (i, rule) in spec.rules.iter().enumerate() {
        let field = rules.index(i);
        let matches = field.key("matches");
        check.count(matches, rule.matches.len(), 64);
        for (j, m) in rule.matches.iter().enumerate() {
            check.count(matches.index(j).key("headers"), m.headers.len(), 16);
        }
        check.filters(field.key("filters"), &rule.filters);
        check.backends(field, &rule.backend_refs);
    }
}

struct Checker<'a> {
    label: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn warn(&mut self, field: At<'_>, message: &str) {
        self.problems.push(Problem::warning(
            self.label,
            field.to_string(),
            format!("{message} (the API server rejects this)"),
        ));
    }

    fn warn_fix(&mut self, field: At<'_>, message: &str, hint: &str) {
        self.warn(field, message);
        if let Some(problem) = self.problems.last_mut() {
            problem.hint = Some(hint.to_owned());
        }
    }

    fn count(&mut self, field: At<'_>, len: usize, max: usize) {
        if len > max {
            self.warn(
                field,
                &format!("has {len} entries; at most {max} are allowed"),
            );
        }
    }

    /// `parentRefs` and `hostnames`, which both route kinds share.
    fn route_lists(&mut self, spec: At<'_>, parent_refs: &[ParentRef], hostnames: &[String]) {
        self.count(spec.key("parentRefs"), parent_refs.len(), 32);
        let field = spec.key("hostnames");
        self.count(field, hostnames.len(), 16);
        for (i, h) in hostnames.iter().enumerate() {
            if h.len() > 253 || h.chars().any(|c| c.is_ascii_uppercase()) || h.ends_with('.') {
                self.warn(field.index(i), &format!("{h:?} must be a lowercase hostname of at most 253 characters without a trailing dot"));
            }
        }
    }

    fn rule_names<'n>(&mut self, rules: At<'_>, names: impl Iterator<Item = Option<&'n str>>) {
        let mut seen: Vec<&str> = Vec::new();
        for (i, name) in names.enumerate() {
            let Some(name) = name else { continue };
            let valid = !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                });
            if !valid {
                self.warn(
                    rules.index(i).key("name"),
                    &format!("{name:?} must be a lowercase DNS subdomain"),
                );
            }
            if seen.contains(&name) {
                self.warn(
                    rules.index(i).key("name"),
                    &format!("{name:?} is used by an earlier rule; rule names must be unique"),
                );
            }
            seen.push(name);
        }
    }

    fn http_rule(&mut self, field: At<'_>, rule: &HttpRouteRule) {
        let matches = rule.matches.as_deref().unwrap_or_default();
        let list = field.key("matches");
        self.count(list, matches.len(), 64);
        for (j, m) in matches.iter().enumerate() {
            let at = list.index(j);
            let (headers, query) = (at.key("headers"), at.key("queryParams"));
            self.count(headers, m.headers.len(), 16);
            self.count(query, m.query_params.len(), 16);
            for (k, h) in m.headers.iter().enumerate() {
                self.header_value(headers.index(k).key("value"), &h.value);
            }
            for (k, q) in m.query_params.iter().enumerate() {
                self.value(query.index(k).key("value"), &q.value, 1024);
            }
            if let Some(path) = &m.path {
                self.path(at.key("path").key("value"), path);
            }
        }
        self.filters(field.key("filters"), &rule.filters);
        self.backends(field, &rule.backend_refs);
    }

    fn value(&mut self, field: At<'_>, value: &str, max: usize) {
        if value.is_empty() || value.len() > max {
            self.warn(field, &format!("{value:?} must be 1 to {max} characters"));
        }
    }

    /// 1 to 4096 characters, and the experimental CRD's pattern. Values no header can carry are
    /// the compiler's (it drops a rule that would set them), so they are not reported twice.
    fn header_value(&mut self, field: At<'_>, value: &str) {
        self.value(field, value, 4096);
        if !value.is_empty() && is_field_value(value) && !is_crd_header_value(value) {
            self.warn_fix(
                field,
                &format!(
                    "{value:?} must be printable ASCII with single spaces or tabs between words"
                ),
                "remove leading, trailing and repeated spaces and non-ASCII characters",
            );
        }
    }

    /// The list limits, and header names where the CRD wants them (reference §1, CORS row).
    fn cors(&mut self, field: At<'_>, cors: &Cors) {
        self.count(field.key("allowOrigins"), cors.allow_origins.len(), 64);
        self.count(field.key("allowMethods"), cors.allow_methods.len(), 9);
        self.count(field.key("allowHeaders"), cors.allow_headers.len(), 64);
        self.count(field.key("exposeHeaders"), cors.expose_headers.len(), 64);
        for (list, names) in [
            ("allowHeaders", &cors.allow_headers),
            ("exposeHeaders", &cors.expose_headers),
        ] {
            for (i, name) in names.iter().enumerate() {
                if !is_header_name(name) {
                    self.warn_fix(
                        field.key(list).index(i),
                        &format!("{name:?} is not a header name"),
                        "list one header name per entry, without spaces or commas",
                    );
                }
            }
        }
        if cors.max_age == Some(0) {
            self.warn_fix(
                field.key("maxAge"),
                "0 is below the minimum of 1",
                "leave maxAge out for the default of 5 seconds",
            );
        }
    }

    /// Exact and PathPrefix values: ≤ 1024 characters, the CRD's character set, no `//`, dot
    /// segments, encoded slashes or fragments.
    fn path(&mut self, field: At<'_>, path: &PathMatch) {
        let Some(value) = path.value.as_deref() else {
            return;
        };
        if path.kind.as_deref() == Some("RegularExpression") {
            if value.len() > 1024 {
                self.warn(field, "must be at most 1024 characters");
            }
            return;
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-/._~!$&'()*+,;=:@%".contains(c);
        let forbidden = ["//", "/./", "/../", "%2f", "%2F", "#"]
            .into_iter()
            .find(|f| value.contains(f));
        if value.len() > 1024 || !value.chars().all(allowed) {
            self.warn(field, &format!("{value:?} must be at most 1024 characters of [-A-Za-z0-9/._~!$&'()*+,;=:@] and %XX escapes"));
        } else if let Some(f) = forbidden {
            self.warn(field, &format!("{value:?} must not contain {f:?}"));
        } else if value.ends_with("/..") || value.ends_with("/.") {
            self.warn(field, &format!("{value:?} must not end with a dot segment"));
        }
    }

    fn filters(&mut self, field: At<'_>, filters: &[HttpRouteFilter]) {
        self.count(field, filters.len(), 16);
        for (i, f) in filters.iter().enumerate() {
            for (name, modifier) in [
                ("requestHeaderModifier", &f.request_header_modifier),
                ("responseHeaderModifier", &f.response_header_modifier),
            ] {
                if let Some(m) = modifier {
                    self.modifier(field.index(i).key(name), m);
                }
            }
            if let Some(cors) = &f.cors {
                self.cors(field.index(i).key("cors"), cors);
            }
        }
    }

    fn modifier(&mut self, field: At<'_>, m: &HeaderModifier) {
        self.count(field.key("set"), m.set.len(), 16);
        self.count(field.key("add"), m.add.len(), 16);
        self.count(field.key("remove"), m.remove.len(), 16);
        for (action, values) in [("set", &m.set), ("add", &m.add)] {
            for (i, h) in values.iter().enumerate() {
                self.header_value(field.key(action).index(i).key("value"), &h.value);
            }
        }
    }

    fn backends(&mut self, field: At<'_>, backends: &[BackendRef]) {
        let list = field.key("backendRefs");
        self.count(list, backends.len(), 16);
        for (i, b) in backends.iter().enumerate() {
            let at = list.index(i);
            if b.weight.is_some_and(|w| w > 1_000_000) {
                self.warn(
                    at.key("weight"),
                    &format!(
                        "{} is above the maximum of 1000000",
                        b.weight.unwrap_or_default()
                    ),
                );
            }
            if b.name.is_empty() || b.name.len() > 253 {
                self.warn(
                    at.key("name"),
                    &format!("{:?} must be 1 to 253 characters", b.name),
                );
            }
            self.filters(at.key("filters"), &b.filters);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::config::json::from_json;
    use crate::config::HttpRoute;

    fn warnings(spec: &str) -> Vec<String> {
        let text =
            format!(r#"{{"metadata": {{"name": "r", "namespace": "app"}}, "spec": {spec}}}"#);
        let route = from_json(&text, HttpRoute::read).unwrap();
        let mut problems = Vec::new();
        super::http_route(&route, "HTTPRoute app/r", &mut problems);
        problems.into_iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn limits_and_patterns_name_the_field_and_value() {
        let got = warnings(
            r#"{"hostnames": ["App.example.com"],
                "rules": [{"name": "Bad_Name", "matches": [{"path": {"type": "PathPrefix", "value": "/a//b"}}],
                           "backendRefs": [{"name": "x", "port": 80, "weight": 2000000}]},
                          {"name": "Bad_Name"}]}"#,
        );
        assert_eq!(
            got,
            [
                "HTTPRoute app/r: spec.hostnames[0]: \"App.example.com\" must be a lowercase hostname of at most 253 characters without a trailing dot (the API server rejects this)",
                "HTTPRoute app/r: spec.rules[0].name: \"Bad_Name\" must be a lowercase DNS subdomain (the API server rejects this)",
                "HTTPRoute app/r: spec.rules[1].name: \"Bad_Name\" must be a lowercase DNS subdomain (the API server rejects this)",
                "HTTPRoute app/r: spec.rules[1].name: \"Bad_Name\" is used by an earlier rule; rule names must be unique (the API server rejects this)",
                "HTTPRoute app/r: spec.rules[0].matches[0].path.value: \"/a//b\" must not contain \"//\" (the API server rejects this)",
                "HTTPRoute app/r: spec.rules[0].backendRefs[0].weight: 2000000 is above the maximum of 1000000 (the API server rejects this)",
            ]
        );
    }

    #[test]
    fn cors_lists_and_header_values_follow_the_crd() {
        let origins: Vec<String> = (0..65)
            .map(|i| format!("\"https://o{i}.example.com\""))
            .collect();
        let got = warnings(&format!(
            r#"{{"rules": [{{"matches": [{{"headers": [{{"name": "x-v", "value": "two  spaces"}}]}}],
                "filters": [{{"type": "CORS", "cors": {{"allowOrigins": [{}],
                    "allowMethods": ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "GET"],
                    "allowHeaders": ["x-ok", "x bad"], "exposeHeaders": ["x-a,x-b"], "maxAge": 0}}}},
                  {{"type": "RequestHeaderModifier", "requestHeaderModifier": {{"set": [{{"name": "x-s", "value": " lead"}}, {{"name": "x-t", "value": "line\nbreak"}}]}}}}]}}]}}"#,
            origins.join(", ")
        ));
        let rule = "HTTPRoute app/r: spec.rules[0]";
        assert_eq!(
            got,
            [
                format!("{rule}.matches[0].headers[0].value: \"two  spaces\" must be printable ASCII with single spaces or tabs between words (the API server rejects this); remove leading, trailing and repeated spaces and non-ASCII characters"),
                format!("{rule}.filters[0].cors.allowOrigins: has 65 entries; at most 64 are allowed (the API server rejects this)"),
                format!("{rule}.filters[0].cors.allowMethods: has 10 entries; at most 9 are allowed (the API server rejects this)"),
                format!("{rule}.filters[0].cors.allowHeaders[1]: \"x bad\" is not a header name (the API server rejects this); list one header name per entry, without spaces or commas"),
                format!("{rule}.filters[0].cors.exposeHeaders[0]: \"x-a,x-b\" is not a header name (the API server rejects this); list one header name per entry, without spaces or commas"),
                format!("{rule}.filters[0].cors.maxAge: 0 is below the minimum of 1 (the API server rejects this); leave maxAge out for the default of 5 seconds"),
                // The line break is the compiler's to report: it drops the rule.
                format!("{rule}.filters[1].requestHeaderModifier.set[0].value: \" lead\" must be printable ASCII with single spaces or tabs between words (the API server rejects this); remove leading, trailing and repeated spaces and non-ASCII characters"),
            ]
        );
    }

    #[test]
    fn listener_rules_of_the_crd() {
        let listeners = from_json(
            r#"[{"name": "a", "port": 80, "protocol": "HTTP", "tls": {"mode": "Terminate"}},
                {"name": "b", "port": 443, "protocol": "HTTPS", "tls": {"mode": "Passthrough"}},
                {"name": "c", "port": 8443, "protocol": "HTTPS", "tls": {"mode": "Terminate"}},
                {"name": "d", "port": 9443, "protocol": "TLS"},
                {"name": "e", "port": 5000, "protocol": "TCP", "hostname": "db.example.com"},
                {"name": "f", "port": 443, "protocol": "HTTPS", "hostname": "ok.example.com", "tls": {"certificateRefs": [{"name": "cert"}]}}]"#,
            |node| node.list(crate::config::Listener::read),
        )
        .unwrap();
        let mut problems = Vec::new();
        super::listeners(&listeners, "Gateway infra/gw", &mut problems);
        let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let gw = "Gateway infra/gw: spec.listeners";
        assert_eq!(
            got,
            [
                format!("{gw}[0].tls: must not be set for protocol HTTP (the API server rejects this); remove tls, or use protocol HTTPS to terminate TLS"),
                format!("{gw}[1].tls.mode: \"Passthrough\" is not allowed for protocol HTTPS; it must be Terminate (the API server rejects this); use mode Terminate, or protocol TLS for Passthrough (routed by a TLSRoute, not by gatewasm)"),
                format!("{gw}[2].tls: terminates TLS without certificateRefs or options (the API server rejects this); add tls.certificateRefs naming the Secret with the certificate"),
                format!("{gw}[3].tls.mode: must be set for protocol TLS (the API server rejects this); set tls.mode to Terminate or Passthrough"),
                format!("{gw}[4].hostname: \"db.example.com\" is not allowed for protocol TCP (the API server rejects this); remove the hostname; TCP and UDP listeners match by port only"),
            ]
        );
        let mut problems = Vec::new();
        super::listeners(&[], "ListenerSet app/ls", &mut problems);
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["ListenerSet app/ls: spec.listeners: is empty; at least one listener is required (the API server rejects this); add a listener, e.g. {name: http, port: 80, protocol: HTTP}"]
        );
    }

    #[test]
    fn valid_routes_get_no_warnings() {
        assert!(warnings(r#"{"hostnames": ["app.example.com"], "rules": [{"name": "api", "matches": [{"path": {"value": "/api/v1"}}]}]}"#).is_empty());
    }
}
