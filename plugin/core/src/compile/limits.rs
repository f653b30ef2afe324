//! The CRD's limits and patterns that the compiler does not otherwise enforce (reference §1):
//! list lengths, value lengths and characters, weights, rule names.
//!
//! The API server rejects objects that break them, so such an object can only reach the filter
//! from elsewhere (a hand-written configuration, a different API version). They are reported as
//! warnings naming the field and the offending value, and nothing is dropped for them: the
//! compiler already drops what it cannot serve.

use crate::config::{
    BackendRef, GrpcRoute, HeaderModifier, HttpRoute, HttpRouteFilter, HttpRouteRule, PathMatch,
};
use crate::problem::Problem;

/// Checks an HTTPRoute against the CRD's limits.
pub(crate) fn http_route(route: &HttpRoute, label: &str, problems: &mut Vec<Problem>) {
    let mut check = Checker { label, problems };
    let spec = &route.spec;
    check.count("spec.parentRefs", spec.parent_refs.len(), 32);
    check.count("spec.hostnames", spec.hostnames.len(), 16);
    check.hostnames(&spec.hostnames);
    let rules = spec.rules.as_deref().unwrap_or_default();
    check.count("spec.rules", rules.len(), 16);
    let total: usize = rules
        .iter()
        .map(|r| r.matches.as_ref().map_or(0, Vec::len))
        .sum();
    if total > 128 {
        check.warn(
            "spec.rules",
            &format!("has {total} matches in all; at most 128 are allowed"),
        );
    }
    check.rule_names(rules.iter().map(|r| r.name.as_deref()));
    for (i, rule) in rules.iter().enumerate() {
        check.http_rule(&format!("spec.rules[{i}]"), rule);
    }
}

/// Checks a GRPCRoute against the CRD's limits.
pub(crate) fn grpc_route(route: &GrpcRoute, label: &str, problems: &mut Vec<Problem>) {
    let mut check = Checker { label, problems };
    let spec = &route.spec;
    check.count("spec.parentRefs", spec.parent_refs.len(), 32);
    check.count("spec.hostnames", spec.hostnames.len(), 16);
    check.hostnames(&spec.hostnames);
    check.count("spec.rules", spec.rules.len(), 16);
    check.rule_names(spec.rules.iter().map(|r| r.name.as_deref()));
    for (i, rule) in spec.rules.iter().enumerate() {
        let field = format!("spec.rules[{i}]");
        check.count(&format!("{field}.matches"), rule.matches.len(), 64);
        for (j, m) in rule.matches.iter().enumerate() {
            check.count(
                &format!("{field}.matches[{j}].headers"),
                m.headers.len(),
                16,
            );
        }
        check.filters(&format!("{field}.filters"), &rule.filters);
        check.backends(&field, &rule.backend_refs);
    }
}

struct Checker<'a> {
    label: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn warn(&mut self, field: &str, message: &str) {
        self.problems.push(Problem::warning(
            self.label,
            field,
            format!("{message} (the API server rejects this)"),
        ));
    }

    fn count(&mut self, field: &str, len: usize, max: usize) {
        if len > max {
            self.warn(
                field,
                &format!("has {len} entries; at most {max} are allowed"),
            );
        }
    }

    fn hostnames(&mut self, hostnames: &[String]) {
        for (i, h) in hostnames.iter().enumerate() {
            if h.len() > 253 || h.chars().any(|c| c.is_ascii_uppercase()) || h.ends_with('.') {
                self.warn(&format!("spec.hostnames[{i}]"), &format!("{h:?} must be a lowercase hostname of at most 253 characters without a trailing dot"));
            }
        }
    }

    fn rule_names<'n>(&mut self, names: impl Iterator<Item = Option<&'n str>>) {
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
                    &format!("spec.rules[{i}].name"),
                    &format!("{name:?} must be a lowercase DNS subdomain"),
                );
            }
            if seen.contains(&name) {
                self.warn(
                    &format!("spec.rules[{i}].name"),
                    &format!("{name:?} is used by an earlier rule; rule names must be unique"),
                );
            }
            seen.push(name);
        }
    }

    fn http_rule(&mut self, field: &str, rule: &HttpRouteRule) {
        let matches = rule.matches.as_deref().unwrap_or_default();
        self.count(&format!("{field}.matches"), matches.len(), 64);
        for (j, m) in matches.iter().enumerate() {
            let at = format!("{field}.matches[{j}]");
            self.count(&format!("{at}.headers"), m.headers.len(), 16);
            self.count(&format!("{at}.queryParams"), m.query_params.len(), 16);
            for (k, h) in m.headers.iter().enumerate() {
                self.value(&format!("{at}.headers[{k}].value"), &h.value, 4096);
            }
            for (k, q) in m.query_params.iter().enumerate() {
                self.value(&format!("{at}.queryParams[{k}].value"), &q.value, 1024);
            }
            if let Some(path) = &m.path {
                self.path(&format!("{at}.path.value"), path);
            }
        }
        self.filters(&format!("{field}.filters"), &rule.filters);
        self.backends(field, &rule.backend_refs);
    }

    fn value(&mut self, field: &str, value: &str, max: usize) {
        if value.is_empty() || value.len() > max {
            self.warn(field, &format!("{value:?} must be 1 to {max} characters"));
        }
    }

    /// Exact and PathPrefix values: ≤ 1024 characters, the CRD's character set, no `//`, dot
    /// segments, encoded slashes or fragments.
    fn path(&mut self, field: &str, path: &PathMatch) {
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

    fn filters(&mut self, field: &str, filters: &[HttpRouteFilter]) {
        self.count(field, filters.len(), 16);
        for (i, f) in filters.iter().enumerate() {
            for (name, modifier) in [
                ("requestHeaderModifier", &f.request_header_modifier),
                ("responseHeaderModifier", &f.response_header_modifier),
            ] {
                if let Some(m) = modifier {
                    self.modifier(&format!("{field}[{i}].{name}"), m);
                }
            }
        }
    }

    fn modifier(&mut self, field: &str, m: &HeaderModifier) {
        self.count(&format!("{field}.set"), m.set.len(), 16);
        self.count(&format!("{field}.add"), m.add.len(), 16);
        self.count(&format!("{field}.remove"), m.remove.len(), 16);
        for (action, values) in [("set", &m.set), ("add", &m.add)] {
            for (i, h) in values.iter().enumerate() {
                self.value(&format!("{field}.{action}[{i}].value"), &h.value, 4096);
            }
        }
    }

    fn backends(&mut self, field: &str, backends: &[BackendRef]) {
        self.count(&format!("{field}.backendRefs"), backends.len(), 16);
        for (i, b) in backends.iter().enumerate() {
            let at = format!("{field}.backendRefs[{i}]");
            if b.weight.is_some_and(|w| w > 1_000_000) {
                self.warn(
                    &format!("{at}.weight"),
                    &format!(
                        "{} is above the maximum of 1000000",
                        b.weight.unwrap_or_default()
                    ),
                );
            }
            if b.name.is_empty() || b.name.len() > 253 {
                self.warn(
                    &format!("{at}.name"),
                    &format!("{:?} must be 1 to 253 characters", b.name),
                );
            }
            self.filters(&format!("{at}.filters"), &b.filters);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::config::HttpRoute;

    fn warnings(spec: &str) -> Vec<String> {
        let route: HttpRoute = serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "r", "namespace": "app"}}, "spec": {spec}}}"#
        ))
        .unwrap();
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
    fn valid_routes_get_no_warnings() {
        assert!(warnings(r#"{"hostnames": ["app.example.com"], "rules": [{"name": "api", "matches": [{"path": {"value": "/api/v1"}}]}]}"#).is_empty());
    }
}
