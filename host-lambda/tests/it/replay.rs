//! Replay over a folder and over an S3 prefix: what changed per advertiser, unchanged mail
//! rewritten never, one record per mail always.

use mailex_lambda::replay::{Location, ReplayOptions, Selection, replay};

use super::common::*;
use crate::s3_or_skip;

const V1: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";
const V2: &str = "[[route]]\nname = \"portal\"\nsender = \"*@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n\n\
[[route]]\nname = \"unknown-co\"\nsender = \"*@unknown.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";

#[tokio::test]
async fn replay_folder_to_folder_reports_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, records) = two_mail_inbox(dir.path());
    std::fs::write(dir.path().join("v1.toml"), V1).unwrap();
    std::fs::write(dir.path().join("v2.toml"), V2).unwrap();
    let options = |config: &str| ReplayOptions {
        config: dir.path().join(config),
        input: Location::Dir(inbox.clone()),
        records: Some(Location::Dir(records.clone())),
        write: true,
        concurrency: 2,
        progress: false,
        selection: Default::default(),
        delivery_secrets: None,
    };
    let first = replay(options("v1.toml"), None).await.expect("replay v1");
    assert_eq!(first.inputs, 2);
    assert_eq!(first.per_advertiser["portal"].new, 1);
    assert_eq!(first.per_advertiser["_none"].new, 1);
    assert_eq!(first.written, 2);

    let again = replay(options("v1.toml"), None)
        .await
        .expect("replay v1 again");
    assert_eq!(again.per_advertiser["portal"].unchanged, 1, "{again}");
    assert_eq!(again.per_advertiser["_none"].unchanged, 1, "{again}");
    assert_eq!(again.written, 0, "unchanged records are not rewritten");

    let second = replay(options("v2.toml"), None).await.expect("replay v2");
    assert_eq!(second.per_advertiser["portal"].unchanged, 1);
    assert_eq!(second.per_advertiser["unknown-co"].moved_in, 1);
    assert_eq!(second.per_advertiser["_none"].moved_out, 1);
    assert_eq!(second.written, 1);
    let text = second.to_string();
    assert!(text.contains("unknown-co"), "{text}");
    // Still exactly one record per input.
    assert_eq!(walk_count(&records), 2);
}

/// An inbox folder with a portal lead and a mail of an unknown sender, and where their records
/// go.
fn two_mail_inbox(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    for name in ["portal-lead.eml", "unknown-sender.eml"] {
        std::fs::copy(data(&format!("mail/{name}")), inbox.join(name)).unwrap();
    }
    (inbox, dir.join("records"))
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

/// Writes the Lambda's records for `inbound/a` (portal) and `inbound/b` (unknown sender).
async fn lambda_records(endpoint: &str) -> (mailex_lambda::S3Store, String, String) {
    let s = store(endpoint).await;
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
    let host = host(endpoint, settings(&output, "unused")).await;
    for key in ["inbound/a", "inbound/b"] {
        host.handle(s3_event(&input, key), "req")
            .await
            .expect("handled");
    }
    (s, input, output)
}

#[tokio::test]
async fn replay_of_unchanged_mail_rewrites_nothing() {
    let endpoint = s3_or_skip!();
    let (s, input, output) = lambda_records(&endpoint).await;
    let mut before = Vec::new();
    for key in keys(&s, &output, "records/").await {
        let bytes = s.get_capped(&output, &key, 1 << 20).await.unwrap().bytes;
        before.push((key, bytes));
    }
    // Replay through a proxy that counts writes, with the function's own config.
    let proxy = FaultProxy::start(&endpoint);
    let counted = store(&proxy.endpoint).await;
    let summary = replay(
        ReplayOptions {
            config: data("mailex.toml"),
            input: Location::parse(&format!("s3://{input}/inbound/")).unwrap(),
            records: Some(Location::parse(&format!("s3://{output}/records/")).unwrap()),
            write: true,
            concurrency: 4,
            progress: false,
            selection: Default::default(),
            delivery_secrets: None,
        },
        Some(counted),
    )
    .await
    .expect("replay");
    assert_eq!(summary.inputs, 2, "{summary}");
    assert_eq!(summary.per_advertiser["portal"].unchanged, 1, "{summary}");
    assert_eq!(summary.per_advertiser["_none"].unchanged, 1, "{summary}");
    assert_eq!((summary.written, summary.removed), (0, 0), "{summary}");
    assert_eq!(proxy.get().seen_put, 0, "no write reached S3");
    for (key, bytes) in before {
        let now = s.get_capped(&output, &key, 1 << 20).await.unwrap().bytes;
        assert_eq!(now, bytes, "{key} changed");
    }
}

#[tokio::test]
async fn replay_after_a_change_keeps_one_record_per_mail_and_removes_old_layout_keys() {
    let endpoint = s3_or_skip!();
    let (s, input, output) = lambda_records(&endpoint).await;
    // A copy left by the earlier partitioned layout, for mail `b`.
    let id_b = mailex_lambda::object_id(&input, "inbound/b");
    let current = s
        .get_capped(&output, &format!("records/{id_b}.json"), 1 << 20)
        .await
        .unwrap()
        .bytes;
    let legacy = format!("records/status=unmatched/advertiser=_none/dt=2017-09-29/{id_b}.json");
    put(&s, &output, &legacy, current).await;

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
            selection: Default::default(),
            delivery_secrets: None,
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
    assert_eq!((summary.written, summary.removed), (1, 1), "{summary}");
    let mut written = keys(&s, &output, "records/").await;
    written.sort();
    let id_a = mailex_lambda::object_id(&input, "inbound/a");
    let mut expected = vec![
        format!("records/{id_a}.json"),
        format!("records/{id_b}.json"),
    ];
    expected.sort();
    assert_eq!(written, expected);
    let moved = read_json(&s, &output, &format!("records/{id_b}.json")).await;
    assert_eq!(moved["advertiser"], "unknown-co");
}

#[tokio::test]
async fn filters_select_mails_by_stored_record_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, records) = two_mail_inbox(dir.path());
    std::fs::write(dir.path().join("v1.toml"), V1).unwrap();
    std::fs::write(dir.path().join("v2.toml"), V2).unwrap();
    let options = |config: &str, selection: Selection| ReplayOptions {
        config: dir.path().join(config),
        input: Location::Dir(inbox.clone()),
        records: Some(Location::Dir(records.clone())),
        write: false,
        concurrency: 2,
        progress: false,
        selection,
        delivery_secrets: None,
    };
    let mut first = options("v1.toml", Selection::default());
    first.write = true;
    replay(first, None).await.expect("replay v1");

    // By the stored record's advertiser: only the portal mail.
    let portal = Selection {
        advertisers: vec!["portal".into()],
        ..Selection::default()
    };
    let summary = replay(options("v2.toml", portal), None).await.unwrap();
    assert_eq!((summary.inputs, summary.not_selected), (1, 1), "{summary}");
    assert_eq!(summary.per_advertiser["portal"].unchanged, 1, "{summary}");
    assert!(
        summary
            .to_string()
            .contains("1 stored mails were not selected")
    );

    // By the stored record's status: the unmatched mail, which v2 now routes.
    let unmatched = Selection {
        statuses: vec!["unmatched".into()],
        ..Selection::default()
    };
    let summary = replay(options("v2.toml", unmatched), None).await.unwrap();
    assert_eq!((summary.inputs, summary.not_selected), (1, 1), "{summary}");
    assert_eq!(
        summary.per_advertiser["unknown-co"].moved_in, 1,
        "{summary}"
    );
    assert!(!summary.per_advertiser.contains_key("portal"), "{summary}");

    // By issue code: no stored record carries `virus`.
    let virus = Selection {
        issues: vec!["virus".into()],
        ..Selection::default()
    };
    let summary = replay(options("v2.toml", virus), None).await.unwrap();
    assert_eq!((summary.inputs, summary.not_selected), (0, 2), "{summary}");

    // By time: the files were written just now, so a window that ends an hour ago takes none
    // and one that starts an hour ago takes both.
    let now = chrono::Utc::now().timestamp();
    let past = Selection {
        until: Some(now - 3600),
        ..Selection::default()
    };
    let summary = replay(options("v2.toml", past), None).await.unwrap();
    assert_eq!((summary.inputs, summary.not_selected), (0, 2), "{summary}");
    let recent = Selection {
        since: Some(now - 3600),
        ..Selection::default()
    };
    let summary = replay(options("v2.toml", recent), None).await.unwrap();
    assert_eq!((summary.inputs, summary.not_selected), (2, 0), "{summary}");

    // Record filters without a records location are refused, not ignored.
    let mut no_records = options(
        "v2.toml",
        Selection {
            statuses: vec!["partial".into()],
            ..Selection::default()
        },
    );
    no_records.records = None;
    let refused = replay(no_records, None).await.expect_err("needs records");
    assert!(
        refused.to_string().contains("records location"),
        "{refused}"
    );
}

#[test]
fn the_replay_binary_has_help_filters_and_a_json_summary() {
    let bin = env!("CARGO_BIN_EXE_mailex-replay");
    let help = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--since",
        "--until",
        "--advertiser",
        "--status",
        "--issue",
        "--json",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }

    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::copy(data("mail/portal-lead.eml"), inbox.join("a.eml")).unwrap();
    std::fs::write(dir.path().join("v1.toml"), V1).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(bin)
            .arg("--config")
            .arg(dir.path().join("v1.toml"))
            .arg("--input")
            .arg(&inbox)
            .arg("--records")
            .arg(dir.path().join("records"))
            .arg("--no-progress")
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--json", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["inputs"], 1, "{summary}");
    assert_eq!(summary["written"], 1, "{summary}");
    assert_eq!(summary["per_advertiser"]["portal"]["new"], 1, "{summary}");

    for bad in [
        &["--status", "done"][..],
        &["--issue", "no_such_code"],
        &["--since", "last tuesday"],
        &["--concurrency", "0"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{bad:?}: no error message");
    }
}

#[tokio::test]
async fn replay_delivers_each_record_once_per_sink_with_markers_beside_the_records() {
    use mailex_tests::receiver::{Answer, Receiver};
    let receiver = Receiver::accepting();
    let dir = tempfile::tempdir().unwrap();
    let (inbox, records) = two_mail_inbox(dir.path());
    let config = format!(
        "{V1}\n[[sink]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"CRM_SECRET\"\nmax_attempts = 1\n",
        receiver.url
    );
    std::fs::write(dir.path().join("v1.toml"), config).unwrap();
    let options = || ReplayOptions {
        config: dir.path().join("v1.toml"),
        input: Location::Dir(inbox.clone()),
        records: Some(Location::Dir(records.clone())),
        write: true,
        concurrency: 2,
        progress: false,
        selection: Selection::default(),
        delivery_secrets: Some(std::sync::Arc::new(|name: &str| {
            (name == "CRM_SECRET").then(|| "s3cret".to_owned())
        })),
    };

    // First replay: the extracted lead goes to the sink (the unmatched mail is not in the
    // sink's default filter), and its marker lies beside its record.
    let first = replay(options(), None).await.expect("replay with delivery");
    assert_eq!(first.deliveries.delivered, 1, "{first}");
    assert_eq!(first.deliveries.failed, 0, "{first}");
    let posts = receiver.received();
    assert_eq!(posts.len(), 1);
    let id = posts[0]
        .header("Mailex-Record-Id")
        .expect("record id header")
        .to_owned();
    assert!(records.join(format!("{id}.json")).is_file());
    assert!(records.join(format!("{id}.json.delivered/crm")).is_file());
    assert!(
        first.to_string().contains("deliveries: 1 delivered"),
        "{first}"
    );

    // Replaying again sends nothing: the marker says the sink has it.
    let again = replay(options(), None).await.expect("replay again");
    assert_eq!(again.deliveries.already_delivered, 1, "{again}");
    assert_eq!(again.deliveries.delivered, 0, "{again}");
    assert_eq!(receiver.received().len(), 1, "no second POST");

    // A sink that fails is counted and named, and the record stays undelivered for the next
    // replay (its marker is not written).
    std::fs::remove_dir_all(records.join(format!("{id}.json.delivered"))).unwrap();
    receiver.answer_with(|_| Answer::Status(503));
    let failing = replay(options(), None)
        .await
        .expect("replay with a failing sink");
    assert_eq!(failing.deliveries.failed, 1, "{failing}");
    assert!(
        failing
            .errors
            .iter()
            .any(|e| e.contains("sink `crm` failed")),
        "{failing}"
    );
    assert!(!records.join(format!("{id}.json.delivered/crm")).exists());

    // Delivery without --write is refused, not skipped.
    let mut unwritten = options();
    unwritten.write = false;
    let refused = replay(unwritten, None).await.expect_err("needs write");
    assert!(refused.to_string().contains("--write"), "{refused}");
}
