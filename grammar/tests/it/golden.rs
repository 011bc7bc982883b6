//! Golden tests for syntax diagnostics: every `diagnostics/*.rules` file is
//! parsed and its rendered diagnostics compared with the `.stderr` file beside
//! it. Run with `MAILEX_BLESS=1` to rewrite the `.stderr` files.

use std::path::Path;

use mailex_grammar::{SourceFile, parse, render_all};

#[test]
fn golden_syntax_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let bless = std::env::var_os("MAILEX_BLESS").is_some();
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/diagnostics exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let src = std::fs::read_to_string(&path).expect("readable");
        let name = format!("{}", path.file_name().unwrap_or_default().to_string_lossy());
        let actual = render_all(&parse(&src).diagnostics, &SourceFile::new(name, src));
        let expected_path = path.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, &actual).expect("writable");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "--- {}\n=== expected\n{expected}\n=== actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden file(s) differ (MAILEX_BLESS=1 to update):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
