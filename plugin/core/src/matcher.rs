//! Compiled request predicates: one `HTTPRouteMatch` becomes a [`RequestMatcher`].
//!
//! Reference §3: path Exact / PathPrefix (element-wise) / RegularExpression; headers with
//! case-insensitive names and comma-joined repeats; query parameters with case-sensitive names
//! and the first value; method. All conditions of one match are ANDed. Regular expressions are
//! RE2-style (no backtracking) and must match the whole value, like Envoy's `safe_regex`.
//!
//! The path index ([`crate::table`]) checks Exact and PathPrefix paths itself; a matcher only
//! re-checks the path when it is a regular expression.

use regex_lite::Regex;

use crate::request::RequestView;

/// Upper bound on a compiled regular expression, so one route cannot exhaust the VM's memory.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// The path condition of a match.
#[derive(Clone, Debug)]
pub(crate) enum PathMatcher {
    /// Whole path, case-sensitive.
    Exact(String),
    /// Element-wise prefix, trailing `/` removed (`/` itself kept).
    Prefix(String),
    /// Whole-path regular expression.
    Regex(Box<Pattern>),
}

impl PathMatcher {
    /// Builds the path condition from a match type and value, defaults applied.
    pub(crate) fn new(kind: Option<&str>, value: Option<&str>) -> Result<Self, String> {
        let value = value.unwrap_or("/");
        match kind.unwrap_or("PathPrefix") {
            "Exact" | "PathPrefix" if !value.starts_with('/') => {
                Err(format!("{value:?} must start with \"/\""))
            }
            "Exact" => Ok(Self::Exact(value.to_owned())),
            "PathPrefix" => Ok(Self::Prefix(strip_trailing_slash(value).to_owned())),
            "RegularExpression" => Pattern::new(value).map(|p| Self::Regex(Box::new(p))),
            other => Err(unsupported(other, "Exact, PathPrefix, RegularExpression")),
        }
    }

    /// Whether `path` (no query) satisfies the condition.
    #[cfg(test)]
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            Self::Exact(value) => value == path,
            Self::Prefix(prefix) => prefix_matches(prefix, path),
            Self::Regex(pattern) => pattern.is_match(path.as_bytes()),
        }
    }
}

/// Whether the element-wise `prefix` (trailing `/` already stripped) covers `path`: equal, or
/// followed by `/` in the path (reference §3.2). The path index encodes the same rule.
#[cfg(test)]
fn prefix_matches(prefix: &str, path: &str) -> bool {
    prefix == "/"
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `/foo/` → `/foo`; `/` stays `/`.
pub(crate) fn strip_trailing_slash(value: &str) -> &str {
    match value.strip_suffix('/') {
        Some("") | None => value,
        Some(stripped) => stripped,
    }
}

/// A value condition on a header or query parameter.
#[derive(Clone, Debug)]
pub(crate) enum ValueMatcher {
    /// Byte-for-byte equality.
    Exact(Vec<u8>),
    /// Whole-value regular expression.
    Regex(Box<Pattern>),
}

impl ValueMatcher {
    pub(crate) fn new(kind: Option<&str>, value: &str) -> Result<Self, String> {
        match kind.unwrap_or("Exact") {
            "Exact" => Ok(Self::Exact(value.as_bytes().to_vec())),
            "RegularExpression" => Pattern::new(value).map(|p| Self::Regex(Box::new(p))),
            other => Err(unsupported(other, "Exact, RegularExpression")),
        }
    }

    fn matches(&self, value: &[u8]) -> bool {
        match self {
            Self::Exact(want) => want == value,
            Self::Regex(pattern) => pattern.is_match(value),
        }
    }
}

/// A regular expression anchored at both ends, with its source kept for reports.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    regex: Regex,
    source: String,
    /// Length of the source's literal prefix, which every match starts with: checked before the
    /// regex engine runs, so most non-matching values cost a byte comparison.
    literal: usize,
}

impl Pattern {
    pub(crate) fn new(source: &str) -> Result<Self, String> {
        regex_lite::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(|regex| Self {
                regex,
                source: source.to_owned(),
                literal: literal_prefix_len(source),
            })
            .map_err(|err| {
                format!(
                    "invalid regular expression {source:?}: {}",
                    first_line(&err.to_string())
                )
            })
    }

    /// Whole-value match; bytes that are not UTF-8 are replaced before matching.
    pub(crate) fn is_match(&self, value: &[u8]) -> bool {
        let literal = self
            .source
            .as_bytes()
            .get(..self.literal)
            .unwrap_or_default();
        value.starts_with(literal) && self.regex.is_match(&String::from_utf8_lossy(value))
    }

    /// Characters of the written expression, its rank against path prefixes.
    pub(crate) fn len(&self) -> usize {
        self.source.len()
    }
}

/// How many leading bytes of a regular expression are plain characters that every whole-value
/// match must start with. Conservative: it stops at the first metacharacter or escape, drops
/// the last character when a `*`, `?` or `{` may repeat it zero times, and is zero when the
/// expression has an alternation outside any group (`a|b` need not start with `a`) or anything
/// it cannot follow.
fn literal_prefix_len(source: &str) -> usize {
    const META: &[u8] = b"\\.+*?()|[]{}^$";
    let bytes = source.as_bytes();
    let mut len = bytes.iter().take_while(|b| !META.contains(b)).count();
    if matches!(bytes.get(len), Some(b'*' | b'?' | b'{')) {
        len = source[..len].char_indices().last().map_or(0, |(at, _)| at);
    }
    if has_top_level_alternation(bytes) {
        return 0;
    }
    len
}

/// Whether `|` appears outside every group and character class; also true when the groups or
/// classes do not balance, so callers stay conservative.
fn has_top_level_alternation(bytes: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 1,
            b'[' => {
                // A class ends at the first `]` that is not its first member.
                i += 1;
                if bytes.get(i) == Some(&b'^') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b']') {
                    i += 1;
                }
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 1,
                        b']' => break,
                        _ => {}
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    return true;
                }
            }
            b'(' => depth += 1,
            b')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            b'|' if depth == 0 => return true,
            _ => {}
        }
        i += 1;
    }
    depth != 0
}

/// A header condition (lowercase name) or a query parameter condition (exact name).
#[derive(Clone, Debug)]
pub(crate) struct Condition {
    pub(crate) name: String,
    pub(crate) value: ValueMatcher,
}

/// Every condition of one `HTTPRouteMatch` that the path index does not check itself.
#[derive(Clone, Debug)]
pub(crate) struct RequestMatcher {
    /// A RegularExpression path; Exact and PathPrefix paths live only in the index.
    pub(crate) path_regex: Option<Box<Pattern>>,
    pub(crate) method: Option<String>,
    pub(crate) headers: Vec<Condition>,
    pub(crate) query: Vec<Condition>,
    /// GRPCRoute matches only match gRPC requests.
    pub(crate) grpc: bool,
}

impl RequestMatcher {
    /// Checks everything but an Exact or PathPrefix path, which the index has already checked.
    pub(crate) fn matches_after_path_index(&self, request: &RequestView<'_>) -> bool {
        if self.grpc && !request.is_grpc() {
            return false;
        }
        if let Some(pattern) = &self.path_regex {
            if !pattern.is_match(request.path) {
                return false;
            }
        }
        if let Some(method) = &self.method {
            if method.as_bytes() != request.method {
                return false;
            }
        }
        self.headers
            .iter()
            .all(|h| request.header(&h.name).is_some_and(|v| h.value.matches(&v)))
            && self.query.iter().all(|q| {
                request
                    .query_param(&q.name)
                    .is_some_and(|v| q.value.matches(&v))
            })
    }
}

/// The methods `HTTPRouteMatch.method` allows.
pub(crate) const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Whether `name` is a valid HTTP header name token (reference §1, `HeaderName`).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a header may carry `value` at all: no control characters but tab (RFC 9110
/// `field-value`). A line break would end the header on the wire.
pub(crate) fn is_field_value(value: &str) -> bool {
    !value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

/// Whether `value` fits the CRD's header value pattern `^[!-~]+([\t ]?[!-~]+)*$` (experimental
/// channel): printable ASCII, words separated by one space or tab.
pub(crate) fn is_crd_header_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let visible = |b: &u8| (b'!'..=b'~').contains(b);
    bytes.first().is_some_and(visible)
        && bytes.last().is_some_and(visible)
        && bytes.windows(2).all(|pair| match pair {
            [a, b] => visible(a) || visible(b),
            _ => true,
        })
        && bytes
            .iter()
            .all(|b| visible(b) || *b == b' ' || *b == b'\t')
}

pub(crate) fn unsupported(value: &str, supported: &str) -> String {
    format!("unsupported value {value:?} (supported: {supported})")
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{
        is_crd_header_value, is_field_value, is_header_name, literal_prefix_len, PathMatcher,
        ValueMatcher,
    };

    #[test]
    fn literal_prefixes_are_what_every_match_starts_with() {
        fn prefix(source: &str) -> &str {
            &source[..literal_prefix_len(source)]
        }
        assert_eq!(prefix("/r0/items/[0-9]+"), "/r0/items/");
        assert_eq!(prefix("mobile-(ios|android)"), "mobile-");
        assert_eq!(prefix("/api/v1"), "/api/v1");
        assert_eq!(prefix("abc*"), "ab");
        assert_eq!(prefix("abc?d"), "ab");
        assert_eq!(prefix("abc{2}"), "ab");
        assert_eq!(prefix("abc+"), "abc");
        assert_eq!(prefix("é*"), "");
        assert_eq!(prefix("a.b"), "a");
        assert_eq!(prefix("a\\.b"), "a");
        assert_eq!(prefix("(?i)abc"), "");
        assert_eq!(prefix("abc|xyz"), "");
        assert_eq!(prefix("ab[|]c"), "ab");
        assert_eq!(prefix("ab[]|]c"), "ab");
        assert_eq!(prefix("ab\\|c"), "ab");
        assert_eq!(prefix("ab(c|d)|e"), "");
        assert_eq!(prefix("ab(c"), "");
        assert_eq!(prefix("ab[c"), "");
    }

    #[test]
    fn the_literal_prefix_never_rejects_a_match() {
        for (source, value, expected) in [
            ("/r0/items/[0-9]+", "/r0/items/42", true),
            ("/r0/items/[0-9]+", "/r1/items/42", false),
            ("mobile-(ios|android)", "mobile-ios", true),
            ("mobile-(ios|android)", "web", false),
            ("abc*", "ab", true),
            ("abc?d", "abd", true),
            ("abc|xyz", "xyz", true),
        ] {
            let m = ValueMatcher::new(Some("RegularExpression"), source).unwrap();
            assert_eq!(m.matches(value.as_bytes()), expected, "{source} on {value}");
        }
    }

    fn path(kind: &str, value: &str) -> PathMatcher {
        PathMatcher::new(Some(kind), Some(value)).unwrap()
    }

    #[test]
    fn exact_path_is_whole_and_case_sensitive() {
        let m = path("Exact", "/abc");
        assert!(m.matches("/abc"));
        for miss in ["/abc/", "/Abc", "/abcd", "/ab"] {
            assert!(!m.matches(miss), "{miss}");
        }
    }

    #[test]
    fn prefix_is_element_wise_with_trailing_slash_ignored() {
        let table = [
            ("/abc", "/abc", true),
            ("/abc", "/abc/", true),
            ("/abc", "/abc/def", true),
            ("/abc", "/abcd", false),
            ("/v2", "/v2example", false),
            ("/match/", "/match", true),
            ("/match/", "/match/x", true),
            ("/match/", "/matchx", false),
            ("/", "/", true),
            ("/", "/anything/at/all", true),
        ];
        for (prefix, request, want) in table {
            assert_eq!(
                path("PathPrefix", prefix).matches(request),
                want,
                "prefix {prefix} path {request}"
            );
        }
    }

    #[test]
    fn regex_matches_the_whole_path() {
        let m = path("RegularExpression", "/api/v[0-9]+");
        assert!(m.matches("/api/v2"));
        assert!(!m.matches("/api/v2/users"));
        assert!(!m.matches("/x/api/v2"));
        let err = PathMatcher::new(Some("RegularExpression"), Some("(")).unwrap_err();
        assert!(err.starts_with("invalid regular expression \"(\""), "{err}");
    }

    #[test]
    fn defaults_and_unknown_types() {
        assert!(matches!(PathMatcher::new(None, None), Ok(PathMatcher::Prefix(p)) if p == "/"));
        assert_eq!(
            PathMatcher::new(Some("Glob"), Some("/x")).unwrap_err(),
            "unsupported value \"Glob\" (supported: Exact, PathPrefix, RegularExpression)"
        );
        assert_eq!(
            PathMatcher::new(Some("Exact"), Some("x")).unwrap_err(),
            "\"x\" must start with \"/\""
        );
        assert!(ValueMatcher::new(Some("Prefix"), "x").is_err());
    }

    #[test]
    fn header_names_are_tokens() {
        assert!(is_header_name("X-Canary"));
        assert!(!is_header_name(":method"));
        assert!(!is_header_name("has space"));
        assert!(!is_header_name(""));
    }

    #[test]
    fn header_values_by_the_crd_pattern_and_by_what_a_header_can_carry() {
        for ok in ["v1", "a b", "a\tb", "x=1; y=2", "~!"] {
            assert!(is_crd_header_value(ok), "{ok:?}");
            assert!(is_field_value(ok), "{ok:?}");
        }
        for bad in ["", " a", "a ", "a  b", "a \tb", "caf\u{e9}"] {
            assert!(!is_crd_header_value(bad), "{bad:?}");
        }
        for bad in ["a\r\nx-injected: 1", "a\nb", "nul\0", "del\u{7f}"] {
            assert!(!is_field_value(bad), "{bad:?}");
            assert!(!is_crd_header_value(bad), "{bad:?}");
        }
        assert!(is_field_value("caf\u{e9}  two spaces "));
    }
}
