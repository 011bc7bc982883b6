//! Config from an S3 prefix: loaded at cold start, swapped when its ETags change, a broken new
//! config rejected while the old one keeps serving.

use std::time::Duration;

use mailex_lambda::{ConfigLocation, Refresh, Settings};

use super::common::*;
use crate::s3_or_skip;

const GOOD: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";
const RENAMED: &str = "[[route]]\nname = \"portal-v2\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";
const BROKEN: &str = "[[route]]\nname = \"portal\"\nsender = \n";

#[tokio::test]
async fn s3_config_is_swapped_and_broken_config_rejected() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (config_bucket, output) = (unique_bucket("cfg"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    put(
        &s,
        &config_bucket,
        "config/mailex.toml",
        GOOD.as_bytes().to_vec(),
    )
    .await;
    let mut settings = Settings::new(
        ConfigLocation::S3 {
            bucket: config_bucket.clone(),
            prefix: "config/".into(),
        },
        &output,
    );
    settings.config_refresh = Duration::from_millis(0);
    let host = host(&endpoint, settings).await;
    let first = host.engine().current().fingerprint.clone();

    assert_eq!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Unchanged
    );

    // A broken config is rejected; the old one serves.
    put(
        &s,
        &config_bucket,
        "config/mailex.toml",
        BROKEN.as_bytes().to_vec(),
    )
    .await;
    assert!(matches!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Rejected { .. }
    ));
    assert_eq!(host.engine().current().fingerprint, first);
    // ...and is not reloaded again and again.
    assert_eq!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Unchanged
    );

    // A good new config is swapped in; the next invocation uses it.
    put(
        &s,
        &config_bucket,
        "config/mailex.toml",
        RENAMED.as_bytes().to_vec(),
    )
    .await;
    let input = unique_bucket("in");
    put(&s, &input, "m.eml", mail("portal-lead.eml")).await;
    let event = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-26T10:00:00Z", "s3": {"bucket": {"name": input}, "object": {"key": "m.eml"}}}]});
    host.handle(event, "req").await.expect("handled"); // refresh_if_due runs first (interval 0)
    assert_ne!(host.engine().current().fingerprint, first);
    let written = keys(&s, &output, "").await;
    assert!(written[0].contains("advertiser=portal-v2/"), "{written:?}");
}

#[tokio::test]
async fn broken_config_at_cold_start_is_fatal() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let config_bucket = unique_bucket("cfg");
    put(
        &s,
        &config_bucket,
        "config/mailex.toml",
        BROKEN.as_bytes().to_vec(),
    )
    .await;
    let mut settings = Settings::new(
        ConfigLocation::S3 {
            bucket: config_bucket,
            prefix: "config/".into(),
        },
        "out",
    );
    settings.s3 = s3_settings(&endpoint);
    assert!(mailex_lambda::Host::new(settings, s).await.is_err());
}
