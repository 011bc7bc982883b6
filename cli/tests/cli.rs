//! End-to-end tests of the `mailex` binary: real process, real files, real exit codes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{mailex, root, sh_commands};

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
fn check_warns_when_no_mail_can_ever_authenticate() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailex.toml");
    std::fs::write(
        &config,
        "[auth]\ntrusted_receivers = []\n\n[[route]]\nname = \"a\"\nsender = \"*@x.example\"\nextractor = \"builtin:adf\"\n",
    )
    .unwrap();
    let output = mailex(&["check", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(":2:1: warning: `[auth] trusted_receivers` is empty"),
        "{stderr}"
    );
    // With no route requiring authentication, an empty list is a choice, not a trap.
    std::fs::write(
        &config,
        "[auth]\ntrusted_receivers = []\n\n[[route]]\nname = \"a\"\nsender = \"*@x.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:adf\"\n",
    )
    .unwrap();
    let output = mailex(&["check", "--config", config.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));
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

    // The same decisions as JSON, one object per email.
    let output = mailex(&[
        "route",
        "--config",
        CONFIG,
        "--format",
        "json",
        "tests/fixtures/records/spoofed-forged-below-received.eml",
        "tests/fixtures/records/unknown-sender.eml",
        "tests/fixtures/records/lead-meta-authenticated.eml",
    ]);
    assert!(output.status.success());
    let reports = records(&output);
    assert_eq!(reports.len(), 3);
    let spoofed = &reports[0];
    assert_eq!(spoofed["result"]["status"], "unauthenticated", "{spoofed}");
    assert_eq!(spoofed["result"]["route"], "harbor-homes", "{spoofed}");
    let chosen: Vec<&serde_json::Value> = (spoofed["candidates"].as_array().unwrap().iter())
        .filter(|c| c["chosen"] == true)
        .collect();
    assert_eq!(chosen.len(), 1, "{spoofed}");
    assert_eq!(chosen[0]["route"], "harbor-homes");
    assert!(
        (spoofed["warnings"].as_array().unwrap().iter()).any(|w| w["message"]
            .as_str()
            .unwrap()
            .contains("ignored 1 Authentication-Results")),
        "{spoofed}"
    );
    assert_eq!(
        reports[1]["result"]["status"], "unmatched",
        "{}",
        reports[1]
    );
    assert_eq!(reports[2]["result"]["status"], "routed", "{}", reports[2]);
    assert_eq!(
        reports[2]["result"]["authenticated"], true,
        "{}",
        reports[2]
    );
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

#[test]
fn quiet_tests_print_only_failures_and_the_summary() {
    let output = mailex(&["test", "-q", "--config", "examples/mailex.toml"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("total: "), "{stdout}");
    assert!(lines[0].contains(" passed; 0 failed"), "{stdout}");
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
        std::fs::copy(
            &path,
            dir.path().join("rules").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let config = dir.path().join("mailex.toml");
    let config = config.to_str().unwrap();

    let extracted = mailex(&[
        "extract",
        "--config",
        config,
        "examples/inbox/lead-zillow.eml",
    ]);
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

    // The same run as one JSON document: the failing test with its field diff.
    let output = mailex(&["test", rules.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(0), Some(1)),
        "{report}"
    );
    let test = &report["tests"][0];
    assert_eq!(test["name"], "wrong", "{report}");
    assert_eq!(test["passed"], false, "{report}");
    assert_eq!(test["diffs"][0]["field"], "name", "{report}");
    assert!(
        test["diffs"][0]["expected"]
            .as_str()
            .unwrap()
            .contains("Somebody Else"),
        "{report}"
    );
}

#[test]
fn test_format_json_counts_every_test_of_the_example_config() {
    let text = mailex(&["test", "--config", "examples/mailex.toml", "--quiet"]);
    assert_eq!(text.status.code(), Some(0));
    let summary = String::from_utf8_lossy(&text.stdout);
    let output = mailex(&[
        "test",
        "--config",
        "examples/mailex.toml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let report = json_of(&output);
    let passed = report["passed"].as_u64().unwrap();
    assert!(
        summary.contains(&format!("total: {passed} passed; 0 failed")),
        "{summary}\n{report}"
    );
    assert_eq!(
        report["tests"].as_array().map(Vec::len),
        Some(passed as usize)
    );
    assert_eq!(
        mailex(&[
            "test",
            "--config",
            "examples/mailex.toml",
            "--format",
            "json",
            "--bless"
        ])
        .status
        .code(),
        Some(2)
    );
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

/// Runs a command, asserting it succeeds; returns its stdout.
fn succeed(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The plugin author's loop on a fresh scaffold, with nothing but the `mailex` binary and
/// cargo: the commands of docs/plugins.md sections 2 ("Scaffold") and 5 ("Test") run as
/// written (`mailex plugin new acme-leads`, `plugin build`, `extract`, `test --plugin`,
/// `test --config`); then the crate's native `cargo test` (a host primitive called natively
/// panics catchably: the test binary does not abort), the sample's record, and the plugin's
/// log lines with `-vv`.
///
/// `--locked --offline` proves the shipped lock file is complete and needs no registry (the
/// crates are in the cargo cache once `scripts/build-plugins.sh` has run). The crate's
/// `target` is a link to `target/wasm-scaffold`, so registry crates are built once.
#[test]
fn the_guides_scaffold_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let guide = std::fs::read_to_string(root().join("docs/plugins.md")).unwrap();
    let mut commands = sh_commands(&guide, "2. Scaffold");
    commands.extend(sh_commands(&guide, "5. Test"));
    assert!(commands.len() >= 8, "{commands:?}");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mailex")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache = dir.path().join("cache");
    // A target directory of its own, kept between runs so registry crates are built once. Not
    // the plugins' `target/wasm`: a wasm component's file has no hash in its name, so this
    // scaffold, also called acme-leads, would overwrite `deps/acme_leads.wasm` of the example
    // plugin there, which cargo then still takes for fresh and scripts/build-plugins.sh copies.
    let shared_target = root().join("target/wasm-scaffold");
    std::fs::create_dir_all(&shared_target).unwrap();
    let mut cwd = dir.path().to_path_buf();
    for command in &commands {
        if let Some(sub) = command.strip_prefix("cd ") {
            cwd = cwd.join(sub.trim());
            continue;
        }
        if command.starts_with("mailex plugin build") && !cwd.join("target").exists() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(&shared_target, cwd.join("target")).unwrap();
        }
        succeed(
            Command::new("sh")
                .args(["-c", command])
                .env("PATH", &path)
                .env("MAILEX_PLUGIN_CACHE", &cache)
                .env_remove("CARGO_TARGET_DIR")
                .current_dir(&cwd),
            command,
        );
    }
    let crate_dir = dir.path().join("acme-leads");
    assert_eq!(cwd, crate_dir, "the guide's commands run in the new crate");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("path = \"vendor/mailex-plugin-sdk\""),
        "the scaffold must not point at this checkout: {manifest}"
    );

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let unit = succeed(
        Command::new(&cargo)
            .args(["test", "--locked", "--offline"])
            .env_remove("CARGO_TARGET_DIR")
            .current_dir(&crate_dir),
        "the scaffold's native cargo test",
    );
    assert!(
        unit.contains("host_primitives_run_inside_mailex_only - should panic ... ok"),
        "{unit}"
    );
    assert!(unit.contains("test result: ok. 2 passed"), "{unit}");

    let extract = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args([
            "-vv",
            "extract",
            "--config",
            "mailex.toml",
            "fixtures/sample.eml",
        ])
        .current_dir(&crate_dir)
        .output()
        .unwrap();
    assert!(extract.status.success());
    let record = &records(&extract)[0];
    assert_eq!(record["status"], "extracted", "{record:#}");
    assert_eq!(record["fields"]["phone"], "+12025550143");
    assert_eq!(record["fields"]["email"], "jane@example.com");
    let stderr = String::from_utf8_lossy(&extract.stderr);
    assert!(
        stderr.contains("mailex::plugin") && stderr.contains("3 fields"),
        "the plugin's debug line is visible with -vv: {stderr}"
    );
    let quiet = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["extract", "--config", "mailex.toml", "fixtures/sample.eml"])
        .current_dir(&crate_dir)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("3 fields"),
        "debug lines only with -vv"
    );

    let test = succeed(
        Command::new(env!("CARGO_BIN_EXE_mailex"))
            .args(["test", "--config", "mailex.toml"])
            .current_dir(&crate_dir),
        "mailex test --config mailex.toml",
    );
    assert!(test.contains("test sample.eml ... ok"), "{test}");
    assert!(test.contains("1 passed; 0 failed"), "{test}");
    assert!(
        std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "cwasm")),
        "`mailex plugin build` precompiled into the cache"
    );
}

/// Writes `lead-card.eml` (the acme-leads fixture) and an expected record into `dir`.
fn acme_test_dir(dir: &Path, expected: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(
        root().join("plugins/examples/acme-leads/fixtures/lead-card.eml"),
        dir.join("lead-card.eml"),
    )
    .unwrap();
    std::fs::write(dir.join("lead-card.expected.json"), expected).unwrap();
}

fn acme_wasm() -> PathBuf {
    let wasm = root().join("target/plugins/acme_leads.wasm");
    assert!(
        wasm.is_file(),
        "{} missing: run scripts/build-plugins.sh",
        wasm.display()
    );
    wasm
}

const ACME_EXPECTED: &str = r#"{
  "status": "extracted",
  "fields": {
    "email": "dana.whitfield@example.org",
    "name": { "full": "Dana Whitfield", "first": "Dana", "last": "Whitfield" },
    "phone": "+13125550187"
  }
}"#;

/// `mailex test --plugin X.wasm DIR` passes on a right expected file and, on a wrong one,
/// exits 1 with the differences field by field (a wrong value, a missing field, an extra one).
#[test]
fn test_plugin_reports_differences_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = acme_wasm();
    let good = dir.path().join("good");
    acme_test_dir(&good, ACME_EXPECTED);
    let output = mailex(&[
        "test",
        "--plugin",
        wasm.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("test lead-card.eml ... ok"), "{stdout}");

    let bad = dir.path().join("bad");
    acme_test_dir(
        &bad,
        r#"{"fields": {"phone": "+13125550000", "name": {"full": "Dana Whitfield", "first": "Dana", "last": "Whitfield"}, "listing": "L-1"}}"#,
    );
    let output = mailex(&[
        "test",
        "--plugin",
        wasm.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("test lead-card.eml ... FAILED"), "{stdout}");
    for expected in [
        "    field `email`:\n      - expected: none\n      + actual:   \"dana.whitfield@example.org\"",
        "    field `listing`:\n      - expected: \"L-1\"\n      + actual:   none",
        "    field `phone`:\n      - expected: \"+13125550000\"\n      + actual:   \"+13125550187\"",
    ] {
        assert!(
            stdout.contains(expected),
            "missing\n{expected}\nin\n{stdout}"
        );
    }
    assert!(!stdout.contains("field `name`"), "{stdout}");

    let missing = dir.path().join("missing");
    std::fs::create_dir_all(&missing).unwrap();
    std::fs::copy(bad.join("lead-card.eml"), missing.join("lead-card.eml")).unwrap();
    let output = mailex(&[
        "test",
        "--plugin",
        wasm.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("lead-card.expected.json"), "{stdout}");
}

/// `mailex test --config` on a config whose routes are all plugins runs each route's `tests`
/// directory, and says in one sentence what a route without one lacks.
#[test]
fn test_config_runs_the_mail_tests_of_plugin_routes() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = acme_wasm();
    acme_test_dir(&dir.path().join("tests/acme"), ACME_EXPECTED);
    let config = dir.path().join("mailex.toml");
    std::fs::write(
        &config,
        format!(
            "[[route]]\nname = \"acme\"\nsender = \"*@leads.acme.example\"\nextractor = {wasm:?}\ntests = \"tests/acme\"\n\n\
             [[route]]\nname = \"acme-untested\"\nsender = \"*@other.acme.example\"\nextractor = {wasm:?}\n",
            wasm = wasm.display().to_string()
        ),
    )
    .unwrap();
    let output = mailex(&["test", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains("no rule file given"), "{stdout}");
    assert!(stdout.contains("test lead-card.eml ... ok"), "{stdout}");
    assert!(
        stdout.contains("route `acme-untested` (plugin "),
        "the untested route is named: {stdout}"
    );
    assert!(
        stdout.contains("add `tests = \"DIR\"` to the route"),
        "{stdout}"
    );
}

/// `extractor = "plugin:PATH"` is refused with a hint to drop the prefix.
#[test]
fn a_plugin_prefix_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailex.toml");
    std::fs::write(
        &config,
        "[[route]]\nname = \"acme\"\nsender = \"*@leads.acme.example\"\nextractor = \"plugin:target/plugins/acme_leads.wasm\"\n",
    )
    .unwrap();
    let output = mailex(&["check", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("without a prefix: `extractor = \"target/plugins/acme_leads.wasm\"`"),
        "{stderr}"
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

fn json_of(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn check_json(config: &Path) -> Output {
    mailex(&[
        "check",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ])
}

#[test]
fn check_format_json_reports_routes_and_located_problems() {
    // The example config: ok, with every route of the file.
    let output = mailex(&[
        "check",
        "--config",
        "examples/mailex.toml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let ok = json_of(&output);
    assert_eq!(ok["ok"], true, "{ok}");
    let toml = std::fs::read_to_string(root().join("examples/mailex.toml")).unwrap();
    let declared = toml.lines().filter(|l| l.trim() == "[[route]]").count();
    let routes = ok["routes"].as_array().expect("routes");
    assert_eq!(routes.len(), declared, "{ok}");
    assert!(routes.iter().any(|r| r["name"] == "zillow-rentals"
        && r["extractor"] == "rules/zillow.rules"
        && r["require_auth"] == "dmarc"));

    // A config that does not load: ok false, each problem with its file, line and column.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[route]]\nname = \"a\"\nsender = \"*@x.example\"\nrequire_auth = \"dkim2\"\nextractor = \"builtin:adf\"\n",
    )
    .unwrap();
    let output = check_json(&config);
    assert_eq!(output.status.code(), Some(1));
    let bad = json_of(&output);
    assert_eq!(bad["ok"], false, "{bad}");
    let problem = &bad["problems"][0];
    assert_eq!(problem["file"], config.to_str().unwrap(), "{bad}");
    assert_eq!(
        (problem["line"].as_u64(), problem["column"].as_u64()),
        (Some(4), Some(16)),
        "{bad}"
    );
    assert_eq!(problem["severity"], "error");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("unknown require_auth"),
        "{bad}"
    );

    // A rule file whose test block names a fixture that is not there: the diagnostic's code and
    // where it is.
    std::fs::write(
        dir.path().join("a.rules"),
        "version 1\n\nprofile \"a\" {\n  match {\n    subject contains \"x\"\n  }\n  field name: text optional = text.after(\"Name:\")\n}\n\ntest \"missing\" {\n  input \"nowhere.eml\"\n  expect {\n    name = \"x\"\n  }\n}\n",
    )
    .unwrap();
    let config = dir.path().join("rules.toml");
    std::fs::write(
        &config,
        "[[route]]\nname = \"a\"\nsender = \"*@x.example\"\nrequire_auth = \"none\"\nextractor = \"a.rules\"\n",
    )
    .unwrap();
    let output = check_json(&config);
    let tests = json_of(&output);
    assert_eq!(output.status.code(), Some(1), "{tests}");
    assert_eq!(tests["ok"], false, "{tests}");
    let diagnostic = tests["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"].as_str().is_some_and(|c| c.starts_with('E')))
        .unwrap_or_else(|| panic!("no coded diagnostic: {tests}"));
    assert!(
        diagnostic["file"].as_str().unwrap().ends_with("a.rules"),
        "{tests}"
    );
    assert_eq!(diagnostic["line"], 11, "{tests}");
}

#[test]
fn completions_and_man_page_come_from_the_same_command_line() {
    let bash = mailex(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(
        script.contains("complete") && script.contains("mailex"),
        "{script}"
    );
    for subcommand in ["extract", "check", "test", "completions"] {
        assert!(
            script.contains(subcommand),
            "no `{subcommand}` in the bash completions"
        );
    }
    assert_eq!(mailex(&["completions", "tcsh"]).status.code(), Some(2));
    let man = mailex(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH mailex"),
        "{page}"
    );
    assert!(page.contains("extract"), "{page}");
}

#[test]
fn check_timings_names_every_extractor_and_the_first_record() {
    let output = mailex(&[
        "check",
        "--config",
        "examples/mailex.toml",
        "--skip-tests",
        "--timings",
        "--timings-mail",
        "examples/inbox/lead-zillow.eml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let checked = json_of(&output);
    let timings = &checked["timings"];
    let extractors: Vec<&str> = timings["extractors"]
        .as_array()
        .unwrap_or_else(|| panic!("no timings: {checked}"))
        .iter()
        .filter_map(|e| e["extractor"].as_str())
        .collect();
    let toml = std::fs::read_to_string(root().join("examples/mailex.toml")).unwrap();
    for line in toml.lines().filter(|l| l.starts_with("extractor = ")) {
        let spec = line.trim_start_matches("extractor = ").trim_matches('"');
        assert!(extractors.contains(&spec), "{spec} not timed: {timings}");
    }
    for key in ["read_ms", "parse_ms", "load_total_ms", "first_record_ms"] {
        assert!(
            timings[key].as_f64().is_some_and(|v| v >= 0.0),
            "{key}: {timings}"
        );
    }
    // Text output lists the same phases; a mail that is not there is an error, not a panic.
    let text = mailex(&[
        "check",
        "--config",
        "examples/mailex.toml",
        "--skip-tests",
        "--timings",
        "--timings-mail",
        "no-such.eml",
    ]);
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("load builtin:adf") && stdout.contains("load in all"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&text.stderr).contains("no-such.eml"));
}
