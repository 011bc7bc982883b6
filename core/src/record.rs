//! The result record: exactly one per input email, whatever happened to it.
//!
//! Records are the product's output contract. They serialise to JSON with serde, and
//! `docs/record.schema.json` is generated from these types with `schemars` (see
//! [`record_schema`]). Field values are typed; personal data never leaves a record
//! except through the record itself (never through logs or error messages).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod code;

pub use code::IssueCode;

/// Version of the record layout. Bumped on any incompatible change.
pub const RECORD_VERSION: u32 = 1;

/// What became of an email.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every required field was extracted.
    Extracted,
    /// The extractor ran but at least one required field is missing or invalid.
    Partial,
    /// No route matches the sender (and conditions) of the email.
    Unmatched,
    /// A route matches, but the email failed the route's authentication policy; no extractor ran.
    Unauthenticated,
    /// The email could not be processed: too large, unparsable, I/O error, extractor crash.
    Failed,
}

impl Status {
    /// The lower-case name used in JSON, logs and S3 partitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Extracted => "extracted",
            Status::Partial => "partial",
            Status::Unmatched => "unmatched",
            Status::Unauthenticated => "unauthenticated",
            Status::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of extractor that produced a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtractorKind {
    /// Compiled into mailex (`builtin:adf`, `builtin:lead-meta`).
    Builtin,
    /// A rule file in the mailex DSL.
    Rules,
    /// A WebAssembly component plugin.
    Plugin,
}

/// Identifies the extractor (and its exact revision) behind a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExtractorInfo {
    /// Built-in, rule file or plugin.
    pub kind: ExtractorKind,
    /// Name: `builtin:adf`, the rule file path as configured, or the plugin's own name.
    pub name: String,
    /// Version, when the extractor declares one (built-ins: the mailex version; plugins: their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// SHA-256 (hex) of the rule file or wasm file, so a record names the exact revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The profile (layout) of a rule file that produced the record, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// An amount of money: a decimal amount (as a string, to stay exact) and an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// Decimal amount as a string, to stay exact, with at least the currency's minor-unit
    /// digits (two; none for JPY and KRW), e.g. `"1250.00"`. Displayed (and compared by
    /// `mailex test`) as `"1250.00 USD"`.
    pub amount: String,
    /// ISO 4217 code, e.g. `"USD"`.
    pub currency: String,
}

/// A person's name, split where it can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PersonName {
    /// The full name as it should be displayed.
    pub full: String,
    /// Given name, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Family name, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

/// A typed field value.
///
/// Emails, phones (E.164), URLs, dates (`YYYY-MM-DD`), datetimes (RFC 3339, UTC) and decimals are
/// carried as normalised strings; their type is the field's declared type in the extractor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FieldValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A normalised string (text, email, phone, url, date, datetime, decimal, enum).
    Text(String),
    /// An amount with its currency.
    Money(Money),
    /// A person's name.
    Name(PersonName),
    /// Several values (e.g. every match of a CSS selector).
    List(Vec<FieldValue>),
}

impl FieldValue {
    /// The value as a display string, used by `mailex test` to compare against expectations.
    pub fn to_display_string(&self) -> String {
        match self {
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::Int(i) => i.to_string(),
            FieldValue::Text(s) => s.clone(),
            FieldValue::Money(m) => format!("{} {}", m.amount, m.currency),
            FieldValue::Name(n) => n.full.clone(),
            FieldValue::List(items) => items
                .iter()
                .map(FieldValue::to_display_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Text(s)
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Text(s.to_owned())
    }
}

/// An error or warning attached to a record.
///
/// Messages name the field or the input position, never the personal data itself.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
pub struct Issue {
    /// Stable machine-readable code, e.g. `too_large`, `missing_required`, `degraded`.
    #[schemars(with = "String")]
    pub code: IssueCode,
    /// Human-readable explanation.
    pub message: String,
    /// The field concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The code as written, when it is [`IssueCode::Unknown`].
    #[schemars(skip)]
    unknown_code: Option<Box<str>>,
}

/// How an [`Issue`] is written and read: its code as a string.
#[derive(Serialize, Deserialize)]
struct IssueJson<'a> {
    #[serde(borrow)]
    code: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    message: std::borrow::Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<std::borrow::Cow<'a, str>>,
}

impl Serialize for Issue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        IssueJson {
            code: self.code_str().into(),
            message: self.message.as_str().into(),
            field: self.field.as_deref().map(Into::into),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Issue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = IssueJson::deserialize(deserializer)?;
        let code = IssueCode::from_code(&json.code);
        Ok(Issue {
            code: code.unwrap_or(IssueCode::Unknown),
            message: json.message.into_owned(),
            field: json.field.map(std::borrow::Cow::into_owned),
            unknown_code: code.is_none().then(|| json.code.into()),
        })
    }
}

impl Issue {
    /// An issue not tied to one field.
    pub fn new(code: IssueCode, message: impl Into<String>) -> Self {
        Issue {
            code,
            message: message.into(),
            field: None,
            unknown_code: None,
        }
    }

    /// The code as records write it: [`IssueCode::as_str`], or for an issue read with a code
    /// this version does not know ([`IssueCode::Unknown`]: a record written by a newer version
    /// of mailex), that code as written, which is also what the issue serialises back to.
    ///
    /// ```
    /// use mailex_core::{Issue, IssueCode};
    /// let json = r#"{"code":"from_the_future","message":"m"}"#;
    /// let issue: Issue = serde_json::from_str(json).unwrap();
    /// assert_eq!((issue.code, issue.code_str()), (IssueCode::Unknown, "from_the_future"));
    /// assert_eq!(serde_json::to_string(&issue).unwrap(), json);
    /// ```
    pub fn code_str(&self) -> &str {
        self.unknown_code.as_deref().unwrap_or(self.code.as_str())
    }

    /// An issue about one field.
    pub fn for_field(
        code: IssueCode,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            code,
            message: message.into(),
            field: Some(field.into()),
            unknown_code: None,
        }
    }
}

/// One verdict of an authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// Neither pass nor fail, nor `none` (neutral, softfail, temperror, permerror, gray, ...).
    Other,
    /// The receiver checked and found nothing to check: `dmarc=none` (the From domain
    /// publishes no DMARC policy), `dkim=none` (the mail is not signed), `spf=none` (no SPF
    /// record). Never a pass.
    None,
    /// No verdict was available (the method is absent from the trusted results).
    Missing,
}

/// The authentication verdicts that routing used for this email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuthSummary {
    /// Where the verdicts came from: `header` (a trusted `Authentication-Results`), `ses_receipt`
    /// (the SES receipt of a Lambda event) or `none`.
    pub source: String,
    /// The authserv-id of the header used, when the source is `header`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authserv_id: Option<String>,
    /// SPF verdict.
    pub spf: Verdict,
    /// Best DKIM verdict (pass if any signature passed).
    pub dkim: Verdict,
    /// Domains of passing DKIM signatures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dkim_domains: Vec<String>,
    /// DMARC verdict.
    pub dmarc: Verdict,
    /// The route's policy (`dmarc`, `dkim`, `spf`, `none`) when a route matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Whether the policy was satisfied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
}

impl Default for AuthSummary {
    fn default() -> Self {
        AuthSummary {
            source: "none".to_owned(),
            authserv_id: None,
            spf: Verdict::Missing,
            dkim: Verdict::Missing,
            dkim_domains: Vec::new(),
            dmarc: Verdict::Missing,
            policy: None,
            passed: None,
        }
    }
}

/// The one record produced for every input email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    /// Layout version of this record ([`RECORD_VERSION`]).
    pub record_version: u32,
    /// The stable identity of the input mail, set by hosts that store records (the Lambda host:
    /// SHA-256 hex of `s3://bucket/key`). The same mail always has the same id, whatever its
    /// outcome, so a retry or replay replaces its record and consumers can deduplicate on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What became of the email.
    pub status: Status,
    /// The matched route's advertiser id (`advertiser`, default: the route's name), or null.
    pub advertiser: Option<String>,
    /// The matched route's name, or null (several routes may feed one advertiser). Records
    /// stored before this field existed read back with null.
    #[serde(default)]
    pub route: Option<String>,
    /// The extractor that ran, or null when none ran.
    pub extractor: Option<ExtractorInfo>,
    /// Extracted fields by name.
    pub fields: BTreeMap<String, FieldValue>,
    /// For each field, which alternative of a fallback chain produced it (e.g. `1/3: meta("lead_name")`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provenance: BTreeMap<String, String>,
    /// Names of the fields that hold personal data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Errors: why the record is partial or failed.
    pub errors: Vec<Issue>,
    /// Warnings: the record is usable, but something deserves attention (e.g. `degraded`).
    pub warnings: Vec<Issue>,
    /// The email's Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// Where the email came from: a file path, `-` for stdin, or an S3 key.
    pub source: String,
    /// When the receiving server got the email (RFC 3339, UTC), if known.
    pub received_at: Option<String>,
    /// The sender address (From) the email was routed on. This is the platform's address,
    /// not the lead's.
    pub sender: Option<String>,
    /// The authentication verdicts routing used.
    pub auth: AuthSummary,
    /// Size of the raw input in bytes.
    pub input_bytes: u64,
}

impl Record {
    /// An empty record for `source` with the given status; the engine fills in the rest.
    pub fn new(status: Status, source: impl Into<String>, input_bytes: u64) -> Self {
        Record {
            record_version: RECORD_VERSION,
            id: None,
            status,
            advertiser: None,
            route: None,
            extractor: None,
            fields: BTreeMap::new(),
            provenance: BTreeMap::new(),
            sensitive: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            message_id: None,
            source: source.into(),
            received_at: None,
            sender: None,
            auth: AuthSummary::default(),
            input_bytes,
        }
    }

    /// A `failed` record for `source` with one error.
    pub fn failed(source: impl Into<String>, input_bytes: u64, error: Issue) -> Self {
        let mut record = Record::new(Status::Failed, source, input_bytes);
        record.errors.push(error);
        record
    }

    /// The `failed` record of an input of `input_bytes` bytes over the size limit `limit`: it
    /// was not parsed (and need not have been read whole).
    pub fn too_large(source: impl Into<String>, input_bytes: u64, limit: u64) -> Self {
        Record::failed(
            source,
            input_bytes,
            Issue::new(
                IssueCode::TooLarge,
                format!(
                    "input is {input_bytes} bytes, over the limit of {limit} bytes; it was not parsed"
                ),
            ),
        )
    }

    /// Whether any warning has the `degraded` code (a required field came from a fallback).
    pub fn is_degraded(&self) -> bool {
        self.warnings.iter().any(|w| w.code == IssueCode::Degraded)
    }

    /// Keeps at most [`MAX_ISSUES_PER_CODE`] errors and warnings of each code, in order, and
    /// counts the rest in one `issues_omitted` issue per code, so no input can make a record
    /// of millions of issues. The engine applies it to every record it returns.
    pub fn limit_issues(&mut self) {
        limit_issues(&mut self.errors, "errors");
        limit_issues(&mut self.warnings, "warnings");
    }
}

/// Most issues of one code a record keeps in `errors`, and in `warnings`.
pub const MAX_ISSUES_PER_CODE: usize = 20;

fn limit_issues(issues: &mut Vec<Issue>, kind: &str) {
    if issues.len() <= MAX_ISSUES_PER_CODE {
        return;
    }
    let mut seen: std::collections::HashMap<IssueCode, usize> = std::collections::HashMap::new();
    // Codes over the cap, in order of their first omitted issue.
    let mut over: Vec<IssueCode> = Vec::new();
    issues.retain(|issue| {
        let count = seen.entry(issue.code).or_default();
        *count += 1;
        let count = *count;
        if count == MAX_ISSUES_PER_CODE + 1 {
            over.push(issue.code);
        }
        count <= MAX_ISSUES_PER_CODE
    });
    for code in over {
        let omitted = seen.get(&code).copied().unwrap_or_default() - MAX_ISSUES_PER_CODE;
        issues.push(Issue::new(
            IssueCode::IssuesOmitted,
            format!(
                "{omitted} more `{code}` {kind} were omitted (a record keeps {MAX_ISSUES_PER_CODE} per code)"
            ),
        ));
    }
}

/// The JSON Schema of [`Record`], as written to `docs/record.schema.json`.
pub fn record_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Record)).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record written by a newer version of mailex, with an issue code this version does not
    /// know, still reads (replay never breaks on it), and writes back byte for byte.
    #[test]
    fn records_with_unknown_issue_codes_read_and_write_back() {
        let mut record = Record::new(Status::Partial, "s3://bucket/key", 10);
        record.errors.push(Issue::for_field(
            IssueCode::MissingRequired,
            "email",
            "E201 required field `email` is missing",
        ));
        record.warnings.push(Issue::new(IssueCode::Degraded, "w"));
        let json = serde_json::to_string(&record).unwrap();
        let newer = json.replace("\"degraded\"", "\"from_a_newer_version\"");
        assert_ne!(json, newer);
        let read: Record = serde_json::from_str(&newer).expect("the record reads");
        assert_eq!(read.warnings[0].code, IssueCode::Unknown);
        assert_eq!(read.warnings[0].code_str(), "from_a_newer_version");
        assert_eq!(read.errors[0].code, IssueCode::MissingRequired);
        assert_eq!(read.errors[0].code_str(), "missing_required");
        assert_eq!(serde_json::to_string(&read).unwrap(), newer);
        // Known codes read back to the same record.
        let again: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap(), json);
    }
}
