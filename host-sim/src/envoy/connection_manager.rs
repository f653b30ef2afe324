//! What Envoy's HTTP connection manager does to a request before any HTTP filter sees it: path
//! normalisation (`normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action`) and
//! header names with underscores (`headers_with_underscores_action`).
//!
//! The steps run in Envoy's order: escaped slashes first (`%2F`, `%5C` in any case), then the
//! RFC 3986 normalisation, then merging slashes; the query is never touched. Normalisation is
//! Envoy's snapshot of Chromium's path canonicaliser: `.` and `..` segments (also written `%2e`)
//! are resolved and never climb above the root, `\` becomes `/`, escapes of unreserved
//! characters (letters, digits, `-`, `.`, `_`, `~`) are decoded, other escapes are kept exactly
//! as written (hex case included: `%2f` stays `%2f`), characters a path may not carry raw
//! (space, `"`, `<`, `>`, `^`, `` ` ``, `{`, `|`, `}`, controls, bytes above 0x7f) are escaped,
//! `;` is an ordinary character, and a NUL refuses the request. The filter, the router and the
//! upstream all see the result. What happens to the request afterwards is [`super::Proxy`]'s.

use anyhow::{bail, Result};

use crate::abi::lifecycle::LocalReply;
use crate::envoy::HttpRequest;

/// Envoy's `path_with_escaped_slashes_action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscapedSlashes {
    /// `KEEP_UNCHANGED` (Envoy's default).
    Keep,
    /// `REJECT_REQUEST`: 400.
    Reject,
    /// `UNESCAPE_AND_REDIRECT`: 307 to the unescaped, normalised path (gRPC: 400).
    Redirect,
    /// `UNESCAPE_AND_FORWARD`: the unescaped path goes on.
    Forward,
}

/// The connection manager settings that act before the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionManager {
    /// `normalize_path`.
    pub normalize_path: bool,
    /// `merge_slashes`.
    pub merge_slashes: bool,
    /// `path_with_escaped_slashes_action`.
    pub escaped_slashes: EscapedSlashes,
    /// `common_http_protocol_options.headers_with_underscores_action: REJECT_REQUEST` (HTTP/1:
    /// 400; Envoy resets an HTTP/2 stream instead).
    pub reject_underscores: bool,
}

/// The names [`ConnectionManager::preset`] knows, in the order the README lists them.
pub const PRESETS: [&str; 5] = [
    "edge",
    "base",
    "merge-slashes",
    "decode-and-merge-slashes",
    "none",
];

impl ConnectionManager {
    /// A preset by name: `edge` (Envoy's edge-proxy guidance, what `host-sim config --format
    /// envoy` writes: normalise, merge slashes, redirect escaped slashes, refuse underscores),
    /// Istio's `pathNormalization` values `base` (Istio's default), `merge-slashes` and
    /// `decode-and-merge-slashes`, or `none` (Envoy's own defaults: nothing).
    ///
    /// # Errors
    ///
    /// An unknown name.
    pub fn preset(name: &str) -> Result<Self> {
        let none = Self {
            normalize_path: false,
            merge_slashes: false,
            escaped_slashes: EscapedSlashes::Keep,
            reject_underscores: false,
        };
        let base = Self {
            normalize_path: true,
            ..none
        };
        Ok(match name {
            "edge" => Self::default(),
            "base" => base,
            "merge-slashes" => Self {
                merge_slashes: true,
                ..base
            },
            "decode-and-merge-slashes" => Self {
                merge_slashes: true,
                escaped_slashes: EscapedSlashes::Forward,
                ..base
            },
            "none" => none,
            _ => bail!(
                "unknown path normalization {name:?} (expected one of {})",
                PRESETS.join(", ")
            ),
        })
    }

    /// The request as the filter will see it, or the connection manager's own reply.
    pub fn admit(&self, request: &HttpRequest) -> Admission {
        if self.reject_underscores
            && request
                .headers
                .iter()
                .any(|(name, _)| !name.starts_with(':') && name.contains('_'))
        {
            return Admission::Reply(reply(400, "unexpected_underscore", None));
        }
        let Some(at) = request.headers.iter().position(|(n, _)| n == ":path") else {
            return Admission::Unchanged;
        };
        let Some((_, original)) = request.headers.get(at) else {
            return Admission::Unchanged;
        };
        let (path, query) = split_query(original);
        if path.is_empty() {
            return Admission::Unchanged;
        }
        let mut path = path.to_vec();
        let mut redirect = false;
        if self.escaped_slashes != EscapedSlashes::Keep {
            if let Some(unescaped) = unescape_slashes(&path) {
                match self.escaped_slashes {
                    EscapedSlashes::Reject => {
                        return Admission::Reply(reply(400, "path_normalization_failed", None))
                    }
                    EscapedSlashes::Redirect => redirect = true,
                    EscapedSlashes::Keep | EscapedSlashes::Forward => {}
                }
                path = unescaped;
            }
        }
        if self.normalize_path {
            match canonical_path(&path) {
                Some(canonical) => path = canonical,
                None => return Admission::Reply(reply(400, "path_normalization_failed", None)),
            }
        }
        if self.merge_slashes {
            path = merge_slashes(&path);
        }
        path.extend_from_slice(query);
        if redirect {
            let grpc = request
                .headers
                .iter()
                .any(|(n, v)| n == "content-type" && v.starts_with(b"application/grpc"));
            let location = (!grpc).then_some(path);
            let status = if grpc { 400 } else { 307 };
            return Admission::Reply(reply(status, "path_normalization_failed", location));
        }
        if &path == original {
            return Admission::Unchanged;
        }
        let mut rewritten = request.clone();
        if let Some((_, value)) = rewritten.headers.get_mut(at) {
            *value = path;
        }
        Admission::Rewritten(Box::new(rewritten))
    }
}

impl Default for ConnectionManager {
    /// Envoy's edge-proxy guidance, as the generated bootstrap configures it.
    fn default() -> Self {
        Self {
            normalize_path: true,
            merge_slashes: true,
            escaped_slashes: EscapedSlashes::Redirect,
            reject_underscores: true,
        }
    }
}

/// What the connection manager does with a request.
#[derive(Debug)]
pub enum Admission {
    /// The filter sees the request as it came.
    Unchanged,
    /// The filter sees this request instead (its `:path` normalised).
    Rewritten(Box<HttpRequest>),
    /// The connection manager answers; no filter runs.
    Reply(LocalReply),
}

fn reply(status: u32, details: &str, location: Option<Vec<u8>>) -> LocalReply {
    LocalReply {
        status,
        details: details.to_owned(),
        body: Vec::new(),
        headers: location
            .map(|l| ("location".to_owned(), l))
            .into_iter()
            .collect(),
        grpc_status: None,
    }
}

/// The path and the query (`?` included, empty when there is none).
fn split_query(path: &[u8]) -> (&[u8], &[u8]) {
    let at = path.iter().position(|&b| b == b'?').unwrap_or(path.len());
    path.split_at(at)
}

/// `%2F` → `/` and `%5C` → `\` in any case; `None` when there is none.
fn unescape_slashes(path: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(path.len());
    let mut found = false;
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        let escaped = match (
            b,
            path.get(i + 1),
            path.get(i + 2).map(u8::to_ascii_uppercase),
        ) {
            (b'%', Some(b'2'), Some(b'F')) => Some(b'/'),
            (b'%', Some(b'5'), Some(b'C')) => Some(b'\\'),
            _ => None,
        };
        match escaped {
            Some(slash) => {
                out.push(slash);
                found = true;
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    found.then_some(out)
}

/// Collapses runs of `/`, keeping a leading and a trailing one (Envoy's `mergeSlashes`).
fn merge_slashes(path: &[u8]) -> Vec<u8> {
    if !path.windows(2).any(|w| w == b"//") {
        return path.to_vec();
    }
    let mut out = Vec::with_capacity(path.len());
    if path.starts_with(b"/") {
        out.push(b'/');
    }
    let segments: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .collect();
    out.extend(segments.join(&b'/'));
    if path.ends_with(b"/") {
        out.push(b'/');
    }
    out
}

/// How the canonicaliser treats a byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Copied as is, and kept escaped when written escaped.
    Keep,
    /// Copied as is, and decoded when written escaped (unreserved characters).
    Unreserved,
    /// Escaped in the output.
    Escape,
    /// Refuses the path (NUL).
    Invalid,
}

fn class(b: u8) -> Class {
    match b {
        0 => Class::Invalid,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => Class::Unreserved,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'/' | b':' | b';'
        | b'=' | b'@' | b'[' | b']' => Class::Keep,
        _ => Class::Escape,
    }
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The byte a `%XX` at `at` stands for.
fn escaped_at(text: &[u8], at: usize) -> Option<u8> {
    match (text.get(at), text.get(at + 1), text.get(at + 2)) {
        (Some(b'%'), Some(&high), Some(&low)) => Some(hex(high)? * 16 + hex(low)?),
        _ => None,
    }
}

/// Length of a dot at `at`: 1 for `.`, 3 for `%2e`/`%2E`, 0 for anything else.
fn dot_len(path: &[u8], at: usize) -> usize {
    match path.get(at) {
        Some(b'.') => 1,
        Some(b'%') if escaped_at(path, at) == Some(b'.') => 3,
        _ => 0,
    }
}

fn is_slash(b: Option<&u8>) -> bool {
    matches!(b, Some(b'/' | b'\\'))
}

/// What a dot segment starting at `at` (just after a slash) does, and how many bytes it spans.
enum Dots {
    /// Part of a name.
    Name,
    /// `.`: stays in the same directory.
    Current(usize),
    /// `..`: one directory up.
    Up(usize),
}

fn dots(path: &[u8], at: usize) -> Dots {
    let first = dot_len(path, at);
    let after = at + first;
    if after == path.len() {
        return Dots::Current(first);
    }
    if is_slash(path.get(after)) {
        return Dots::Current(first + 1);
    }
    let second = dot_len(path, after);
    if second > 0 {
        let end = after + second;
        if end == path.len() {
            return Dots::Up(first + second);
        }
        if is_slash(path.get(end)) {
            return Dots::Up(first + second + 1);
        }
    }
    Dots::Name
}

/// Envoy's `normalize_path` on a path without its query; `None` refuses the request.
fn canonical_path(path: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(path.len() + 1);
    if !is_slash(path.first()) {
        out.push(b'/');
    }
    let mut valid = true;
    // Where in `out` the last `%` that began no valid escape was written.
    let mut stray_percent: Option<usize> = None;
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        if dot_len(path, i) > 0 {
            let len = dot_len(path, i);
            if out.last() != Some(&b'/') {
                out.push(b'.');
                i += len;
                continue;
            }
            match dots(path, i) {
                Dots::Name => {
                    out.push(b'.');
                    i += len;
                }
                Dots::Current(spanned) => i += spanned,
                Dots::Up(spanned) => {
                    up_one_directory(&mut out);
                    i += spanned;
                }
            }
            continue;
        }
        if b == b'\\' {
            out.push(b'/');
        } else if b == b'%' {
            match escaped_at(path, i) {
                Some(decoded) if class(decoded) == Class::Unreserved => {
                    out.push(decoded);
                    i += 2;
                    if let Some(percent) = stray_percent.filter(|&p| p + 3 >= out.len()) {
                        guard_nested_escape(path, i + 1, percent, &mut out);
                    }
                }
                Some(decoded) => {
                    out.extend_from_slice(path.get(i..i + 3).unwrap_or_default());
                    i += 2;
                    valid &= class(decoded) != Class::Invalid;
                }
                None => {
                    stray_percent = Some(out.len());
                    out.push(b'%');
                }
            }
        } else {
            match class(b) {
                Class::Keep | Class::Unreserved => out.push(b),
                Class::Escape => out.extend(format!("%{b:02X}").bytes()),
                Class::Invalid => {
                    out.extend(b"%00");
                    valid = false;
                }
            }
        }
        i += 1;
    }
    valid.then_some(out)
}

/// Drops the last segment of `out`, which ends with `/`; never above the first slash.
fn up_one_directory(out: &mut Vec<u8>) {
    let Some(last) = out.len().checked_sub(1) else {
        return;
    };
    let keep = out
        .get(..last)
        .and_then(|head| head.iter().rposition(|&b| b == b'/'))
        .map_or(1, |slash| slash + 1);
    out.truncate(keep.max(1));
}

/// After decoding a character close behind a stray `%`, makes sure the output does not now
/// spell an escape the input never had (`%%30` + `0` must not become `%00`): such a `%` is
/// written `%25` instead. `next` is the input position after the decoded escape.
fn guard_nested_escape(path: &[u8], next: usize, percent: usize, out: &mut Vec<u8>) {
    let length = out.len();
    let Some(&decoded) = out.last() else {
        return;
    };
    let borrow_next = percent + 2 == length;
    if borrow_next {
        match path.get(next) {
            Some(&b) if b < 0x80 => out.push(b),
            _ => return,
        }
    }
    if escaped_at(out, percent).is_some() {
        if !borrow_next {
            let first = out.get(percent + 1).copied().unwrap_or(b'0');
            out.push(first);
        }
        if let Some(digits) = out.get_mut(percent + 1..percent + 3) {
            digits.copy_from_slice(b"25");
        }
        out.push(decoded);
    } else if borrow_next {
        out.truncate(length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(path: &str) -> Option<String> {
        canonical_path(path.as_bytes()).map(|p| String::from_utf8_lossy(&p).into_owned())
    }

    #[test]
    fn dot_segments_resolve_below_the_root() {
        for (input, want) in [
            ("/api/../admin", "/admin"),
            ("/api/%2e%2e/admin", "/admin"),
            ("/api/%2E%2e/admin", "/admin"),
            ("/a/./b/.", "/a/b/"),
            ("/../../x", "/x"),
            ("/a/..", "/"),
            ("/a/b/..%2fc", "/a/b/..%2fc"),
            ("/a/..b/c", "/a/..b/c"),
            ("/a\\..\\b", "/b"),
            ("a/b", "/a/b"),
            ("/a/.x/", "/a/.x/"),
        ] {
            assert_eq!(canonical(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn escapes_decode_only_unreserved_characters_and_keep_their_case() {
        for (input, want) in [
            ("/%41%7e%2D", "/A~-"),
            ("/a%2fb%2Fc", "/a%2fb%2Fc"),
            ("/a%3bb", "/a%3bb"),
            ("/a;b=c", "/a;b=c"),
            ("/a b\"<>", "/a%20b%22%3C%3E"),
            ("/\u{e9}", "/%C3%A9"),
            ("/%zz%", "/%zz%"),
            ("/%%300", "/%2500"),
        ] {
            assert_eq!(canonical(input).as_deref(), Some(want), "{input}");
        }
        assert_eq!(canonical("/a\0b"), None);
        assert_eq!(canonical("/a%00b"), None);
    }

    #[test]
    fn slashes_merge_and_escaped_slashes_follow_the_action() {
        assert_eq!(merge_slashes(b"//a///b//"), b"/a/b/");
        assert_eq!(merge_slashes(b"/a/b"), b"/a/b");
        assert_eq!(
            unescape_slashes(b"/a%2fb%5Cc").as_deref(),
            Some(&b"/a/b\\c"[..])
        );
        assert_eq!(unescape_slashes(b"/a/b"), None);
    }

    fn admit(settings: &str, path: &str) -> Result<String, (u32, Option<String>)> {
        let manager = ConnectionManager::preset(settings).unwrap();
        let request = HttpRequest::new("GET", "http", "a", path);
        match manager.admit(&request) {
            Admission::Unchanged => Ok(path.to_owned()),
            Admission::Rewritten(r) => Ok(String::from_utf8_lossy(&r.headers[3].1).into_owned()),
            Admission::Reply(reply) => Err((
                reply.status,
                reply
                    .headers
                    .first()
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned()),
            )),
        }
    }

    #[test]
    fn presets_apply_in_envoys_order_and_keep_the_query() {
        assert_eq!(admit("none", "/a/../b//c"), Ok("/a/../b//c".into()));
        assert_eq!(
            admit("base", "/a/../b//c?x=/../"),
            Ok("/b//c?x=/../".into())
        );
        assert_eq!(admit("merge-slashes", "/a/../b//c"), Ok("/b/c".into()));
        assert_eq!(
            admit("decode-and-merge-slashes", "/a%2F..%2fb"),
            Ok("/b".into())
        );
        assert_eq!(
            admit("edge", "/api%2F..%2Fadmin?q=1"),
            Err((307, Some("/admin?q=1".into())))
        );
        assert_eq!(admit("edge", "/a\0"), Err((400, None)));
    }
}
