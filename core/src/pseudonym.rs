//! Keyed pseudonyms of personal data: the one implementation behind a sink's
//! `redact_with = "pseudonym"` (mailex-delivery) and the pseudonym columns of the analytics copy
//! (mailex-analytics, docs/analytics.md).
//!
//! A pseudonym is `hmac-sha256:<64 hex digits>`, the HMAC-SHA256 under a secret key of the
//! value's JSON text as the record carries it. Record values are already in their type's normal
//! form (emails lower-cased, phones in E.164, names as the name normaliser writes them), so
//! `Jane@Example.com` and `jane@example.com`, or `+1 (415) 555-0134` and `+14155550134`, give
//! the same pseudonym: the same person can be counted across mails and advertisers, but nobody
//! without the key can reverse or recompute it. The key carries an id, stored next to every
//! pseudonym, so keys can be rotated and pseudonyms of different keys are never compared.
//!
//! ```
//! use mailex_core::FieldValue;
//! use mailex_core::pseudonym::PseudonymKey;
//!
//! let key = PseudonymKey::with_derived_id(b"a long random secret".to_vec()).unwrap();
//! let value = FieldValue::Text("jane@example.com".into());
//! let pseudonym = key.pseudonym(&value);
//! assert!(pseudonym.starts_with("hmac-sha256:"));
//! assert_eq!(pseudonym, key.pseudonym(&value));
//! assert_eq!(key.id().len(), 8);
//! ```

use hmac::{KeyInit, Mac};
use sha2::Digest;

use crate::record::FieldValue;

type HmacSha256 = hmac::Hmac<sha2_hmac::Sha256>;

/// The prefix of a pseudonym: `hmac-sha256:<64 hex digits>`.
pub const PSEUDONYM_PREFIX: &str = "hmac-sha256:";

/// Longest key id accepted (it is stored in every analytics row).
pub const MAX_KEY_ID_LEN: usize = 64;

/// A pseudonym key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PseudonymKeyError {
    /// The secret is empty.
    #[error("the pseudonym key is empty")]
    EmptySecret,
    /// The key id is empty, too long, or has characters other than ASCII letters, digits,
    /// `.`, `_` and `-`.
    #[error(
        "the pseudonym key id must be 1 to {MAX_KEY_ID_LEN} ASCII letters, digits, `.`, `_` or `-`"
    )]
    BadId,
}

/// A secret key for pseudonyms, with the id stored next to every pseudonym made with it.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey {
    id: String,
    secret: Vec<u8>,
}

impl PseudonymKey {
    /// A key `secret` named `id` (1 to [`MAX_KEY_ID_LEN`] ASCII letters, digits, `.`, `_`, `-`).
    pub fn new(id: impl Into<String>, secret: Vec<u8>) -> Result<Self, PseudonymKeyError> {
        let id = id.into();
        let id_ok = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !id_ok {
            return Err(PseudonymKeyError::BadId);
        }
        if secret.is_empty() {
            return Err(PseudonymKeyError::EmptySecret);
        }
        Ok(PseudonymKey { id, secret })
    }

    /// A key whose id is derived from the secret: [`derived_key_id`] (the first 8 hex digits
    /// of its SHA-256), which names the key without revealing it.
    pub fn with_derived_id(secret: Vec<u8>) -> Result<Self, PseudonymKeyError> {
        PseudonymKey::new(derived_key_id(&secret), secret)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The pseudonym of `value` under this key ([`pseudonym`]).
    pub fn pseudonym(&self, value: &FieldValue) -> String {
        pseudonym(&self.secret, value)
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PseudonymKey")
            .field("id", &self.id)
            .field("secret", &"<withheld>")
            .finish()
    }
}

/// The default id of a key: the first 8 hex digits of the SHA-256 of its secret.
pub fn derived_key_id(secret: &[u8]) -> String {
    let mut id = hex::encode(sha2::Sha256::digest(secret));
    id.truncate(8);
    id
}

/// `hmac-sha256:<hex>` of a value's JSON text under `key`: equal values give equal
/// pseudonyms, and without the key they cannot be reversed or recomputed.
pub fn pseudonym(key: &[u8], value: &FieldValue) -> String {
    let text = serde_json::to_vec(value).unwrap_or_default();
    format!(
        "{PSEUDONYM_PREFIX}{}",
        hex::encode(hmac_sha256(key, &[&text]))
    )
}

/// HMAC-SHA256 under `key` of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{Engine, Input};

    #[test]
    fn known_answer() {
        // Computed independently with Python:
        // hmac.new(b"key", b'"jane@example.com"', "sha256").hexdigest()
        let value = FieldValue::Text("jane@example.com".into());
        assert_eq!(
            pseudonym(b"key", &value),
            "hmac-sha256:75260c9ffcc13ec261738529fd77ab931a67a70d8556280650a663069200ca81"
        );
    }

    /// The record of a `builtin:lead-meta` mail with these meta tags.
    fn record_with(email: &str, phone: &str) -> crate::Record {
        let config = r#"
[[route]]
name = "portal"
sender = "*@portal.example"
require_auth = "none"
extractor = "builtin:lead-meta"
"#;
        let engine =
            Engine::from_toml_str(config, Path::new("mailex.toml"), Path::new(".")).unwrap();
        let raw = format!(
            "From: leads@portal.example\r\nContent-Type: text/html\r\n\r\n\
             <meta name=\"lead_email\" content=\"{email}\">\
             <meta name=\"lead_phone\" content=\"{phone}\"><p>New lead</p>"
        );
        engine.process(&Input::new(raw.as_bytes(), "inline"))
    }

    #[test]
    fn spellings_of_one_value_give_one_pseudonym() {
        let key = PseudonymKey::new("k1", b"secret".to_vec()).unwrap();
        // A fictional North-American number (555-01XX), written two ways.
        let a = record_with("Jane@Example.com", "+1 (415) 555-0134");
        let b = record_with("jane@example.com", "+14155550134");
        assert_eq!(a.fields.len(), 2, "{:?}", a.errors);
        for field in ["email", "phone"] {
            assert_eq!(
                key.pseudonym(&a.fields[field]),
                key.pseudonym(&b.fields[field]),
                "{field}"
            );
        }
        let other = PseudonymKey::new("k2", b"other secret".to_vec()).unwrap();
        assert_ne!(
            key.pseudonym(&a.fields["email"]),
            other.pseudonym(&a.fields["email"])
        );
        assert_ne!(
            key.pseudonym(&a.fields["email"]),
            key.pseudonym(&a.fields["phone"])
        );
    }

    #[test]
    fn keys_are_checked_and_never_shown() {
        assert_eq!(
            PseudonymKey::new("k1", Vec::new()),
            Err(PseudonymKeyError::EmptySecret)
        );
        for bad in ["", "a/b", "é", &"x".repeat(65)] {
            assert_eq!(
                PseudonymKey::new(bad, b"s".to_vec()),
                Err(PseudonymKeyError::BadId),
                "{bad}"
            );
        }
        let key = PseudonymKey::with_derived_id(b"topsecret".to_vec()).unwrap();
        // hashlib.sha256(b"topsecret").hexdigest()[:8]
        assert_eq!(key.id(), "53336a67");
        assert!(!format!("{key:?}").contains("topsecret"));
    }
}
