//! `mailex.toml`: settings, trusted authentication sources and routes.
//!
//! ```toml
//! [settings]
//! max_input_bytes = 41943040          # the SES S3 maximum (40 MB), the default
//!
//! [auth]
//! trusted_authserv_ids = ["amazonses.com"]
//! trusted_receivers = ["amazonaws.com"]
//!
//! [[route]]
//! name = "acme-motors"                # the advertiser; appears in every record
//! sender = "*@leads.acme.example"     # exact address, *@domain or *@*.domain
//! # sender_regex = '^leads-\d+@acme\.example$'
//! subject_contains = "New lead"       # optional conditions
//! priority = 10                       # higher wins (default 0)
//! require_auth = "dmarc"              # dmarc (default), dkim, spf, none
//! extractor = "builtin:adf"           # builtin:adf, builtin:lead-meta, *.rules, *.wasm
//! # tests = "tests/acme-motors"       # *.eml + *.expected.json, run by `mailex test` only
//! ```
//!
//! Loading collects every problem with its `file:line:col`, not only the first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::auth::{AuthPolicy, AuthSettings};
use crate::error::{ConfigError, ConfigProblem};

/// Default cap on the raw input: 40 MB, the largest email SES stores to S3.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 40 * 1024 * 1024;

/// Global settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Inputs larger than this are not parsed; they yield a `failed` record.
    #[serde(default = "default_max_input_bytes")]
    pub max_input_bytes: u64,
}

fn default_max_input_bytes() -> u64 {
    DEFAULT_MAX_INPUT_BYTES
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// Limits for a plugin call, per route (`[route.limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLimits {
    /// Wall-clock deadline for one call, in milliseconds (default 100).
    #[serde(default = "default_deadline_ms")]
    pub deadline_ms: u64,
    /// Linear memory cap in MiB (default 64).
    #[serde(default = "default_memory_mib")]
    pub memory_mib: u64,
    /// Cap on the serialised output of one call, in bytes (default 1 MiB).
    #[serde(default = "default_max_output_bytes")]
    pub max_output_bytes: u64,
    /// Cap on log lines per call (default 100); further lines are dropped and counted.
    #[serde(default = "default_max_log_lines")]
    pub max_log_lines: u32,
}

fn default_deadline_ms() -> u64 {
    100
}
fn default_memory_mib() -> u64 {
    64
}
fn default_max_output_bytes() -> u64 {
    1024 * 1024
}
fn default_max_log_lines() -> u32 {
    100
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            deadline_ms: default_deadline_ms(),
            memory_mib: default_memory_mib(),
            max_output_bytes: default_max_output_bytes(),
            max_log_lines: default_max_log_lines(),
        }
    }
}

/// A route as written in the file, with source spans for error reporting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub name: Spanned<String>,
    #[serde(default)]
    pub sender: Option<Spanned<String>>,
    #[serde(default)]
    pub sender_regex: Option<Spanned<String>>,
    #[serde(default)]
    pub subject_contains: Option<Spanned<String>>,
    #[serde(default)]
    pub subject_regex: Option<Spanned<String>>,
    #[serde(default)]
    pub header_present: Option<Spanned<String>>,
    #[serde(default)]
    pub header_matches: Option<RawHeaderMatch>,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub require_auth: Option<Spanned<String>>,
    pub extractor: Spanned<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: Option<PluginLimits>,
    #[serde(default)]
    pub tests: Option<Spanned<String>>,
}

/// `header_matches = { name = "X-Source", regex = "^portal$" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeaderMatch {
    pub name: Spanned<String>,
    pub regex: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default, rename = "route")]
    pub routes: Vec<RawRoute>,
}

/// A source text and its name, for turning byte offsets into `file:line:col`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path (or name) to report.
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// A problem located at a byte span of this file.
    pub fn problem(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> ConfigProblem {
        let (line, column) = self.line_col(span.start);
        ConfigProblem {
            file: self.path.clone(),
            line,
            column,
            message: message.into(),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Parses the TOML text of a config file into its raw form.
pub(crate) fn parse_raw(source: &SourceFile) -> Result<RawConfig, ConfigError> {
    toml::from_str::<RawConfig>(&source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ConfigError::new(vec![source.problem(span, e.message().to_owned())])
    })
}

/// Reads a policy name.
pub(crate) fn parse_policy(value: &str) -> Option<AuthPolicy> {
    match value {
        "dmarc" => Some(AuthPolicy::Dmarc),
        "dkim" => Some(AuthPolicy::Dkim),
        "spf" => Some(AuthPolicy::Spf),
        "none" => Some(AuthPolicy::None),
        _ => None,
    }
}

/// The directory relative paths in a config file are resolved against.
pub(crate) fn base_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_of_offsets() {
        let file = SourceFile {
            path: "m.toml".into(),
            text: "a = 1\nbé = 2\n".into(),
        };
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(6), (2, 1));
        assert_eq!(file.line_col(9), (2, 3));
    }

    #[test]
    fn toml_syntax_errors_carry_a_position() {
        let file = SourceFile {
            path: "m.toml".into(),
            text: "[[route]]\nname = \n".into(),
        };
        let err = parse_raw(&file).unwrap_err();
        let rendered = err.to_string();
        assert!(rendered.starts_with("m.toml:2:"), "{rendered}");
    }
}
