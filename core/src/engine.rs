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

use crate::auth::{AuthFailure, AuthSettings, AuthVerdicts, ReceiverBlock};
use crate::config::{self, RawRoute, Settings, SourceFile};
use crate::error::{ConfigError, ConfigProblem};
use crate::extractor::{Completeness, ExtractContext, Extractor};
use crate::loader::LoadOptions;
use crate::message::Email;
use crate::record::{Issue, Record, Status, Verdict};
use crate::regex_budget::{BudgetError, RegexBudget};
use crate::routing::{Condition, Route, Router, Selection, SenderPattern};
use crate::textops::RegexError;

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
    /// SES's virus verdict from the receipt (`receipt.virusVerdict.status`), when the host has
    /// one. [`Verdict::Fail`] here, or `X-SES-Virus-Verdict: FAIL` in the receiver's own header
    /// block, makes the record `failed` with code `virus`; the mail is not parsed.
    pub receipt_virus: Option<Verdict>,
}

impl<'a> Input<'a> {
    /// An input with only bytes and a source name.
    pub fn new(raw: &'a [u8], source: impl Into<String>) -> Self {
        Input {
            raw,
            source: source.into(),
            received_at: None,
            auth: None,
            receipt_virus: None,
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
    warnings: Vec<ConfigProblem>,
    config_path: PathBuf,
    fixtures_root: PathBuf,
}

/// Builds an extractor for a route's `extractor` value, relative to the config's directory.
type ExtractorCache = HashMap<String, Arc<dyn Extractor>>;

impl Engine {
    /// Loads `mailex.toml` and everything it references, with [`LoadOptions::default`] (plugin
    /// routes get a host of their own, without a compile cache on disk).
    pub fn load(path: &Path) -> Result<Engine, ConfigError> {
        Engine::load_with(path, &LoadOptions::default())
    }

    /// Loads `mailex.toml` and everything it references; plugins are loaded into the host
    /// `options` give.
    pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Engine, ConfigError> {
        let text = config::read_config_text(path)?;
        Engine::from_toml_str_with(&text, path, &config::base_dir(path), options)
    }

    /// Loads a configuration from its text. `path` names it in errors; relative extractor paths
    /// are resolved against `base_dir`.
    pub fn from_toml_str(text: &str, path: &Path, base_dir: &Path) -> Result<Engine, ConfigError> {
        Engine::from_toml_str_with(text, path, base_dir, &LoadOptions::default())
    }

    /// [`Engine::from_toml_str`] with the plugin host `options` give.
    pub fn from_toml_str_with(
        text: &str,
        path: &Path,
        base_dir: &Path,
        options: &LoadOptions,
    ) -> Result<Engine, ConfigError> {
        if text.len() > config::MAX_CONFIG_BYTES {
            return Err(ConfigError::whole_file(
                path,
                format!(
                    "the config file is {} bytes, over the limit of {} bytes",
                    text.len(),
                    config::MAX_CONFIG_BYTES
                ),
            ));
        }
        let source = SourceFile {
            path: path.to_path_buf(),
            text: text.to_owned(),
        };
        let raw = config::parse_raw(&source)?;
        let mut errors = ConfigError::new(Vec::new());
        if let Some(extra) = raw.routes.get(config::MAX_ROUTES) {
            errors.extend(ConfigError::new(vec![source.problem(
                extra.name.span(),
                format!(
                    "more than {} routes; this and later routes were not loaded",
                    config::MAX_ROUTES
                ),
            )]));
        }
        let mut cache = ExtractorCache::new();
        let mut regexes =
            RegexBudget::new(config::MAX_CONFIG_REGEXES, config::MAX_CONFIG_REGEX_BYTES);
        let mut routes: Vec<(Route, std::ops::Range<usize>)> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for raw_route in raw.routes.iter().take(config::MAX_ROUTES) {
            match build_route(
                raw_route,
                &source,
                base_dir,
                &mut cache,
                options,
                &mut regexes,
            ) {
                Ok(route) => {
                    if names.insert(route.name.clone(), routes.len()).is_some() {
                        errors.extend(ConfigError::new(vec![source.problem(
                            raw_route.name.span(),
                            format!(
                                "route name `{}` is used twice; each route needs its own name (routes that feed one advertiser set `advertiser = \"...\"`)",
                                route.name
                            ),
                        )]));
                    }
                    routes.push((route, raw_route.name.span()));
                }
                Err(e) => errors.extend(e),
            }
        }
        let mut warnings = Vec::new();
        let (routes, spans): (Vec<Route>, Vec<_>) = routes.into_iter().unzip();
        tie_problems(&routes, &spans, &source, &mut errors, &mut warnings);
        warnings.extend(auth_warnings(&raw.auth, &routes, &source));
        for name in raw.settings.zero_caps() {
            errors.extend(ConfigError::new(vec![
                source.problem(0..0, format!("settings.{name} must be greater than 0")),
            ]));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Engine {
            settings: raw.settings,
            auth: raw.auth,
            router: Router::new(routes),
            warnings,
            config_path: path.to_path_buf(),
            fixtures_root: match raw.test.fixtures_root {
                Some(root) => base_dir.join(root),
                None => base_dir.to_path_buf(),
            },
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

    /// What loading found questionable without refusing the configuration (pairs of routes
    /// whose overlap could not be decided, an `[auth]` that can never authenticate, ...);
    /// `mailex check` prints them.
    pub fn warnings(&self) -> &[ConfigProblem] {
        &self.warnings
    }

    /// The path the configuration was loaded from.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The `failed` record (`too_large`) of an input of `input_bytes` bytes, over
    /// `settings.max_input_bytes`: what [`Engine::process`] returns for it, for hosts that
    /// find out from its size without reading it.
    pub fn too_large(&self, source: &str, input_bytes: u64) -> Record {
        Record::too_large(source, input_bytes, self.settings.max_input_bytes)
    }

    /// The directory the test inputs of rule files must lie in (`[test] fixtures_root`,
    /// relative to the config file; default its directory). Only `mailex test` and
    /// `mailex check` use it.
    pub fn fixtures_root(&self) -> &Path {
        &self.fixtures_root
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
        let mut record = self.process_guarded(input, stats);
        record.limit_issues();
        record
    }

    fn process_guarded(&self, input: &Input<'_>, stats: &mut ProcessStats) -> Record {
        let input_bytes = input.raw.len() as u64;
        if input_bytes > self.settings.max_input_bytes {
            let mut record = self.too_large(&input.source, input_bytes);
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
        let block = self.auth.read_receiver_block(input.raw);
        if is_virus(input, &block) {
            let mut record = virus_record(&input.source, input_bytes);
            record.received_at = input.received_at.map(rfc3339);
            return record;
        }
        let email = match Email::parse_with_limits(input.raw, &self.settings.message_limits()) {
            Ok(email) => email,
            Err(e) => return Record::failed(&input.source, input_bytes, e.issue()),
        };
        let mut record = Record::new(Status::Unmatched, &input.source, input_bytes);
        record.message_id = email.message_id().map(str::to_owned);
        record.received_at = input
            .received_at
            .or_else(|| email.received_date())
            .map(rfc3339);

        let selection = self.router.select(&email);
        let auth = self.authenticate(input, block, &email, &selection);
        record.sender = selection.sender.clone();
        record.auth = auth.verdicts.summary();
        record.warnings.extend(auth.warnings);
        let (Some(route), Some(policy_result)) = (
            selection.chosen.map(|i| &self.router.routes()[i]),
            auth.check,
        ) else {
            return record;
        };
        record.advertiser = Some(route.advertiser.clone());
        record.auth.policy = Some(route.policy.as_str().to_owned());
        record.auth.passed = Some(policy_result.is_ok());
        if let Err(failure) = policy_result {
            record.status = Status::Unauthenticated;
            record.errors.push(Issue::new(
                failure.code,
                format!("route `{}` {}", route.name, failure.message),
            ));
            return record;
        }

        // Only matched, authenticated emails are told about their charsets: that is where text
        // is read.
        record.warnings.extend(email.charset_issues());

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
        if let Some(ran) = &extraction.ran {
            info = ran.clone();
        }
        info.profile = extraction.profile.clone();
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
        record.warnings.extend(view_warnings(&email));
        record
    }

    /// The one authentication decision, shared by [`Engine::process`] and [`Engine::explain`]:
    /// the verdicts (the host's receipt, else the receiver's header block), checked against the
    /// chosen route's policy for exactly the From address routing used.
    fn authenticate(
        &self,
        input: &Input<'_>,
        block: ReceiverBlock,
        email: &Email<'_>,
        selection: &Selection,
    ) -> Authentication {
        let (verdicts, mut warnings) = match &input.auth {
            Some(verdicts) => (verdicts.clone(), Vec::new()),
            None => (block.verdicts, block.warnings),
        };
        let from_fields = email
            .message()
            .header_values(mail_parser::HeaderName::From)
            .count();
        let from = crate::auth::routed_from(input.raw, from_fields, selection.sender.as_deref());
        let check = selection
            .chosen
            .map(|i| verdicts.check(self.router.routes()[i].policy, from));
        let reported = matches!(&check, Some(Err(f)) if f.code == "ambiguous_from");
        if let Err(problem) = from
            && !reported
        {
            warnings.push(Issue::new(
                "ambiguous_from",
                format!("{problem}; the mail can never be authenticated"),
            ));
        }
        Authentication {
            verdicts,
            warnings,
            check,
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
        let block = self.auth.read_receiver_block(input.raw);
        if is_virus(input, &block) {
            return Err(VIRUS_MESSAGE.to_owned());
        }
        let email = Email::parse_with_limits(input.raw, &self.settings.message_limits())
            .map_err(|e| e.to_string())?;
        let selection = self.router.select(&email);
        let auth = self.authenticate(input, block, &email, &selection);
        Ok(RouteReport {
            source: input.source.clone(),
            selection,
            routes: self.router.routes().to_vec(),
            auth: auth.check,
            warnings: auth.warnings,
        })
    }
}

/// The outcome of [`Engine::authenticate`].
struct Authentication {
    verdicts: AuthVerdicts,
    warnings: Vec<Issue>,
    /// The chosen route's policy check, when a route was chosen.
    check: Option<Result<(), AuthFailure>>,
}

const VIRUS_MESSAGE: &str = "SES's virus verdict is FAIL: the mail was not parsed or extracted";

/// Whether SES found a virus: the host's receipt says so, or the receiver's own header block.
fn is_virus(input: &Input<'_>, block: &ReceiverBlock) -> bool {
    input.receipt_virus == Some(Verdict::Fail) || block.virus
}

/// The record of a mail SES flagged as a virus: `failed` with code `virus`, never parsed.
pub fn virus_record(source: impl Into<String>, input_bytes: u64) -> Record {
    Record::failed(source, input_bytes, Issue::new("virus", VIRUS_MESSAGE))
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
    pub auth: Option<Result<(), AuthFailure>>,
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
            (Some(i), Some(Err(failure))) => {
                // Name the code when it says more than the status does.
                let code = match failure.code {
                    "unauthenticated" => String::new(),
                    code => format!(" ({code})"),
                };
                writeln!(
                    f,
                    "  result: unauthenticated{code}: route `{}` {}",
                    self.routes[*i].name, failure.message
                )?
            }
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
    options: &LoadOptions,
    regexes: &mut RegexBudget<Regex>,
) -> Result<Route, ConfigError> {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        problems.push(source.problem(
            raw.name.span(),
            "a route needs a non-empty `name` (the advertiser)",
        ));
    }
    let advertiser = match &raw.advertiser {
        Some(a) if a.get_ref().trim().is_empty() => {
            problems.push(source.problem(
                a.span(),
                "`advertiser` must not be empty (leave it out to use the route's name)",
            ));
            name.clone()
        }
        Some(a) => a.get_ref().trim().to_owned(),
        None => name.clone(),
    };
    let sender = match (&raw.sender, &raw.sender_regex) {
        (Some(s), None) => SenderPattern::parse(s.get_ref())
            .map_err(|m| problems.push(source.problem(s.span(), m)))
            .ok(),
        (None, Some(r)) => compile_regex(regexes, r.get_ref(), "sender_regex")
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
        match compile_regex(regexes, r.get_ref(), "subject_regex") {
            Ok(re) => conditions.push(Condition::SubjectRegex(re)),
            Err(m) => problems.push(source.problem(r.span(), m)),
        }
    }
    if let Some(h) = &raw.header_present {
        conditions.push(Condition::HeaderPresent(h.get_ref().clone()));
    }
    if let Some(hm) = &raw.header_matches {
        match compile_regex(regexes, hm.regex.get_ref(), "header_matches.regex") {
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
    let limits = raw
        .limits
        .as_ref()
        .map(|l| *l.get_ref())
        .unwrap_or_default();
    if let Some(written) = &raw.limits {
        problems.extend(
            crate::loader::check_limits(&spec, written.get_ref())
                .into_iter()
                .map(|m| source.problem(written.span(), m)),
        );
    }
    // Plugins and rule files carry per-route limits, so the same file under other limits is
    // another extractor.
    let cache_key = if spec.ends_with(".wasm") || spec.ends_with(".rules") {
        format!("{spec}\u{0}{limits:?}")
    } else {
        spec.clone()
    };
    let extractor = match cache.get(&cache_key) {
        Some(e) => Some(e.clone()),
        None => match crate::loader::load_extractor(&spec, base_dir, &limits, options) {
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
            advertiser,
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

/// Warnings about an `[auth]` table that can never authenticate a mail while routes require it.
fn auth_warnings(auth: &AuthSettings, routes: &[Route], source: &SourceFile) -> Vec<ConfigProblem> {
    let requiring = routes
        .iter()
        .filter(|r| r.policy != crate::auth::AuthPolicy::None)
        .count();
    if requiring == 0 {
        return Vec::new();
    }
    let at = |key: &str| {
        let offset = source
            .text
            .match_indices(key)
            .find(|(i, _)| {
                source.text[..*i]
                    .rsplit('\n')
                    .next()
                    .is_some_and(|l| l.trim().is_empty())
            })
            .map_or(0, |(i, _)| i);
        offset..offset
    };
    let mut warnings = Vec::new();
    for (key, empty, why) in [
        (
            "trusted_receivers",
            auth.trusted_receivers.is_empty(),
            "no `Received:` header opens the receiver's trusted block",
        ),
        (
            "trusted_authserv_ids",
            auth.trusted_authserv_ids.is_empty(),
            "no `Authentication-Results` header is believed",
        ),
    ] {
        if empty {
            warnings.push(source.problem(
                at(key),
                format!(
                    "`[auth] {key}` is empty: {why}, so no mail can pass authentication and the {requiring} route{} with `require_auth` other than \"none\" will make only `unauthenticated` records; leave the key out for the default (docs/config.md)",
                    if requiring == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    warnings
}

/// Tie errors printed for regex routes before the rest are only counted.
const MAX_TIE_REPORTS: usize = 100;
/// Undecided pairs of regex routes warned about before the rest are only counted.
const MAX_UNDECIDED_REPORTS: usize = 20;
/// Route names a tie of address or domain routes lists before it counts the rest.
const MAX_TIE_NAMES: usize = 10;

/// Reports every tie among `routes` as an error, and every pair whose overlap the check could
/// not decide as a warning, in config order ([`crate::routing::check_ties`]).
fn tie_problems(
    routes: &[Route],
    spans: &[std::ops::Range<usize>],
    source: &SourceFile,
    errors: &mut ConfigError,
    warnings: &mut Vec<ConfigProblem>,
) {
    let check = crate::routing::check_ties(routes);
    let name = |i: usize| format!("`{}`", routes[i].name);
    let advice = "give one a higher `priority` or a further condition";
    let mut regex_ties = 0usize;
    for tie in &check.ties {
        let at = spans[tie.routes[1]].clone();
        let message = match &tie.example {
            Some(example) => {
                regex_ties += 1;
                if regex_ties > MAX_TIE_REPORTS {
                    continue;
                }
                format!(
                    "routes {} and {} tie: both `sender_regex` patterns match `{example}`, with the same priority and specificity; {advice}",
                    name(tie.routes[0]),
                    name(tie.routes[1])
                )
            }
            None if tie.routes.len() == 2 => format!(
                "routes {} and {} tie: both can match the same sender with the same priority and specificity; {advice}",
                name(tie.routes[0]),
                name(tie.routes[1])
            ),
            None => {
                let mut names: Vec<String> = tie
                    .routes
                    .iter()
                    .take(MAX_TIE_NAMES)
                    .map(|&i| name(i))
                    .collect();
                let more = tie.routes.len().saturating_sub(MAX_TIE_NAMES);
                let last = if more > 0 {
                    format!("{more} more")
                } else {
                    names.pop().unwrap_or_default()
                };
                format!(
                    "routes {} and {last} tie: all {} can match the same sender with the same priority and specificity; {advice}",
                    names.join(", "),
                    tie.routes.len()
                )
            }
        };
        errors.extend(ConfigError::new(vec![source.problem(at, message)]));
    }
    if regex_ties > MAX_TIE_REPORTS {
        errors.extend(ConfigError::new(vec![source.problem(
            0..0,
            format!(
                "{} more ties between `sender_regex` routes (the first {MAX_TIE_REPORTS} are shown)",
                regex_ties - MAX_TIE_REPORTS
            ),
        )]));
    }
    for pair in check.undecided.iter().take(MAX_UNDECIDED_REPORTS) {
        warnings.push(source.problem(
            spans[pair.second].clone(),
            format!(
                "routes {} and {} may tie: whether one address matches both `sender_regex` patterns was not decided ({}); when both match, the earlier route wins. Give one a higher `priority` to make the choice explicit",
                name(pair.first),
                name(pair.second),
                pair.why
            ),
        ));
    }
    let undecided_rest = check.undecided.len().saturating_sub(MAX_UNDECIDED_REPORTS) as u64;
    if undecided_rest + check.unchecked_pairs > 0 {
        warnings.push(source.problem(
            0..0,
            format!(
                "{} more pairs of `sender_regex` routes with the same rank were not decided or not checked for overlap (the check stops after {} pairs and a fixed amount of work); when two of them match one address, the earlier route wins",
                undecided_rest + check.unchecked_pairs,
                crate::routing::MAX_TIE_PAIRS
            ),
        ));
    }
}

/// Compiles a route's regex within the configuration's regex budget.
fn compile_regex(
    regexes: &mut RegexBudget<Regex>,
    pattern: &str,
    what: &str,
) -> Result<Regex, String> {
    regexes.compile(pattern).map_err(|e| match e {
        BudgetError::Invalid(RegexError::Syntax(message)) => format!(
            "invalid regex in `{what}`: {}",
            message.lines().last().unwrap_or("syntax error")
        ),
        other => format!("regex in `{what}` not accepted: {other}"),
    })
}

/// Warnings about parts of the email's views that were left out to bound their cost, for the
/// views the extractor used.
fn view_warnings(email: &Email<'_>) -> Vec<Issue> {
    use crate::html::MAX_META_TAGS;
    let mut warnings = email.html_trimmed().warnings();
    let omitted = email.meta_tags_omitted();
    if omitted > 0 {
        warnings.push(Issue::new(
            "meta_tags_omitted",
            format!("the HTML body has {omitted} meta tags beyond the first {MAX_META_TAGS}; they were ignored"),
        ));
    }
    warnings
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The panic's message, redacted ([`crate::redact::redact`]): std's panic messages quote the
/// data they choke on (`byte index 3 is not a char boundary ... of `Jane``), which may be
/// personal data.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    crate::redact::redact(&message)
}
