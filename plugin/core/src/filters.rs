//! HTTPRoute filters, compiled, and what they do to one request (reference §4).
//!
//! Compilation (validation, defaults) lives in `compile/filters.rs`; this module holds the
//! ready forms and the per-request arithmetic: redirect `Location`, path replacement, CORS
//! origin matching and the headers CORS answers with. Applying header edits to the host is the
//! filter crate's job.

use crate::auth::ExternalAuth;
use crate::effect::HeaderEdits;
use crate::request::RequestView;

/// Everything one `filters` list (of a rule or of a backendRef) asks for. Every rule and
/// backendRef has one and most are empty, so each filter is boxed: an empty list is a few
/// words, not the sum of every filter's size.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    pub(crate) request_headers: Option<Box<HeaderEdits>>,
    pub(crate) response_headers: Option<Box<HeaderEdits>>,
    pub(crate) redirect: Option<Box<Redirect>>,
    pub(crate) rewrite: Option<Box<Rewrite>>,
    pub(crate) mirrors: Vec<Mirror>,
    pub(crate) cors: Option<Box<Cors>>,
    /// `ExternalAuth`, only ever in a rule's list.
    pub(crate) auth: Option<Box<ExternalAuth>>,
    /// An `ExtensionRef` gatewasm cannot resolve: requests that reach it get an error.
    pub(crate) unresolved_extension: bool,
}

/// A path replacement (`HTTPPathModifier`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathModifier {
    /// `ReplaceFullPath`.
    Full(String),
    /// `ReplacePrefixMatch`: the rule's single PathPrefix (trailing `/` stripped, `/` kept) and
    /// its replacement.
    Prefix {
        matched: String,
        replacement: String,
    },
}

impl PathModifier {
    /// The new path for a request path (no query), per the table in reference §4.5.
    pub(crate) fn apply(&self, path: &str) -> String {
        match self {
            Self::Full(path) => path.clone(),
            Self::Prefix {
                matched,
                replacement,
            } => {
                let matched = if matched == "/" { "" } else { matched.as_str() };
                let rest = path.strip_prefix(matched).unwrap_or(path);
                let replacement = replacement.strip_suffix('/').unwrap_or(replacement);
                let joined = format!("{replacement}{rest}");
                if joined.is_empty() {
                    String::from("/")
                } else {
                    joined
                }
            }
        }
    }
}

/// A compiled `RequestRedirect`.
#[derive(Debug)]
pub(crate) struct Redirect {
    pub(crate) scheme: Option<String>,
    pub(crate) hostname: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) path: Option<PathModifier>,
    pub(crate) status: u16,
}

impl Redirect {
    /// The `Location` for a request (reference §4.4): scheme, host and path default to the
    /// request's; the port to the scheme's well-known port when the scheme is set, else to the
    /// listener port; default ports are left out. The query is kept.
    pub(crate) fn location(&self, request: &RequestView<'_>) -> String {
        let request_scheme = match request.scheme {
            b"https" => "https",
            _ => "http",
        };
        let scheme = self.scheme.as_deref().unwrap_or(request_scheme);
        let host = self.hostname.as_deref().unwrap_or(&request.host);
        let port = self.port.or(match self.scheme.as_deref() {
            Some("https") => Some(443),
            Some(_) => Some(80),
            None => request.port,
        });
        let port = match (scheme, port) {
            ("http", Some(80)) | ("https", Some(443)) | (_, None) => String::new(),
            (_, Some(port)) => format!(":{port}"),
        };
        let path = String::from_utf8_lossy(request.path);
        let path = self
            .path
            .as_ref()
            .map_or_else(|| path.clone().into_owned(), |m| m.apply(&path));
        let query = if request.query.is_empty() {
            String::new()
        } else {
            format!("?{}", String::from_utf8_lossy(request.query))
        };
        format!("{scheme}://{host}{port}{path}{query}")
    }
}

/// A compiled `URLRewrite`.
#[derive(Debug)]
pub(crate) struct Rewrite {
    pub(crate) hostname: Option<String>,
    pub(crate) path: Option<PathModifier>,
}

/// A compiled `RequestMirror`: where copies go and how many.
#[derive(Debug)]
pub(crate) struct Mirror {
    /// Index of the backend in the table.
    pub(crate) backend: u32,
    /// Share mirrored: `numerator / denominator`.
    pub(crate) numerator: u32,
    pub(crate) denominator: u32,
}

/// A compiled `CORS` filter (reference §4.7).
#[derive(Debug)]
pub(crate) struct Cors {
    pub(crate) origins: Vec<OriginPattern>,
    pub(crate) any_origin: bool,
    pub(crate) credentials: bool,
    /// `None` means `*`.
    pub(crate) methods: Option<Vec<String>>,
    /// `None` means `*`.
    pub(crate) headers: Option<Vec<String>>,
    pub(crate) expose: Vec<String>,
    pub(crate) max_age: u32,
}

/// One `allowOrigins` entry other than `*`.
#[derive(Debug)]
pub(crate) struct OriginPattern {
    pub(crate) scheme: String,
    /// Lowercase host; a leading `*.` matches one or more labels, a bare `*` any host.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl OriginPattern {
    /// Parses `scheme://host[:port]`; `None` when it is not one.
    pub(crate) fn parse(origin: &str) -> Option<Self> {
        let (scheme, rest) = origin.split_once("://")?;
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (rest, default_port),
        };
        if host.is_empty() || host.contains('/') {
            return None;
        }
        Some(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    pub(crate) fn matches(&self, origin: &Self) -> bool {
        self.scheme == origin.scheme
            && self.port == origin.port
            && match self.host.strip_prefix('*') {
                Some("") => true,
                Some(suffix) => origin.host.len() > suffix.len() && origin.host.ends_with(suffix),
                None => self.host == origin.host,
            }
    }
}

impl Cors {
    /// The request's `Origin` if this policy allows it.
    fn allowed_origin<'r>(&self, request: &RequestView<'r>) -> Option<String> {
        let origin = request.header("origin")?;
        let origin = String::from_utf8_lossy(&origin).into_owned();
        let parsed = OriginPattern::parse(&origin)?;
        (self.any_origin || self.origins.iter().any(|p| p.matches(&parsed))).then_some(origin)
    }

    /// `Access-Control-Allow-Origin`: `*` only for a wildcard policy without credentials.
    fn allow_origin_value(&self, origin: String) -> String {
        if self.any_origin && !self.credentials {
            String::from("*")
        } else {
            origin
        }
    }

    /// Whether the request is a preflight this policy must answer.
    pub(crate) fn is_preflight(request: &RequestView<'_>) -> bool {
        request.method == b"OPTIONS"
            && request.header("origin").is_some()
            && request.header("access-control-request-method").is_some()
    }

    /// The headers of the preflight answer; empty for an origin that is not allowed.
    pub(crate) fn preflight_headers(&self, request: &RequestView<'_>) -> Vec<(String, String)> {
        let Some(origin) = self.allowed_origin(request) else {
            return Vec::new();
        };
        let requested = |name: &str| {
            request
                .header(name)
                .map(|v| String::from_utf8_lossy(&v).into_owned())
        };
        let mut headers = vec![(
            String::from("access-control-allow-origin"),
            self.allow_origin_value(origin),
        )];
        let wildcard = |configured: &Option<Vec<String>>, asked: Option<String>| match configured {
            Some(list) => Some(list.join(",")),
            None if self.credentials => asked,
            None => Some(String::from("*")),
        };
        if let Some(methods) = wildcard(&self.methods, requested("access-control-request-method")) {
            headers.push((String::from("access-control-allow-methods"), methods));
        }
        if let Some(allow) = wildcard(&self.headers, requested("access-control-request-headers"))
            .filter(|v| !v.is_empty())
        {
            headers.push((String::from("access-control-allow-headers"), allow));
        }
        headers.push((
            String::from("access-control-max-age"),
            self.max_age.to_string(),
        ));
        if self.credentials {
            headers.push((
                String::from("access-control-allow-credentials"),
                String::from("true"),
            ));
        }
        headers
    }

    /// Response headers for an actual (not preflight) request with an allowed origin.
    pub(crate) fn response_headers(&self, request: &RequestView<'_>) -> Option<HeaderEdits> {
        let origin = self.allowed_origin(request)?;
        let mut set = vec![(
            String::from("access-control-allow-origin"),
            self.allow_origin_value(origin),
        )];
        if self.credentials {
            set.push((
                String::from("access-control-allow-credentials"),
                String::from("true"),
            ));
        }
        if !self.expose.is_empty() {
            set.push((
                String::from("access-control-expose-headers"),
                self.expose.join(","),
            ));
        }
        Some(HeaderEdits {
            set,
            ..HeaderEdits::default()
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{OriginPattern, PathModifier};

    #[test]
    fn replace_prefix_match_follows_the_reference_table() {
        let rows = [
            ("/foo/bar", "/foo", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo", "/xyz/", "/xyz/bar"),
            ("/foo/bar", "/foo", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo", "/xyz/", "/xyz/bar"),
            ("/foo", "/foo", "/xyz", "/xyz"),
            ("/foo/", "/foo", "/xyz", "/xyz/"),
            ("/foo/bar", "/foo", "", "/bar"),
            ("/foo/", "/foo", "", "/"),
            ("/foo", "/foo", "", "/"),
            ("/foo/", "/foo", "/", "/"),
            ("/foo", "/foo", "/", "/"),
            ("/strip-prefix/three", "/strip-prefix", "/", "/three"),
            ("/prefix/one/two", "/prefix/one", "/one", "/one/two"),
            ("/anything", "/", "/new", "/new/anything"),
        ];
        for (path, matched, replacement, want) in rows {
            let m = PathModifier::Prefix {
                matched: matched.into(),
                replacement: replacement.into(),
            };
            assert_eq!(
                m.apply(path),
                want,
                "{path} with {matched} -> {replacement:?}"
            );
        }
    }

    #[test]
    fn origins_match_scheme_host_wildcards_and_default_ports() {
        let p = |s: &str| OriginPattern::parse(s).unwrap();
        assert!(p("https://*.bar.com").matches(&p("https://www.bar.com")));
        assert!(p("https://*.bar.com").matches(&p("https://xpto.www.bar.com")));
        assert!(!p("https://*.bar.com").matches(&p("https://bar.com")));
        assert!(!p("https://*.bar.com").matches(&p("http://www.bar.com")));
        assert!(p("https://foo.com").matches(&p("https://foo.com:443")));
        assert!(!p("https://foo.com").matches(&p("https://foo.com:8443")));
        assert!(p("http://*").matches(&p("http://anything.io")));
        assert!(OriginPattern::parse("ftp://x").is_none());
    }
}
