//! `mailex check`: loads and validates a config and everything it references.
//!
//! ```text
//! mailex check --config examples/mailex.toml           # the config, its rule files and their test blocks
//! mailex check --config staged/mailex.toml --skip-tests # only what loading needs (a deployed copy)
//! mailex check --config s3://bucket/config/             # what the Lambda function loads (runs mailex-config)
//! ```
//!
//! Sinks are checked when the config loads (kinds, URLs, ARNs, filters); a sink secret that is
//! not set in this environment is a warning.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;

/// Arguments of `mailex check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file, or `s3://bucket/prefix/` for the config the Lambda function
    /// loads from there (checked by `mailex-config check`).
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
    /// Check only what loading needs, as the engine and the Lambda function do: skip the rule
    /// files' `test` blocks and their fixtures (which a deployed copy does not carry).
    #[arg(long)]
    pub skip_tests: bool,
    /// The directory the `input` files of rule-file tests must lie in (default: the config's
    /// `[test] fixtures_root`, else the config file's directory).
    #[arg(long, value_name = "DIR")]
    pub fixtures_root: Option<PathBuf>,
}

/// Runs `mailex check`: exit 0 when everything loads, 1 with every problem printed otherwise.
pub fn run(args: CheckArgs) -> anyhow::Result<u8> {
    if let Some(location) = args.config.to_str().filter(|c| c.starts_with("s3://")) {
        return super::companion::run(
            "mailex-config",
            vec![OsString::from("check"), OsString::from(location)],
        );
    }
    let engine = match mailex_core::Engine::load_with(&args.config, &super::load_options()) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("{e}");
            let count = e.problems().len() + e.reports().len();
            eprintln!(
                "{}: {count} problem{} found",
                args.config.display(),
                if count == 1 { "" } else { "s" }
            );
            return Ok(1);
        }
    };
    for warning in engine.warnings() {
        eprintln!("{}", warning.warning_line());
    }
    // Loading compiled the rules; the test blocks and fixtures are checked here.
    let mut test_errors = 0;
    if !args.skip_tests {
        let base = engine.config_path().parent().unwrap_or(Path::new("."));
        let root = args
            .fixtures_root
            .clone()
            .unwrap_or_else(|| engine.fixtures_root().to_path_buf());
        let mut files: Vec<PathBuf> = engine
            .router()
            .routes()
            .iter()
            .filter(|route| route.extractor_spec.ends_with(".rules"))
            .map(|route| base.join(&route.extractor_spec))
            .collect();
        files.sort();
        files.dedup();
        for path in files {
            let checked = mailex_core::rules::check_rule_file_in(&path, &root);
            if !checked.rendered.is_empty() {
                eprint!("{}", checked.rendered);
            }
            test_errors += checked.diagnostics.iter().filter(|d| d.is_error()).count();
        }
    }
    let routes = engine.router().routes();
    if test_errors > 0 {
        eprintln!(
            "{}: {test_errors} problem{} found in test blocks (loading needs none of them: see --skip-tests)",
            args.config.display(),
            if test_errors == 1 { "" } else { "s" }
        );
        return Ok(1);
    }
    println!(
        "{}: ok ({} route{})",
        args.config.display(),
        routes.len(),
        if routes.len() == 1 { "" } else { "s" }
    );
    for route in routes {
        println!(
            "  {} [{}] -> {} (require_auth = {})",
            route.name,
            route.sender,
            route.extractor_spec,
            route.policy.as_str()
        );
    }
    for sink in engine.sinks() {
        let statuses: Vec<&str> = sink.filter.statuses.iter().map(|s| s.as_str()).collect();
        println!(
            "  sink {} ({}) <- {}",
            sink.name,
            sink.target.kind(),
            statuses.join(", ")
        );
    }
    // Secrets belong to the environment that delivers (the function's, or the shell of
    // `mailex extract --deliver`): one missing here is worth a warning, not a failed check.
    for missing in
        mailex_delivery::Secrets::missing(engine.sinks(), |name| std::env::var(name).ok())
    {
        eprintln!(
            "warning: {missing} here; `mailex extract --deliver` and the function need it set"
        );
    }
    Ok(0)
}
