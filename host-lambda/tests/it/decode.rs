//! Event detection over every published sample, without S3 (these always run).

use mailex_lambda::{Event, IgnoreReason, Unit, decode};
use serde_json::json;

use super::common::event;

fn direct_units(name: &str) -> Vec<Unit> {
    match decode(&event(name)).unwrap_or_else(|e| panic!("{name}: {e}")) {
        Event::Direct(units) | Event::Ses(units) => units,
        Event::Sqs(_) => panic!("{name}: unexpected SQS batch"),
    }
}

fn sqs_units(name: &str) -> Vec<Unit> {
    let Ok(Event::Sqs(messages)) = decode(&event(name)) else {
        panic!("{name}: not an SQS batch")
    };
    assert_eq!(messages.len(), 1);
    messages[0]
        .units
        .clone()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn object(unit: &Unit) -> (&str, &str) {
    let Unit::Object(o) = unit else {
        panic!("not an object: {unit:?}")
    };
    (o.bucket.as_str(), o.key.as_str())
}

#[test]
fn every_sample_is_detected() {
    assert_eq!(
        object(&direct_units("s3-put.json")[0]),
        ("sourcebucket", "Happy Face.jpg")
    );
    assert_eq!(
        direct_units("s3-test-event.json"),
        vec![Unit::Ignored(IgnoreReason::S3TestEvent)]
    );
    assert_eq!(
        object(&direct_units("sns-s3.json")[0]),
        ("s3-sns-unwrap-bucket-683517028648", "samconfig.toml")
    );
    assert_eq!(
        object(&sqs_units("sqs-s3.json")[0]),
        ("sqs-s3-unwrap-bucket-683517028648", "samconfig.toml")
    );
    assert_eq!(
        object(&sqs_units("sqs-sns-s3.json")[0]),
        (
            "unwraptestevents-bucket-683517028648",
            "firehose-s3-template.json"
        )
    );
    for name in ["ses-lambda.json", "ses-lambda-aws-docs.json"] {
        let Ok(Event::Ses(units)) = decode(&event(name)) else {
            panic!("{name}: not SES")
        };
        let Unit::SesReceipt(receipt) = &units[0] else {
            panic!("{name}: not a receipt")
        };
        assert_eq!(receipt.verdicts.virus.as_deref(), Some("PASS"));
        assert!(
            receipt.verdicts.spf.is_some()
                && receipt.verdicts.dkim.is_some()
                && receipt.verdicts.dmarc.is_some()
        );
    }
    let mut raws = Vec::new();
    for name in [
        "ses-sns-content.json",
        "ses-sns-content-base64.json",
        "ses-sns-lambda.json",
    ] {
        let units = direct_units(name);
        let Unit::Inline(mail) = &units[0] else {
            panic!("{name}: not inline")
        };
        assert!(mail.raw.starts_with(b"Return-Path:"), "{name}");
        raws.push(mail.raw.clone());
    }
    assert_eq!(raws[0], raws[2], "SNS-wrapped content is the same mail");
}

#[test]
fn batch_response_sample_matches_our_shape() {
    let sample = event("sqs-batch-response.json");
    let ids: Vec<&str> = sample["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["id2", "id4"]);
}

#[test]
fn ses_sns_notification_for_an_s3_action_names_the_object() {
    let e = json!({"notificationType": "Received",
        "mail": {"messageId": "abc", "timestamp": "2026-01-01T00:00:00Z"},
        "receipt": {"virusVerdict": {"status": "FAIL"},
            "action": {"type": "S3", "bucketName": "in", "objectKey": "inbound/abc"}}});
    let Ok(Event::Direct(units)) = decode(&e) else {
        panic!()
    };
    let Unit::Object(o) = &units[0] else { panic!() };
    assert_eq!((o.bucket.as_str(), o.key.as_str()), ("in", "inbound/abc"));
    assert!(o.verdicts.as_ref().is_some_and(|v| v.virus_failed()));
}

#[test]
fn deletes_and_path_tricks_are_refused_or_ignored() {
    let mut e = event("s3-put.json");
    e["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
    assert!(matches!(
        &direct_units_of(e)[0],
        Unit::Ignored(IgnoreReason::NotObjectCreated(_))
    ));
    let mut ses = event("ses-lambda.json");
    ses["Records"][0]["ses"]["mail"]["messageId"] = json!("../records/x");
    assert!(decode(&ses).is_err());
}

fn direct_units_of(e: serde_json::Value) -> Vec<Unit> {
    match decode(&e).expect("decodes") {
        Event::Direct(units) | Event::Ses(units) => units,
        Event::Sqs(_) => panic!("sqs"),
    }
}
