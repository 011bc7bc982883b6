//! `mailex test`: runs the `test` blocks of rule files and the mail tests of routes and
//! plugins, and shows per-field diffs.
//!
//! ```text
//! mailex test --fixtures-root . examples/rules/zillow.rules   # one or more rule files
//! mailex test --config examples/mailex.toml        # every rule file the config's routes name,
//!                                                  # and every route's `tests = "DIR"`
//! mailex test --plugin acme.wasm fixtures/         # a plugin over mails with expected records
//! mailex test --filter zillow --config examples/mailex.toml   # only tests whose name or file
//!                                                  # contains `zillow`
//! mailex test --bless FILE.rules                   # write the actual values into the tests
//! ```
//!
//! `--bless` rewrites the `expect` block of every failing test of a rule file with the values
//! the rule extracts (and adds the extracted fields the block does not list), and the
//! `NAME.expected.json` of every failing mail test; the rest of each file stays byte for byte
//! as it was ([`super::bless`]). Review the change with `git diff`.
//!
//! Mail tests (a route's `tests` directory, `--plugin`) pair each `NAME.eml` with
//! `NAME.expected.json`; see [`super::expected`].
//!
//! Test inputs of rule files are read only inside a fixtures root chosen here, never by the
//! rule file: `--fixtures-root DIR`, else (with `--config`) the config's `[test] fixtures_root`,
//! else the config file's directory, else each rule file's own directory.
//!
//! Exit codes: 0 when every test passes, 1 when a test fails or a rule file does not compile,
//! 2 when the arguments or the config are unusable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use mailex_core::rules::{TestReport, load_rule_file};
use serde_json::{Value, json};

use super::Format;
use super::expected::MailTests;

/// Arguments of `mailex test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files to test; with `--plugin`, the mails to run it on (directories of `*.eml`
    /// with a `NAME.expected.json` beside each `NAME.eml`, or single `.eml` files).
    pub files: Vec<PathBuf>,
    /// Test every rule file referenced by this configuration's routes, and every route's
    /// `tests` directory.
    #[arg(long, short, conflicts_with = "plugin")]
    pub config: Option<PathBuf>,
    /// Run this plugin (`*.wasm`) over the mails given as arguments and compare each record
    /// with its expected file.
    #[arg(long, value_name = "PLUGIN.wasm")]
    pub plugin: Option<PathBuf>,
    /// A setting handed to the plugin as its `Config` (`KEY=VALUE`, repeatable; with `--plugin`).
    #[arg(long = "setting", value_name = "KEY=VALUE", requires = "plugin")]
    pub settings: Vec<String>,
    /// Print only failures and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// The directory test inputs must lie in (default: see the command's documentation).
    #[arg(long, value_name = "DIR")]
    pub fixtures_root: Option<PathBuf>,
    /// Run only the tests whose name, rule file or mail path contains NAME (exit 1 when none
    /// does).
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// Write the actual values into the failing tests: a rule file's `expect` blocks, a mail
    /// test's `NAME.expected.json` (created when missing); the rest of each file is kept.
    #[arg(long)]
    pub bless: bool,
    /// `json` prints one JSON document at the end instead of lines: `passed`, `failed` and
    /// every test with its suite, name, input, outcome and field diffs.
    #[arg(long, value_enum, default_value_t = Format::Text, conflicts_with = "bless")]
    pub format: Format,
}

/// Where results go: lines as they come (text), or collected for one JSON document.
struct Output {
    json: Option<Vec<Value>>,
    quiet: bool,
}

impl Output {
    fn new(args: &TestArgs) -> Self {
        Output {
            json: (args.format == Format::Json).then(Vec::new),
            quiet: args.quiet,
        }
    }

    /// A line (or lines) of the text output; nothing in JSON mode.
    fn line(&self, text: impl std::fmt::Display) {
        if self.json.is_none() {
            println!("{text}");
        }
    }

    /// One report: rendered (text) or one JSON object per test.
    fn report(&mut self, suite: &str, report: &TestReport, rendered: &str) {
        match &mut self.json {
            None => {
                use std::io::Write;
                // Colour only where it helps the eye; anstream drops it when stdout is not a
                // terminal or NO_COLOR is set.
                let text = colour(&quiet_filter(rendered, self.quiet));
                let _ = write!(anstream::stdout(), "{text}");
            }
            Some(tests) => tests.extend(report.outcomes.iter().map(|o| {
                let diffs: Vec<Value> = (o.diffs.iter())
                    .map(
                        |d| json!({ "field": d.field, "expected": d.expected, "actual": d.actual }),
                    )
                    .collect();
                json!({
                    "suite": suite,
                    "name": o.name,
                    "input": o.input.display().to_string(),
                    "passed": o.diffs.is_empty() && o.error.is_none(),
                    "error": o.error,
                    "diffs": diffs,
                })
            })),
        }
    }

    /// In JSON mode, the document with the totals.
    fn finish(self, passed: usize, failed: usize) {
        if let Some(tests) = self.json {
            let document = json!({ "passed": passed, "failed": failed, "tests": tests });
            println!("{document:#}");
        }
    }
}

impl TestArgs {
    /// Whether `--filter` selects the test `name` of `file` reading `input`.
    fn selects(&self, file: &str, name: &str, input: &Path) -> bool {
        self.filter.as_deref().is_none_or(|f| {
            file.contains(f) || name.contains(f) || input.to_string_lossy().contains(f)
        })
    }
}

/// Runs `mailex test` and returns the exit code.
pub fn run(args: TestArgs) -> anyhow::Result<i32> {
    if let Some(plugin) = &args.plugin {
        return run_plugin(plugin, &args);
    }
    // Each rule file with the fixtures root its inputs must lie in.
    let mut files: Vec<(PathBuf, PathBuf)> = args
        .files
        .iter()
        .map(|f| {
            let own_dir = f.parent().unwrap_or(Path::new(".")).to_path_buf();
            (f.clone(), args.fixtures_root.clone().unwrap_or(own_dir))
        })
        .collect();
    let mut engine = None;
    if let Some(config) = &args.config {
        let loaded = match mailex_core::Engine::load_with(config, &super::load_options()) {
            Ok(loaded) => loaded,
            Err(e) => {
                eprintln!("{e}");
                return Ok(2);
            }
        };
        let root = args
            .fixtures_root
            .clone()
            .unwrap_or_else(|| loaded.fixtures_root().to_path_buf());
        files.extend(
            rule_files_of(config, &loaded)
                .into_iter()
                .map(|f| (f, root.clone())),
        );
        engine = Some(loaded);
    }
    let routes = engine
        .as_ref()
        .map_or(&[][..], |engine| engine.router().routes());
    if files.is_empty() && args.config.is_none() {
        eprintln!(
            "mailex test: nothing to test (pass FILE.rules, --config mailex.toml, or --plugin PLUGIN.wasm DIR)"
        );
        return Ok(2);
    }
    let mut failed = false;
    let (mut passed_total, mut failed_total) = (0usize, 0usize);
    let mut out = Output::new(&args);
    for (file, root) in &files {
        match load_rule_file(file) {
            Ok(rules) => {
                let warnings = rules.rendered_warnings();
                if !warnings.is_empty() {
                    eprint!("{warnings}");
                }
                let mut report = rules.run_tests_in(root);
                if report.outcomes.is_empty() {
                    if args.filter.is_none() && !args.quiet {
                        out.line(format_args!("{}: no test blocks", file.display()));
                    }
                    continue;
                }
                report
                    .outcomes
                    .retain(|o| args.selects(&report.file, &o.name, &o.input));
                if report.outcomes.is_empty() {
                    continue;
                }
                out.report(&report.file, &report, &report.render());
                if args.bless {
                    bless_rules(file, &rules, &mut report);
                }
                failed |= report.failed() > 0;
                failed_total += report.failed();
                passed_total += report.outcomes.len() - report.failed();
            }
            Err(e) => {
                failed = true;
                eprint!("{}", e.rendered());
            }
        }
    }
    let mut ran_route_tests = 0usize;
    for route in routes {
        let Some(dir) = &route.tests else {
            if args.filter.is_some() {
                continue;
            }
            if route.extractor_spec.ends_with(".wasm") && !args.quiet {
                out.line(format_args!(
                    "route `{}` (plugin {}): no mail tests; add `tests = \"DIR\"` to the route, \
                     a directory of NAME.eml files each with a NAME.expected.json",
                    route.name, route.extractor_spec
                ));
            }
            continue;
        };
        let report = MailTests {
            extractor: route.extractor.as_ref(),
            route: &route.name,
            settings: &route.settings,
            filter: args.filter.as_deref(),
            bless: args.bless,
        }
        .run(
            std::slice::from_ref(dir),
            format!("route `{}`, {}", route.name, dir.display()),
        );
        if report.outcomes.is_empty() {
            continue;
        }
        ran_route_tests += 1;
        failed |= report.failed() > 0;
        failed_total += report.failed();
        passed_total += report.outcomes.len() - report.failed();
        let suite = format!("route `{}`", route.name);
        out.report(&suite, &report, &super::expected::render(&report));
    }
    let tested_routes = ran_route_tests;
    if let Some(filter) = &args.filter
        && passed_total + failed_total == 0
    {
        out.line(format_args!("mailex test: no test matches `{filter}`"));
        out.finish(0, 0);
        return Ok(1);
    }
    if let (Some(config), true) = (&args.config, files.is_empty() && tested_routes == 0) {
        out.line(format_args!(
            "mailex test: nothing to test: the routes of {} name no rule file and declare no `tests` directory",
            config.display()
        ));
    }
    if files.len() + tested_routes > 1 || args.quiet {
        let routes = match tested_routes {
            0 => String::new(),
            n => format!(" and {n} route test directories"),
        };
        out.line(format_args!(
            "{}total: {passed_total} passed; {failed_total} failed in {} rule files{routes}",
            if args.quiet { "" } else { "\n" },
            files.len()
        ));
    }
    out.finish(passed_total, failed_total);
    Ok(i32::from(failed))
}

/// `mailex test --plugin PLUGIN.wasm DIR...`: the plugin over mails with expected records.
fn run_plugin(plugin: &Path, args: &TestArgs) -> anyhow::Result<i32> {
    if args.files.is_empty() {
        eprintln!(
            "mailex test: give --plugin the mails to run on: directories of NAME.eml files each \
             with a NAME.expected.json, or .eml files"
        );
        return Ok(2);
    }
    let mut settings = BTreeMap::new();
    for setting in &args.settings {
        let Some((key, value)) = setting.split_once('=') else {
            eprintln!("mailex test: --setting `{setting}` is not KEY=VALUE");
            return Ok(2);
        };
        settings.insert(key.trim().to_owned(), value.to_owned());
    }
    let loaded =
        mailex_core::plugin::PluginHost::new(super::plugin_host_config()).and_then(|host| {
            mailex_core::plugin::load_extractor(
                &host,
                plugin,
                &mailex_core::PluginLimits::default(),
            )
        });
    let extractor = match loaded {
        Ok(extractor) => extractor,
        Err(e) => {
            eprintln!("mailex test: {e}");
            return Ok(2);
        }
    };
    let report = MailTests {
        extractor: extractor.as_ref(),
        route: "test",
        settings: &settings,
        filter: args.filter.as_deref(),
        bless: args.bless,
    }
    .run(&args.files, format!("plugin {}", plugin.display()));
    let mut out = Output::new(args);
    let suite = format!("plugin {}", plugin.display());
    out.report(&suite, &report, &super::expected::render(&report));
    let passed = report.outcomes.len() - report.failed();
    if args.quiet {
        out.line(format_args!(
            "total: {passed} passed; {} failed (plugin {})",
            report.failed(),
            plugin.display()
        ));
    }
    out.finish(passed, report.failed());
    Ok(i32::from(report.failed() > 0))
}

/// `--bless` for one rule file: writes the actual values of its failing tests into their
/// `expect` blocks; the tests blessed count as passed from then on.
fn bless_rules(file: &Path, rules: &mailex_core::rules::RuleSet, report: &mut TestReport) {
    let blessable: Vec<(String, PathBuf)> = report
        .outcomes
        .iter()
        .filter(|o| !o.diffs.is_empty() && o.error.is_none())
        .map(|o| (o.name.clone(), o.input.clone()))
        .collect();
    if blessable.is_empty() {
        return;
    }
    match super::bless::bless_rule_file(file, rules, &blessable) {
        Ok(count) => {
            println!(
                "blessed {count} value{} in {}",
                if count == 1 { "" } else { "s" },
                file.display()
            );
            for outcome in &mut report.outcomes {
                if outcome.error.is_none() {
                    outcome.diffs.clear();
                }
            }
        }
        Err(e) => eprintln!("mailex test: --bless: {e}"),
    }
}

/// Marks the verdicts of a rendered report: `ok` green, `FAILED` red, expected and actual
/// lines of a diff red and green.
fn colour(rendered: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let mut out = String::with_capacity(rendered.len() + 64);
    for line in rendered.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let painted = if let Some(name) = body.strip_suffix(" ... ok") {
            format!("{name} ... {green}ok{green:#}")
        } else if let Some(name) = body.strip_suffix(" ... FAILED") {
            format!("{name} ... {red}FAILED{red:#}")
        } else if let Some(rest) = body.strip_prefix("FAILED:") {
            format!("{red}FAILED{red:#}:{rest}")
        } else if let Some(rest) = body.strip_prefix("ok:") {
            format!("{green}ok{green:#}:{rest}")
        } else if body.trim_start().starts_with("- expected:") {
            format!("{red}{body}{red:#}")
        } else if body.trim_start().starts_with("+ actual:") {
            format!("{green}{body}{green:#}")
        } else {
            body.to_owned()
        };
        out.push_str(&painted);
        out.push_str(newline);
    }
    out
}

/// With `quiet`, only the failures of a rendered report: failed tests with their diffs, and
/// the report's summary line when it failed. Passed tests, blank lines and the `ok` summary
/// of a report that passed are left out; the caller prints the overall summary.
fn quiet_filter(full: &str, quiet: bool) -> String {
    if !quiet {
        return full.to_owned();
    }
    let mut out = String::new();
    let mut keep = false;
    for line in full.lines() {
        if line.starts_with("test ") {
            keep = line.ends_with("FAILED");
        } else if line.trim().is_empty() {
            keep = false;
            continue;
        } else if !line.starts_with(' ') {
            keep = line.starts_with("FAILED");
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The `*.rules` files named by the routes of a config (relative to the config's directory).
fn rule_files_of(config: &Path, engine: &mailex_core::Engine) -> Vec<PathBuf> {
    let base = config.parent().unwrap_or(Path::new("."));
    let mut files: Vec<PathBuf> = engine
        .router()
        .routes()
        .iter()
        .filter(|r| r.extractor_spec.ends_with(".rules"))
        .map(|r| base.join(&r.extractor_spec))
        .collect();
    files.sort();
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::colour;

    #[test]
    fn colour_marks_verdicts_and_keeps_the_text() {
        let rendered = "test a ... ok\ntest b ... FAILED\n    field `x`:\n      - expected: 1\n      + actual:   2\n\nFAILED: 1 passed; 1 failed (f.rules)\n";
        let painted = colour(rendered);
        assert!(painted.contains("\u{1b}[32mok\u{1b}[0m"), "{painted:?}");
        assert!(painted.contains("FAILED\u{1b}[0m"), "{painted:?}");
        // Without the escapes, the text is exactly what core rendered.
        let plain = anstream::adapter::strip_str(&painted).to_string();
        assert_eq!(plain, rendered);
    }
}
