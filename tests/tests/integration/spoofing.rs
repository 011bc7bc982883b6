//! Spoofing: only the receiver's own verdicts count, only for the From address routing used,
//! and only when that From is unambiguous. Every attack of docs/security.md ("Attacks tested:
//! authentication") has a fixture in tests/fixtures/records/ and a check here.

use mailex_core::{AuthVerdicts, Engine, Input, Record, Status, Verdict};
use mailex_tests::{engine, fixture};

const ROUTE: &str = r#"
[[route]]
name = "harbor-homes"
sender = "*@notify.harborhomes.example"
extractor = "builtin:lead-meta"
"#;

fn with_policy(policy: &str) -> Engine {
    engine(&ROUTE.replace(
        "extractor =",
        &format!("require_auth = \"{policy}\"\nextractor ="),
    ))
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture("records").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn process(engine: &Engine, name: &str) -> Record {
    engine.process(&Input::new(&read(name), name))
}

/// No extractor ran and nothing was extracted.
fn assert_not_extracted(record: &Record, name: &str) {
    assert!(record.fields.is_empty(), "{name}: no extractor may run");
    assert!(record.extractor.is_none(), "{name}");
}

fn assert_unauthenticated(record: &Record, name: &str, code: &str) {
    assert_eq!(record.status, Status::Unauthenticated, "{name}: {record:?}");
    assert_eq!(record.advertiser.as_deref(), Some("harbor-homes"), "{name}");
    assert_eq!(record.errors.len(), 1, "{name}: {:?}", record.errors);
    assert_eq!(record.errors[0].code, code, "{name}: {:?}", record.errors);
    assert_eq!(record.auth.passed, Some(false), "{name}");
    assert_not_extracted(record, name);
}

#[test]
fn forged_results_never_pass() {
    let engine = engine(ROUTE);
    for name in [
        "spoofed-forged-below-received.eml",
        "spoofed-forged-directly-below-block.eml",
        "spoofed-no-trusted-receiver.eml",
    ] {
        assert_unauthenticated(&process(&engine, name), name, "unauthenticated");
    }
}

#[test]
fn a_pass_for_another_domain_satisfies_no_policy() {
    // SES really passed DMARC, DKIM and SPF, for evil.example; the From is Harbor Homes.
    let name = "spoofed-dmarc-pass-for-other-domain.eml";
    for policy in ["dmarc", "dkim", "spf"] {
        let record = process(&with_policy(policy), name);
        assert_unauthenticated(&record, name, "unauthenticated");
        assert_eq!(
            record.auth.dmarc,
            Verdict::Pass,
            "the verdict itself is reported"
        );
    }
}

#[test]
fn an_ambiguous_from_is_never_authenticated() {
    for name in [
        "spoofed-two-from-headers.eml",
        "spoofed-from-two-mailboxes.eml",
        "spoofed-from-group.eml",
        "spoofed-from-unclosed-angle.eml",
    ] {
        for policy in ["dmarc", "dkim", "spf"] {
            let record = process(&with_policy(policy), name);
            assert_unauthenticated(&record, name, "ambiguous_from");
            // Routing and authentication looked at the same (first) address.
            assert_eq!(
                record.sender.as_deref(),
                Some("inquiries@notify.harborhomes.example"),
                "{name}"
            );
        }
        // A route that requires nothing still runs, and the record says why it could not
        // have been authenticated.
        let record = process(&with_policy("none"), name);
        assert_ne!(record.status, Status::Unauthenticated, "{name}");
        assert!(
            record.warnings.iter().any(|w| w.code == "ambiguous_from"),
            "{name}: {:?}",
            record.warnings
        );
    }
}

#[test]
fn routing_uses_the_first_of_two_from_headers() {
    // Before, routing took the last From header; now the first, like authentication.
    let name = "spoofed-two-from-headers-evil-first.eml";
    let record = process(&engine(ROUTE), name);
    assert_eq!(record.status, Status::Unmatched, "{record:?}");
    assert_eq!(record.sender.as_deref(), Some("bounce@evil.example"));
    assert!(record.warnings.iter().any(|w| w.code == "ambiguous_from"));
    assert_not_extracted(&record, name);
}

#[test]
fn injected_results_never_pass() {
    let engine = engine(ROUTE);
    for (name, source) in [
        ("spoofed-ar-envelope-from-quoted.eml", "header"),
        ("spoofed-ar-helo-injection.eml", "none"),
        ("spoofed-ar-helo-injection-no-dmarc.eml", "none"),
        ("spoofed-ar-unbalanced-paren.eml", "none"),
        ("spoofed-ar-duplicate-dmarc.eml", "none"),
    ] {
        let record = process(&engine, name);
        assert_unauthenticated(&record, name, "unauthenticated");
        assert_eq!(record.auth.source, source, "{name}");
        if source == "none" {
            assert!(
                record
                    .warnings
                    .iter()
                    .any(|w| w.code == "auth_results_invalid"),
                "{name}: {:?}",
                record.warnings
            );
        }
    }
}

#[test]
fn non_utf8_bytes_in_the_receivers_block_end_trust() {
    let engine = engine(ROUTE);
    for (name, warning) in [
        ("spoofed-latin1-in-ses-received.eml", "auth_block_malformed"),
        ("spoofed-latin1-in-ses-results.eml", "auth_block_malformed"),
    ] {
        let record = process(&engine, name);
        assert_unauthenticated(&record, name, "unauthenticated");
        assert_eq!(record.auth.source, "none", "{name}");
        assert!(
            record.warnings.iter().any(|w| w.code == warning),
            "{name}: {:?}",
            record.warnings
        );
        assert!(
            record
                .warnings
                .iter()
                .any(|w| w.code == "auth_results_ignored"),
            "{name}: the forged block below is reported"
        );
    }
}

#[test]
fn dkim_alignment_follows_the_public_suffix_list() {
    let engine = Engine::load(&fixture("records/mailex.toml")).unwrap_or_else(|e| panic!("{e}"));
    let spoof = process(&engine, "spoofed-dkim-psl-private-suffix.eml");
    assert_eq!(spoof.status, Status::Unauthenticated, "{spoof:?}");
    assert_eq!(spoof.advertiser.as_deref(), Some("victim-pages"));
    assert_not_extracted(&spoof, "spoofed-dkim-psl-private-suffix.eml");
    let genuine = process(&engine, "psl-private-suffix-aligned.eml");
    assert_eq!(genuine.status, Status::Extracted, "{genuine:?}");
}

#[test]
fn ses_receipt_dkim_pass_does_not_stand_in_for_dmarc() {
    let raw = read("lead-meta-authenticated.eml");
    let run = |policy: &str, spf: &str, dkim: &str, dmarc: &str| {
        let mut input = Input::new(&raw, "receipt");
        input.auth = Some(AuthVerdicts::from_ses_receipt(
            spf,
            dkim,
            dmarc,
            Some("0100018c-bounce@notify.harborhomes.example"),
        ));
        with_policy(policy).process(&input)
    };
    let record = run("dmarc", "PASS", "PASS", "FAIL");
    assert_unauthenticated(&record, "receipt dkim PASS dmarc FAIL", "unauthenticated");
    assert_eq!(record.auth.source, "ses_receipt");
    assert_unauthenticated(
        &run("dmarc", "PASS", "PASS", "GRAY"),
        "receipt dmarc GRAY",
        "unauthenticated",
    );
    // The receipt's DKIM verdict names no domain: it never satisfies `dkim`.
    assert_unauthenticated(
        &run("dkim", "PASS", "PASS", "PASS"),
        "receipt dkim policy",
        "unauthenticated",
    );
    // Positive controls: DMARC pass, and an aligned SPF pass.
    assert_eq!(
        run("dmarc", "FAIL", "FAIL", "PASS").status,
        Status::Extracted
    );
    assert_eq!(run("spf", "PASS", "FAIL", "GRAY").status, Status::Extracted);
}

#[test]
fn virus_verdicts_fail_the_record_on_every_path() {
    let engine = engine(ROUTE);
    let record = process(&engine, "virus-in-trusted-block.eml");
    assert_eq!(record.status, Status::Failed, "{record:?}");
    assert_eq!(record.errors[0].code, "virus");
    assert_not_extracted(&record, "virus-in-trusted-block.eml");
    // The receipt's verdict, on a mail whose headers say PASS.
    let raw = read("lead-meta-authenticated.eml");
    let mut input = Input::new(&raw, "receipt");
    input.receipt_virus = Some(Verdict::Fail);
    let record = engine.process(&input);
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.errors[0].code, "virus");
    assert!(record.fields.is_empty());
    // A FAIL copy below the sender's own Received line is the sender's text, not SES's.
    let record = process(&engine, "virus-verdict-copy-below-block.eml");
    assert_eq!(record.status, Status::Extracted, "{record:?}");
    // `mailex route` agrees with `process`.
    let explained = engine.explain(&Input::new(&read("virus-in-trusted-block.eml"), "x"));
    assert!(explained.is_err_and(|why| why.contains("virus")));
}

#[test]
fn explain_agrees_with_process() {
    let engine = with_policy("dmarc");
    for name in [
        "lead-meta-authenticated.eml",
        "spoofed-dmarc-pass-for-other-domain.eml",
        "spoofed-two-from-headers.eml",
        "spoofed-from-group.eml",
        "spoofed-ar-helo-injection.eml",
        "spoofed-latin1-in-ses-received.eml",
    ] {
        let raw = read(name);
        let record = engine.process(&Input::new(&raw, name));
        let report = engine
            .explain(&Input::new(&raw, name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.selection.sender, record.sender, "{name}");
        let explained = report.auth.clone().expect("a route was chosen");
        match (&explained, record.status) {
            (Ok(()), Status::Extracted) => {}
            (Err(failure), Status::Unauthenticated) => {
                assert_eq!(failure.code, record.errors[0].code, "{name}");
                let text = report.to_string();
                let expected = match failure.code.as_str() {
                    "unauthenticated" => "result: unauthenticated: ".to_owned(),
                    code => format!("result: unauthenticated ({code}): "),
                };
                assert!(text.contains(&expected), "{text}");
            }
            other => panic!("{name}: explain and process disagree: {other:?}"),
        }
    }
}

#[test]
fn the_same_mail_passes_with_a_real_verdict_and_policy_none() {
    let raw = read("spoofed-forged-below-received.eml");
    // An SES receipt verdict supplied by the host replaces the headers.
    let mut input = Input::new(&raw, "x");
    input.auth = Some(AuthVerdicts::from_ses_receipt("PASS", "PASS", "PASS", None));
    assert_eq!(engine(ROUTE).process(&input).status, Status::Extracted);
    // A route that requires nothing runs its extractor.
    assert_eq!(
        with_policy("none").process(&Input::new(&raw, "x")).status,
        Status::Extracted
    );
}

#[test]
fn forged_results_are_reported_as_ignored() {
    let record = process(&engine(ROUTE), "spoofed-forged-below-received.eml");
    assert!(
        record
            .warnings
            .iter()
            .any(|w| w.code == "auth_results_ignored"),
        "{:?}",
        record.warnings
    );
}
