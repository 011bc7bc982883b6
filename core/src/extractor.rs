//! The extractor interface every kind of extractor implements.
//!
//! Built-ins, rule files ([`crate::rules`]) and WASM plugins ([`crate::plugin`]) all implement
//! [`Extractor`]. The engine picks one per email through the route, hands it the parsed
//! [`Email`], and turns the returned [`Extraction`] into a [`crate::Record`].

use std::collections::BTreeMap;

use crate::message::Email;
use crate::record::{ExtractorInfo, FieldValue, Issue};

/// What an extractor may know about the route that chose it.
#[derive(Debug, Clone, Copy)]
pub struct ExtractContext<'a> {
    /// The route's name (the advertiser).
    pub route: &'a str,
    /// The route's free-form settings (`[route.settings]` in `mailex.toml`), passed to plugins.
    pub settings: &'a BTreeMap<String, String>,
}

/// How complete an extraction is, as judged by the extractor (which knows its required fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Every required field is present and valid.
    Complete,
    /// At least one required field is missing or invalid.
    Partial,
    /// The extractor could not run on this email at all (a plugin trap, no ADF found, ...).
    Failed,
}

/// The outcome of running an extractor on one email.
#[derive(Debug, Clone)]
pub struct Extraction {
    /// Complete, partial or failed.
    pub completeness: Completeness,
    /// The extracted fields.
    pub fields: BTreeMap<String, FieldValue>,
    /// For each field, which alternative produced it.
    pub provenance: BTreeMap<String, String>,
    /// Names of fields holding personal data.
    pub sensitive: Vec<String>,
    /// Errors (missing required fields, normaliser failures, plugin errors).
    pub errors: Vec<Issue>,
    /// Warnings (degraded fields, ignored input).
    pub warnings: Vec<Issue>,
    /// The rule-file profile that matched, if any.
    pub profile: Option<String>,
    /// The extractor that produced this extraction, when it can differ from what
    /// [`Extractor::info`] said at load: a plugin swapped by a hot reload names its new
    /// name, version and SHA-256 here, so the record names exactly the artefact that ran.
    pub ran: Option<crate::record::ExtractorInfo>,
    /// Peak memory the extractor used for this email, where it can tell (plugins: the peak
    /// linear memory of the instance). Reported by `mailex extract --stats`, not recorded.
    pub peak_memory_bytes: Option<u64>,
}

impl Extraction {
    /// An empty, complete extraction to fill in.
    pub fn new() -> Self {
        Extraction {
            completeness: Completeness::Complete,
            fields: BTreeMap::new(),
            provenance: BTreeMap::new(),
            sensitive: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            profile: None,
            ran: None,
            peak_memory_bytes: None,
        }
    }

    /// A failed extraction with one error.
    pub fn failed(error: Issue) -> Self {
        let mut extraction = Extraction::new();
        extraction.completeness = Completeness::Failed;
        extraction.errors.push(error);
        extraction
    }
}

impl Default for Extraction {
    fn default() -> Self {
        Extraction::new()
    }
}

/// Something that turns a parsed email into fields.
///
/// Implementations must not panic on any input (the engine contains panics anyway and turns
/// them into `failed` records), must be cheap to share between threads, and must never log
/// field values.
pub trait Extractor: Send + Sync {
    /// Who this extractor is (kind, name, version, content hash).
    fn info(&self) -> &ExtractorInfo;

    /// Extracts fields from one email.
    fn extract(&self, email: &Email<'_>, ctx: &ExtractContext<'_>) -> Extraction;

    /// Extracts as [`Extractor::extract`] does and explains how, step by step, when the
    /// extractor can (rule files can; plugins and built-ins give `None`). Used by
    /// `mailex extract --explain`; the explanation quotes the email, so it is never logged.
    fn extract_explained(
        &self,
        email: &Email<'_>,
        ctx: &ExtractContext<'_>,
    ) -> (Extraction, Option<crate::rules::Explanation>) {
        (self.extract(email, ctx), None)
    }
}
