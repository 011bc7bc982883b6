//! End-to-end tests of the `mailex` binary: real process, real files, real exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn mailex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("mailex runs")
}

fn records(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

const CONFIG: &str = "tests/fixtures/records/mailex.toml";

#[test]
fn extract_prints_one_record_per_input_in_order() {
    let files = [
        "tests/fixtures/records/unknown-sender.eml",
        "tests/fixtures/records/lead-meta-authenticated.eml",
        "tests/fixtures/records/spoofed-no-trusted-receiver.eml",
    ];
    let mut args = vec!["extract", "--config", CONFIG];
    args.extend(files);
    let output = mailex(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = records(&output);
    let statuses: Vec<&str> = records
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["unmatched", "extracted", "unauthenticated"]);
    for (record, file) in records.iter().zip(files) {
        assert_eq!(record["source"], file);
    }
}

#[test]
fn extract_walks_directories_and_keeps_going_past_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/fixtures/records/lead-meta-authenticated.eml"),
        dir.path().join("b.eml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("a.eml"), b"").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not an input").unwrap();
    let output = mailex(&[
        "extract",
        "--config",
        CONFIG,
        "--jobs",
        "2",
        dir.path().to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let records = records(&output);
    assert_eq!(records.len(), 2, "notes.txt is skipped in directories");
    assert_eq!(records[0]["status"], "failed");
    assert_eq!(records[0]["errors"][0]["code"], "parse_error");
    assert_eq!(records[1]["status"], "extracted");
}

#[test]
fn extract_reads_stdin_and_pretty_prints() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["extract", "--config", CONFIG, "--pretty", "-"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let raw =
        std::fs::read(root().join("tests/fixtures/records/lead-meta-authenticated.eml")).unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&raw).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.lines().count() > 10, "pretty output spans lines");
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["source"], "-");
    assert_eq!(record["status"], "extracted");
}

#[test]
fn a_bad_config_exits_2_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[route]]\nname = \"a\"\nsender = \"not-an-address\"\nextractor = \"builtin:adf\"\n\n[[route]]\nname = \"b\"\nsender = \"*@x.example\"\nrequire_auth = \"dkim2\"\nextractor = \"builtin:nope\"\n",
    )
    .unwrap();
    let output = mailex(&[
        "extract",
        "--config",
        config.to_str().unwrap(),
        "tests/fixtures/records/unknown-sender.eml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "no records for a bad config");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let at = format!("{}:3:10: error:", config.display());
    assert!(stderr.contains(&at), "{stderr}");
    assert!(stderr.contains("unknown built-in extractor"), "{stderr}");

    let check = mailex(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:9:16: error: unknown require_auth",
            config.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("problems found"), "{stderr}");
}

#[test]
fn tied_routes_are_rejected_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tie.toml");
    std::fs::write(
        &config,
        "[[route]]\nname = \"a\"\nsender = \"*@x.example\"\nextractor = \"builtin:adf\"\n\n[[route]]\nname = \"b\"\nsender = \"*@X.example\"\nextractor = \"builtin:lead-meta\"\n",
    )
    .unwrap();
    let output = mailex(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("routes `a` and `b` tie"), "{stderr}");
    assert!(stderr.contains(":7:8:"), "{stderr}");
}

#[test]
fn check_accepts_the_example_config() {
    let output = mailex(&["check", "--config", "examples/mailex.toml"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains(": ok ("));
}

#[test]
fn route_explains_the_decision() {
    let output = mailex(&[
        "route",
        "--config",
        CONFIG,
        "tests/fixtures/records/spoofed-forged-below-received.eml",
        "tests/fixtures/records/unknown-sender.eml",
    ]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("=> harbor-homes"), "{text}");
    assert!(text.contains("result: unauthenticated"), "{text}");
    assert!(text.contains("ignored 1 Authentication-Results"), "{text}");
    assert!(text.contains("result: unmatched"), "{text}");
}

#[test]
fn bad_inputs_get_their_own_record_and_the_run_goes_on_to_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("b.eml");
    std::fs::copy(
        root().join("tests/fixtures/records/lead-meta-authenticated.eml"),
        &good,
    )
    .unwrap();
    // A FIFO in the directory: reading it would block forever.
    let fifo = dir.path().join("a.eml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs")
            .success()
    );
    let missing = dir.path().join("missing.eml");
    let output = mailex(&[
        "extract",
        "--config",
        CONFIG,
        missing.to_str().unwrap(),
        dir.path().to_str().unwrap(),
        "/dev/zero",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = records(&output);
    let summary: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["errors"][0]["code"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("failed", "not_found"),
            ("failed", "not_a_file"),
            ("extracted", "-"),
            ("failed", "not_a_file"),
        ]
    );
    assert_eq!(records[1]["source"], fifo.to_str().unwrap());
}

#[test]
fn a_file_over_the_cap_is_refused_by_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailex.toml");
    std::fs::write(&config, "[settings]\nmax_input_bytes = 1000\n").unwrap();
    let big = dir.path().join("big.eml");
    std::fs::write(&big, vec![b'x'; 5000]).unwrap();
    let output = mailex(&[
        "extract",
        "--config",
        config.to_str().unwrap(),
        big.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let records = records(&output);
    assert_eq!(records[0]["errors"][0]["code"], "too_large");
    assert_eq!(records[0]["input_bytes"], 5000);
}

#[test]
fn unusable_arguments_exit_2() {
    assert_eq!(
        mailex(&["extract", "--config", CONFIG]).status.code(),
        Some(2)
    );
    assert_eq!(mailex(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(mailex(&["--version"]).status.code(), Some(0));
}

#[test]
fn schema_subcommand_prints_the_committed_schema() {
    let output = mailex(&["schema"]);
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/record.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, committed);
}

#[test]
fn the_example_rule_files_pass_their_tests() {
    let output = mailex(&["test", "--config", "examples/mailex.toml"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
}

/// A deployed copy of the example config: `mailex.toml` and the rule files, no fixtures.
#[test]
fn a_copy_without_fixtures_extracts_and_check_says_what_only_tests_need() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("examples/mailex.toml"),
        dir.path().join("mailex.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    for entry in std::fs::read_dir(root().join("examples/rules")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join("rules").join(path.file_name().unwrap())).unwrap();
    }
    let config = dir.path().join("mailex.toml");
    let config = config.to_str().unwrap();

    let extracted = mailex(&["extract", "--config", config, "examples/inbox/lead-zillow.eml"]);
    assert_eq!(extracted.status.code(), Some(0));
    let record = &records(&extracted)[0];
    assert_eq!(record["status"], "extracted", "{record}");
    assert_eq!(record["extractor"]["name"], "rules/zillow.rules");

    let check = mailex(&["check", "--config", config]);
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains("error[E110]"), "{stderr}");
    assert!(stderr.contains("found in test blocks"), "{stderr}");

    let check = mailex(&["check", "--skip-tests", "--config", config]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn a_failing_rule_test_exits_1_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("wrong.rules");
    std::fs::copy(
        root().join("tests/fixtures/leads/zillow.eml"),
        dir.path().join("zillow.eml"),
    )
    .unwrap();
    std::fs::write(
        &rules,
        "version 1\n\nprofile \"p\" {\n  field name: person_name required = reply_to.name ?? text.line\n}\n\ntest \"wrong\" {\n  input \"zillow.eml\"\n  expect {\n    name = \"Somebody Else\"\n  }\n}\n",
    )
    .unwrap();
    let output = mailex(&["test", rules.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Somebody Else"));
}

#[test]
fn stats_report_per_extractor_cost_on_stderr() {
    let output = mailex(&[
        "extract",
        "--stats",
        "--config",
        "examples/mailex.toml",
        "examples/inbox/",
    ]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("peak memory"), "{stderr}");
    assert!(stderr.contains("builtin:adf"), "{stderr}");
    assert!(stderr.contains("records: extracted="), "{stderr}");
    // Stats never mix into the records on stdout.
    assert_eq!(
        records(&output).len(),
        String::from_utf8_lossy(&output.stdout).lines().count()
    );
}

/// `mailex plugin new` scaffolds a crate that `mailex plugin build` builds, validates and
/// precompiles as is. Shares the plugins' target directory so the SDK is not rebuilt.
#[test]
fn a_scaffolded_plugin_builds_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let sdk = root().join("plugins/sdk");
    let new = mailex(&[
        "plugin",
        "new",
        "demo-leads",
        "--dir",
        dir.path().to_str().unwrap(),
        "--sdk",
        sdk.to_str().unwrap(),
    ]);
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let crate_dir = dir.path().join("demo-leads");
    let cache = dir.path().join("cache");
    let build = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args([
            "plugin",
            "build",
            crate_dir.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .env("CARGO_TARGET_DIR", root().join("target/wasm"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&build.stdout);
    assert!(
        build.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(stdout.contains("contract 1.0.0"), "{stdout}");
    let artefacts: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert!(
        artefacts
            .iter()
            .any(|e| e.path().extension().is_some_and(|x| x == "cwasm")),
        "no .cwasm in the cache"
    );
}

#[test]
fn test_inputs_are_confined_to_the_fixtures_root() {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/leads/zillow.eml"),
        dir.path().join("zillow.eml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("secrets.env"), "API_TOKEN=s3cr3t-value\n").unwrap();
    let rules = rules_dir.join("leaky.rules");
    std::fs::write(
        &rules,
        "version 1\nprofile \"p\" { field v: text optional = text }\n\
         test \"passwd\" { input \"/etc/passwd\" expect { v = \"x\" } }\n\
         test \"proc\" { input \"../../../../../../../../proc/self/status\" expect { v = \"x\" } }\n\
         test \"sibling\" { input \"../zillow.eml\" expect { status = \"extracted\" } }\n\
         test \"env\" { input \"../secrets.env\" expect { v = \"x\" } }\n",
    )
    .unwrap();
    let rules = rules.to_str().unwrap();
    // Default root: the rule file's own directory.
    let output = mailex(&["test", rules]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.matches("E118:").count(), 4, "{stdout}");
    assert!(
        !stdout.contains("root:") && !stdout.contains("s3cr3t"),
        "{stdout}"
    );
    // A wider root chosen on the command line: the sibling runs, the .env is not mail.
    let root_arg = dir.path().to_str().unwrap();
    let output = mailex(&["test", "--fixtures-root", root_arg, rules]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("test sibling ... ok"), "{stdout}");
    assert!(stdout.contains("E119:"), "{stdout}");
    assert_eq!(stdout.matches("E118:").count(), 2, "{stdout}");
    assert!(
        !stdout.contains("s3cr3t") && !stdout.contains("API_TOKEN"),
        "{stdout}"
    );
}
