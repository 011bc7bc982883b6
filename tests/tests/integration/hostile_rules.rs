//! Loading is bounded: every hostile rule file and config of `mailex_tests::hostile_rules`
//! gets its diagnostic (or loads), at sizes that stay fast in debug builds. The release-size
//! run with time and memory figures is the `measure-check` bin.

use mailex_core::Engine;
use mailex_core::rules::check_rule_file;
use mailex_tests::hostile_rules::{self, Case};

/// Rule files of this size exceed every count limit; configs of this size hold hundreds of
/// routes.
const RULE_SIZE: usize = 24 * 1024;
const CONFIG_SIZE: usize = 48 * 1024;

fn check_case(case: &Case, dir: &std::path::Path) -> Result<(), String> {
    let config = case.write(dir).map_err(|e| e.to_string())?;
    let loaded = Engine::load(&config);
    if case.rules.is_some() {
        let rules = config.with_file_name("rules.rules");
        let checked = check_rule_file(&rules);
        match case.expect {
            None if checked.has_errors() || loaded.is_err() => Err(format!(
                "{}: expected to load, got:\n{}",
                case.name, checked.rendered
            )),
            None => Ok(()),
            Some("") if checked.has_errors() && loaded.is_err() => Ok(()),
            // Diagnostics of `test` blocks come from checking only: loading for extraction
            // skips the test blocks, so the same file loads.
            Some(code @ ("E108" | "E110")) => {
                let shown = format!("[{code}]");
                match loaded {
                    Ok(_) if checked.rendered.contains(&shown) => Ok(()),
                    Ok(_) => Err(format!(
                        "{}: expected {shown} from check, got:\n{}",
                        case.name,
                        truncated(&checked.rendered)
                    )),
                    Err(e) => Err(format!(
                        "{}: test blocks must not stop loading, got:\n{}",
                        case.name,
                        truncated(&e.to_string())
                    )),
                }
            }
            Some(code) => {
                let shown = format!("[{code}]");
                let load_error = loaded.err().map(|e| e.to_string()).unwrap_or_default();
                if checked.has_errors()
                    && checked.rendered.contains(&shown)
                    && load_error.contains(&shown)
                {
                    Ok(())
                } else {
                    Err(format!(
                        "{}: expected {shown} from check and load, got:\n{}\n--- load:\n{load_error}",
                        case.name,
                        truncated(&checked.rendered)
                    ))
                }
            }
        }
    } else {
        match (case.expect, loaded) {
            (None, Ok(_)) => Ok(()),
            (Some(fragment), Err(e)) if e.to_string().contains(fragment) => Ok(()),
            (expect, Ok(_)) => Err(format!("{}: expected {expect:?}, loaded", case.name)),
            (expect, Err(e)) => Err(format!(
                "{}: expected {expect:?}, got:\n{}",
                case.name,
                truncated(&e.to_string())
            )),
        }
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(3000).collect()
}

#[test]
fn every_hostile_rule_file_and_config_gets_its_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let oversize = mailex_grammar::limits::MAX_FILE_BYTES + 1024;
    let cases = hostile_rules::all(RULE_SIZE, oversize, CONFIG_SIZE);
    assert!(cases.len() >= 20);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_case(case, dir.path()).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_config_over_the_route_limit_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let routes = mailex_core::config::MAX_ROUTES + 1;
    let mut config = String::new();
    for i in 0..routes {
        config.push_str(&format!(
            "[[route]]\nname = \"r{i}\"\nsender = \"*@d{i}.example\"\nextractor = \"builtin:adf\"\n"
        ));
    }
    let path = dir.path().join("mailex.toml");
    std::fs::write(&path, config).expect("write");
    let err = Engine::load(&path).expect_err("too many routes");
    assert!(
        err.to_string()
            .contains(&format!("more than {} routes", routes - 1)),
        "{err}"
    );
}

#[test]
fn many_disjoint_regex_senders_are_not_claimed_to_tie() {
    // Every regex sender has the same rank, but no two can match one address: the pairwise
    // check stops at its cap (20 000 pairs, a work budget) without claiming a tie, and the
    // regex budget still stops the file.
    let mut config = String::new();
    let routes = mailex_core::config::MAX_CONFIG_REGEXES + 10;
    for i in 0..routes {
        config.push_str(&format!(
            "[[route]]\nname = \"r{i}\"\nsender_regex = '^a{i}@x\\.example$'\nextractor = \"builtin:adf\"\n"
        ));
    }
    let err = Engine::from_toml_str(
        &config,
        std::path::Path::new("m.toml"),
        std::path::Path::new("."),
    )
    .expect_err("over the regex budget");
    let text = err.to_string();
    assert!(!text.contains(" tie"), "{text}");
    assert!(
        text.contains(&format!(
            "more than {} distinct regular expressions",
            mailex_core::config::MAX_CONFIG_REGEXES
        )),
        "{text}"
    );
}

#[test]
fn many_overlapping_regex_senders_are_reported_within_bounds() {
    // 200 routes whose patterns all share `@shared.example`: 19 900 pairs, every one a tie.
    // The check stays within its work budget and the report within its size: the first ties
    // with an address both match, then a count.
    let mut config = String::new();
    for i in 0..200 {
        config.push_str(&format!(
            "[[route]]\nname = \"r{i}\"\nsender_regex = '@x{i}\\.example$|@shared\\.example$'\nextractor = \"builtin:adf\"\n"
        ));
    }
    let err = Engine::from_toml_str(
        &config,
        std::path::Path::new("m.toml"),
        std::path::Path::new("."),
    )
    .expect_err("ties");
    let problems = err.problems();
    assert!(
        problems[0].message.starts_with(
            "routes `r0` and `r1` tie: both `sender_regex` patterns match `@shared.example`"
        ),
        "{err}"
    );
    assert!(problems.len() <= 101, "{} problems", problems.len());
    assert!(
        problems.last().is_some_and(|p| p
            .message
            .contains("more ties between `sender_regex` routes")),
        "{err}"
    );
}
