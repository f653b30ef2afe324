//! A `filters` list (of a rule or of a backendRef) compiled into [`Filters`], with the CRD's
//! rules enforced: which types a route kind allows, which may appear only once, redirect and
//! rewrite never together, `ReplacePrefixMatch` only on a rule whose one match is a PathPrefix,
//! `ExternalAuth` only in a rule's own list (reference §1, §4).
//!
//! A filter the rule cannot honour drops the rule. A mirror whose target cannot be used is left
//! out and the rest of the rule serves, as the spec asks (reference §4.6); an authorization
//! server that cannot be used keeps the rule, which then fails closed (reference §4.8).

use crate::auth::{ExternalAuth, Protocol};
use crate::config::{
    Cors as CorsConfig, ExternalAuth as ExternalAuthConfig, HeaderModifier, HttpRouteFilter,
    Mirror as MirrorConfig, PathModifier as PathConfig, Redirect as RedirectConfig, UrlRewrite,
};
use crate::effect::HeaderEdits;
use crate::filters::{Cors, Filters, Mirror, OriginPattern, PathModifier, Redirect, Rewrite};
use crate::hostname::Hostname;
use crate::matcher::{is_field_value, is_header_name, METHODS};
use crate::problem::Problem;

use super::backends::BackendContext;

/// Where a filters list sits and what it may contain.
pub(crate) struct FilterSite<'a> {
    /// `HTTPRoute` or `GRPCRoute`.
    pub(crate) route_kind: &'static str,
    /// The rule's one PathPrefix value (trailing `/` stripped), when it has exactly one match
    /// and that match is a PathPrefix: the only case `ReplacePrefixMatch` is allowed.
    pub(crate) single_prefix: Option<&'a str>,
    /// A rule's own list (not a backendRef's): the only place `ExternalAuth` may appear.
    pub(crate) in_rule: bool,
    /// Field path of the list, e.g. `spec.rules[0].filters`.
    pub(crate) field: String,
    /// `Kind namespace/name` of the route.
    pub(crate) label: &'a str,
}

/// Compiles one filters list; `Err` is why the rule was dropped.
pub(crate) fn compile(
    list: &[HttpRouteFilter],
    site: &FilterSite<'_>,
    backends: &mut BackendContext<'_>,
    problems: &mut Vec<Problem>,
) -> Result<Filters, Problem> {
    let mut filters = Filters::default();
    for (i, filter) in list.iter().enumerate() {
        // A backendRef's ClusterSplit is not a filter of the request: `cluster_split` splits
        // the backend by it.
        if !site.in_rule && super::cluster_split::names_split(filter) {
            continue;
        }
        let field = format!("{}[{i}]", site.field);
        let drop = |sub: &str, message: String| {
            Problem::error(
                site.label,
                format!("{field}{sub}"),
                format!("{message}; the rule was dropped"),
            )
        };
        let kind = filter.kind.as_str();
        if site.route_kind == "GRPCRoute"
            && matches!(
                kind,
                "RequestRedirect" | "URLRewrite" | "CORS" | "ExternalAuth"
            )
        {
            return Err(drop(
                ".type",
                format!("{kind} is not allowed in a GRPCRoute (UnsupportedValue)"),
            ));
        }
        let once = |slot_taken: bool| {
            if slot_taken {
                Err(drop(
                    ".type",
                    format!("{kind} may appear only once in a filters list"),
                ))
            } else {
                Ok(())
            }
        };
        let missing = |body: &str| drop(&format!(".{body}"), format!("missing for type {kind}"));
        // A header modifier of either direction: once per list, its body present, names valid.
        let modifier = |taken: bool, body: Option<&HeaderModifier>, name: &str| {
            once(taken)?;
            let body = body.ok_or_else(|| missing(name))?;
            header_edits(body, &format!("{field}.{name}"), site.label).map(|e| Some(Box::new(e)))
        };
        match kind {
            "RequestHeaderModifier" => {
                let body = filter.request_header_modifier.as_ref();
                filters.request_headers = modifier(
                    filters.request_headers.is_some(),
                    body,
                    "requestHeaderModifier",
                )?;
            }
            "ResponseHeaderModifier" => {
                let body = filter.response_header_modifier.as_ref();
                filters.response_headers = modifier(
                    filters.response_headers.is_some(),
                    body,
                    "responseHeaderModifier",
                )?;
            }
            "RequestRedirect" => {
                once(filters.redirect.is_some())?;
                let redirect = filter
                    .request_redirect
                    .as_ref()
                    .ok_or_else(|| missing("requestRedirect"))?;
                filters.redirect = Some(Box::new(
                    compile_redirect(redirect, site)
                        .map_err(|(sub, e)| drop(&format!(".requestRedirect{sub}"), e))?,
                ));
            }
            "URLRewrite" => {
                once(filters.rewrite.is_some())?;
                let rewrite = filter
                    .url_rewrite
                    .as_ref()
                    .ok_or_else(|| missing("urlRewrite"))?;
                filters.rewrite = Some(Box::new(
                    compile_rewrite(rewrite, site)
                        .map_err(|(sub, e)| drop(&format!(".urlRewrite{sub}"), e))?,
                ));
            }
            "RequestMirror" => {
                let mirror = filter
                    .request_mirror
                    .as_ref()
                    .ok_or_else(|| missing("requestMirror"))?;
                let share = mirror_share(mirror)
                    .map_err(|(sub, e)| drop(&format!(".requestMirror{sub}"), e))?;
                match backends.resolve(&mirror.backend_ref) {
                    Ok(backend) => filters.mirrors.push(Mirror { backend, numerator: share.0, denominator: share.1 }),
                    Err(reason) => problems.push(Problem::error(
                        site.label,
                        format!("{field}.requestMirror.backendRef"),
                        format!("{reason}; this mirror is not configured, primary traffic is unaffected"),
                    )),
                }
            }
            "CORS" => {
                once(filters.cors.is_some())?;
                let cors = filter.cors.as_ref().ok_or_else(|| missing("cors"))?;
                filters.cors = Some(Box::new(
                    compile_cors(cors).map_err(|(sub, e)| drop(&format!(".cors{sub}"), e))?,
                ));
            }
            "ExternalAuth" => {
                if !site.in_rule {
                    return Err(drop(
                        ".type",
                        String::from("ExternalAuth is allowed only in a rule's filters, not in a backendRef's"),
                    ));
                }
                once(filters.auth.is_some())?;
                let auth = filter
                    .external_auth
                    .as_ref()
                    .ok_or_else(|| missing("externalAuth"))?;
                let protocol = auth_protocol(auth)
                    .map_err(|(sub, e)| drop(&format!(".externalAuth{sub}"), e))?;
                let max_body = auth
                    .forward_body
                    .as_ref()
                    .and_then(|b| b.max_size)
                    .unwrap_or(0);
                let max_body = u16::try_from(max_body).map_err(|_| {
                    drop(
                        ".externalAuth.forwardBody.maxSize",
                        format!("{max_body} is more than the CRD's limit of 65535 bytes"),
                    )
                })?;
                let backend = match backends.resolve(&auth.backend_ref) {
                    Ok(id) => Some(id),
                    Err(reason) => {
                        problems.push(Problem::error(
                            site.label,
                            format!("{field}.externalAuth.backendRef"),
                            format!("{reason}; requests this rule matches get 403, as the check fails closed"),
                        ));
                        None
                    }
                };
                filters.auth = Some(Box::new(ExternalAuth {
                    protocol,
                    backend,
                    max_body,
                }));
            }
            "ExtensionRef" => {
                let target = filter.extension_ref.as_ref().map_or_else(String::new, |r| {
                    format!(" {}/{} {}", r.group, r.kind, r.name)
                });
                problems.push(Problem::error(
                    site.label,
                    format!("{field}.extensionRef"),
                    format!("extension{target} cannot be resolved by gatewasm; requests that reach this rule get 500"),
                ));
                filters.unresolved_extension = true;
            }
            other => {
                return Err(drop(
                    ".type",
                    format!("filter type {other:?} is not supported (UnsupportedValue)"),
                ))
            }
        }
    }
    if filters.redirect.is_some() && filters.rewrite.is_some() {
        return Err(Problem::error(
            site.label,
            &site.field,
            "RequestRedirect and URLRewrite cannot be used together; the rule was dropped",
        ));
    }
    Ok(filters)
}

/// A header modifier with lowercase names; one action per name (reference §4.2).
fn header_edits(
    modifier: &HeaderModifier,
    field: &str,
    label: &str,
) -> Result<HeaderEdits, Problem> {
    let mut seen: Vec<String> = Vec::new();
    let mut name = |action: &str, i: usize, name: &str| {
        let lower = name.to_ascii_lowercase();
        if !is_header_name(name) {
            return Err(Problem::error(
                label,
                format!("{field}.{action}[{i}].name"),
                format!("{name:?} is not a valid header name; the rule was dropped"),
            ));
        }
        if seen.contains(&lower) {
            return Err(Problem::error(
                label,
                format!("{field}.{action}[{i}]"),
                format!("header {name:?} is modified twice in one filter; the rule was dropped"),
            )
            .with_hint(
                "give each header one action; write several values as one comma-separated value",
            ));
        }
        seen.push(lower.clone());
        Ok(lower)
    };
    let value = |action: &str, i: usize, value: &str| {
        if is_field_value(value) {
            return Ok(value.to_owned());
        }
        Err(Problem::error(
            label,
            format!("{field}.{action}[{i}].value"),
            format!("{value:?} contains a line break or another control character, which no header can carry; the rule was dropped"),
        )
        .with_hint("write the value on one line; several values go into one comma-separated value"))
    };
    let mut edits = HeaderEdits::default();
    for (i, h) in modifier.set.iter().enumerate() {
        edits
            .set
            .push((name("set", i, &h.name)?, value("set", i, &h.value)?));
    }
    for (i, h) in modifier.add.iter().enumerate() {
        edits
            .add
            .push((name("add", i, &h.name)?, value("add", i, &h.value)?));
    }
    for (i, h) in modifier.remove.iter().enumerate() {
        edits.remove.push(name("remove", i, h)?);
    }
    Ok(edits)
}

type Invalid = (&'static str, String);

fn compile_redirect(r: &RedirectConfig, site: &FilterSite<'_>) -> Result<Redirect, Invalid> {
    let scheme = match r.scheme.as_deref() {
        None => None,
        Some(s @ ("http" | "https")) => Some(s.to_owned()),
        Some(other) => return Err((".scheme", crate::matcher::unsupported(other, "http, https"))),
    };
    let status = match r.status_code {
        None => 302,
        Some(code @ (301 | 302 | 303 | 307 | 308)) => u16::try_from(code).unwrap_or(302),
        Some(other) => {
            return Err((
                ".statusCode",
                crate::matcher::unsupported(&other.to_string(), "301, 302, 303, 307, 308"),
            ))
        }
    };
    Ok(Redirect {
        scheme,
        hostname: precise_hostname(r.hostname.as_deref()).map_err(|e| (".hostname", e))?,
        port: port(r.port).map_err(|e| (".port", e))?,
        path: r
            .path
            .as_ref()
            .map(|p| path_modifier(p, site))
            .transpose()
            .map_err(|e| (".path", e))?,
        status,
    })
}

fn compile_rewrite(r: &UrlRewrite, site: &FilterSite<'_>) -> Result<Rewrite, Invalid> {
    Ok(Rewrite {
        hostname: precise_hostname(r.hostname.as_deref()).map_err(|e| (".hostname", e))?,
        path: r
            .path
            .as_ref()
            .map(|p| path_modifier(p, site))
            .transpose()
            .map_err(|e| (".path", e))?,
    })
}

fn path_modifier(p: &PathConfig, site: &FilterSite<'_>) -> Result<PathModifier, String> {
    match (p.kind.as_str(), &p.replace_full_path, &p.replace_prefix_match) {
        ("ReplaceFullPath", Some(path), None) => Ok(PathModifier::Full(path.clone())),
        ("ReplacePrefixMatch", None, Some(replacement)) => match site.single_prefix {
            Some(matched) => Ok(PathModifier::Prefix { matched: matched.to_owned(), replacement: replacement.clone() }),
            None => Err(String::from("ReplacePrefixMatch needs the rule to have exactly one match, and that match must be a PathPrefix")),
        },
        ("ReplaceFullPath" | "ReplacePrefixMatch", _, _) => {
            Err(format!("type {} needs exactly its own field set (replaceFullPath or replacePrefixMatch)", p.kind))
        }
        (other, _, _) => Err(crate::matcher::unsupported(other, "ReplaceFullPath, ReplacePrefixMatch")),
    }
}

fn precise_hostname(value: Option<&str>) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(v) => match Hostname::parse(v) {
            Some(Hostname::Exact(name)) => Ok(Some(name)),
            _ => Err(format!("{v:?} is not a precise hostname (no wildcards)")),
        },
    }
}

fn port(value: Option<u32>) -> Result<Option<u16>, String> {
    match value.map(u16::try_from) {
        None => Ok(None),
        Some(Ok(p)) if p > 0 => Ok(Some(p)),
        Some(_) => Err(String::from("must be a port between 1 and 65535")),
    }
}

/// (numerator, denominator) of the share mirrored; 100% when neither field is set.
fn mirror_share(m: &MirrorConfig) -> Result<(u32, u32), Invalid> {
    match (m.percent, &m.fraction) {
        (Some(_), Some(_)) => Err(("", String::from("percent and fraction cannot both be set"))),
        (Some(p), None) if p <= 100 => Ok((p, 100)),
        (Some(_), None) => Err((".percent", String::from("must be between 0 and 100"))),
        (None, Some(f)) => {
            let numerator = f.numerator.unwrap_or(0);
            let denominator = f.denominator.unwrap_or(100);
            if denominator == 0 || numerator > denominator {
                return Err((
                    ".fraction",
                    String::from("needs 0 <= numerator <= denominator and denominator >= 1"),
                ));
            }
            Ok((numerator, denominator))
        }
        (None, None) => Ok((1, 1)),
    }
}

/// The CRD's `CORSOrigin` pattern, `*` aside: `http` or `https`, `://`, then `*` or an optional
/// `*.` before dot-separated labels of letters, digits and `-`, then an optional port of up to
/// five digits. Nothing else: no path, no `*` inside a label (`https://*example.com` would
/// otherwise allow `https://evilexample.com`).
fn is_crd_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "1"));
    let port_ok = (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit());
    let labels = host.strip_prefix("*.").unwrap_or(host);
    let host_ok = host == "*"
        || labels.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    port_ok && host_ok
}

/// The protocol settings of an `ExternalAuth` filter, with the CRD's rules: `protocol` is
/// `HTTP` or `GRPC`, the block of that name is required and the other one forbidden, `http.path`
/// is an absolute path in the CRD's character set, header names are valid and listed once.
fn auth_protocol(a: &ExternalAuthConfig) -> Result<Protocol, Invalid> {
    match (a.protocol.as_deref(), &a.http, &a.grpc) {
        (Some("HTTP"), Some(http), None) => {
            let path_prefix = http.path.clone().unwrap_or_default();
            if !path_prefix.is_empty() && !is_auth_path(&path_prefix) {
                return Err((
                    ".http.path",
                    format!("{path_prefix:?} must start with \"/\" and use only the characters of a path (at most 1024)"),
                ));
            }
            Ok(Protocol::Http {
                path_prefix,
                allowed_headers: header_names(&http.allowed_headers, ".http.allowedHeaders")?,
                allowed_response_headers: header_names(
                    &http.allowed_response_headers,
                    ".http.allowedResponseHeaders",
                )?,
            })
        }
        (Some("GRPC"), None, Some(grpc)) => Ok(Protocol::Grpc {
            allowed_headers: header_names(&grpc.allowed_headers, ".grpc.allowedHeaders")?,
        }),
        (Some(p @ ("HTTP" | "GRPC")), http, grpc) => {
            let (own, other) = if p == "HTTP" {
                ("http", grpc.is_some().then_some("grpc"))
            } else {
                ("grpc", http.is_some().then_some("http"))
            };
            let message = match other {
                Some(other) => format!("protocol {p} forbids the {other} block"),
                None => format!("protocol {p} needs the {own} block ({own}: {{}} at least)"),
            };
            Err((".protocol", message))
        }
        (Some(other), _, _) => Err((
            ".protocol",
            crate::matcher::unsupported(other, "HTTP, GRPC"),
        )),
        (None, _, _) => Err((".protocol", String::from("missing; set HTTP or GRPC"))),
    }
}

/// The CRD's pattern for `http.path` (`[-A-Za-z0-9/._~!$&'()*+,;=:@]` or `%XX`, at most 1024),
/// plus a leading `/` so that the prefixed path stays a path.
fn is_auth_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let ok = match b {
            b'%' => bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
            _ => b.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&b),
        };
        if !ok {
            return false;
        }
        i += if b == b'%' { 3 } else { 1 };
    }
    path.starts_with('/') && path.len() <= 1024
}

/// A list of header names, lowercased; each valid and listed once.
fn header_names(names: &[String], field: &'static str) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let lower = name.to_ascii_lowercase();
        if !is_header_name(name) {
            return Err((field, format!("{name:?} is not a valid header name")));
        }
        if out.contains(&lower) {
            return Err((field, format!("{name:?} is listed twice")));
        }
        out.push(lower);
    }
    Ok(out)
}

fn compile_cors(c: &CorsConfig) -> Result<Cors, Invalid> {
    let any_origin = c.allow_origins.iter().any(|o| o == "*");
    if any_origin && c.allow_origins.len() > 1 {
        return Err((
            ".allowOrigins",
            String::from(
                "\"*\" cannot be mixed with other origins: write either [\"*\"] or the origins alone",
            ),
        ));
    }
    let origins = c
        .allow_origins
        .iter()
        .filter(|o| *o != "*")
        .map(|o| {
            is_crd_origin(o)
                .then(|| OriginPattern::parse(o))
                .flatten()
                .ok_or_else(|| {
                    (
                        ".allowOrigins",
                        format!("{o:?} is not an origin: write scheme://host[:port] with scheme http or https and host a name, `*.` and a name, or `*`, and no path"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let wildcard_or_list = |list: &[String],
                            field: &'static str|
     -> Result<Option<Vec<String>>, Invalid> {
        if list.iter().any(|v| v == "*") {
            if list.len() > 1 {
                return Err((
                        field,
                        String::from(
                            "\"*\" cannot be mixed with other values: write either [\"*\"] or the values alone",
                        ),
                    ));
            }
            return Ok(None);
        }
        Ok(Some(list.to_vec()))
    };
    let methods = wildcard_or_list(&c.allow_methods, ".allowMethods")?;
    if let Some(bad) = methods
        .iter()
        .flatten()
        .find(|m| !METHODS.contains(&m.as_str()))
    {
        return Err((
            ".allowMethods",
            crate::matcher::unsupported(bad, &METHODS.join(", ")),
        ));
    }
    Ok(Cors {
        origins,
        any_origin,
        credentials: c.allow_credentials.unwrap_or(false),
        methods,
        headers: wildcard_or_list(&c.allow_headers, ".allowHeaders")?,
        expose: c.expose_headers.clone(),
        max_age: c.max_age.unwrap_or(5),
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::is_crd_origin;
    use crate::compile_bytes;

    #[test]
    fn origins_follow_the_crd_pattern() {
        for ok in [
            "https://www.foo.com",
            "https://*.bar.com",
            "http://localhost:3000",
            "https://*",
            "http://10.0.0.1:80",
            "https://Mixed-Case.example.com:8443",
        ] {
            assert!(is_crd_origin(ok), "{ok}");
        }
        for bad in [
            "https://*example.com",
            "https://foo.*.com",
            "https://app.example.com/",
            "ftp://app.example.com",
            "app.example.com",
            "https://app..example.com",
            "https://app.example.com:",
            "https://app.example.com:123456",
            "https://exa_mple.com",
            "https://*.",
        ] {
            assert!(!is_crd_origin(bad), "{bad}");
        }
    }

    /// The problems compiling one HTTPRoute rule with `filters` gives.
    fn problems(filters: &str) -> Vec<String> {
        let config = format!(
            r#"{{"gateway": "infra/gw", "resources": [
                {{"kind": "Gateway", "metadata": {{"name": "gw", "namespace": "infra"}},
                  "spec": {{"listeners": [{{"name": "http", "port": 80, "protocol": "HTTP"}}]}}}},
                {{"kind": "HTTPRoute", "metadata": {{"name": "r", "namespace": "infra"}},
                  "spec": {{"parentRefs": [{{"name": "gw"}}], "rules": [{{"filters": [{filters}]}}]}}}}]}}"#
        );
        compile_bytes(config.as_bytes())
            .unwrap()
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_header_value_no_header_can_carry_drops_the_rule() {
        let got = problems(
            r#"{"type": "ResponseHeaderModifier", "responseHeaderModifier": {"add": [{"name": "x-a", "value": "1\r\nx-injected: yes"}]}}"#,
        );
        assert!(got.contains(&String::from(
            "HTTPRoute infra/r: spec.rules[0].filters[0].responseHeaderModifier.add[0].value: \"1\\r\\nx-injected: yes\" contains a line break or another control character, which no header can carry; the rule was dropped; write the value on one line; several values go into one comma-separated value"
        )), "{got:#?}");
    }

    #[test]
    fn a_wildcard_beside_other_values_drops_the_rule() {
        let got = problems(
            r#"{"type": "CORS", "cors": {"allowOrigins": ["https://a.example.com", "*"]}}"#,
        );
        assert!(got.contains(&String::from(
            "HTTPRoute infra/r: spec.rules[0].filters[0].cors.allowOrigins: \"*\" cannot be mixed with other origins: write either [\"*\"] or the origins alone; the rule was dropped"
        )), "{got:#?}");
        for list in ["allowMethods", "allowHeaders"] {
            let got = problems(&format!(
                r#"{{"type": "CORS", "cors": {{"allowOrigins": ["*"], "{list}": ["*", "GET"]}}}}"#
            ));
            assert!(got.contains(&format!(
                "HTTPRoute infra/r: spec.rules[0].filters[0].cors.{list}: \"*\" cannot be mixed with other values: write either [\"*\"] or the values alone; the rule was dropped"
            )), "{got:#?}");
        }
    }

    #[test]
    fn an_origin_outside_the_crd_pattern_drops_the_rule() {
        let got =
            problems(r#"{"type": "CORS", "cors": {"allowOrigins": ["https://*example.com"]}}"#);
        assert!(got.contains(&String::from(
            "HTTPRoute infra/r: spec.rules[0].filters[0].cors.allowOrigins: \"https://*example.com\" is not an origin: write scheme://host[:port] with scheme http or https and host a name, `*.` and a name, or `*`, and no path; the rule was dropped"
        )), "{got:#?}");
    }
}
