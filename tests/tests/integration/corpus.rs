//! Robustness sweep over mail-parser's own test corpus (real and malformed MIME; Apache-2.0
//! OR MIT, see tests/fixtures/mime/stalwartlabs-mail-parser/LICENSES): every message yields
//! exactly one record, none panics, and the record survives a JSON round trip.

use mailex_core::{Record, Status};
use mailex_tests::{engine, files_below, fixture, process_file};

/// A catch-all route so every message goes through routing, auth and an extractor.
const CATCH_ALL: &str = r#"
[[route]]
name = "everything"
sender_regex = ".*"
require_auth = "none"
extractor = "builtin:lead-meta"
"#;

#[test]
fn every_corpus_message_yields_exactly_one_record() {
    let dir = fixture("mime/stalwartlabs-mail-parser");
    let files = files_below(&dir, &[]);
    assert!(
        files.len() >= 100,
        "corpus went missing: {} files",
        files.len()
    );
    let engines = [engine(CATCH_ALL), engine("")];
    let mut statuses = std::collections::BTreeMap::new();
    for engine in &engines {
        for path in &files {
            let record = process_file(engine, path);
            assert_eq!(record.source, path.display().to_string());
            let json = serde_json::to_string(&record).expect("records serialise");
            let back: Record = serde_json::from_str(&json).expect("records deserialise");
            assert_eq!(back.status, record.status);
            *statuses.entry(record.status).or_insert(0usize) += 1;
        }
    }
    // Without routes nothing can be extracted: the second engine gives only unmatched/failed.
    assert_eq!(statuses.values().sum::<usize>(), files.len() * 2);
    assert!(
        statuses.get(&Status::Unmatched).copied().unwrap_or(0) >= files.len() / 2,
        "{statuses:?}"
    );
}

#[test]
fn nested_messages_are_emails_of_their_own() {
    // The corpus holds forwarded messages (message/rfc822 parts); each must be reachable as an
    // email with its own headers and text view.
    let mut nested_count = 0;
    let mut with_subject = 0;
    for path in files_below(&fixture("mime/stalwartlabs-mail-parser/eml"), &[".eml"]) {
        let raw = std::fs::read(&path).unwrap();
        let Ok(email) = mailex_core::Email::parse(&raw) else {
            continue;
        };
        let _ = email.text();
        for nested in email.nested() {
            nested_count += 1;
            let _ = nested.text();
            if nested.subject().is_some() {
                with_subject += 1;
            }
        }
    }
    assert!(
        nested_count >= 5,
        "only {nested_count} nested messages found in the corpus"
    );
    assert!(
        with_subject >= nested_count / 2,
        "{with_subject} of {nested_count} nested messages have a subject"
    );
}
