//! `mailex check`: loads and validates a config and everything it references.
//!
//! ```text
//! mailex check --config examples/mailex.toml           # the config, its rule files and their test blocks
//! mailex check --config staged/mailex.toml --skip-tests # only what loading needs (a deployed copy)
//! mailex check --config s3://bucket/config/             # what the Lambda function loads (runs mailex-config)
//! mailex check --config examples/mailex.toml --format json  # one JSON document: ok, problems, routes, sinks
//! mailex check --config examples/mailex.toml --skip-tests --timings --timings-mail lead.eml  # where start-up goes
//! ```
//!
//! Sinks are checked when the config loads (kinds, URLs, ARNs, filters); a sink secret that is
//! neither in the Secrets Manager secret of `MAILEX_SECRETS_ARN` (when set) nor in this
//! environment is a warning.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::Format;

/// Arguments of `mailex check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file, or `s3://bucket/prefix/` for the config the Lambda function
    /// loads from there (checked by `mailex-config check`).
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
    /// Check only what loading needs, as the engine and the Lambda function do: skip the rule
    /// files' `test` blocks and their fixtures (which a deployed copy does not carry).
    #[arg(long)]
    pub skip_tests: bool,
    /// The directory the `input` files of rule-file tests must lie in (default: the config's
    /// `[test] fixtures_root`, else the config file's directory).
    #[arg(long, value_name = "DIR")]
    pub fixtures_root: Option<PathBuf>,
    /// `json` prints one JSON document on stdout (`ok`, `problems` with file, line, column,
    /// severity, code and message, `routes`, `sinks`) instead of lines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print where the start-up time went: reading and parsing the config, each extractor's
    /// load (rule compile, plugin load), and with `--timings-mail` the first record.
    #[arg(long)]
    pub timings: bool,
    /// With `--timings`: an email to make the first record of, timed.
    #[arg(long, value_name = "FILE", requires = "timings")]
    pub timings_mail: Option<PathBuf>,
}

/// What `mailex check` found, printed as lines or as JSON.
#[derive(Debug, Default, Serialize)]
struct Checked {
    config: String,
    ok: bool,
    /// Every located problem: config errors, warnings, rule-file diagnostics.
    problems: Vec<Problem>,
    /// Reports of referenced files as the compiler renders them (rule files that do not load).
    reports: Vec<String>,
    routes: Vec<RouteLine>,
    sinks: Vec<SinkLine>,
    /// With `--timings`: milliseconds per phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    timings: Option<Timings>,
    /// The load error as the engine renders it, when the config did not load.
    #[serde(skip)]
    load_error: Option<String>,
    #[serde(skip)]
    test_errors: usize,
    #[serde(skip)]
    test_reports: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Problem {
    file: String,
    line: usize,
    column: usize,
    severity: &'static str,
    code: Option<String>,
    message: String,
    #[serde(skip)]
    origin: Origin,
}

/// Where a problem came from, which decides where the text output prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Loading the config (errors, or warnings of a config that loads).
    Load,
    /// A rule file's test blocks and fixtures (printed in the rendered reports).
    TestBlocks,
    /// A sink secret not set in this environment.
    Secret,
}

/// Start-up phases in milliseconds (`--timings`).
#[derive(Debug, Serialize)]
struct Timings {
    read_ms: f64,
    parse_ms: f64,
    extractors: Vec<ExtractorLoad>,
    load_total_ms: f64,
    /// Making the first record of `--timings-mail` (parse, route, authenticate, extract).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_record_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
struct ExtractorLoad {
    extractor: String,
    ms: f64,
}

fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[derive(Debug, Serialize)]
struct RouteLine {
    name: String,
    sender: String,
    extractor: String,
    require_auth: String,
}

#[derive(Debug, Serialize)]
struct SinkLine {
    name: String,
    kind: String,
    statuses: Vec<String>,
}

/// Runs `mailex check`: exit 0 when everything loads, 1 with every problem printed otherwise.
pub fn run(args: CheckArgs) -> anyhow::Result<u8> {
    if let Some(location) = args.config.to_str().filter(|c| c.starts_with("s3://")) {
        if args.format == Format::Json {
            eprintln!(
                "mailex check: --format json is for local configs; `mailex config check` checks {location}"
            );
            return Ok(2);
        }
        return super::companion::run(
            "mailex-config",
            vec![OsString::from("check"), OsString::from(location)],
        );
    }
    let checked = check(&args);
    match args.format {
        Format::Text => print_text(&checked),
        Format::Json => println!("{}", serde_json::to_string_pretty(&checked)?),
    }
    Ok(if checked.ok { 0 } else { 1 })
}

fn check(args: &CheckArgs) -> Checked {
    let mut checked = Checked {
        config: args.config.display().to_string(),
        ..Checked::default()
    };
    let engine = match mailex_core::Engine::load_with(&args.config, &super::load_options()) {
        Ok(engine) => engine,
        Err(e) => {
            checked.load_error = Some(e.to_string());
            checked.problems = e
                .problems()
                .iter()
                .map(|p| Problem {
                    file: p.file.display().to_string(),
                    line: p.line,
                    column: p.column,
                    severity: "error",
                    code: None,
                    message: p.message.clone(),
                    origin: Origin::Load,
                })
                .collect();
            checked.reports = e.reports().to_vec();
            return checked;
        }
    };
    for warning in engine.warnings() {
        checked.problems.push(Problem {
            file: warning.file.display().to_string(),
            line: warning.line,
            column: warning.column,
            severity: "warning",
            code: None,
            message: warning.message.clone(),
            origin: Origin::Load,
        });
    }
    // Loading compiled the rules; the test blocks and fixtures are checked here.
    if !args.skip_tests {
        let base = engine.config_path().parent().unwrap_or(Path::new("."));
        let root = args
            .fixtures_root
            .clone()
            .unwrap_or_else(|| engine.fixtures_root().to_path_buf());
        let mut files: Vec<PathBuf> = engine
            .router()
            .routes()
            .iter()
            .filter(|route| route.extractor_spec.ends_with(".rules"))
            .map(|route| base.join(&route.extractor_spec))
            .collect();
        files.sort();
        files.dedup();
        for path in files {
            let result = mailex_core::rules::check_rule_file_in(&path, &root);
            if !result.rendered.is_empty() {
                checked.test_reports.push(result.rendered.clone());
            }
            for d in &result.diagnostics {
                let (line, column) = result.line_column(d).unwrap_or((1, 1));
                checked.problems.push(Problem {
                    file: path.display().to_string(),
                    line,
                    column,
                    severity: if d.is_error() { "error" } else { "warning" },
                    code: Some(d.code.to_string()),
                    message: d.message.clone(),
                    origin: Origin::TestBlocks,
                });
            }
            checked.test_errors += result.diagnostics.iter().filter(|d| d.is_error()).count();
        }
    }
    checked.routes = engine
        .router()
        .routes()
        .iter()
        .map(|route| RouteLine {
            name: route.name.to_string(),
            sender: route.sender.to_string(),
            extractor: route.extractor_spec.to_string(),
            require_auth: route.policy.as_str().to_owned(),
        })
        .collect();
    checked.sinks = engine
        .sinks()
        .iter()
        .map(|sink| SinkLine {
            name: sink.name.to_string(),
            kind: sink.target.kind().to_string(),
            statuses: sink
                .filter
                .statuses
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        })
        .collect();
    // Secrets belong to the environment that delivers (the function's, or the shell of
    // `mailex extract --deliver`): one missing here is worth a warning, not a failed check.
    // They are looked up as delivery looks them up: the Secrets Manager secret of
    // `MAILEX_SECRETS_ARN` (when set), then the environment.
    let secret_warning = |message: String| Problem {
        file: checked.config.clone(),
        line: 1,
        column: 1,
        severity: "warning",
        code: None,
        message,
        origin: Origin::Secret,
    };
    let mut warnings = Vec::new();
    let secrets = if engine.sinks().is_empty() {
        mailex_delivery::SecretSource::environment(super::secrets::environment())
    } else {
        super::secrets::secret_source().unwrap_or_else(|e| {
            warnings.push(secret_warning(format!(
                "{e:#}; the sinks' secrets are looked up in the environment only"
            )));
            mailex_delivery::SecretSource::environment(super::secrets::environment())
        })
    };
    for missing in mailex_delivery::Secrets::missing(engine.sinks(), |name| secrets.get(name)) {
        warnings.push(secret_warning(format!(
            "{missing} here; `mailex extract --deliver` and the function need it set"
        )));
    }
    checked.problems.extend(warnings);
    if args.timings {
        let loaded = engine.load_timings();
        let mut timings = Timings {
            read_ms: ms(loaded.read),
            parse_ms: ms(loaded.parse),
            extractors: (loaded.extractors.iter())
                .map(|e| ExtractorLoad {
                    extractor: e.spec.clone(),
                    ms: ms(e.duration),
                })
                .collect(),
            load_total_ms: ms(loaded.total),
            first_record_ms: None,
        };
        if let Some(mail) = &args.timings_mail {
            let limit = engine.settings().max_input_bytes;
            let read = crate::inputs::InputSource::File(mail.clone()).read(limit);
            match read {
                Ok(crate::inputs::Contents::Bytes(raw)) => {
                    let started = std::time::Instant::now();
                    let _record =
                        engine.process(&mailex_core::Input::new(&raw, mail.display().to_string()));
                    timings.first_record_ms = Some(ms(started.elapsed()));
                }
                Ok(crate::inputs::Contents::TooLarge(size)) => {
                    checked.problems.push(timings_mail_problem(
                        mail,
                        format!("the --timings-mail is {size} bytes, over the limit of {limit}"),
                    ));
                }
                Err(e) => checked.problems.push(timings_mail_problem(
                    mail,
                    format!("cannot read the --timings-mail: {e}"),
                )),
            }
        }
        checked.timings = Some(timings);
    }
    checked.ok = checked.test_errors == 0
        && !checked
            .problems
            .iter()
            .any(|p| p.severity == "error" && p.origin == Origin::Load);
    checked
}

fn timings_mail_problem(mail: &Path, message: String) -> Problem {
    Problem {
        file: mail.display().to_string(),
        line: 1,
        column: 1,
        severity: "error",
        code: None,
        message,
        origin: Origin::Load,
    }
}

/// The lines `mailex check` has always printed: problems on stderr, the summary on stdout.
fn print_text(checked: &Checked) {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if let Some(error) = &checked.load_error {
        eprintln!("{error}");
        let count = checked.problems.len() + checked.reports.len();
        eprintln!("{}: {count} problem{} found", checked.config, plural(count));
        return;
    }
    let of = |origin: Origin| checked.problems.iter().filter(move |p| p.origin == origin);
    for p in of(Origin::Load) {
        eprintln!(
            "{}:{}:{}: {}: {}",
            p.file, p.line, p.column, p.severity, p.message
        );
    }
    for report in &checked.test_reports {
        eprint!("{report}");
    }
    if checked.test_errors > 0 {
        eprintln!(
            "{}: {} problem{} found in test blocks (loading needs none of them: see --skip-tests)",
            checked.config,
            checked.test_errors,
            plural(checked.test_errors)
        );
        return;
    }
    println!(
        "{}: {} ({} route{})",
        checked.config,
        if checked.ok {
            "ok"
        } else {
            "loads, with the errors above"
        },
        checked.routes.len(),
        plural(checked.routes.len())
    );
    for route in &checked.routes {
        println!(
            "  {} [{}] -> {} (require_auth = {})",
            route.name, route.sender, route.extractor, route.require_auth
        );
    }
    for sink in &checked.sinks {
        println!(
            "  sink {} ({}) <- {}",
            sink.name,
            sink.kind,
            sink.statuses.join(", ")
        );
    }
    for p in of(Origin::Secret) {
        eprintln!("warning: {}", p.message);
    }
    if let Some(t) = &checked.timings {
        println!("timings (ms):");
        println!("  {:<40} {:>9.2}", "read the config", t.read_ms);
        println!("  {:<40} {:>9.2}", "parse the config", t.parse_ms);
        for e in &t.extractors {
            println!("  {:<40} {:>9.2}", format!("load {}", e.extractor), e.ms);
        }
        println!("  {:<40} {:>9.2}", "load in all", t.load_total_ms);
        if let Some(first) = t.first_record_ms {
            println!("  {:<40} {:>9.2}", "first record", first);
        }
    }
}
