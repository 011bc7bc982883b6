//! Writes the seed corpus of every fuzz target, built from the repository's fixtures, into
//! `DIR/<target>/` (one file per seed, named by its hash so reruns do not duplicate).
//!
//! `cargo run -p mailex-tests --bin fuzz-seeds -- fuzz/corpus` (scripts/fuzz.sh does this).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fuzz-seeds DIR");
        return ExitCode::from(2);
    };
    for target in mailex_tests::fuzz::TARGETS {
        let out = dir.join(target.name);
        if let Err(e) = std::fs::create_dir_all(&out) {
            eprintln!("fuzz-seeds: cannot create {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
        let seeds = (target.seeds)();
        for seed in &seeds {
            let name = mailex_tests::fuzz::seed_name(seed);
            if let Err(e) = std::fs::write(out.join(name), seed) {
                eprintln!("fuzz-seeds: cannot write into {}: {e}", out.display());
                return ExitCode::FAILURE;
            }
        }
        eprintln!("fuzz-seeds: {} seeds for {}", seeds.len(), target.name);
    }
    ExitCode::SUCCESS
}
