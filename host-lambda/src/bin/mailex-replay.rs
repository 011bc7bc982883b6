//! `mailex-replay`: re-run extraction over stored raw mail and summarise what changed.
//!
//! ```text
//! mailex-replay --config mailex.toml --input s3://inbound/mail/ --records s3://out/records/ [--write] [--concurrency 8]
//! mailex-replay --config mailex.toml --input ./stored-mail --records ./records --write
//! ```
//!
//! Exit codes: 0 done (even when records changed), 1 some inputs could not be read or written,
//! 2 bad arguments or config.

use std::path::PathBuf;
use std::process::ExitCode;

use mailex_lambda::replay::{Location, ReplayOptions, replay};
use mailex_lambda::{S3Settings, S3Store};

const USAGE: &str = "usage: mailex-replay --config FILE --input DIR|s3://bucket/prefix \
[--records DIR|s3://bucket/prefix] [--write] [--concurrency N] [--no-progress]";

fn parse_args(args: Vec<String>) -> anyhow::Result<ReplayOptions> {
    let mut config = None;
    let mut input = None;
    let mut records = None;
    let mut write = false;
    let mut concurrency = 8usize;
    let mut progress = true;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--config" => config = Some(PathBuf::from(value("--config")?)),
            "--input" => input = Some(Location::parse(&value("--input")?)?),
            "--records" => records = Some(Location::parse(&value("--records")?)?),
            "--concurrency" => concurrency = value("--concurrency")?.parse()?,
            "--write" => write = true,
            "--no-progress" => progress = false,
            "-h" | "--help" => anyhow::bail!("{USAGE}"),
            other => anyhow::bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let config = config.ok_or_else(|| anyhow::anyhow!("--config is required\n{USAGE}"))?;
    let input = input.ok_or_else(|| anyhow::anyhow!("--input is required\n{USAGE}"))?;
    if write && records.is_none() {
        anyhow::bail!("--write needs --records (where the records live)\n{USAGE}");
    }
    Ok(ReplayOptions {
        config,
        input,
        records,
        write,
        concurrency: concurrency.clamp(1, 256),
        progress,
    })
}

async fn run() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1).collect()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mailex-replay: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = match S3Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("mailex-replay: {e}");
            return ExitCode::from(2);
        }
    };
    let uses_s3 = matches!(options.input, Location::S3 { .. })
        || matches!(options.records, Some(Location::S3 { .. }));
    let store = if uses_s3 {
        Some(S3Store::connect(&settings).await)
    } else {
        None
    };
    match replay(options, store).await {
        Ok(summary) => {
            print!("{summary}");
            if summary.io_failures > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("mailex-replay: {e}");
            ExitCode::from(2)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    mailex_lambda::init_logging();
    mailex_core::install_quiet_panic_hook();
    run().await
}
