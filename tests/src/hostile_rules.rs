//! Generators of hostile rule files and configurations, for the load-time bounds of
//! `mailex check` (issue 8, "Loading is unbounded").
//!
//! Every [`Case`] is a small `mailex.toml` and, for rule-file cases, one rule file, built to a
//! target size: the regression tests (`tests/integration/hostile_rules.rs`) use sizes that
//! stay fast in debug builds, the release measurement (`measure-check`, see
//! `tests/src/bin/measure-check.rs`) uses the sizes an attacker would: up to the 256 KiB rule
//! file cap, and 1 MB files that must be rejected before parsing. Nothing here is committed as
//! a file; everything is generated.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One hostile input for `mailex check`.
#[derive(Debug, Clone)]
pub struct Case {
    /// A short name (also the directory name when written out).
    pub name: String,
    /// The `mailex.toml` text.
    pub config: String,
    /// The rule file `rules.rules` the config routes to, if any.
    pub rules: Option<Vec<u8>>,
    /// The diagnostic code (`E010`) or config message fragment `mailex check` must report;
    /// `None` when the file is valid and must simply load within bounds.
    pub expect: Option<&'static str>,
}

impl Case {
    fn rules(name: &str, rules: String, expect: Option<&'static str>) -> Case {
        Case::rule_bytes(name, rules.into_bytes(), expect)
    }

    fn rule_bytes(name: &str, rules: Vec<u8>, expect: Option<&'static str>) -> Case {
        Case {
            name: name.to_owned(),
            config: "[[route]]\nname = \"hostile\"\nsender = \"*@hostile.example\"\nrequire_auth = \"none\"\nextractor = \"rules.rules\"\n".to_owned(),
            rules: Some(rules),
            expect,
        }
    }

    fn config(name: &str, config: String, expect: Option<&'static str>) -> Case {
        Case {
            name: name.to_owned(),
            config,
            rules: None,
            expect,
        }
    }

    /// Size of the generated rule file, or of the config when there is none.
    pub fn size(&self) -> usize {
        self.rules.as_ref().map_or(self.config.len(), Vec::len)
    }

    /// Writes the case into `dir/<name>/` and returns the path of its `mailex.toml`.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let case_dir = dir.join(&self.name);
        std::fs::create_dir_all(&case_dir)?;
        if let Some(rules) = &self.rules {
            std::fs::write(case_dir.join("rules.rules"), rules)?;
        }
        let config = case_dir.join("mailex.toml");
        std::fs::write(&config, &self.config)?;
        Ok(config)
    }
}

/// Repeats `line(i)` for `i = 0, 1, ...` until `body` would exceed `size` bytes.
fn fill(body: &mut String, size: usize, line: impl FnMut(usize) -> String) {
    fill_at_most(body, size, usize::MAX, line);
}

/// [`fill`], with at most `max` lines.
fn fill_at_most(body: &mut String, size: usize, max: usize, mut line: impl FnMut(usize) -> String) {
    let mut i = 0;
    while i < max {
        let next = line(i);
        if body.len() + next.len() > size {
            break;
        }
        body.push_str(&next);
        i += 1;
    }
}

/// A profile holding `lines`, closed, after `version 1`.
fn in_profile(size: usize, line: impl FnMut(usize) -> String) -> String {
    let mut body = String::from("version 1\nprofile \"p\" {\n");
    fill(&mut body, size.saturating_sub(4), line);
    body.push_str("}\n");
    body
}

/// Like [`in_profile`], but a new profile (with its own `match`) every 100 lines, so the
/// lines are not cut short by the field limit.
fn in_profiles(size: usize, mut line: impl FnMut(usize) -> String) -> String {
    let mut body = String::from("version 1\n");
    fill(&mut body, size.saturating_sub(4), |i| {
        let mut next = String::new();
        if i % 100 == 0 {
            if i > 0 {
                next.push_str("}\n");
            }
            let _ = writeln!(
                next,
                "profile \"p{i}\" {{\n  match {{ subject contains \"{i}\" }}"
            );
        }
        next.push_str(&line(i));
        next
    });
    body.push_str("}\n");
    body
}

/// `code` when `count` exceeds `limit`: whether a count-limit case trips its limit depends on
/// the size it was generated at.
fn over(count: usize, limit: usize, code: &'static str) -> Option<&'static str> {
    (count > limit).then_some(code)
}

/// Every hostile rule file, each about `size` bytes.
///
/// `size` should stay below the file cap (`mailex_grammar::limits::MAX_FILE_BYTES`) to
/// exercise the other limits; [`oversized`] covers files above it.
pub fn rule_files(size: usize) -> Vec<Case> {
    let mut cases = Vec::new();
    // The case: thousands of distinct, large regexes (each just under the per-pattern
    // limit when compiled).
    cases.push(Case::rules(
        "many-large-regexes",
        in_profiles(size, |i| {
            format!("  field f{i}: text optional = text.regex(r\"(?P<v>\\w{{300}}){i}\")\n")
        }),
        Some("E116"),
    ));
    // Fewer, very large regexes, each just over the per-pattern limit.
    cases.push(Case::rules(
        "oversized-regexes",
        in_profiles(size, |i| {
            format!("  field f{i}: text optional = text.regex(r\"\\w{{900}}\\w{{900}}{i}\")\n")
        }),
        Some("E104"),
    ));
    // Many small distinct regexes: the per-pattern overhead adds up.
    let small = in_profiles(size, |i| {
        format!("  field f{i}: text optional = subject.regex(r\"a{i}\")\n")
    });
    let count = small.matches(".regex(").count();
    cases.push(Case::rules(
        "many-small-regexes",
        small,
        over(count, 256, "E116"),
    ));
    // One field with a `??` chain as long as the file.
    cases.push(Case::rules(
        "huge-fallback-chain",
        in_profile(size, |i| {
            if i == 0 {
                "  field f: text optional = subject\n".to_owned()
            } else {
                "    ?? text.after(\"Name:\").line\n".to_owned()
            }
        }),
        Some("E010"),
    ));
    // A `??` chain of unknown functions on one line: an error per alternative.
    let mut line = String::from("version 1\nprofile \"p\" { field f: text optional = subject");
    fill(&mut line, size.saturating_sub(4), |i| {
        format!(" ?? aftr{i}")
    });
    line.push_str(" }\n");
    cases.push(Case::rules("long-line-of-errors", line, Some("E010")));
    // Deeply nested braces.
    let depth = size / 4;
    let mut nested = String::from("version 1\nprofile \"p\" {\n  oops ");
    nested.push_str(&"{ ".repeat(depth));
    nested.push_str(&"} ".repeat(depth));
    nested.push_str("\n}\n");
    cases.push(Case::rules("deep-nesting", nested, Some("E009")));
    // Unclosed blocks on every line (parser backtracking).
    let mut unclosed = String::from("version 1\n");
    fill(&mut unclosed, size, |i| format!("profile \"p{i}\" {{\n"));
    cases.push(Case::rules("unclosed-profiles", unclosed, Some("E009")));
    // One profile as long as the file, never closed: the parser fails at the very end.
    let mut never_closed = in_profile(size, |i| format!("  field f{i}: text optional = subject\n"));
    never_closed.truncate(never_closed.len() - 2);
    cases.push(Case::rules("unclosed-profile", never_closed, Some("E001")));
    // A valid file near every limit: many profiles, fields and conditions, shared regexes.
    let mut valid = String::from("version 1\n");
    fill_at_most(
        &mut valid,
        size,
        mailex_grammar::limits::MAX_PROFILES,
        |i| {
            let fields: String = (0..8)
            .map(|j| {
                format!(
                    "  field f{j}: text optional = text.after(\"Label {j}:\").line ?? text.regex(r\"(?i)label {j}:\\s*(?P<v>\\S+)\") ?? subject\n"
                )
            })
            .collect();
            format!(
                "profile \"p{i}\" priority {i} {{\n  match {{ subject contains \"layout {i}\" }}\n{fields}}}\n"
            )
        },
    );
    cases.push(Case::rules("valid-near-limits", valid, None));
    // Many profiles whose `match` sets nest (the unreachable-profile check is pairwise).
    let mut profiles = String::from("version 1\n");
    fill(&mut profiles, size, |i| {
        format!(
            "profile \"p{i}\" {{ match {{ subject contains \"a\" subject contains \"b{i}\" }} field f: text = subject }}\n"
        )
    });
    let count = profiles.matches("profile ").count();
    cases.push(Case::rules(
        "many-profiles",
        profiles,
        over(count, mailex_grammar::limits::MAX_PROFILES, "E010"),
    ));
    // Many fields in one profile.
    cases.push(Case::rules(
        "many-fields",
        in_profile(size, |i| format!("  field f{i}: text optional = subject\n")),
        Some("E010"),
    ));
    // Many conditions, each a long `or` chain.
    cases.push(Case::rules(
        "many-conditions",
        in_profile(size, |i| {
            let atoms: Vec<String> = (0..40)
                .map(|j| format!("subject contains \"{i}-{j}\""))
                .collect();
            format!("  match {{ {} }}\n", atoms.join(" or "))
        }),
        Some("E010"),
    ));
    // A string literal as long as the file.
    let literal = "x".repeat(size.saturating_sub(120));
    cases.push(Case::rules(
        "huge-string-literal",
        format!(
            "version 1\nprofile \"p\" {{\n  field f: text optional = text.after(\"{literal}\").line\n}}\n"
        ),
        Some("E011"),
    ));
    // Unterminated strings on every line.
    cases.push(Case::rules(
        "unterminated-strings",
        in_profile(size, |i| {
            format!("  field f{i}: text optional = text.after(\"Name: {i}).line\n")
        }),
        Some("E002"),
    ));
    // Many tests, each expecting many fields nobody declares (suggestions are computed for
    // each unknown name).
    // (100 fields: under the per-profile limit, so the tests are what the file is about.)
    let mut tests = String::from("version 1\nprofile \"p\" {\n");
    fill_at_most(&mut tests, size / 4, 100, |i| {
        format!("  field a_rather_long_field_name_number_{i:05}: text optional = subject\n")
    });
    tests.push_str("}\n");
    fill(&mut tests, size, |i| {
        let expects: String = (0..20)
            .map(|j| format!("    a_rather_long_field_name_numbr_{i:03}{j:02} = \"x\"\n"))
            .collect();
        format!("test \"t{i}\" {{\n  input \"lead.eml\"\n  expect {{\n{expects}  }}\n}}\n")
    });
    cases.push(Case::rules("many-tests", tests, Some("E108")));
    // Long chains of steps, each with too many arguments.
    cases.push(Case::rules(
        "long-chains-many-args",
        in_profile(size, |i| {
            let args: Vec<String> = (0..12).map(|j| format!("\"{j}\"")).collect();
            let steps = format!(".trim({})", args.join(", ")).repeat(40);
            format!("  field f{i}: text optional = subject{steps}\n")
        }),
        Some("E010"),
    ));
    // CSS selectors with long descendant chains.
    cases.push(Case::rules(
        "complex-selectors",
        in_profile(size, |i| {
            format!(
                "  field f{i}: text optional = css(\"{} td.c{i}\").text\n",
                "div ".repeat(60)
            )
        }),
        Some("E117"),
    ));
    // Every byte value, NUL included, and invalid UTF-8.
    let mut bytes = b"version 1\n".to_vec();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.push((state >> 24) as u8);
    }
    cases.push(Case::rule_bytes("random-bytes", bytes, Some("E008")));
    let mut nul = b"version 1\nprofile \"p\" {\n  field f: text optional = subject ".to_vec();
    nul.resize(size, 0);
    cases.push(Case::rule_bytes("nul-bytes", nul, Some("E001")));
    // Valid UTF-8 made of the language's tokens in random order.
    const TOKENS: &[&str] = &[
        "version 1",
        "profile",
        "test",
        "field",
        "match",
        "input",
        "expect",
        "{",
        "}",
        "\"a\"",
        "r\"\\w+\"",
        "\"",
        "??",
        "|",
        ".",
        "(",
        ")",
        ",",
        ":",
        "=",
        "text",
        "after",
        "regex",
        "css",
        "\n",
        " ",
        "#",
        "//",
        "or",
        "not",
        "\\",
        "\u{0}",
        "é",
        "999999999999999999999",
    ];
    let mut tokens = String::new();
    while tokens.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        tokens.push_str(TOKENS[(state >> 33) as usize % TOKENS.len()]);
    }
    cases.push(Case::rules("random-tokens", tokens, Some("")));
    cases
}

/// Rule files over the file cap, which must be rejected before parsing (`E007`).
pub fn oversized(size: usize) -> Vec<Case> {
    vec![
        Case::rules(
            "oversized-regexes-file",
            in_profile(size, |i| {
                format!("  field f{i}: text optional = text.regex(r\"(?P<v>\\w{{300}}){i}\")\n")
            }),
            Some("E007"),
        ),
        Case::rules(
            "oversized-fallback-chain",
            in_profile(size, |i| {
                if i == 0 {
                    "  field f: text optional = subject\n".to_owned()
                } else {
                    "    ?? subject\n".to_owned()
                }
            }),
            Some("E007"),
        ),
    ]
}

/// Hostile `mailex.toml` files, each about `size` bytes.
pub fn configs(size: usize) -> Vec<Case> {
    let route = |i: usize, sender: &str| {
        format!(
            "[[route]]\nname = \"r{i}\"\n{sender}\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n\n"
        )
    };
    let mut cases = Vec::new();
    let mut many = String::new();
    fill(&mut many, size, |i| {
        route(i, &format!("sender = \"*@d{i}.example\""))
    });
    let expect_many = (many.matches("[[route]]").count() > mailex_core::config::MAX_ROUTES)
        .then_some("more than");
    cases.push(Case::config("config-many-routes", many, expect_many));
    // Regex senders all tie with each other; each is large.
    let mut regexes = String::new();
    fill(&mut regexes, size, |i| {
        route(i, &format!("sender_regex = '^\\w{{200}}{i}@x\\.example$'"))
    });
    cases.push(Case::config(
        "config-many-regexes",
        regexes,
        Some("not accepted"),
    ));
    let mut huge = route(0, "sender = \"*@x.example\"");
    let _ = write!(
        huge,
        "[[route]]\nname = \"huge\"\nsender_regex = '{}'\nextractor = \"builtin:adf\"\n",
        "(a|b)*c".repeat(size / 8)
    );
    cases.push(Case::config(
        "config-huge-regex",
        huge,
        Some("not accepted"),
    ));
    let mut nested = String::from(
        "[[route]]\nname = \"n\"\nsender = \"*@x.example\"\nextractor = \"builtin:adf\"\nsettings = { a = ",
    );
    nested.push_str(&"[".repeat(size / 2));
    cases.push(Case::config("config-deep-nesting", nested, Some("")));
    cases
}

/// Every case: hostile rule files of `rule_size` bytes, oversized ones of `oversize` bytes and
/// configs of `config_size` bytes.
pub fn all(rule_size: usize, oversize: usize, config_size: usize) -> Vec<Case> {
    let mut cases = rule_files(rule_size);
    cases.extend(oversized(oversize));
    cases.extend(configs(config_size));
    cases
}
