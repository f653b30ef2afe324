//! Problems found in a configuration, written like compiler diagnostics.
//!
//! Every problem names the object (`HTTPRoute app/api-route`), the field path inside it
//! (`spec.rules[1].matches[0].path.value`), what is wrong, and where it helps, what to do.
//! Problems never stop the rest of the configuration from serving: the compiler drops only the
//! part they concern and says so (reference §8.5).

use std::fmt;

/// How much of the configuration a problem costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something was dropped: a rule, a route, a listener, an object.
    Error,
    /// Everything still serves, but the input deserves a look (unknown fields, ignored values).
    Warning,
}

/// One diagnostic about the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// `Kind namespace/name`, or `configuration` for top-level fields.
    pub object: String,
    /// Field path inside the object, e.g. `spec.rules[0].backendRefs[1].port`.
    pub field: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// One concrete fix, when there is one.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem that drops part of the configuration.
    pub fn error(
        object: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, object.into(), field.into(), message.into())
    }

    /// A problem that drops nothing.
    pub fn warning(
        object: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            Severity::Warning,
            object.into(),
            field.into(),
            message.into(),
        )
    }

    fn new(severity: Severity, object: String, field: String, message: String) -> Self {
        Self {
            severity,
            object,
            field,
            message,
            hint: None,
        }
    }

    /// Adds a fix hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.object)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::Problem;

    #[test]
    fn display_reads_like_a_compiler_diagnostic() {
        let p = Problem::error(
            "HTTPRoute shop/checkout",
            "spec.rules[1].matches[0].path.value",
            "must start with \"/\"",
        );
        assert_eq!(
            p.to_string(),
            "HTTPRoute shop/checkout: spec.rules[1].matches[0].path.value: must start with \"/\""
        );
        let p = Problem::warning("configuration", "", "no resources")
            .with_hint("add a Gateway and routes");
        assert_eq!(
            p.to_string(),
            "configuration: no resources; add a Gateway and routes"
        );
    }
}
