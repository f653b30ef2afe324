//! What the conversion could not say in Gateway API: one [`Note`] per annotation or nginx rule
//! that the converted routes express differently or not at all, with why and what to do.
//!
//! Notes are printed on stderr by `host-sim migrate`, and `--verify` groups the requests that
//! differ under the note that explains them ([`Note::explains`]). Building the routes is
//! [`super::rules`]'s job; this file only words and scopes what was lost.

use std::fmt;

/// One thing the converted routes do differently from ingress-nginx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// `Ingress namespace/name`, or `host NAME` for a rule that spans a host.
    pub object: String,
    /// The annotation (full name), or the nginx rule (`regex mode`, `wildcard host`).
    pub cause: String,
    /// The annotation's value, when one is involved.
    pub value: Option<String>,
    /// What differs and why Gateway API cannot say it.
    pub why: String,
    /// What a user can do.
    pub fix: String,
    /// The requests it can affect.
    pub scope: Scope,
    /// A security warning rather than a missing feature (snippets).
    pub security: bool,
}

/// The requests a [`Note`] can affect: a host (any when `None`), a path of it, and a kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Host as written in the Ingress (`*.example.com` included).
    pub host: Option<String>,
    /// Location path.
    pub path: Option<String>,
    /// Which probes it explains.
    pub affects: Affects,
}

/// The kind of request a [`Note`] changes the outcome of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Affects {
    /// Any request in scope.
    #[default]
    Any,
    /// Requests whose path differs from the written one only in letter case.
    Case,
    /// Requests under a wildcard host with more than one label in place of `*`.
    Labels,
    /// OPTIONS requests and requests carrying `Origin`.
    Cors,
    /// Requests carrying a canary header or cookie, or sent for the weight split.
    Canary,
    /// Requests with a query string.
    Query,
    /// Requests whose client address is chosen.
    Source,
    /// Requests with a body.
    Body,
    /// Requests whose path ends in `/`.
    TrailingSlash,
    /// No request: neither side runs what the note is about.
    Nothing,
}

impl Note {
    /// A note about an annotation of one Ingress, on one host and path when given.
    pub fn annotation(
        object: &str,
        name: &str,
        value: &str,
        why: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            object: object.to_owned(),
            cause: name.to_owned(),
            value: Some(value.to_owned()),
            why: why.into(),
            fix: fix.into(),
            scope: Scope::default(),
            security: false,
        }
    }

    /// A note about one of nginx's own rules.
    pub fn rule(object: &str, rule: &str, why: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            object: object.to_owned(),
            cause: rule.to_owned(),
            value: None,
            why: why.into(),
            fix: fix.into(),
            scope: Scope::default(),
            security: false,
        }
    }

    /// Limits the note to a host and, when given, a path of it.
    #[must_use]
    pub fn on(mut self, host: &str, path: Option<&str>) -> Self {
        self.scope.host = Some(host.to_owned());
        self.scope.path = path.map(str::to_owned);
        self
    }

    /// Limits the note to one kind of request.
    #[must_use]
    pub fn affecting(mut self, affects: Affects) -> Self {
        self.scope.affects = affects;
        self
    }

    /// Marks the note as a security warning.
    #[must_use]
    pub fn security(mut self) -> Self {
        self.security = true;
        self
    }

    /// Whether this note can explain a difference on a request of kind `kind` to the location
    /// `path` of `host`; an exact kind match is preferred by callers.
    pub fn explains(&self, host: &str, path: &str, kind: Affects) -> bool {
        let host_ok = self.scope.host.as_deref().is_none_or(|h| h == host);
        let path_ok = self.scope.path.as_deref().is_none_or(|p| p == path);
        let kind_ok = self.scope.affects == Affects::Any || self.scope.affects == kind;
        host_ok && path_ok && kind_ok
    }

    /// The heading under which `--verify` groups differences.
    pub fn heading(&self) -> String {
        let mut line = format!("{}: {}", self.object, self.cause);
        if let Some(value) = &self.value {
            line.push_str(&format!(": {value:?}"));
        }
        line
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = if self.security {
            "security warning"
        } else {
            "not converted"
        };
        writeln!(f, "{severity}: {}: {}", self.heading(), self.why)?;
        write!(f, "  fix: {}", self.fix)
    }
}
