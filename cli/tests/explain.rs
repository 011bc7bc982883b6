//! `mailex extract --explain`: the per-field trace of `??` alternatives, on a rule file written
//! so that each outcome (chosen, no value from a named call, rejected by the type, not tried,
//! skipped profile) occurs once, and on the example inbox.

mod common;

use common::{mailex, mailex_in, ok, stderr, stdout};

const RULES: &str = r#"version 1

profile "other-layout" priority 10 {
  match { subject contains "Quote request" or subject contains "Tour request" }
  field name: text required = text.after("Name:").line
}

profile "inquiry" {
  match { subject contains "Inquiry" }
  field name: person_name required = text.after("Full name:").line ?? text.after("Name:").line ?? subject
  field email: email = text.after("Mail:").line ?? text.after("Email:").line ?? reply_to.address
  field phone: phone(region: "US") = text.after("Fax:").line
}
"#;

const MAIL: &str = "From: leads@portal.example\r\n\
Reply-To: reply@portal.example\r\n\
Subject: Inquiry about 12 Elm St\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Name: Jane Roe\r\n\
Email: not an address\r\n";

const CONFIG: &str = r#"[[route]]
name = "portal"
sender = "*@portal.example"
require_auth = "none"
extractor = "inquiry.rules"
"#;

#[test]
fn explain_traces_every_alternative_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inquiry.rules"), RULES).unwrap();
    std::fs::write(dir.path().join("mailex.toml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("lead.eml"), MAIL).unwrap();

    let output = ok(mailex_in(dir.path(), &["extract", "--explain", "lead.eml"]));
    let trace = stderr(&output);
    let expected = [
        "== lead.eml: extracted (extractor `inquiry.rules`, rule file)",
        "profile `other-layout`: skipped, no condition held in \
         `subject contains \"Quote request\" or subject contains \"Tour request\"`",
        "profile `inquiry`: chosen",
        "field `name` (person_name, required):",
        "  1/3 text.after(\"Full name:\").line: no value from `after(\"Full name:\")`",
        "  2/3 text.after(\"Name:\").line: chosen, \"Jane Roe\"",
        "  3/3 subject: not tried",
        "field `email` (email):",
        "  2/3 text.after(\"Email:\").line: found \"not an address\", rejected: ",
        "  3/3 reply_to.address: chosen, \"reply@portal.example\"",
        "field `phone` (phone):",
        "  1/1 text.after(\"Fax:\").line: no value from `after(\"Fax:\")`",
        "  => no value",
    ];
    for line in expected {
        assert!(trace.contains(line), "no `{line}` in:\n{trace}");
    }
    // The record itself is unchanged by --explain.
    let plain = ok(mailex_in(dir.path(), &["extract", "lead.eml"]));
    assert_eq!(stdout(&output), stdout(&plain));
    assert!(stderr(&plain).is_empty(), "no trace without --explain");
}

#[test]
fn explain_says_why_there_is_no_trace() {
    let output = ok(mailex(&[
        "extract",
        "--explain",
        "--config",
        "examples/mailex.toml",
        "examples/inbox/adf-carportal-html.eml",
        "examples/inbox/unknown-sender.eml",
    ]));
    let trace = stderr(&output);
    assert!(
        trace.contains("built-in extractors do not explain their steps"),
        "{trace}"
    );
    assert!(
        trace.contains("no extractor ran (see the record's errors); `mailex route` explains"),
        "{trace}"
    );
}

/// The example output in docs/cli.md is what the command prints: each of its lines appears in
/// the trace, in order.
#[test]
fn the_documented_explanation_is_what_runs() {
    let guide = std::fs::read_to_string(common::root().join("docs/cli.md")).unwrap();
    let section = &guide[guide.find("## mailex extract --explain").unwrap()..];
    let block = section.split("```text\n").nth(1).unwrap();
    let documented = &block[..block.find("```").unwrap()];
    let output = ok(mailex(&[
        "extract",
        "--explain",
        "--config",
        "examples/mailex.toml",
        "examples/inbox/lead-yelp.eml",
    ]));
    let trace = stderr(&output);
    let mut rest = trace.as_str();
    for line in documented.lines() {
        let at = rest.find(line).unwrap_or_else(|| {
            panic!("documented line `{line}` is not in (the rest of):\n{trace}")
        });
        rest = &rest[at + line.len()..];
    }
    assert!(documented.lines().count() >= 8);
}

/// A hostile mail cannot drive the author's terminal through `--explain`: control characters in
/// quoted values are escaped, and a long value is cut.
#[test]
fn explain_escapes_control_characters_and_cuts_long_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inquiry.rules"), RULES).unwrap();
    std::fs::write(dir.path().join("mailex.toml"), CONFIG).unwrap();
    let long = "x".repeat(5000);
    let mail = MAIL.replace(
        "Email: not an address\r\n",
        &format!("Email: \u{1b}]0;pwned\u{7}\u{1b}[2J{long}\r\n"),
    );
    std::fs::write(dir.path().join("lead.eml"), mail).unwrap();
    let output = ok(mailex_in(dir.path(), &["extract", "--explain", "lead.eml"]));
    let trace = stderr(&output);
    assert!(!trace.contains('\u{1b}'), "raw ESC in:\n{trace:?}");
    assert!(!trace.contains('\u{7}'), "raw BEL in:\n{trace:?}");
    assert!(trace.contains("\\u{1b}]0;pwned"), "{trace}");
    assert!(!trace.contains(&long), "the long value is cut");
    assert!(trace.lines().all(|l| l.len() < 400), "{trace}");
}
