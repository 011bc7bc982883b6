//! One analytics row per record: what analysts count, never a value that names a person.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mailex_core::pseudonym::PseudonymKey;
use mailex_core::record::ExtractorKind;
use mailex_core::{FieldValue, Record};

use crate::freemail;

/// Version of the analytics schema (docs/analytics.md), stored in every row. Bumped when a
/// column is added or changes meaning or type. Version 2 added `delivery_latency_ms`.
pub const SCHEMA_VERSION: i32 = 2;

/// Field names whose (non-sensitive) text value is kept as it is: place names analysts group
/// by. Anything longer than [`MAX_PLACE_CHARS`] is cut.
const PLACE_FIELDS: [&str; 2] = ["city", "region"];

/// Longest city or region kept, in characters.
const MAX_PLACE_CHARS: usize = 100;

/// What the host knows about a record besides the record itself.
#[derive(Debug, Clone)]
pub struct RowContext {
    /// The record's stable id (the host's record id; never a file name or a value).
    pub record_id: String,
    /// When the record was made.
    pub processed_at: DateTime<Utc>,
    /// Time spent in the extractor, when one ran and the host measured it.
    pub extract_time: Option<Duration>,
    /// Per sink name, the time from the mail's arrival to the sink's acknowledgement, for the
    /// sinks that took the record when the host delivered it; `None` when the host did not
    /// deliver (the CLI, a config without sinks).
    pub delivery_latency: Option<BTreeMap<String, Duration>>,
}

/// One record of the analytics copy. Columns and their meaning: docs/analytics.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsRow {
    /// [`SCHEMA_VERSION`].
    pub schema_version: i32,
    /// The record's stable id.
    pub record_id: String,
    /// When the receiving server got the mail, if the record knows.
    pub received_at: Option<DateTime<Utc>>,
    /// When the record was made.
    pub processed_at: DateTime<Utc>,
    /// `extracted`, `partial`, `unmatched`, `unauthenticated` or `failed`.
    pub status: String,
    /// The route's advertiser id.
    pub advertiser: Option<String>,
    /// The matched route's name (null when none matched, and for records stored before
    /// records carried it).
    pub route: Option<String>,
    /// `builtin`, `rules` or `plugin`.
    pub extractor_kind: Option<String>,
    /// The extractor's name (`builtin:adf`, a rule file path as configured, a plugin's name).
    pub extractor_name: Option<String>,
    /// The extractor's version, if it declares one.
    pub extractor_version: Option<String>,
    /// The rule file's profile that produced the record.
    pub profile: Option<String>,
    /// The codes of the record's errors, in order (repeats kept).
    pub error_codes: Vec<String>,
    /// The codes of the record's warnings, in order (repeats kept).
    pub warning_codes: Vec<String>,
    /// Whether a required field came from a fallback (`degraded` warning).
    pub degraded: bool,
    /// The names of the fields the record has, sorted.
    pub fields_present: Vec<String>,
    /// The id of the key the pseudonyms were made with.
    pub pseudonym_key_id: String,
    /// Pseudonym of every personal-data field, by field name.
    pub pseudonyms: BTreeMap<String, String>,
    /// Pseudonym of the lead's email address (the field `email`, else the first field holding
    /// an email address).
    pub email_pseudonym: Option<String>,
    /// Pseudonym of the lead's phone number (the field `phone`, else the first field holding a
    /// phone number in E.164).
    pub phone_pseudonym: Option<String>,
    /// Pseudonym of the lead's name (the field `name`, else the first person-name field).
    pub name_pseudonym: Option<String>,
    /// `freemail` or `company`, from the email address's domain.
    pub email_domain_class: Option<String>,
    /// The registrable domain of a company address; never a free-mail domain.
    pub email_domain: Option<String>,
    /// The phone number's country calling code (`1`, `44`, ...).
    pub phone_country_code: Option<i32>,
    /// The `city` field, when it is not personal data.
    pub city: Option<String>,
    /// The `region` field, when it is not personal data.
    pub region: Option<String>,
    /// Length in characters of every text field, by field name (free text is kept as this
    /// length only).
    pub text_lengths: BTreeMap<String, i64>,
    /// Time spent in the extractor, in microseconds.
    pub extract_micros: Option<i64>,
    /// Per sink name, milliseconds from the mail's arrival to the sink's acknowledgement;
    /// `None` when the host did not deliver.
    pub delivery_latency_ms: Option<BTreeMap<String, i64>>,
    /// Size of the raw mail in bytes.
    pub input_bytes: i64,
}

impl AnalyticsRow {
    /// The row of `record`, with pseudonyms under `key`.
    pub fn from_record(record: &Record, context: &RowContext, key: &PseudonymKey) -> Self {
        let extractor = record.extractor.as_ref();
        let personal: Vec<(&String, &FieldValue)> = record
            .fields
            .iter()
            .filter(|(name, value)| is_personal(record, name, value))
            .collect();
        let pseudonyms = personal
            .iter()
            .map(|(name, value)| ((*name).clone(), key.pseudonym(value)))
            .collect();
        let email = pick(&personal, "email", |v| as_text(v).is_some_and(is_email));
        let phone = pick(&personal, "phone", |v| as_text(v).is_some_and(is_e164));
        let name = pick(&personal, "name", |v| matches!(v, FieldValue::Name(_)));
        let email_domain = email
            .and_then(as_text)
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, domain)| domain);
        let freemail = email_domain.map(freemail::is_freemail);
        let place = |field: &str| {
            record
                .fields
                .get(field)
                .filter(|v| !is_personal(record, field, v))
                .and_then(as_text)
                .map(|s| s.chars().take(MAX_PLACE_CHARS).collect::<String>())
        };
        AnalyticsRow {
            schema_version: SCHEMA_VERSION,
            record_id: context.record_id.clone(),
            received_at: record
                .received_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            processed_at: context.processed_at,
            status: record.status.as_str().to_owned(),
            advertiser: record.advertiser.clone(),
            route: record.route.clone(),
            extractor_kind: extractor.map(|e| kind_name(e.kind).to_owned()),
            extractor_name: extractor.map(|e| e.name.clone()),
            extractor_version: extractor.and_then(|e| e.version.clone()),
            profile: extractor.and_then(|e| e.profile.clone()),
            error_codes: record
                .errors
                .iter()
                .map(|i| i.code_str().to_owned())
                .collect(),
            warning_codes: record
                .warnings
                .iter()
                .map(|i| i.code_str().to_owned())
                .collect(),
            degraded: record.is_degraded(),
            fields_present: record.fields.keys().cloned().collect(),
            pseudonym_key_id: key.id().to_owned(),
            pseudonyms,
            email_pseudonym: email.map(|v| key.pseudonym(v)),
            phone_pseudonym: phone.map(|v| key.pseudonym(v)),
            name_pseudonym: name.map(|v| key.pseudonym(v)),
            email_domain_class: freemail
                .map(|free| if free { "freemail" } else { "company" }.to_owned()),
            email_domain: email_domain
                .filter(|_| freemail == Some(false))
                .map(freemail::registrable_domain),
            phone_country_code: phone.and_then(as_text).and_then(calling_code),
            city: place(PLACE_FIELDS[0]),
            region: place(PLACE_FIELDS[1]),
            text_lengths: record
                .fields
                .iter()
                .filter_map(|(name, value)| {
                    let text = as_text(value)?;
                    Some((name.clone(), text.chars().count() as i64))
                })
                .collect(),
            extract_micros: context
                .extract_time
                .map(|t| i64::try_from(t.as_micros()).unwrap_or(i64::MAX)),
            delivery_latency_ms: context.delivery_latency.as_ref().map(|by_sink| {
                by_sink
                    .iter()
                    .map(|(sink, t)| {
                        (
                            sink.clone(),
                            i64::try_from(t.as_millis()).unwrap_or(i64::MAX),
                        )
                    })
                    .collect()
            }),
            input_bytes: i64::try_from(record.input_bytes).unwrap_or(i64::MAX),
        }
    }

    /// The day partition of the row (`YYYY-MM-DD`, UTC): of `received_at`, else of
    /// `processed_at`.
    pub fn dt(&self) -> String {
        self.received_at
            .unwrap_or(self.processed_at)
            .format("%Y-%m-%d")
            .to_string()
    }
}

/// Whether a field holds personal data: the record lists it as sensitive (every `email`,
/// `phone` and `person_name` field of every extractor, and the fields marked `sensitive`), or,
/// whatever the extractor said, its value is a person's name, looks like an email address or a
/// phone number in E.164, or is a list holding one.
fn is_personal(record: &Record, name: &str, value: &FieldValue) -> bool {
    record.sensitive.iter().any(|s| s == name) || looks_personal(value)
}

fn looks_personal(value: &FieldValue) -> bool {
    match value {
        FieldValue::Name(_) => true,
        FieldValue::Text(text) => text.contains('@') || is_e164(text),
        FieldValue::List(items) => items.iter().any(looks_personal),
        FieldValue::Bool(_) | FieldValue::Int(_) | FieldValue::Money(_) => false,
    }
}

/// The value of the personal field called `preferred`, else the first personal field whose value
/// passes `is_kind`.
fn pick<'a>(
    personal: &[(&String, &'a FieldValue)],
    preferred: &str,
    is_kind: impl Fn(&FieldValue) -> bool,
) -> Option<&'a FieldValue> {
    personal
        .iter()
        .find(|(name, value)| name.as_str() == preferred && is_kind(value))
        .or_else(|| personal.iter().find(|(_, value)| is_kind(value)))
        .map(|(_, value)| *value)
}

fn as_text(value: &FieldValue) -> Option<&str> {
    match value {
        FieldValue::Text(text) => Some(text),
        _ => None,
    }
}

/// An address `local@domain.tld` as the email normaliser writes it.
fn is_email(text: &str) -> bool {
    text.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
    })
}

/// A number in E.164 as the phone normaliser writes it: `+` and 7 to 17 digits.
fn is_e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (7..=17).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The country calling code of an E.164 number, from libphonenumber's metadata.
fn calling_code(e164: &str) -> Option<i32> {
    use rlibphonenumber::PHONE_NUMBER_UTIL;
    // A panic inside the parser on an odd input must never escape to the caller.
    std::panic::catch_unwind(|| PHONE_NUMBER_UTIL.parse(e164, None))
        .ok()?
        .ok()
        .map(|number| number.country_code)
        .filter(|&code| code > 0)
}

fn kind_name(kind: ExtractorKind) -> &'static str {
    match kind {
        ExtractorKind::Builtin => "builtin",
        ExtractorKind::Rules => "rules",
        ExtractorKind::Plugin => "plugin",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mailex_core::record::{ExtractorInfo, PersonName};
    use mailex_core::{Issue, IssueCode, Status};

    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::new("k1", b"secret".to_vec()).unwrap()
    }

    fn context() -> RowContext {
        RowContext {
            record_id: "id-1".into(),
            processed_at: Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap(),
            extract_time: Some(Duration::from_micros(1234)),
            delivery_latency: Some(BTreeMap::from([(
                "crm".to_owned(),
                Duration::from_millis(2500),
            )])),
        }
    }

    fn lead() -> Record {
        let mut record = Record::new(Status::Extracted, "lead.eml", 4096);
        record.advertiser = Some("harbor-homes".into());
        record.received_at = Some("2026-11-29T10:00:00Z".into());
        record.extractor = Some(ExtractorInfo {
            kind: ExtractorKind::Rules,
            name: "rules/zillow.rules".into(),
            version: Some("3".into()),
            hash: None,
            profile: Some("desktop".into()),
        });
        let text = |s: &str| FieldValue::Text(s.into());
        record
            .fields
            .insert("email".into(), text("jane.doe@gmail.com"));
        record
            .fields
            .insert("work_email".into(), text("jd@mail.acme.co.uk"));
        record.fields.insert("phone".into(), text("+442079460000"));
        record.fields.insert(
            "name".into(),
            FieldValue::Name(PersonName {
                full: "Jane Doe".into(),
                first: Some("Jane".into()),
                last: Some("Doe".into()),
            }),
        );
        record
            .fields
            .insert("message".into(), text("Call me at noon"));
        record.fields.insert("city".into(), text("Springfield"));
        record.fields.insert("rent".into(), FieldValue::Int(1200));
        // `work_email` is not listed: it is recognised by its value.
        record.sensitive = vec![
            "email".into(),
            "phone".into(),
            "name".into(),
            "message".into(),
        ];
        record
            .warnings
            .push(Issue::new(IssueCode::Degraded, "a fallback was used"));
        record
    }

    #[test]
    fn a_lead_becomes_a_row_without_personal_data() {
        let row = AnalyticsRow::from_record(&lead(), &context(), &key());
        assert_eq!(row.status, "extracted");
        assert_eq!(row.dt(), "2026-11-29");
        assert_eq!(row.extractor_kind.as_deref(), Some("rules"));
        assert_eq!(row.profile.as_deref(), Some("desktop"));
        assert!(row.degraded);
        assert_eq!(row.warning_codes, ["degraded"]);
        assert_eq!(
            row.pseudonyms.keys().collect::<Vec<_>>(),
            ["email", "message", "name", "phone", "work_email"]
        );
        let lead = lead();
        assert_eq!(
            row.email_pseudonym,
            Some(key().pseudonym(&lead.fields["email"]))
        );
        assert_eq!(
            row.name_pseudonym,
            Some(key().pseudonym(&lead.fields["name"]))
        );
        assert_eq!(row.email_domain_class.as_deref(), Some("freemail"));
        assert_eq!(row.email_domain, None);
        assert_eq!(row.phone_country_code, Some(44));
        assert_eq!(row.city.as_deref(), Some("Springfield"));
        assert_eq!(row.text_lengths["message"], 15);
        assert_eq!(row.extract_micros, Some(1234));
        assert_eq!(
            row.delivery_latency_ms,
            Some(BTreeMap::from([("crm".to_owned(), 2500)]))
        );
        assert_eq!(row.input_bytes, 4096);
        let debug = format!("{row:?}");
        for value in ["jane", "Jane", "gmail", "acme", "2079460000", "noon"] {
            assert!(!debug.contains(value), "{value} leaked");
        }
    }

    #[test]
    fn a_company_domain_is_kept() {
        let mut record = lead();
        record.fields.remove("email");
        let row = AnalyticsRow::from_record(&record, &context(), &key());
        assert_eq!(row.email_domain_class.as_deref(), Some("company"));
        assert_eq!(row.email_domain.as_deref(), Some("acme.co.uk"));
    }

    #[test]
    fn a_sensitive_city_is_not_kept_and_no_time_falls_back() {
        let mut record = lead();
        record.sensitive.push("city".into());
        record.received_at = None;
        let row = AnalyticsRow::from_record(&record, &context(), &key());
        assert_eq!(row.city, None);
        assert!(row.pseudonyms.contains_key("city"));
        assert_eq!(row.dt(), "2026-11-30");
    }
}
