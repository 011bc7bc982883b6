//! [`IssueCode`]: the stable codes of record errors and warnings.
//!
//! Every code a record can carry is a variant here, with its string, its kind, who writes it
//! and what it means; the table of codes in `docs/record.md` is generated from this list (a
//! test in `tests/` compares them). A code is never reused for another meaning.
//!
//! Plugins cannot invent codes: the WIT contract's `extract-error` has four cases, which the
//! plugin host records as `plugin_not_applicable`, `plugin_invalid_input`, `plugin_config` and
//! `plugin_error`, and every other plugin failure has its own `plugin_*` code here.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares [`IssueCode`]: per variant its code string, kind, writers and meaning (which is
/// also the variant's documentation).
macro_rules! issue_codes {
    ($($variant:ident = $code:literal, $kind:literal, $by:literal, $meaning:literal;)+) => {
        /// The stable code of a record error or warning (`Issue::code`).
        ///
        /// It serialises as its string ([`IssueCode::as_str`]), e.g. `"too_large"`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum IssueCode {
            $(
                #[doc = $meaning]
                #[doc = ""]
                #[doc = concat!("Code `", $code, "`: ", $kind, ", written by ", $by, ".")]
                $variant,
            )+
            /// A code this version of mailex does not know: read from a record written by a
            /// newer version (records are read back by replay). It is in no table and no
            /// record of this version carries it; on its own it serialises as `unknown`, and an
            /// [`Issue`](crate::Issue) read with it keeps the code as written
            /// ([`Issue::code_str`](crate::Issue::code_str)).
            Unknown,
        }

        impl IssueCode {
            /// Every code, in the order of the table in `docs/record.md` (not
            /// [`IssueCode::Unknown`]).
            pub const ALL: &'static [IssueCode] = &[$(IssueCode::$variant),+];

            /// The code as records write it, e.g. `"missing_required"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(IssueCode::$variant => $code,)+
                    IssueCode::Unknown => "unknown",
                }
            }

            /// What the code means, in one line (the meaning column of `docs/record.md`).
            pub fn description(self) -> &'static str {
                match self {
                    $(IssueCode::$variant => $meaning,)+
                    IssueCode::Unknown => "a code this version of mailex does not know (written by a newer version)",
                }
            }

            /// Whether records carry it as an `error`, a `warning`, or either (the kind
            /// column of `docs/record.md`).
            pub fn kind(self) -> &'static str {
                match self {
                    $(IssueCode::$variant => $kind,)+
                    IssueCode::Unknown => "error, warning",
                }
            }

            /// Which part of mailex writes it (the written-by column of `docs/record.md`).
            pub fn written_by(self) -> &'static str {
                match self {
                    $(IssueCode::$variant => $by,)+
                    IssueCode::Unknown => "a newer version of mailex",
                }
            }
        }
    };
}

issue_codes! {
    TooLarge = "too_large", "error", "engine, Lambda host",
        "the input is over `settings.max_input_bytes`; it was not parsed (the Lambda host does not even read it); the message gives its real size";
    ParseError = "parse_error", "error", "engine",
        "the input is not an email message: it does not start with a header field (`Name: value`, after blank lines, a byte-order mark or an mbox `From ` line), or no header could be parsed";
    TooDeep = "too_deep", "error", "engine",
        "multiparts and nested messages nest deeper than 50 levels; the email was not parsed";
    TooManyParts = "too_many_parts", "error", "engine",
        "more MIME parts than `settings.max_mime_parts` (default 1000); the email was not parsed";
    TooManyHeaders = "too_many_headers", "error", "engine",
        "more header fields than `settings.max_headers` (default 10 000, every part counted); the email was not parsed";
    HeadersTooLarge = "headers_too_large", "error", "engine",
        "the header fields take more than `settings.max_header_bytes` (default 1 MiB) together; the email was not parsed";
    TooManyAddresses = "too_many_addresses", "error", "engine",
        "the address headers hold more than `settings.max_addresses` addresses (default 1000); the email was not parsed";
    IoError = "io_error", "error", "CLI",
        "the input could not be read (an I/O error, or a directory that cannot be listed)";
    NotFound = "not_found", "error", "CLI",
        "the input path does not exist";
    NotAFile = "not_a_file", "error", "CLI",
        "the input is a FIFO, socket, device or other special file; it was not opened for reading";
    InternalPanic = "internal_panic", "error", "engine",
        "mailex itself panicked on this input (a bug: please report it)";
    ExtractorPanic = "extractor_panic", "error", "engine",
        "the extractor panicked";
    Unauthenticated = "unauthenticated", "error", "engine",
        "the route's authentication policy was not met; says which verdicts were missing (see [security.md](security.md#authentication-decisions))";
    AmbiguousFrom = "ambiguous_from", "error, warning", "engine",
        "the From header is not one cleanly written mailbox (several From headers or mailboxes, group syntax, an unclosed `<`, ...), so the mail is never authenticated: an error (status `unauthenticated`) when the route requires authentication, a warning otherwise";
    AuthResultsIgnored = "auth_results_ignored", "warning", "engine",
        "`Authentication-Results` headers with a trusted authserv-id were found outside the receiver's header block (likely forged), or at the top of the mail with no `Received:` of a trusted receiver above them (the mail did not come through the receiver, or `trusted_receivers` does not name it; the message says which), and ignored";
    AuthResultsInvalid = "auth_results_invalid", "warning", "engine",
        "the receiver's own `Authentication-Results` does not parse (or repeats a method): none of its verdicts count, and no other header takes its place";
    AuthBlockMalformed = "auth_block_malformed", "warning", "engine",
        "a header field in the receiver's block is malformed (no colon, not UTF-8, a control character): nothing below it is trusted";
    UnknownCharset = "unknown_charset", "warning", "engine",
        "a body part or header declares a charset mailex does not know or cannot decode; a body was decoded by the detector's guess (named in the message), a header was read as UTF-8";
    CharsetGuessed = "charset_guessed", "warning", "engine",
        "a body part declares no usable charset (none, or `us-ascii` with ISO-2022-JP escapes, or none and not valid UTF-8); it was decoded by what its bytes show (named in the message)";
    CharsetDecodeErrors = "charset_decode_errors", "warning", "engine",
        "bytes of a body part or header are not valid in their charset (or a header holds raw ISO-2022-JP escapes outside encoded words); they were replaced by U+FFFD or left undecoded";
    HtmlNestingTrimmed = "html_nesting_trimmed", "warning", "engine",
        "the HTML nests elements deeper than 128 levels; deeper elements were ignored when building the document for CSS selectors";
    HtmlElementsTrimmed = "html_elements_trimmed", "warning", "engine",
        "the HTML has more than 100 000 elements; the document for CSS selectors holds the first 100 000";
    HtmlAttributesTrimmed = "html_attributes_trimmed", "warning", "engine",
        "an HTML start tag has more than 256 attributes or more than 1 MiB; it lost its attributes in the document for CSS selectors";
    MetaTagsOmitted = "meta_tags_omitted", "warning", "engine",
        "the HTML has more than 1000 meta tags; the rest were ignored";
    IssuesOmitted = "issues_omitted", "error or warning", "engine",
        "more than 20 errors (or warnings) with one code; the rest were counted in this one (it names the code and the count)";
    MissingRequired = "missing_required", "error", "built-ins, rules",
        "a required field was not found (status `partial`)";
    InvalidValue = "invalid_value", "error", "built-ins, plugin host",
        "a value was found (or a plugin returned one) but failed its type's normaliser; the field is left out";
    NormalizeFailed = "normalize_failed", "warning", "rules",
        "a value was found but failed its type's normaliser; the next alternative was tried";
    Degraded = "degraded", "warning", "rules",
        "a required field came from a fallback alternative, not the first: the layout may have changed";
    NoProfileMatched = "no_profile_matched", "error", "rules",
        "no profile of the rule file matched the email (status `failed`): the sender may have changed its layout";
    ValueTruncated = "value_truncated", "warning", "rules",
        "an intermediate value exceeded the size cap and was cut";
    BudgetTime = "budget_time", "error", "rules",
        "the rule file ran past its route's deadline (`limits.deadline_ms`) and was stopped (status `failed`); the message names the field being evaluated";
    BudgetMemory = "budget_memory", "error", "rules",
        "the rule file needed more memory than its route's cap (`limits.memory_mib`: the HTML document, values) and was stopped (status `failed`)";
    AdfNotFound = "adf_not_found", "error", "`builtin:adf`",
        "no ADF/XML document in the attachments or the body";
    AdfMultipleProspects = "adf_multiple_prospects", "warning", "`builtin:adf`",
        "the ADF document holds several prospects; the first was used";
    AdfLeadingGarbage = "adf_leading_garbage", "warning", "`builtin:adf`",
        "bytes before the ADF root element (other than an XML declaration) were ignored; the message counts them";
    AdfHtmlWrapped = "adf_html_wrapped", "warning", "`builtin:adf`",
        "the ADF document sits inside HTML; the markup before its root was ignored";
    AdfEntityEscaped = "adf_entity_escaped", "warning", "`builtin:adf`",
        "the ADF document is entity-escaped inside other markup (`&lt;adf&gt;`); it was unescaped and parsed";
    AdfNoAdfRoot = "adf_no_adf_root", "warning", "`builtin:adf`",
        "the document has no `<adf>` root element; it was parsed from its `<prospect>`";
    AdfUnclosedElement = "adf_unclosed_element", "warning", "`builtin:adf`",
        "elements of the ADF document were left open (before an end tag of an outer element, or at the end of the input); they were closed there";
    AdfMismatchedEnd = "adf_mismatched_end", "warning", "`builtin:adf`",
        "an end tag of the ADF document has no start tag; it was ignored";
    AdfXmlError = "adf_xml_error", "warning", "`builtin:adf`",
        "the ADF document is malformed XML from a byte on (named in the message); the rest was ignored";
    AdfTooDeep = "adf_too_deep", "warning", "`builtin:adf`",
        "ADF elements nest deeper than 64 levels; the deeper ones were flattened";
    AdfTooManyElements = "adf_too_many_elements", "warning", "`builtin:adf`",
        "the ADF document has more than 20 000 elements; the rest were dropped";
    AdfLatin1 = "adf_latin1", "warning", "`builtin:adf`",
        "the ADF document is not valid UTF-8; it was read as Latin-1";
    LeadMetaNotFound = "lead_meta_not_found", "error", "`builtin:lead-meta`",
        "no `lead_*` meta tag with a plain field name in the HTML";
    DuplicateMeta = "duplicate_meta", "warning", "`builtin:lead-meta`",
        "a `lead_*` meta tag appears more than once; the first was used";
    OddMetaNames = "odd_meta_names", "warning", "`builtin:lead-meta`",
        "`lead_*` meta tags whose names are not plain field names (they could carry the lead's data) were ignored; the warning counts them without quoting them";
    TooManyFields = "too_many_fields", "warning", "`builtin:lead-meta`",
        "more `lead_*` tags than the cap; the rest were ignored";
    PluginError = "plugin_error", "error", "plugin host",
        "the plugin returned an error of its own (its message redacted)";
    PluginNotApplicable = "plugin_not_applicable", "error", "plugin host",
        "the plugin says this email is not one it handles";
    PluginInvalidInput = "plugin_invalid_input", "error", "plugin host",
        "the plugin says the email's content is invalid";
    PluginConfig = "plugin_config", "error", "plugin host",
        "the plugin rejected the route's settings";
    PluginDeadline = "plugin_deadline", "error", "plugin host",
        "the call ran past its deadline (`limits.deadline_ms`), in the plugin's code or in a host call (named)";
    PluginMemory = "plugin_memory", "error", "plugin host",
        "the call hit its memory cap (`limits.memory_mib`): the plugin's memory together with what the host holds for it (named host call, if one)";
    PluginStackOverflow = "plugin_stack_overflow", "error", "plugin host",
        "the plugin overflowed its stack";
    PluginPanic = "plugin_panic", "error", "plugin host",
        "the plugin panicked (its message as reported by the SDK's panic hook, redacted)";
    PluginOutputLimit = "plugin_output_limit", "error", "plugin host",
        "the plugin's output exceeded `limits.max_output_bytes`";
    PluginLogFlood = "plugin_log_flood", "error", "plugin host",
        "the plugin logged far past `limits.max_log_lines`";
    PluginTrap = "plugin_trap", "error", "plugin host",
        "the plugin trapped (e.g. an out-of-bounds access)";
    PluginInstantiate = "plugin_instantiate", "error", "plugin host",
        "the plugin could not be instantiated (calls beyond the instance pool wait for a slot; this is wasmtime refusing the instance)";
    PluginNoFields = "plugin_no_fields", "error", "plugin host",
        "the plugin returned no fields (status `partial`)";
    PluginLogTruncated = "plugin_log_truncated", "warning", "plugin host",
        "log lines past `limits.max_log_lines` were dropped";
    Virus = "virus", "error", "engine, Lambda host",
        "SES's virus verdict is FAIL (the receipt's, or `X-SES-Virus-Verdict` in the receiver's header block); the mail was not parsed or extracted";
    Crash = "crash", "error", "Lambda host",
        "the engine could not run on this message (a bug: please report it)";
    SourceMissing = "source_missing", "error", "Lambda host",
        "the stored mail does not exist (deleted before it was processed); not retried";
    SourceAccessDenied = "source_access_denied", "error", "Lambda host",
        "S3 denied reading the stored mail (without `s3:ListBucket`, also what a missing key looks like); not retried: replay the mail once access is fixed";
    SourceArchived = "source_archived", "error", "Lambda host",
        "the stored mail is archived (Glacier); not retried: restore it, then replay";
    BadEvent = "bad_event", "error", "Lambda host",
        "the notification (an SQS message or a whole event) could not be decoded, so it names no mail; not retried";
}

impl IssueCode {
    /// The code written as `code`, if there is one.
    pub fn from_code(code: &str) -> Option<IssueCode> {
        IssueCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// The rule language's runtime diagnostic (`E2xx`) whose code this is, for the issues
    /// the rule evaluator writes: their message starts with the diagnostic's number.
    pub fn rule_diagnostic(self) -> Option<mailex_grammar::Code> {
        use mailex_grammar::codes;
        Some(match self {
            IssueCode::MissingRequired => codes::MISSING_REQUIRED,
            IssueCode::NormalizeFailed => codes::NORMALIZE_FAILED,
            IssueCode::Degraded => codes::DEGRADED,
            IssueCode::NoProfileMatched => codes::NO_PROFILE_MATCHED,
            IssueCode::ValueTruncated => codes::VALUE_TRUNCATED,
            _ => return None,
        })
    }
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for IssueCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for IssueCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<IssueCode> for &str {
    fn eq(&self, other: &IssueCode) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for IssueCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A code this version does not know reads as [`IssueCode::Unknown`], so records written by a
/// newer version still read (replay); an [`Issue`](crate::Issue) keeps such a code as written.
impl<'de> Deserialize<'de> for IssueCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(IssueCode::from_code(&code).unwrap_or(IssueCode::Unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::IssueCode;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in IssueCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "`{s}` twice");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "`{s}` is not snake_case"
            );
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<IssueCode>(&json).unwrap(), code);
            assert_eq!(code.to_string(), s);
            assert!(!code.description().is_empty());
        }
        assert_eq!(
            serde_json::from_str::<IssueCode>("\"no_such_code\"").unwrap(),
            IssueCode::Unknown
        );
        assert!(!IssueCode::ALL.contains(&IssueCode::Unknown));
        assert_eq!(IssueCode::from_code("unknown"), None);
    }

    /// Every runtime diagnostic of the rule language (`E2xx`) is the rule diagnostic of the
    /// code of the same name, and of no other.
    #[test]
    fn rule_runtime_diagnostics_have_their_issue_code() {
        for code in mailex_grammar::codes::ALL
            .iter()
            .filter(|c| c.number() >= 200)
        {
            let name = code.name().replace('-', "_");
            let issue = IssueCode::from_code(&name)
                .unwrap_or_else(|| panic!("{code} `{name}` has no IssueCode"));
            assert_eq!(
                issue.rule_diagnostic().map(|c| c.number()),
                Some(code.number())
            );
        }
        let mapped = IssueCode::ALL
            .iter()
            .filter(|c| c.rule_diagnostic().is_some())
            .count();
        let runtime = mailex_grammar::codes::ALL
            .iter()
            .filter(|c| c.number() >= 200)
            .count();
        assert_eq!(mapped, runtime);
    }
}
