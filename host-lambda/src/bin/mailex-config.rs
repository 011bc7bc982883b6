//! `mailex-config`: deployed configs in S3 (also run as `mailex config ...`).
//!
//! ```text
//! mailex-config push --config examples/mailex.toml s3://bucket/config/   # validate, upload, move the pointer last
//! mailex-config push --config examples/mailex.toml s3://bucket/config/ --dry-run
//! mailex-config stage --config examples/mailex.toml --out staged/          # the exact files push uploads
//! mailex-config check s3://bucket/config/ [--version ID]                   # load what the function loads
//! mailex-config list s3://bucket/config/                                   # stored versions, current first
//! mailex-config activate s3://bucket/config/ ID                            # roll back (or forward)
//! ```
//!
//! The S3 endpoint and addressing come from `MAILEX_S3_ENDPOINT` and
//! `MAILEX_S3_FORCE_PATH_STYLE` (local S3 servers); credentials and region from the usual AWS
//! provider chain. Exit codes: 0 done, 1 the config does not load, 2 bad arguments or an S3
//! failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mailex_lambda::config_store::{self, ConfigDir, Pushed};
use mailex_lambda::{ConfigLocation, HostError, S3Settings, S3Store};

/// Validate, upload, check and roll back mailex configs in S3.
#[derive(Debug, Parser)]
#[command(name = "mailex-config", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stage mailex.toml and the files its routes name, load the staged copy as the function
    /// will, upload it as a new version and move the pointer to it, last.
    Push {
        /// The configuration to deploy.
        #[arg(long, short, default_value = "mailex.toml")]
        config: PathBuf,
        /// The config prefix the function reads (`MAILEX_CONFIG`), e.g. `s3://bucket/config/`.
        location: String,
        /// Validate and list what would be uploaded; upload nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the exact files `push` would upload into a new folder (check it with
    /// `mailex check --skip-tests --config DIR/mailex.toml`).
    Stage {
        /// The configuration to stage.
        #[arg(long, short, default_value = "mailex.toml")]
        config: PathBuf,
        /// A folder that does not exist yet or is empty.
        #[arg(long)]
        out: PathBuf,
    },
    /// Download a deployed version (the current one by default) and load it as the function
    /// does.
    Check {
        /// The config prefix, e.g. `s3://bucket/config/`.
        location: String,
        /// The version to check instead of the current one.
        #[arg(long)]
        version: Option<String>,
    },
    /// List the stored versions, the current one and the ones the pointer remembers.
    List {
        /// The config prefix, e.g. `s3://bucket/config/`.
        location: String,
    },
    /// Move the pointer to a stored version (after checking that it loads): a rollback.
    Activate {
        /// The config prefix, e.g. `s3://bucket/config/`.
        location: String,
        /// The version id (see `list`).
        version: String,
    },
}

/// A failure and its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl From<HostError> for Failure {
    fn from(error: HostError) -> Self {
        let code = if matches!(error, HostError::Config { .. }) {
            1
        } else {
            2
        };
        Failure {
            code,
            message: error.to_string(),
        }
    }
}

fn s3_location(text: &str) -> Result<(String, String), Failure> {
    match ConfigLocation::parse(text)? {
        ConfigLocation::S3 { bucket, prefix } => Ok((bucket, prefix)),
        ConfigLocation::File(_) => Err(Failure {
            code: 2,
            message: format!("`{text}` is not an s3://bucket/prefix/ location"),
        }),
    }
}

async fn connect() -> Result<S3Store, Failure> {
    Ok(S3Store::connect(&S3Settings::from_env()?).await)
}

fn print_files(staged: &ConfigDir) {
    for file in &staged.manifest.files {
        println!(
            "  {} ({} bytes, sha256 {})",
            file.path, file.bytes, file.sha256
        );
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Push {
            config,
            location,
            dry_run,
        } => {
            let (bucket, prefix) = s3_location(&location)?;
            let staged = config_store::stage(&config, None)?;
            println!(
                "{}: ok, staged as version {} ({} files):",
                config.display(),
                staged.version(),
                staged.manifest.files.len()
            );
            print_files(&staged);
            if dry_run {
                println!("dry run: nothing uploaded to s3://{bucket}/{prefix}");
                return Ok(());
            }
            let store = connect().await?;
            match config_store::push(&store, &bucket, &prefix, &staged).await? {
                Pushed::Activated(pointer) => println!(
                    "s3://{bucket}/{prefix}: version {} is current (before: {})",
                    pointer.version,
                    pointer.previous.first().map_or("none", String::as_str)
                ),
                Pushed::Unchanged(pointer) => println!(
                    "s3://{bucket}/{prefix}: version {} is already current; nothing uploaded",
                    pointer.version
                ),
            }
            Ok(())
        }
        Command::Stage { config, out } => {
            let staged = config_store::stage(&config, Some(&out))?;
            println!(
                "{}: staged as version {} in {}:",
                config.display(),
                staged.version(),
                out.display()
            );
            print_files(&staged);
            Ok(())
        }
        Command::Check { location, version } => {
            let (bucket, prefix) = s3_location(&location)?;
            let store = connect().await?;
            let pointer = config_store::read_pointer(&store, &bucket, &prefix).await?;
            let version = match (version, &pointer) {
                (Some(v), _) => v,
                (None, Some(p)) => p.version.clone(),
                (None, None) => {
                    return Err(Failure {
                        code: 1,
                        message: format!(
                            "s3://{bucket}/{prefix}: no {} (nothing pushed yet)",
                            config_store::POINTER
                        ),
                    });
                }
            };
            let downloaded = config_store::download(&store, &bucket, &prefix, &version).await?;
            let root = format!("{}/", downloaded.path().display());
            match mailex_core::Engine::load(&downloaded.config()) {
                Ok(engine) => {
                    println!(
                        "s3://{bucket}/{prefix} version {version}: ok ({} routes)",
                        engine.router().routes().len()
                    );
                    print_files(&downloaded);
                    Ok(())
                }
                Err(e) => Err(Failure {
                    code: 1,
                    message: format!(
                        "s3://{bucket}/{prefix} version {version} does not load:\n{}",
                        e.to_string().replace(&root, "")
                    ),
                }),
            }
        }
        Command::List { location } => {
            let (bucket, prefix) = s3_location(&location)?;
            let store = connect().await?;
            let pointer = config_store::read_pointer(&store, &bucket, &prefix).await?;
            let versions = config_store::list_versions(&store, &bucket, &prefix).await?;
            for version in versions {
                let mark = match &pointer {
                    Some(p) if p.version == version => " (current)",
                    Some(p) if p.previous.contains(&version) => " (previous)",
                    _ => "",
                };
                println!("{version}{mark}");
            }
            Ok(())
        }
        Command::Activate { location, version } => {
            let (bucket, prefix) = s3_location(&location)?;
            let store = connect().await?;
            let pointer = config_store::activate(&store, &bucket, &prefix, &version).await?;
            println!(
                "s3://{bucket}/{prefix}: version {} is current (before: {})",
                pointer.version,
                pointer.previous.first().map_or("none", String::as_str)
            );
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    mailex_core::install_quiet_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mailex-config: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
