//! nginx's regex locations and `rewrite-target`, on the filter's regex engine.
//!
//! A location in regex mode is `location ~* "^<path>"`: case-insensitive, anchored at the start
//! only. A rewrite is `rewrite "(?i)<path>" <target> break;`: the whole path becomes the target,
//! `$1`..`$9` taken from the path's groups, and the query is kept unless the target writes one.
//! The filter runs RE2-style regexes (linear time); a path using PCRE's backtracking features
//! (lookaround, backreferences) is refused with a problem, as is one nginx itself would refuse.

use regex_lite::{Regex, RegexBuilder};

/// Compiled regexes are capped like route regexes, so no configuration can exhaust memory.
const SIZE_LIMIT: usize = 1 << 20;

/// `location ~* "^<path>"`.
pub(crate) fn location_regex(path: &str) -> Result<Regex, String> {
    compile(&format!("(?i)^{path}"), path)
}

fn compile(source: &str, path: &str) -> Result<Regex, String> {
    if ["(?=", "(?!", "(?<=", "(?<!", "(?>"]
        .iter()
        .any(|construct| path.contains(construct))
        || has_backreference(path)
    {
        return Err(format!(
            "{path:?} uses PCRE lookaround or backreferences, which the filter does not run (its regexes run in linear time)"
        ));
    }
    RegexBuilder::new(source)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|err| {
            let detail = err.to_string();
            let detail = detail.lines().last().unwrap_or_default().trim().to_owned();
            format!("{path:?} is not a regular expression nginx accepts ({detail})")
        })
}

fn has_backreference(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes
        .windows(2)
        .any(|w| w.first() == Some(&b'\\') && w.get(1).is_some_and(|b| (b'1'..=b'9').contains(b)))
}

/// One piece of a rewrite target.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `$0`..`$9`.
    Group(usize),
    /// `$args` / `$query_string`.
    Args,
    /// `$is_args`: `?` when the request has a query.
    IsArgs,
    /// `$request_uri`: the original path and query.
    RequestUri,
    /// `$uri`: the original path.
    Uri,
    /// `$host` / `$http_host`.
    Host,
    /// `$scheme`.
    Scheme,
}

/// A compiled `rewrite-target` for one location.
#[derive(Clone, Debug)]
pub(crate) struct Rewrite {
    /// `(?i)<path>`, unanchored, as nginx's `rewrite` searches it.
    regex: Regex,
    parts: Vec<Part>,
    /// The target writes a `?`: the request's query is not appended after it as `?...`, but
    /// after the target's own arguments with `&` (and not at all when the target ends in `?`).
    writes_query: bool,
}

/// The request facts a rewrite target may name.
pub(crate) struct RewriteInput<'a> {
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) host: &'a str,
    pub(crate) scheme: &'a str,
}

impl Rewrite {
    /// Compiles `target` for a location whose path is `path`. With `strict`, a target naming
    /// more groups than the path has is refused; otherwise those groups are empty.
    pub(crate) fn new(path: &str, target: &str, strict: bool) -> Result<Self, String> {
        let regex = compile(&format!("(?i){path}"), path)?;
        let groups = regex.captures_len().saturating_sub(1);
        let parts = parse_target(target)?;
        let beyond = parts
            .iter()
            .find(|p| matches!(p, Part::Group(n) if *n > groups));
        if let (true, Some(Part::Group(n))) = (strict, beyond) {
            return Err(format!(
                "{target:?} refers to ${n}, but the path {path:?} has {groups} capture group{}",
                if groups == 1 { "" } else { "s" }
            ));
        }
        Ok(Self {
            regex,
            writes_query: target.contains('?'),
            parts,
        })
    }

    /// The upstream path and query for a request, or `None` when the path does not match.
    pub(crate) fn apply(&self, input: &RewriteInput<'_>) -> Option<String> {
        let captures = self.regex.captures(input.path)?;
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Group(n) => out.push_str(captures.get(*n).map_or("", |m| m.as_str())),
                Part::Args => out.push_str(input.query),
                Part::IsArgs if !input.query.is_empty() => out.push('?'),
                Part::IsArgs => {}
                Part::RequestUri => {
                    out.push_str(input.path);
                    if !input.query.is_empty() {
                        out.push('?');
                        out.push_str(input.query);
                    }
                }
                Part::Uri => out.push_str(input.path),
                Part::Host => out.push_str(input.host),
                Part::Scheme => out.push_str(input.scheme),
            }
        }
        if self.writes_query {
            if let Some(stripped) = out.strip_suffix('?') {
                out = stripped.to_owned();
            } else if !input.query.is_empty() {
                out.push('&');
                out.push_str(input.query);
            }
        } else if !input.query.is_empty() {
            out.push('?');
            out.push_str(input.query);
        }
        Some(out)
    }
}

/// Splits a target into literals, groups and the variables the filter knows.
fn parse_target(target: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = target;
    while let Some(at) = rest.find('$') {
        literal.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let braced = after.starts_with('{');
        let body = if braced {
            after.get(1..).unwrap_or_default()
        } else {
            after
        };
        let name_len = match body.as_bytes().first() {
            Some(b) if b.is_ascii_digit() => 1,
            _ => body
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count(),
        };
        let name = body.get(..name_len).unwrap_or_default();
        let part = match name {
            "" => None,
            n if n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok().map(Part::Group),
            "args" | "query_string" => Some(Part::Args),
            "is_args" => Some(Part::IsArgs),
            "request_uri" => Some(Part::RequestUri),
            "uri" | "document_uri" => Some(Part::Uri),
            "host" | "http_host" => Some(Part::Host),
            "scheme" => Some(Part::Scheme),
            other => {
                return Err(format!(
                    "{target:?} uses the nginx variable ${other}, which the filter does not have"
                ))
            }
        };
        let Some(part) = part else {
            literal.push('$');
            rest = after;
            continue;
        };
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        parts.push(part);
        rest = body
            .get(name_len + usize::from(braced)..)
            .unwrap_or_default();
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{location_regex, Rewrite, RewriteInput};

    fn input<'a>(path: &'a str, query: &'a str) -> RewriteInput<'a> {
        RewriteInput {
            path,
            query,
            host: "a.example",
            scheme: "https",
        }
    }

    #[test]
    fn locations_are_case_insensitive_and_start_anchored() {
        let regex = location_regex("/api/v[0-9]+").unwrap();
        assert!(regex.is_match("/API/V2/users"));
        assert!(!regex.is_match("/x/api/v2"));
    }

    #[test]
    fn groups_and_query_follow_nginx() {
        let rewrite = Rewrite::new("/something(/|$)(.*)", "/$2", true).unwrap();
        assert_eq!(rewrite.apply(&input("/something/new", "")).unwrap(), "/new");
        assert_eq!(rewrite.apply(&input("/SOMETHING", "a=1")).unwrap(), "/?a=1");
        let rewrite = Rewrite::new("/a/(.*)", "/b?x=$1", true).unwrap();
        assert_eq!(rewrite.apply(&input("/a/z", "q=1")).unwrap(), "/b?x=z&q=1");
        let rewrite = Rewrite::new("/a/(.*)", "/b/${1}?", true).unwrap();
        assert_eq!(rewrite.apply(&input("/a/z", "q=1")).unwrap(), "/b/z");
        let rewrite = Rewrite::new("/a", "/b$is_args$args", true).unwrap();
        assert_eq!(rewrite.apply(&input("/a", "q=1")).unwrap(), "/b?q=1?q=1");
    }

    #[test]
    fn refused_targets_and_paths_say_why() {
        let err = Rewrite::new("/a/(.*)", "/$2", true).unwrap_err();
        assert!(Rewrite::new("/", "/$2", false).is_ok());
        assert_eq!(
            err,
            "\"/$2\" refers to $2, but the path \"/a/(.*)\" has 1 capture group"
        );
        let err = Rewrite::new("/a", "/$remote_addr", true).unwrap_err();
        assert!(err.contains("$remote_addr"), "{err}");
        let err = location_regex("/a(").unwrap_err();
        assert!(
            err.starts_with("\"/a(\" is not a regular expression nginx accepts"),
            "{err}"
        );
        let err = location_regex("/(?!admin)").unwrap_err();
        assert!(err.contains("lookaround"), "{err}");
    }
}
