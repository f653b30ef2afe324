//! Hostnames: route and listener hostname patterns, their intersection, and the request Host.
//!
//! Reference §2: an exact name matches itself; `*.example.com` matches one or more extra labels
//! but never `example.com`; the Host's port is ignored and its case does not matter.

use std::fmt;

/// A hostname as the Gateway API writes it: exact, or a wildcard over the first label(s).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Hostname {
    /// `app.example.com`.
    Exact(String),
    /// `*.example.com`, stored as the suffix `.example.com`.
    Wildcard(String),
}

impl Hostname {
    /// Parses a route or listener hostname, lowercased. `None` for values that are not
    /// hostnames (empty, a bare `*`, a wildcard that is not the whole first label).
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let value = value.to_ascii_lowercase();
        if let Some(suffix) = value.strip_prefix('*') {
            if suffix.len() > 1 && suffix.starts_with('.') && !suffix.contains('*') {
                return Some(Self::Wildcard(suffix.to_owned()));
            }
            return None;
        }
        if value.is_empty() || value.contains('*') {
            return None;
        }
        Some(Self::Exact(value))
    }

    /// Whether a normalised request host (see [`normalize_host`]) matches.
    pub(crate) fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(name) => name == host,
            Self::Wildcard(suffix) => host.len() > suffix.len() && host.ends_with(suffix.as_str()),
        }
    }

    /// Characters of the written hostname, the measure of specificity (reference §2.3, §2.4).
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Exact(name) => name.len(),
            Self::Wildcard(suffix) => suffix.len() + 1,
        }
    }

    /// The effective hostname of a route hostname on a listener hostname: the more specific of
    /// the two when they overlap, `None` when they do not (reference §2.2).
    pub(crate) fn intersect(&self, listener: &Self) -> Option<Self> {
        match (self, listener) {
            (Self::Exact(a), Self::Exact(b)) => (a == b).then(|| self.clone()),
            (Self::Exact(a), Self::Wildcard(_)) => listener.matches(a).then(|| self.clone()),
            (Self::Wildcard(_), Self::Exact(b)) => self.matches(b).then(|| listener.clone()),
            (Self::Wildcard(a), Self::Wildcard(b)) => {
                if a.ends_with(b.as_str()) {
                    Some(self.clone())
                } else if b.ends_with(a.as_str()) {
                    Some(listener.clone())
                } else {
                    None
                }
            }
        }
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(name) => f.write_str(name),
            Self::Wildcard(suffix) => write!(f, "*{suffix}"),
        }
    }
}

/// Whether a route hostname and a listener hostname, as written, have a name in common
/// (reference §2.2). A value that is not a hostname has none.
pub fn hostnames_intersect(route: &str, listener: &str) -> bool {
    match (Hostname::parse(route), Hostname::parse(listener)) {
        (Some(route), Some(listener)) => route.intersect(&listener).is_some(),
        _ => false,
    }
}

/// The request's `:authority` without its port, lowercased. IPv6 literals keep their brackets.
pub(crate) fn normalize_host(authority: &[u8]) -> String {
    let host = match authority.first() {
        Some(b'[') => match authority.iter().position(|&b| b == b']') {
            Some(end) => &authority[..=end],
            None => authority,
        },
        _ => match authority.iter().rposition(|&b| b == b':') {
            Some(colon) if authority[colon + 1..].iter().all(u8::is_ascii_digit) => {
                &authority[..colon]
            }
            _ => authority,
        },
    };
    String::from_utf8_lossy(host).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{hostnames_intersect, normalize_host, Hostname};

    fn h(value: &str) -> Hostname {
        Hostname::parse(value).unwrap()
    }

    #[test]
    fn wildcard_needs_at_least_one_more_label() {
        let w = h("*.example.com");
        assert!(w.matches("foo.example.com"));
        assert!(w.matches("foo.bar.example.com"));
        assert!(!w.matches("example.com"));
        assert!(!w.matches("fooexample.com"));
        assert!(!h("*.wildcard.io").matches("wildcard.io"));
    }

    #[test]
    fn parse_rejects_what_is_not_a_hostname() {
        assert_eq!(Hostname::parse(""), None);
        assert_eq!(Hostname::parse("*"), None);
        assert_eq!(Hostname::parse("foo.*.com"), None);
        assert_eq!(Hostname::parse("*foo.com"), None);
        assert_eq!(
            h("App.Example.COM"),
            Hostname::Exact("app.example.com".into())
        );
    }

    #[test]
    fn intersection_narrows_to_the_more_specific() {
        let cases = [
            (
                "test.example.com",
                "test.example.com",
                Some("test.example.com"),
            ),
            (
                "*.example.com",
                "test.example.com",
                Some("test.example.com"),
            ),
            (
                "test.example.com",
                "*.example.com",
                Some("test.example.com"),
            ),
            (
                "foo.test.example.com",
                "*.example.com",
                Some("foo.test.example.com"),
            ),
            (
                "*.example.com",
                "*.foo.example.com",
                Some("*.foo.example.com"),
            ),
            (
                "*.foo.example.com",
                "*.example.com",
                Some("*.foo.example.com"),
            ),
            ("example.com", "*.example.com", None),
            ("test.example.net", "*.example.com", None),
            (
                "*.specific.com",
                "very.specific.com",
                Some("very.specific.com"),
            ),
            ("*.a.com", "*.b.com", None),
        ];
        for (route, listener, want) in cases {
            let got = h(route).intersect(&h(listener)).map(|x| x.to_string());
            assert_eq!(got.as_deref(), want, "route {route} on listener {listener}");
        }
    }

    #[test]
    fn written_hostnames_intersect_only_when_both_are_hostnames() {
        assert!(hostnames_intersect("App.Example.com", "*.example.com"));
        assert!(hostnames_intersect("*.foo.example.com", "*.example.com"));
        assert!(!hostnames_intersect("example.com", "*.example.com"));
        assert!(!hostnames_intersect("*", "*.example.com"));
        assert!(!hostnames_intersect("app.example.com", ""));
    }

    #[test]
    fn host_port_and_case_are_ignored() {
        assert_eq!(normalize_host(b"Foo.COM:8080"), "foo.com");
        assert_eq!(
            normalize_host(b"very.specific.com:1234"),
            "very.specific.com"
        );
        assert_eq!(normalize_host(b"foo.com"), "foo.com");
        assert_eq!(normalize_host(b"[::1]:80"), "[::1]");
        assert_eq!(normalize_host(b"[::1]"), "[::1]");
        assert_eq!(normalize_host(b""), "");
    }

    #[test]
    fn specificity_counts_written_characters() {
        assert!(h("*.foo.example.com").len() > h("*.example.com").len());
        assert_eq!(h("*.a.io").len(), "*.a.io".len());
    }
}
