//! The `test` block runner behind `mailex test`, and the confinement of test inputs.
//!
//! A rule file names its test emails (`input "fixtures/lead.eml"`), and `mailex test` prints
//! what the rule extracts from them. The rule file may come from someone else, so it must not
//! be able to read, and have printed, any file the user can read (`input "/etc/passwd"`). Each
//! input is therefore resolved inside a *fixtures root* chosen by whoever runs the tests (the
//! rule file's own directory unless they say otherwise): absolute paths are refused, `..` may
//! not climb out of the root, and symbolic links are followed only when their target is inside
//! it ([`resolve_input`]). A file that does not look like an email is not run, so its content
//! never reaches a diff.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use mailex_grammar::{Code, Diagnostic, codes};

use super::RuleSet;
use super::compiler::CTest;
use crate::config::DEFAULT_MAX_INPUT_BYTES;
use crate::extractor::{Completeness, ExtractContext, Extractor};
use crate::message::Email;

/// Why a test input was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputRejection {
    /// `E110` (not found), `E118` (outside the root) or `E119` (not a regular file or not mail).
    pub(crate) code: Code,
    /// What is wrong; names the path as written, never the file's content.
    pub(crate) message: String,
}

impl InputRejection {
    fn new(code: Code, message: impl Into<String>) -> Self {
        InputRejection {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InputRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Resolves a test input written as `written` in a rule file whose directory is `base`, inside
/// the fixtures root `root` (already canonical). The result is the canonical path of a regular
/// file inside `root`.
///
/// The path is checked lexically first (an absolute path, or `..` out of the root, is refused
/// without touching the file system outside the root), then resolved with its symbolic links
/// and checked again.
pub(crate) fn resolve_input(
    root: &Path,
    base: &Path,
    written: &str,
) -> Result<PathBuf, InputRejection> {
    let outside = |why: &str| {
        InputRejection::new(
            codes::INPUT_OUTSIDE_ROOT,
            format!(
                "test input `{written}` {why} the fixtures root `{}`",
                root.display()
            ),
        )
    };
    let relative = Path::new(written);
    if relative.has_root() || relative.is_absolute() {
        return Err(outside(
            "is an absolute path; inputs must be relative paths inside",
        ));
    }
    let base = non_empty(base).canonicalize().map_err(|e| {
        InputRejection::new(
            codes::MISSING_FIXTURE,
            format!("cannot resolve the rule file's directory: {}", e.kind()),
        )
    })?;
    let mut lexical = base;
    for component in relative.components() {
        match component {
            Component::Normal(part) => lexical.push(part),
            Component::ParentDir => {
                if !lexical.pop() {
                    return Err(outside("climbs out of"));
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(outside(
                    "is an absolute path; inputs must be relative paths inside",
                ));
            }
        }
    }
    if !lexical.starts_with(root) {
        return Err(outside("leads outside"));
    }
    let real = lexical.canonicalize().map_err(|e| {
        InputRejection::new(
            codes::MISSING_FIXTURE,
            format!("test input `{written}` cannot be opened: {}", e.kind()),
        )
    })?;
    if !real.starts_with(root) {
        return Err(outside("is a symbolic link to a file outside"));
    }
    match std::fs::metadata(&real) {
        Ok(m) if m.is_file() => Ok(real),
        Ok(_) => Err(InputRejection::new(
            codes::INPUT_NOT_MAIL,
            format!("test input `{written}` is not a regular file"),
        )),
        Err(e) => Err(InputRejection::new(
            codes::MISSING_FIXTURE,
            format!("test input `{written}` cannot be opened: {}", e.kind()),
        )),
    }
}

/// The canonical form of a fixtures root, or why it is unusable.
pub(crate) fn canonical_root(root: &Path) -> Result<PathBuf, InputRejection> {
    non_empty(root).canonicalize().map_err(|e| {
        InputRejection::new(
            codes::INPUT_OUTSIDE_ROOT,
            format!(
                "the fixtures root `{}` cannot be resolved: {}",
                root.display(),
                e.kind()
            ),
        )
    })
}

/// `path`, or `.` for the empty path (the parent of a bare file name).
fn non_empty(path: &Path) -> &Path {
    if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    }
}

/// Diagnostics for test inputs that leave the fixtures root or are not regular files, for
/// `mailex check` (missing inputs are reported by the compiler as `E110`). Reads no file.
pub(crate) fn check_inputs(tests: &[CTest], base: &Path, root: &Path) -> Vec<Diagnostic> {
    let root = match canonical_root(root) {
        Ok(root) => root,
        Err(e) => {
            return tests
                .first()
                .map(|t| {
                    vec![Diagnostic::new(e.code, e.message).primary(t.input_span, "not checked")]
                })
                .unwrap_or_default();
        }
    };
    tests
        .iter()
        .filter_map(|t| match resolve_input(&root, base, &t.written) {
            Err(e) if e.code != codes::MISSING_FIXTURE => Some(
                Diagnostic::new(e.code, e.message)
                    .primary(t.input_span, "not allowed as a test input")
                    .help(format!(
                        "test inputs must be regular files inside the fixtures root `{}`; choose another root with `--fixtures-root DIR`",
                        root.display()
                    )),
            ),
            _ => None,
        })
        .collect()
}

/// Reads a resolved test input, refusing one larger than an email may be.
fn read_input(path: &Path, written: &str) -> Result<Vec<u8>, InputRejection> {
    let cannot = |e: std::io::Error| {
        InputRejection::new(
            codes::MISSING_FIXTURE,
            format!("test input `{written}` cannot be read: {}", e.kind()),
        )
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut raw = Vec::new();
    file.take(DEFAULT_MAX_INPUT_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(cannot)?;
    if raw.len() as u64 > DEFAULT_MAX_INPUT_BYTES {
        return Err(InputRejection::new(
            codes::INPUT_NOT_MAIL,
            format!("test input `{written}` is larger than {DEFAULT_MAX_INPUT_BYTES} bytes"),
        ));
    }
    if !looks_like_mail(&raw) {
        return Err(InputRejection::new(
            codes::INPUT_NOT_MAIL,
            format!(
                "test input `{written}` is not an email (it does not start with a header block holding a `From:` line); its content is not shown"
            ),
        ));
    }
    Ok(raw)
}

/// Whether `raw` starts with an RFC 5322 header block (`Name: value` lines, folded lines
/// starting with white space, up to the first empty line) that holds a `From` header. Files
/// that are not mail (`/etc/passwd`, `/proc/self/status`, keys, `.env` files) fail this, so
/// `mailex test` never shows what a rule extracts from them.
pub(crate) fn looks_like_mail(raw: &[u8]) -> bool {
    let mut has_from = false;
    for (i, line) in raw.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if i == 0 {
                return false;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
            return false;
        }
        has_from |= name.eq_ignore_ascii_case(b"from");
    }
    has_from
}

/// One field whose actual value differs from the expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    /// The field (or `profile` / `status`).
    pub field: String,
    /// The expected rendering (`None`: the field must be absent).
    pub expected: Option<String>,
    /// The actual rendering (`None`: absent).
    pub actual: Option<String>,
}

/// The outcome of one test block.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// The input file.
    pub input: std::path::PathBuf,
    /// Differences (empty when the test passed).
    pub diffs: Vec<FieldDiff>,
    /// Set when the input could not be read or parsed.
    pub error: Option<String>,
    /// Warnings and errors of the extraction (codes and messages; no field values).
    pub issues: Vec<String>,
}

impl TestOutcome {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        self.diffs.is_empty() && self.error.is_none()
    }
}

/// The outcomes of every test block of a rule file.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// The rule file.
    pub file: String,
    /// One outcome per test, in file order.
    pub outcomes: Vec<TestOutcome>,
}

impl TestReport {
    /// Number of failed tests.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed()).count()
    }

    /// A human-readable report: one line per test, and a per-field diff under each failure,
    /// values quoted (`"Jane Doe"`). Values are printed: this is a developer tool run on
    /// fixtures.
    pub fn render(&self) -> String {
        self.render_values_with(|value| format!("{value:?}"))
    }

    /// [`TestReport::render`], with each expected and actual value shown by `show` (`none` for
    /// an absent one): callers whose values are JSON already show them as they are.
    pub fn render_values_with(&self, show: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let show = |v: &Option<String>| v.as_deref().map_or_else(|| "none".to_owned(), &show);
        for o in &self.outcomes {
            let _ = writeln!(
                out,
                "test {} ... {}",
                o.name,
                if o.passed() { "ok" } else { "FAILED" }
            );
            if let Some(e) = &o.error {
                let _ = writeln!(out, "    error: {e}");
            }
            for d in &o.diffs {
                let _ = writeln!(out, "    field `{}`:", d.field);
                let _ = writeln!(out, "      - expected: {}", show(&d.expected));
                let _ = writeln!(out, "      + actual:   {}", show(&d.actual));
            }
            if !o.passed() {
                for i in &o.issues {
                    let _ = writeln!(out, "    note: {i}");
                }
            }
        }
        let failed = self.failed();
        let _ = writeln!(
            out,
            "\n{}: {} passed; {} failed ({})",
            if failed == 0 { "ok" } else { "FAILED" },
            self.outcomes.len() - failed,
            failed,
            self.file
        );
        out
    }
}

/// Runs every test of `set`, reading inputs only inside `root`.
pub(super) fn run(set: &RuleSet, root: &Path) -> TestReport {
    let root = canonical_root(root);
    let mut outcomes = Vec::new();
    let settings = Default::default();
    let ctx = ExtractContext {
        route: "test",
        settings: &settings,
    };
    for t in set.tests() {
        let mut outcome = TestOutcome {
            name: t.name.clone(),
            input: t.input.clone(),
            diffs: vec![],
            error: None,
            issues: vec![],
        };
        let raw = root
            .clone()
            .and_then(|root| resolve_input(&root, &set.base, &t.written))
            .and_then(|path| {
                outcome.input = path.clone();
                read_input(&path, &t.written)
            });
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                outcome.error = Some(e.to_string());
                outcomes.push(outcome);
                continue;
            }
        };
        let email = match Email::parse(&raw) {
            Ok(m) => m,
            Err(e) => {
                outcome.error = Some(format!("cannot parse test input `{}`: {e}", t.written));
                outcomes.push(outcome);
                continue;
            }
        };
        let x = set.extract(&email, &ctx);
        outcome.issues = x
            .errors
            .iter()
            .chain(&x.warnings)
            .map(|i| format!("{}: {}", i.code, i.message))
            .collect();
        for (field, expected) in &t.expects {
            let actual = match field.as_str() {
                "profile" if !x.fields.contains_key("profile") => x.profile.clone(),
                "status" if !x.fields.contains_key("status") => Some(
                    match x.completeness {
                        Completeness::Complete => "extracted",
                        Completeness::Partial => "partial",
                        Completeness::Failed => "failed",
                    }
                    .to_owned(),
                ),
                _ => x.fields.get(field).map(|v| v.to_display_string()),
            };
            if &actual != expected {
                outcome.diffs.push(FieldDiff {
                    field: field.clone(),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        outcomes.push(outcome);
    }
    TestReport {
        file: set.path.display().to_string(),
        outcomes,
    }
}
