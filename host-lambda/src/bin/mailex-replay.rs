//! `mailex-replay`: re-run extraction over stored raw mail and summarise what changed.
//!
//! Exit codes: 0 done (even when records changed), 1 some inputs could not be read or written
//! or a sink failed (`--deliver`), 2 bad arguments or config.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use clap::Parser;
use mailex_lambda::replay::{Location, ReplayOptions, Selection, replay};
use mailex_lambda::{S3Settings, S3Store};

const EXAMPLES: &str = "\
Examples:
  # What would change in last week's Zillow leads that came out partial (nothing is written):
  mailex-replay --config mailex.toml --input s3://inbound/mail/ --records s3://out/records/ \\
      --advertiser zillow-rentals --status partial --since 2026-11-23 --until 2026-11-30

  # Replay every mail whose record says the layout changed, and write the new records:
  mailex-replay --config mailex.toml --input s3://inbound/mail/ --records s3://out/records/ \\
      --issue missing_required --write

  # After a fix, write the new records and send them to the sinks that do not have them yet:
  mailex-replay --config mailex.toml --input s3://inbound/mail/ --records s3://out/records/ \\
      --status partial --since 2026-11-23 --write --deliver

  # A local folder of mails, with a JSON summary for scripts:
  mailex-replay --config mailex.toml --input ./stored-mail --records ./records --json";

/// Re-run extraction over stored raw mail (a folder or s3://bucket/prefix) after a rule or
/// plugin change, compare each new record with the stored one, and summarise what changed per
/// advertiser. With --write, only the records that changed are written.
#[derive(Debug, Parser)]
#[command(name = "mailex-replay", version, after_help = EXAMPLES)]
struct Args {
    /// The mailex.toml to extract with.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Stored raw mail: a folder (every file, recursively) or s3://bucket/prefix.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX", value_parser = parse_location)]
    input: Location,
    /// Existing records (the baseline; where --write writes): a folder or s3://bucket/prefix.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX", value_parser = parse_location)]
    records: Option<Location>,
    /// Write the records that changed (and remove superseded copies); without it, only compare.
    #[arg(long, requires = "records")]
    write: bool,
    /// Mails processed at once (1 to 256).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// No progress on stderr.
    #[arg(long)]
    no_progress: bool,
    /// Only mails stored at or after this time: YYYY-MM-DD (UTC midnight) or RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<i64>,
    /// Only mails stored before this time (exclusive): YYYY-MM-DD (UTC midnight) or RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<i64>,
    /// Only mails whose stored record names this advertiser (repeatable; needs --records).
    #[arg(long, value_name = "NAME", requires = "records")]
    advertiser: Vec<String>,
    /// Only mails whose stored record has this status (repeatable; needs --records).
    #[arg(long, value_name = "STATUS", requires = "records", value_parser = status_parser())]
    status: Vec<String>,
    /// Only mails whose stored record carries this issue code, e.g. missing_required
    /// (repeatable; needs --records; codes: docs/record.md).
    #[arg(long = "issue", value_name = "CODE", requires = "records", value_parser = parse_issue_code)]
    issues: Vec<String>,
    /// Print the summary as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Deliver each replayed record to the config's sinks, as the function does: a sink whose
    /// marker beside the record says it has it is skipped (secrets from this environment).
    #[arg(long, requires = "write")]
    deliver: bool,
}

/// The record statuses, as records spell them.
fn status_parser() -> clap::builder::PossibleValuesParser {
    use mailex_core::Status;
    let statuses = [
        Status::Extracted,
        Status::Partial,
        Status::Unmatched,
        Status::Unauthenticated,
        Status::Failed,
    ];
    clap::builder::PossibleValuesParser::new(statuses.map(Status::as_str))
}

fn parse_location(text: &str) -> Result<Location, String> {
    Location::parse(text).map_err(|e| e.to_string())
}

fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|_| format!("`{text}` is neither YYYY-MM-DD nor an RFC 3339 time"))
}

fn parse_issue_code(text: &str) -> Result<String, String> {
    match mailex_core::IssueCode::from_code(text) {
        Some(code) => Ok(code.as_str().to_owned()),
        None => Err(format!(
            "`{text}` is not an issue code (see docs/record.md)"
        )),
    }
}

impl Args {
    fn into_options(self) -> (ReplayOptions, bool) {
        let options = ReplayOptions {
            config: self.config,
            input: self.input,
            records: self.records,
            write: self.write,
            concurrency: usize::from(self.concurrency),
            progress: !self.no_progress,
            selection: Selection {
                since: self.since,
                until: self.until,
                advertisers: self.advertiser,
                statuses: self.status,
                issues: self.issues,
            },
            delivery_secrets: self.deliver.then(|| {
                let lookup: mailex_lambda::SecretLookup = Arc::new(|name| std::env::var(name).ok());
                lookup
            }),
        };
        (options, self.json)
    }
}

async fn run(args: Args) -> ExitCode {
    let (options, json) = args.into_options();
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
            if json {
                match serde_json::to_string_pretty(&summary) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("mailex-replay: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{summary}");
            }
            if summary.io_failures > 0 || summary.deliveries.failed > 0 {
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
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    mailex_lambda::init_logging();
    mailex_core::install_quiet_panic_hook();
    run(args).await
}
