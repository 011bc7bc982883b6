//! Helpers shared by the workspace-level integration tests.
//!
//! Fixtures live in `tests/fixtures/`; every email there is real (see each folder's licence
//! notice) or written for a specific behaviour, and most are paired with an
//! `*.expected.json` holding the parts of the record a test checks.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

pub mod analytics;
pub mod fuzz;

use mailex_core::{Engine, Input, Record};

pub mod hostile;
pub mod hostile_rules;
pub mod local_aws;
pub mod local_kafka;
pub mod receiver;

/// A name (of a bucket, topic, queue, ...) that no other test process or call uses: `stem`, the
/// process id, the clock's nanoseconds and a counter of this process.
pub fn unique_name(stem: &str) -> String {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{stem}-{}-{nanos}-{n}", std::process::id())
}

/// What a test does when the server it needs was not started (`variable`, which `script`
/// exports, is unset): under `CI=true` it fails; otherwise it says so loudly on the real stderr
/// (not `eprintln!`, which the test harness captures, so the skip shows in every run) and the
/// caller returns. `tests` names the tests that skip (`AWS`, `Kafka`).
pub fn server_missing(variable: &str, script: &str, tests: &str) {
    use std::io::Write;
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{variable} is unset under CI=true; run `eval \"$({script})\"` first");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {}: {variable} is unset; run `eval \"$({script})\"` to run the {tests} tests",
        std::thread::current().name().unwrap_or("?")
    );
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(rel)
}

/// Every file below `dir` whose name ends with one of `extensions` (or every file when empty),
/// sorted; licence and notice files are skipped.
pub fn files_below(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            let skip = name.starts_with("COPYING")
                || name.starts_with("LICENSE")
                || name.ends_with(".md")
                || name.ends_with(".json")
                || name.ends_with(".txt");
            if skip {
                continue;
            }
            if extensions.is_empty() || extensions.iter().any(|e| name.ends_with(e)) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// An engine from config text, resolving relative paths against the workspace root.
pub fn engine(config: &str) -> Engine {
    match Engine::from_toml_str(config, Path::new("test.toml"), &workspace_root()) {
        Ok(engine) => engine,
        Err(e) => panic!("test config does not load:\n{e}"),
    }
}

/// Checks that the committed JSON file `rel` (below the workspace root) holds `current`,
/// pretty-printed; with `MAILEX_BLESS` set, writes it first. For generated contracts such as
/// `docs/record.schema.json` and `docs/config.schema.json`.
pub fn assert_committed_json(rel: &str, current: &serde_json::Value) {
    let path = workspace_root().join(rel);
    let current = serde_json::to_string_pretty(current).unwrap_or_default() + "\n";
    if std::env::var_os("MAILEX_BLESS").is_some() {
        std::fs::write(&path, &current).unwrap_or_else(|e| panic!("cannot write {rel}: {e}"));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "{rel} is stale: run `MAILEX_BLESS=1 cargo test -p mailex-tests` and commit it"
    );
}

/// Processes one file with `engine`.
pub fn process_file(engine: &Engine, path: &Path) -> Record {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    engine.process(&Input::new(&raw, path.display().to_string()))
}

/// Checks that every key of `expected` (a JSON object) appears in `actual` with an equal value,
/// recursively for objects; returns the differences as readable lines.
pub fn subset_differences(
    expected: &serde_json::Value,
    actual: &serde_json::Value,
    path: &str,
) -> Vec<String> {
    match (expected, actual) {
        (serde_json::Value::Object(e), serde_json::Value::Object(a)) => e
            .iter()
            .flat_map(|(k, v)| {
                let sub = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => subset_differences(v, av, &sub),
                    None => vec![format!("{sub}: expected {v}, missing")],
                }
            })
            .collect(),
        _ if expected == actual => Vec::new(),
        _ => vec![format!("{path}: expected {expected}, got {actual}")],
    }
}
