//! Secrets of sinks (webhook signing secrets, pseudonym keys), resolved by the binary.

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
