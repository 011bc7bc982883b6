//! The analytics copy written by the function (docs/analytics.md): per invocation, one Parquet
//! file per `dt=` partition of the batch's rows, at
//! `s3://<output bucket>/<MAILEX_ANALYTICS_PREFIX>dt=YYYY-MM-DD/part-<batch>.parquet`.
//!
//! A row is made once its record is stored and delivered, and written at the end of the
//! invocation with the rows of every message that succeeded; rows of a message that is retried
//! are not written (they are made again by the retry). The batch id is derived from the
//! batch's record ids ([`batch_id`]), so a retry of the same batch writes the same keys and
//! overwrites its files rather than adding copies. A file that cannot be written fails the
//! messages of its rows (they are retried; their records are rewritten at the same key and
//! delivery markers keep the sinks from a second copy), is counted (`AnalyticsWriteErrors`) and
//! logged with its key, never a value.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mailex_analytics::{AnalyticsRow, KEY_VARIABLE, RowContext, write_batch};
use mailex_core::Record;
use mailex_core::pseudonym::PseudonymKey;
use sha2::{Digest, Sha256};

use crate::error::HostError;
use crate::metrics::Metrics;
use crate::store::S3Store;

/// The content type of the Parquet objects.
const PARQUET_CONTENT_TYPE: &str = "application/vnd.apache.parquet";

/// The analytics copy of this function: where it goes and the pseudonym key.
#[derive(Debug)]
pub(crate) struct AnalyticsCopy {
    key: PseudonymKey,
    /// The key prefix in the output bucket, ending in `/`.
    prefix: String,
}

impl AnalyticsCopy {
    /// The analytics copy when `prefix` is set and `secrets` (the Secrets Manager secret, then
    /// the environment) holds a pseudonym key; `None` otherwise. Logs once which it is, with
    /// the prefix and the key id, never the key. A key id that is not valid fails the cold start.
    pub(crate) fn configure(
        prefix: Option<&str>,
        secrets: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, HostError> {
        let key = mailex_analytics::pseudonym_key(secrets)
            .map_err(|e| HostError::config(e.to_string()))?;
        match (prefix, key) {
            (None, _) => {
                tracing::info!("analytics copy off: MAILEX_ANALYTICS_PREFIX is not set");
                Ok(None)
            }
            (Some(prefix), None) => {
                tracing::warn!(
                    analytics_prefix = prefix,
                    "analytics copy off: MAILEX_ANALYTICS_PREFIX is set but {KEY_VARIABLE} is in neither the Secrets Manager secret nor the environment"
                );
                Ok(None)
            }
            (Some(prefix), Some(key)) => {
                tracing::info!(
                    analytics_prefix = prefix,
                    pseudonym_key_id = key.id(),
                    "analytics copy on"
                );
                Ok(Some(AnalyticsCopy {
                    key,
                    prefix: prefix.to_owned(),
                }))
            }
        }
    }

    /// The row of a stored (and delivered) record.
    pub(crate) fn row(
        &self,
        record: &Record,
        processed_at: DateTime<Utc>,
        extract_time: Option<Duration>,
        delivery_latency: Option<BTreeMap<String, Duration>>,
    ) -> AnalyticsRow {
        let context = RowContext {
            record_id: record.id.clone().unwrap_or_default(),
            processed_at,
            extract_time,
            delivery_latency,
        };
        AnalyticsRow::from_record(record, &context, &self.key)
    }

    /// Writes `rows` (each with the index of the message it belongs to) as one file per day
    /// partition to `bucket`; returns the messages whose rows could not be written. A record
    /// that appears twice (two messages for one mail) gets one row.
    pub(crate) async fn write(
        &self,
        store: &S3Store,
        bucket: &str,
        rows: Vec<(usize, AnalyticsRow)>,
        metrics: &mut Metrics,
    ) -> BTreeSet<usize> {
        let mut by_id: BTreeMap<String, (BTreeSet<usize>, AnalyticsRow)> = BTreeMap::new();
        for (group, row) in rows {
            let entry = by_id
                .entry(row.record_id.clone())
                .or_insert_with(|| (BTreeSet::new(), row.clone()));
            entry.0.insert(group);
            entry.1 = row;
        }
        if by_id.is_empty() {
            return BTreeSet::new();
        }
        let batch = batch_id(by_id.keys().map(String::as_str));
        let mut groups_by_day: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (groups, row) in by_id.values() {
            groups_by_day
                .entry(row.dt())
                .or_default()
                .extend(groups.iter().copied());
        }
        let rows: Vec<AnalyticsRow> = by_id.into_values().map(|(_, row)| row).collect();
        let files = match write_batch(&rows, &batch) {
            Ok(files) => files,
            Err(e) => {
                metrics.analytics_write_error();
                tracing::error!(
                    error_type = "Mailex.AnalyticsWriteError",
                    error = %e,
                    rows = rows.len(),
                    "analytics rows could not be encoded; their messages will be retried"
                );
                return groups_by_day.into_values().flatten().collect();
            }
        };
        let mut failed = BTreeSet::new();
        for file in files {
            let key = format!("{}{}", self.prefix, file.path);
            let day = file
                .path
                .strip_prefix("dt=")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_owned();
            let rows = file.rows;
            match store
                .put(bucket, &key, PARQUET_CONTENT_TYPE, file.bytes)
                .await
            {
                Ok(()) => {
                    metrics.analytics_rows(rows as u64);
                    tracing::info!(analytics_key = %key, rows, "analytics rows written");
                }
                Err(e) => {
                    metrics.analytics_write_error();
                    tracing::error!(
                        error_type = "Mailex.AnalyticsWriteError",
                        error = %e,
                        analytics_key = %key,
                        rows,
                        "analytics file not written; the messages of its rows will be retried"
                    );
                    failed.extend(groups_by_day.remove(&day).unwrap_or_default());
                }
            }
        }
        failed
    }
}

/// The batch id of a batch of records: the first 32 hex digits of the SHA-256 of their sorted,
/// distinct ids, one per line. The same records give the same id (a retried batch overwrites
/// its files), and the id names no record.
pub fn batch_id<'a>(record_ids: impl IntoIterator<Item = &'a str>) -> String {
    let ids: BTreeSet<&str> = record_ids.into_iter().collect();
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    let mut hex = hex::encode(hasher.finalize());
    hex.truncate(32);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_id_depends_on_the_set_of_records_only() {
        let a = batch_id(["b", "a", "c"]);
        assert_eq!(a, batch_id(["a", "b", "c", "a"]));
        assert_ne!(a, batch_id(["a", "b"]));
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn off_without_a_prefix_or_a_key_and_a_bad_key_id_fails() {
        let key = |name: &str| (name == KEY_VARIABLE).then(|| "secret".to_owned());
        assert!(AnalyticsCopy::configure(None, &key).unwrap().is_none());
        assert!(
            AnalyticsCopy::configure(Some("analytics/"), &|_| None)
                .unwrap()
                .is_none()
        );
        let on = AnalyticsCopy::configure(Some("analytics/"), &key)
            .unwrap()
            .unwrap();
        assert_eq!(on.prefix, "analytics/");
        let bad_id = |name: &str| match name {
            KEY_VARIABLE => Some("secret".to_owned()),
            _ => Some("not/an/id".to_owned()),
        };
        let error = AnalyticsCopy::configure(Some("analytics/"), &bad_id).unwrap_err();
        assert!(
            error.to_string().contains("MAILEX_PSEUDONYM_KEY_ID"),
            "{error}"
        );
        assert!(!error.to_string().contains("secret\""), "{error}");
    }
}
