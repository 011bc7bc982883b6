//! docs/deploy.md, step by step: every `mailex config ...` and `mailex check --config s3://...`
//! command of the page runs (as `mailex-config`, which `mailex` runs for them) against the local
//! S3, with the example config and its rule files; then a cold start of the real `bootstrap`
//! loads what was pushed and extracts an example mail.
//!
//! The page's local commands (`mailex check` and `mailex test` on `examples/mailex.toml`) are
//! run by the CLI's tests (`check_accepts_the_example_config`,
//! `the_example_rule_files_pass_their_tests`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use super::common::*;
use crate::s3_or_skip;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Every command line of the page's `sh` blocks that starts with `mailex`, with `\`
/// continuations joined.
fn mailex_commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_block = trimmed == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let code = trimmed.split(" #").next().unwrap_or("").trim_end();
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head.trim());
            pending.push(' ');
            continue;
        }
        pending.push_str(code);
        let command = std::mem::take(&mut pending);
        if command.starts_with("mailex ") {
            out.push(command);
        }
    }
    out
}

/// Runs a companion binary from the workspace root against the local S3.
fn tool(binary: &str, endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new(binary)
        .args(args)
        .current_dir(workspace_root())
        .env("MAILEX_S3_ENDPOINT", endpoint)
        .env("MAILEX_S3_FORCE_PATH_STYLE", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("the tool runs")
}

#[tokio::test]
async fn the_documented_upload_starts_the_function() {
    let endpoint = s3_or_skip!();
    let root = workspace_root();
    let doc = std::fs::read_to_string(root.join("docs/deploy.md")).expect("docs/deploy.md");
    let commands = mailex_commands(&doc);
    let local: Vec<&String> = commands
        .iter()
        .filter(|c| !c.contains("s3://") && !c.starts_with("mailex config"))
        .filter(|c| !c.starts_with("mailex replay"))
        .collect();
    assert_eq!(
        local,
        [
            "mailex check --config examples/mailex.toml",
            "mailex test --config examples/mailex.toml"
        ],
        "the page's local commands changed: make sure the CLI tests still cover them"
    );

    let s = store(&endpoint).await;
    let (output, input) = (unique_bucket("records"), unique_bucket("inbound"));
    create_bucket(&s, &output).await;
    let mut version = String::new();
    let mut ran = Vec::new();
    for command in &commands {
        let companion = if let Some(rest) = command.strip_prefix("mailex config ") {
            rest.to_owned()
        } else if let Some(rest) = command.strip_prefix("mailex check --config s3://") {
            format!("check s3://{rest}")
        } else {
            continue;
        };
        let line = companion
            .replace("<output bucket>", &output)
            .replace("<version>", &version);
        let args: Vec<&str> = line.split_whitespace().collect();
        let result = tool(env!("CARGO_BIN_EXE_mailex-config"), &endpoint, &args);
        let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            result.status.success(),
            "`{command}` failed:\n{stdout}\n{stderr}"
        );
        if args.first() == Some(&"push") {
            version = stdout
                .split("version ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .expect("push names the version")
                .to_owned();
            assert!(
                !stdout.contains("tests/fixtures"),
                "fixtures are not uploaded: {stdout}"
            );
        }
        ran.push(args[0].to_owned());
    }
    assert_eq!(ran, ["push", "check", "list", "activate"], "{commands:?}");
    let uploaded = keys(&s, &output, "config/").await;
    assert!(
        uploaded.contains(&format!("config/versions/{version}/rules/zillow.rules")),
        "{uploaded:?}"
    );
    assert!(uploaded.contains(&"config/current.json".to_owned()));

    // The function, configured as the template configures it, starts on what was pushed.
    put(
        &s,
        &input,
        "inbound/zillow",
        std::fs::read(root.join("examples/inbox/lead-zillow.eml")).unwrap(),
    )
    .await;
    let api = RuntimeApi::start();
    let location = format!("s3://{output}/config/");
    let child = bootstrap(
        &api,
        &endpoint,
        &[
            ("MAILEX_CONFIG", &location),
            ("MAILEX_OUTPUT_BUCKET", &output),
            ("MAILEX_OUTPUT_PREFIX", "records/"),
        ],
    );
    api.invoke(
        "deployed",
        &sqs_batch(&[s3_event(&input, "inbound/zillow")]),
    );
    let (api, answers) = answers(api, &["deployed"]).await;
    let (_, stderr, _) = finish(child);
    drop(api);
    let answer = answers[0]
        .clone()
        .unwrap_or_else(|| panic!("no answer: the cold start failed?\n{stderr}"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap(),
        json!({"batchItemFailures": []}),
        "{stderr}"
    );
    let id = mailex_lambda::object_id(&input, "inbound/zillow");
    let record = read_json(&s, &output, &format!("records/{id}.json")).await;
    assert_eq!(record["advertiser"], "zillow-rentals", "{record}");
    assert_eq!(record["status"], "extracted", "{record}");
    assert_eq!(record["extractor"]["name"], "rules/zillow.rules");
    assert!(
        stderr.contains(&version),
        "the pushed version serves: {stderr}"
    );

    // Replay, as the page shows it (with `--write`): the function's record is reproduced byte
    // for byte, so nothing is written.
    let replay_line = commands
        .iter()
        .find(|c| c.starts_with("mailex replay "))
        .expect("the page shows replay");
    let line = replay_line
        .trim_start_matches("mailex replay ")
        .replace("<output bucket>", &output)
        .replace("<inbound bucket>", &input)
        .replace(['[', ']'], "");
    assert!(line.contains("--write"), "{replay_line}");
    let mut args: Vec<&str> = line.split_whitespace().collect();
    args.push("--no-progress");
    let result = tool(env!("CARGO_BIN_EXE_mailex-replay"), &endpoint, &args);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout
            .contains("replayed 1 mails: 0 records written, 0 superseded removed, 0 I/O failures"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("zillow-rentals"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let counts: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &counts[1..4],
        ["1", "0", "1"],
        "total, new, unchanged: {row}"
    );
}
