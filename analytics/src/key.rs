//! The pseudonym key of the analytics copy, looked up by variable name: the same names for the
//! CLI (the environment) and the Lambda function (its Secrets Manager secret, then the
//! environment).

use mailex_core::pseudonym::PseudonymKey;

use crate::error::AnalyticsError;

/// The variable holding the pseudonym key (its bytes as given).
pub const KEY_VARIABLE: &str = "MAILEX_PSEUDONYM_KEY";

/// The variable holding the key's id (optional; default [`mailex_core::pseudonym::derived_key_id`]).
pub const KEY_ID_VARIABLE: &str = "MAILEX_PSEUDONYM_KEY_ID";

/// The pseudonym key found through `lookup`: the secret under [`KEY_VARIABLE`], named by
/// [`KEY_ID_VARIABLE`] or, when that is unset or empty, by the id derived from the secret.
/// `Ok(None)` when there is no key (unset or empty); an error when the id is not a valid key id.
/// Errors never show the key.
///
/// ```
/// use mailex_analytics::{KEY_ID_VARIABLE, KEY_VARIABLE, pseudonym_key};
///
/// let env = |name: &str| (name == KEY_VARIABLE).then(|| "topsecret".to_owned());
/// // hashlib.sha256(b"topsecret").hexdigest()[:8]
/// assert_eq!(pseudonym_key(env).unwrap().unwrap().id(), "53336a67");
/// assert!(pseudonym_key(|_| None).unwrap().is_none());
/// let bad_id = |name: &str| Some(if name == KEY_ID_VARIABLE { "a/b" } else { "s" }.to_owned());
/// assert!(pseudonym_key(bad_id).is_err());
/// ```
pub fn pseudonym_key(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<PseudonymKey>, AnalyticsError> {
    let Some(secret) = lookup(KEY_VARIABLE).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let secret = secret.into_bytes();
    let key = match lookup(KEY_ID_VARIABLE).filter(|id| !id.is_empty()) {
        Some(id) => PseudonymKey::new(id, secret),
        None => PseudonymKey::with_derived_id(secret),
    };
    key.map(Some).map_err(AnalyticsError::Key)
}
