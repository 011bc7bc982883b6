//! Data-driven record tests: each `tests/fixtures/records/*.eml` and
//! `tests/fixtures/charsets/*.eml` is processed with the config beside it and compared with its
//! `*.expected.json` (only the keys present there).

use std::path::Path;

use mailex_core::{Engine, Status};
use mailex_tests::{files_below, fixture, process_file, subset_differences};

fn check_folder(dir: &Path) -> usize {
    let engine = Engine::load(&dir.join("mailex.toml")).unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut failures = Vec::new();
    for eml in files_below(dir, &[".eml"]) {
        let expected_path = eml.with_extension("expected.json");
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            failures.push(format!("{}: no expected file", eml.display()));
            continue;
        };
        let expected: serde_json::Value =
            serde_json::from_str(&expected).expect("expected files are JSON");
        let record = process_file(&engine, &eml);
        let actual = serde_json::to_value(&record).expect("records serialise");
        let differences = subset_differences(&expected, &actual, "record");
        if !differences.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n  actual: {actual:#}",
                eml.display(),
                differences.join("\n  ")
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    checked
}

#[test]
fn records_match_their_expectations() {
    assert!(check_folder(&fixture("records")) >= 5);
}

/// Lead notifications really encoded in every charset mailex decodes (written by
/// `tests/fixtures/charsets/generate.py`): each extracts its fields exactly.
#[test]
fn every_charset_extracts_its_fields_exactly() {
    assert!(check_folder(&fixture("charsets")) >= 28);
}

#[test]
fn oversized_input_is_failed_without_parsing() {
    let engine = mailex_tests::engine("[settings]\nmax_input_bytes = 100\n");
    let raw = vec![b'a'; 101];
    let record = engine.process(&mailex_core::Input::new(&raw, "big.eml"));
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.errors[0].code, "too_large");
    assert_eq!(record.input_bytes, 101);
    let raw = b"From: a@b.example\r\n\r\nhi\r\n";
    assert_eq!(
        engine
            .process(&mailex_core::Input::new(raw, "small.eml"))
            .status,
        Status::Unmatched
    );
}

#[test]
fn garbage_input_yields_a_record() {
    let engine = mailex_tests::engine("");
    for raw in [&b""[..], b"\0\0\0\xff\xfe", b"\r\n\r\n", b"no colon at all"] {
        let record = engine.process(&mailex_core::Input::new(raw, "garbage"));
        assert!(
            matches!(record.status, Status::Failed | Status::Unmatched),
            "{record:?}"
        );
    }
}

#[test]
fn random_bytes_are_a_parse_error_not_an_unmatched_email() {
    let engine = mailex_tests::engine("");
    // A fixed generator (xorshift), so the bytes are the same on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..50 {
        let raw: Vec<u8> = (0..2000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        assert!(raw.contains(&b':'), "round {round}: a colon somewhere");
        let record = engine.process(&mailex_core::Input::new(&raw, "random"));
        assert_eq!(record.status, Status::Failed, "round {round}");
        assert_eq!(record.errors[0].code, "parse_error", "round {round}");
    }
}

#[test]
fn the_committed_schema_is_current() {
    mailex_tests::assert_committed_json("docs/record.schema.json", &mailex_core::record_schema());
}

#[test]
fn absurdly_nested_html_is_handled_in_linear_time() {
    let engine = mailex_tests::engine(
        "[[route]]\nname = \"x\"\nsender = \"*@x.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n",
    );
    let mut raw = String::from(
        "From: a@x.example\r\nContent-Type: text/html\r\n\r\n<meta name=\"lead_email\" content=\"a@b.example\">",
    );
    raw.push_str(&"<div>".repeat(20_000));
    raw.push_str("deep");
    let record = engine.process(&mailex_core::Input::new(raw.as_bytes(), "deep.eml"));
    assert_eq!(record.status, Status::Extracted, "{record:?}");
    // The text view and meta tags are read by a linear scanner; only a DOM (for CSS selectors)
    // needs the nesting trimmed, and then the email says so.
    let email = mailex_core::Email::parse(raw.as_bytes()).unwrap();
    assert!(
        email.text().ends_with("deep"),
        "{:?}",
        &email.text()[email.text().len().saturating_sub(20)..]
    );
    assert!(!email.html_trimmed().any());
    assert!(email.parse_html_document());
    assert!(email.html_trimmed().nesting);
}
