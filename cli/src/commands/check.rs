//! `mailex check`: loads and validates a config and everything it references.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `mailex check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
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
            for route in routes {
                if route.extractor_spec.ends_with(".rules") {
                    let path = engine
                        .config_path()
                        .parent()
                        .unwrap_or(std::path::Path::new("."))
                        .join(&route.extractor_spec);
                    let checked = mailex_core::rules::check_rule_file(&path);
                    if !checked.rendered.is_empty() {
                        eprint!("{}", checked.rendered);
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
            Ok(0)
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
