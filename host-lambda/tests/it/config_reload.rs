//! Configs from S3: pushed as versions with a pointer written last, loaded at cold start,
//! swapped when the pointer moves, a broken version rejected while the last good one keeps
//! serving, also across a cold start.

use std::time::Duration;

use mailex_lambda::config_store::{self, Pushed};
use mailex_lambda::{ConfigLocation, Host, Refresh, Settings};

use super::common::*;
use crate::s3_or_skip;

pub const GOOD: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"rules/portal.rules\"\n";
pub const RENAMED: &str = "[[route]]\nname = \"portal-v2\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"rules/portal.rules\"\n";
pub const BROKEN: &str = "[[route]]\nname = \"portal\"\nsender = \n";

/// A rule file for `portal-lead.eml`, with a test block whose fixture is not deployed.
pub const PORTAL_RULES: &str = r#"version 1
profile "portal" {
  match { from.address ends_with "@portal.example" }
  field name: person_name required = meta("lead_name")
  field email: email required = meta("lead_email")
}

test "the portal lead" {
  input "../fixtures/portal-lead.eml"
  expect {
    email = "test.person@example.com"
  }
}
"#;

fn s3_settings_for(bucket: &str, output: &str) -> Settings {
    let mut settings = Settings::new(
        ConfigLocation::S3 {
            bucket: bucket.to_owned(),
            prefix: "config/".into(),
        },
        output,
    );
    settings.config_refresh = Duration::from_millis(0);
    settings
}

#[tokio::test]
async fn pushed_versions_are_swapped_and_broken_ones_rejected_also_at_cold_start() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (config_bucket, output, input) = (
        unique_bucket("cfg"),
        unique_bucket("out"),
        unique_bucket("in"),
    );
    create_bucket(&s, &output).await;
    put(&s, &input, "m.eml", mail("portal-lead.eml")).await;
    let dir = tempfile::tempdir().unwrap();
    let files = [("rules/portal.rules", PORTAL_RULES)];
    let v1 = push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(&dir.path().join("v1"), GOOD, &files),
    )
    .await;
    let host = host(&endpoint, s3_settings_for(&config_bucket, &output)).await;
    assert_eq!(host.engine().current().fingerprint, v1);
    assert_eq!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Unchanged
    );

    // Pushing a broken config is refused before anything is uploaded.
    let broken_dir = config_dir(&dir.path().join("broken"), BROKEN, &[]);
    let refused = config_store::stage(&broken_dir, None).expect_err("a broken config is refused");
    assert!(refused.to_string().contains("mailex.toml:3:"), "{refused}");
    let pointer = config_store::read_pointer(&s, &config_bucket, "config/")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pointer.version, v1);

    // A good new version is swapped in; the next invocation uses it.
    let v2 = push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(&dir.path().join("v2"), RENAMED, &files),
    )
    .await;
    host.handle(s3_event(&input, "m.eml"), "req")
        .await
        .expect("handled");
    assert_eq!(host.engine().current().fingerprint, v2);
    let written = keys(&s, &output, "").await;
    let record = read_json(&s, &output, &written[0]).await;
    assert_eq!(record["advertiser"], "portal-v2");
    assert_eq!(record["extractor"]["name"], "rules/portal.rules");

    // A broken version that got in anyway (uploaded by hand, or written for a newer mailex) is
    // rejected by the running function, which keeps v2...
    let v3 = force_version(
        &s,
        &config_bucket,
        "config/",
        &[("mailex.toml", BROKEN)],
        &[&v2, &v1],
    )
    .await;
    match host.engine().refresh_now(host.store()).await {
        Refresh::Rejected { version, reason } => {
            assert_eq!(version, v3);
            assert!(reason.contains("mailex.toml:3:"), "{reason}");
            assert!(!reason.contains("/tmp"), "{reason}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(host.engine().current().fingerprint, v2);
    // ...and does not retry it on every check.
    assert_eq!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Unchanged
    );

    // A cold start serves the newest previous version that loads.
    let cold = super::common::host(&endpoint, s3_settings_for(&config_bucket, &output)).await;
    assert_eq!(cold.engine().current().fingerprint, v2);
    assert_eq!(
        cold.engine().refresh_now(cold.store()).await,
        Refresh::Unchanged,
        "the rejected current version is remembered"
    );

    // Rolling back moves the pointer; the running function follows.
    config_store::activate(&s, &config_bucket, "config/", &v1)
        .await
        .expect("activate v1");
    assert_eq!(
        host.engine().refresh_now(host.store()).await,
        Refresh::Swapped {
            fingerprint: v1.clone()
        }
    );
    // Pushing the version in service again changes nothing.
    let again = config_store::stage(&config_dir(&dir.path().join("v1"), GOOD, &files), None)
        .expect("stages");
    assert!(matches!(
        config_store::push(&s, &config_bucket, "config/", &again).await,
        Ok(Pushed::Unchanged(_))
    ));
    let mut listed = config_store::list_versions(&s, &config_bucket, "config/")
        .await
        .unwrap();
    listed.sort();
    let mut expected = vec![v1, v2, v3];
    expected.sort();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn a_tampered_file_is_rejected_and_the_previous_version_serves() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (config_bucket, output) = (unique_bucket("cfg"), unique_bucket("out"));
    let dir = tempfile::tempdir().unwrap();
    let files = [("rules/portal.rules", PORTAL_RULES)];
    let v1 = push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(&dir.path().join("v1"), GOOD, &files),
    )
    .await;
    let v2 = push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(&dir.path().join("v2"), RENAMED, &files),
    )
    .await;
    // Someone edits a file of v2 in place: it no longer matches the manifest.
    put(
        &s,
        &config_bucket,
        &format!("config/versions/{v2}/rules/portal.rules"),
        b"version 1\n".to_vec(),
    )
    .await;
    let host = host(&endpoint, s3_settings_for(&config_bucket, &output)).await;
    assert_eq!(host.engine().current().fingerprint, v1);
}

#[tokio::test]
async fn without_a_loadable_config_the_cold_start_fails_clearly() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let config_bucket = unique_bucket("cfg");
    create_bucket(&s, &config_bucket).await;
    let mut settings = s3_settings_for(&config_bucket, "out");
    settings.s3 = s3_settings(&endpoint);
    let error = Host::new(settings.clone(), s.clone())
        .await
        .expect_err("nothing pushed yet");
    assert_eq!(error.error_type(), "Mailex.ConfigError");
    assert!(error.to_string().contains("mailex config push"), "{error}");

    force_version(
        &s,
        &config_bucket,
        "config/",
        &[("mailex.toml", BROKEN)],
        &[],
    )
    .await;
    let error = Host::new(settings, s)
        .await
        .expect_err("only a broken version");
    assert!(error.to_string().contains("mailex.toml:3:"), "{error}");
}
