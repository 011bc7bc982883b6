//! Delivery markers: one small object per (record, sink), written after the sink acknowledged,
//! so a retry of the same mail skips the sinks that already have it.
//!
//! Markers live next to the record: `<record key>.delivered/<sink>`, e.g.
//! `records/<id>.json.delivered/crm` in S3 (the Lambda host's store) or
//! `<dir>/<id>.json.delivered/crm` on disk ([`DirMarkers`], the CLI's store).

use std::future::Future;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The key of a sink's marker for the record stored at `record_key`.
pub fn marker_key(record_key: &str, sink: &str) -> String {
    format!("{record_key}.delivered/{sink}")
}

/// What a marker holds (JSON): which sink took which record, when, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The sink's name.
    pub sink: String,
    /// The sink's kind.
    pub kind: String,
    /// The record id.
    pub record_id: String,
    /// When the sink acknowledged (RFC 3339, UTC).
    pub delivered_at: String,
    /// Attempts it took.
    pub attempts: u32,
    /// The sink's acknowledgement (an HTTP status, a message or event id).
    pub ack: String,
}

/// A marker could not be read or written (a message without record content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MarkerError(pub String);

/// Where delivery markers are kept.
pub trait MarkerStore: Sync {
    /// Whether `sink` has acknowledged the record `record_id`.
    fn is_delivered(
        &self,
        record_id: &str,
        sink: &str,
    ) -> impl Future<Output = Result<bool, MarkerError>> + Send;

    /// Records that `sink` acknowledged the record `record_id`.
    fn mark_delivered(
        &self,
        record_id: &str,
        sink: &str,
        marker: &Marker,
    ) -> impl Future<Output = Result<(), MarkerError>> + Send;
}

/// Markers in a local directory: `<dir>/<id>.json.delivered/<sink>`.
#[derive(Debug, Clone)]
pub struct DirMarkers {
    root: PathBuf,
}

impl DirMarkers {
    /// Markers under `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirMarkers { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, record_id: &str, sink: &str) -> Result<PathBuf, MarkerError> {
        let safe = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !safe(record_id) || !safe(sink) {
            return Err(MarkerError(
                "a record id or sink name is not a safe file name".to_owned(),
            ));
        }
        Ok(self
            .root
            .join(marker_key(&format!("{record_id}.json"), sink)))
    }
}

impl MarkerStore for DirMarkers {
    async fn is_delivered(&self, record_id: &str, sink: &str) -> Result<bool, MarkerError> {
        let path = self.path(record_id, sink)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(MarkerError(format!("reading {}: {e}", path.display()))),
        }
    }

    async fn mark_delivered(
        &self,
        record_id: &str,
        sink: &str,
        marker: &Marker,
    ) -> Result<(), MarkerError> {
        let path = self.path(record_id, sink)?;
        let fail = |e: std::io::Error| MarkerError(format!("writing {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(fail)?;
        }
        let json = serde_json::to_vec(marker).map_err(|e| MarkerError(e.to_string()))?;
        // Written whole or not at all: a temporary file renamed into place.
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        tokio::fs::write(&temporary, json).await.map_err(fail)?;
        tokio::fs::rename(&temporary, &path).await.map_err(fail)
    }
}
