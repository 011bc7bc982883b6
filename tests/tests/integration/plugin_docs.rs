//! The plugin author's documentation runs: every example plugin's header config loads and
//! extracts its fixture, and docs/plugins.md's reference of what a plugin sees is generated
//! from the contract (`plugins/wit/extractor.wit`).

use std::path::Path;

use mailex_core::{Record, Status};
use mailex_tests::workspace_root;

/// The example plugins, each with its built `.wasm` (by `scripts/build-plugins.sh`).
const EXAMPLES: &[&str] = &[
    "acme-leads",
    "adf-cars",
    "facebook-zapier",
    "zillow-rentals",
];

/// The header comment of an example's `src/lib.rs` (`//!` or `//` lines), without the markers.
fn header_comment(source: &str) -> Vec<String> {
    source
        .lines()
        .take_while(|l| l.starts_with("//"))
        .map(|l| {
            let l = l.trim_start_matches("//!").trim_start_matches("//");
            l.strip_prefix(' ').unwrap_or(l).to_owned()
        })
        .collect()
}

/// The fenced ```toml block of a header comment.
fn toml_block(header: &[String]) -> Option<String> {
    let start = header.iter().position(|l| l.trim() == "```toml")?;
    let len = header[start + 1..].iter().position(|l| l.trim() == "```")?;
    Some(
        header[start + 1..start + 1 + len]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect(),
    )
}

/// The mail of the header's `mailex extract --config mailex.toml MAIL` line.
fn extract_input(header: &[String]) -> Option<String> {
    header.iter().find_map(|l| {
        l.split_once("mailex extract --config mailex.toml ")
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_owned())
    })
}

/// Each example plugin's header says how to run it: a `mailex extract` line and the route in a
/// TOML block, with paths relative to the repository root (where that `mailex.toml` sits).
/// Loaded as written, the route runs the built plugin on the mail and extracts it.
#[test]
fn every_example_plugins_header_config_runs() {
    let root = workspace_root();
    for example in EXAMPLES {
        let source_path = root.join(format!("plugins/examples/{example}/src/lib.rs"));
        let source = std::fs::read_to_string(&source_path).unwrap();
        let header = header_comment(&source);
        let config = toml_block(&header)
            .unwrap_or_else(|| panic!("{example}: no ```toml route in the header comment"));
        let mail = extract_input(&header).unwrap_or_else(|| {
            panic!("{example}: no `mailex extract --config mailex.toml MAIL` line in the header")
        });
        let wasm = config
            .lines()
            .find_map(|l| l.trim().strip_prefix("extractor = \""))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{example}: the route has no extractor"));
        assert!(
            root.join(wasm).is_file(),
            "{wasm} missing: run scripts/build-plugins.sh (the test command does)"
        );
        let engine = mailex_core::Engine::from_toml_str(&config, Path::new("mailex.toml"), &root)
            .unwrap_or_else(|e| panic!("{example}'s header config does not load:\n{e}"));
        let record: Record = mailex_tests::process_file(&engine, &root.join(&mail));
        assert_eq!(
            record.status,
            Status::Extracted,
            "{example} on {mail}: {:?}",
            record.errors
        );
        assert!(
            record.fields.len() >= 3,
            "{example} on {mail}: {:?}",
            record.fields.keys()
        );
    }
}

const REFERENCE_START: &str = "<!-- message-reference:start (generated from plugins/wit/extractor.wit by `MAILEX_BLESS=1 cargo test -p mailex-tests plugin_docs`) -->\n";
const REFERENCE_END: &str = "<!-- message-reference:end -->";

/// The `types` of the contract a plugin reads, in the order the reference shows them.
const REFERENCE_TYPES: &[&str] = &[
    "message",
    "address",
    "header",
    "attachment",
    "value",
    "money",
    "person-name",
    "extract-error",
];

/// docs/plugins.md's reference of `Message` and the other types is generated from the WIT.
#[test]
fn the_message_reference_is_generated_from_the_contract() {
    let root = workspace_root();
    let wit = std::fs::read_to_string(root.join("plugins/wit/extractor.wit")).unwrap();
    let generated = reference_markdown(&wit);
    for name in [
        "`reply_to`",
        "`Vec<Address>`",
        "`attachments`",
        "`Option<String>`",
    ] {
        assert!(generated.contains(name), "{name} missing:\n{generated}");
    }
    let path = root.join("docs/plugins.md");
    let mut doc = std::fs::read_to_string(&path).unwrap();
    let (Some(s), Some(e)) = (doc.find(REFERENCE_START), doc.find(REFERENCE_END)) else {
        panic!("docs/plugins.md lacks the message reference markers");
    };
    let current = &doc[s + REFERENCE_START.len()..e];
    if current != generated {
        if std::env::var_os("MAILEX_BLESS").is_some() {
            doc.replace_range(s + REFERENCE_START.len()..e, &generated);
            std::fs::write(&path, &doc).unwrap();
        } else {
            panic!(
                "docs/plugins.md's message reference is stale: run `MAILEX_BLESS=1 cargo test -p mailex-tests plugin_docs`"
            );
        }
    }
}

/// One record, variant or enum of the WIT, with its doc comment and its items.
struct WitType {
    kind: String,
    name: String,
    doc: String,
    /// (name, type or payload, doc) of each field or case.
    items: Vec<(String, Option<String>, String)>,
}

/// The records, variants and enums of the WIT's `types` interface.
fn wit_types(wit: &str) -> Vec<WitType> {
    let body = wit
        .split_once("interface types {")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let mut types = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    let mut current: Option<WitType> = None;
    for line in body.lines().map(str::trim) {
        if let Some(d) = line.strip_prefix("///") {
            doc.push(d.trim().to_owned());
            continue;
        }
        let text = std::mem::take(&mut doc).join(" ");
        if line.is_empty() {
            doc.clear();
            continue;
        }
        if line == "}" {
            match current.take() {
                Some(t) => types.push(t),
                None => break, // the end of the interface
            }
            continue;
        }
        if let Some(t) = current.as_mut() {
            let item = line.trim_end_matches(',');
            let (name, ty) = match item.split_once(':') {
                Some((n, ty)) => (n.trim(), Some(ty.trim().to_owned())),
                None => match item.split_once('(') {
                    Some((n, payload)) => {
                        (n.trim(), Some(payload.trim_end_matches(')').to_owned()))
                    }
                    None => (item, None),
                },
            };
            t.items
                .push((name.trim_start_matches('%').to_owned(), ty, text));
            continue;
        }
        let mut words = line.split_whitespace();
        if let (Some(kind), Some(name)) = (words.next(), words.next()) {
            current = Some(WitType {
                kind: kind.to_owned(),
                name: name.to_owned(),
                doc: text,
                items: Vec::new(),
            });
        }
    }
    types
}

/// `person-name` → `PersonName`.
fn rust_type_name(wit: &str) -> String {
    wit.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A WIT type as the SDK's Rust type: `option<list<address>>` → `Option<Vec<Address>>`.
fn rust_type(wit: &str) -> String {
    let wit = wit.trim();
    if let Some(inner) = wit
        .strip_prefix("option<")
        .and_then(|r| r.strip_suffix('>'))
    {
        return format!("Option<{}>", rust_type(inner));
    }
    if let Some(inner) = wit.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
        return format!("Vec<{}>", rust_type(inner));
    }
    match wit {
        "string" => "String".to_owned(),
        "s64" => "i64".to_owned(),
        "s32" => "i32".to_owned(),
        "u8" | "u32" | "u64" | "f64" | "bool" => wit.to_owned(),
        other => rust_type_name(other),
    }
}

/// The Markdown reference of [`REFERENCE_TYPES`], from the WIT's doc comments.
fn reference_markdown(wit: &str) -> String {
    let types = wit_types(wit);
    let mut out = String::new();
    for wanted in REFERENCE_TYPES {
        let Some(t) = types.iter().find(|t| t.name == *wanted) else {
            panic!("the WIT has no type `{wanted}`");
        };
        let name = rust_type_name(&t.name);
        out.push_str(&format!("\n#### `{name}`\n\n{}\n\n", t.doc));
        match t.kind.as_str() {
            "record" => {
                out.push_str("| field | type | |\n|---|---|---|\n");
                for (field, ty, doc) in &t.items {
                    let ty = ty.as_deref().map(rust_type).unwrap_or_default();
                    out.push_str(&format!(
                        "| `{}` | `{ty}` | {doc} |\n",
                        field.replace('-', "_")
                    ));
                }
            }
            _ => {
                out.push_str("| case | |\n|---|---|\n");
                for (case, payload, doc) in &t.items {
                    let case = rust_type_name(case);
                    let case = match payload {
                        Some(p) => format!("{name}::{case}({})", rust_type(p)),
                        None => format!("{name}::{case}"),
                    };
                    out.push_str(&format!("| `{case}` | {doc} |\n"));
                }
            }
        }
    }
    out.push('\n');
    out
}
