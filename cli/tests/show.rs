//! `mailex show` on real emails: every view, JSON, routing and authentication under a config,
//! stdin and nested messages, and what it refuses.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{extract, mailex, ok, root, stderr, stdout};
use mailex_core::Email;
use mailex_core::rules::RuleSet;
use serde_json::Value;

fn show_json(args: &[&str]) -> Value {
    let mut all = vec!["show", "--json"];
    all.extend(args);
    serde_json::from_str(&stdout(&ok(mailex(&all)))).expect("show --json prints JSON")
}

#[test]
fn show_prints_the_views_extractors_read() {
    let output = ok(mailex(&["show", "examples/inbox/lead-zillow.eml"]));
    let text = stdout(&output);
    for section in [
        "== headers (decoded)",
        "== addresses",
        "== text view (`text`)",
        "== html (`html`)",
        "== meta tags",
        "== ADF",
        "== attachments",
        "== charset issues",
        "== nested messages",
        "== authentication",
    ] {
        assert!(text.contains(section), "no `{section}` in:\n{text}");
    }
    assert!(text.contains("Subject: "), "{text}");
    assert!(
        text.contains("routed From (what routing and authentication use): "),
        "{text}"
    );
    assert!(text.contains("says:"), "the text view is shown:\n{text}");
    assert!(stderr(&output).is_empty(), "nothing of the mail on stderr");
}

#[test]
fn show_json_has_meta_tags_adf_paths_and_attachments() {
    let meta = show_json(&["examples/inbox/lead-meta-harbor-homes.eml"]);
    let tags: Vec<&str> = meta["meta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"lead_email"), "{tags:?}");
    assert_eq!(meta["routed_from"], "inquiries@notify.harborhomes.example");
    assert!(meta["html_bytes"].as_u64().unwrap() > 0);
    assert!(meta.get("html").is_none(), "the HTML only with --html");

    let adf = show_json(&["--html", "examples/inbox/adf-carportal-attachment.eml"]);
    assert_eq!(adf["adf"]["origin"], "attachment 1");
    let values: BTreeMap<&str, &str> = adf["adf"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .collect();
    assert_eq!(
        values["prospect/customer/contact/email"],
        "Avery.Quinlan@Example.com"
    );
    assert_eq!(
        values["prospect/customer/contact/name[part=first]"],
        "Avery"
    );
    // Each shown path is one `adf(...)` reads back: check them all through a rule file.
    let raw = std::fs::read(root().join("examples/inbox/adf-carportal-attachment.eml")).unwrap();
    let email = Email::parse(&raw).unwrap();
    let mut rules = String::from("version 1\nprofile \"p\" {\n");
    let shown: Vec<(&&str, &&str)> = values.iter().filter(|(_, v)| !v.is_empty()).collect();
    for (i, (path, _)) in shown.iter().enumerate() {
        rules.push_str(&format!("  field f{i}: text optional = adf({path:?})\n"));
    }
    rules.push_str("}\n");
    let rules = RuleSet::compile("adf.rules", &rules, Path::new(".")).unwrap();
    let fields = extract(&rules, &email);
    for (i, (path, value)) in shown.iter().enumerate() {
        assert_eq!(
            fields.get(&format!("f{i}")).map(String::as_str),
            Some(**value),
            "adf({path:?})"
        );
    }
    let attachment = &adf["attachments"][0];
    assert_eq!(attachment["name"], "lead.xml");
    assert_eq!(attachment["content_type"], "application/xml");
    assert!(attachment["size"].as_u64().unwrap() > 500);
    assert!(
        adf["html"].is_null(),
        "a mail without HTML has none to print"
    );
}

#[test]
fn show_with_a_config_says_which_route_matches_and_its_auth_verdict() {
    let good = show_json(&[
        "--config",
        "examples/mailex.toml",
        "examples/inbox/lead-meta-harbor-homes.eml",
    ]);
    assert_eq!(good["routing"]["route"], "harbor-homes");
    assert_eq!(good["routing"]["auth"]["dmarc"], "pass");
    assert_eq!(good["routing"]["auth"]["policy"], "dmarc");
    assert_eq!(good["routing"]["auth"]["passed"], true);
    let chosen: Vec<&Value> = good["routing"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["chosen"] == true)
        .collect();
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0]["route"], "harbor-homes");

    let spoofed = ok(mailex(&[
        "show",
        "--config",
        "examples/mailex.toml",
        "examples/inbox/spoofed-harbor-homes.eml",
    ]));
    let text = stdout(&spoofed);
    assert!(text.contains("== routing and authentication"), "{text}");
    assert!(text.contains("result: unauthenticated"), "{text}");
    assert!(text.contains("require_auth=dmarc (not met)"), "{text}");
    assert!(text.contains("record status: unauthenticated"), "{text}");

    let unknown = show_json(&[
        "--config",
        "examples/mailex.toml",
        "examples/inbox/unknown-sender.eml",
    ]);
    assert_eq!(unknown["routing"]["status"], "unmatched");
    assert!(unknown["routing"]["route"].is_null());
}

#[test]
fn show_reads_stdin_and_shows_nested_messages() {
    let raw = std::fs::read(root().join("tests/fixtures/adf/forwarded.eml")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["show", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let output = ok(child.wait_with_output().unwrap());
    let view: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["source"], "-");
    let nested = view["nested"].as_array().unwrap();
    assert_eq!(nested.len(), 1, "{view}");
    assert!(nested[0]["routed_from"].is_string());
    assert!(!nested[0]["headers"].as_array().unwrap().is_empty());
}

#[test]
fn show_refuses_what_is_not_an_email_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("noise.eml");
    std::fs::write(&path, "secret-token-1234\n".repeat(3)).unwrap();
    let output = mailex(&["show", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    assert!(err.contains("parse_error"), "{err}");
    assert!(!err.contains("secret-token"), "{err}");
    let missing = mailex(&["show", "no/such/mail.eml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("not_found"));
}
