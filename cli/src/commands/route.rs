//! `mailex route`: explains which route each email matches, and why.

use std::path::PathBuf;

use clap::Args;
use mailex_core::Input;

use crate::inputs;

/// Arguments of `mailex route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
    /// Email files, directories of them, or `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Runs `mailex route`.
pub fn run(args: RouteArgs) -> anyhow::Result<u8> {
    let engine = match super::load_engine(&args.config) {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    for input in inputs::expand(&args.inputs)? {
        let name = input.name();
        let explanation = input
            .read(engine.settings().max_input_bytes)
            .map_err(|e| format!("cannot read input: {}", e.kind()))
            .and_then(|raw| engine.explain(&Input::new(&raw, name.clone())));
        match explanation {
            Ok(report) => print!("{report}"),
            Err(why) => println!("{name}\n  result: failed: {why}"),
        }
    }
    Ok(0)
}
