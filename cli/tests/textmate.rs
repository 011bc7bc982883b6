//! The TextMate grammar of `.rules` files (`editors/textmate/mailex-rules.tmLanguage.json`)
//! highlights every keyword of the rule language (from `grammar/src/grammar.pest`), every
//! function (from core's registry) and every field type.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every `match` pattern of the grammar with its scope name, from anywhere in the file.
fn patterns(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(name)), Some(Value::String(pattern))) =
                (map.get("name"), map.get("match"))
            {
                out.push((name.clone(), pattern.clone()));
            }
            map.values().for_each(|v| patterns(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| patterns(v, out)),
        _ => {}
    }
}

/// Whether a pattern of a scope starting with one of `scopes` matches all of `word`.
fn highlighted(all: &[(String, String)], scopes: &[&str], word: &str) -> bool {
    all.iter()
        .filter(|(name, _)| scopes.iter().any(|s| name.starts_with(s)))
        .filter_map(|(_, pattern)| regex::Regex::new(pattern).ok())
        .any(|re| re.find(word).is_some_and(|m| m.as_str() == word))
}

#[test]
fn every_keyword_function_and_type_is_highlighted() {
    let grammar: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("editors/textmate/mailex-rules.tmLanguage.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(grammar["scopeName"], "source.mailex-rules");
    assert_eq!(grammar["fileTypes"][0], "rules");
    let mut all = Vec::new();
    patterns(&grammar, &mut all);

    // The keywords: the word literals of the pest grammar.
    let pest = std::fs::read_to_string(root().join("grammar/src/grammar.pest")).unwrap();
    let keywords: std::collections::BTreeSet<&str> = regex::Regex::new(r#""([a-z_]{2,})""#)
        .unwrap()
        .captures_iter(&pest)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(keywords.len() >= 20, "{keywords:?}");
    let missing: Vec<&str> = keywords
        .iter()
        .copied()
        .filter(|k| {
            !highlighted(
                &all,
                &["keyword.", "storage.modifier.", "constant.language."],
                k,
            )
        })
        .collect();
    assert!(missing.is_empty(), "keywords not highlighted: {missing:?}");

    let functions: Vec<&str> = mailex_core::rules::all_functions()
        .iter()
        .map(|f| f.name)
        .collect();
    assert!(functions.len() >= 30);
    let missing: Vec<&&str> = functions
        .iter()
        .filter(|f| !highlighted(&all, &["support.function."], f))
        .collect();
    assert!(missing.is_empty(), "functions not highlighted: {missing:?}");

    let missing: Vec<&&str> = mailex_core::rules::TYPE_NAMES
        .iter()
        .filter(|t| !highlighted(&all, &["storage.type."], t))
        .collect();
    assert!(missing.is_empty(), "types not highlighted: {missing:?}");

    // A word that is none of them is not highlighted as one.
    assert!(!highlighted(
        &all,
        &["support.function.", "keyword."],
        "lines_of"
    ));
}
