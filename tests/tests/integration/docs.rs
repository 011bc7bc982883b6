//! Every example in the docs that is not tested elsewhere is tested here.

use mailex_core::{IssueCode, Record};
use mailex_tests::workspace_root;

/// The fenced blocks of `lang` in a Markdown file.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start() == fence => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn the_record_example_is_a_record() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/record.md")).unwrap();
    let examples = blocks(&doc, "json");
    assert!(!examples.is_empty(), "docs/record.md lost its example");
    for example in examples {
        let record: Record = serde_json::from_str(&example)
            .unwrap_or_else(|e| panic!("docs/record.md example: {e}\n{example}"));
        assert!(!record.source.is_empty());
    }
}

const CODES_START: &str = "<!-- issue-codes:start (generated from mailex_core::IssueCode by `MAILEX_BLESS=1 cargo test -p mailex-tests issue_code`) -->\n";
const CODES_END: &str = "<!-- issue-codes:end -->";

/// The table of record issue codes, one row per [`IssueCode`] variant.
fn issue_code_table() -> String {
    let mut table = String::from("| code | kind | written by | meaning |\n|---|---|---|---|\n");
    for code in IssueCode::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            code.as_str(),
            code.kind(),
            code.written_by(),
            code.description()
        ));
    }
    table
}

/// docs/record.md's table of issue codes is generated from [`IssueCode`].
#[test]
fn the_issue_code_table_is_generated_from_the_enum() {
    let generated = issue_code_table();
    assert!(
        generated.contains("| `adf_xml_error` | warning |"),
        "{generated}"
    );
    let path = workspace_root().join("docs/record.md");
    let mut doc = std::fs::read_to_string(&path).unwrap();
    let (Some(s), Some(e)) = (doc.find(CODES_START), doc.find(CODES_END)) else {
        panic!("docs/record.md lacks the issue-code markers");
    };
    let current = &doc[s + CODES_START.len()..e];
    if current != generated {
        if std::env::var_os("MAILEX_BLESS").is_some() {
            doc.replace_range(s + CODES_START.len()..e, &generated);
            std::fs::write(&path, &doc).unwrap();
        } else {
            panic!(
                "docs/record.md's issue codes are stale: run `MAILEX_BLESS=1 cargo test -p mailex-tests issue_code`"
            );
        }
    }
}

/// String literals that spell an issue code but mean something else, by file.
const NOT_ISSUE_CODES: &[(&str, &str)] = &[
    // `Status::Unauthenticated`, the record status of the same name.
    ("core/src/record.rs", "unauthenticated"),
];

/// Issue codes are written through [`IssueCode`] only: no non-test source spells one as a
/// string literal (which could reach a record or a log beside the enum, and drift from it).
#[test]
fn no_issue_code_is_spelled_as_a_string() {
    let root = workspace_root();
    let codes: std::collections::BTreeSet<&str> =
        IssueCode::ALL.iter().map(|c| c.as_str()).collect();
    let literal = regex::Regex::new(r#""([a-z0-9_]+)""#).unwrap();
    let mut found = Vec::new();
    let mut scanned = 0;
    for dir in ["core/src", "host-lambda/src", "cli/src"] {
        for path in mailex_tests::files_below(&root.join(dir), &["rs"]) {
            // The enum itself, and unit test files, which compare codes with their strings.
            if path.ends_with("record/code.rs") || path.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may compare a record's code with its string.
            let source = text.split("#[cfg(test)]").next().unwrap_or_default();
            scanned += 1;
            for (n, line) in source.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for c in literal.captures_iter(line) {
                    let rel = path.strip_prefix(&root).unwrap_or(&path);
                    if codes.contains(&c[1])
                        && !NOT_ISSUE_CODES.contains(&(rel.to_str().unwrap_or_default(), &c[1]))
                    {
                        found.push(format!("{}:{}: \"{}\"", rel.display(), n + 1, &c[1]));
                    }
                }
            }
        }
    }
    assert!(scanned > 50, "the scan found only {scanned} files");
    assert!(
        found.is_empty(),
        "issue codes spelled as strings (use mailex_core::IssueCode):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_config_example_in_the_crate_docs_loads() {
    let source = std::fs::read_to_string(workspace_root().join("core/src/config.rs")).unwrap();
    let example: String = source
        .lines()
        .skip_while(|l| !l.starts_with("//! ```toml"))
        .skip(1)
        .take_while(|l| !l.starts_with("//! ```"))
        .map(|l| {
            l.trim_start_matches("//!")
                .trim_start_matches(' ')
                .to_owned()
                + "\n"
        })
        .collect();
    assert!(example.contains("[[route]]"));
    mailex_tests::engine(&example);
}

/// The plugin guide's code is the `acme-leads` example plugin, and the guide's route runs it.
#[test]
fn the_plugin_guide_example_builds_and_runs() {
    let root = workspace_root();
    let guide = std::fs::read_to_string(root.join("docs/plugins.md")).unwrap();
    let code = blocks(&guide, "rust")
        .into_iter()
        .next()
        .expect("docs/plugins.md has its Rust example");
    let source =
        std::fs::read_to_string(root.join("plugins/examples/acme-leads/src/lib.rs")).unwrap();
    let source: String = source
        .lines()
        .skip_while(|l| l.starts_with("//") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        code, source,
        "docs/plugins.md and plugins/examples/acme-leads/src/lib.rs drifted apart"
    );

    let wasm = root.join("target/plugins/acme_leads.wasm");
    assert!(
        wasm.is_file(),
        "{} missing: run scripts/build-plugins.sh (the test command does)",
        wasm.display()
    );
    let route = blocks(&guide, "toml")
        .into_iter()
        .find(|b| b.contains("[[route]]"))
        .expect("the guide's route");
    let route = route.replace("plugins/acme_leads.wasm", &wasm.display().to_string());
    let engine = mailex_tests::engine(&route);
    let record = mailex_tests::process_file(
        &engine,
        &root.join("plugins/examples/acme-leads/fixtures/lead-card.eml"),
    );
    assert_eq!(record.status, mailex_core::Status::Extracted, "{record:#?}");
    let field = |name: &str| {
        record
            .fields
            .get(name)
            .map(mailex_core::FieldValue::to_display_string)
    };
    assert_eq!(field("name").as_deref(), Some("Dana Whitfield"));
    assert_eq!(field("phone").as_deref(), Some("+13125550187"));
    assert_eq!(
        field("email").as_deref(),
        Some("dana.whitfield@example.org")
    );
}

#[test]
fn the_committed_config_schema_is_current() {
    mailex_tests::assert_committed_json("docs/config.schema.json", &mailex_core::config_schema());
}

/// Every key of every table in the config's schema, as `(table, key)`.
fn schema_keys(schema: &serde_json::Value) -> Vec<(String, String)> {
    let definitions = schema.get("$defs").and_then(|d| d.as_object());
    let mut keys = Vec::new();
    let mut add = |table: &str, object: &serde_json::Value| {
        for key in object
            .get("properties")
            .and_then(|p| p.as_object())
            .into_iter()
            .flat_map(|p| p.keys())
        {
            keys.push((table.to_owned(), key.clone()));
        }
    };
    add("mailex.toml", schema);
    for (name, definition) in definitions.into_iter().flatten() {
        add(name, definition);
    }
    keys
}

#[test]
fn docs_config_md_documents_every_key_of_the_schema() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/config.md")).unwrap();
    let keys = schema_keys(&mailex_core::config_schema());
    assert!(
        keys.len() >= 25,
        "the schema scan found too few keys: {keys:?}"
    );
    let missing: Vec<String> = keys
        .iter()
        .filter(|(_, key)| !doc.contains(&format!("| `{key}` |")))
        .map(|(table, key)| format!("{table}.{key}"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/config.md has no table row for {missing:?}"
    );
    // And no row for a key the loader does not know (a table row's first cell).
    let known: std::collections::BTreeSet<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
    let route_settings = ["phone_region", "currency", "date_order"];
    let row = regex::Regex::new(r"(?m)^\| `([a-z_]+)` \|").unwrap();
    let stray: Vec<&str> = row
        .captures_iter(&doc)
        .map(|c| c.get(1).unwrap().as_str())
        .filter(|k| !known.contains(k) && !route_settings.contains(k))
        .collect();
    assert!(
        stray.is_empty(),
        "docs/config.md documents unknown keys {stray:?}"
    );
}

#[test]
fn every_config_example_in_docs_config_md_loads() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/config.md")).unwrap();
    let examples = blocks(&doc, "toml");
    assert!(examples.len() >= 6, "docs/config.md lost its examples");
    let base = workspace_root().join("examples");
    for example in examples {
        if let Err(e) =
            mailex_core::Engine::from_toml_str(&example, std::path::Path::new("mailex.toml"), &base)
        {
            panic!("docs/config.md example does not load:\n{e}\n{example}");
        }
    }
}
