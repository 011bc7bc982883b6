//! Delivery from the function: after a record is stored, to the sinks of the config in service.
//!
//! Delivery markers are S3 objects next to the record (`<prefix><id>.json.delivered/<sink>`,
//! [`S3Markers`]). The sinks are built once per config version (their clients and secrets),
//! from the SDK configuration of the S3 client (same credentials, retries and timeouts).

use std::sync::{Arc, Mutex};

use mailex_delivery::{
    Deliverer, DeliveryOptions, Marker, MarkerError, MarkerStore, Secrets, marker_key,
};

use crate::error::HostError;
use crate::keys;
use crate::live::Loaded;
use crate::store::S3Store;

/// How the host finds the secrets sinks name (the process environment; a map in tests).
pub type SecretLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Delivery markers in the output bucket, next to the records.
#[derive(Debug, Clone)]
pub struct S3Markers {
    store: S3Store,
    bucket: String,
    prefix: String,
}

impl S3Markers {
    /// Markers of the records under `prefix` in `bucket`.
    pub fn new(store: S3Store, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        S3Markers {
            store,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    /// The key of a sink's marker for a record.
    pub fn key(&self, record_id: &str, sink: &str) -> String {
        marker_key(&keys::record_key(&self.prefix, record_id), sink)
    }
}

impl MarkerStore for S3Markers {
    async fn is_delivered(&self, record_id: &str, sink: &str) -> Result<bool, MarkerError> {
        self.store
            .exists(&self.bucket, &self.key(record_id, sink))
            .await
            .map_err(|e| MarkerError(e.to_string()))
    }

    async fn mark_delivered(
        &self,
        record_id: &str,
        sink: &str,
        marker: &Marker,
    ) -> Result<(), MarkerError> {
        let json = serde_json::to_vec(marker).map_err(|e| MarkerError(e.to_string()))?;
        self.store
            .put_json(&self.bucket, &self.key(record_id, sink), json)
            .await
            .map_err(|e| MarkerError(e.to_string()))
    }
}

/// The deliverer of the config version in service, rebuilt when the version changes.
pub(crate) struct Deliverers {
    secrets: SecretLookup,
    options: DeliveryOptions,
    current: Mutex<Option<(String, Arc<Deliverer>)>>,
}

impl std::fmt::Debug for Deliverers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverers").finish_non_exhaustive()
    }
}

impl Deliverers {
    pub(crate) fn new(secrets: SecretLookup, options: DeliveryOptions) -> Self {
        Deliverers {
            secrets,
            options,
            current: Mutex::new(None),
        }
    }

    /// The deliverer of `loaded` (built on first use of its version).
    pub(crate) fn for_version(&self, loaded: &Loaded) -> Result<Arc<Deliverer>, HostError> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((version, deliverer)) = current.as_ref()
            && *version == loaded.fingerprint
        {
            return Ok(Arc::clone(deliverer));
        }
        let sinks = loaded.engine.sinks();
        let lookup = |name: &str| (self.secrets)(name);
        let built = Secrets::resolve(sinks, lookup)
            .and_then(|secrets| Deliverer::new(sinks, &secrets, &self.options))
            .map_err(|e| HostError::config(e.to_string()))?;
        let built = Arc::new(built);
        *current = Some((loaded.fingerprint.clone(), Arc::clone(&built)));
        Ok(built)
    }
}
