//! The built `bootstrap` binary against a local Lambda Runtime API (the real 2018-06-01
//! protocol) and the local S3: an S3 event in, a record in S3, EMF metrics on stdout.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use super::common::*;
use crate::s3_or_skip;

#[tokio::test]
async fn bootstrap_serves_the_runtime_api_and_writes_records() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    put(&s, &input, "inbound/e2e lead", mail("portal-lead.eml")).await;
    let api = RuntimeApi::start();

    let mut child = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "mailex")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/mailex")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("MAILEX_CONFIG", data("mailex.toml"))
        .env("MAILEX_OUTPUT_BUCKET", &output)
        .env("MAILEX_S3_ENDPOINT", &endpoint)
        .env("MAILEX_S3_FORCE_PATH_STYLE", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bootstrap starts");

    let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-26T10:00:00Z",
        "s3": {"bucket": {"name": input}, "object": {"key": "inbound/e2e+lead", "size": 400}}}]});
    api.invoke("e2e-request-1", &event);
    // An SQS batch with one good and one missing object: a partial batch response.
    let missing = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": input}, "object": {"key": "nope"}}}]});
    let sqs = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "good", "body": event.to_string()},
        {"eventSource": "aws:sqs", "messageId": "missing", "body": missing.to_string()}
    ]});
    api.invoke("e2e-request-2", &sqs);
    // An event of unknown shape: reported through the Runtime API's error endpoint.
    api.invoke("e2e-request-3", &json!({"hello": "world"}));
    let (api, mut answers) = tokio::task::spawn_blocking(move || {
        let answers: Vec<Option<Answer>> = ["e2e-request-1", "e2e-request-2", "e2e-request-3"]
            .iter()
            .map(|id| api.wait_answer(id, Duration::from_secs(60)))
            .collect();
        (api, answers)
    })
    .await
    .expect("join");
    let third = answers.pop().flatten();
    let second = answers.pop().flatten();
    let answer = answers.pop().flatten();
    let _ = child.kill();
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let _ = child.wait();
    drop(api);
    let answer = answer.unwrap_or_else(|| panic!("no answer from bootstrap\nstderr:\n{stderr}"));
    assert_eq!(
        answer.kind, "response",
        "body: {}\nstderr:\n{stderr}",
        answer.body
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap(),
        json!({"processed": 1})
    );
    let second = second.expect("answer to the SQS batch");
    assert_eq!(second.kind, "response");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&second.body).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "missing"}]})
    );
    let third = third.expect("answer to the unknown event");
    assert_eq!(third.kind, "error", "{}", third.body);

    let written = keys(&s, &output, "").await;
    assert_eq!(written.len(), 1, "{written:?}");
    let record = read_json(&s, &output, &written[0]).await;
    assert_extracted(&record, "portal");
    let status = record["status"].as_str().unwrap_or_default().to_owned();
    assert!(
        written[0].starts_with(&format!("records/status={status}/advertiser=portal/")),
        "{}",
        written[0]
    );

    // EMF on stdout: one line for (extracted, portal).
    let emf: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert!(
        emf.iter().any(|m| m["Status"] == status.as_str()
            && m["Advertiser"] == "portal"
            && m["Records"] == 1),
        "stdout:\n{stdout}"
    );
    // JSON logs on stderr carry the request id, never mail content.
    assert!(stderr.contains("e2e-request-1"), "stderr:\n{stderr}");
    assert!(stderr.contains("cold start complete"), "stderr:\n{stderr}");
    assert!(
        !stderr.contains("test.person@example.com") && !stdout.contains("test.person@example.com"),
        "personal data in logs"
    );
    if let Some(line) = stderr.lines().find(|l| l.contains("cold start complete")) {
        eprintln!("bootstrap cold start: {line}");
    }
}
