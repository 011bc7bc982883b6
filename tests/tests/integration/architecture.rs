//! The architecture's invariants that a test can check (ARCHITECTURE.md, "Invariants"):
//! which crate may depend on what, that the library reads no environment, that core's public
//! API names no third-party type of the crates it builds on, and that no test asserts on wall
//! time.

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
    // The analytics copy is made from records: no AWS and no delivery in it, and its Parquet
    // writer builds without zstd's C library.
    let analytics = closure(&graph, "mailex-analytics");
    for forbidden in ["mailex-delivery", "aws-config", "zstd", "zstd-sys"] {
        assert!(
            !analytics.contains(forbidden),
            "mailex-analytics depends on {forbidden}"
        );
    }
    let grammar = closure(&graph, "mailex-grammar");
    for forbidden in ["mail-parser", "wasmtime", "mailex-core", "scraper"] {
        assert!(
            !grammar.contains(forbidden),
            "mailex-grammar depends on {forbidden}"
        );
    }
}

/// The normal dependencies of `package` (with `extra` arguments), one crate per line.
fn cargo_tree(package: &str, extra: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["tree", "-p", package, "-e", "normal"])
        .args(extra)
        .args(["--prefix", "none", "--locked", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        tree.contains("regex"),
        "cargo tree lists the dependencies: {tree}"
    );
    tree
}

#[test]
fn the_rule_language_builds_without_the_plugin_host() {
    // `mailex-core` without its default `plugins` feature is the engine and the DSL: no
    // wasmtime, no cranelift (`scripts/test.sh` also lints that build). The crates that run no
    // plugin (delivery, analytics) take core without it, so they do not compile wasmtime
    // either; the binaries ask for `plugins`.
    for (package, extra) in [
        ("mailex-core", &["--no-default-features"][..]),
        ("mailex-delivery", &[]),
        ("mailex-analytics", &[]),
    ] {
        let tree = cargo_tree(package, extra);
        let engines: Vec<&str> = tree
            .lines()
            .filter(|l| l.starts_with("wasmtime") || l.starts_with("cranelift"))
            .collect();
        assert!(
            engines.is_empty(),
            "{package} {extra:?} still depends on {engines:?}"
        );
    }
    assert!(
        cargo_tree("mailex-cli", &[])
            .lines()
            .any(|l| l.starts_with("wasmtime ")),
        "the CLI runs plugins"
    );
}

/// The source files below `dirs` (relative to the workspace) with their text, without unit
/// test files and the helpers only they compile (`tests.rs`, `#[cfg(test)] mod testing`).
fn library_sources(dirs: &[&str]) -> Vec<(std::path::PathBuf, String)> {
    let root = workspace_root();
    dirs.iter()
        .flat_map(|dir| files_below(&root.join(dir), &[".rs"]))
        .filter(|file| {
            let name = file.file_name().and_then(|n| n.to_str());
            !matches!(name, Some("tests.rs" | "testing.rs"))
        })
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("readable");
            (file, text)
        })
        .collect()
}

/// The part of a source file before its unit-test module (`#[cfg(test)]`), if it has one.
fn non_test_part(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

#[test]
fn the_library_reads_no_environment() {
    // Environment variables are read by the binaries (cli, host-lambda) and handed to the
    // libraries (core, delivery, analytics) as configuration (delivery's secrets: `Secrets::resolve`).
    let mut readers = Vec::new();
    for (file, text) in library_sources(&["core/src", "delivery/src", "analytics/src"]) {
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

/// The crates whose types must not appear in core's public API: upgrading them must not break
/// a caller of mailex (issue 14).
const FOREIGN_CRATES: [&str; 6] = [
    "scraper",
    "mail_parser",
    "wasmtime",
    "wasmtime_wasi",
    "html5ever",
    "ego_tree",
];

/// Whether `word` occurs in `text` as a whole identifier (`then`: what must follow it, e.g.
/// `::` for a module name).
fn names(text: &str, word: &str, then: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = &text[at + word.len()..];
        !before.is_some_and(is_ident)
            && !after.chars().next().is_some_and(is_ident)
            && after.starts_with(then)
    })
}

/// The first path segment of a `use` statement (`use a::b::C;` -> `a`).
fn use_root(statement: &str) -> &str {
    let path = statement
        .trim_start()
        .trim_start_matches("pub ")
        .trim_start_matches("use ")
        .trim_start_matches("::");
    path.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default()
}

/// The lines of `text` before its unit tests, with comment and attribute lines blanked (so
/// line numbers stay those of the file).
fn code_lines(text: &str) -> Vec<&str> {
    // Cut at the test module only (`#[cfg(test)]` also marks single items).
    let tests = text
        .match_indices("#[cfg(test)]")
        .map(|(at, _)| at)
        .find(|&at| {
            text[at + "#[cfg(test)]".len()..]
                .trim_start()
                .starts_with("mod ")
        });
    text[..tests.unwrap_or(text.len())]
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") || t.starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect()
}

/// The lines from `start` to the first one holding one of `ends` (inclusive), joined, and the
/// index after them.
fn until(lines: &[&str], start: usize, ends: &[char]) -> (String, usize) {
    let mut text = String::new();
    let mut i = start;
    while i < lines.len() {
        text.push_str(lines[i]);
        text.push('\n');
        i += 1;
        if lines[i - 1].contains(ends) {
            break;
        }
    }
    (text, i)
}

/// The public signatures of a source file (`pub` items, not `pub(crate)`): function signatures,
/// the public fields of structs, enum variants, type aliases, constants and re-exports, each
/// with its line number.
fn public_signatures(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let Some(item) = line.strip_prefix("pub ") else {
            i += 1;
            continue;
        };
        let item = item
            .trim_start_matches("const fn ")
            .trim_start_matches("unsafe ")
            .trim_start_matches("async ");
        let start = i;
        if item.starts_with("fn ") || item.starts_with("trait ") {
            let (sig, next) = until(lines, i, &['{', ';']);
            out.push((
                start + 1,
                sig.split('{').next().unwrap_or_default().to_owned(),
            ));
            i = next;
        } else if item.starts_with("struct ") || item.starts_with("enum ") {
            let (header, next) = until(lines, i, &['{', ';']);
            i = next;
            let mut body = header.clone();
            if header.contains('{') && !header.contains('}') {
                let is_enum = item.starts_with("enum ");
                let mut depth = 1i32;
                while i < lines.len() && depth > 0 {
                    let l = lines[i];
                    depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                    // Enum variants are public; struct fields only when marked `pub`.
                    if is_enum || l.trim_start().starts_with("pub ") {
                        body.push_str(l);
                        body.push('\n');
                    }
                    i += 1;
                }
            }
            out.push((start + 1, body));
        } else if item.starts_with("type ") || item.starts_with("use ") {
            let (text, next) = until(lines, i, &[';']);
            out.push((start + 1, text));
            i = next;
        } else if item.starts_with("const ") || item.starts_with("static ") {
            let (text, next) = until(lines, i, &[';']);
            out.push((
                start + 1,
                text.split('=').next().unwrap_or_default().to_owned(),
            ));
            i = next;
        } else {
            i += 1;
        }
    }
    out
}

/// The names a file imports from a foreign crate (`use scraper::{ElementRef, Html};`), each
/// with what must follow it to name that crate's item (`::` after a module name).
fn foreign_imports(lines: &[&str]) -> Vec<(String, &'static str)> {
    let mut imported = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if !(line.starts_with("use ")
            || line.starts_with("pub use ")
            || line.starts_with("pub(crate) use "))
        {
            i += 1;
            continue;
        }
        let (statement, next) = until(lines, i, &[';']);
        i = next;
        let statement = statement.trim_start().trim_start_matches("pub(crate) ");
        let root = use_root(statement);
        if !FOREIGN_CRATES.contains(&root) {
            continue;
        }
        for word in statement
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| {
                !w.is_empty() && !["pub", "use", "self", "as", "crate", "super", root].contains(w)
            })
        {
            let then = if word.starts_with(char::is_uppercase) {
                ""
            } else {
                "::"
            };
            imported.push((word.to_owned(), then));
        }
    }
    imported
}

/// What [`foreign_in_public_signatures`] found in one source file.
struct PublicScan {
    /// Public signatures read.
    signatures: usize,
    /// Those naming a foreign crate's item: line, the name, the signature.
    offenders: Vec<(usize, String, String)>,
}

/// The public signatures of a source file that name an item of a [`FOREIGN_CRATES`] crate,
/// by path or by a name the file imports from it.
fn foreign_in_public_signatures(text: &str) -> PublicScan {
    let lines = code_lines(text);
    let imported = foreign_imports(&lines);
    let signatures = public_signatures(&lines);
    let offenders = signatures
        .iter()
        .filter_map(|(line, signature)| {
            FOREIGN_CRATES
                .iter()
                .map(|c| (*c, "::"))
                .chain(imported.iter().map(|(w, t)| (w.as_str(), *t)))
                .find(|(word, then)| names(signature, word, then))
                .map(|(word, _)| (*line, word.to_owned(), signature.clone()))
        })
        .collect();
    PublicScan {
        signatures: signatures.len(),
        offenders,
    }
}

#[test]
fn core_public_api_names_no_third_party_type() {
    // `pub` in core is public API, whatever module it is in: an item that needs a type of
    // mail-parser, scraper/html5ever/ego-tree or wasmtime is `pub(crate)`, and callers get
    // mailex's own types (`HtmlElement`, `Email`, `PluginError`, ...).
    let root = workspace_root();
    let mut offenders = Vec::new();
    let mut signatures = 0;
    for (file, text) in library_sources(&["core/src"]) {
        let found = foreign_in_public_signatures(&text);
        signatures += found.signatures;
        for (line, word, signature) in found.offenders {
            offenders.push(format!(
                "{}:{line} names `{word}`: {}",
                file.strip_prefix(&root).unwrap_or(&file).display(),
                signature.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    assert!(
        signatures > 100,
        "only {signatures} public signatures found: the scan is broken"
    );
    assert!(
        offenders.is_empty(),
        "public items of mailex-core name third-party types (make them pub(crate) or return mailex types):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_public_api_scan_sees_foreign_types() {
    // The scan of `core_public_api_names_no_third_party_type` on code that breaks the rule.
    let code = "use scraper::{ElementRef, Html};\nuse wasmtime::component;\n\
        pub fn document(&self) -> Option<&Html> {\n}\n\
        pub(crate) fn inner(e: ElementRef<'_>) {\n}\n\
        pub struct View {\n    pub engine: wasmtime::Engine,\n    hidden: Html,\n}\n\
        pub enum Error {\n    Trap(component::Val),\n}\n\
        pub fn component(component: &str) {\n}\n";
    let found = foreign_in_public_signatures(code);
    assert_eq!(found.signatures, 4);
    let flagged: Vec<(usize, String)> = found
        .offenders
        .into_iter()
        .map(|(line, word, _)| (line, word))
        .collect();
    assert_eq!(
        flagged,
        [
            (3, "Html".to_owned()),
            (7, "wasmtime".to_owned()),
            (11, "component".to_owned())
        ]
    );
}
