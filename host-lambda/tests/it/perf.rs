//! Measured numbers for the closing note: init time with 20 routes and records per second for
//! a 100-message SQS batch. Run with `--nocapture` to see them; the assertions are loose
//! bounds that only catch gross regressions on a 2-core machine.

use std::time::{Duration, Instant};

use mailex_lambda::{ConfigLocation, Settings};
use serde_json::json;

use super::common::*;
use crate::s3_or_skip;

/// A config with 20 routes (built-in extractors; rule files and plugins add their own load time).
pub fn twenty_routes() -> String {
    let mut text = String::new();
    for i in 0..20 {
        let extractor = if i % 2 == 0 {
            "builtin:lead-meta"
        } else {
            "builtin:adf"
        };
        text.push_str(&format!(
            "[[route]]\nname = \"advertiser-{i:02}\"\nsender = \"*@portal{i}.example\"\nrequire_auth = \"none\"\nextractor = \"{extractor}\"\n\n"
        ));
    }
    text.push_str("[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n");
    text
}

#[tokio::test]
async fn init_with_20_routes_and_a_100_message_batch() {
    let endpoint = s3_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailex.toml");
    std::fs::write(&config, twenty_routes()).unwrap();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;

    let started = Instant::now();
    let mut settings = Settings::new(ConfigLocation::File(config), &output);
    settings.concurrency = 16;
    let host = host(&endpoint, settings).await;
    let init = started.elapsed();

    let raw = mail("portal-lead.eml");
    let mut records = Vec::new();
    for i in 0..100 {
        let key = format!("inbound/lead-{i:03}");
        put(&s, &input, &key, raw.clone()).await;
        let body = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "eventTime": "2026-11-26T10:00:00Z", "s3": {"bucket": {"name": input}, "object": {"key": key}}}]});
        records.push(json!({"eventSource": "aws:sqs", "messageId": format!("m-{i}"), "body": body.to_string()}));
    }
    let batch = json!({ "Records": records });
    let started = Instant::now();
    let response = host.handle(batch, "perf").await.expect("batch");
    let batch_time = started.elapsed();
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(keys(&s, &output, "").await.len(), 100);
    let rate = 100.0 / batch_time.as_secs_f64();
    eprintln!(
        "PERF init_with_20_routes_ms={:.1} config_load_ms={:.1} batch_100_ms={:.0} records_per_s={rate:.0}",
        init.as_secs_f64() * 1000.0,
        host.engine().current().load_time.as_secs_f64() * 1000.0,
        batch_time.as_secs_f64() * 1000.0
    );
    assert!(init < Duration::from_secs(10));
}

#[tokio::test]
async fn init_from_an_s3_config_prefix_with_20_routes() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let config_bucket = unique_bucket("cfg");
    let dir = tempfile::tempdir().unwrap();
    push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(dir.path(), &twenty_routes(), &[]),
    )
    .await;
    let started = Instant::now();
    let settings = Settings::new(
        ConfigLocation::S3 {
            bucket: config_bucket,
            prefix: "config/".into(),
        },
        "out",
    );
    let host = host(&endpoint, settings).await;
    let init = started.elapsed();
    eprintln!(
        "PERF init_from_s3_prefix_20_routes_ms={:.1} (pointer + manifest + download + load; load alone {:.1} ms)",
        init.as_secs_f64() * 1000.0,
        host.engine().current().load_time.as_secs_f64() * 1000.0
    );
    assert!(init < Duration::from_secs(10));
}
