//! Deterministic record keys: the same input always maps to the same id, so a retry overwrites
//! its record instead of adding a second one.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The record id of an S3 object: SHA-256 (hex) of `bucket/key`.
///
/// SES Lambda-action receipts resolve to the stored object first, so a mail seen through both an
/// S3 notification and an SES receipt gets one id.
pub fn object_id(bucket: &str, key: &str) -> String {
    digest(&format!("s3://{bucket}/{key}"))
}

/// The record id of a mail carried inline by the SES SNS action: SHA-256 of its SES message id.
pub fn ses_inline_id(message_id: &str) -> String {
    digest(&format!("ses:{message_id}"))
}

/// The record id of a local file given as its path relative to the replayed folder.
pub fn file_id(relative: &str) -> String {
    digest(&format!("file:{relative}"))
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A partition value safe for S3 keys and Hive-style query engines: ASCII letters, digits,
/// `-`, `_` and `.`; anything else becomes `_`. A missing advertiser is `_none`.
pub fn partition_value(value: Option<&str>) -> String {
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

/// `<prefix>status=<s>/advertiser=<a>/dt=YYYY-MM-DD/<id>.json`.
pub fn record_key(
    prefix: &str,
    status: &str,
    advertiser: Option<&str>,
    day: DateTime<Utc>,
    id: &str,
) -> String {
    format!(
        "{prefix}status={}/advertiser={}/dt={}/{id}.json",
        partition_value(Some(status)),
        partition_value(advertiser),
        day.format("%Y-%m-%d")
    )
}

/// The parts of a record key, as read back by replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts {
    /// `status=` value.
    pub status: String,
    /// `advertiser=` value (`_none` when there was none).
    pub advertiser: String,
    /// The record id.
    pub id: String,
}

/// Parses a key written by [`record_key`] (the prefix is ignored).
pub fn parse_record_key(key: &str) -> Option<KeyParts> {
    let mut status = None;
    let mut advertiser = None;
    let mut id = None;
    for part in key.split('/') {
        if let Some(v) = part.strip_prefix("status=") {
            status = Some(v.to_owned());
        } else if let Some(v) = part.strip_prefix("advertiser=") {
            advertiser = Some(v.to_owned());
        } else if let Some(v) = part.strip_suffix(".json") {
            id = Some(v.to_owned());
        }
    }
    Some(KeyParts {
        status: status?,
        advertiser: advertiser?,
        id: id?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_are_deterministic_and_partitioned() {
        let day = Utc.with_ymd_and_hms(2026, 11, 27, 23, 59, 0).unwrap();
        let id = object_id("in", "inbound/abc");
        assert_eq!(id, object_id("in", "inbound/abc"));
        assert_ne!(id, object_id("in", "inbound/abd"));
        assert_eq!(id.len(), 64);
        let key = record_key("records/", "extracted", Some("Big Portal/x"), day, &id);
        assert_eq!(
            key,
            format!("records/status=extracted/advertiser=Big_Portal_x/dt=2026-11-27/{id}.json")
        );
        let parts = parse_record_key(&key).unwrap();
        assert_eq!(
            (parts.status.as_str(), parts.advertiser.as_str()),
            ("extracted", "Big_Portal_x")
        );
        assert_eq!(
            record_key("", "failed", None, day, "x"),
            "status=failed/advertiser=_none/dt=2026-11-27/x.json"
        );
    }
}
