//! The engine in service: loaded at cold start, swapped atomically when the deployed config
//! changes, never replaced by a config that does not load.
//!
//! For an S3 location (`s3://bucket/prefix/`, laid out by [`crate::config_store`]), the host
//! reads the pointer `current.json` at most once per refresh interval. A new version is
//! downloaded (each file checked against the manifest) into a fresh temporary folder and loaded;
//! if it loads, it replaces the engine in service, otherwise it is rejected, logged (codes and
//! locations only, never rule-file text) and remembered so it is not retried on every check.
//!
//! At cold start the current version is tried first, then the versions the pointer names as
//! `previous`, newest first: a broken push never stops a cold start while a good version is
//! still stored. Only when none loads does the cold start fail (`bootstrap` then reports the
//! error to the Runtime API's init-error endpoint).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use mailex_core::Engine;

use crate::bridge;
use crate::config_store;
use crate::error::HostError;
use crate::settings::ConfigLocation;
use crate::store::S3Store;

/// One loaded configuration.
pub struct Loaded {
    /// The engine.
    pub engine: Engine,
    /// What it was loaded from: the config version id (S3), or `file`.
    pub fingerprint: String,
    /// How long loading took (download excluded).
    pub load_time: Duration,
    /// The downloaded files; kept as long as the engine may read them.
    _dir: Option<tempfile::TempDir>,
}

impl Loaded {
    /// Wraps an engine loaded by the caller (replay).
    pub fn new(engine: Engine, fingerprint: impl Into<String>) -> Self {
        Loaded {
            engine,
            fingerprint: fingerprint.into(),
            load_time: Duration::ZERO,
            _dir: None,
        }
    }
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
    /// The pointer names the version in service (or one already rejected).
    Unchanged,
    /// A new version is in service.
    Swapped {
        /// Its id.
        fingerprint: String,
    },
    /// The new version does not load; the one in service stays.
    Rejected {
        /// The rejected version.
        version: String,
        /// Why (codes and locations).
        reason: String,
    },
    /// The check itself failed (S3 unreachable); the version in service stays and the check is
    /// repeated at the next interval.
    Failed {
        /// Why.
        reason: String,
    },
}

/// The engine in service and how to refresh it.
pub struct LiveEngine {
    current: ArcSwap<Loaded>,
    location: ConfigLocation,
    refresh_every: Duration,
    last_check: Mutex<Instant>,
    rejected: Mutex<HashSet<String>>,
    reloading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for LiveEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveEngine")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Why a version could not be put in service.
struct VersionFailure {
    error: HostError,
    /// Whether the version itself is at fault (it does not load, or does not match its manifest),
    /// rather than S3 being unreachable for now.
    permanent: bool,
}

impl LiveEngine {
    /// Loads the config at cold start: a packaged file, or the newest loadable version of an S3
    /// config. Fails only when no version loads.
    pub async fn load(
        location: ConfigLocation,
        refresh_every: Duration,
        store: &S3Store,
    ) -> Result<Self, HostError> {
        let mut rejected = HashSet::new();
        let loaded = match &location {
            ConfigLocation::File(path) => load_file(path.clone()).await?,
            ConfigLocation::S3 { bucket, prefix } => {
                load_newest(store, bucket, prefix, &mut rejected).await?
            }
        };
        Ok(LiveEngine {
            current: ArcSwap::from_pointee(loaded),
            location,
            refresh_every,
            last_check: Mutex::new(Instant::now()),
            rejected: Mutex::new(rejected),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// How many config versions were refused so far (at cold start and since): the first
    /// invocation reports the cold start's as `ConfigRejected`.
    pub fn rejected_versions(&self) -> usize {
        self.rejected.lock().map_or(0, |r| r.len())
    }

    /// The engine in service. Hold the `Arc` for one message; a swap never disturbs it.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Re-checks an S3 config when the interval has passed. Errors are logged, never returned:
    /// the version in service keeps serving.
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
        let pointer = match config_store::read_pointer(store, bucket, prefix).await {
            Ok(Some(pointer)) => pointer,
            Ok(None) => {
                let reason = format!("s3://{bucket}/{prefix}{} is gone", config_store::POINTER);
                tracing::error!(%reason, "config check failed; keeping the config in service");
                return Refresh::Failed { reason };
            }
            Err(e) => {
                tracing::error!(error_type = e.error_type(), error = %e, "config check failed; keeping the config in service");
                return Refresh::Failed {
                    reason: e.to_string(),
                };
            }
        };
        let version = pointer.version;
        let known_bad = self
            .rejected
            .lock()
            .is_ok_and(|r| r.contains(version.as_str()));
        if version == self.current.load().fingerprint || known_bad {
            return Refresh::Unchanged;
        }
        match load_version(store, bucket, prefix, &version).await {
            Ok(loaded) => {
                let load_ms = loaded.load_time.as_secs_f64() * 1000.0;
                self.current.store(Arc::new(loaded));
                tracing::info!(version = %version, load_ms, "new config in service");
                Refresh::Swapped {
                    fingerprint: version,
                }
            }
            Err(failure) => {
                let reason = failure.error.to_string();
                if failure.permanent {
                    if let Ok(mut r) = self.rejected.lock() {
                        r.insert(version.clone());
                    }
                    tracing::error!(version = %version, error_type = failure.error.error_type(), %reason, serving = %self.current.load().fingerprint, "new config rejected; keeping the config in service");
                    Refresh::Rejected { version, reason }
                } else {
                    tracing::error!(version = %version, error_type = failure.error.error_type(), %reason, "new config could not be read; keeping the config in service");
                    Refresh::Failed { reason }
                }
            }
        }
    }
}

/// The current version, else the newest previous one that loads. Versions that do not load are
/// added to `rejected`.
async fn load_newest(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    rejected: &mut HashSet<String>,
) -> Result<Loaded, HostError> {
    let location = format!("s3://{bucket}/{prefix}");
    let no_config = |why: &str| {
        HostError::config(format!(
            "no config at {location}: {}{} {why}; upload one with `mailex config push`",
            location,
            config_store::POINTER
        ))
    };
    // Without s3:ListBucket (the template grants none), S3 answers a missing key with
    // AccessDenied: both mean "nothing usable was pushed here".
    let pointer = match config_store::read_pointer(store, bucket, prefix).await {
        Ok(Some(pointer)) => pointer,
        Ok(None) => return Err(no_config("does not exist")),
        Err(HostError::Unreadable {
            code: mailex_core::IssueCode::SourceAccessDenied,
            ..
        }) => return Err(no_config("cannot be read (missing, or access denied)")),
        Err(e) => return Err(e),
    };
    let mut reasons = Vec::new();
    let candidates = std::iter::once(&pointer.version).chain(&pointer.previous);
    for version in candidates {
        match load_version(store, bucket, prefix, version).await {
            Ok(loaded) => {
                if *version != pointer.version {
                    tracing::warn!(version = %version, current = %pointer.version, "serving an earlier config: the current one does not load");
                }
                return Ok(loaded);
            }
            Err(failure) => {
                tracing::error!(version = %version, error_type = failure.error.error_type(), reason = %failure.error, "config version rejected");
                if failure.permanent {
                    rejected.insert(version.clone());
                }
                reasons.push(format!("version {version}: {}", failure.error));
            }
        }
    }
    Err(HostError::config(format!(
        "no loadable config at {location}: {}",
        reasons.join("; ")
    )))
}

async fn load_version(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    version: &str,
) -> Result<Loaded, VersionFailure> {
    let downloaded = config_store::download(store, bucket, prefix, version)
        .await
        .map_err(|error| VersionFailure {
            permanent: matches!(
                error,
                HostError::Config { .. } | HostError::Unreadable { .. }
            ),
            error,
        })?;
    let config = downloaded.config();
    let root = downloaded.path().to_path_buf();
    let mut loaded = load_engine_file(config, &root, version.to_owned())
        .await
        .map_err(|error| VersionFailure {
            permanent: true,
            error,
        })?;
    loaded._dir = downloaded.into_temp_dir();
    Ok(loaded)
}

async fn load_file(path: PathBuf) -> Result<Loaded, HostError> {
    let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    load_engine_file(path, &root, "file".to_owned()).await
}

/// Loads an engine off the async runtime; errors name codes and locations relative to `root`.
async fn load_engine_file(
    config: PathBuf,
    root: &Path,
    fingerprint: String,
) -> Result<Loaded, HostError> {
    let started = Instant::now();
    let engine = tokio::task::spawn_blocking(move || bridge::load_engine(&config))
        .await
        .map_err(|_| HostError::config("config loading panicked"))?
        .map_err(|e| HostError::config(bridge::describe_config_error(&e, root)))?;
    Ok(Loaded {
        engine,
        fingerprint,
        load_time: started.elapsed(),
        _dir: None,
    })
}
