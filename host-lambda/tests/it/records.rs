//! What a record is: one per mail, whatever its outcome (one key, a stable `id`), dated by
//! when S3 stored the mail, with the real size of an oversized mail.

use std::time::Duration;

use mailex_lambda::{ConfigLocation, Refresh, Settings};

use super::common::*;
use crate::s3_or_skip;

const V1: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"rules/portal.rules\"\n";
const V2: &str = "[[route]]\nname = \"portal-renamed\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"rules/portal.rules\"\n";

/// The portal's rule file; `budget` is required in the first revision (the portal's mail has
/// none: `partial`) and optional after the fix (`extracted`).
fn portal_rules(budget: &str) -> String {
    format!(
        "version 1\nprofile \"portal\" {{\n  match {{ from.address ends_with \"@portal.example\" }}\n  field name: person_name required = meta(\"lead_name\")\n  field email: email required = meta(\"lead_email\")\n  field budget: text {budget} = meta(\"lead_budget\")\n}}\n"
    )
}

#[tokio::test]
async fn a_redelivery_after_a_config_change_leaves_exactly_one_record() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (config_bucket, input, output) = (
        unique_bucket("cfg"),
        unique_bucket("in"),
        unique_bucket("out"),
    );
    create_bucket(&s, &output).await;
    put(&s, &input, "inbound/lead-1", mail("portal-lead.eml")).await;
    let dir = tempfile::tempdir().unwrap();
    let first_rules = portal_rules("required");
    push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(
            &dir.path().join("v1"),
            V1,
            &[("rules/portal.rules", &first_rules)],
        ),
    )
    .await;
    let mut settings = Settings::new(
        ConfigLocation::S3 {
            bucket: config_bucket.clone(),
            prefix: "config/".into(),
        },
        &output,
    );
    settings.config_refresh = Duration::from_secs(3600);
    let host = host(&endpoint, settings).await;
    let batch = sqs_batch(&[s3_event(&input, "inbound/lead-1")]);
    host.handle(batch.clone(), "first").await.expect("handled");
    let id = mailex_lambda::object_id(&input, "inbound/lead-1");
    let key = format!("records/{id}.json");
    assert_eq!(keys(&s, &output, "").await, std::slice::from_ref(&key));
    let first = read_json(&s, &output, &key).await;
    assert_eq!(
        (&first["status"], &first["advertiser"]),
        (&"partial".into(), &"portal".into()),
        "{first}"
    );

    // The route is renamed and the rule fixed; then SQS redelivers the same message.
    let fixed_rules = portal_rules("optional");
    push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(
            &dir.path().join("v2"),
            V2,
            &[("rules/portal.rules", &fixed_rules)],
        ),
    )
    .await;
    assert!(matches!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Swapped { .. }
    ));
    host.handle(batch, "redelivery").await.expect("handled");
    assert_eq!(
        keys(&s, &output, "").await,
        std::slice::from_ref(&key),
        "exactly one record"
    );
    let second = read_json(&s, &output, &key).await;
    assert_eq!(second["status"], "extracted", "{second}");
    assert_eq!(second["advertiser"], "portal-renamed");
    assert_eq!(second["id"], id.as_str());
}

#[tokio::test]
async fn the_record_time_is_when_s3_stored_the_mail() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    put(&s, &input, "inbound/m", mail("portal-lead.eml")).await;
    let head = s
        .client()
        .head_object()
        .bucket(&input)
        .key("inbound/m")
        .send()
        .await
        .unwrap();
    let stored = chrono::DateTime::from_timestamp(head.last_modified().unwrap().secs(), 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let host = host(&endpoint, settings(&output, "unused")).await;
    // The event's time (and the mail's Date header, 2026-11-26T10:00:00Z) are not the record's
    // time: replay has neither, so both use the object's Last-Modified.
    host.handle(s3_event(&input, "inbound/m"), "req")
        .await
        .unwrap();
    let written = keys(&s, &output, "").await;
    let record = read_json(&s, &output, &written[0]).await;
    assert_eq!(record["received_at"], stored.as_str(), "{record}");
}

#[tokio::test]
async fn an_oversized_mail_is_not_read_and_reports_its_real_size() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_dir(
        dir.path(),
        "[settings]\nmax_input_bytes = 2000\n\n[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n",
        &[],
    );
    let mut big = mail("portal-lead.eml");
    big.extend(std::iter::repeat_n(b'x', 50_000 - big.len()));
    put(&s, &input, "inbound/big", big).await;
    let host = host(
        &endpoint,
        Settings::new(ConfigLocation::File(config), &output),
    )
    .await;
    host.handle(s3_event(&input, "inbound/big"), "req")
        .await
        .unwrap();
    let written = keys(&s, &output, "").await;
    let record = read_json(&s, &output, &written[0]).await;
    assert_eq!(record["status"], "failed");
    assert_eq!(record["input_bytes"], 50_000);
    assert_eq!(record["errors"][0]["code"], "too_large");
    assert_eq!(
        record["errors"][0]["message"],
        "input is 50000 bytes, over the limit of 2000 bytes; it was not parsed"
    );
    assert!(record["received_at"].is_string(), "{record}");
}
