//! `mailex.toml`: settings, trusted authentication sources and routes.
//!
//! ```toml
//! [settings]
//! max_input_bytes = 41943040          # the SES S3 maximum (40 MB), the default
//! max_mime_parts = 1000               # MIME parts and nested messages, at every level
//! max_headers = 10000                 # header fields, in every part
//! max_header_bytes = 1048576          # bytes of all header fields together (1 MiB)
//! max_addresses = 1000                # addresses in From/To/Cc/Reply-To/... together
//!
//! [auth]
//! trusted_authserv_ids = ["amazonses.com"]
//! trusted_receivers = ["amazonaws.com"]
//!
//! [[route]]
//! name = "acme-motors"                # the route's name, unique; the advertiser by default
//! # advertiser = "acme"               # the advertiser id records carry (default: the name)
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

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::auth::{AuthPolicy, AuthSettings};
use crate::error::{ConfigError, ConfigProblem};
use crate::message::MessageLimits;

/// Default cap on the raw input: 40 MB, the largest email SES stores to S3.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 40 * 1024 * 1024;

/// Largest `mailex.toml` accepted, in bytes; a larger file is rejected before parsing.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;
/// Routes in one configuration.
pub const MAX_ROUTES: usize = 4096;
/// Distinct regular expressions (`sender_regex`, `subject_regex`, `header_matches.regex`) in
/// one configuration.
pub const MAX_CONFIG_REGEXES: usize = 1024;
/// Estimated compiled size of all regular expressions of one configuration together, in bytes.
pub const MAX_CONFIG_REGEX_BYTES: usize = 64 * 1024 * 1024;

/// Global settings.
///
/// Every cap yields a `failed` record with its own code when an email exceeds it
/// (docs/security.md lists them all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Inputs larger than this are not parsed; they yield a `failed` record (`too_large`).
    #[serde(default = "default_max_input_bytes")]
    pub max_input_bytes: u64,
    /// Most MIME parts (containers, leaves, nested messages, at every level) an email may have
    /// (`too_many_parts`).
    #[serde(default = "default_max_mime_parts")]
    pub max_mime_parts: usize,
    /// Most header fields an email may have, counting every part and nested message
    /// (`too_many_headers`).
    #[serde(default = "default_max_headers")]
    pub max_headers: usize,
    /// Most bytes all header fields of an email may take together (`headers_too_large`).
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Most addresses the address headers (`From`, `To`, `Cc`, `Reply-To`, ...) of an email may
    /// hold together (`too_many_addresses`).
    #[serde(default = "default_max_addresses")]
    pub max_addresses: usize,
}

fn default_max_input_bytes() -> u64 {
    DEFAULT_MAX_INPUT_BYTES
}
fn default_max_mime_parts() -> usize {
    crate::message::limits::DEFAULT_MAX_MIME_PARTS
}
fn default_max_headers() -> usize {
    crate::message::limits::DEFAULT_MAX_HEADERS
}
fn default_max_header_bytes() -> usize {
    crate::message::limits::DEFAULT_MAX_HEADER_BYTES
}
fn default_max_addresses() -> usize {
    crate::message::limits::DEFAULT_MAX_ADDRESSES
}

impl Default for Settings {
    fn default() -> Self {
        let limits = MessageLimits::default();
        Settings {
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_mime_parts: limits.max_mime_parts,
            max_headers: limits.max_headers,
            max_header_bytes: limits.max_header_bytes,
            max_addresses: limits.max_addresses,
        }
    }
}

impl Settings {
    /// The structural caps an email is checked against before it is parsed.
    pub fn message_limits(&self) -> MessageLimits {
        MessageLimits {
            max_mime_parts: self.max_mime_parts,
            max_headers: self.max_headers,
            max_header_bytes: self.max_header_bytes,
            max_addresses: self.max_addresses,
        }
    }

    /// The names of the caps set to 0, which would refuse every email.
    pub(crate) fn zero_caps(&self) -> Vec<&'static str> {
        [
            ("max_input_bytes", self.max_input_bytes == 0),
            ("max_mime_parts", self.max_mime_parts == 0),
            ("max_headers", self.max_headers == 0),
            ("max_header_bytes", self.max_header_bytes == 0),
            ("max_addresses", self.max_addresses == 0),
        ]
        .into_iter()
        .filter_map(|(name, zero)| zero.then_some(name))
        .collect()
    }
}

/// Limits for a plugin call, per route (`[route.limits]` of a `*.wasm` route).
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

/// Settings of `mailex test` and `mailex check` (`[test]`); extraction ignores them.
///
/// ```toml
/// [test]
/// fixtures_root = ".."   # test inputs of rule files may lie anywhere below the parent directory
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSettings {
    /// The directory the `input` files of rule-file tests must lie in, relative to the config
    /// file. Default: the config file's directory. `--fixtures-root` overrides it.
    #[serde(default)]
    pub fixtures_root: Option<PathBuf>,
}

/// Limits for a rule file's run on one email, per route (`[route.limits]` of a `*.rules` route).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleLimits {
    /// Wall-clock deadline for one email, in milliseconds (default 1000).
    pub deadline_ms: u64,
    /// Memory the run may charge (the HTML document, the ADF document, the values its
    /// expressions build), in MiB (default 64).
    pub memory_mib: u64,
}

/// Default deadline of a rule-file route, in milliseconds.
pub const DEFAULT_RULES_DEADLINE_MS: u64 = 1000;

impl Default for RuleLimits {
    fn default() -> Self {
        RuleLimits {
            deadline_ms: DEFAULT_RULES_DEADLINE_MS,
            memory_mib: default_memory_mib(),
        }
    }
}

impl RuleLimits {
    /// A fresh budget for one email under these limits.
    pub fn budget(&self) -> crate::budget::Budget {
        crate::budget::Budget::new(
            std::time::Duration::from_millis(self.deadline_ms.max(1)),
            self.memory_mib.max(1).saturating_mul(1024 * 1024),
        )
    }
}

/// `[route.limits]` as written: every key is optional; what is left out takes the default of
/// the route's kind of extractor ([`PluginLimits`] for plugins, [`RuleLimits`] for rule files).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteLimits {
    /// Wall-clock deadline for one email, in milliseconds.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB.
    #[serde(default)]
    pub memory_mib: Option<u64>,
    /// Cap on a plugin's output, in bytes (plugins only).
    #[serde(default)]
    pub max_output_bytes: Option<u64>,
    /// Cap on a plugin's log lines per email (plugins only).
    #[serde(default)]
    pub max_log_lines: Option<u32>,
}

impl RouteLimits {
    /// The limits of a plugin route.
    pub fn for_plugin(&self) -> PluginLimits {
        let default = PluginLimits::default();
        PluginLimits {
            deadline_ms: self.deadline_ms.unwrap_or(default.deadline_ms),
            memory_mib: self.memory_mib.unwrap_or(default.memory_mib),
            max_output_bytes: self.max_output_bytes.unwrap_or(default.max_output_bytes),
            max_log_lines: self.max_log_lines.unwrap_or(default.max_log_lines),
        }
    }

    /// The limits of a rule-file route.
    pub fn for_rules(&self) -> RuleLimits {
        let default = RuleLimits::default();
        RuleLimits {
            deadline_ms: self.deadline_ms.unwrap_or(default.deadline_ms),
            memory_mib: self.memory_mib.unwrap_or(default.memory_mib),
        }
    }

    /// The keys given that only plugins take.
    pub fn plugin_only_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.max_output_bytes.is_some() {
            keys.push("max_output_bytes");
        }
        if self.max_log_lines.is_some() {
            keys.push("max_log_lines");
        }
        keys
    }
}

/// A route as written in the file, with source spans for error reporting.
///
/// One `[[route]]` table: which mails it takes (a sender pattern and optional conditions), how
/// they must be authenticated, and the extractor that reads them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    /// The route's name, unique in the file; `mailex route` and errors name routes by it, and
    /// it is the advertiser id of its records unless `advertiser` is given.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The advertiser id written into the `advertiser` key of this route's records (default:
    /// the route's name). Several routes may feed one advertiser.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub advertiser: Option<Spanned<String>>,
    /// The From address this route takes: one address (`leads@portal.example`), a domain
    /// (`*@portal.example`) or a domain and its subdomains (`*@*.portal.example`); compared
    /// ignoring case. Give `sender` or `sender_regex`, not both.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sender: Option<Spanned<String>>,
    /// A regular expression (Rust `regex` syntax) searched in the lower-cased From address;
    /// anchor it (`^...$`) to match the whole address.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub sender_regex: Option<Spanned<String>>,
    /// Condition: the decoded Subject contains this text, ignoring case.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub subject_contains: Option<Spanned<String>>,
    /// Condition: the decoded Subject matches this regular expression.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub subject_regex: Option<Spanned<String>>,
    /// Condition: a header field with this name is present (anywhere in the header, including
    /// copies the sender wrote).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub header_present: Option<Spanned<String>>,
    /// Condition: some copy of a header field matches a regular expression (any copy, including
    /// ones the sender wrote: a condition selects a layout, it does not authenticate).
    #[serde(default)]
    pub header_matches: Option<RawHeaderMatch>,
    /// Higher wins when several routes match (default 0).
    #[serde(default)]
    pub priority: i64,
    /// The authentication the mail must pass before the extractor runs: `dmarc` (default),
    /// `dkim`, `spf` or `none` (docs/security.md).
    #[serde(default)]
    #[schemars(with = "Option<AuthPolicyName>")]
    pub require_auth: Option<Spanned<String>>,
    /// The extractor: `builtin:adf`, `builtin:lead-meta`, a rule file (`*.rules`) or a plugin
    /// (`*.wasm`), paths relative to the config file.
    #[schemars(with = "String")]
    pub extractor: Spanned<String>,
    /// Settings handed to the extractor (strings); what a built-in or plugin reads is in its
    /// documentation.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Time and memory limits of the extractor on one mail; defaults depend on its kind.
    #[serde(default)]
    #[schemars(with = "Option<RouteLimits>")]
    pub limits: Option<Spanned<RouteLimits>>,
    /// A directory of `NAME.eml` files each with a `NAME.expected.json`, run by
    /// `mailex test --config` (never read to load or extract).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tests: Option<Spanned<String>>,
}

/// The values of `require_auth`, for the config's JSON Schema.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[allow(dead_code)]
enum AuthPolicyName {
    /// A DMARC pass for the From domain, or, with no DMARC verdict for it, a DKIM pass aligned
    /// with it.
    Dmarc,
    /// A DKIM pass aligned with the From domain.
    Dkim,
    /// An SPF pass for an envelope sender aligned with the From domain.
    Spf,
    /// No authentication (trusted internal sources and tests only).
    None,
}

/// `header_matches = { name = "X-Source", regex = "^portal$" }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeaderMatch {
    /// The header field's name, ignoring case.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// A regular expression searched in each copy's decoded value.
    #[schemars(with = "String")]
    pub regex: Spanned<String>,
}

/// `mailex.toml`: global settings, the trusted authentication sources, test settings and the
/// routes (docs/config.md).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mailex.toml")]
pub(crate) struct RawConfig {
    /// Caps every mail is checked against before it is parsed.
    #[serde(default)]
    pub settings: Settings,
    /// Which receiving servers and authserv-ids are trusted (docs/security.md).
    #[serde(default)]
    pub auth: AuthSettings,
    /// Settings of `mailex test` and `mailex check`.
    #[serde(default)]
    pub test: TestSettings,
    /// The routes, tried by rank (priority, then how specific the sender pattern is).
    #[serde(default, rename = "route")]
    pub routes: Vec<RawRoute>,
    /// Where stored records are delivered (docs/delivery.md).
    #[serde(default, rename = "sink")]
    pub sinks: Vec<crate::sink::RawSink>,
}

/// The JSON Schema (2020-12) of `mailex.toml`, generated from the types the loader reads
/// (committed as `docs/config.schema.json`; editors such as Taplo validate with it).
pub fn config_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawConfig)).unwrap_or(serde_json::Value::Null)
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

/// Reads a config file: a regular file of at most [`MAX_CONFIG_BYTES`] bytes of UTF-8. At most
/// one byte more than the limit is read, and a FIFO is refused instead of waited on.
pub(crate) fn read_config_text(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read as _;
    let fail = |why: String| ConfigError::whole_file(path, why);
    // Opening a FIFO for reading would block until a writer comes: look before opening, and
    // check the opened file again.
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(fail(
                "cannot read the config file: not a regular file".to_owned(),
            ));
        }
        Err(e) => return Err(fail(format!("cannot read the config file: {e}"))),
    }
    let file =
        std::fs::File::open(path).map_err(|e| fail(format!("cannot read the config file: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot read the config file: {e}")))?;
    if !meta.is_file() {
        return Err(fail(
            "cannot read the config file: not a regular file".to_owned(),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read the config file: {e}")))?;
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(fail(format!(
            "the config file is {} bytes, over the limit of {MAX_CONFIG_BYTES} bytes",
            meta.len().max(bytes.len() as u64)
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "cannot read the config file: not UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
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
