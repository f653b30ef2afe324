//! A `filters` list (of a rule or of a backendRef) compiled into [`Filters`], with the CRD's
//! rules enforced: which types a route kind allows, which may appear only once, redirect and
//! rewrite never together, `ReplacePrefixMatch` only on a rule whose one match is a PathPrefix
//! (reference §1, §4).
//!
//! A filter the rule cannot honour drops the rule. A mirror whose target cannot be used is left
//! out and the rest of the rule serves, as the spec asks (reference §4.6).

use crate::config::{
    Cors as CorsConfig, HeaderModifier, HttpRouteFilter, Mirror as MirrorConfig,
    PathModifier as PathConfig, Redirect as RedirectConfig, UrlRewrite,
};
use crate::decide::HeaderEdits;
use crate::filters::{Cors, Filters, Mirror, OriginPattern, PathModifier, Redirect, Rewrite};
use crate::hostname::Hostname;
use crate::matcher::{is_header_name, METHODS};
use crate::problem::Problem;

use super::backends::BackendContext;

/// Where a filters list sits and what it may contain.
pub(crate) struct FilterSite<'a> {
    /// `HTTPRoute` or `GRPCRoute`.
    pub(crate) route_kind: &'static str,
    /// The rule's one PathPrefix value (trailing `/` stripped), when it has exactly one match
    /// and that match is a PathPrefix: the only case `ReplacePrefixMatch` is allowed.
    pub(crate) single_prefix: Option<&'a str>,
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
    let mut edits = HeaderEdits::default();
    for (i, h) in modifier.set.iter().enumerate() {
        edits.set.push((name("set", i, &h.name)?, h.value.clone()));
    }
    for (i, h) in modifier.add.iter().enumerate() {
        edits.add.push((name("add", i, &h.name)?, h.value.clone()));
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

fn compile_cors(c: &CorsConfig) -> Result<Cors, Invalid> {
    let any_origin = c.allow_origins.iter().any(|o| o == "*");
    if any_origin && c.allow_origins.len() > 1 {
        return Err((
            ".allowOrigins",
            String::from("\"*\" cannot be mixed with other origins"),
        ));
    }
    let origins = c
        .allow_origins
        .iter()
        .filter(|o| *o != "*")
        .map(|o| {
            OriginPattern::parse(o).ok_or_else(|| {
                (
                    ".allowOrigins",
                    format!("{o:?} is not an origin (scheme://host[:port])"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let wildcard_or_list =
        |list: &[String], field: &'static str| -> Result<Option<Vec<String>>, Invalid> {
            if list.iter().any(|v| v == "*") {
                if list.len() > 1 {
                    return Err((
                        field,
                        String::from("\"*\" cannot be mixed with other values"),
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
