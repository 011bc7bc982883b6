//! `mailex check`: loads and validates a config and everything it references.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::Args;

/// Arguments of `mailex check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
    /// The directory the `input` files of rule-file tests must lie in (default: the config's
    /// `[test] fixtures_root`, else the config file's directory).
    #[arg(long, value_name = "DIR")]
    pub fixtures_root: Option<PathBuf>,
}

/// Runs `mailex check`: exit 0 when everything loads, 1 with every problem printed otherwise.
pub fn run(args: CheckArgs) -> anyhow::Result<u8> {
    match mailex_core::Engine::load(&args.config) {
        Ok(engine) => {
            let routes = engine.router().routes();
            println!(
                "{}: ok ({} route{})",
                args.config.display(),
                routes.len(),
                if routes.len() == 1 { "" } else { "s" }
            );
            let root = args
                .fixtures_root
                .clone()
                .unwrap_or_else(|| engine.fixtures_root().to_path_buf());
            let base = engine
                .config_path()
                .parent()
                .unwrap_or(std::path::Path::new("."));
            // Several routes may share a rule file: check each file once.
            let mut checked_files = BTreeSet::new();
            let mut failed = false;
            for route in routes {
                if route.extractor_spec.ends_with(".rules") {
                    let path = base.join(&route.extractor_spec);
                    if checked_files.insert(path.clone()) {
                        let checked = mailex_core::rules::check_rule_file_in(&path, &root);
                        if !checked.rendered.is_empty() {
                            eprint!("{}", checked.rendered);
                        }
                        failed |= checked.has_errors();
                    }
                }
                println!(
                    "  {} [{}] -> {} (require_auth = {})",
                    route.name,
                    route.sender,
                    route.extractor_spec,
                    route.policy.as_str()
                );
            }
            Ok(u8::from(failed))
        }
        Err(e) => {
            eprintln!("{e}");
            let count = e.problems().len() + e.reports().len();
            eprintln!(
                "{}: {count} problem{} found",
                args.config.display(),
                if count == 1 { "" } else { "s" }
            );
            Ok(1)
        }
    }
}
