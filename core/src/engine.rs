//! The engine: a loaded configuration that turns raw emails into records.
//!
//! [`Engine::process`] is the one entry point every host uses (CLI, Lambda, tests). It never
//! fails and never panics: whatever happens, the email yields exactly one [`Record`].

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use regex::Regex;

use crate::auth::{AuthSettings, AuthVerdicts};
use crate::config::{self, RawRoute, Settings, SourceFile};
use crate::error::{ConfigError, ConfigProblem};
use crate::extractor::{Completeness, ExtractContext, Extractor};
use crate::message::Email;
use crate::record::{Issue, Record, Status};
use crate::routing::{Condition, Route, Router, Selection, SenderPattern};

/// One email to process.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The raw RFC 5322 bytes.
    pub raw: &'a [u8],
    /// Where it came from (file path, `-`, S3 key); copied into the record.
    pub source: String,
    /// When it was received, if the host knows better than the headers (e.g. the S3 event time).
    pub received_at: Option<DateTime<Utc>>,
    /// Authentication verdicts supplied by the host (an SES receipt); when `None`, the trusted
    /// `Authentication-Results` header is read.
    pub auth: Option<AuthVerdicts>,
}

impl<'a> Input<'a> {
    /// An input with only bytes and a source name.
    pub fn new(raw: &'a [u8], source: impl Into<String>) -> Self {
        Input {
            raw,
            source: source.into(),
            received_at: None,
            auth: None,
        }
    }
}

/// A loaded, validated configuration with every extractor compiled and ready.
///
/// Cheap to share across threads (`&Engine` is all a worker needs).
#[derive(Debug)]
pub struct Engine {
    settings: Settings,
    auth: AuthSettings,
    router: Router,
    config_path: PathBuf,
}

/// Builds an extractor for a route's `extractor` value, relative to the config's directory.
type ExtractorCache = HashMap<String, Arc<dyn Extractor>>;

impl Engine {
    /// Loads `mailex.toml` and everything it references.
    pub fn load(path: &Path) -> Result<Engine, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::whole_file(path, format!("cannot read the config file: {e}"))
        })?;
        Engine::from_toml_str(&text, path, &config::base_dir(path))
    }

    /// Loads a configuration from its text. `path` names it in errors; relative extractor paths
    /// are resolved against `base_dir`.
    pub fn from_toml_str(text: &str, path: &Path, base_dir: &Path) -> Result<Engine, ConfigError> {
        let source = SourceFile {
            path: path.to_path_buf(),
            text: text.to_owned(),
        };
        let raw = config::parse_raw(&source)?;
        let mut errors = ConfigError::new(Vec::new());
        let mut cache = ExtractorCache::new();
        let mut routes: Vec<(Route, std::ops::Range<usize>)> = Vec::new();
        for raw_route in &raw.routes {
            match build_route(raw_route, &source, base_dir, &mut cache) {
                Ok(route) => {
                    if let Some((other, _)) = routes.iter().find(|(r, _)| r.name == route.name) {
                        errors.extend(ConfigError::new(vec![source.problem(
                            raw_route.name.span(),
                            format!(
                                "route name `{}` is used twice; each advertiser needs its own name",
                                other.name
                            ),
                        )]));
                    }
                    routes.push((route, raw_route.name.span()));
                }
                Err(e) => errors.extend(e),
            }
        }
        for (i, (route, span)) in routes.iter().enumerate() {
            if let Some((other, _)) = routes[..i].iter().find(|(r, _)| r.ties_with(route)) {
                errors.extend(ConfigError::new(vec![source.problem(
                    span.clone(),
                    format!(
                        "routes `{}` and `{}` tie: both can match the same sender with the same priority and specificity; give one a higher `priority` or a further condition",
                        other.name, route.name
                    ),
                )]));
            }
        }
        if raw.settings.max_input_bytes == 0 {
            errors.extend(ConfigError::new(vec![
                source.problem(0..0, "settings.max_input_bytes must be greater than 0"),
            ]));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Engine {
            settings: raw.settings,
            auth: raw.auth,
            router: Router::new(routes.into_iter().map(|(r, _)| r).collect()),
            config_path: path.to_path_buf(),
        })
    }

    /// Global settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The routes.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The path the configuration was loaded from.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Turns one email into its record. Never panics, never fails.
    pub fn process(&self, input: &Input<'_>) -> Record {
        self.process_with_stats(input).0
    }

    /// [`Engine::process`], also reporting what the extractor cost (for `mailex extract --stats`).
    pub fn process_with_stats(&self, input: &Input<'_>) -> (Record, ProcessStats) {
        let mut stats = ProcessStats::default();
        let record = self.process_counted(input, &mut stats);
        (record, stats)
    }

    fn process_counted(&self, input: &Input<'_>, stats: &mut ProcessStats) -> Record {
        let input_bytes = input.raw.len() as u64;
        if input_bytes > self.settings.max_input_bytes {
            let mut record = Record::failed(
                &input.source,
                input_bytes,
                Issue::new(
                    "too_large",
                    format!(
                        "input is {input_bytes} bytes, over the limit of {} bytes; it was not parsed",
                        self.settings.max_input_bytes
                    ),
                ),
            );
            record.received_at = input.received_at.map(rfc3339);
            return record;
        }
        match catch_unwind(AssertUnwindSafe(|| self.process_parsed(input, stats))) {
            Ok(record) => record,
            Err(panic) => Record::failed(
                &input.source,
                input_bytes,
                Issue::new(
                    "internal_panic",
                    format!(
                        "mailex panicked while processing this input: {}",
                        panic_message(&panic)
                    ),
                ),
            ),
        }
    }

    fn process_parsed(&self, input: &Input<'_>, stats: &mut ProcessStats) -> Record {
        let input_bytes = input.raw.len() as u64;
        let email = match Email::parse(input.raw) {
            Ok(email) => email,
            Err(e) => {
                return Record::failed(
                    &input.source,
                    input_bytes,
                    Issue::new("parse_error", e.to_string()),
                );
            }
        };
        let mut record = Record::new(Status::Unmatched, &input.source, input_bytes);
        record.message_id = email.message_id().map(str::to_owned);
        record.received_at = input
            .received_at
            .or_else(|| email.received_date())
            .map(rfc3339);
        record.sender = email.from_address();

        let (verdicts, auth_warnings) = self.verdicts(input, &email);
        record.auth = verdicts.summary();
        record.warnings.extend(auth_warnings);

        let selection = self.router.select(&email);
        let Some(route) = selection.chosen.map(|i| &self.router.routes()[i]) else {
            return record;
        };
        record.advertiser = Some(route.name.clone());
        let policy_result = verdicts.check(route.policy, domain_of(record.sender.as_deref()));
        record.auth.policy = Some(route.policy.as_str().to_owned());
        record.auth.passed = Some(policy_result.is_ok());
        if let Err(why) = policy_result {
            record.status = Status::Unauthenticated;
            record.errors.push(Issue::new(
                "unauthenticated",
                format!("route `{}` {why}", route.name),
            ));
            return record;
        }

        let mut info = route.extractor.info().clone();
        let context = ExtractContext {
            route: &route.name,
            settings: &route.settings,
        };
        let started = std::time::Instant::now();
        let extracted = catch_unwind(AssertUnwindSafe(|| {
            route.extractor.extract(&email, &context)
        }));
        stats.extract_time = Some(started.elapsed());
        let extraction = match extracted {
            Ok(extraction) => extraction,
            Err(panic) => {
                record.extractor = Some(info);
                record.status = Status::Failed;
                record.errors.push(Issue::new(
                    "extractor_panic",
                    format!(
                        "extractor `{}` panicked: {}",
                        route.extractor_spec,
                        panic_message(&panic)
                    ),
                ));
                return record;
            }
        };
        stats.peak_memory_bytes = extraction.peak_memory_bytes;
        info.profile = extraction.profile.clone();
        if extraction.version.is_some() {
            info.version = extraction.version.clone();
        }
        record.extractor = Some(info);
        record.status = match extraction.completeness {
            Completeness::Complete => Status::Extracted,
            Completeness::Partial => Status::Partial,
            Completeness::Failed => Status::Failed,
        };
        record.fields = extraction.fields;
        record.provenance = extraction.provenance;
        record.sensitive = extraction.sensitive;
        record.errors.extend(extraction.errors);
        record.warnings.extend(extraction.warnings);
        if email.html_was_trimmed() {
            record.warnings.push(Issue::new(
                "html_nesting_trimmed",
                format!("the HTML body nests elements deeper than {} levels; deeper elements were ignored", crate::html::MAX_NESTING),
            ));
        }
        record
    }

    fn verdicts(&self, input: &Input<'_>, email: &Email<'_>) -> (AuthVerdicts, Vec<Issue>) {
        match &input.auth {
            Some(verdicts) => (verdicts.clone(), Vec::new()),
            None => self.auth.verdicts_from_headers(&email.raw_headers()),
        }
    }

    /// Explains routing for one email: every route and how it fared, the chosen one, and the
    /// authentication verdict. Used by `mailex route`.
    pub fn explain(&self, input: &Input<'_>) -> Result<RouteReport, String> {
        if input.raw.len() as u64 > self.settings.max_input_bytes {
            return Err(format!(
                "input is over the limit of {} bytes",
                self.settings.max_input_bytes
            ));
        }
        let email = Email::parse(input.raw).map_err(|e| e.to_string())?;
        let (verdicts, warnings) = self.verdicts(input, &email);
        let selection = self.router.select(&email);
        let auth = selection.chosen.map(|i| {
            let route = &self.router.routes()[i];
            verdicts.check(route.policy, domain_of(selection.sender.as_deref()))
        });
        Ok(RouteReport {
            source: input.source.clone(),
            selection,
            routes: self.router.routes().to_vec(),
            auth,
            warnings,
        })
    }
}

/// What processing one email cost, beyond the record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// Time spent in the extractor, when one ran.
    pub extract_time: Option<std::time::Duration>,
    /// Peak memory of the extractor, where it can tell (plugins).
    pub peak_memory_bytes: Option<u64>,
}

/// The explanation `mailex route` prints.
#[derive(Debug, Clone)]
pub struct RouteReport {
    /// The input's source name.
    pub source: String,
    /// The decision.
    pub selection: Selection,
    /// The routes it was made over.
    pub routes: Vec<Route>,
    /// The chosen route's authentication outcome.
    pub auth: Option<Result<(), String>>,
    /// Authentication warnings.
    pub warnings: Vec<Issue>,
}

impl std::fmt::Display for RouteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.source)?;
        match &self.selection.sender {
            Some(sender) => writeln!(f, "  sender: {sender}")?,
            None => writeln!(f, "  sender: (no From address)")?,
        }
        for candidate in &self.selection.candidates {
            let route = &self.routes[candidate.route];
            let mark = if Some(candidate.route) == self.selection.chosen {
                "=>"
            } else {
                "  "
            };
            let (p, k, d, c) = route.rank();
            let why = if !candidate.sender_matched {
                "sender does not match".to_owned()
            } else if let Some(condition) = &candidate.failed_condition {
                format!("sender matches, but not: {condition}")
            } else {
                format!(
                    "matches (rank: priority {p}, pattern kind {k}, domain labels {d}, conditions {c})"
                )
            };
            writeln!(
                f,
                "  {mark} {} [{}] -> {}: {why}",
                route.name, route.sender, route.extractor_spec
            )?;
        }
        match (&self.selection.chosen, &self.auth) {
            (None, _) => writeln!(f, "  result: unmatched (no route matches)")?,
            (Some(i), Some(Ok(()))) => writeln!(
                f,
                "  result: route `{}`, authentication {} passed",
                self.routes[*i].name,
                self.routes[*i].policy.as_str()
            )?,
            (Some(i), Some(Err(why))) => writeln!(
                f,
                "  result: unauthenticated: route `{}` {why}",
                self.routes[*i].name
            )?,
            (Some(i), None) => writeln!(f, "  result: route `{}`", self.routes[*i].name)?,
        }
        for warning in &self.warnings {
            writeln!(f, "  warning: {}", warning.message)?;
        }
        Ok(())
    }
}

fn build_route(
    raw: &RawRoute,
    source: &SourceFile,
    base_dir: &Path,
    cache: &mut ExtractorCache,
) -> Result<Route, ConfigError> {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        problems.push(source.problem(
            raw.name.span(),
            "a route needs a non-empty `name` (the advertiser)",
        ));
    }
    let sender = match (&raw.sender, &raw.sender_regex) {
        (Some(s), None) => SenderPattern::parse(s.get_ref())
            .map_err(|m| problems.push(source.problem(s.span(), m)))
            .ok(),
        (None, Some(r)) => compile_regex(r.get_ref(), "sender_regex")
            .map(SenderPattern::Regex)
            .map_err(|m| problems.push(source.problem(r.span(), m)))
            .ok(),
        (Some(s), Some(_)) => {
            problems
                .push(source.problem(s.span(), "give either `sender` or `sender_regex`, not both"));
            None
        }
        (None, None) => {
            problems.push(source.problem(
                raw.name.span(),
                format!("route `{name}` has no `sender` or `sender_regex`"),
            ));
            None
        }
    };
    let mut conditions = Vec::new();
    if let Some(s) = &raw.subject_contains {
        conditions.push(Condition::SubjectContains(s.get_ref().clone()));
    }
    if let Some(r) = &raw.subject_regex {
        match compile_regex(r.get_ref(), "subject_regex") {
            Ok(re) => conditions.push(Condition::SubjectRegex(re)),
            Err(m) => problems.push(source.problem(r.span(), m)),
        }
    }
    if let Some(h) = &raw.header_present {
        conditions.push(Condition::HeaderPresent(h.get_ref().clone()));
    }
    if let Some(hm) = &raw.header_matches {
        match compile_regex(hm.regex.get_ref(), "header_matches.regex") {
            Ok(re) => conditions.push(Condition::HeaderMatches(hm.name.get_ref().clone(), re)),
            Err(m) => problems.push(source.problem(hm.regex.span(), m)),
        }
    }
    let policy = match &raw.require_auth {
        None => Default::default(),
        Some(p) => config::parse_policy(p.get_ref()).unwrap_or_else(|| {
            problems.push(source.problem(
                p.span(),
                format!(
                    "unknown require_auth `{}`: expected one of dmarc, dkim, spf, none",
                    p.get_ref()
                ),
            ));
            Default::default()
        }),
    };
    let spec = raw.extractor.get_ref().trim().to_owned();
    let limits = raw.limits.unwrap_or_default();
    // Plugins carry per-route limits, so the same wasm under other limits is another extractor.
    let cache_key = if spec.ends_with(".wasm") {
        format!("{spec}\u{0}{limits:?}")
    } else {
        spec.clone()
    };
    let extractor = match cache.get(&cache_key) {
        Some(e) => Some(e.clone()),
        None => match crate::loader::load_extractor(&spec, base_dir, &limits) {
            Ok(e) => {
                cache.insert(cache_key, e.clone());
                Some(e)
            }
            Err(failure) => {
                problems.push(source.problem(raw.extractor.span(), failure.message));
                let mut error = ConfigError::new(std::mem::take(&mut problems));
                if let Some(report) = failure.report {
                    error = error.with_report(report);
                }
                return Err(error);
            }
        },
    };
    match (sender, extractor) {
        (Some(sender), Some(extractor)) if problems.is_empty() => Ok(Route {
            name,
            sender,
            conditions,
            priority: raw.priority,
            policy,
            extractor_spec: spec,
            extractor,
            settings: raw.settings.clone(),
            limits,
            tests: raw.tests.as_ref().map(|dir| base_dir.join(dir.get_ref())),
        }),
        _ => Err(ConfigError::new(problems)),
    }
}

fn compile_regex(pattern: &str, what: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            format!(
                "invalid regex in `{what}`: {}",
                e.to_string().lines().last().unwrap_or("syntax error")
            )
        })
}

/// The domain of a (lower-cased) From address, which authentication aligns against.
fn domain_of(address: Option<&str>) -> Option<&str> {
    address
        .and_then(|a| a.rsplit_once('@'))
        .map(|(_, domain)| domain)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The panic's message, cut before the first quoted part: std's panic messages quote the
/// data they choke on (`byte index 3 is not a char boundary ... of `Jane``), which may be
/// personal data.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    redact(&message)
}

/// Keeps the part of a message before anything quoted, at most 200 characters.
pub(crate) fn redact(message: &str) -> String {
    let cut = message.find(['`', '\'', '"']).unwrap_or(message.len());
    let mut kept: String = message[..cut].chars().take(200).collect();
    if kept.len() < message.len() {
        kept = format!("{} [details withheld]", kept.trim_end());
    }
    kept
}
