//! `mailex replay`: forwards to the `mailex-replay` binary (from `mailex-lambda`).
//!
//! Replay reads stored mail from a folder or an S3 prefix; the AWS SDK lives only in
//! `mailex-lambda`, so the CLI runs that crate's binary like git runs its subcommands: the one
//! next to `mailex` first, then the one on `PATH`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

/// Runs `mailex-replay` with `args`, returning its exit code.
pub fn run(args: Vec<OsString>) -> anyhow::Result<u8> {
    let program = sibling("mailex-replay").unwrap_or_else(|| PathBuf::from("mailex-replay"));
    let status = Command::new(&program).args(&args).status().with_context(|| {
        format!(
            "cannot run {}: build it with `cargo build -p mailex-lambda --bin mailex-replay` (it sits next to `mailex`)",
            program.display()
        )
    })?;
    Ok(status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)))
}

fn sibling(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.join(name);
    candidate.is_file().then_some(candidate)
}
