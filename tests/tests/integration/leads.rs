//! Real lead emails (tests/fixtures/leads, Elastic License 2.0, see NOTICE.md there) through
//! the example configuration, checked against the corpus's own expected values, independently
//! of the rule files' `test` blocks.

use mailex_core::{Engine, FieldValue, Status};
use mailex_tests::{files_below, fixture, process_file, workspace_root};

fn text(value: Option<&FieldValue>) -> Option<String> {
    value.map(FieldValue::to_display_string)
}

#[test]
fn every_lead_email_is_extracted_with_the_corpus_values() {
    let engine = Engine::load(&workspace_root().join("examples/mailex.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let emails = files_below(&fixture("leads"), &[".eml"]);
    assert_eq!(emails.len(), 22, "the lead fixtures changed");
    let mut failures = Vec::new();
    for path in emails {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expected.json")).unwrap(),
        )
        .unwrap();
        let record = process_file(&engine, &path);
        if record.status != Status::Extracted {
            failures.push(format!(
                "{name}: status {} {:?}",
                record.status, record.errors
            ));
            continue;
        }
        let got_name = text(record.fields.get("name"));
        if got_name.as_deref() != expected["name"].as_str() {
            failures.push(format!("{name}: name {got_name:?} != {}", expected["name"]));
        }
        // The `email` type lower-cases; the corpus keeps the relay addresses' original case.
        let got_email = text(record.fields.get("email")).map(|e| e.to_lowercase());
        let want_email = expected["email"].as_str().map(str::to_lowercase);
        if got_email != want_email {
            failures.push(format!("{name}: email {got_email:?} != {want_email:?}"));
        }
        let got_phone = text(record.fields.get("phone"));
        if got_phone.as_deref() != expected["phone"].as_str() {
            failures.push(format!(
                "{name}: phone {got_phone:?} != {}",
                expected["phone"]
            ));
        }
        for sensitive in ["name", "email"] {
            if record.fields.contains_key(sensitive)
                && !record.sensitive.iter().any(|s| s == sensitive)
            {
                failures.push(format!("{name}: `{sensitive}` is not marked sensitive"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
