//! The commands of docs/cli.md run as written.

mod common;

use std::path::Path;
use std::process::Command;

use common::{copy_dir, root, sh_commands, stderr, stdout};

/// The `sh` blocks of docs/cli.md run as written, in a copy of the repository's examples and
/// lead fixtures, with the built `mailex` first on the PATH.
#[test]
fn the_cli_guide_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), &dir.path().join("examples"));
    copy_dir(
        &root().join("tests/fixtures/leads"),
        &dir.path().join("tests/fixtures/leads"),
    );
    let guide = std::fs::read_to_string(root().join("docs/cli.md")).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mailex")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for section in [
        "mailex show",
        "mailex draft",
        "mailex test --filter and --bless",
        "mailex extract --explain",
        "mailex check --format json, completions and the man page",
    ] {
        for command in sh_commands(&guide, section) {
            let output = Command::new("bash")
                .args(["-c", &command])
                .current_dir(dir.path())
                .env("PATH", &path)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "`{command}` failed:\n{}\n{}",
                stdout(&output),
                stderr(&output)
            );
            ran += 1;
        }
    }
    assert!(ran >= 14, "{ran}");
}
