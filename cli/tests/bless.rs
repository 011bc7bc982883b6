//! `mailex test --filter` and `mailex test --bless` on real rule files and mail tests.

mod common;

use std::path::{Path, PathBuf};

use common::{mailex, mailex_in, ok, root, stdout};
use serde_json::Value;

#[test]
fn test_filter_runs_only_matching_tests_and_a_filter_matching_nothing_fails() {
    let output = ok(mailex(&[
        "test",
        "--config",
        "examples/mailex.toml",
        "--filter",
        "zillow",
    ]));
    let text = stdout(&output);
    assert!(
        text.contains("test zillow: classic contact ... ok"),
        "{text}"
    );
    assert!(!text.contains("yelp"), "{text}");
    assert!(!text.contains("apartment"), "{text}");

    let by_name = ok(mailex(&[
        "test",
        "--config",
        "examples/mailex.toml",
        "--filter",
        "special characters",
    ]));
    let text = stdout(&by_name);
    assert_eq!(text.matches("... ok").count(), 1, "{text}");

    let none = mailex(&[
        "test",
        "--config",
        "examples/mailex.toml",
        "--filter",
        "no-such-test-anywhere",
    ]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stdout(&none).contains("no test matches `no-such-test-anywhere`"));
}

/// A copy of `examples/rules/zillow.rules` whose test inputs are in `dir/fixtures/`.
fn zillow_rules_in(dir: &Path) -> (PathBuf, String) {
    std::fs::create_dir_all(dir.join("fixtures")).unwrap();
    for name in ["zillow.eml", "zillow-2.eml", "zillow-special-chars.eml"] {
        std::fs::copy(
            root().join("tests/fixtures/leads").join(name),
            dir.join("fixtures").join(name),
        )
        .unwrap();
    }
    let original = std::fs::read_to_string(root().join("examples/rules/zillow.rules"))
        .unwrap()
        .replace("../../tests/fixtures/leads/", "fixtures/");
    let path = dir.join("zillow.rules");
    std::fs::write(&path, &original).unwrap();
    (path, original)
}

#[test]
fn bless_rewrites_only_the_differing_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let (path, original) = zillow_rules_in(dir.path());
    ok(mailex_in(dir.path(), &["test", "zillow.rules"]));
    // Two wrong values and a missing field in the first test, a wrong one in the third.
    let broken = original
        .replacen(
            "    phone = \"+19705550133\"\n",
            "    phone = \"+10000000000\"   # wrong\n",
            1,
        )
        .replacen("    email = \"ave3599@example.net\"", "    email = none", 1)
        .replacen("    property = \"Serenity at Larkspur\"\n", "", 1)
        .replacen(
            "    name = \"Contact Names Special-Char's In–em—ai—l\"",
            "    name = \"\"",
            1,
        );
    assert_ne!(broken, original);
    std::fs::write(&path, &broken).unwrap();
    let failing = mailex_in(dir.path(), &["test", "zillow.rules"]);
    assert_eq!(failing.status.code(), Some(1));

    let blessed = ok(mailex_in(dir.path(), &["test", "--bless", "zillow.rules"]));
    assert!(
        stdout(&blessed).contains("blessed 4 values in zillow.rules"),
        "{}",
        stdout(&blessed)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    // Every byte is as before but the blessed values; the comment after the value is kept and
    // the missing field comes back after the block's last line.
    let expected = original
        .replacen(
            "    phone = \"+19705550133\"\n",
            "    phone = \"+19705550133\"   # wrong\n",
            1,
        )
        .replacen("    property = \"Serenity at Larkspur\"\n", "", 1)
        .replacen(
            "    status = \"extracted\"\n",
            "    status = \"extracted\"\n    property = \"Serenity at Larkspur\"\n",
            1,
        );
    assert_eq!(text, expected);
    ok(mailex_in(dir.path(), &["test", "zillow.rules"]));

    // --filter limits what is blessed.
    std::fs::write(&path, &broken).unwrap();
    ok(mailex_in(
        dir.path(),
        &["test", "--bless", "--filter", "special", "zillow.rules"],
    ));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("phone = \"+10000000000\""), "{text}");
    assert!(text.contains("Special-Char's"), "{text}");
}

#[test]
fn bless_writes_expected_files_of_mail_tests_and_keeps_their_other_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mails = dir.path().join("mails");
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::create_dir_all(&mails).unwrap();
    let (rules, _) = zillow_rules_in(&dir.path().join("rules"));
    assert!(rules.is_file());
    std::fs::write(
        dir.path().join("mailex.toml"),
        "[[route]]\nname = \"zillow\"\nsender = \"*@zillowrentals.com\"\nrequire_auth = \"none\"\nextractor = \"rules/zillow.rules\"\ntests = \"mails\"\n",
    )
    .unwrap();
    for name in ["zillow.eml", "zillow-2.eml"] {
        std::fs::copy(
            root().join("tests/fixtures/leads").join(name),
            mails.join(name),
        )
        .unwrap();
    }
    let first = "{\n  \"note\": \"kept as written\",\n  \"status\": \"partial\",\n  \"fields\": {\n    \"phone\": \"+10000000000\"\n  }\n}\n";
    std::fs::write(mails.join("zillow.expected.json"), first).unwrap();
    let failing = mailex_in(dir.path(), &["test", "--config", "mailex.toml"]);
    assert_eq!(failing.status.code(), Some(1), "{}", stdout(&failing));

    ok(mailex_in(
        dir.path(),
        &["test", "--config", "mailex.toml", "--bless"],
    ));
    let blessed = std::fs::read_to_string(mails.join("zillow.expected.json")).unwrap();
    assert!(
        blessed.starts_with(
            "{\n  \"note\": \"kept as written\",\n  \"status\": \"extracted\",\n  \"fields\": {\n"
        ),
        "{blessed}"
    );
    let value: Value = serde_json::from_str(&blessed).unwrap();
    assert_eq!(value["fields"]["phone"], "+19705550133");
    assert_eq!(value["fields"]["name"]["full"], "Alice Ellsworth");
    let created: Value = serde_json::from_str(
        &std::fs::read_to_string(mails.join("zillow-2.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(created["fields"]["email"], "caseyhalvorsen@example.net");
    ok(mailex_in(dir.path(), &["test", "--config", "mailex.toml"]));
}
