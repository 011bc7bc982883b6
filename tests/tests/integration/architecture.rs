//! The architecture's invariants that a test can check (ARCHITECTURE.md, "Invariants"):
//! which crate may depend on what, that the library reads no environment, and that no test
//! asserts on wall time.

use std::collections::{BTreeMap, BTreeSet};

use mailex_tests::{files_below, workspace_root};

/// Package name -> names of its dependencies, from the workspace's Cargo.lock.
fn lock_graph() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(workspace_root().join("Cargo.lock")).expect("Cargo.lock");
    let lock: toml::Value = toml::from_str(&text).expect("Cargo.lock parses");
    let mut graph = BTreeMap::new();
    for package in lock["package"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name").to_owned();
        let deps: Vec<String> = package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .map(|deps| {
                deps.iter()
                    // "name", or "name version" when several versions are locked.
                    .filter_map(|d| d.as_str()?.split(' ').next().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        graph.entry(name).or_insert_with(Vec::new).extend(deps);
    }
    graph
}

/// Every package `root` depends on, directly or not. Cargo.lock lists the dependencies of
/// every feature and platform, so this is an over-approximation: what it lacks, the build
/// cannot have.
fn closure(graph: &BTreeMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(name) = stack.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn crates_depend_only_on_what_their_job_needs() {
    let graph = lock_graph();
    let core = closure(&graph, "mailex-core");
    let aws: Vec<_> = core.iter().filter(|d| d.starts_with("aws-")).collect();
    assert!(aws.is_empty(), "mailex-core depends on AWS crates: {aws:?}");
    // Delivery takes records from the hosts; the engine knows nothing of it.
    assert!(
        !core.contains("mailex-delivery"),
        "mailex-core depends on mailex-delivery"
    );
    let grammar = closure(&graph, "mailex-grammar");
    for forbidden in ["mail-parser", "wasmtime", "mailex-core", "scraper"] {
        assert!(
            !grammar.contains(forbidden),
            "mailex-grammar depends on {forbidden}"
        );
    }
}

#[test]
fn the_rule_language_builds_without_the_plugin_host() {
    // `mailex-core` without its default `plugins` feature is the engine and the DSL: no
    // wasmtime, no cranelift (`scripts/test.sh` also lints that build).
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "mailex-core",
            "--no-default-features",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none", "--locked", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        tree.contains("regex"),
        "cargo tree lists the dependencies: {tree}"
    );
    let engines: Vec<&str> = tree
        .lines()
        .filter(|l| l.starts_with("wasmtime") || l.starts_with("cranelift"))
        .collect();
    assert!(
        engines.is_empty(),
        "without `plugins`, core still depends on {engines:?}"
    );
}

/// The part of a source file before its unit-test module (`#[cfg(test)]`), if it has one.
fn non_test_part(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

#[test]
fn the_library_reads_no_environment() {
    // Environment variables are read by the binaries (cli, host-lambda) and handed to the
    // libraries (core, delivery) as configuration (delivery's secrets: `Secrets::resolve`).
    let mut readers = Vec::new();
    let root = workspace_root();
    let sources = files_below(&root.join("core/src"), &[".rs"])
        .into_iter()
        .chain(files_below(&root.join("delivery/src"), &[".rs"]));
    for file in sources {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // Unit tests, and the helpers only they compile (`#[cfg(test)] mod testing`).
        if name == "tests.rs" || name == "testing.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let code = non_test_part(&text)
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        if ["env::var", "env::vars", "env::var_os"]
            .iter()
            .any(|call| code.contains(call))
        {
            readers.push(file.display().to_string());
        }
    }
    assert!(
        readers.is_empty(),
        "these library files read the environment: {readers:?}"
    );
}

#[test]
fn no_test_asserts_on_wall_time() {
    // A test asserting `elapsed < limit` fails on a busy machine and passes on a slow fix;
    // timings are measured by benches and scripts and reported, never asserted.
    let root = workspace_root();
    let mut offenders = Vec::new();
    for dir in ["core", "grammar", "cli", "host-lambda", "delivery", "tests"] {
        for file in files_below(&root.join(dir), &[".rs"]) {
            if file.components().any(|c| c.as_os_str() == "target") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("readable");
            // Statements that assert something, joined across lines.
            for statement in text.split(';') {
                let asserts = statement.contains("assert!(") || statement.contains("assert_eq!(");
                let timed = ["elapsed", "Instant::now"]
                    .iter()
                    .any(|t| statement.contains(t))
                    && ["<", ">"].iter().any(|op| statement.contains(op));
                if asserts && timed {
                    offenders.push(format!("{}: {}", file.display(), statement.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "timing assertions:\n{}",
        offenders.join("\n\n")
    );
}
