//! The analytics copy written by the real `bootstrap` (docs/analytics.md), against the local
//! Lambda Runtime API and the local S3 and Secrets Manager (moto): a batch of real lead mails
//! (`tests/fixtures/leads/`) becomes one Parquet object per day partition under
//! `MAILEX_ANALYTICS_PREFIX`, read back with DuckDB; one row per record, the pseudonym key and
//! its id from the Secrets Manager secret (not the environment's), no personal value in the
//! objects' bytes, keys or decoded values, delivery latency per sink; a retried batch overwrites
//! its file; a failed analytics write fails the batch's messages, visibly, and the retry writes
//! the rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mailex_core::FieldValue;
use mailex_tests::analytics::{assert_no_leaks, duckdb, needles};
use mailex_tests::receiver::Receiver;
use serde_json::{Value, json};

use super::common::*;
use super::delivery::secrets_manager;
use crate::s3_or_skip;

const SECRET_KEY: &str = "analytics-key-from-secrets-manager";
const SECRET_KEY_ID: &str = "sm-2026-q4";
const ENV_KEY: &str = "analytics-key-from-the-environment";
const WEBHOOK_SECRET: &str = "whsec-analytics-test";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// The real lead mails of the repository, by file name.
fn lead_mails() -> Vec<(String, Vec<u8>)> {
    let dir = workspace_root().join("tests/fixtures/leads");
    let mut mails: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/leads")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("lead mail"))
        })
        .collect();
    mails.sort();
    mails
}

/// The example config (its rule files by absolute path) plus a webhook sink to `url` whose
/// secret is `CRM_SECRET`.
fn config_with_sink(dir: &Path, url: &str) -> PathBuf {
    let examples = workspace_root().join("examples");
    let toml = std::fs::read_to_string(examples.join("mailex.toml"))
        .unwrap()
        .replace(
            "extractor = \"rules/",
            &format!("extractor = \"{}/rules/", examples.display()),
        )
        .replace("fixtures_root = \"..\"", "");
    let toml = format!(
        "{toml}\n[[sink]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"CRM_SECRET\"\n"
    );
    config_dir(dir, &toml, &[])
}

/// A secret in the local Secrets Manager holding the webhook's secret and the pseudonym key
/// with its id; returns its ARN.
async fn stored_secret(endpoint: &str) -> String {
    secrets_manager(endpoint)
        .await
        .create_secret()
        .name(unique_bucket("mailex-secrets"))
        .secret_string(
            json!({
                "CRM_SECRET": WEBHOOK_SECRET,
                "MAILEX_PSEUDONYM_KEY": SECRET_KEY,
                "MAILEX_PSEUDONYM_KEY_ID": SECRET_KEY_ID,
            })
            .to_string(),
        )
        .send()
        .await
        .expect("secret")
        .arn()
        .expect("an ARN")
        .to_owned()
}

/// Downloads every object under `prefix` into `dir`, at its key below the prefix; returns the
/// keys and the objects' bytes.
async fn download(
    s: &mailex_lambda::S3Store,
    bucket: &str,
    prefix: &str,
    dir: &Path,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut listed = keys(s, bucket, prefix).await;
    listed.sort();
    for key in listed {
        let bytes = s
            .get_capped(bucket, &key, 64 << 20)
            .await
            .expect("analytics object")
            .bytes;
        let path = dir.join(key.strip_prefix(prefix).unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        out.push((key, bytes));
    }
    out
}

/// The buckets of one test: the store, an inbound bucket holding `mails` under `inbound/`, and
/// an empty output bucket; returns the store, the output bucket and one S3 event per mail.
async fn buckets_with(
    endpoint: &str,
    mails: &[(String, Vec<u8>)],
) -> (mailex_lambda::S3Store, String, Vec<Value>) {
    let s = store(endpoint).await;
    let (inbound_bucket, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    let events = inbound(&s, &inbound_bucket, mails).await;
    (s, output, events)
}

/// Puts `mails` under `inbound/` in `bucket`; returns one S3 event per mail.
async fn inbound(
    s: &mailex_lambda::S3Store,
    bucket: &str,
    mails: &[(String, Vec<u8>)],
) -> Vec<Value> {
    let mut events = Vec::new();
    for (name, raw) in mails {
        put(s, bucket, &format!("inbound/{name}"), raw.clone()).await;
        events.push(s3_event(bucket, &format!("inbound/{name}")));
    }
    events
}

/// The stored records (`records/*.json`, markers aside).
async fn stored_records(s: &mailex_lambda::S3Store, bucket: &str) -> Vec<Value> {
    let mut records = Vec::new();
    for key in keys(s, bucket, "records/").await {
        if key.ends_with(".json") && !key.contains(".delivered/") {
            records.push(read_json(s, bucket, &key).await);
        }
    }
    records.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    records
}

/// The EMF values of `metric` on stdout, summed.
fn emf_sum(stdout: &str, metric: &str) -> f64 {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .filter_map(|v| v.get(metric).and_then(Value::as_f64))
        .sum()
}

#[tokio::test]
async fn bootstrap_writes_one_parquet_row_per_record_keyed_from_secrets_manager() {
    let endpoint = s3_or_skip!();
    let mails = lead_mails();
    assert!(mails.len() >= 20, "the lead corpus: {}", mails.len());
    let (s, output, events) = buckets_with(&endpoint, &mails).await;
    let receiver = Receiver::accepting();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_sink(&dir.path().join("config"), &receiver.url);
    let secret_arn = stored_secret(&endpoint).await;

    let api = RuntimeApi::start();
    let child = Drained::new(bootstrap(
        &api,
        &endpoint,
        &[
            ("MAILEX_CONFIG", config.to_str().unwrap()),
            ("MAILEX_OUTPUT_BUCKET", &output),
            ("MAILEX_ANALYTICS_PREFIX", "analytics"),
            ("MAILEX_SECRETS_ARN", &secret_arn),
            ("MAILEX_DELIVERY_ENDPOINT", &endpoint),
            // Another key in the environment: the secret's must win.
            ("MAILEX_PSEUDONYM_KEY", ENV_KEY),
        ],
    ));
    let batch = sqs_batch(&events);
    api.invoke("analytics-1", &batch);
    let (api, first) = answers(api, &["analytics-1"]).await;
    // The latency of each sink that took a record, as the first invocation wrote it.
    let first_copy = dir.path().join("first");
    download(&s, &output, "analytics/", &first_copy).await;
    let latencies: BTreeMap<String, Value> = duckdb(
        &first_copy,
        &[
            "SELECT record_id, delivery_latency_ms['crm'] AS crm_ms FROM mailex_analytics"
                .to_owned(),
        ],
    )
    .remove(0)
    .into_iter()
    .map(|row| {
        (
            row["record_id"].as_str().unwrap().to_owned(),
            row["crm_ms"].clone(),
        )
    })
    .collect();
    // SQS delivers the same batch again (at-least-once): the same file, overwritten.
    api.invoke("analytics-2", &batch);
    let (api, second) = answers(api, &["analytics-2"]).await;
    let (stdout, stderr) = child.finish();
    drop(api);
    let answers = [first, second].concat();
    for answer in &answers {
        assert_eq!(
            response_body(answer, &stderr),
            json!({"batchItemFailures": []}),
            "stderr:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("analytics copy on") && stderr.contains(SECRET_KEY_ID),
        "the cold start says the copy is on, with the key id: {stderr}"
    );

    let records = stored_records(&s, &output).await;
    assert_eq!(records.len(), mails.len(), "one record per mail");
    let ids: BTreeSet<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();

    // The objects: one per day partition, named by the batch, at the deterministic key.
    let local = dir.path().join("analytics");
    let objects = download(&s, &output, "analytics/", &local).await;
    let days: BTreeSet<String> = records
        .iter()
        .map(|r| r["received_at"].as_str().unwrap()[..10].to_owned())
        .collect();
    let batch_id = mailex_lambda::analytics_batch_id(ids.iter().map(String::as_str));
    let expected_keys: Vec<String> = days
        .iter()
        .map(|day| format!("analytics/dt={day}/part-{batch_id}.parquet"))
        .collect();
    let got_keys: Vec<String> = objects.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        got_keys, expected_keys,
        "one object per day, the second run overwrote it"
    );
    assert!(
        objects.iter().all(|(_, bytes)| bytes.starts_with(b"PAR1")),
        "Parquet files"
    );

    // Read back with DuckDB: one row per record, in its record's day, the secret's key id.
    let answers = duckdb(
        &local,
        &[
            "SELECT record_id, dt, strftime(received_at, '%Y-%m-%d') AS day, pseudonym_key_id, \
             email_pseudonym, schema_version, delivery_latency_ms AS latency, \
             status FROM mailex_analytics ORDER BY record_id"
                .to_owned(),
            "SELECT * FROM mailex_analytics".to_owned(),
            format!(
                "SELECT * FROM parquet_kv_metadata('{}/*/*.parquet')",
                local.display()
            ),
        ],
    );
    let rows = &answers[0];
    assert_eq!(rows.len(), records.len(), "one row per record");
    let row_ids: BTreeSet<String> = rows
        .iter()
        .map(|r| r["record_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(row_ids, ids, "each record once, by its id");
    let by_id: BTreeMap<&str, &Value> = records
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let (mut emails, mut delivered) = (0, 0);
    for row in rows {
        let record = by_id[row["record_id"].as_str().unwrap()];
        assert_eq!(row["dt"], row["day"], "{row}");
        assert_eq!(
            row["dt"].as_str(),
            Some(&record["received_at"].as_str().unwrap()[..10])
        );
        assert_eq!(row["pseudonym_key_id"], SECRET_KEY_ID);
        assert_eq!(row["schema_version"], mailex_analytics::SCHEMA_VERSION);
        assert_eq!(row["status"], record["status"]);
        // The pseudonym is HMAC-SHA256 under the secret's key, not the environment's.
        if let Some(email) = record["fields"]["email"].as_str()
            && record["sensitive"]
                .as_array()
                .is_some_and(|s| s.iter().any(|n| n == "email"))
        {
            let value = FieldValue::Text(email.to_owned());
            let under = |key: &str| mailex_core::pseudonym::pseudonym(key.as_bytes(), &value);
            assert_eq!(
                row["email_pseudonym"].as_str(),
                Some(under(SECRET_KEY).as_str())
            );
            assert_ne!(
                row["email_pseudonym"].as_str(),
                Some(under(ENV_KEY).as_str())
            );
            emails += 1;
        }
        // The webhook takes extracted and partial records; its latency is in their rows as
        // the first invocation wrote them. The second found the webhook's markers (nothing
        // sent): its rows have the host's delivery, but no latency.
        let id = row["record_id"].as_str().unwrap();
        if matches!(record["status"].as_str(), Some("extracted" | "partial")) {
            assert!(
                latencies[id].as_i64().is_some_and(|ms| ms >= 0),
                "{id}: {latencies:?}"
            );
            delivered += 1;
        } else {
            assert!(latencies[id].is_null(), "{id}: {latencies:?}");
        }
        assert_eq!(row["latency"], json!({}), "{row}");
    }
    assert!(emails >= 10, "rows with an email pseudonym: {emails}");
    assert!(delivered >= 10, "rows with a delivery latency: {delivered}");
    assert_eq!(
        receiver.received().len(),
        delivered,
        "the webhook got each record it takes once"
    );

    // No personal value in the objects' keys, bytes or decoded values, nor in the logs.
    let leads = workspace_root().join("tests/fixtures/leads");
    let needles = needles(&[&leads], &records, 40);
    let mut haystacks = Vec::new();
    for (key, bytes) in &objects {
        haystacks.push((format!("key {key}"), key.clone()));
        haystacks.push((
            format!("bytes of {key}"),
            String::from_utf8_lossy(bytes).into_owned(),
        ));
    }
    haystacks.push(("the function's log".to_owned(), stderr.clone()));
    haystacks.push(("the function's metrics".to_owned(), stdout.clone()));
    assert_no_leaks(
        haystacks,
        &serde_json::to_value(&answers[1..]).unwrap(),
        &needles,
        &records,
        40,
    );
    assert_eq!(
        emf_sum(&stdout, "AnalyticsRows"),
        2.0 * records.len() as f64,
        "rows written, counted per invocation"
    );
}

#[tokio::test]
async fn a_failed_analytics_write_fails_the_messages_and_the_retry_writes_the_rows() {
    let endpoint = s3_or_skip!();
    let (s, output, events) = buckets_with(&endpoint, &lead_mails()[..3]).await;
    let proxy = FaultProxy::start(&endpoint);
    proxy.set(Faults {
        put_503_containing: Some("/analytics/".to_owned()),
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let api = RuntimeApi::start();
    let child = Drained::new(bootstrap(
        &api,
        &proxy.endpoint,
        &[
            (
                "MAILEX_CONFIG",
                workspace_root()
                    .join("examples/mailex.toml")
                    .to_str()
                    .unwrap(),
            ),
            ("MAILEX_OUTPUT_BUCKET", &output),
            ("MAILEX_ANALYTICS_PREFIX", "analytics/"),
            ("MAILEX_PSEUDONYM_KEY", ENV_KEY),
            ("MAILEX_S3_MAX_ATTEMPTS", "2"),
        ],
    ));
    let batch = sqs_batch(&events);
    api.invoke("analytics-fails", &batch);
    let (api, first) = answers(api, &["analytics-fails"]).await;
    // S3 takes the analytics copy again; SQS redelivers the failed messages.
    proxy.set(Faults::default());
    api.invoke("analytics-retry", &batch);
    let (api, second) = answers(api, &["analytics-retry"]).await;
    let (stdout, stderr) = child.finish();
    drop(api);
    let body = |answer: &Option<Answer>| response_body(answer, &stderr);
    assert_eq!(
        body(&first[0]),
        json!({"batchItemFailures": [
            {"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}
        ]}),
        "every message whose row was not written is retried"
    );
    assert_eq!(body(&second[0]), json!({"batchItemFailures": []}));
    assert!(stderr.contains("analytics copy on"), "{stderr}");

    // Visible: a metric and an error line naming the key and the error type, nothing personal.
    assert!(
        emf_sum(&stdout, "AnalyticsWriteErrors") >= 1.0,
        "stdout:\n{stdout}"
    );
    assert_eq!(emf_sum(&stdout, "AnalyticsRows"), 3.0, "stdout:\n{stdout}");
    let failure: Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["error_type"] == "Mailex.AnalyticsWriteError")
        .unwrap_or_else(|| panic!("no analytics error line:\n{stderr}"));
    assert_eq!(failure["level"], "ERROR", "{failure}");
    assert!(
        failure["analytics_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("analytics/dt=")),
        "{failure}"
    );
    assert!(
        failure["error"]
            .as_str()
            .unwrap_or_default()
            .contains("503"),
        "{failure}"
    );

    // Nothing lost, nothing twice: one record and one row per mail.
    let records = stored_records(&s, &output).await;
    assert_eq!(records.len(), 3);
    let local = dir.path().join("analytics");
    let objects = download(&s, &output, "analytics/", &local).await;
    assert!(!objects.is_empty());
    let rows = duckdb(
        &local,
        &[
            "SELECT count(*) AS rows, count(DISTINCT record_id) AS ids FROM mailex_analytics"
                .to_owned(),
        ],
    );
    assert_eq!(rows[0], [json!({"rows": 3, "ids": 3})]);
    // Without a sink the host delivered nothing: no latency column value.
    let latency = duckdb(
        &local,
        &[
            "SELECT count(*) AS n FROM mailex_analytics WHERE delivery_latency_ms IS NULL"
                .to_owned(),
        ],
    );
    assert_eq!(latency[0], [json!({"n": 3})]);
}

#[tokio::test]
async fn without_a_key_the_copy_is_off_and_the_cold_start_says_so() {
    let endpoint = s3_or_skip!();
    let (s, output, events) = buckets_with(&endpoint, &lead_mails()[..1]).await;
    let api = RuntimeApi::start();
    let child = bootstrap(
        &api,
        &endpoint,
        &[
            (
                "MAILEX_CONFIG",
                workspace_root()
                    .join("examples/mailex.toml")
                    .to_str()
                    .unwrap(),
            ),
            ("MAILEX_OUTPUT_BUCKET", &output),
            ("MAILEX_ANALYTICS_PREFIX", "analytics/"),
        ],
    );
    api.invoke("no-key", &sqs_batch(&events));
    let (api, answers) = answers(api, &["no-key"]).await;
    let (_, stderr, _) = finish(child);
    drop(api);
    let answer = answers[0].clone().expect("an answer");
    assert_eq!(answer.body, json!({"batchItemFailures": []}).to_string());
    let off: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("analytics copy off"))
        })
        .collect();
    assert_eq!(off.len(), 1, "said once, at the cold start:\n{stderr}");
    assert_eq!(off[0]["level"], "WARN");
    assert!(
        off[0]["message"]
            .as_str()
            .unwrap()
            .contains("MAILEX_PSEUDONYM_KEY")
    );
    assert_eq!(
        stored_records(&s, &output).await.len(),
        1,
        "the record is written"
    );
    assert!(
        keys(&s, &output, "analytics/").await.is_empty(),
        "no analytics copy"
    );
}

/// The ```sql block of docs/analytics.md's paragraph on duplicates.
fn documented_dedup_query() -> String {
    let doc = std::fs::read_to_string(workspace_root().join("docs/analytics.md")).unwrap();
    doc.split("**Duplicates.**")
        .nth(1)
        .and_then(|rest| rest.split("```sql\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .expect("docs/analytics.md shows how to keep one row per record")
        .to_owned()
}

#[tokio::test]
async fn a_record_in_two_different_batches_has_two_rows_and_the_documented_query_keeps_one() {
    let endpoint = s3_or_skip!();
    let (s, output, events) = buckets_with(&endpoint, &lead_mails()[..3]).await;
    let mut settings = mailex_lambda::Settings::new(
        mailex_lambda::ConfigLocation::File(workspace_root().join("examples/mailex.toml")),
        &output,
    );
    settings.s3 = s3_settings(&endpoint);
    settings.analytics_prefix = Some("analytics/".to_owned());
    let host = std::sync::Arc::new(
        mailex_lambda::Host::with_secrets(
            settings,
            s.clone(),
            std::sync::Arc::new(|name| {
                (name == "MAILEX_PSEUDONYM_KEY").then(|| ENV_KEY.to_owned())
            }),
        )
        .await
        .expect("host"),
    );
    // The second mail's message reaches two batches (SQS delivers at least once).
    for batch in [&events[..2], &events[1..]] {
        let response = host.handle(sqs_batch(batch), "req").await.expect("answers");
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    let dir = tempfile::tempdir().unwrap();
    let objects = download(&s, &output, "analytics/", dir.path()).await;
    assert_eq!(objects.len(), 2, "one object per batch: {objects:?}");
    let answers = duckdb(
        dir.path(),
        &[
            "SELECT count(*) AS rows, count(DISTINCT record_id) AS ids FROM mailex_analytics"
                .to_owned(),
            format!(
                "SELECT count(*) AS rows, count(DISTINCT record_id) AS ids FROM ({})",
                documented_dedup_query()
            ),
        ],
    );
    assert_eq!(
        answers[0],
        [json!({"rows": 4, "ids": 3})],
        "the duplicate is there"
    );
    assert_eq!(
        answers[1],
        [json!({"rows": 3, "ids": 3})],
        "the documented query keeps one"
    );
}
