//! Secrets of sinks (webhook signing secrets, pseudonym keys), resolved by the binary, and
//! [`SecretSource`], the one lookup of a secret by name: the stored Secrets Manager secret, then
//! the environment.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use mailex_core::SinkConfig;

use crate::error::DeliveryError;

/// A secret's bytes. Its `Debug` output never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// A secret from its bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(Arc::from(bytes.into().into_boxed_slice()))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The secrets sinks name, by environment variable name.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    by_variable: BTreeMap<String, Secret>,
}

impl Secrets {
    /// Looks up every variable the sinks name through `lookup` (the binaries pass the process
    /// environment; this crate reads none). Fails on the first one that is unset or empty.
    pub fn resolve(
        sinks: &[SinkConfig],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, DeliveryError> {
        let mut secrets = Secrets::default();
        for sink in sinks {
            for (key, variable) in sink.secret_envs() {
                match lookup(variable) {
                    Some(value) if !value.is_empty() => {
                        secrets
                            .by_variable
                            .insert(variable.to_owned(), Secret::new(value.into_bytes()));
                    }
                    found => {
                        return Err(DeliveryError::MissingSecret {
                            sink: sink.name.clone(),
                            key,
                            variable: variable.to_owned(),
                            why: if found.is_some() { "empty" } else { "not set" },
                        });
                    }
                }
            }
        }
        Ok(secrets)
    }

    /// Every sink secret that `lookup` does not find (for `mailex check`), as errors.
    pub fn missing(
        sinks: &[SinkConfig],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Vec<DeliveryError> {
        let mut out = Vec::new();
        for sink in sinks {
            if let Err(e) = Secrets::resolve(std::slice::from_ref(sink), &lookup) {
                out.push(e);
            }
        }
        out
    }

    /// Adds a secret under a variable name (tests and tools).
    pub fn insert(&mut self, variable: impl Into<String>, secret: Secret) {
        self.by_variable.insert(variable.into(), secret);
    }

    pub(crate) fn get(
        &self,
        sink: &str,
        key: &'static str,
        variable: &str,
    ) -> Result<Secret, DeliveryError> {
        self.by_variable
            .get(variable)
            .cloned()
            .ok_or_else(|| DeliveryError::MissingSecret {
                sink: sink.to_owned(),
                key,
                variable: variable.to_owned(),
                why: "not set",
            })
    }
}

/// Most bytes of the secret [`SecretValues::fetch`] reads (Secrets Manager's own limit).
const MAX_SECRET_BYTES: usize = 64 * 1024;

/// Sink secrets kept in one AWS Secrets Manager secret instead of the environment.
///
/// The secret's value is a JSON object whose keys are the variable names the sinks name
/// (`secret_env`, `pseudonym_key_env`) and whose values are the secrets:
/// `{"MAILEX_WEBHOOK_SECRET": "…"}`. A binary looks a name up here first and in the environment
/// second (see docs/delivery.md). Its `Debug` output shows the names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues {
    by_name: BTreeMap<String, String>,
}

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValues")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SecretValues {
    /// Reads the secret `secret_id` (its ARN or name) with `GetSecretValue`, through `sdk`
    /// (and `endpoint` instead of AWS's, for a local server). Errors name the secret and the
    /// service's error code, never a value.
    pub async fn fetch(
        sdk: &aws_config::SdkConfig,
        endpoint: Option<&str>,
        secret_id: &str,
    ) -> Result<Self, DeliveryError> {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        let mut builder = aws_sdk_secretsmanager::config::Builder::from(sdk);
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        let client = aws_sdk_secretsmanager::Client::from_conf(builder.build());
        let failed = |message: String| DeliveryError::SecretsManager {
            secret_id: secret_id.to_owned(),
            message,
        };
        let output = client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                failed(match (e.code(), e.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_owned(),
                    _ => e.to_string(),
                })
            })?;
        let text = output
            .secret_string()
            .ok_or_else(|| failed("has no SecretString (a binary secret cannot be read)".into()))?;
        SecretValues::parse(text).map_err(failed)
    }

    /// Parses a secret's value: a JSON object of strings. The error never quotes the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_SECRET_BYTES {
            return Err(format!("is larger than {MAX_SECRET_BYTES} bytes"));
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "is not JSON (line {}, column {}): store an object such as {{\"MAILEX_WEBHOOK_SECRET\": \"...\"}}",
                e.line(),
                e.column()
            )
        })?;
        let serde_json::Value::Object(map) = value else {
            return Err("is not a JSON object of variable names and secrets".into());
        };
        let mut by_name = BTreeMap::new();
        for (name, value) in map {
            match value {
                serde_json::Value::String(secret) => {
                    by_name.insert(name, secret);
                }
                _ => return Err(format!("key `{name}` does not hold a string")),
            }
        }
        Ok(SecretValues { by_name })
    }

    /// The secret stored under `name`, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        self.by_name.get(name).cloned()
    }

    /// The names the secret holds.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

/// The variable naming the Secrets Manager secret the binaries read ([`SecretSource::load`]):
/// its ARN or name.
pub const SECRETS_ID_VARIABLE: &str = "MAILEX_SECRETS_ARN";

/// How a binary reads one variable of its environment (`std::env::var`, or a map in tests).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the binaries look up a secret by variable name: the values of the Secrets Manager
/// secret named by [`SECRETS_ID_VARIABLE`] (read once, when there is one) first, then the
/// environment. The one implementation of that rule, for the sinks' secrets
/// ([`Secrets::resolve`]) and the pseudonym key of the analytics copy alike, in the Lambda
/// function, `mailex extract` and `mailex check`.
///
/// The environment is passed in ([`EnvLookup`]): this crate reads none itself. `Debug` shows the
/// stored names only.
///
/// ```
/// use std::sync::Arc;
/// use mailex_delivery::{SecretSource, SecretValues};
///
/// let stored = SecretValues::parse(r#"{"CRM_SECRET": "from-the-secret"}"#).unwrap();
/// let env = |name: &str| match name {
///     "CRM_SECRET" | "OTHER" => Some(format!("{name} from the environment")),
///     _ => None,
/// };
/// let source = SecretSource::new(stored, Arc::new(env));
/// assert_eq!(source.get("CRM_SECRET").as_deref(), Some("from-the-secret"));
/// assert_eq!(source.get("OTHER").as_deref(), Some("OTHER from the environment"));
/// assert_eq!(source.get("MISSING"), None);
/// ```
#[derive(Clone)]
pub struct SecretSource {
    stored: SecretValues,
    env: EnvLookup,
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSource")
            .field("stored", &self.stored)
            .finish_non_exhaustive()
    }
}

impl SecretSource {
    /// Looks names up in `stored`, then through `env`.
    pub fn new(stored: SecretValues, env: EnvLookup) -> Self {
        SecretSource { stored, env }
    }

    /// The environment alone (no Secrets Manager secret).
    pub fn environment(env: EnvLookup) -> Self {
        SecretSource::new(SecretValues::default(), env)
    }

    /// Reads the secret `secret_id` (its ARN or name; the binaries take it from
    /// [`SECRETS_ID_VARIABLE`], see [`SecretSource::secret_id`]) through `sdk` (and `endpoint`
    /// instead of AWS's, for a local server), to be looked up before `env`; with no secret, the
    /// environment alone. Fails when the secret cannot be read or is not a JSON object of
    /// strings, or when `sdk` is `None`; errors name the secret, never a value.
    pub async fn load(
        secret_id: Option<&str>,
        env: EnvLookup,
        sdk: Option<&aws_config::SdkConfig>,
        endpoint: Option<&str>,
    ) -> Result<Self, DeliveryError> {
        let Some(secret_id) = secret_id else {
            return Ok(SecretSource::environment(env));
        };
        let sdk = sdk.ok_or_else(|| DeliveryError::SecretsManager {
            secret_id: secret_id.to_owned(),
            message: "cannot be read: no AWS SDK configuration".to_owned(),
        })?;
        let stored = SecretValues::fetch(sdk, endpoint, secret_id).await?;
        Ok(SecretSource::new(stored, env))
    }

    /// The secret the binaries read: the value of [`SECRETS_ID_VARIABLE`] in `env`, when it is
    /// set and not blank.
    pub fn secret_id(env: &(dyn Fn(&str) -> Option<String> + Send + Sync)) -> Option<String> {
        env(SECRETS_ID_VARIABLE).filter(|id| !id.trim().is_empty())
    }

    /// The value of `name`: from the stored secret, else from the environment.
    pub fn get(&self, name: &str) -> Option<String> {
        self.stored.get(name).or_else(|| (self.env)(name))
    }

    /// The names the stored secret holds (for a log line; never the values).
    pub fn stored_names(&self) -> impl Iterator<Item = &str> {
        self.stored.names()
    }
}

#[cfg(test)]
mod tests {
    use super::SecretValues;

    #[test]
    fn a_secret_is_an_object_of_strings_and_errors_never_quote_it() {
        let values = SecretValues::parse(r#"{"CRM_SECRET": "whsec-1", "OTHER": "x"}"#).unwrap();
        assert_eq!(values.get("CRM_SECRET").as_deref(), Some("whsec-1"));
        assert_eq!(values.names().collect::<Vec<_>>(), ["CRM_SECRET", "OTHER"]);
        assert!(!format!("{values:?}").contains("whsec-1"));
        for (text, expected) in [
            ("whsec-plain-text", "is not JSON (line 1, column 1)"),
            (r#"["whsec-in-a-list"]"#, "is not a JSON object"),
            (
                r#"{"CRM_SECRET": 12345}"#,
                "key `CRM_SECRET` does not hold a string",
            ),
        ] {
            let error = SecretValues::parse(text).unwrap_err();
            assert!(error.contains(expected), "{error}");
            assert!(
                !error.contains("whsec") && !error.contains("12345"),
                "{error}"
            );
        }
        let huge = format!(r#"{{"A": "{}"}}"#, "x".repeat(70_000));
        assert!(
            SecretValues::parse(&huge)
                .unwrap_err()
                .contains("larger than")
        );
    }
}
