//! The one mapping from a field's declared type to its normaliser.
//!
//! Rule files (a field's type), the built-ins (the types of the fields they know) and the
//! plugin host (its `normalize` host functions and the values plugins return) all normalise
//! through [`FieldType::normalize`], so the same input and type give the same value whichever
//! extractor read it (`core/src/normalize/field.rs`'s tests hold the three to it).

use super::NormalizeError;
use crate::normalize::DateOrder;
use crate::record::FieldValue;

/// A field's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// Free text: trimmed, line endings normalised, trailing spaces removed per line.
    Text,
    /// An email address, lower-cased and validated.
    Email,
    /// A phone number in E.164, numbers without a country code read in `region`.
    Phone {
        /// ISO 3166-1 alpha-2 default region.
        region: String,
    },
    /// An absolute http(s) URL, click-tracking redirects unwrapped.
    Url,
    /// An integer.
    Int,
    /// A decimal number, canonical string.
    Decimal,
    /// An amount with its currency.
    Money {
        /// Currency used when the value has none.
        currency: Option<String>,
        /// A field of the same profile, declared before this one, whose value is the currency
        /// code when the value has none (`currency_from: "price_currency"`); `currency` is the
        /// fallback when that field is missing or not a code.
        currency_from: Option<String>,
    },
    /// A calendar date (`YYYY-MM-DD`).
    Date {
        /// Day/month order for ambiguous numeric dates.
        order: DateOrder,
    },
    /// A point in time: RFC 3339 in UTC when the value gives its zone, else the local time
    /// without offset.
    Datetime {
        /// Day/month order for ambiguous numeric dates.
        order: DateOrder,
    },
    /// A person's name (full, first, last).
    PersonName,
    /// One of a fixed set of values.
    Enum(Vec<String>),
}

impl FieldType {
    /// Whether values of this type are personal data by default.
    pub fn sensitive_by_default(&self) -> bool {
        matches!(
            self,
            FieldType::Email | FieldType::Phone { .. } | FieldType::PersonName
        )
    }

    /// Normalises a raw value.
    pub fn normalize(&self, raw: &str) -> Result<FieldValue, NormalizeError> {
        Ok(match self {
            FieldType::Text => FieldValue::Text(text(raw)?),
            FieldType::Email => FieldValue::Text(super::email(raw)?),
            FieldType::Phone { region } => FieldValue::Text(super::phone(raw, region)?),
            FieldType::Url => FieldValue::Text(super::url(raw)?),
            FieldType::Int => FieldValue::Int(super::int(raw)?),
            FieldType::Decimal => FieldValue::Text(super::decimal(raw)?),
            FieldType::Money { currency, .. } => {
                FieldValue::Money(super::money(raw, currency.as_deref())?)
            }
            FieldType::Date { order } => FieldValue::Text(super::date(raw, *order)?.to_string()),
            FieldType::Datetime { order } => {
                FieldValue::Text(super::datetime(raw, *order)?.to_string())
            }
            FieldType::PersonName => FieldValue::Name(super::person_name(raw)?),
            FieldType::Enum(allowed) => FieldValue::Text(super::enum_value(raw, allowed)?),
        })
    }
}

/// The `text` normaliser: line endings made `\n`, the value trimmed and each line's trailing
/// spaces removed; line breaks inside the value are kept. Empty text is an error.
pub fn text(raw: &str) -> Result<String, NormalizeError> {
    let t = raw.replace("\r\n", "\n");
    let lines: Vec<&str> = t.trim().lines().map(str::trim_end).collect();
    let s = lines.join("\n");
    if s.is_empty() {
        return Err(NormalizeError::Empty);
    }
    Ok(s)
}
