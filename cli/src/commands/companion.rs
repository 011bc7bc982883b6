//! Companion binaries of `mailex-lambda`: `mailex replay` runs `mailex-replay`, `mailex config`
//! runs `mailex-config`, and `mailex check --config s3://...` runs `mailex-config check`.
//!
//! They read and write S3; the AWS SDK lives only in `mailex-lambda`, so the CLI runs that
//! crate's binaries like git runs its subcommands: the one next to `mailex` first, then the one
//! on `PATH`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

/// Runs the companion binary `name` with `args`, returning its exit code.
pub fn run(name: &str, args: Vec<OsString>) -> anyhow::Result<u8> {
    let program = sibling(name).unwrap_or_else(|| PathBuf::from(name));
    let status = Command::new(&program).args(&args).status().with_context(|| {
        format!(
            "cannot run {}: build it with `cargo build -p mailex-lambda --bin {name}` (it sits next to `mailex`)",
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
