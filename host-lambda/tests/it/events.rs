//! Every AWS event sample, as published, against the local S3: one record per mail.

use serde_json::{Value, json};

use super::common::*;
use crate::s3_or_skip;

/// Puts `mail` at the object an event names, runs the event, returns the response and the keys
/// written to a fresh output bucket.
async fn run_event(
    endpoint: &str,
    event: Value,
    objects: &[(&str, &str, &str)],
) -> (Result<Value, String>, Vec<String>, String) {
    let output = unique_bucket("out");
    let ses = unique_bucket("ses");
    let s = store(endpoint).await;
    create_bucket(&s, &output).await;
    create_bucket(&s, &ses).await;
    for (bucket, key, mail_name) in objects {
        let bucket = if *bucket == "$SES" {
            ses.as_str()
        } else {
            bucket
        };
        put(&s, bucket, key, mail(mail_name)).await;
    }
    let host = host(endpoint, settings(&output, &ses)).await;
    let response = host.handle(event, "req-1").await.map_err(|e| e.to_string());
    let written = keys(&s, &output, "").await;
    (response, written, output)
}

#[tokio::test]
async fn s3_put_event_writes_one_extracted_record() {
    let endpoint = s3_or_skip!();
    let (response, written, output) = run_event(
        &endpoint,
        event("s3-put.json"),
        &[("sourcebucket", "Happy Face.jpg", "portal-lead.eml")],
    )
    .await;
    assert_eq!(response, Ok(json!({"processed": 1})));
    assert_eq!(written.len(), 1, "{written:?}");
    let key = &written[0];
    let id = mailex_lambda::object_id("sourcebucket", "Happy Face.jpg");
    let record = read_json(&store(&endpoint).await, &output, key).await;
    assert_extracted(&record, "portal");
    let status = record["status"].as_str().unwrap();
    assert_eq!(key, &format!("records/{id}.json"));
    assert_eq!(record["id"], id.as_str());
    assert_eq!(record["source"], "s3://sourcebucket/Happy Face.jpg");
    if status == "extracted" {
        assert_eq!(record["fields"]["email"], "test.person@example.com");
    }
}

#[tokio::test]
async fn s3_test_event_and_setup_object_are_ignored() {
    let endpoint = s3_or_skip!();
    let (response, written, _) = run_event(&endpoint, event("s3-test-event.json"), &[]).await;
    assert!(response.is_ok(), "{response:?}");
    assert!(written.is_empty());

    let mut setup = event("s3-put.json");
    setup["Records"][0]["s3"]["object"]["key"] = json!("inbound/AMAZON_SES_SETUP_NOTIFICATION");
    let (response, written, _) = run_event(&endpoint, setup, &[]).await;
    assert!(response.is_ok(), "{response:?}");
    assert!(written.is_empty());
}

#[tokio::test]
async fn sns_wrapped_s3_event() {
    let endpoint = s3_or_skip!();
    let (response, written, output) = run_event(
        &endpoint,
        event("sns-s3.json"),
        &[(
            "s3-sns-unwrap-bucket-683517028648",
            "samconfig.toml",
            "unknown-sender.eml",
        )],
    )
    .await;
    assert!(response.is_ok(), "{response:?}");
    assert_eq!(written.len(), 1);
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["status"], "unmatched");
    assert_eq!(record["advertiser"], serde_json::Value::Null);
}

#[tokio::test]
async fn sqs_wrapped_s3_event_reports_no_failures() {
    let endpoint = s3_or_skip!();
    let (response, written, _) = run_event(
        &endpoint,
        event("sqs-s3.json"),
        &[(
            "sqs-s3-unwrap-bucket-683517028648",
            "samconfig.toml",
            "portal-lead.eml",
        )],
    )
    .await;
    assert_eq!(response, Ok(json!({"batchItemFailures": []})));
    assert_eq!(written.len(), 1);
}

#[tokio::test]
async fn sqs_sns_s3_event() {
    let endpoint = s3_or_skip!();
    let (response, written, output) = run_event(
        &endpoint,
        event("sqs-sns-s3.json"),
        &[(
            "unwraptestevents-bucket-683517028648",
            "firehose-s3-template.json",
            "portal-lead.eml",
        )],
    )
    .await;
    assert_eq!(response, Ok(json!({"batchItemFailures": []})));
    assert_eq!(written.len(), 1);
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["advertiser"], "portal");
}

#[tokio::test]
async fn ses_lambda_action_uses_receipt_verdicts() {
    let endpoint = s3_or_skip!();
    // The stored mail carries no Authentication-Results at all: only the receipt can pass DMARC.
    let (response, written, output) = run_event(
        &endpoint,
        event("ses-lambda.json"),
        &[(
            "$SES",
            "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1",
            "secure-lead.eml",
        )],
    )
    .await;
    assert_eq!(response, Ok(json!({"disposition": "CONTINUE"})));
    assert_eq!(written.len(), 1);
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_extracted(&record, "secure-portal");
    assert_eq!(record["auth"]["source"], "ses_receipt");
    assert_eq!(record["auth"]["passed"], true);
    assert_eq!(record["auth"]["dmarc"], "pass");
}

#[tokio::test]
async fn ses_lambda_action_with_failing_receipt_is_unauthenticated() {
    let endpoint = s3_or_skip!();
    let mut e = event("ses-lambda.json");
    for verdict in ["spfVerdict", "dkimVerdict", "dmarcVerdict"] {
        e["Records"][0]["ses"]["receipt"][verdict]["status"] = json!("FAIL");
    }
    let (response, written, output) = run_event(
        &endpoint,
        e,
        &[(
            "$SES",
            "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1",
            "secure-lead.eml",
        )],
    )
    .await;
    assert!(response.is_ok(), "{response:?}");
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["status"], "unauthenticated", "{record}");
}

#[tokio::test]
async fn ses_lambda_docs_sample() {
    let endpoint = s3_or_skip!();
    let (response, written, output) = run_event(
        &endpoint,
        event("ses-lambda-aws-docs.json"),
        &[(
            "$SES",
            "inbound/EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            "secure-lead.eml",
        )],
    )
    .await;
    assert!(response.is_ok(), "{response:?}");
    assert_eq!(written.len(), 1);
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["advertiser"], "secure-portal");
    // The sample's receipt says dkimVerdict PASS but dmarcVerdict GRAY: a DKIM pass that names
    // no domain does not satisfy DMARC.
    assert_eq!(record["status"], "unauthenticated", "{record}");
}

#[tokio::test]
async fn stored_mail_with_ses_virus_header_is_not_extracted() {
    // The deployed path (S3 -> SQS -> Lambda) carries no receipt: the verdict is SES's
    // `X-SES-Virus-Verdict: FAIL` in the stored mail's top block.
    let endpoint = s3_or_skip!();
    let (response, written, output) = run_event(
        &endpoint,
        event("sqs-s3.json"),
        &[(
            "sqs-s3-unwrap-bucket-683517028648",
            "samconfig.toml",
            "virus-lead.eml",
        )],
    )
    .await;
    assert_eq!(response, Ok(json!({"batchItemFailures": []})));
    assert_eq!(written.len(), 1);
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["errors"][0]["code"], "virus");
    assert!(record["fields"].as_object().is_some_and(|f| f.is_empty()));
}

#[tokio::test]
async fn ses_virus_fail_is_not_extracted() {
    let endpoint = s3_or_skip!();
    let mut e = event("ses-lambda.json");
    e["Records"][0]["ses"]["receipt"]["virusVerdict"]["status"] = json!("FAIL");
    let (response, written, output) = run_event(
        &endpoint,
        e,
        &[(
            "$SES",
            "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1",
            "secure-lead.eml",
        )],
    )
    .await;
    assert!(response.is_ok(), "{response:?}");
    assert_eq!(written.len(), 1);
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["status"], "failed");
    assert_eq!(record["errors"][0]["code"], "virus");
    assert!(record["fields"].as_object().is_some_and(|f| f.is_empty()));
}

#[tokio::test]
async fn ses_sns_inline_utf8_base64_and_wrapped() {
    let endpoint = s3_or_skip!();
    for name in [
        "ses-sns-content.json",
        "ses-sns-content-base64.json",
        "ses-sns-lambda.json",
    ] {
        let (response, written, output) = run_event(&endpoint, event(name), &[]).await;
        assert!(response.is_ok(), "{name}: {response:?}");
        assert_eq!(written.len(), 1, "{name}");
        let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
        assert!(
            record["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("ses:")),
            "{name}: {record}"
        );
        assert!(
            record["input_bytes"].as_u64().is_some_and(|n| n > 200),
            "{name}: {record}"
        );
        assert!(
            record["message_id"].is_string(),
            "{name}: the inline MIME was parsed: {record}"
        );
    }
}

/// A batch mixing a readable mail, a deleted one, an undecodable body and S3's test event: no
/// message is retried (none of those failures is transient), and each mail or message that
/// could be named gets exactly one record.
#[tokio::test]
async fn sqs_batch_records_permanent_failures_instead_of_retrying_them() {
    let endpoint = s3_or_skip!();
    let input = unique_bucket("in");
    let body = |key: &str| {
        json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "eventTime": "2026-11-26T10:00:00Z",
            "s3": {"bucket": {"name": input}, "object": {"key": key, "size": 10}}}]})
        .to_string()
    };
    let batch = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "ok-1", "body": body("mail/a+lead.eml")},
        {"eventSource": "aws:sqs", "messageId": "missing-2", "body": body("mail/missing.eml")},
        {"eventSource": "aws:sqs", "messageId": "broken-3", "body": "{not json"},
        {"eventSource": "aws:sqs", "messageId": "test-4", "body": "{\"Event\":\"s3:TestEvent\"}"}
    ]});
    let (response, written, output) = run_event(
        &endpoint,
        batch,
        &[(input.as_str(), "mail/a lead.eml", "portal-lead.eml")],
    )
    .await;
    let response = response.expect("SQS batches always answer");
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(written.len(), 3, "{written:?}");
    let store = store(&endpoint).await;
    let mut codes = Vec::new();
    for key in &written {
        let record = read_json(&store, &output, key).await;
        let code = record["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        codes.push((record["status"].as_str().unwrap_or("").to_owned(), code));
    }
    codes.sort();
    assert!(
        codes.contains(&("failed".to_owned(), "source_missing".to_owned())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("failed".to_owned(), "bad_event".to_owned())),
        "{codes:?}"
    );
    assert!(
        codes.iter().any(|(status, _)| status != "failed"),
        "the readable mail was processed: {codes:?}"
    );
}

/// A direct invocation naming a bucket that does not exist: the mail cannot be read now or on
/// a retry, so it gets a `failed` record (`source_missing`) and the invocation succeeds.
#[tokio::test]
async fn missing_object_of_a_direct_invocation_gets_a_failed_record() {
    let endpoint = s3_or_skip!();
    let mut e = event("s3-put.json");
    e["Records"][0]["s3"]["bucket"]["name"] = json!(unique_bucket("empty"));
    let (response, written, output) = run_event(&endpoint, e, &[]).await;
    assert!(response.is_ok(), "{response:?}");
    assert_eq!(written.len(), 1, "{written:?}");
    let record = read_json(&store(&endpoint).await, &output, &written[0]).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["errors"][0]["code"], "source_missing", "{record}");
}

#[tokio::test]
async fn oversized_mail_yields_a_failed_record_without_reading_it_whole() {
    let endpoint = s3_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mailex.toml"),
        "[settings]\nmax_input_bytes = 2000\n\n[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n",
    )
    .unwrap();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    let mut big = mail("portal-lead.eml");
    big.extend(std::iter::repeat_n(b'x', 50_000));
    put(&s, &input, "big.eml", big.clone()).await;
    let mut settings = mailex_lambda::Settings::new(
        mailex_lambda::ConfigLocation::File(dir.path().join("mailex.toml")),
        &output,
    );
    settings.concurrency = 2;
    let host = host(&endpoint, settings).await;
    let mut e = event("s3-put.json");
    e["Records"][0]["s3"]["bucket"]["name"] = json!(input);
    e["Records"][0]["s3"]["object"]["key"] = json!("big.eml");
    host.handle(e, "req").await.expect("handled");
    let written = keys(&s, &output, "").await;
    assert_eq!(written.len(), 1);
    let record = read_json(&s, &output, &written[0]).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["input_bytes"].as_u64(), Some(big.len() as u64));
}

#[tokio::test]
async fn retry_of_the_same_event_overwrites_its_record() {
    let endpoint = s3_or_skip!();
    let output = unique_bucket("out");
    let s = store(&endpoint).await;
    create_bucket(&s, &output).await;
    put(
        &s,
        "sourcebucket",
        "Happy Face.jpg",
        mail("portal-lead.eml"),
    )
    .await;
    let host = host(&endpoint, settings(&output, "unused")).await;
    for _ in 0..3 {
        host.handle(event("s3-put.json"), "req")
            .await
            .expect("handled");
    }
    assert_eq!(keys(&s, &output, "").await.len(), 1);
}
