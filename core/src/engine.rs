//! The engine: a loaded configuration that turns raw emails into records.
//!
//! [`Engine::process`] is the one entry point every host uses (CLI, Lambda, tests). It never
//! fails and never panics: whatever happens, the email yields exactly one [`Record`].
//!
//! `engine/load.rs` builds an engine from `mailex.toml` (routes, their extractors, the route
//! checks); `engine/report.rs` is `mailex route`'s report.

mod load;
mod report;

pub use self::load::{ExtractorTiming, LoadTimings};
pub use self::report::RouteReport;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::auth::{AuthFailure, AuthSettings, AuthVerdicts, ReceiverBlock};
use crate::config::Settings;
use crate::error::ConfigProblem;
use crate::extractor::{Completeness, ExtractContext};
use crate::message::Email;
use crate::record::{Issue, IssueCode, Record, Status, Verdict};
use crate::routing::{Router, Selection};
use crate::rules::Explanation;
use crate::sink::SinkConfig;

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
    sinks: Vec<SinkConfig>,
    load_timings: LoadTimings,
}

impl Engine {
    /// Where the time of loading this engine went.
    pub fn load_timings(&self) -> &LoadTimings {
        &self.load_timings
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

    /// The `[[sink]]` tables, checked: where hosts deliver stored records (docs/delivery.md).
    pub fn sinks(&self) -> &[SinkConfig] {
        &self.sinks
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
        let record = self.process_counted(input, &mut stats, None);
        (record, stats)
    }

    /// [`Engine::process_with_stats`], also explaining step by step what the extractor did
    /// (for `mailex extract --explain`): `None` when no extractor ran (the record says why) or
    /// the extractor cannot explain itself (plugins, built-ins). The record is the same as
    /// [`Engine::process`] gives. The explanation quotes the email: show it, never log it.
    pub fn process_explained(
        &self,
        input: &Input<'_>,
    ) -> (Record, ProcessStats, Option<Explanation>) {
        let mut stats = ProcessStats::default();
        let mut explanation = None;
        let record = self.process_counted(input, &mut stats, Some(&mut explanation));
        (record, stats, explanation)
    }

    fn process_counted(
        &self,
        input: &Input<'_>,
        stats: &mut ProcessStats,
        explain: Option<&mut Option<Explanation>>,
    ) -> Record {
        let mut record = self.process_guarded(input, stats, explain);
        record.limit_issues();
        record
    }

    fn process_guarded(
        &self,
        input: &Input<'_>,
        stats: &mut ProcessStats,
        explain: Option<&mut Option<Explanation>>,
    ) -> Record {
        let input_bytes = input.raw.len() as u64;
        if input_bytes > self.settings.max_input_bytes {
            let mut record = self.too_large(&input.source, input_bytes);
            record.received_at = input.received_at.map(rfc3339);
            return record;
        }
        match catch_unwind(AssertUnwindSafe(|| {
            self.process_parsed(input, stats, explain)
        })) {
            Ok(record) => record,
            Err(panic) => Record::failed(
                &input.source,
                input_bytes,
                Issue::new(
                    IssueCode::InternalPanic,
                    format!(
                        "mailex panicked while processing this input: {}",
                        panic_message(&panic)
                    ),
                ),
            ),
        }
    }

    fn process_parsed(
        &self,
        input: &Input<'_>,
        stats: &mut ProcessStats,
        explain: Option<&mut Option<Explanation>>,
    ) -> Record {
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
        record.route = Some(route.name.clone());
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
        let extracted = catch_unwind(AssertUnwindSafe(|| match explain {
            Some(slot) => {
                let (extraction, explanation) = route.extractor.extract_explained(&email, &context);
                *slot = explanation;
                extraction
            }
            None => route.extractor.extract(&email, &context),
        }));
        stats.extract_time = Some(started.elapsed());
        let extraction = match extracted {
            Ok(extraction) => extraction,
            Err(panic) => {
                record.extractor = Some(info);
                record.status = Status::Failed;
                record.errors.push(Issue::new(
                    IssueCode::ExtractorPanic,
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
        let reported = matches!(&check, Some(Err(f)) if f.code == IssueCode::AmbiguousFrom);
        if let Err(problem) = from
            && !reported
        {
            warnings.push(Issue::new(
                IssueCode::AmbiguousFrom,
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
    Record::failed(
        source,
        input_bytes,
        Issue::new(IssueCode::Virus, VIRUS_MESSAGE),
    )
}

/// What processing one email cost, beyond the record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// Time spent in the extractor, when one ran.
    pub extract_time: Option<std::time::Duration>,
    /// Peak memory of the extractor, where it can tell (plugins).
    pub peak_memory_bytes: Option<u64>,
}

/// Warnings about parts of the email's views that were left out to bound their cost, for the
/// views the extractor used.
fn view_warnings(email: &Email<'_>) -> Vec<Issue> {
    use crate::html::MAX_META_TAGS;
    let mut warnings = email.html_trimmed().warnings();
    let omitted = email.meta_tags_omitted();
    if omitted > 0 {
        warnings.push(Issue::new(
            IssueCode::MetaTagsOmitted,
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
