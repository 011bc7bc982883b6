//! Mail tests: an extractor run over real mails, each compared with the record expected of it.
//! `mailex test` runs them for a route's `tests = "DIR"` and for `mailex test --plugin
//! PLUGIN.wasm DIR`.
//!
//! Every `NAME.eml` of a test directory (not its subdirectories) is paired with
//! `NAME.expected.json` beside it:
//!
//! ```json
//! { "status": "extracted", "fields": { "phone": "+12025550143", "name": { "full": "Jane Example", "first": "Jane", "last": "Example" } } }
//! ```
//!
//! `fields` lists every field the extractor returns, each with the value the record carries
//! (as `mailex extract` prints it): a missing, an extra and a different field are each a
//! difference. `status` (optional) is `extracted`, `partial` or `failed`. Other keys are
//! ignored, so a record printed by `mailex extract --pretty` is a valid expected file. The
//! extractor runs with the route's settings, without routing or authentication: the test is of
//! the extractor, not of the sender config (`mailex route` explains routing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mailex_core::rules::{FieldDiff, TestOutcome, TestReport};
use mailex_core::{Email, ExtractContext, Extractor, FieldValue, Settings};
use serde_json::Value;

use crate::inputs::{Contents, InputSource};

/// Suffix of an expected file: `NAME.eml` is checked against `NAME.expected.json`.
pub const EXPECTED_SUFFIX: &str = ".expected.json";

/// Largest expected file read, in bytes.
const MAX_EXPECTED_BYTES: u64 = 4 * 1024 * 1024;

/// What a mail test runs: an extractor with a route's name and settings.
pub struct MailTests<'a> {
    /// The extractor under test.
    pub extractor: &'a dyn Extractor,
    /// The route name handed to the extractor.
    pub route: &'a str,
    /// The route's settings (a plugin's `Config`).
    pub settings: &'a BTreeMap<String, String>,
    /// `--filter`: run only the mails whose path contains it (all of them when the report's
    /// label does).
    pub filter: Option<&'a str>,
    /// `--bless`: write the actual values into the expected file of each mail that differs.
    pub bless: bool,
}

impl MailTests<'_> {
    /// Runs every mail of `inputs` (test directories, or single `.eml` files); `label` names
    /// the report.
    pub fn run(&self, inputs: &[PathBuf], label: String) -> TestReport {
        let mut outcomes = Vec::new();
        for input in inputs {
            match mails_of(input) {
                Ok(mails) if mails.is_empty() => outcomes.push(failed_outcome(
                    input,
                    format!("no *.eml in {}", input.display()),
                )),
                Ok(mails) => outcomes.extend(
                    mails
                        .iter()
                        .filter(|mail| self.selected(&label, mail))
                        .map(|mail| self.run_one(mail)),
                ),
                Err(e) => outcomes.push(failed_outcome(input, e)),
            }
        }
        TestReport {
            file: label,
            outcomes,
        }
    }

    /// Whether `--filter` selects `mail` of the report `label`.
    fn selected(&self, label: &str, mail: &Path) -> bool {
        self.filter
            .is_none_or(|f| label.contains(f) || mail.to_string_lossy().contains(f))
    }

    fn run_one(&self, mail: &Path) -> TestOutcome {
        let expected_path = expected_path(mail);
        let expected = match read_expected(&expected_path) {
            Ok(expected) => expected,
            // Blessing creates the expected file of a new mail.
            Err(_) if self.bless && !expected_path.exists() => Expected {
                status: None,
                fields: serde_json::Map::new(),
            },
            Err(e) => return failed_outcome(mail, e),
        };
        let limit = Settings::default().max_input_bytes;
        let raw = match InputSource::File(mail.to_owned()).read(limit) {
            Ok(Contents::TooLarge(_)) => {
                return failed_outcome(
                    mail,
                    format!("{} is larger than {limit} bytes", mail.display()),
                );
            }
            Ok(Contents::Bytes(raw)) => raw,
            Err(e) => return failed_outcome(mail, format!("cannot read {}: {e}", mail.display())),
        };
        let email = match Email::parse(&raw) {
            Ok(email) => email,
            Err(e) => return failed_outcome(mail, format!("cannot parse {}: {e}", mail.display())),
        };
        let extraction = self.extractor.extract(
            &email,
            &ExtractContext {
                route: self.route,
                settings: self.settings,
            },
        );
        let mut diffs = Vec::new();
        if let Some(status) = &expected.status {
            let actual = super::bless::status_name(extraction.completeness);
            if status != actual {
                diffs.push(FieldDiff {
                    field: "status".to_owned(),
                    expected: Some(show(&Value::from(status.as_str()))),
                    actual: Some(show(&Value::from(actual))),
                });
            }
        }
        diffs.extend(field_diffs(&expected.fields, &extraction.fields));
        let mut error = None;
        if self.bless && !diffs.is_empty() {
            match super::bless::bless_expected(
                &expected_path,
                &extraction.fields,
                extraction.completeness,
            ) {
                Ok(()) => {
                    println!("blessed {}", expected_path.display());
                    diffs.clear();
                }
                Err(e) => error = Some(e),
            }
        }
        TestOutcome {
            name: test_name(mail),
            input: mail.to_owned(),
            diffs,
            error,
            issues: extraction
                .errors
                .iter()
                .chain(&extraction.warnings)
                .map(|i| format!("{}: {}", i.code, i.message))
                .collect(),
        }
    }
}

/// The expected part of a record.
struct Expected {
    status: Option<String>,
    fields: serde_json::Map<String, Value>,
}

/// `DIR/NAME.eml` → `DIR/NAME.expected.json`.
pub fn expected_path(mail: &Path) -> PathBuf {
    let stem = mail
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    mail.with_file_name(format!("{stem}{EXPECTED_SUFFIX}"))
}

fn test_name(mail: &Path) -> String {
    mail.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| mail.display().to_string())
}

fn failed_outcome(input: &Path, error: String) -> TestOutcome {
    TestOutcome {
        name: test_name(input),
        input: input.to_owned(),
        diffs: Vec::new(),
        error: Some(error),
        issues: Vec::new(),
    }
}

/// The mails of a test input: the `*.eml` files of a directory (sorted), or the file itself.
fn mails_of(input: &Path) -> Result<Vec<PathBuf>, String> {
    if input.is_file() {
        return Ok(vec![input.to_owned()]);
    }
    let entries = std::fs::read_dir(input)
        .map_err(|e| format!("cannot read the test directory {}: {e}", input.display()))?;
    let mut mails: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|x| x == "eml"))
        .collect();
    mails.sort();
    Ok(mails)
}

fn read_expected(path: &Path) -> Result<Expected, String> {
    let name = path.display();
    let bytes = InputSource::File(path.to_owned())
        .read(MAX_EXPECTED_BYTES)
        .map_err(|e| {
            format!(
                "cannot read {name}: {e} (write beside each mail the record expected of it, \
                 e.g. `{{\"fields\": {{...}}}}` or what `mailex extract --pretty` prints)"
            )
        })?;
    let Contents::Bytes(bytes) = bytes else {
        return Err(format!("{name} is larger than {MAX_EXPECTED_BYTES} bytes"));
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err(format!("{name}: expected a JSON object"));
    };
    let status = match object.remove("status") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(format!("{name}: `status` must be a string")),
    };
    let fields = match object.remove("fields") {
        Some(Value::Object(fields)) => fields,
        Some(_) => return Err(format!("{name}: `fields` must be an object")),
        None => return Err(format!("{name}: no `fields` object")),
    };
    Ok(Expected { status, fields })
}

/// Per-field differences between the expected fields and the extracted ones, in field order.
fn field_diffs(
    expected: &serde_json::Map<String, Value>,
    actual: &BTreeMap<String, FieldValue>,
) -> Vec<FieldDiff> {
    let actual: BTreeMap<&str, Value> = actual
        .iter()
        .map(|(name, value)| {
            (
                name.as_str(),
                serde_json::to_value(value).unwrap_or(Value::Null),
            )
        })
        .collect();
    let mut names: Vec<&str> = expected.keys().map(String::as_str).collect();
    names.extend(
        actual
            .keys()
            .copied()
            .filter(|n| !expected.contains_key(*n)),
    );
    names.sort_unstable();
    names
        .into_iter()
        .filter_map(|name| {
            let want = expected.get(name);
            let got = actual.get(name);
            (want != got).then(|| FieldDiff {
                field: name.to_owned(),
                expected: want.map(show),
                actual: got.map(show),
            })
        })
        .collect()
}

/// A value as the diff shows it: compact JSON, so `"2"` and `2` differ visibly.
fn show(value: &Value) -> String {
    value.to_string()
}

/// The report of mail tests: one line per mail, and under a failure each differing field with
/// its expected and actual value as JSON (`none`: absent), then the extraction's issues; the
/// layout of the rule files' test report. Values are printed: this is a developer tool run on
/// fixtures.
pub fn render(report: &TestReport) -> String {
    report.render_values_with(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_per_field_and_typed() {
        let expected: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"phone": "+12025550143", "count": 2, "gone": "x", "name": {"full": "A B"}}"#,
        )
        .unwrap();
        let mut actual = BTreeMap::new();
        actual.insert("phone".to_owned(), FieldValue::Text("+12025550143".into()));
        actual.insert("count".to_owned(), FieldValue::Text("2".into()));
        actual.insert("extra".to_owned(), FieldValue::Bool(true));
        let diffs = field_diffs(&expected, &actual);
        let names: Vec<&str> = diffs.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(names, ["count", "extra", "gone", "name"]);
        assert_eq!(diffs[0].expected.as_deref(), Some("2"));
        assert_eq!(
            diffs[0].actual.as_deref(),
            Some("\"2\""),
            "a text is not a number"
        );
        assert_eq!(diffs[1].expected, None);
        assert_eq!(diffs[2].actual, None);
        assert_eq!(diffs[3].expected.as_deref(), Some(r#"{"full":"A B"}"#));
    }

    #[test]
    fn expected_files_sit_beside_their_mail() {
        assert_eq!(
            expected_path(Path::new("t/lead one.eml")),
            Path::new("t/lead one.expected.json")
        );
    }
}
