//! `mailex test --bless`: writes the values an extractor actually produced into the tests, and
//! leaves every other byte of the file as it was.
//!
//! - A rule file's `test` block: each expectation that differs is rewritten in place
//!   (`name = "Jane Doe"`, `phone = none`), and every field the rule extracted that the block
//!   does not list yet is added after its last expectation, one per line, with the same
//!   indentation. Comments, order and layout of everything else are kept.
//! - A mail test's `NAME.expected.json`: the values of its top-level `fields` (and `status`,
//!   if the file has one) are replaced; other keys and the file's layout outside those values
//!   are kept. A missing file is created.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use mailex_core::rules::RuleSet;
use mailex_core::{
    Completeness, Email, ExtractContext, Extraction, Extractor, FieldValue, Settings,
};
use serde_json::Value;

use crate::inputs::{Contents, InputSource};

/// One replacement in a file's text.
struct Edit {
    range: Range<usize>,
    text: String,
}

/// Applies non-overlapping edits to `text`.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    let mut out = text.to_owned();
    for edit in edits {
        out.replace_range(edit.range, &edit.text);
    }
    out
}

/// Writes `text` to `path` through a temporary file beside it, so a failure never leaves half
/// a file.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.bless-tmp"));
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write {}: {}", path.display(), e.kind())
        })
}

/// A value as a rule-file string literal: `"..."` with the escapes the language knows.
pub fn rule_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The values one rule-file test produced: every field as displayed, the profile, the status.
fn actual_values(rules: &RuleSet, input: &Path) -> Result<BTreeMap<String, String>, String> {
    let limit = Settings::default().max_input_bytes;
    let raw = match InputSource::File(input.to_owned()).read(limit) {
        Ok(Contents::Bytes(raw)) => raw,
        Ok(Contents::TooLarge(_)) => return Err(format!("{} is too large", input.display())),
        Err(e) => return Err(format!("cannot read {}: {e}", input.display())),
    };
    let email = Email::parse(&raw).map_err(|e| format!("{}: {e}", input.display()))?;
    let extraction = run_rules(rules, &email);
    let mut values: BTreeMap<String, String> = extraction
        .fields
        .iter()
        .map(|(name, value)| (name.clone(), value.to_display_string()))
        .collect();
    if let Some(profile) = extraction.profile {
        values.entry("profile".to_owned()).or_insert(profile);
    }
    values
        .entry("status".to_owned())
        .or_insert_with(|| status_name(extraction.completeness).to_owned());
    Ok(values)
}

/// Runs a rule set on one email as `mailex test` does: route `test`, no settings.
pub fn run_rules(rules: &RuleSet, email: &Email<'_>) -> Extraction {
    rules.extract(
        email,
        &ExtractContext {
            route: "test",
            settings: &BTreeMap::new(),
        },
    )
}

/// The status a completeness shows as in tests and records.
pub fn status_name(completeness: Completeness) -> &'static str {
    match completeness {
        Completeness::Complete => "extracted",
        Completeness::Partial => "partial",
        Completeness::Failed => "failed",
    }
}

/// Blesses the tests of the rule file `path` whose names are in `tests` (the tests that failed,
/// after `--filter`): rewrites their `expect` blocks with the actual values. `inputs` maps a
/// test name to its resolved input. Returns how many values were written.
pub fn bless_rule_file(
    path: &Path,
    rules: &RuleSet,
    tests: &[(String, std::path::PathBuf)],
) -> Result<usize, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {}", path.display(), e.kind()))?;
    let parsed = mailex_grammar::parse(&text);
    let mut edits = Vec::new();
    for (name, input) in tests {
        let Some(test) = parsed.file.tests.iter().find(|t| &t.name.node == name) else {
            continue;
        };
        let actual = actual_values(rules, input)?;
        for expectation in &test.expects {
            let field = expectation.field.node.as_str();
            let want = expectation.value.as_ref().map(|v| v.node.as_str());
            let got = actual.get(field).map(String::as_str);
            if want != got {
                let literal = got.map_or_else(|| "none".to_owned(), rule_literal);
                edits.push(Edit {
                    range: expectation.span.start..expectation.span.end,
                    text: format!("{field} = {literal}"),
                });
            }
        }
        let Some(last) = test.expects.last() else {
            continue;
        };
        let line_start = text[..last.span.start].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..last.span.start]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let mut added = String::new();
        for (field, value) in &actual {
            if field == "profile" || field == "status" {
                continue;
            }
            if test.expects.iter().all(|e| &e.field.node != field) {
                let _ = write!(added, "\n{indent}{field} = {}", rule_literal(value));
            }
        }
        if !added.is_empty() {
            edits.push(Edit {
                range: last.span.end..last.span.end,
                text: added,
            });
        }
    }
    let count = edits.len();
    if count > 0 {
        write_atomically(path, &apply(&text, edits))?;
    }
    Ok(count)
}

/// Writes an extraction into the expected file of a mail test: replaces the values of the
/// top-level `fields` and `status` (when present) and keeps the rest of the file; creates the
/// file when it does not exist.
pub fn bless_expected(
    path: &Path,
    fields: &BTreeMap<String, FieldValue>,
    completeness: Completeness,
) -> Result<(), String> {
    let fields: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
        .collect();
    let status = Value::from(status_name(completeness));
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut created = serde_json::Map::new();
            created.insert("status".to_owned(), status);
            created.insert("fields".to_owned(), Value::Object(fields));
            let text =
                serde_json::to_string_pretty(&Value::Object(created)).map_err(|e| e.to_string())?;
            return write_atomically(path, &format!("{text}\n"));
        }
        Err(e) => return Err(format!("cannot read {}: {}", path.display(), e.kind())),
    };
    let Some(members) = top_level_members(&text) else {
        return Err(format!(
            "{} is not a JSON object; not blessed",
            path.display()
        ));
    };
    let mut edits = Vec::new();
    for (key, range) in members {
        let value = match key.as_str() {
            "fields" => Value::Object(fields.clone()),
            "status" => status.clone(),
            _ => continue,
        };
        let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..range.start]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let pretty = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        edits.push(Edit {
            range,
            text: pretty.replace('\n', &format!("\n{indent}")),
        });
    }
    write_atomically(path, &apply(&text, edits))
}

/// The top-level members of a JSON object text: each key with the byte range of its value.
/// `None` when the text is not one well-formed object.
fn top_level_members(text: &str) -> Option<Vec<(String, Range<usize>)>> {
    serde_json::from_str::<serde_json::Map<String, Value>>(text).ok()?;
    let bytes = text.as_bytes();
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut members = Vec::new();
    loop {
        i = skip_space(bytes, i);
        match bytes.get(i)? {
            b'}' => return Some(members),
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_value(bytes, i)?;
        let key: String = serde_json::from_str(&text[i..key_end]).ok()?;
        i = skip_space(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_space(bytes, i + 1);
        let end = skip_value(bytes, start)?;
        members.push((key, start..end));
        i = end;
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The end of the JSON value starting at `i` (the text is known to be valid JSON).
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => {
            let mut j = i + 1;
            loop {
                match bytes.get(j)? {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = skip_value(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while bytes
                .get(j)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_what_the_language_escapes() {
        assert_eq!(rule_literal("a \"b\"\n\\c"), r#""a \"b\"\n\\c""#);
    }

    #[test]
    fn only_the_values_of_fields_and_status_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.expected.json");
        let original = "{\n  \"note\": \"kept {\\\"x\\\"}\",\n  \"status\": \"partial\",\n  \"fields\": {\"a\": [1, {\"b\": 2}]},\n  \"z\": 3\n}\n";
        std::fs::write(&path, original).unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("phone".to_owned(), FieldValue::Text("+12025550143".into()));
        bless_expected(&path, &fields, Completeness::Complete).unwrap();
        let blessed = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            blessed,
            "{\n  \"note\": \"kept {\\\"x\\\"}\",\n  \"status\": \"extracted\",\n  \"fields\": {\n    \"phone\": \"+12025550143\"\n  },\n  \"z\": 3\n}\n"
        );
    }
}
