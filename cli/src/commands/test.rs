//! `mailex test`: runs the `test` blocks of rule files and shows per-field diffs.
//!
//! ```text
//! mailex test --fixtures-root . examples/rules/zillow.rules   # one or more rule files
//! mailex test --config examples/mailex.toml                   # every rule file the config's routes name
//! ```
//!
//! Test inputs are read only inside a fixtures root chosen here, never by the rule file:
//! `--fixtures-root DIR`, else (with `--config`) the config's `[test] fixtures_root`, else the
//! config file's directory, else each rule file's own directory.
//!
//! Exit codes: 0 when every test passes, 1 when a test fails or a rule file does not compile,
//! 2 when the arguments or the config are unusable.

use std::path::{Path, PathBuf};

use clap::Args;
use mailex_core::rules::{TestReport, load_rule_file};

/// Arguments of `mailex test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files to test.
    pub files: Vec<PathBuf>,
    /// Test every rule file referenced by this configuration's routes.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print only failures and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// The directory test inputs must lie in (default: see the command's documentation).
    #[arg(long, value_name = "DIR")]
    pub fixtures_root: Option<PathBuf>,
}

/// Runs `mailex test` and returns the exit code.
pub fn run(args: TestArgs) -> anyhow::Result<i32> {
    // Each rule file with the fixtures root its inputs must lie in.
    let mut files: Vec<(PathBuf, PathBuf)> = args
        .files
        .iter()
        .map(|f| {
            let own_dir = f.parent().unwrap_or(Path::new(".")).to_path_buf();
            (f.clone(), args.fixtures_root.clone().unwrap_or(own_dir))
        })
        .collect();
    if let Some(config) = &args.config {
        match rule_files_of(config) {
            Ok((found, root)) => {
                let root = args.fixtures_root.clone().unwrap_or(root);
                files.extend(found.into_iter().map(|f| (f, root.clone())));
            }
            Err(code) => return Ok(code),
        }
    }
    if files.is_empty() {
        eprintln!("mailex test: no rule file given (pass FILE.rules or --config mailex.toml)");
        return Ok(2);
    }
    let mut failed = false;
    let (mut passed_total, mut failed_total) = (0usize, 0usize);
    for (file, root) in &files {
        match load_rule_file(file) {
            Ok(rules) => {
                let warnings = rules.rendered_warnings();
                if !warnings.is_empty() {
                    eprint!("{warnings}");
                }
                let report = rules.run_tests_in(root);
                if report.outcomes.is_empty() {
                    println!("{}: no test blocks", file.display());
                    continue;
                }
                failed |= report.failed() > 0;
                failed_total += report.failed();
                passed_total += report.outcomes.len() - report.failed();
                print!("{}", render(&report, args.quiet));
            }
            Err(e) => {
                failed = true;
                eprint!("{}", e.rendered());
            }
        }
    }
    if files.len() > 1 {
        println!(
            "\ntotal: {passed_total} passed; {failed_total} failed in {} rule files",
            files.len()
        );
    }
    Ok(i32::from(failed))
}

fn render(report: &TestReport, quiet: bool) -> String {
    if !quiet {
        return report.render();
    }
    let full = report.render();
    let mut out = String::new();
    let mut keep = false;
    for line in full.lines() {
        if line.starts_with("test ") {
            keep = line.ends_with("FAILED");
        } else if !line.starts_with(' ') {
            keep = true;
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The `*.rules` files named by the routes of a config (relative to the config's directory),
/// and the config's fixtures root.
fn rule_files_of(config: &Path) -> Result<(Vec<PathBuf>, PathBuf), i32> {
    let engine = mailex_core::Engine::load(config).map_err(|e| {
        eprintln!("{e}");
        2
    })?;
    let base = config.parent().unwrap_or(Path::new("."));
    let mut files: Vec<PathBuf> = engine
        .router()
        .routes()
        .iter()
        .filter(|r| r.extractor_spec.ends_with(".rules"))
        .map(|r| base.join(&r.extractor_spec))
        .collect();
    files.sort();
    files.dedup();
    Ok((files, engine.fixtures_root().to_path_buf()))
}
