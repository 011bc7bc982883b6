//! `builtin:lead-meta`: real-estate lead metadata in `<meta name="lead_*" content="...">` tags.
//!
//! Every meta tag whose name starts with `lead_` (any case) becomes a field named without the
//! prefix, lower-cased, with `-` replaced by `_` (`lead_Move-In` -> `move_in`). Tags are found
//! anywhere in the HTML, body included. The first tag of a name wins; empty contents are
//! ignored.
//!
//! Only plain names become fields: after `lead_`, at most 40 characters in at most 5 words of
//! ASCII letters and digits joined by single `_` or `-`, starting with a letter. Any other name
//! (`lead_jane.doe@example.com`, `lead_Jane Doe`) could carry the lead's data into a field
//! name or a warning, so such tags are ignored and counted in one `odd_meta_names` warning
//! that does not quote them.
//!
//! Known names are typed:
//!
//! | names | type |
//! |---|---|
//! | `email`, `email_address` | email |
//! | `phone`, `phone_number`, `mobile`, `cell`, `telephone` | phone (E.164, `phone_region` setting) |
//! | `name`, `full_name` | person_name (built from `first_name` + `last_name` when absent) |
//! | `url`, `link`, `listing_url`, `property_url` | url |
//! | `move_in`, `move_in_date`, `date` | date (`date_order` setting) |
//! | `created`, `created_at`, `submitted_at`, `timestamp` | datetime (UTC, or local without offset when no zone is given), or date when the value has no time of day |
//! | `price`, `rent`, `budget`, `max_rent` | money (`currency` setting) |
//! | `beds`, `bedrooms` | int |
//! | `baths`, `bathrooms` | decimal |
//!
//! Everything else is text with whitespace collapsed. Each type is normalised as a rule file's
//! field of that type is. Required: `email` or `phone`.

use crate::extractor::{Completeness, ExtractContext, Extraction, Extractor};
use crate::message::Email;
use crate::normalize::{self, FieldType, NormalizeError};
use crate::record::{ExtractorInfo, FieldValue, Issue, IssueCode};

use super::{Options, date_or_datetime};

/// Longest field name accepted (after `lead_`).
const MAX_NAME: usize = 40;
/// Most words (joined by `_` or `-`) in a field name.
const MAX_WORDS: usize = 5;
/// Most `lead_*` fields kept.
const MAX_FIELDS: usize = 200;

/// The `builtin:lead-meta` extractor.
#[derive(Debug, Clone)]
pub struct LeadMetaExtractor {
    info: ExtractorInfo,
}

impl LeadMetaExtractor {
    /// Creates the extractor.
    pub fn new() -> Self {
        LeadMetaExtractor {
            info: super::info("lead-meta"),
        }
    }
}

impl Default for LeadMetaExtractor {
    fn default() -> Self {
        Self::new()
    }
}

/// The type a known field name is normalised to.
enum Kind {
    Email,
    Phone,
    Name,
    Url,
    Date,
    DateTime,
    Money,
    Int,
    Decimal,
    Text,
}

fn kind(field: &str) -> Kind {
    match field {
        "email" | "email_address" => Kind::Email,
        "phone" | "phone_number" | "mobile" | "cell" | "telephone" => Kind::Phone,
        "name" | "full_name" => Kind::Name,
        "url" | "link" | "listing_url" | "property_url" => Kind::Url,
        "move_in" | "move_in_date" | "date" => Kind::Date,
        "created" | "created_at" | "submitted_at" | "timestamp" => Kind::DateTime,
        "price" | "rent" | "budget" | "max_rent" => Kind::Money,
        "beds" | "bedrooms" => Kind::Int,
        "baths" | "bathrooms" => Kind::Decimal,
        _ => Kind::Text,
    }
}

/// Whether a field name denotes personal data.
fn is_sensitive(field: &str) -> bool {
    [
        "name", "email", "phone", "mobile", "cell", "address", "message", "comment", "note",
    ]
    .iter()
    .any(|p| field.contains(p))
}

/// The field a meta tag stands for: `None` when it is not a `lead_*` tag, `Some(None)` when its
/// name is not a plain field name (see the module documentation), else the field name.
fn field_name(meta_name: &str) -> Option<Option<String>> {
    let rest = meta_name
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("lead_"))
        .map(|_| &meta_name[5..])?;
    let plain = rest.len() <= MAX_NAME
        && rest.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.split(['_', '-']).count() <= MAX_WORDS
        && rest
            .split(['_', '-'])
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric()));
    Some(plain.then(|| rest.to_ascii_lowercase().replace('-', "_")))
}

/// Normalises a tag's content by its kind, through the one mapping from type to normaliser
/// ([`FieldType::normalize`]) that rule files and plugins use. Text is read with its runs of
/// whitespace collapsed first (as a rule file's `meta("lead_x").collapse` reads it): an
/// attribute value carries the HTML source's line wrapping and indentation, not the text's.
fn normalise(kind: &Kind, raw: &str, opts: &Options) -> Result<FieldValue, NormalizeError> {
    let field_type = match kind {
        Kind::Email => FieldType::Email,
        Kind::Phone => FieldType::Phone {
            region: opts.region.clone(),
        },
        Kind::Name => FieldType::PersonName,
        Kind::Url => FieldType::Url,
        Kind::Date => FieldType::Date { order: opts.order },
        Kind::DateTime => return date_or_datetime(raw, opts.order),
        Kind::Money => FieldType::Money {
            currency: Some(opts.currency.clone()),
            currency_from: None,
        },
        Kind::Int => FieldType::Int,
        Kind::Decimal => FieldType::Decimal,
        Kind::Text => return FieldType::Text.normalize(&normalize::collapse_ws(raw)),
    };
    field_type.normalize(raw)
}

/// The one warning that counts the `lead_*` tags with names that are not plain field names,
/// without quoting them.
fn odd_names_warning(count: usize) -> Option<Issue> {
    (count > 0).then(|| {
        Issue::new(
            IssueCode::OddMetaNames,
            format!(
                "{count} lead_* meta tags have names that are not plain field names (letters and \
                 digits in at most {MAX_WORDS} words joined by _ or -, at most {MAX_NAME} \
                 characters); they were ignored"
            ),
        )
    })
}

impl Extractor for LeadMetaExtractor {
    fn info(&self) -> &ExtractorInfo {
        &self.info
    }

    fn extract(&self, email: &Email<'_>, ctx: &ExtractContext<'_>) -> Extraction {
        let opts = Options::from_ctx(ctx);
        let mut odd_names = 0usize;
        let lead_tags: Vec<(String, &str)> = email
            .meta_tags()
            .iter()
            .filter_map(|(n, c)| match field_name(n)? {
                Some(field) => Some((field, c.as_str())),
                None => {
                    odd_names += 1;
                    None
                }
            })
            .collect();
        if lead_tags.is_empty() {
            let mut ex = Extraction::failed(Issue::new(
                IssueCode::LeadMetaNotFound,
                "the email has no <meta name=\"lead_*\"> tags with a plain field name (or no HTML body)",
            ));
            ex.warnings.extend(odd_names_warning(odd_names));
            return ex;
        }
        let mut ex = Extraction::new();
        let mut skipped = 0usize;
        for (field, content) in lead_tags {
            if content.trim().is_empty() {
                continue;
            }
            if ex.fields.contains_key(&field)
                || ex.errors.iter().any(|e| e.field.as_deref() == Some(&field))
            {
                ex.warnings.push(Issue::for_field(
                    IssueCode::DuplicateMeta,
                    field.clone(),
                    format!("more than one lead_{field} meta tag; the first was used"),
                ));
                continue;
            }
            if ex.fields.len() >= MAX_FIELDS {
                skipped += 1;
                continue;
            }
            match normalise(&kind(&field), content, &opts) {
                Ok(v) => {
                    ex.provenance
                        .insert(field.clone(), format!("meta(\"lead_{field}\")"));
                    ex.fields.insert(field, v);
                }
                Err(e) => ex.errors.push(Issue::for_field(
                    IssueCode::InvalidValue,
                    field.clone(),
                    format!("field `{field}`: {e}"),
                )),
            }
        }
        ex.warnings.extend(odd_names_warning(odd_names));
        if skipped > 0 {
            ex.warnings.push(Issue::new(
                IssueCode::TooManyFields,
                format!("{skipped} lead_* meta tags beyond the first {MAX_FIELDS} were ignored"),
            ));
        }
        // A name from its parts when no full name was given.
        if !ex.fields.contains_key("name")
            && !ex.errors.iter().any(|e| e.field.as_deref() == Some("name"))
        {
            let part = |k: &str| match ex.fields.get(k) {
                Some(FieldValue::Text(t)) => Some(t.clone()),
                _ => None,
            };
            let (first, last) = (part("first_name"), part("last_name"));
            if (first.is_some() || last.is_some())
                && let Ok(n) = normalize::person_name_from_parts(first.as_deref(), last.as_deref())
            {
                ex.fields.insert("name".into(), FieldValue::Name(n));
                ex.provenance.insert(
                    "name".into(),
                    "meta(\"lead_first_name\") + meta(\"lead_last_name\")".into(),
                );
            }
        }
        if !ex.fields.contains_key("email") && !ex.fields.contains_key("phone") {
            ex.completeness = Completeness::Partial;
            ex.errors.push(Issue::for_field(
                IssueCode::MissingRequired,
                "email",
                "neither lead_email nor lead_phone is present and valid",
            ));
        }
        ex.sensitive = ex
            .fields
            .keys()
            .filter(|k| is_sensitive(k))
            .cloned()
            .collect();
        ex
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run(html: &str) -> Extraction {
        let raw = format!(
            "From: leads@example.net\r\nSubject: New lead\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        );
        let email = Email::parse(raw.as_bytes()).expect("test email parses");
        let settings = BTreeMap::new();
        let ctx = ExtractContext {
            route: "test",
            settings: &settings,
        };
        LeadMetaExtractor::new().extract(&email, &ctx)
    }

    fn field(ex: &Extraction, name: &str) -> Option<String> {
        ex.fields.get(name).map(FieldValue::to_display_string)
    }

    #[test]
    fn typed_fields() {
        let ex = run(
            "<html><head><meta name=\"lead_email\" content=\" Jane.Doe@Example.COM \">\
             <meta name=\"LEAD_Phone\" content=\"(202) 555-0143\"></head><body><p>New lead</p>\
             <meta name=\"lead_first_name\" content=\"Jane\"><meta name=\"lead_last_name\" content=\"Doe\">\
             <meta name=\"lead_move-in\" content=\"August 30, 2026\"><meta name=\"lead_rent\" content=\"$1,850\">\
             <meta name=\"lead_bedrooms\" content=\"2\"><meta name=\"lead_listing_url\" content=\"https://www.google.com/url?q=https://example.com/l/9\">\
             <meta name=\"lead_message\" content=\"  Is it   available? \"><meta name=\"lead_email\" content=\"other@example.com\">\
             <meta name=\"og:title\" content=\"x\"><meta name=\"lead_\" content=\"x\"></body></html>",
        );
        assert_eq!(ex.completeness, Completeness::Complete, "{:?}", ex.errors);
        for (k, v) in [
            ("email", "jane.doe@example.com"),
            ("phone", "+12025550143"),
            ("first_name", "Jane"),
            ("last_name", "Doe"),
            ("name", "Jane Doe"),
            ("move_in", "2026-08-30"),
            ("rent", "1850.00 USD"),
            ("bedrooms", "2"),
            ("listing_url", "https://example.com/l/9"),
            ("message", "Is it available?"),
        ] {
            assert_eq!(field(&ex, k).as_deref(), Some(v), "field {k}");
        }
        assert_eq!(ex.fields.len(), 10);
        assert_eq!(ex.warnings[0].code, "duplicate_meta");
        for s in ["email", "phone", "name", "first_name", "message"] {
            assert!(ex.sensitive.contains(&s.to_owned()), "{s}");
        }
        assert!(!ex.sensitive.contains(&"rent".to_owned()));
    }

    #[test]
    fn partial_when_no_contact() {
        let ex = run(
            "<meta name=\"lead_name\" content=\"Jane Doe\"><meta name=\"lead_email\" content=\"jane-at-example\">",
        );
        assert_eq!(ex.completeness, Completeness::Partial);
        assert_eq!(field(&ex, "name").as_deref(), Some("Jane Doe"));
        assert!(
            ex.errors
                .iter()
                .any(|e| e.code == "invalid_value" && e.field.as_deref() == Some("email"))
        );
        assert!(ex.errors.iter().all(|e| !e.message.contains("jane-at")));
    }

    #[test]
    fn no_meta() {
        let ex = run("<p>Hello</p>");
        assert_eq!(ex.completeness, Completeness::Failed);
        assert_eq!(ex.errors[0].code, "lead_meta_not_found");
    }

    #[test]
    fn many_tags() {
        let tags: String = (0..500)
            .map(|i| format!("<meta name=\"lead_f{i}\" content=\"v\">"))
            .collect();
        let ex = run(&format!(
            "<meta name=\"lead_email\" content=\"a@example.com\">{tags}"
        ));
        assert_eq!(ex.fields.len(), MAX_FIELDS);
        assert!(ex.warnings.iter().any(|w| w.code == "too_many_fields"));
    }
}
