//! The built `bootstrap` binary against a local Lambda Runtime API (the real 2018-06-01
//! protocol) and the local S3: events in, one record per mail in S3, EMF metrics on stdout,
//! errors with a stable `errorType`, a cold start without a usable config reported to the
//! init-error endpoint.

use std::time::Duration;

use serde_json::{Value, json};

use super::common::*;
use super::config_reload::{GOOD, PORTAL_RULES};
use crate::s3_or_skip;

#[tokio::test]
async fn bootstrap_serves_the_runtime_api_and_writes_records() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    put(&s, &input, "inbound/e2e lead", mail("portal-lead.eml")).await;
    let api = RuntimeApi::start();
    let data_config = data("mailex.toml");
    let child = bootstrap(
        &api,
        &endpoint,
        &[
            ("MAILEX_CONFIG", data_config.to_str().unwrap()),
            ("MAILEX_OUTPUT_BUCKET", &output),
        ],
    );

    let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-26T10:00:00Z",
        "s3": {"bucket": {"name": input}, "object": {"key": "inbound/e2e+lead", "size": 400}}}]});
    api.invoke("e2e-request-1", &event);
    // An SQS batch with one good and one deleted object: the deleted one gets a `failed`
    // record and is not retried.
    let sqs = sqs_batch(&[event.clone(), s3_event(&input, "deleted")]);
    api.invoke("e2e-request-2", &sqs);
    // An event of unknown shape: a `bad_event` record, no retry.
    api.invoke("e2e-request-3", &json!({"hello": "world"}));
    let (api, answers) = answers(api, &["e2e-request-1", "e2e-request-2", "e2e-request-3"]).await;
    let (stdout, stderr, _) = finish(child);
    drop(api);
    let body = |i: usize| response_body(&answers[i], &stderr);
    assert_eq!(body(0), json!({"processed": 1}));
    assert_eq!(body(1), json!({"batchItemFailures": []}));
    assert_eq!(body(2), json!({"processed": 1}));

    // One record per mail and one per undecodable event, each at `records/<id>.json`.
    let id = mailex_lambda::object_id(&input, "inbound/e2e lead");
    let deleted_id = mailex_lambda::object_id(&input, "deleted");
    let mut written = keys(&s, &output, "").await;
    written.sort();
    assert_eq!(written.len(), 3, "{written:?}");
    assert!(
        written.contains(&format!("records/{id}.json")),
        "{written:?}"
    );
    let record = read_json(&s, &output, &format!("records/{id}.json")).await;
    assert_extracted(&record, "portal");
    assert_eq!(record["id"], id.as_str());
    let deleted = read_json(&s, &output, &format!("records/{deleted_id}.json")).await;
    assert_eq!(deleted["status"], "failed");
    assert_eq!(deleted["errors"][0]["code"], "source_missing", "{deleted}");
    let bad_key = written
        .iter()
        .find(|k| !k.contains(&id) && !k.contains(&deleted_id))
        .expect("the bad event's record");
    let bad = read_json(&s, &output, bad_key).await;
    assert_eq!(bad["errors"][0]["code"], "bad_event", "{bad}");
    assert!(
        bad["source"].as_str().unwrap().starts_with("event:sha256:"),
        "{bad}"
    );

    // EMF on stdout: one line for (extracted, portal).
    let status = record["status"].as_str().unwrap_or_default().to_owned();
    let emf: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
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
    // Log lines are flat Powertools JSON: the invocation's keys and ours on the line itself.
    let written: Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "record written" && l["record_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no `record written` line for {id}:\n{stderr}"));
    for key in [
        "level",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_request_id",
        "xray_trace_id",
        "record_id",
        "status",
        "advertiser",
        "issue_codes",
        "source_key",
        "output_key",
    ] {
        assert!(written.get(key).is_some(), "no `{key}` in {written}");
    }
    assert_eq!(written["level"], "INFO", "{written}");
    assert_eq!(written["function_request_id"], "e2e-request-1", "{written}");
    assert_eq!(written["cold_start"], true, "{written}");
    assert_eq!(written["status"], status.as_str(), "{written}");
    assert_eq!(
        written["output_key"],
        format!("records/{id}.json"),
        "{written}"
    );
    assert!(
        written.get("fields").is_none() && written.get("span").is_none(),
        "{written}"
    );
    if let Some(line) = stderr.lines().find(|l| l.contains("cold start complete")) {
        eprintln!("bootstrap cold start: {line}");
    }
}

#[tokio::test]
async fn transient_errors_reach_the_runtime_api_with_a_stable_error_type() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    put(&s, &input, "m.eml", mail("portal-lead.eml")).await;
    let proxy = FaultProxy::start(&endpoint);
    proxy.set(Faults {
        get_503: 1000,
        ..Faults::default()
    });
    let api = RuntimeApi::start();
    let data_config = data("mailex.toml");
    let child = bootstrap(
        &api,
        &proxy.endpoint,
        &[
            ("MAILEX_CONFIG", data_config.to_str().unwrap()),
            ("MAILEX_OUTPUT_BUCKET", &output),
            ("MAILEX_S3_MAX_ATTEMPTS", "2"),
        ],
    );
    api.invoke("e2e-503", &s3_event(&input, "m.eml"));
    let (api, answers) = answers(api, &["e2e-503"]).await;
    let (_, stderr, _) = finish(child);
    drop(api);
    let answer = answers[0]
        .clone()
        .unwrap_or_else(|| panic!("no answer\nstderr:\n{stderr}"));
    assert_eq!(answer.kind, "error", "{}", answer.body);
    let diagnostic: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        diagnostic["errorType"], "Mailex.S3ReadError",
        "{diagnostic}"
    );
    let message = diagnostic["errorMessage"].as_str().unwrap();
    assert!(message.contains("SlowDown (HTTP 503)"), "{message}");
    for raw in ["<?xml", "<Error>", "HTTP/1.1", "Content-Type", "\n"] {
        assert!(!message.contains(raw), "raw HTTP in {message:?}");
    }
    assert!(keys(&s, &output, "").await.is_empty(), "nothing written");
}

#[tokio::test]
async fn a_cold_start_without_a_config_is_reported_to_the_init_error_endpoint() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let config_bucket = unique_bucket("cfg");
    create_bucket(&s, &config_bucket).await;
    let api = RuntimeApi::start();
    let location = format!("s3://{config_bucket}/config/");
    let child = bootstrap(
        &api,
        &endpoint,
        &[
            ("MAILEX_CONFIG", &location),
            ("MAILEX_OUTPUT_BUCKET", "out"),
        ],
    );
    let (api, init_error) = tokio::task::spawn_blocking(move || {
        let e = api.wait_init_error(Duration::from_secs(60));
        (api, e)
    })
    .await
    .unwrap();
    let (_, stderr, code) = finish(child);
    drop(api);
    let init_error = init_error.unwrap_or_else(|| panic!("no init error\nstderr:\n{stderr}"));
    let diagnostic: Value = serde_json::from_str(&init_error).unwrap();
    assert_eq!(
        diagnostic["errorType"], "Mailex.ConfigError",
        "{diagnostic}"
    );
    assert!(
        diagnostic["errorMessage"]
            .as_str()
            .unwrap()
            .contains("mailex config push"),
        "{diagnostic}"
    );
    assert_ne!(code, Some(0), "the process exits after reporting");
}

#[tokio::test]
async fn a_broken_config_is_logged_by_code_and_position_and_the_last_good_one_serves() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (config_bucket, input, output) = (
        unique_bucket("cfg"),
        unique_bucket("in"),
        unique_bucket("out"),
    );
    create_bucket(&s, &output).await;
    put(&s, &input, "m.eml", mail("portal-lead.eml")).await;
    let dir = tempfile::tempdir().unwrap();
    let good = push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(dir.path(), GOOD, &[("rules/portal.rules", PORTAL_RULES)]),
    )
    .await;
    // A broken rule file whose broken line and test block quote personal data.
    let broken_rules = "version 1\nprofile \"portal\" {\n  match { from.address ends_with \"@portal.example\" }\n  field email: email required = meta(\"lead_email\") ?? \"jane.secret@example.com\" ??\n}\n\ntest \"t\" {\n  input \"x.eml\"\n  expect {\n    email = \"ann.private@example.net\"\n  }\n}\n";
    force_version(
        &s,
        &config_bucket,
        "config/",
        &[("mailex.toml", GOOD), ("rules/portal.rules", broken_rules)],
        &[&good],
    )
    .await;
    let api = RuntimeApi::start();
    let location = format!("s3://{config_bucket}/config/");
    let child = bootstrap(
        &api,
        &endpoint,
        &[
            ("MAILEX_CONFIG", &location),
            ("MAILEX_OUTPUT_BUCKET", &output),
        ],
    );
    api.invoke("after-broken-push", &s3_event(&input, "m.eml"));
    let (api, answers) = answers(api, &["after-broken-push"]).await;
    let (_, stderr, _) = finish(child);
    drop(api);
    let answer = answers[0]
        .clone()
        .unwrap_or_else(|| panic!("no answer\nstderr:\n{stderr}"));
    assert_eq!(
        answer.kind, "response",
        "{}\nstderr:\n{stderr}",
        answer.body
    );
    let written = keys(&s, &output, "").await;
    let record = read_json(&s, &output, &written[0]).await;
    assert_eq!(
        record["extractor"]["name"], "rules/portal.rules",
        "{record}"
    );
    assert_eq!(record["status"], "extracted", "{record}");

    let rejected = stderr
        .lines()
        .find(|l| l.contains("config version rejected"))
        .unwrap_or_else(|| panic!("no rejection logged\nstderr:\n{stderr}"));
    assert!(rejected.contains("rules/portal.rules"), "{rejected}");
    assert!(rejected.contains(" at 4:"), "code and position: {rejected}");
    assert!(!rejected.contains("/tmp/"), "{rejected}");
    assert!(
        stderr.contains(&good),
        "the good version is served: {stderr}"
    );
    for secret in ["jane.secret", "ann.private", "lead_email"] {
        assert!(
            !stderr.contains(secret),
            "rule-file text in the log: {secret}\n{stderr}"
        );
    }
}
