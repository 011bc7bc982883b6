//! Spoofing: only the receiver's own `Authentication-Results` counts.

use mailex_core::{AuthVerdicts, Input, Status};
use mailex_tests::{engine, fixture};

const ROUTE: &str = r#"
[[route]]
name = "harbor-homes"
sender = "*@notify.harborhomes.example"
extractor = "builtin:lead-meta"
"#;

#[test]
fn forged_results_never_pass() {
    let engine = engine(ROUTE);
    for name in [
        "spoofed-forged-below-received.eml",
        "spoofed-forged-directly-below-block.eml",
        "spoofed-no-trusted-receiver.eml",
    ] {
        let raw = std::fs::read(fixture("records").join(name)).unwrap();
        let record = engine.process(&Input::new(&raw, name));
        assert_eq!(record.status, Status::Unauthenticated, "{name}");
        assert!(record.fields.is_empty(), "{name}: no extractor may run");
        assert!(record.extractor.is_none(), "{name}");
        assert_eq!(record.errors[0].code, "unauthenticated");
    }
}

#[test]
fn the_same_mail_passes_with_a_real_verdict_and_policy_none() {
    let raw = std::fs::read(fixture("records/spoofed-forged-below-received.eml")).unwrap();
    // An SES receipt verdict supplied by the host replaces the headers.
    let mut input = Input::new(&raw, "x");
    input.auth = Some(AuthVerdicts::from_ses_receipt("PASS", "PASS", "PASS"));
    assert_ne!(
        engine(ROUTE).process(&input).status,
        Status::Unauthenticated
    );
    // A route that requires nothing runs its extractor.
    let lax = ROUTE.replace("extractor =", "require_auth = \"none\"\nextractor =");
    assert_ne!(
        engine(&lax).process(&Input::new(&raw, "x")).status,
        Status::Unauthenticated
    );
}

#[test]
fn forged_results_are_reported_as_ignored() {
    let raw = std::fs::read(fixture("records/spoofed-forged-below-received.eml")).unwrap();
    let record = engine(ROUTE).process(&Input::new(&raw, "x"));
    assert!(
        record
            .warnings
            .iter()
            .any(|w| w.code == "auth_results_ignored"),
        "{:?}",
        record.warnings
    );
}
