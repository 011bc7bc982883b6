//! What a sink receives: the record as JSON (redacted for the sink if it says so), its id,
//! and the webhook signature.

use hmac::{KeyInit, Mac};
use mailex_core::Record;
use mailex_core::pseudonym::hmac_sha256;
pub use mailex_core::pseudonym::{PSEUDONYM_PREFIX, pseudonym};
use mailex_core::record::FieldValue;
use mailex_core::sink::{RedactWith, Redaction};
use sha2::Digest;

use crate::secrets::Secret;

type HmacSha256 = hmac::Hmac<sha2_hmac::Sha256>;

/// A record ready to send to one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The record's stable id.
    pub record_id: String,
    /// The record's status (`extracted`, ...).
    pub status: &'static str,
    /// The record's advertiser, if any.
    pub advertiser: Option<String>,
    /// The record's route, if any (an SNS message attribute).
    pub route: Option<String>,
    /// The JSON body: the record, with `id` set, redacted for this sink.
    pub body: Vec<u8>,
}

impl Payload {
    /// The payload of `record` under `record_id` for a sink with `redaction` (and the key of its
    /// pseudonyms). Fails only if the record cannot be serialised.
    pub fn new(
        record_id: &str,
        record: &Record,
        redaction: Option<&Redaction>,
        pseudonym_key: Option<&Secret>,
    ) -> Result<Self, String> {
        let body = match redaction {
            None if record.id.as_deref() == Some(record_id) => serde_json::to_vec(record),
            _ => {
                let mut copy = record.clone();
                copy.id = Some(record_id.to_owned());
                if let Some(redaction) = redaction {
                    redact(&mut copy, redaction, pseudonym_key);
                }
                serde_json::to_vec(&copy)
            }
        }
        .map_err(|e| format!("the record could not be serialised: {e}"))?;
        Ok(Payload {
            record_id: record_id.to_owned(),
            status: record.status.as_str(),
            advertiser: record.advertiser.clone(),
            route: record.route.clone(),
            body,
        })
    }
}

/// Drops or pseudonymises the fields `redaction` covers (and drops their provenance).
fn redact(record: &mut Record, redaction: &Redaction, key: Option<&Secret>) {
    let covered: Vec<String> = record
        .fields
        .keys()
        .filter(|name| redaction.covers(record, name))
        .cloned()
        .collect();
    for name in covered {
        match (&redaction.with, key) {
            (RedactWith::Pseudonym { .. }, Some(key)) => {
                if let Some(value) = record.fields.get_mut(&name) {
                    *value = FieldValue::Text(pseudonym(key.expose(), value));
                }
            }
            // Without its key a pseudonym cannot be made: dropping is the safe side.
            _ => {
                record.fields.remove(&name);
                record.provenance.remove(&name);
            }
        }
    }
}

/// The `Mailex-Signature` header of a webhook body sent at `unix_seconds`:
/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature_header(secret: &[u8], unix_seconds: u64, body: &[u8]) -> String {
    let t = unix_seconds.to_string();
    let mac = hmac_sha256(secret, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

/// Whether `header` is a valid `Mailex-Signature` of `body` under `secret` (any `v1` entry;
/// the age of `t` is the receiver's to check). The comparison takes the same time whatever
/// the bytes.
pub fn verify_signature(secret: &[u8], header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return false,
    };
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    candidates.iter().any(|c| {
        // `verify_slice` compares in constant time.
        hex::decode(c).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
    })
}

/// The record id of a source: SHA-256 (hex, 64 characters) of the source string. The Lambda
/// host's sources are `s3://bucket/key` (docs/deploy.md); the CLI's are
/// `mail:sha256:<hex of the mail's bytes>`.
pub fn record_id(source: &str) -> String {
    hex::encode(sha2::Sha256::digest(source.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailex_core::Status;

    #[test]
    fn signatures_match_the_documented_formula() {
        // HMAC-SHA256("secret", "1700000000.{}"), computed independently with Python's hmac.
        let header = signature_header(b"secret", 1_700_000_000, b"{}");
        assert_eq!(
            header,
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert!(verify_signature(b"secret", &header, b"{}"));
        assert!(!verify_signature(b"secret", &header, b"{ }"));
        assert!(!verify_signature(b"secret", "v1=00", b"{}"));
    }

    #[test]
    fn redaction_drops_or_pseudonymises() {
        let mut record = Record::new(Status::Extracted, "x", 1);
        record.fields.insert("email".into(), "a@b.example".into());
        record.fields.insert("phone".into(), "+15555550100".into());
        record.fields.insert("listing".into(), "L1".into());
        record.sensitive = vec!["phone".into()];
        let drop = Redaction {
            fields: vec!["email".into()],
            sensitive: true,
            with: RedactWith::Drop,
        };
        let payload = Payload::new("id1", &record, Some(&drop), None).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&payload.body).unwrap();
        assert_eq!(json["id"], "id1");
        assert_eq!(json["fields"], serde_json::json!({"listing": "L1"}));

        let pseudo = Redaction {
            with: RedactWith::Pseudonym {
                key_env: "K".into(),
            },
            ..drop
        };
        let key = Secret::new(b"k".to_vec());
        let payload = Payload::new("id1", &record, Some(&pseudo), Some(&key)).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&payload.body).unwrap();
        let email = json["fields"]["email"].as_str().unwrap();
        assert!(email.starts_with(PSEUDONYM_PREFIX) && email.len() == 12 + 64);
        assert!(!String::from_utf8_lossy(&payload.body).contains("a@b.example"));
        assert_eq!(json["fields"]["listing"], "L1");
    }
}
