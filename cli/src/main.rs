//! `mailex`: the mailex engine on a laptop.
//!
//! `main` only calls [`run`], which returns the process exit code:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (for `extract`, also when some records are `failed`: that is data, not an error) |
//! | 1 | `check` found errors, `test` had failing tests, or `extract` could not read some input (a missing path, a FIFO, socket or device, an I/O error; each still has its `failed` record and the run went on) |
//! | 2 | unusable arguments or a configuration that does not load |
//!
//! `-v` (info), `-vv` (debug) and `-vvv` (trace) log to stderr, plugin log lines included;
//! `RUST_LOG` overrides the level.

mod commands;
mod inputs;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  mailex extract --config examples/mailex.toml examples/inbox/     one JSON record per mail
  mailex extract --explain --config mailex.toml lead.eml          why each field got its value
  mailex check --config mailex.toml                                does it all load and test
  mailex test --config mailex.toml                                 run the rule files' tests
  mailex show lead.eml                                             what extractors see in a mail
  mailex completions bash > ~/.local/share/bash-completion/completions/mailex";

/// Turns machine-sent lead emails into structured records.
#[derive(Debug, Parser)]
#[command(name = "mailex", version, about, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    /// Log to stderr: `-v` info (plugin log lines included), `-vv` debug, `-vvv` trace; without
    /// it, warnings only. `RUST_LOG` overrides it (e.g. `RUST_LOG=mailex::plugin=debug`).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract one JSON record per input email (files, directories, or `-` for stdin).
    Extract(commands::extract::ExtractArgs),
    /// Explain which route each email matches, and why.
    Route(commands::route::RouteArgs),
    /// Show what extractors see in one email: decoded headers, the text view, the HTML, meta
    /// tags, ADF, attachments, nested messages, charset issues, and (with `--config`) the route
    /// and its authentication verdict.
    Show(commands::show::ShowArgs),
    /// Draft a rule file from sample emails of one layout and the values wanted from them
    /// (`--set NAME=VALUE`, `--expected FILE.json`), verified on the samples.
    Draft(commands::draft::DraftArgs),
    /// Load and validate a config and everything it references.
    Check(commands::check::CheckArgs),
    /// Run tests: rule files' `test` blocks, routes' mail tests (`tests = "DIR"`), or a
    /// plugin over mails with expected records (`--plugin X.wasm DIR`).
    Test(commands::test::TestArgs),
    /// Scaffold and build WebAssembly extractor plugins.
    #[command(subcommand)]
    Plugin(commands::plugin::PluginCommand),
    /// Print the JSON Schema of the records.
    Schema,
    /// Print a shell completion script to stdout (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `mailex man > mailex.1`.
    Man,
    /// Re-run extraction over stored mail (a folder or s3://bucket/prefix) and summarise what
    /// changed per advertiser; runs `mailex-replay` (see `mailex replay --help`).
    #[command(disable_help_flag = true)]
    Replay {
        /// Arguments for `mailex-replay`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Deployed configs in S3: validate and upload a config (`push`), check or list what is
    /// there, roll back; runs `mailex-config` (see `mailex config --help`).
    #[command(disable_help_flag = true)]
    Config {
        /// Arguments for `mailex-config`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

fn main() -> ExitCode {
    mailex_core::install_quiet_panic_hook();
    ExitCode::from(run())
}

/// Parses arguments, runs the command and maps every outcome to an exit code.
fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Extract(args) => commands::extract::run(args),
        Command::Route(args) => commands::route::run(args),
        Command::Show(args) => commands::show::run(args),
        Command::Draft(args) => commands::draft::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Test(args) => {
            commands::test::run(args).map(|code| u8::try_from(code).unwrap_or(1))
        }
        Command::Plugin(command) => commands::plugin::run(&command),
        Command::Schema => commands::schema(),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mailex", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| 0)
            .map_err(anyhow::Error::from),
        Command::Replay { args } => commands::companion::run("mailex-replay", args),
        Command::Config { args } => commands::companion::run("mailex-config", args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

/// Installs the log subscriber: human-readable lines on stderr, so they never mix with the
/// records on stdout. Events carry codes, counts and names, never field values (core's
/// invariant); plugin log lines (target `mailex::plugin`) are what the plugin wrote.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
