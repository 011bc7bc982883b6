//! Replay over a folder and over an S3 prefix, with a summary per advertiser.

use mailex_lambda::replay::{Location, ReplayOptions, replay};

use super::common::*;
use crate::s3_or_skip;

const V1: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";
const V2: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n\n\
[[route]]\nname = \"unknown-co\"\nsender = \"*@unknown.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";

#[tokio::test]
async fn replay_folder_to_folder_reports_changes() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let records = dir.path().join("records");
    std::fs::create_dir_all(&inbox).unwrap();
    for name in ["portal-lead.eml", "unknown-sender.eml"] {
        std::fs::copy(data(&format!("mail/{name}")), inbox.join(name)).unwrap();
    }
    std::fs::write(dir.path().join("v1.toml"), V1).unwrap();
    std::fs::write(dir.path().join("v2.toml"), V2).unwrap();
    let options = |config: &str| ReplayOptions {
        config: dir.path().join(config),
        input: Location::Dir(inbox.clone()),
        records: Some(Location::Dir(records.clone())),
        write: true,
        concurrency: 2,
        progress: false,
    };
    let first = replay(options("v1.toml"), None).await.expect("replay v1");
    assert_eq!(first.inputs, 2);
    assert_eq!(first.per_advertiser["portal"].new, 1);
    assert_eq!(first.per_advertiser["_none"].new, 1);

    let second = replay(options("v2.toml"), None).await.expect("replay v2");
    assert_eq!(second.per_advertiser["portal"].unchanged, 1);
    assert_eq!(second.per_advertiser["unknown-co"].moved_in, 1);
    assert_eq!(second.per_advertiser["_none"].moved_out, 1);
    assert_eq!(second.removed, 1);
    let text = second.to_string();
    assert!(text.contains("unknown-co"), "{text}");
    // Still exactly one record per input.
    let count = walk_count(&records);
    assert_eq!(count, 2);
}

fn walk_count(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            n += walk_count(&entry.path());
        } else {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn replay_s3_prefix_updates_the_lambdas_records() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    put(&s, &input, "inbound/a", mail("portal-lead.eml")).await;
    put(&s, &input, "inbound/b", mail("unknown-sender.eml")).await;
    put(
        &s,
        &input,
        "inbound/AMAZON_SES_SETUP_NOTIFICATION",
        b"setup".to_vec(),
    )
    .await;
    // The Lambda's records first.
    let host = host(&endpoint, settings(&output, "unused")).await;
    for key in ["inbound/a", "inbound/b"] {
        let event = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "eventTime": "2026-11-26T10:00:00Z", "s3": {"bucket": {"name": input}, "object": {"key": key}}}]});
        host.handle(event, "req").await.expect("handled");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v2.toml"), V2).unwrap();
    let summary = replay(
        ReplayOptions {
            config: dir.path().join("v2.toml"),
            input: Location::parse(&format!("s3://{input}/inbound/")).unwrap(),
            records: Some(Location::parse(&format!("s3://{output}/records/")).unwrap()),
            write: true,
            concurrency: 4,
            progress: true,
        },
        Some(s.clone()),
    )
    .await
    .expect("replay");
    assert_eq!(summary.inputs, 2, "{summary}");
    assert_eq!(summary.per_advertiser["portal"].unchanged, 1, "{summary}");
    assert_eq!(
        summary.per_advertiser["unknown-co"].moved_in, 1,
        "{summary}"
    );
    let written = keys(&s, &output, "records/").await;
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written.iter().any(|k| k.contains("advertiser=unknown-co/")));
}
