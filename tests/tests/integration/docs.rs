//! Every example in the docs that is not tested elsewhere is tested here.

use mailex_core::Record;
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

/// Every issue code written in the sources: `Issue::new("code"` / `Issue::for_field("code"`
/// string literals, the plugin host's `CallFailure::code`, and the rule evaluator's runtime
/// codes (the grammar's `E2xx` registry).
fn codes_in_sources() -> std::collections::BTreeSet<String> {
    let root = workspace_root();
    let literal = regex::Regex::new(r#"Issue::(?:new|for_field)\(\s*"([a-z_]+)""#).unwrap();
    let plugin = regex::Regex::new(r#"=> "(plugin_[a-z_]+)""#).unwrap();
    let mut codes = std::collections::BTreeSet::new();
    let mut stack = vec![root.join("core/src"), root.join("host-lambda/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                codes.extend(literal.captures_iter(&text).map(|c| c[1].to_owned()));
                codes.extend(plugin.captures_iter(&text).map(|c| c[1].to_owned()));
            }
        }
    }
    for code in mailex_grammar::codes::ALL
        .iter()
        .filter(|c| c.number() >= 200)
    {
        codes.insert(code.name().replace('-', "_"));
    }
    codes
}

#[test]
fn every_issue_code_is_documented() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/record.md")).unwrap();
    let codes = codes_in_sources();
    assert!(
        codes.len() >= 20,
        "the code scan found too few codes: {codes:?}"
    );
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !doc.contains(&format!("| `{c}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/record.md does not document {missing:?}"
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
