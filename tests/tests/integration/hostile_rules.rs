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
fn many_routes_with_regex_senders_tie_in_linear_time() {
    // Every regex sender has the same rank, so each route ties with the first: one problem
    // per route, found with one hash lookup each.
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
    .expect_err("ties");
    let text = err.to_string();
    let last_built = mailex_core::config::MAX_CONFIG_REGEXES - 1;
    assert!(
        text.contains(&format!("routes `r0` and `r{last_built}` tie")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "more than {} distinct regular expressions",
            mailex_core::config::MAX_CONFIG_REGEXES
        )),
        "{text}"
    );
}
