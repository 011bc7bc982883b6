//! The `test` block runner behind `mailex test`.

use std::fmt::Write as _;

use super::RuleSet;
use crate::extractor::{Completeness, ExtractContext, Extractor};
use crate::message::Email;

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

    /// A human-readable report: one line per test, and a per-field diff under each failure.
    /// Values are printed: this is a developer tool run on fixtures.
    pub fn render(&self) -> String {
        let mut out = String::new();
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
                let show = |v: &Option<String>| {
                    v.as_ref()
                        .map(|s| format!("{s:?}"))
                        .unwrap_or_else(|| "none".to_owned())
                };
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

pub(super) fn run(set: &RuleSet) -> TestReport {
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
        let raw = match std::fs::read(&t.input) {
            Ok(r) => r,
            Err(e) => {
                outcome.error = Some(format!("cannot read {}: {e}", t.input.display()));
                outcomes.push(outcome);
                continue;
            }
        };
        let email = match Email::parse(&raw) {
            Ok(m) => m,
            Err(e) => {
                outcome.error = Some(format!("cannot parse {}: {e}", t.input.display()));
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
