//! The engine in service, loaded at cold start and swapped atomically when an S3 config changes.
//!
//! For an S3 location (`s3://bucket/prefix/`), the prefix is listed at most once per refresh
//! interval; the fingerprint is the SHA-256 of every `key` and `ETag`. A new fingerprint makes
//! the host download the prefix into a fresh temporary folder and load `mailex.toml` from it.
//! A config that fails to load is rejected with a logged error and the old engine stays in
//! service; the rejected fingerprint is remembered so it is not reloaded on every check.

use std::path::{Component, Path};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use mailex_core::Engine;
use sha2::{Digest, Sha256};

use crate::bridge;
use crate::error::HostError;
use crate::settings::ConfigLocation;
use crate::store::S3Store;

/// Largest single config file downloaded from S3 (plugins included).
const MAX_CONFIG_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One loaded configuration.
pub struct Loaded {
    /// The engine.
    pub engine: Engine,
    /// Fingerprint of the files it was loaded from (`file` for a packaged config).
    pub fingerprint: String,
    /// How long loading took (download excluded).
    pub load_time: Duration,
    /// The downloaded files; kept as long as the engine may read them.
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Not due yet, or not an S3 config.
    Skipped,
    /// The prefix has not changed (or changed to an already rejected state).
    Unchanged,
    /// A new config is in service.
    Swapped {
        /// Its fingerprint.
        fingerprint: String,
    },
    /// The new config is broken; the old one stays.
    Rejected {
        /// Why (file:line:col problems).
        reason: String,
    },
}

/// The engine in service and how to refresh it.
pub struct LiveEngine {
    current: ArcSwap<Loaded>,
    location: ConfigLocation,
    refresh_every: Duration,
    last_check: Mutex<Instant>,
    rejected: Mutex<Option<String>>,
    reloading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for LiveEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveEngine")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl LiveEngine {
    /// Loads the config at cold start. A broken config here is fatal: there is nothing to keep.
    pub async fn load(
        location: ConfigLocation,
        refresh_every: Duration,
        store: &S3Store,
    ) -> Result<Self, HostError> {
        let loaded = match &location {
            ConfigLocation::File(path) => load_file(path.clone(), "file".to_owned(), None).await?,
            ConfigLocation::S3 { bucket, prefix } => {
                let (fingerprint, listing) = fingerprint(store, bucket, prefix).await?;
                load_s3(store, bucket, prefix, &listing, fingerprint).await?
            }
        };
        Ok(LiveEngine {
            current: ArcSwap::from_pointee(loaded),
            location,
            refresh_every,
            last_check: Mutex::new(Instant::now()),
            rejected: Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The engine in service. Hold the `Arc` for one message; a swap never disturbs it.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Re-checks an S3 config when the interval has passed. Errors are logged, never returned:
    /// the old config keeps serving.
    pub async fn refresh_if_due(&self, store: &S3Store) -> Refresh {
        if !matches!(self.location, ConfigLocation::S3 { .. }) {
            return Refresh::Skipped;
        }
        {
            let Ok(mut last) = self.last_check.lock() else {
                return Refresh::Skipped;
            };
            if last.elapsed() < self.refresh_every {
                return Refresh::Skipped;
            }
            *last = Instant::now();
        }
        self.refresh_now(store).await
    }

    /// Re-checks an S3 config now.
    pub async fn refresh_now(&self, store: &S3Store) -> Refresh {
        let ConfigLocation::S3 { bucket, prefix } = &self.location else {
            return Refresh::Skipped;
        };
        // One reload at a time; concurrent callers keep using the current engine.
        let Ok(_guard) = self.reloading.try_lock() else {
            return Refresh::Skipped;
        };
        let (fingerprint, listing) = match fingerprint(store, bucket, prefix).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "config check failed; keeping the config in service");
                return Refresh::Rejected {
                    reason: e.to_string(),
                };
            }
        };
        let rejected_before = self.rejected.lock().ok().and_then(|r| r.clone());
        if fingerprint == self.current.load().fingerprint
            || rejected_before.as_deref() == Some(fingerprint.as_str())
        {
            return Refresh::Unchanged;
        }
        match load_s3(store, bucket, prefix, &listing, fingerprint.clone()).await {
            Ok(loaded) => {
                let load_ms = loaded.load_time.as_secs_f64() * 1000.0;
                self.current.store(Arc::new(loaded));
                tracing::info!(fingerprint = %fingerprint, load_ms, "new config in service");
                Refresh::Swapped { fingerprint }
            }
            Err(e) => {
                if let Ok(mut r) = self.rejected.lock() {
                    *r = Some(fingerprint.clone());
                }
                tracing::error!(fingerprint = %fingerprint, error = %e, "new config rejected; keeping the config in service");
                Refresh::Rejected {
                    reason: e.to_string(),
                }
            }
        }
    }
}

type Listing = Vec<crate::store::Listed>;

async fn fingerprint(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
) -> Result<(String, Listing), HostError> {
    let mut listing: Listing = store
        .list(bucket, prefix)
        .await?
        .into_iter()
        .filter(|o| !o.key.ends_with('/'))
        .collect();
    listing.sort_by(|a, b| a.key.cmp(&b.key));
    let mut hash = Sha256::new();
    for object in &listing {
        hash.update(object.key.as_bytes());
        hash.update([0]);
        hash.update(object.etag.as_bytes());
        hash.update([b'\n']);
    }
    Ok((hex::encode(hash.finalize()), listing))
}

async fn load_s3(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    listing: &Listing,
    fingerprint: String,
) -> Result<Loaded, HostError> {
    let dir = tempfile::Builder::new()
        .prefix("mailex-config-")
        .tempdir()
        .map_err(|e| HostError::io(std::env::temp_dir(), e))?;
    let mut has_main = false;
    for object in listing {
        let relative = object.key.strip_prefix(prefix).unwrap_or(&object.key);
        let rel_path = Path::new(relative);
        if rel_path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(HostError::config(format!(
                "config object `{}` has an unsafe path",
                object.key
            )));
        }
        has_main |= relative == "mailex.toml";
        let fetched = store
            .get_capped(bucket, &object.key, MAX_CONFIG_FILE_BYTES)
            .await?;
        if fetched.truncated {
            return Err(HostError::config(format!(
                "config object `{}` is larger than 64 MiB",
                object.key
            )));
        }
        let target = dir.path().join(rel_path);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| HostError::io(parent, e))?;
        }
        tokio::fs::write(&target, &fetched.bytes)
            .await
            .map_err(|e| HostError::io(&target, e))?;
    }
    if !has_main {
        return Err(HostError::config(format!(
            "s3://{bucket}/{prefix} holds no mailex.toml"
        )));
    }
    let main = dir.path().join("mailex.toml");
    load_file(main, fingerprint, Some(dir)).await
}

async fn load_file(
    path: std::path::PathBuf,
    fingerprint: String,
    dir: Option<tempfile::TempDir>,
) -> Result<Loaded, HostError> {
    let started = Instant::now();
    let engine = tokio::task::spawn_blocking(move || bridge::load_engine(&path))
        .await
        .map_err(|e| HostError::config(format!("config loading panicked: {e}")))?
        .map_err(HostError::config)?;
    Ok(Loaded {
        engine,
        fingerprint,
        load_time: started.elapsed(),
        _dir: dir,
    })
}
