//! `mailex extract --analytics DIR`: the anonymised analytics copy of the run's records
//! (docs/analytics.md), written as Parquet below DIR, one file per day partition:
//! `DIR/dt=YYYY-MM-DD/part-<run>-<n>.parquet`.
//!
//! The pseudonym key is the value of `MAILEX_PSEUDONYM_KEY` (its bytes, as for a sink's
//! `pseudonym_key_env`); its id is `MAILEX_PSEUDONYM_KEY_ID`, by default the first 8 hex digits
//! of the SHA-256 of the key. Both are looked up as the sinks' secrets are (the Secrets Manager
//! secret of `MAILEX_SECRETS_ARN`, then the environment: [`super::secrets`]). Without a key the
//! command refuses to start.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use mailex_analytics::{AnalyticsRow, KEY_ID_VARIABLE, KEY_VARIABLE, RowContext, write_batch};
use mailex_core::pseudonym::PseudonymKey;
use mailex_core::{ProcessStats, Record};

/// Rows written per batch: a batch is one file per day partition, so a long run writes a few
/// files per day rather than holding every row.
const ROWS_PER_BATCH: usize = 100_000;

/// The analytics copy of one `mailex extract` run.
pub struct Analytics {
    dir: PathBuf,
    key: PseudonymKey,
    run_id: String,
    batches: usize,
    rows: Vec<AnalyticsRow>,
    files: usize,
}

impl Analytics {
    /// Starts the analytics copy into `dir`, with the key from `secrets` (the Secrets Manager
    /// secret of `MAILEX_SECRETS_ARN`, then the environment).
    pub fn start(dir: &Path, secrets: &mailex_delivery::SecretSource) -> anyhow::Result<Self> {
        let key = key_from(|name| secrets.get(name))?;
        let now = Utc::now();
        Ok(Analytics {
            dir: dir.to_owned(),
            key,
            run_id: format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), std::process::id()),
            batches: 0,
            rows: Vec::new(),
            files: 0,
        })
    }

    /// Adds the row of `record` (the `index`-th input of the run), made at `processed_at`.
    pub fn add(
        &mut self,
        record: &Record,
        cost: &ProcessStats,
        index: usize,
        processed_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let record_id = record
            .id
            .clone()
            .or_else(|| super::deliver::stable_id(record))
            // A stdin mail without Message-ID: unique within the run, stable across nothing.
            .unwrap_or_else(|| mailex_delivery::record_id(&format!("run:{}:{index}", self.run_id)));
        let context = RowContext {
            record_id,
            processed_at,
            extract_time: cost.extract_time,
            // The CLI delivers after the rows are made (`--deliver`): no latency here.
            delivery_latency: None,
        };
        self.rows
            .push(AnalyticsRow::from_record(record, &context, &self.key));
        if self.rows.len() >= ROWS_PER_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the rows not yet written; returns how many files the run wrote.
    pub fn finish(mut self) -> anyhow::Result<usize> {
        self.flush()?;
        Ok(self.files)
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        self.batches += 1;
        let batch_id = format!("{}-{}", self.run_id, self.batches);
        let files = write_batch(&self.rows, &batch_id)?;
        for file in files {
            let path = self.dir.join(&file.path);
            let parent = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
            // Written aside, then renamed: a reader never sees half a file.
            let partial = path.with_extension("parquet.partial");
            std::fs::write(&partial, &file.bytes)
                .with_context(|| format!("cannot write {}", partial.display()))?;
            std::fs::rename(&partial, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            self.files += 1;
        }
        self.rows.clear();
        Ok(())
    }
}

/// The pseudonym key from `lookup` (the environment): [`KEY_VARIABLE`], and [`KEY_ID_VARIABLE`]
/// or the id derived from the key ([`mailex_analytics::pseudonym_key`]); required.
fn key_from(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<PseudonymKey> {
    mailex_analytics::pseudonym_key(lookup)?.with_context(|| {
        format!(
            "--analytics needs a pseudonym key: set {KEY_VARIABLE} (a long random secret; \
             optionally {KEY_ID_VARIABLE} to name it), see docs/analytics.md"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let error = key_from(env(&[])).unwrap_err().to_string();
        assert!(error.contains(KEY_VARIABLE), "{error}");
        assert!(key_from(env(&[(KEY_VARIABLE, "")])).is_err());
        // hashlib.sha256(b"topsecret").hexdigest()[:8]
        let key = key_from(env(&[(KEY_VARIABLE, "topsecret")])).unwrap();
        assert_eq!(key.id(), "53336a67");
        let key = key_from(env(&[
            (KEY_VARIABLE, "topsecret"),
            (KEY_ID_VARIABLE, "2026-q4"),
        ]))
        .unwrap();
        assert_eq!(key.id(), "2026-q4");
        let error = key_from(env(&[(KEY_VARIABLE, "s"), (KEY_ID_VARIABLE, "a/b")])).unwrap_err();
        assert!(format!("{error:#}").contains(KEY_ID_VARIABLE));
    }
}
