//! Helpers shared by the CLI's integration tests (each test binary uses some of them).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailex_core::rules::RuleSet;
use mailex_core::{Email, ExtractContext, Extractor};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The ```sh blocks of `section` (from its `## ` heading to the next) of a Markdown file, as
/// commands: continuation lines joined, comments and blank lines dropped.
pub fn sh_commands(markdown: &str, section: &str) -> Vec<String> {
    let start = markdown
        .find(&format!("\n## {section}"))
        .unwrap_or_else(|| panic!("no section `{section}`"));
    let rest = &markdown[start + 1..];
    let body = &rest[..rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3)];
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in body.lines() {
        match line.trim() {
            "```sh" => in_block = true,
            "```" => in_block = false,
            text if in_block && !text.is_empty() => {
                let code = text.split(" # ").next().unwrap_or(text).trim_end();
                match code.strip_suffix('\\') {
                    Some(head) => pending.push_str(head),
                    None => {
                        pending.push_str(code);
                        commands.push(std::mem::take(&mut pending));
                    }
                }
            }
            _ => {}
        }
    }
    commands
}

/// Runs the built `mailex` in `dir`.
pub fn mailex_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("mailex runs")
}

/// Runs the built `mailex` in the repository's root.
pub fn mailex(args: &[&str]) -> Output {
    mailex_in(&root(), args)
}

/// Its stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Its stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the command succeeded.
pub fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    output
}

/// The fields a rule set extracts from `email`, as displayed.
pub fn extract(rules: &RuleSet, email: &Email<'_>) -> BTreeMap<String, String> {
    let settings = BTreeMap::new();
    rules
        .extract(
            email,
            &ExtractContext {
                route: "t",
                settings: &settings,
            },
        )
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.to_display_string()))
        .collect()
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Creates a secret holding `value` in the local Secrets Manager with boto3 (moto's own
/// dependency, a client that is not ours); returns its ARN.
pub fn create_secret(endpoint: &str, stem: &str, value: &serde_json::Value) -> String {
    let name = format!("mailex-cli-{stem}-{}", std::process::id());
    let created = Command::new("python3")
        .arg("-c")
        .arg(
            "import boto3, sys\n\
             c = boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                 aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             print(c.create_secret(Name=sys.argv[2], SecretString=sys.argv[3])['ARN'])",
        )
        .args([endpoint, &name, &value.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    String::from_utf8_lossy(&created.stdout).trim().to_owned()
}

/// Points `command` at the local Secrets Manager (`endpoint`, moto) with test credentials and,
/// when given, names the secret `arn` as `MAILEX_SECRETS_ARN` (else removes the variable).
pub fn with_local_secrets<'a>(
    command: &'a mut Command,
    endpoint: &str,
    arn: Option<&str>,
) -> &'a mut Command {
    command
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1");
    match arn {
        Some(arn) => command.env("MAILEX_SECRETS_ARN", arn),
        None => command.env_remove("MAILEX_SECRETS_ARN"),
    }
}
