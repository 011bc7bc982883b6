//! The resource attacks of [`mailex_tests::hostile`], at sizes a debug build runs quickly: each
//! yields exactly one record with the expected status and code, on a thread whose stack is
//! smaller than any the CLI or the Lambda host gives the engine (the full-size attacks are
//! measured in a release build by `scripts/hostile-inputs.sh`).

use mailex_core::{Engine, Input, Record, Status};
use mailex_tests::hostile::{self, Expect};
use mailex_tests::workspace_root;

/// Below the 2 MiB of rayon workers and tokio blocking threads.
const SMALL_STACK: usize = 1024 * 1024;

fn engine() -> Engine {
    Engine::load(&workspace_root().join(hostile::CONFIG))
        .unwrap_or_else(|e| panic!("the hostile config does not load:\n{e}"))
}

/// Processes `raw` on a fresh thread with a small stack.
fn process_on_small_stack(engine: &Engine, raw: &[u8], source: &str) -> Record {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn_scoped(scope, || engine.process(&Input::new(raw, source)))
            .expect("a thread starts")
            .join()
            .expect("the engine does not panic")
    })
}

fn codes(issues: &[mailex_core::Issue]) -> Vec<&str> {
    issues.iter().map(|i| i.code.as_str()).collect()
}

/// Whether `record` shows `expect`; the differences otherwise.
fn shows(record: &Record, expect: Expect) -> Result<(), String> {
    let ok = expect.shown_by(
        record.status.as_str(),
        &codes(&record.errors),
        &codes(&record.warnings),
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {expect:?}, got status {} errors {:?} warnings {:?}",
            record.status,
            codes(&record.errors),
            codes(&record.warnings)
        ))
    }
}

#[test]
fn every_attack_yields_its_one_record() {
    let engine = engine();
    let mut failures = Vec::new();
    for attack in hostile::attacks() {
        let raw = (attack.build)(attack.test_size);
        let record = process_on_small_stack(&engine, &raw, attack.name);
        assert_eq!(record.source, attack.name);
        if let Err(why) = shows(&record, attack.expect) {
            failures.push(format!("{}: {why}", attack.name));
        }
        // No record grows with the attack: issues are capped per code.
        let issues = record.errors.len() + record.warnings.len();
        assert!(issues <= 60, "{}: {issues} issues", attack.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_nesting_of_the_issue_is_refused_and_the_process_lives() {
    // 25 000 nested message/rfc822 parts in 900 KB aborted the process while it was dropped.
    let attack = hostile::attack("nested-rfc822").expect("the attack exists");
    let raw = (attack.build)(900_000);
    let levels = String::from_utf8_lossy(&raw)
        .matches("message/rfc822")
        .count();
    assert!(levels > 25_000, "{levels} levels");
    let record = process_on_small_stack(&engine(), &raw, "nested.eml");
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.errors[0].code, "too_deep");
    assert!(
        record.errors[0].message.contains("50 levels"),
        "{}",
        record.errors[0].message
    );
}

#[test]
fn caps_are_settings() {
    // Raised caps let the same input through; lowered ones refuse ordinary mail.
    let attack = hostile::attack("many-headers").expect("the attack exists");
    let raw = (attack.build)(100_000);
    let dir = workspace_root().join("tests/fixtures/hostile");
    let raised = "[settings]\nmax_headers = 100000\n\n".to_owned()
        + &std::fs::read_to_string(dir.join("mailex.toml")).unwrap();
    let engine = Engine::from_toml_str(&raised, &dir.join("raised.toml"), &dir).unwrap();
    let record = engine.process(&Input::new(&raw, "x"));
    // Parsed and extracted; the email has no lead.
    assert_eq!(record.errors[0].code, "lead_meta_not_found", "{record:?}");
    let lowered = "[settings]\nmax_mime_parts = 1\nmax_addresses = 1\n\n".to_owned()
        + &std::fs::read_to_string(dir.join("mailex.toml")).unwrap();
    let engine = Engine::from_toml_str(&lowered, &dir.join("lowered.toml"), &dir).unwrap();
    let two_parts = b"From: leads@meta.hostile.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n";
    let record = engine.process(&Input::new(two_parts, "x"));
    assert_eq!(record.errors[0].code, "too_many_parts");
    let two_addresses =
        b"From: leads@meta.hostile.example\r\nTo: a@b.example, c@d.example\r\n\r\nx\r\n";
    let record = engine.process(&Input::new(two_addresses, "x"));
    assert_eq!(record.errors[0].code, "too_many_addresses");
    let zero = "[settings]\nmax_headers = 0\n";
    let error = Engine::from_toml_str(zero, &dir.join("zero.toml"), &dir).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("settings.max_headers must be greater than 0"),
        "{error}"
    );
}
