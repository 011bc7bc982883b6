//! `mailex route`: explains which route each email matches, and why.

use std::path::PathBuf;

use clap::Args;
use mailex_core::Input;

use crate::inputs::{self, Contents};

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
        let explanation = match input.read(engine.settings().max_input_bytes) {
            Ok(Contents::Bytes(raw)) => engine.explain(&Input::new(&raw, name.clone())),
            Ok(Contents::TooLarge(_)) => Err(format!(
                "input is over the limit of {} bytes",
                engine.settings().max_input_bytes
            )),
            Err(e) => Err(format!("{} ({})", e.message, e.code)),
        };
        match explanation {
            Ok(report) => print!("{report}"),
            Err(why) => println!("{name}\n  result: failed: {why}"),
        }
    }
    Ok(0)
}
