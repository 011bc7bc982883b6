//! The bundled example (`examples/mailex.toml` over `examples/inbox/`), as the README runs it.
//!
//! The expected status of each example email is given by its file-name prefix: `spoofed-` is
//! `unauthenticated`, `unknown-` is `unmatched`, everything else is `extracted`.

use mailex_core::{Engine, Status};
use mailex_tests::{files_below, process_file, workspace_root};

fn expected_status(name: &str) -> Status {
    if name.starts_with("spoofed-") {
        Status::Unauthenticated
    } else if name.starts_with("unknown-") {
        Status::Unmatched
    } else {
        Status::Extracted
    }
}

#[test]
fn the_example_inbox_gives_the_documented_statuses() {
    let root = workspace_root();
    let engine = Engine::load(&root.join("examples/mailex.toml")).unwrap_or_else(|e| panic!("{e}"));
    let inbox = files_below(&root.join("examples/inbox"), &[".eml"]);
    assert!(
        inbox.len() >= 5,
        "the example inbox shrank to {} emails",
        inbox.len()
    );
    let mut seen = std::collections::BTreeSet::new();
    for path in inbox {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let record = process_file(&engine, &path);
        assert_eq!(record.status, expected_status(&name), "{name}: {record:#?}");
        if record.status == Status::Extracted {
            assert!(
                !record.fields.is_empty(),
                "{name}: extracted without fields"
            );
            assert!(record.errors.is_empty(), "{name}: {:?}", record.errors);
        }
        seen.insert(record.status);
    }
    for status in [
        Status::Extracted,
        Status::Unmatched,
        Status::Unauthenticated,
    ] {
        assert!(
            seen.contains(&status),
            "the example inbox has no {status} email"
        );
    }
}
