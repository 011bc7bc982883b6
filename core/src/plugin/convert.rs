//! Conversions between core's types and the contract's: the email going in, the fields
//! coming out.

use std::collections::BTreeMap;

use crate::budget::{Budget, Exceeded};
use crate::message::{Address, Email};
use crate::normalize::{self, DateOrder, FieldType, NormalizeError};
use crate::plugin::bindings::types;
use crate::record::FieldValue;

/// Time it takes, per byte of text and HTML, to hand a message to a plugin: the host's copy,
/// the copy into the instance's memory (growing it, page by page) and the guest taking it
/// apart. Measured on the 2-core development machine (release build, 2026-11-30): a plugin
/// that barely reads its message (acme-leads) took 3.7 to 4.0 ns per byte for 5 to 39 MB of
/// ASCII text; with 4 ns admitted, a call over 18 MB of non-ASCII text still ended 19% past a
/// 100 ms deadline, so the estimate is 6. None of it can stop half-way, so a call is
/// admitted only if it fits the deadline.
pub(crate) const MESSAGE_NS_PER_BYTE: u64 = 6;

/// The contract's view of `email`, built under the call's budget: rendering the text view
/// (when it is not rendered yet) is admitted by its worst case, and the copy handed to the
/// plugin is charged as retained memory. The plugin needs a second copy in its own memory
/// (charged when it grows), so a message larger than half of what is left is refused before
/// it is copied at all, and so is one whose hand-over ([`MESSAGE_NS_PER_BYTE`]) would not
/// end before the deadline.
pub(crate) fn message_within(
    email: &Email<'_>,
    budget: &Budget,
) -> Result<types::Message, Exceeded> {
    let text_len = email.text_within(budget)?.len();
    let html_len = email.html().map_or(0, str::len);
    let estimate = (text_len as u64).saturating_add(html_len as u64);
    if !budget.fits(estimate.saturating_mul(2)) {
        return Err(budget.fail(Exceeded::Memory));
    }
    let hand_over = std::time::Duration::from_nanos(estimate.saturating_mul(MESSAGE_NS_PER_BYTE));
    if hand_over > budget.remaining_time() {
        return Err(budget.fail(Exceeded::Time));
    }
    let message = message(email);
    budget.retain(message_size(&message))?;
    budget.check()?;
    Ok(message)
}

/// Bytes of the strings a message holds (what crosses into the plugin's memory).
fn message_size(message: &types::Message) -> u64 {
    let text = |s: &str| s.len() as u64;
    let opt = |s: &Option<String>| s.as_deref().map_or(0, text);
    let address = |a: &types::Address| opt(&a.name) + opt(&a.email);
    [
        opt(&message.subject),
        message.from.as_ref().map_or(0, address),
        message.reply_to.iter().map(address).sum(),
        message.to.iter().map(address).sum(),
        message.sender.as_ref().map_or(0, address),
        opt(&message.message_id),
        opt(&message.date),
        message
            .headers
            .iter()
            .map(|h| text(&h.name) + text(&h.value))
            .sum(),
        text(&message.text),
        opt(&message.html),
        message
            .attachments
            .iter()
            .map(|a| opt(&a.name) + text(&a.content_type))
            .sum(),
    ]
    .into_iter()
    .fold(0u64, u64::saturating_add)
}

/// The contract's view of `email`.
pub(crate) fn message(email: &Email<'_>) -> types::Message {
    let address = |a: Address| types::Address {
        name: a.name,
        email: a.email,
    };
    types::Message {
        subject: email.subject().map(str::to_owned),
        from: email.from().into_iter().next().map(address),
        reply_to: email.reply_to().into_iter().map(address).collect(),
        to: email.to().into_iter().map(address).collect(),
        sender: email.sender().into_iter().next().map(address),
        message_id: email.message_id().map(str::to_owned),
        date: email.date().map(|d| d.to_rfc3339()),
        headers: headers(email),
        text: email.text().to_owned(),
        html: email.html().map(str::to_owned),
        attachments: email
            .attachments()
            .into_iter()
            .enumerate()
            .map(|(i, a)| types::Attachment {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                name: a.name,
                content_type: a.content_type,
                size: a.bytes.len() as u64,
            })
            .collect(),
    }
}

/// Decoded headers, grouped by name in order of first appearance.
fn headers(email: &Email<'_>) -> Vec<types::Header> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in email.raw_headers() {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .flat_map(|name| {
            email
                .header_all(name)
                .into_iter()
                .map(move |value| types::Header {
                    name: name.to_owned(),
                    value,
                })
        })
        .collect()
}

/// The route's settings as the contract's config list.
pub(crate) fn config(settings: &BTreeMap<String, String>) -> Vec<types::ConfigEntry> {
    settings
        .iter()
        .map(|(k, v)| types::ConfigEntry {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

/// Bytes a list of fields takes (names plus values), for the output cap.
pub(crate) fn output_size(fields: &[types::Field]) -> u64 {
    fields
        .iter()
        .map(|f| f.name.len() as u64 + value_size(&f.value))
        .sum()
}

fn value_size(value: &types::Value) -> u64 {
    use types::Value as V;
    match value {
        V::Text(s) | V::Email(s) | V::Phone(s) | V::Url(s) | V::Date(s) | V::Datetime(s) => {
            s.len() as u64
        }
        V::Integer(_) | V::Decimal(_) => 8,
        V::Boolean(_) => 1,
        V::Money(m) => (m.amount.len() + m.currency.len()) as u64,
        V::Name(n) => {
            (n.full.len()
                + n.first.as_ref().map_or(0, String::len)
                + n.last.as_ref().map_or(0, String::len)) as u64
        }
        V::Texts(items) => items.iter().map(|s| s.len() as u64 + 1).sum(),
    }
}

/// Whether a field of this type or name holds personal data.
pub(crate) fn is_sensitive(name: &str, value: &types::Value) -> bool {
    use types::Value as V;
    if matches!(value, V::Email(_) | V::Phone(_) | V::Name(_)) {
        return true;
    }
    let name = name.to_ascii_lowercase();
    [
        "name", "email", "phone", "address", "message", "comment", "vin",
    ]
    .iter()
    .any(|p| name.contains(p))
}

/// The record's value for a contract value, validated by the normaliser a rule file's field of
/// the same type uses ([`FieldType::normalize`]: one mapping from type to normaliser for both),
/// so a plugin cannot record what a rule file would reject (`email = "NOT AN EMAIL"`, a
/// `javascript:` URL, a `NaN` decimal). The error names what is wrong, never the value.
///
/// | contract value | rule-file type |
/// |---|---|
/// | `text`, each item of `texts` | `text` (trimmed; blank items of `texts` dropped) |
/// | `email`, `phone`, `url` | `email`, `phone(region: "US")`, `url` |
/// | `date`, `datetime` | `date`, `datetime` (month first; datetimes in UTC, or local without offset when they give no zone) |
/// | `decimal` | `decimal` (finite numbers only) |
/// | `money` | `money(currency: <its currency>)` on the amount |
/// | `name` | `person_name` on the full name (the plugin's first and last are kept) |
/// | `integer`, `boolean` | as given |
pub(crate) fn field_value(value: types::Value) -> Result<FieldValue, NormalizeError> {
    use types::Value as V;
    match value {
        V::Text(s) => FieldType::Text.normalize(&s),
        V::Email(s) => FieldType::Email.normalize(&s),
        V::Phone(s) => FieldType::Phone {
            region: normalize::DEFAULT_REGION.to_owned(),
        }
        .normalize(&s),
        V::Url(s) => FieldType::Url.normalize(&s),
        V::Date(s) => FieldType::Date {
            order: DateOrder::default(),
        }
        .normalize(&s),
        V::Datetime(s) => FieldType::Datetime {
            order: DateOrder::default(),
        }
        .normalize(&s),
        V::Integer(i) => Ok(FieldValue::Int(i)),
        V::Decimal(d) if d.is_finite() => FieldType::Decimal.normalize(&d.to_string()),
        V::Decimal(_) => Err(NormalizeError::Decimal {
            reason: "not a finite number",
        }),
        V::Boolean(b) => Ok(FieldValue::Bool(b)),
        V::Money(m) => {
            let currency = m.currency.trim().to_ascii_uppercase();
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(NormalizeError::Money {
                    reason: "the currency is not an ISO 4217 code",
                });
            }
            FieldType::Money {
                currency: Some(currency),
                currency_from: None,
            }
            .normalize(&m.amount)
        }
        V::Name(n) => {
            let FieldValue::Name(mut name) = FieldType::PersonName.normalize(&n.full)? else {
                return Err(NormalizeError::Empty);
            };
            let part = |p: Option<String>| {
                p.map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty() && p.len() <= name.full.len())
            };
            if let Some(first) = part(n.first) {
                name.first = Some(first);
            }
            if let Some(last) = part(n.last) {
                name.last = Some(last);
            }
            Ok(FieldValue::Name(name))
        }
        V::Texts(items) => {
            let items: Vec<FieldValue> = items
                .iter()
                .filter_map(|item| FieldType::Text.normalize(item).ok())
                .collect();
            if items.is_empty() {
                return Err(NormalizeError::Empty);
            }
            Ok(FieldValue::List(items))
        }
    }
}
