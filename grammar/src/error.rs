//! The error type of [`crate::RuleFile`]'s `FromStr`.

use crate::diagnostic::Diagnostic;

/// A rule file that did not parse: every error diagnostic found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("rule file has {} syntax error(s); first: {}", .diagnostics.len(), .diagnostics.first().map(|d| d.message.as_str()).unwrap_or("?"))]
pub struct ParseError {
    /// The error diagnostics (never empty).
    pub diagnostics: Vec<Diagnostic>,
}
