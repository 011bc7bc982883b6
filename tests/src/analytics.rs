//! Checks of the analytics copy (docs/analytics.md) shared by the CLI's tests and the Lambda
//! host's: DuckDB (PyPI, `scripts/requirements-test.txt`) over a folder of `dt=*/*.parquet`
//! files, and the leak check, which looks for every known personal value, in every spelling,
//! in what was written.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};

/// Runs `queries` in DuckDB over the Parquet files below `dir` (`dir/dt=*/*.parquet`, as the
/// view `mailex_analytics` of docs/analytics.md, with its `approx_percentile` macro); returns
/// each query's rows as JSON objects. Panics (a test failure) when DuckDB fails.
pub fn duckdb(dir: &Path, queries: &[String]) -> Vec<Vec<Value>> {
    let spec = json!({
        "setup": [
            format!(
                "CREATE VIEW mailex_analytics AS SELECT * FROM read_parquet('{}/*/*.parquet', \
                 hive_partitioning = true, hive_types = {{'dt': 'VARCHAR'}})",
                dir.display()
            ),
            "CREATE MACRO approx_percentile(x, p) AS quantile_cont(x, p)",
        ],
        "queries": queries,
    });
    let script = r#"
import duckdb, json, sys
spec = json.load(sys.stdin)
con = duckdb.connect()
for statement in spec["setup"]:
    con.execute(statement)
answers = []
for query in spec["queries"]:
    cursor = con.execute(query)
    columns = [d[0] for d in cursor.description]
    answers.append([dict(zip(columns, row)) for row in cursor.fetchall()])
print(json.dumps(answers, default=str))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(spec.to_string().as_bytes())
            .expect("the query spec reaches python3");
    }
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(
        output.status.success(),
        "DuckDB (pip install -r scripts/requirements-test.txt): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON answers")
}

/// Every spelling of a personal value the leak check looks for: as written, lower and upper
/// case, digits only and in E.164 (for a phone-like value), and base64 (standard and URL-safe,
/// of the value and of its lower-case form). Spellings under 6 characters are dropped: they
/// would match compressed bytes by chance.
pub fn spellings(value: &str) -> Vec<String> {
    let mut out = vec![value.to_owned(), value.to_lowercase(), value.to_uppercase()];
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 7 && digits.len() * 2 >= value.chars().count() {
        out.push(digits.clone());
        out.push(format!("+{digits}"));
        if digits.len() == 10 {
            out.push(format!("+1{digits}"));
        }
    }
    for text in [value.to_owned(), value.to_lowercase()] {
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            // Without padding: the encoding of the value itself, wherever it starts.
            out.push(engine.encode(&text).trim_end_matches('=').to_owned());
        }
    }
    out.retain(|s| s.chars().count() >= 6);
    out.sort();
    out.dedup();
    out
}

/// Adds the personal values of a record's or an expected file's `fields` to `into`: the fields
/// listed in `sensitive`, and every field called like personal data (`name`, `first_name`,
/// `last_name`, `email`, `phone`, `message`, `comments`), with a person name's full form.
pub fn personal_values(fields: &Value, sensitive: &[&str], into: &mut BTreeSet<String>) {
    let Some(fields) = fields.as_object() else {
        return;
    };
    for (name, value) in fields {
        let named = [
            "name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "message",
            "comments",
        ]
        .contains(&name.as_str());
        if !(named || sensitive.contains(&name.as_str())) {
            continue;
        }
        collect_strings(value, true, into);
    }
}

/// The personal values of JSON records (as printed or stored): [`personal_values`] of each
/// one's `fields` with its `sensitive` list.
pub fn personal_values_of_records(records: &[Value], into: &mut BTreeSet<String>) {
    for record in records {
        let sensitive: Vec<&str> = record["sensitive"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        personal_values(&record["fields"], &sensitive, into);
    }
}

/// Every string in `value`, map keys aside; of a person name (an object with `full`) only its
/// full form when `whole_names`: its parts are single words, which can be any word (the
/// fixtures have a first name `Contact`, also part of a rule file's profile name).
pub fn collect_strings(value: &Value, whole_names: bool, into: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            into.insert(s.clone());
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_strings(v, whole_names, into)),
        Value::Object(map) if whole_names && map.contains_key("full") => {
            collect_strings(&map["full"], whole_names, into)
        }
        Value::Object(map) => map
            .values()
            .for_each(|v| collect_strings(v, whole_names, into)),
        _ => {}
    }
}

/// The places (`(what, text)`) where a spelling of a known value (`needles`, from
/// [`spellings`]) appears, in any case. Each finding names the place and the length of what
/// was found, never the value.
pub fn leaks(haystacks: &[(String, String)], needles: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    for (place, haystack) in haystacks {
        let lower = haystack.to_lowercase();
        for needle in needles {
            if haystack.contains(needle.as_str()) || lower.contains(&needle.to_lowercase()) {
                found.push(format!(
                    "{place}: a known value of {} characters",
                    needle.len()
                ));
            }
        }
    }
    found
}

/// The needles of the leak check: every [`spellings`] of the personal values (at least 4
/// characters) of the `*.expected.json` files in `expected_dirs` (the values a fixture is known
/// to hold) and of `records` (what was extracted from their sensitive fields). Panics (a test
/// failure) when fewer than `at_least` values are known: a check with too few would prove
/// nothing.
pub fn needles(expected_dirs: &[&Path], records: &[Value], at_least: usize) -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    for dir in expected_dirs {
        for entry in std::fs::read_dir(dir).expect("a fixture folder") {
            let path = entry.expect("a fixture").path();
            if path.to_string_lossy().ends_with(".expected.json") {
                let text = std::fs::read_to_string(&path).expect("an expected file");
                let expected: Value = serde_json::from_str(&text).expect("expected JSON");
                personal_values(&expected, &[], &mut known);
                personal_values(&expected["fields"], &[], &mut known);
            }
        }
    }
    personal_values_of_records(records, &mut known);
    known.retain(|v| v.chars().count() >= 4);
    assert!(
        known.len() >= at_least,
        "too few known values: {}",
        known.len()
    );
    known.iter().flat_map(|v| spellings(v)).collect()
}

/// The leak check: no needle in any of `haystacks` (named texts: file names and bytes, logs),
/// nor in any string of `decoded` (what a SQL engine read back, map keys aside); and, so the
/// check can fail, at least `at_least` needles are found in `records` themselves. Findings
/// name the place and the length, never the value.
pub fn assert_no_leaks(
    mut haystacks: Vec<(String, String)>,
    decoded: &Value,
    needles: &BTreeSet<String>,
    records: &[Value],
    at_least: usize,
) {
    let mut strings = BTreeSet::new();
    collect_strings(decoded, false, &mut strings);
    let strings: Vec<String> = strings.into_iter().collect();
    haystacks.push(("decoded values".to_owned(), strings.join("\u{0}")));
    let found = leaks(&haystacks, needles);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let printed = serde_json::to_string(records).unwrap_or_default();
    let matching = needles
        .iter()
        .filter(|n| printed.contains(n.as_str()))
        .count();
    assert!(
        matching >= at_least,
        "the needles match the records: {matching}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_found_in_its_spellings_and_never_shown() {
        let needles: BTreeSet<String> = spellings("+1 (415) 555-0134").into_iter().collect();
        assert!(needles.contains("14155550134") && needles.contains("+14155550134"));
        let haystacks = vec![
            ("clean".to_owned(), "hmac-sha256:00ff".to_owned()),
            ("digits".to_owned(), "x 14155550134 y".to_owned()),
        ];
        let found = leaks(&haystacks, &needles);
        assert!(!found.is_empty());
        assert!(found.iter().all(|f| f.starts_with("digits:")), "{found:?}");
        assert!(found.iter().all(|f| !f.contains("555")), "{found:?}");
    }
}
