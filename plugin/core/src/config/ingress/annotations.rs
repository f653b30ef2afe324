//! ingress-nginx's annotations, read into one typed struct with nginx's defaults applied.
//!
//! Each annotation is read the way ingress-nginx reads it (`internal/ingress/annotations/`): Go's
//! `strconv.ParseBool` and `Atoi` spellings, values checked like its validators, and a bad value
//! replaced by nginx's default, with a warning naming the object, the annotation and the value.
//! Annotations the filter does not execute (every `*-snippet` and those outside the served set)
//! are listed in [`IngressAnnotations::not_served`]; what to write instead is `check`'s business.
//! How a location uses these values is decided in [`crate::compile`].

use std::collections::BTreeMap;

use super::cidr::Cidr;
use crate::problem::Problem;

/// The prefix of ingress-nginx's annotations (its `--annotations-prefix` default).
pub const ANNOTATION_PREFIX: &str = "nginx.ingress.kubernetes.io";

/// The annotation that named an Ingress's class before `spec.ingressClassName`.
pub const LEGACY_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Every annotation the filter executes, without the prefix.
const SERVED: &[&str] = &[
    "canary",
    "canary-by-header",
    "canary-by-header-value",
    "canary-by-header-pattern",
    "canary-by-cookie",
    "canary-weight",
    "canary-weight-total",
    "use-regex",
    "rewrite-target",
    "x-forwarded-prefix",
    "ssl-redirect",
    "force-ssl-redirect",
    "permanent-redirect",
    "permanent-redirect-code",
    "temporal-redirect",
    "temporal-redirect-code",
    "from-to-www-redirect",
    "app-root",
    "enable-cors",
    "cors-allow-origin",
    "cors-allow-methods",
    "cors-allow-headers",
    "cors-allow-credentials",
    "cors-expose-headers",
    "cors-max-age",
    "proxy-connect-timeout",
    "proxy-read-timeout",
    "proxy-send-timeout",
    "proxy-next-upstream",
    "proxy-next-upstream-tries",
    "upstream-vhost",
    "affinity",
    "affinity-mode",
    "session-cookie-name",
    "session-cookie-path",
    "session-cookie-max-age",
    "session-cookie-expires",
    "session-cookie-samesite",
    "session-cookie-secure",
    "whitelist-source-range",
    "denylist-source-range",
    "mirror-target",
    "mirror-host",
    "backend-protocol",
    "proxy-body-size",
];

/// nginx's default `cors-allow-methods`.
pub const DEFAULT_CORS_METHODS: &str = "GET, PUT, POST, DELETE, PATCH, OPTIONS";
/// nginx's default `cors-allow-headers`.
pub const DEFAULT_CORS_HEADERS: &str = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization";
/// nginx's default `cors-max-age`, in seconds.
pub const DEFAULT_CORS_MAX_AGE: u32 = 1_728_000;
/// nginx's default affinity cookie name.
pub const DEFAULT_AFFINITY_COOKIE: &str = "INGRESSCOOKIE";

/// What ingress-nginx's annotations on one Ingress say, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressAnnotations {
    /// The canary settings, when `canary: "true"`.
    pub canary: Option<Canary>,
    /// `use-regex`: the paths are PCRE regexes (and the whole host turns to regex mode).
    pub use_regex: bool,
    /// `rewrite-target`: the upstream path, with `$1`..`$9` from the path's groups.
    pub rewrite_target: Option<String>,
    /// `x-forwarded-prefix`: sent as `X-Forwarded-Prefix` when a rewrite happened.
    pub x_forwarded_prefix: Option<String>,
    /// `ssl-redirect` (default true): plain HTTP to a TLS host is redirected to HTTPS.
    pub ssl_redirect: bool,
    /// `force-ssl-redirect`: plain HTTP is redirected even without TLS.
    pub force_ssl_redirect: bool,
    /// `temporal-redirect` or `permanent-redirect` (the temporal one wins).
    pub redirect: Option<Redirect>,
    /// `from-to-www-redirect`: `www.host` and `host` redirect to each other.
    pub from_to_www_redirect: bool,
    /// `app-root`: where a request for exactly `/` is redirected.
    pub app_root: Option<String>,
    /// CORS, when `enable-cors: "true"`.
    pub cors: Option<IngressCors>,
    /// The three proxy timeouts and the retry settings.
    pub proxy: ProxyTimeouts,
    /// `upstream-vhost`: the `Host` the upstream receives.
    pub upstream_vhost: Option<String>,
    /// Cookie affinity, when `affinity: cookie`.
    pub affinity: Option<Affinity>,
    /// `whitelist-source-range`: only these client networks are served (others get 403).
    pub allow_source_ranges: Vec<Cidr>,
    /// `denylist-source-range`: these client networks get 403.
    pub deny_source_ranges: Vec<Cidr>,
    /// `mirror-target`: a URL every request is copied to.
    pub mirror_target: Option<String>,
    /// `mirror-host`: the `Host` of the copies.
    pub mirror_host: Option<String>,
    /// `backend-protocol`.
    pub backend_protocol: BackendProtocol,
    /// `proxy-body-size` in bytes (`0`: no limit); `None` keeps nginx's default of 1 MiB.
    pub proxy_body_size: Option<u64>,
    /// Annotations of ingress-nginx's prefix that the filter does not execute, by name order.
    pub not_served: Vec<NotServed>,
}

/// The canary family: how requests are split between a canary Ingress and its primary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Canary {
    /// `canary-by-header`: the header deciding (name matched case-insensitively).
    pub by_header: Option<String>,
    /// `canary-by-header-value`: the value sending a request to the canary.
    pub by_header_value: Option<String>,
    /// `canary-by-header-pattern`: a PCRE, unanchored, tested when no value is set.
    pub by_header_pattern: Option<String>,
    /// `canary-by-cookie`: the cookie deciding (`always` / `never`).
    pub by_cookie: Option<String>,
    /// `canary-weight`: requests out of `weight_total` sent to the canary.
    pub weight: u32,
    /// `canary-weight-total`, as written; nginx uses it only when it is over 100.
    pub weight_total: u32,
}

impl Canary {
    /// The total nginx really draws from: `canary-weight-total` only when it is over 100.
    pub fn effective_total(&self) -> u32 {
        if self.weight_total > 100 {
            self.weight_total
        } else {
            100
        }
    }
}

/// A `temporal-redirect` or `permanent-redirect`: `return CODE URL;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The URL, as written: no path or query is appended.
    pub url: String,
    /// 300–307 for temporal (default 302), 300–308 for permanent (default 301).
    pub code: u16,
}

/// `enable-cors` and the `cors-*` family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressCors {
    /// Allowed origins; `["*"]` allows any.
    pub allow_origins: Vec<String>,
    /// `Access-Control-Allow-Methods`, as written.
    pub allow_methods: String,
    /// `Access-Control-Allow-Headers`, as written.
    pub allow_headers: String,
    /// `Access-Control-Allow-Credentials: true` is sent.
    pub allow_credentials: bool,
    /// `Access-Control-Expose-Headers`, when set.
    pub expose_headers: Option<String>,
    /// `Access-Control-Max-Age` in seconds.
    pub max_age: u32,
}

/// `proxy-connect-timeout`, `proxy-read-timeout`, `proxy-send-timeout` (seconds, only when
/// written) and `proxy-next-upstream(-tries)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyTimeouts {
    /// Seconds to connect.
    pub connect: Option<u32>,
    /// Seconds between two reads from the upstream.
    pub read: Option<u32>,
    /// Seconds between two writes to the upstream.
    pub send: Option<u32>,
    /// `proxy-next-upstream`, when written: the conditions (`error`, `timeout`, `http_502`,
    /// `non_idempotent`, `off`, ...).
    pub next_upstream: Option<Vec<String>>,
    /// `proxy-next-upstream-tries`, when written (0: unlimited).
    pub next_upstream_tries: Option<u32>,
}

/// `affinity: cookie` with the `session-cookie-*` family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Affinity {
    /// `session-cookie-name`, default `INGRESSCOOKIE`.
    pub cookie_name: String,
    /// `session-cookie-path`; the location's path when absent.
    pub path: Option<String>,
    /// `session-cookie-max-age` in seconds.
    pub max_age: Option<u64>,
    /// `session-cookie-expires` in seconds.
    pub expires: Option<u64>,
    /// `session-cookie-samesite`: `None`, `Lax` or `Strict`.
    pub same_site: Option<String>,
    /// `session-cookie-secure`.
    pub secure: bool,
}

/// `backend-protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendProtocol {
    /// Plain HTTP (default).
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
    /// gRPC.
    Grpc,
    /// gRPC over TLS.
    Grpcs,
    /// HTTP/2 without TLS.
    H2c,
    /// FastCGI.
    Fcgi,
    /// HTTP, version chosen by the upstream.
    AutoHttp,
}

impl BackendProtocol {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_uppercase().as_str() {
            "HTTP" => Self::Http,
            "HTTPS" => Self::Https,
            "GRPC" => Self::Grpc,
            "GRPCS" => Self::Grpcs,
            "H2C" => Self::H2c,
            "FCGI" => Self::Fcgi,
            "AUTO_HTTP" => Self::AutoHttp,
            _ => return None,
        })
    }
}

/// An annotation the filter does not execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotServed {
    /// The annotation's full name.
    pub name: String,
    /// Raw nginx configuration (`*-snippet`), a security risk rather than a missing feature.
    pub snippet: bool,
}

impl Default for IngressAnnotations {
    fn default() -> Self {
        Self {
            canary: None,
            use_regex: false,
            rewrite_target: None,
            x_forwarded_prefix: None,
            ssl_redirect: true,
            force_ssl_redirect: false,
            redirect: None,
            from_to_www_redirect: false,
            app_root: None,
            cors: None,
            proxy: ProxyTimeouts::default(),
            upstream_vhost: None,
            affinity: None,
            allow_source_ranges: Vec::new(),
            deny_source_ranges: Vec::new(),
            mirror_target: None,
            mirror_host: None,
            backend_protocol: BackendProtocol::Http,
            proxy_body_size: None,
            not_served: Vec::new(),
        }
    }
}

impl IngressAnnotations {
    /// Reads the annotations of the Ingress `label` names (`Ingress shop/web`) as ingress-nginx
    /// does, reporting each bad value (which then takes nginx's default) as a warning.
    pub fn parse(
        annotations: &BTreeMap<String, String>,
        label: &str,
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut read = Reader {
            annotations,
            label,
            problems,
        };
        let canary = read.bool("canary").unwrap_or(false).then(|| Canary {
            by_header: read.string("canary-by-header"),
            by_header_value: read.string("canary-by-header-value"),
            by_header_pattern: read.string("canary-by-header-pattern"),
            by_cookie: read.string("canary-by-cookie"),
            weight: read.int("canary-weight").unwrap_or(0),
            weight_total: read.int("canary-weight-total").unwrap_or(100),
        });
        let cors = read
            .bool("enable-cors")
            .unwrap_or(false)
            .then(|| read.cors());
        let affinity = read.affinity();
        let allow_source_ranges = read.cidrs("whitelist-source-range");
        let deny_source_ranges = read.cidrs("denylist-source-range");
        Self {
            canary,
            use_regex: read.bool("use-regex").unwrap_or(false),
            rewrite_target: read.string("rewrite-target"),
            x_forwarded_prefix: read.string("x-forwarded-prefix"),
            ssl_redirect: read.bool("ssl-redirect").unwrap_or(true),
            force_ssl_redirect: read.bool("force-ssl-redirect").unwrap_or(false),
            redirect: read.redirect(),
            from_to_www_redirect: read.bool("from-to-www-redirect").unwrap_or(false),
            app_root: read.app_root(),
            cors,
            proxy: read.proxy(),
            upstream_vhost: read.string("upstream-vhost"),
            affinity,
            allow_source_ranges,
            deny_source_ranges,
            mirror_target: read.string("mirror-target"),
            mirror_host: read.string("mirror-host"),
            backend_protocol: read
                .parsed(
                    "backend-protocol",
                    "one of HTTP, HTTPS, GRPC, GRPCS, H2C, FCGI, AUTO_HTTP",
                    BackendProtocol::parse,
                )
                .unwrap_or_default(),
            proxy_body_size: read.parsed(
                "proxy-body-size",
                "a size such as 8m (digits, then b, k, m or g)",
                parse_size,
            ),
            not_served: not_served(annotations),
        }
    }
}

/// The annotations of ingress-nginx's prefix outside [`SERVED`].
fn not_served(annotations: &BTreeMap<String, String>) -> Vec<NotServed> {
    annotations
        .keys()
        .filter_map(|key| {
            let name = key.strip_prefix(ANNOTATION_PREFIX)?.strip_prefix('/')?;
            (!SERVED.contains(&name)).then(|| NotServed {
                name: key.clone(),
                snippet: name.ends_with("-snippet"),
            })
        })
        .collect()
}

/// Reads one Ingress's annotations by short name, reporting bad values.
struct Reader<'a> {
    annotations: &'a BTreeMap<String, String>,
    label: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl Reader<'_> {
    /// The value of `name` (without the prefix), when written.
    fn raw(&self, name: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(key, _)| {
                key.strip_prefix(ANNOTATION_PREFIX)
                    .and_then(|rest| rest.strip_prefix('/'))
                    == Some(name)
            })
            .map(|(_, value)| value.as_str())
    }

    /// Reports that `value` of `name` is not `expected`; nginx then uses its default.
    fn bad(&mut self, name: &str, value: &str, expected: &str) {
        self.problems.push(
            Problem::warning(
                self.label,
                format!("metadata.annotations[{ANNOTATION_PREFIX}/{name}]"),
                format!(
                    "{value:?} is not {expected}; ingress-nginx ignores it and so does the filter"
                ),
            )
            .with_hint(format!("write {expected}, or remove the annotation")),
        );
    }

    /// A value read with `parse`, reported when `parse` refuses it.
    fn parsed<T>(&mut self, name: &str, expected: &str, parse: fn(&str) -> Option<T>) -> Option<T> {
        let value = self.raw(name)?;
        let parsed = parse(value);
        if parsed.is_none() {
            let value = value.to_owned();
            self.bad(name, &value, expected);
        }
        parsed
    }

    /// A string: lines trimmed, empty counts as absent (nginx's `parseString`).
    fn string(&mut self, name: &str) -> Option<String> {
        let value = self.raw(name)?;
        let normalised = value.lines().map(str::trim).collect::<Vec<_>>().join("\n");
        (!normalised.is_empty()).then_some(normalised)
    }

    /// A boolean in Go's spellings (`strconv.ParseBool`).
    fn bool(&mut self, name: &str) -> Option<bool> {
        self.parsed(
            name,
            "a boolean (\"true\" or \"false\")",
            |text| match text {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
                "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
                _ => None,
            },
        )
    }

    /// A non-negative integer (Go's `Atoi`; a negative one is refused too).
    fn int(&mut self, name: &str) -> Option<u32> {
        self.parsed(name, "a non-negative integer", |text| {
            let digits = text.strip_prefix('+').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        })
    }

    /// A comma-separated list of networks; a bad entry drops the whole list, as nginx does.
    fn cidrs(&mut self, name: &str) -> Vec<Cidr> {
        self.parsed(
            name,
            "a comma-separated list of IP addresses or CIDR networks",
            |text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|entry| !entry.is_empty())
                    .map(Cidr::parse)
                    .collect()
            },
        )
        .unwrap_or_default()
    }

    /// `temporal-redirect` (with its code) wins over `permanent-redirect`.
    fn redirect(&mut self) -> Option<Redirect> {
        let is_url = |text: &str| {
            (text.starts_with("http://") || text.starts_with("https://") || text.starts_with('/'))
                .then(|| text.to_owned())
        };
        let url_form = "an absolute URL (https://host/path) or a path";
        if let Some(url) = self.parsed("temporal-redirect", url_form, is_url) {
            let code = self.int("temporal-redirect-code").unwrap_or(0);
            let code = u16::try_from(code).ok().filter(|c| (300..=307).contains(c));
            return Some(Redirect {
                url,
                code: code.unwrap_or(302),
            });
        }
        let url = self.parsed("permanent-redirect", url_form, is_url)?;
        let code = self.int("permanent-redirect-code").unwrap_or(0);
        let code = u16::try_from(code).ok().filter(|c| (300..=308).contains(c));
        Some(Redirect {
            url,
            code: code.unwrap_or(301),
        })
    }

    /// `app-root` must be a path (nginx refuses a URL).
    fn app_root(&mut self) -> Option<String> {
        self.parsed("app-root", "a path starting with \"/\"", |text| {
            (text.starts_with('/') && !text.contains("://")).then(|| text.to_owned())
        })
    }

    fn cors(&mut self) -> IngressCors {
        let allow_origins = match self.string("cors-allow-origin") {
            None => vec!["*".to_owned()],
            Some(list) => {
                let origins: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|origin| !origin.is_empty())
                    .map(str::to_owned)
                    .collect();
                if origins.iter().any(|origin| origin == "*") {
                    vec!["*".to_owned()]
                } else {
                    origins
                }
            }
        };
        IngressCors {
            allow_origins,
            allow_methods: self
                .string("cors-allow-methods")
                .unwrap_or_else(|| DEFAULT_CORS_METHODS.to_owned()),
            allow_headers: self
                .string("cors-allow-headers")
                .unwrap_or_else(|| DEFAULT_CORS_HEADERS.to_owned()),
            allow_credentials: self.bool("cors-allow-credentials").unwrap_or(true),
            expose_headers: self.string("cors-expose-headers"),
            max_age: self.int("cors-max-age").unwrap_or(DEFAULT_CORS_MAX_AGE),
        }
    }

    fn proxy(&mut self) -> ProxyTimeouts {
        ProxyTimeouts {
            connect: self.int("proxy-connect-timeout"),
            read: self.int("proxy-read-timeout"),
            send: self.int("proxy-send-timeout"),
            next_upstream: self.parsed(
                "proxy-next-upstream",
                "a space-separated list of error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, off",
                |text| {
                    let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
                    let known = [
                        "error", "timeout", "invalid_header", "http_500", "http_502", "http_503",
                        "http_504", "http_403", "http_404", "http_429", "non_idempotent", "off",
                    ];
                    (!words.is_empty() && words.iter().all(|w| known.contains(&w.as_str())))
                        .then_some(words)
                },
            ),
            next_upstream_tries: self.int("proxy-next-upstream-tries"),
        }
    }

    fn affinity(&mut self) -> Option<Affinity> {
        let kind = self.parsed("affinity", "\"cookie\"", |text| {
            text.trim().eq_ignore_ascii_case("cookie").then_some(())
        });
        kind?;
        Some(Affinity {
            cookie_name: self
                .string("session-cookie-name")
                .unwrap_or_else(|| DEFAULT_AFFINITY_COOKIE.to_owned()),
            path: self.string("session-cookie-path"),
            max_age: self.int("session-cookie-max-age").map(u64::from),
            expires: self.int("session-cookie-expires").map(u64::from),
            same_site: self.parsed("session-cookie-samesite", "None, Lax or Strict", |text| {
                ["None", "Lax", "Strict"]
                    .into_iter()
                    .find(|s| s.eq_ignore_ascii_case(text.trim()))
                    .map(str::to_owned)
            }),
            secure: self.bool("session-cookie-secure").unwrap_or(false),
        })
    }
}

/// nginx's size syntax (`^\d+[bkmg]?$`, any case) in bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (at, c) if c.is_ascii_alphabetic() => (text.get(..at)?, c.to_ascii_lowercase()),
        _ => (text, 'b'),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let shift = match unit {
        'b' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use std::collections::BTreeMap;

    use super::{parse_size, BackendProtocol, IngressAnnotations, Redirect};

    fn annotations(pairs: &[(&str, &str)]) -> (IngressAnnotations, Vec<String>) {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (format!("nginx.ingress.kubernetes.io/{k}"), (*v).to_owned()))
            .collect();
        let mut problems = Vec::new();
        let parsed = IngressAnnotations::parse(&map, "Ingress shop/web", &mut problems);
        (parsed, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn nothing_written_means_nginx_defaults() {
        let (parsed, problems) = annotations(&[]);
        assert_eq!(parsed, IngressAnnotations::default());
        assert!(parsed.ssl_redirect);
        assert!(problems.is_empty());
    }

    #[test]
    fn the_canary_family_is_read_only_for_a_canary() {
        let (parsed, _) = annotations(&[("canary-weight", "20")]);
        assert_eq!(parsed.canary, None);
        let (parsed, problems) = annotations(&[
            ("canary", "True"),
            ("canary-weight", "20"),
            ("canary-weight-total", "50"),
            ("canary-by-header", "X-Canary"),
        ]);
        let canary = parsed.canary.unwrap();
        assert_eq!((canary.weight, canary.weight_total), (20, 50));
        assert_eq!(canary.effective_total(), 100);
        assert_eq!(canary.by_header.as_deref(), Some("X-Canary"));
        assert!(problems.is_empty());
    }

    #[test]
    fn a_bad_value_names_object_annotation_and_value_and_takes_the_default() {
        let (parsed, problems) = annotations(&[
            ("canary", "yes"),
            ("ssl-redirect", "no"),
            ("proxy-read-timeout", "60s"),
        ]);
        assert_eq!(parsed.canary, None);
        assert!(parsed.ssl_redirect);
        assert_eq!(parsed.proxy.read, None);
        assert_eq!(
            problems[0],
            "Ingress shop/web: metadata.annotations[nginx.ingress.kubernetes.io/canary]: \"yes\" is not a boolean (\"true\" or \"false\"); ingress-nginx ignores it and so does the filter; write a boolean (\"true\" or \"false\"), or remove the annotation"
        );
        assert_eq!(problems.len(), 3);
    }

    #[test]
    fn temporal_redirect_wins_and_codes_out_of_range_fall_back() {
        let (parsed, _) = annotations(&[
            ("permanent-redirect", "https://a.example/x"),
            ("temporal-redirect", "https://b.example/"),
            ("temporal-redirect-code", "308"),
        ]);
        assert_eq!(
            parsed.redirect,
            Some(Redirect {
                url: "https://b.example/".to_owned(),
                code: 302
            })
        );
        let (parsed, _) = annotations(&[
            ("permanent-redirect", "https://a.example/x"),
            ("permanent-redirect-code", "308"),
        ]);
        assert_eq!(parsed.redirect.unwrap().code, 308);
    }

    #[test]
    fn cors_defaults_and_origin_lists() {
        let (parsed, _) = annotations(&[("enable-cors", "true")]);
        let cors = parsed.cors.unwrap();
        assert_eq!(cors.allow_origins, ["*"]);
        assert!(cors.allow_credentials);
        assert_eq!(cors.max_age, 1_728_000);
        let (parsed, _) = annotations(&[
            ("enable-cors", "true"),
            ("cors-allow-origin", "https://a.example, https://b.example"),
        ]);
        assert_eq!(
            parsed.cors.unwrap().allow_origins,
            ["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn snippets_and_unknown_annotations_are_not_served() {
        let (parsed, _) = annotations(&[
            ("configuration-snippet", "more_set_headers x;"),
            ("limit-rps", "5"),
            ("canary", "false"),
        ]);
        let names: Vec<_> = parsed
            .not_served
            .iter()
            .map(|n| (n.name.as_str(), n.snippet))
            .collect();
        assert_eq!(
            names,
            [
                ("nginx.ingress.kubernetes.io/configuration-snippet", true),
                ("nginx.ingress.kubernetes.io/limit-rps", false)
            ]
        );
    }

    #[test]
    fn source_ranges_sizes_and_protocols() {
        let (parsed, problems) = annotations(&[
            ("whitelist-source-range", "10.0.0.0/8, 192.168.0.1"),
            ("denylist-source-range", "10.0.0.0/8, nonsense"),
            ("proxy-body-size", "8m"),
            ("backend-protocol", "grpc"),
        ]);
        assert_eq!(parsed.allow_source_ranges.len(), 2);
        assert!(parsed.deny_source_ranges.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(parsed.proxy_body_size, Some(8 << 20));
        assert_eq!(parsed.backend_protocol, BackendProtocol::Grpc);
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("10K"), Some(10 << 10));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_size("m"), None);
    }
}
