//! `mailex extract --analytics DIR` (docs/analytics.md), checked with a real SQL engine: DuckDB
//! (PyPI, scripts/requirements-test.txt) reads the Parquet files and runs the example queries of
//! docs/analytics.md as written; their answers are checked against counts computed here from the
//! JSON records of the same run. The leak test runs the lead corpus and the record fixtures and
//! looks for every known personal value, in every spelling, in the files' bytes, their decoded
//! values and their names (the checks of `mailex_tests::analytics`, which the Lambda host's
//! test of its analytics copy uses too).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use common::root;
use mailex_tests::analytics::{assert_no_leaks, duckdb, needles};
use serde_json::{Value, json};

const KEY: &str = "analytics-test-key-1";

/// Runs `mailex extract --analytics out` with `key` over `inputs`; returns the printed records.
fn extract(config: &Path, inputs: &[PathBuf], out: &Path, key: Option<&str>) -> Vec<Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailex"));
    command
        .args(["extract", "--config"])
        .arg(config)
        .arg("--analytics")
        .arg(out)
        .args(inputs)
        .env_remove("MAILEX_PSEUDONYM_KEY")
        .env_remove("MAILEX_PSEUDONYM_KEY_ID");
    if let Some(key) = key {
        command.env("MAILEX_PSEUDONYM_KEY", key);
    }
    let output = command.output().expect("mailex runs");
    assert!(
        output.status.code() == Some(0),
        "mailex extract --analytics failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON record"))
        .collect()
}

/// The ```sql blocks of docs/analytics.md's "Example queries", by their `###` heading.
fn doc_queries() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(root().join("docs/analytics.md")).unwrap();
    let section = doc
        .split("\n## Example queries")
        .nth(1)
        .expect("docs/analytics.md has its example queries");
    section
        .split("\n### ")
        .skip(1)
        .map(|part| {
            let title = part.lines().next().unwrap_or_default().to_owned();
            let sql = part
                .split("```sql\n")
                .nth(1)
                .and_then(|rest| rest.split("\n```").next())
                .unwrap_or_else(|| panic!("`{title}` has no sql block"))
                .to_owned();
            (title, sql)
        })
        .collect()
}

/// The example inbox, and one mail of it a second time (another file: another record), so
/// there is a repeat lead to find.
fn example_inbox(dir: &Path) -> Vec<PathBuf> {
    let inbox = root().join("examples/inbox");
    let again = dir.join("lead-zillow-again.eml");
    std::fs::copy(inbox.join("lead-zillow.eml"), &again).unwrap();
    vec![inbox, again]
}

/// The UTC day a record is filed under: its `received_at`, else the run's day.
fn day(record: &Value, today: NaiveDate) -> NaiveDate {
    record["received_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(today, |t| t.with_timezone(&Utc).date_naive())
}

fn is_lead(record: &Value) -> bool {
    matches!(record["status"].as_str(), Some("extracted" | "partial"))
}

fn is_degraded(record: &Value) -> bool {
    record["warnings"]
        .as_array()
        .is_some_and(|w| w.iter().any(|i| i["code"] == "degraded"))
}

fn advertiser(record: &Value) -> String {
    record["advertiser"].as_str().unwrap_or("").to_owned()
}

#[test]
fn the_docs_queries_answer_on_the_example_inbox() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("analytics");
    let before = Utc::now();
    let records = extract(
        &root().join("examples/mailex.toml"),
        &example_inbox(work.path()),
        &out,
        Some(KEY),
    );
    let after = Utc::now();
    assert_eq!(records.len(), 11);
    let today = before.date_naive();
    assert_eq!(
        today,
        after.date_naive(),
        "the run crossed midnight; run it again"
    );

    let queries = doc_queries();
    let titles: Vec<&str> = queries.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Leads per advertiser per day",
            "Share of degraded or partial records per route and week",
            "Median time to record",
            "Repeat leads by pseudonym",
        ]
    );
    let mut sql: Vec<String> = queries.into_iter().map(|(_, q)| q).collect();
    sql.push(
        "SELECT count(*) AS rows, count(DISTINCT record_id) AS ids FROM mailex_analytics".into(),
    );
    let answers = duckdb(&out, &sql);

    // One row per record, each with its own id.
    assert_eq!(answers[4], [json!({"rows": 11, "ids": 11})]);

    // Leads per advertiser per day.
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for record in records.iter().filter(|r| is_lead(r)) {
        *want
            .entry((day(record, today).to_string(), advertiser(record)))
            .or_default() += 1;
    }
    let got: BTreeMap<(String, String), u64> = answers[0]
        .iter()
        .map(|row| {
            (
                (
                    row["dt"].as_str().unwrap().to_owned(),
                    row["advertiser"].as_str().unwrap_or("").to_owned(),
                ),
                row["leads"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(want.len() >= 5, "the example inbox has leads: {want:?}");
    assert_eq!(got, want);

    // Share of degraded or partial per route and ISO week.
    let mut want: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    for record in records.iter().filter(|r| is_lead(r)) {
        let d = day(record, today);
        let monday = d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()));
        let entry = want
            .entry((
                record["route"]
                    .as_str()
                    .expect("a lead has a route")
                    .to_owned(),
                monday.to_string(),
            ))
            .or_default();
        entry.0 += 1;
        entry.1 += u64::from(record["status"] == "partial");
        entry.2 += u64::from(is_degraded(record));
    }
    let got: BTreeMap<(String, String), (u64, u64, u64)> = answers[1]
        .iter()
        .map(|row| {
            let counts = (
                row["records"].as_u64().unwrap(),
                row["partial"].as_u64().unwrap(),
                row["degraded"].as_u64().unwrap(),
            );
            let week = row["week"].as_str().unwrap()[..10].to_owned();
            ((row["route"].as_str().unwrap().to_owned(), week), counts)
        })
        .collect();
    assert_eq!(got, want);
    for row in &answers[1] {
        let records = row["records"].as_f64().unwrap();
        let share = row["share"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share) && (share * records).fract().abs() < 1e-9);
    }

    // Median time to record, per advertiser: between the medians measured from the run's start
    // and from its end.
    let mut delays: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for record in &records {
        let (Some(received), Some(advertiser)) = (
            record["received_at"].as_str(),
            record["advertiser"].as_str(),
        ) else {
            continue;
        };
        let received = DateTime::parse_from_rfc3339(received).unwrap();
        delays.entry(advertiser.to_owned()).or_default().push((
            (before - received.with_timezone(&Utc)).num_seconds(),
            (after - received.with_timezone(&Utc)).num_seconds() + 1,
        ));
    }
    let median = |mut values: Vec<i64>| {
        values.sort_unstable();
        let n = values.len();
        if n % 2 == 1 {
            values[n / 2] as f64
        } else {
            (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0
        }
    };
    assert_eq!(answers[2].len(), delays.len());
    for row in &answers[2] {
        let advertiser = row["advertiser"].as_str().unwrap();
        let pairs = &delays[advertiser];
        assert_eq!(row["records"].as_u64().unwrap(), pairs.len() as u64);
        let low = median(pairs.iter().map(|p| p.0).collect()) - 1.0;
        let high = median(pairs.iter().map(|p| p.1).collect()) + 1.0;
        let got = row["median_seconds"].as_f64().unwrap();
        assert!(
            (low..=high).contains(&got),
            "{advertiser}: {got} not in {low}..{high}"
        );
    }

    // Repeat leads by pseudonym: the same addresses, counted from the records' own values.
    let mut by_email: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in &records {
        if let Some(email) = record["fields"]["email"].as_str() {
            by_email
                .entry(email.to_owned())
                .or_default()
                .push(advertiser(record));
        }
    }
    let mut want: Vec<(u64, u64)> = by_email
        .values()
        .filter(|ads| ads.len() > 1)
        .map(|ads| {
            let distinct: BTreeSet<&String> = ads.iter().collect();
            (ads.len() as u64, distinct.len() as u64)
        })
        .collect();
    want.sort_unstable();
    let mut got: Vec<(u64, u64)> = answers[3]
        .iter()
        .map(|row| {
            assert!(
                row["email_pseudonym"]
                    .as_str()
                    .unwrap()
                    .starts_with("hmac-sha256:")
            );
            (
                row["leads"].as_u64().unwrap(),
                row["advertisers"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort_unstable();
    assert!(!want.is_empty(), "the copied mail is a repeat lead");
    assert_eq!(got, want);
}

#[test]
fn the_same_key_gives_the_same_pseudonyms_another_key_others() {
    let work = tempfile::tempdir().unwrap();
    let config = root().join("examples/mailex.toml");
    let inputs = [root().join("examples/inbox")];
    let query = "SELECT record_id, pseudonym_key_id, email_pseudonym, phone_pseudonym, \
                 name_pseudonym, pseudonyms FROM mailex_analytics ORDER BY record_id"
        .to_owned();
    let mut runs = Vec::new();
    for (n, key) in [KEY, KEY, "another-key"].into_iter().enumerate() {
        let out = work.path().join(format!("run-{n}"));
        extract(&config, &inputs, &out, Some(key));
        runs.push(duckdb(&out, std::slice::from_ref(&query)).remove(0));
    }
    assert_eq!(runs[0].len(), 10);
    assert_eq!(runs[0], runs[1], "the same key, the same pseudonyms");
    let mut compared = 0;
    for (a, b) in runs[0].iter().zip(&runs[2]) {
        assert_eq!(a["record_id"], b["record_id"]);
        assert_ne!(a["pseudonym_key_id"], b["pseudonym_key_id"]);
        for column in ["email_pseudonym", "phone_pseudonym", "name_pseudonym"] {
            if let Some(p) = a[column].as_str() {
                assert_ne!(Some(p), b[column].as_str(), "{column}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 10, "the inbox has emails, phones and names");
    // The default key id: the first 8 hex digits of SHA-256 of the key.
    // python3 -c 'import hashlib; print(hashlib.sha256(b"analytics-test-key-1").hexdigest()[:8])'
    assert_eq!(runs[0][0]["pseudonym_key_id"], "2fb82793");
}

#[test]
fn the_key_comes_from_the_secrets_manager_secret_when_one_is_named() {
    let Some(endpoint) = mailex_tests::local_aws::endpoint() else {
        return;
    };
    let arn = common::create_secret(
        &endpoint,
        "analytics",
        &json!({ "MAILEX_PSEUDONYM_KEY": "key-from-the-secret", "MAILEX_PSEUDONYM_KEY_ID": "from-secret" }),
    );
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("analytics");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailex"));
    command
        .args(["extract", "--config"])
        .arg(root().join("examples/mailex.toml"))
        .arg("--analytics")
        .arg(&out)
        .arg(root().join("examples/inbox/lead-zillow.eml"))
        .env("MAILEX_PSEUDONYM_KEY", "key-from-the-environment")
        .env_remove("MAILEX_PSEUDONYM_KEY_ID");
    let output = common::with_local_secrets(&mut command, &endpoint, Some(&arn))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let record: Value = serde_json::from_slice(&output.stdout).expect("one record");
    let email = record["fields"]["email"]
        .as_str()
        .expect("the lead's email");
    let rows = duckdb(
        &out,
        &["SELECT pseudonym_key_id, email_pseudonym FROM mailex_analytics".to_owned()],
    );
    let value = mailex_core::FieldValue::Text(email.to_owned());
    let expected = mailex_core::pseudonym::pseudonym(b"key-from-the-secret", &value);
    assert_eq!(
        rows[0],
        [json!({"pseudonym_key_id": "from-secret", "email_pseudonym": expected})]
    );
    assert!(!stderr.contains("key-from-the-secret"), "{stderr}");
}

#[test]
fn without_a_key_nothing_is_written() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("analytics");
    let output = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["extract", "--config"])
        .arg(root().join("examples/mailex.toml"))
        .arg("--analytics")
        .arg(&out)
        .arg(root().join("examples/inbox"))
        .env_remove("MAILEX_PSEUDONYM_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MAILEX_PSEUDONYM_KEY"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "no record printed without the key"
    );
    assert!(!out.exists());
}

#[test]
fn no_personal_value_reaches_the_analytics_copy() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("analytics");
    let leads = root().join("tests/fixtures/leads");
    let records_dir = root().join("tests/fixtures/records");
    let mut records = extract(
        &root().join("examples/mailex.toml"),
        std::slice::from_ref(&leads),
        &out,
        Some(KEY),
    );
    records.extend(extract(
        &records_dir.join("mailex.toml"),
        std::slice::from_ref(&records_dir),
        &out,
        Some(KEY),
    ));
    // The corpus's expected values, the record fixtures' expected fields, and what the runs
    // extracted from every sensitive field.
    let needles = needles(&[&leads, &records_dir], &records, 60);

    // The files: names and bytes.
    let mut files = Vec::new();
    for day in std::fs::read_dir(&out).unwrap() {
        let day = day.unwrap().path();
        for file in std::fs::read_dir(&day).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    assert!(files.len() >= 2, "{files:?}");
    let mut haystacks: Vec<(String, String)> = Vec::new();
    for file in &files {
        let name = file
            .strip_prefix(&out)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        haystacks.push((format!("name of {name}"), name.clone()));
        let bytes = std::fs::read(file).unwrap();
        haystacks.push((
            format!("bytes of {name}"),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    // Every decoded value (maps and lists included) and the files' key-value metadata.
    let decoded = duckdb(
        &out,
        &[
            "SELECT * FROM mailex_analytics".to_owned(),
            format!(
                "SELECT * FROM parquet_kv_metadata('{}/*/*.parquet')",
                out.display()
            ),
        ],
    );
    assert_eq!(decoded[0].len(), records.len(), "one row per record");
    // Map keys are field names; the values, pseudonyms, codes and metadata are the strings.
    assert_no_leaks(
        haystacks,
        &serde_json::to_value(&decoded).unwrap(),
        &needles,
        &records,
        50,
    );
}

#[test]
fn the_docs_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&root().join("examples"), &dir.path().join("examples"));
    let doc = std::fs::read_to_string(root().join("docs/analytics.md")).unwrap();
    let commands = common::sh_commands(&doc, "Writing it");
    assert_eq!(commands.len(), 2, "{commands:?}");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mailex")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &commands.join("\n")])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("MAILEX_PSEUDONYM_KEY")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = std::fs::read_to_string(dir.path().join("records.jsonl")).unwrap();
    let rows = duckdb(
        &dir.path().join("analytics"),
        &["SELECT count(*) AS rows FROM mailex_analytics".to_owned()],
    );
    assert_eq!(
        rows[0],
        [json!({"rows": records.lines().count()})],
        "one row per printed record"
    );
}
