//! Record identity and keys: one id per input mail, one key per id.
//!
//! A record's id is the SHA-256 (hex) of its `source`: `s3://bucket/key` for stored mail,
//! `ses:<messageId>` for mail carried inline by SES, `sqs:<messageId>` or `event:sha256:<hex>`
//! for a payload that could not be decoded. The id depends on the input only, never on the
//! outcome (status, advertiser, time), so a retry, a redelivery or a replay after a config
//! change overwrites the one record of its mail. The record stores it as `id`.
//!
//! Records live at `<prefix><id>.json`. Status, advertiser and time are in the record; listings
//! by those (analytics, delivery markers) belong under other prefixes, keyed by the same id.

use sha2::{Digest, Sha256};

/// The record id of a source: SHA-256 (hex, 64 characters) of the source string.
pub fn record_id(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// The source of an S3 object: `s3://bucket/key`.
pub fn object_source(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// The record id of an S3 object: [`record_id`] of `s3://bucket/key`.
///
/// SES Lambda-action receipts resolve to the stored object first, so a mail seen through both an
/// S3 notification and an SES receipt gets one id.
pub fn object_id(bucket: &str, key: &str) -> String {
    record_id(&object_source(bucket, key))
}

/// The record id of a mail carried inline by the SES SNS action: [`record_id`] of
/// `ses:<messageId>`.
pub fn ses_inline_id(message_id: &str) -> String {
    record_id(&format!("ses:{message_id}"))
}

/// The record id of a local file given as its path relative to the replayed folder.
pub fn file_id(relative: &str) -> String {
    record_id(&format!("file:{relative}"))
}

/// `<prefix><id>.json`: the one key of a record.
pub fn record_key(prefix: &str, id: &str) -> String {
    format!("{prefix}{id}.json")
}

/// The record id a key holds: the last path segment without `.json`, when that is a record id
/// (64 lower-case hex digits). It also reads the keys of the earlier partitioned layout
/// (`status=<s>/advertiser=<a>/dt=<day>/<id>.json`), so replay can find and remove them.
pub fn id_of_record_key(key: &str) -> Option<&str> {
    let stem = key.rsplit('/').next()?.strip_suffix(".json")?;
    let is_id = stem.len() == 64
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    is_id.then_some(stem)
}

/// A metric dimension value: ASCII letters, digits, `-`, `_` and `.`, at most 100 characters;
/// anything else becomes `_`. A missing value is `_none`.
pub fn dimension_value(value: Option<&str>) -> String {
    match value {
        None | Some("") => "_none".to_owned(),
        Some(v) => v
            .chars()
            .take(100)
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_the_source_only() {
        let id = object_id("in", "inbound/abc");
        assert_eq!(id, object_id("in", "inbound/abc"));
        assert_eq!(id, record_id("s3://in/inbound/abc"));
        assert_ne!(id, object_id("in", "inbound/abd"));
        assert_eq!(id.len(), 64);
        let key = record_key("records/", &id);
        assert_eq!(key, format!("records/{id}.json"));
        assert_eq!(id_of_record_key(&key), Some(id.as_str()));
    }

    #[test]
    fn legacy_partitioned_keys_are_recognised() {
        let id = object_id("in", "x");
        let legacy = format!("records/status=partial/advertiser=portal/dt=2026-11-29/{id}.json");
        assert_eq!(id_of_record_key(&legacy), Some(id.as_str()));
        assert_eq!(id_of_record_key("records/notes.json"), None);
        assert_eq!(id_of_record_key(&format!("records/{id}.json.tmp")), None);
    }

    #[test]
    fn dimension_values_are_safe() {
        assert_eq!(dimension_value(Some("Big Portal/x")), "Big_Portal_x");
        assert_eq!(dimension_value(None), "_none");
    }
}
