//! Rule files: the mailex extraction language, compiled once and run per email.
//!
//! A rule file (`*.rules`) describes the layouts of one sender's lead emails. It is parsed by
//! `mailex-grammar`, checked and compiled here ([`RuleSet::compile`], [`load_rule_file`]), and
//! runs as an [`Extractor`]. `mailex check` uses [`check_rule_file`]; `mailex test` uses
//! [`RuleSet::run_tests`]. The language reference is `docs/dsl.md`.
//!
//! ```
//! use mailex_core::rules::RuleSet;
//! use mailex_core::{Email, ExtractContext, Extractor};
//!
//! let rules = RuleSet::compile("inline.rules", r#"
//! version 1
//! profile "portal" {
//!   match { from.address ends_with "@portal.example" }
//!   field name: person_name required = text.after("Name:").line
//!   field email: email required = text.after("Email:").line ?? reply_to.address
//! }
//! "#, std::path::Path::new(".")).unwrap();
//!
//! let raw = b"From: leads@portal.example\r\nReply-To: jane@example.com\r\n\r\nName: Jane Doe\r\n";
//! let email = Email::parse(raw).unwrap();
//! let settings = Default::default();
//! let out = rules.extract(&email, &ExtractContext { route: "portal", settings: &settings });
//! assert_eq!(out.fields["name"].to_display_string(), "Jane Doe");
//! assert_eq!(out.provenance["email"], "2/2: reply_to.address");
//! assert_eq!(out.warnings[0].code, "degraded");
//! ```

mod compiler;
mod eval;
mod explain;
pub mod functions;
pub mod limits;
mod runner;
mod types;
mod value;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use mailex_grammar::{Diagnostic, SourceFile, render_all};
use sha2::{Digest, Sha256};

pub use self::explain::{AlternativeTrace, Explanation, FieldTrace, Outcome, ProfileTrace};
pub use self::functions::{Function, all as all_functions};
pub use self::runner::{FieldDiff, TestOutcome, TestReport};
pub use self::types::{FieldType, TYPE_NAMES};
pub use self::value::{MAX_FIELD_LEN, MAX_LIST_LEN, MAX_TEXT_LEN, Ty};
pub use mailex_grammar::{Code, Severity, codes};

use crate::config::RuleLimits;
use crate::extractor::{ExtractContext, Extraction, Extractor};
use crate::message::Email;
use crate::record::{ExtractorInfo, ExtractorKind};

/// A compiled rule file, ready to run on any number of emails (it is `Send + Sync`).
pub struct RuleSet {
    info: ExtractorInfo,
    program: compiler::Program,
    /// Profile indices by priority (highest first), then file order.
    order: Vec<usize>,
    path: PathBuf,
    /// The directory test inputs are relative to.
    base: PathBuf,
    warnings: Vec<Diagnostic>,
    source: SourceFile,
    limits: RuleLimits,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Why a rule file could not be loaded: an I/O error, or its diagnostics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleFileError {
    /// The file could not be read.
    #[error("cannot read rule file `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file has errors; `rendered` holds every diagnostic, rustc-style. The one-line
    /// message names only codes and positions (`E102 at 12:5`), never source text, so it can be
    /// logged where rule files may hold personal data (e.g. `expect` values).
    #[error("rule file `{}` has {count} error(s): {located}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Number of errors.
        count: usize,
        /// The errors' codes and `line:column` positions, e.g. `E102 at 12:5, E110 at 31:9`.
        located: String,
        /// Every diagnostic (errors and warnings).
        diagnostics: Vec<Diagnostic>,
        /// The diagnostics rendered against the source.
        rendered: String,
    },
}

impl RuleFileError {
    /// The rendered diagnostics (or the I/O error message).
    pub fn rendered(&self) -> String {
        match self {
            RuleFileError::Invalid { rendered, .. } => rendered.clone(),
            other => other.to_string(),
        }
    }
}

/// What compiling a rule file does with its `test` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBlocks {
    /// Compile them and resolve their inputs, relative to the rule file's directory: a missing
    /// fixture is an error (E110). For authoring: `mailex check`, `mailex test`.
    Check,
    /// Skip them. Extraction never runs tests, so loading a config for extraction (the engine,
    /// the Lambda host) does not need the fixtures, which a deployed copy does not carry.
    Skip,
}

/// Parses and checks `text`, returning the program (if any) and every diagnostic. With
/// `tests = Some(base)` the `test` blocks are compiled and their inputs resolved against `base`.
fn build(text: &str, tests: Option<&Path>) -> (compiler::Program, Vec<Diagnostic>) {
    let parsed = mailex_grammar::parse(text);
    if parsed.was_rejected() {
        let empty = compiler::Program {
            profiles: Vec::new(),
            tests: Vec::new(),
        };
        return (empty, parsed.diagnostics);
    }
    let mut diags = parsed.diagnostics;
    let program = compiler::compile(&parsed.file, text, tests, &mut diags);
    diags.sort_by_key(|d| d.primary_span().map(|s| s.start).unwrap_or(0));
    (program, diags)
}

impl RuleSet {
    /// Compiles rule-file source text. `name` is used in diagnostics and as the extractor name;
    /// test inputs resolve against `base`.
    pub fn compile(name: &str, text: &str, base: &Path) -> Result<RuleSet, RuleFileError> {
        Self::compile_with(name, text, Some(base))
    }

    fn compile_with(
        name: &str,
        text: &str,
        tests: Option<&Path>,
    ) -> Result<RuleSet, RuleFileError> {
        let (program, diags) = build(text, tests);
        let source = SourceFile::new(name, text);
        let count = diags.iter().filter(|d| d.is_error()).count();
        if count > 0 {
            let rendered = render_all(&diags, &source);
            let located = diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| match d.primary_span() {
                    Some(span) => format!("{} at {}", d.code, source.position(span.start)),
                    None => d.code.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(RuleFileError::Invalid {
                path: PathBuf::from(name),
                count,
                located,
                diagnostics: diags,
                rendered,
            });
        }
        let mut order: Vec<usize> = (0..program.profiles.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(program.profiles[i].priority));
        let hash = hex::encode(Sha256::digest(text.as_bytes()));
        Ok(RuleSet {
            info: ExtractorInfo {
                kind: ExtractorKind::Rules,
                name: name.to_owned(),
                version: None,
                hash: Some(hash),
                profile: None,
            },
            program,
            order,
            path: PathBuf::from(name),
            base: tests.unwrap_or(Path::new(".")).to_path_buf(),
            warnings: diags,
            source,
            limits: RuleLimits::default(),
        })
    }

    /// The same rule set under another extractor name. The engine names a rule file by the
    /// route's `extractor` value (relative to `mailex.toml`), so a record does not depend on
    /// where the config was unpacked.
    pub(crate) fn named(mut self, name: &str) -> Self {
        name.clone_into(&mut self.info.name);
        self
    }

    /// The same rule set, run under `limits` (each email gets a fresh budget of this size).
    pub fn with_limits(mut self, limits: RuleLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits each run is held to.
    pub fn limits(&self) -> RuleLimits {
        self.limits
    }

    /// Warnings found while compiling (the file compiled).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The warnings rendered rustc-style (empty when there are none).
    pub fn rendered_warnings(&self) -> String {
        if self.warnings.is_empty() {
            String::new()
        } else {
            render_all(&self.warnings, &self.source)
        }
    }

    /// Names of the profiles, in file order.
    pub fn profile_names(&self) -> Vec<&str> {
        self.program
            .profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect()
    }

    /// Runs every `test` block, reading inputs only inside the rule file's own directory
    /// tree; see [`RuleSet::run_tests_in`].
    pub fn run_tests(&self) -> TestReport {
        runner::run(self, &self.base)
    }

    /// Runs every `test` block, reading inputs only inside `fixtures_root`; see [`TestReport`].
    ///
    /// The root is chosen by whoever runs the tests, never by the rule file: an input that is
    /// absolute, climbs out of the root with `..` or is a symbolic link out of it fails with
    /// `E118`, and one that is not an email fails with `E119` without being shown.
    pub fn run_tests_in(&self, fixtures_root: &Path) -> TestReport {
        runner::run(self, fixtures_root)
    }

    pub(crate) fn tests(&self) -> &[compiler::CTest] {
        &self.program.tests
    }
}

impl Extractor for RuleSet {
    fn info(&self) -> &ExtractorInfo {
        &self.info
    }

    fn extract(&self, email: &Email<'_>, _ctx: &ExtractContext<'_>) -> Extraction {
        eval::extract(&self.program, &self.order, email, self.limits.budget())
    }

    fn extract_explained(
        &self,
        email: &Email<'_>,
        _ctx: &ExtractContext<'_>,
    ) -> (Extraction, Option<Explanation>) {
        let mut trace = Explanation::default();
        let out = eval::extract_traced(
            &self.program,
            &self.order,
            email,
            self.limits.budget(),
            Some(&mut trace),
        );
        (out, Some(trace))
    }
}

/// Why a rule file's text could not be had.
enum ReadFailure {
    /// It could not be opened or read, or is not a regular file.
    Io(std::io::Error),
    /// It is too large (`E007`) or not UTF-8 (`E008`): one diagnostic, rendered.
    Rejected(Box<(Diagnostic, String)>),
}

/// Reads a rule file for parsing: a regular file of at most [`limits::MAX_FILE_BYTES`] bytes of
/// UTF-8. At most one byte more than the limit is read, so a huge file (or `/dev/zero`) costs
/// nothing, and a FIFO is refused instead of waited on.
fn read_rule_source(path: &Path) -> Result<String, ReadFailure> {
    use std::io::Read as _;
    // Opening a FIFO for reading would block until a writer comes: look before opening, and
    // check the opened file again.
    let is_file = |m: std::fs::Metadata| m.is_file();
    if !std::fs::metadata(path)
        .map(is_file)
        .map_err(ReadFailure::Io)?
    {
        return Err(ReadFailure::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let file = std::fs::File::open(path).map_err(ReadFailure::Io)?;
    let meta = file.metadata().map_err(ReadFailure::Io)?;
    if !meta.is_file() {
        return Err(ReadFailure::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let mut bytes = Vec::new();
    file.take(limits::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadFailure::Io)?;
    let name = path.display().to_string();
    match mailex_grammar::limits::decode(&bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(d) => {
            let d = if d.code == codes::FILE_TOO_LARGE {
                limits::file_too_large(meta.len().max(bytes.len() as u64))
            } else {
                d
            };
            let lossy = String::from_utf8_lossy(&bytes);
            let rendered = render_all(std::slice::from_ref(&d), &SourceFile::new(name, lossy));
            Err(ReadFailure::Rejected(Box::new((d, rendered))))
        }
    }
}

/// Loads and compiles a rule file with its `test` blocks ([`TestBlocks::Check`]). Test inputs
/// resolve against the file's directory.
///
/// On failure the error carries every diagnostic, already rendered.
pub fn load_rule_file(path: &Path) -> Result<RuleSet, RuleFileError> {
    load_rule_file_with(path, TestBlocks::Check)
}

/// Loads and compiles a rule file, with or without its `test` blocks.
pub fn load_rule_file_with(path: &Path, tests: TestBlocks) -> Result<RuleSet, RuleFileError> {
    let text = read_rule_source(path).map_err(|failure| match failure {
        ReadFailure::Io(source) => RuleFileError::Io {
            path: path.to_owned(),
            source,
        },
        ReadFailure::Rejected(rejected) => {
            let (d, rendered) = *rejected;
            RuleFileError::Invalid {
                path: path.to_owned(),
                count: 1,
                located: d.code.to_string(),
                diagnostics: vec![d],
                rendered,
            }
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let tests = match tests {
        TestBlocks::Check => Some(base),
        TestBlocks::Skip => None,
    };
    let mut set =
        RuleSet::compile_with(&path.display().to_string(), &text, tests).map_err(|e| match e {
            RuleFileError::Invalid {
                count,
                located,
                diagnostics,
                rendered,
                ..
            } => RuleFileError::Invalid {
                path: path.to_owned(),
                count,
                located,
                diagnostics,
                rendered,
            },
            other => other,
        })?;
    set.path = path.to_owned();
    Ok(set)
}

/// The result of checking one rule file for `mailex check`.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// Every diagnostic (errors and warnings), in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// The diagnostics rendered rustc-style, with a summary line (empty when clean).
    pub rendered: String,
    /// The text that was checked (`None` when the file could not be read).
    source: Option<SourceFile>,
}

impl CheckResult {
    /// The 1-based line and column of a diagnostic's primary span in the checked file; `None`
    /// when the file could not be read or the diagnostic points nowhere in it.
    pub fn line_column(&self, diagnostic: &Diagnostic) -> Option<(usize, usize)> {
        let (source, span) = (self.source.as_ref()?, diagnostic.primary_span()?);
        let position = source.position(span.start);
        Some((position.line, position.column))
    }

    /// Whether any diagnostic is an error (exit 1).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks a rule file without building an extractor: every diagnostic, rendered.
/// An unreadable file yields one rendered line and `has_errors() == true`. Test inputs must lie
/// inside the rule file's own directory tree; see [`check_rule_file_in`].
pub fn check_rule_file(path: &Path) -> CheckResult {
    check_rule_file_in(path, path.parent().unwrap_or(Path::new(".")))
}

/// [`check_rule_file`], with test inputs confined to `fixtures_root` (chosen by whoever runs
/// the check): inputs outside it are reported as `E118`, inputs that are not regular files as
/// `E119`. No test input is read.
pub fn check_rule_file_in(path: &Path, fixtures_root: &Path) -> CheckResult {
    let text = match read_rule_source(path) {
        Ok(t) => t,
        Err(ReadFailure::Io(e)) => {
            let d = Diagnostic::new(
                codes::MISSING_FIXTURE,
                format!("cannot read rule file: {e}"),
            );
            let rendered = format!("error: cannot read rule file `{}`: {e}\n", path.display());
            return CheckResult {
                diagnostics: vec![d],
                rendered,
                source: None,
            };
        }
        Err(ReadFailure::Rejected(rejected)) => {
            let (d, rendered) = *rejected;
            return CheckResult {
                diagnostics: vec![d],
                rendered,
                source: None,
            };
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let name = path.display().to_string();
    let (program, mut diagnostics) = build(&text, Some(base));
    diagnostics.extend(runner::check_inputs(&program.tests, base, fixtures_root));
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| s.start).unwrap_or(0));
    let source = SourceFile::new(name, text);
    let rendered = if diagnostics.is_empty() {
        String::new()
    } else {
        render_all(&diagnostics, &source)
    };
    CheckResult {
        diagnostics,
        rendered,
        source: Some(source),
    }
}
