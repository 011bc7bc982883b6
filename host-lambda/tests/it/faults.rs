//! S3 faults on read and write: 500/503 and timeouts. Nothing is lost, nothing is reported as
//! success when it failed, and a retry of the same event yields the same single record.

use std::time::Duration;

use serde_json::{Value, json};

use super::common::*;
use crate::s3_or_skip;

struct Setup {
    proxy: FaultProxy,
    output: String,
    event: Value,
    direct: mailex_lambda::S3Store,
}

async fn setup(endpoint: &str) -> Setup {
    let direct = store(endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&direct, &output).await;
    put(&direct, &input, "mail/lead 1.eml", mail("portal-lead.eml")).await;
    let proxy = FaultProxy::start(endpoint);
    let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-26T10:00:00Z",
        "s3": {"bucket": {"name": input}, "object": {"key": "mail/lead+1.eml", "size": 10}}}]});
    Setup {
        proxy,
        output,
        event,
        direct,
    }
}

async fn proxied_host(s: &Setup) -> std::sync::Arc<mailex_lambda::Host> {
    let mut settings = settings(&s.output, "unused");
    settings.concurrency = 4;
    let mut s3 = s3_settings(&s.proxy.endpoint);
    // Generous enough for a loaded 2-core CI machine, short enough to keep the tests quick.
    s3.max_attempts = 4;
    s3.attempt_timeout = Duration::from_millis(1200);
    s3.operation_timeout = Duration::from_secs(10);
    settings.s3 = s3.clone();
    let store = mailex_lambda::S3Store::connect_with_credentials(&s3, credentials()).await;
    std::sync::Arc::new(
        mailex_lambda::Host::new(settings, store)
            .await
            .expect("host"),
    )
}

#[tokio::test]
async fn transient_503_and_500_on_read_are_retried_by_the_sdk() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    s.proxy.set(Faults {
        get_503: 1,
        get_500: 1,
        ..Faults::default()
    });
    host.handle(s.event.clone(), "req")
        .await
        .expect("SDK retries absorb two 5xx");
    assert!(s.proxy.get().seen_get >= 3);
    assert_eq!(keys(&s.direct, &s.output, "").await.len(), 1);
}

#[tokio::test]
async fn persistent_503_on_read_fails_the_message_then_retry_succeeds() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    s.proxy.set(Faults {
        get_503: 100,
        ..Faults::default()
    });
    assert!(
        host.handle(s.event.clone(), "req").await.is_err(),
        "a failed read is never a success"
    );
    assert!(keys(&s.direct, &s.output, "").await.is_empty());
    s.proxy.set(Faults::default());
    host.handle(s.event.clone(), "req").await.expect("retry");
    assert_eq!(keys(&s.direct, &s.output, "").await.len(), 1);
}

#[tokio::test]
async fn persistent_503_on_write_fails_the_message_then_retry_succeeds() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    s.proxy.set(Faults {
        put_503: 100,
        ..Faults::default()
    });
    assert!(
        host.handle(s.event.clone(), "req").await.is_err(),
        "a failed write is never a success"
    );
    assert!(s.proxy.get().seen_put >= 4, "the SDK retried the write");
    assert!(keys(&s.direct, &s.output, "").await.is_empty());
    s.proxy.set(Faults::default());
    host.handle(s.event.clone(), "req").await.expect("retry");
    assert_eq!(keys(&s.direct, &s.output, "").await.len(), 1);
}

#[tokio::test]
async fn read_timeout_is_retried() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    s.proxy.set(Faults {
        get_delay: 1,
        delay: Duration::from_millis(2500),
        ..Faults::default()
    });
    host.handle(s.event.clone(), "req")
        .await
        .expect("the timed-out attempt is retried");
    assert_eq!(keys(&s.direct, &s.output, "").await.len(), 1);
}

#[tokio::test]
async fn write_applied_but_timed_out_then_retried_leaves_one_record() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    // Every write reaches S3, but every answer comes too late: the message fails...
    s.proxy.set(Faults {
        put_delay: 100,
        delay: Duration::from_millis(2500),
        ..Faults::default()
    });
    assert!(host.handle(s.event.clone(), "req").await.is_err());
    // ...and its retry (SQS or Lambda) overwrites the same key.
    s.proxy.set(Faults::default());
    host.handle(s.event.clone(), "req").await.expect("retry");
    let written = keys(&s.direct, &s.output, "").await;
    assert_eq!(written.len(), 1, "{written:?}");
}

#[tokio::test]
async fn sqs_batch_with_write_faults_reports_the_message_for_retry() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    let batch = json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": s.event.to_string()}]});
    s.proxy.set(Faults {
        put_503: 100,
        ..Faults::default()
    });
    let response = host
        .handle(batch.clone(), "req")
        .await
        .expect("SQS answers");
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
    );
    s.proxy.set(Faults::default());
    let response = host.handle(batch, "req").await.expect("SQS answers");
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(keys(&s.direct, &s.output, "").await.len(), 1);
}

#[tokio::test]
async fn a_deleted_object_gets_one_failed_record_and_no_retry() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    let input = s.event["Records"][0]["s3"]["bucket"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = s3_event(&input, "mail/deleted-before-processing.eml");
    let batch = sqs_batch(std::slice::from_ref(&gone));
    for _ in 0..2 {
        // The first delivery and a redelivery: no retry is asked for, and one record stays.
        let response = host
            .handle(batch.clone(), "req")
            .await
            .expect("SQS answers");
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    assert_eq!(
        host.handle(gone, "req").await.unwrap(),
        json!({"processed": 1})
    );
    let written = keys(&s.direct, &s.output, "").await;
    assert_eq!(written.len(), 1, "{written:?}");
    let record = read_json(&s.direct, &s.output, &written[0]).await;
    assert_eq!(record["status"], "failed");
    assert_eq!(record["errors"][0]["code"], "source_missing", "{record}");
    assert_eq!(
        record["source"],
        format!("s3://{input}/mail/deleted-before-processing.eml")
    );
    assert_eq!(
        record["received_at"], "2026-11-26T10:00:00Z",
        "without an object, the event time dates the record"
    );
}

#[tokio::test]
async fn access_denied_is_permanent_and_recorded() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    s.proxy.set(Faults {
        get_403: 1,
        ..Faults::default()
    });
    let response = host
        .handle(sqs_batch(std::slice::from_ref(&s.event)), "req")
        .await
        .expect("SQS answers");
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(
        s.proxy.get().seen_get,
        1,
        "a 403 is not retried by the SDK either"
    );
    let written = keys(&s.direct, &s.output, "").await;
    let record = read_json(&s.direct, &s.output, &written[0]).await;
    assert_eq!(
        record["errors"][0]["code"], "source_access_denied",
        "{record}"
    );
    assert!(
        record["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("AccessDenied (HTTP 403)"),
        "{record}"
    );
}

#[tokio::test]
async fn undecodable_sqs_messages_get_a_bad_event_record_and_no_retry() {
    let endpoint = s3_or_skip!();
    let s = setup(&endpoint).await;
    let host = proxied_host(&s).await;
    let batch = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "garbage", "body": "not json"},
        {"eventSource": "aws:sqs", "messageId": "good", "body": s.event.to_string()}
    ]});
    let response = host.handle(batch, "req").await.expect("SQS answers");
    assert_eq!(response, json!({"batchItemFailures": []}));
    let written = keys(&s.direct, &s.output, "").await;
    assert_eq!(written.len(), 2, "{written:?}");
    let id = mailex_lambda::record_id("sqs:garbage");
    let record = read_json(&s.direct, &s.output, &format!("records/{id}.json")).await;
    assert_eq!(record["errors"][0]["code"], "bad_event", "{record}");
    assert_eq!(record["source"], "sqs:garbage");
}
