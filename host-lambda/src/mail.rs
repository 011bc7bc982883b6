//! One mail, one record: reading a mail and running the engine on it, the same way for the
//! function and for replay, so that unchanged mail gives byte-identical records.
//!
//! The record's time (`received_at`) is the stored object's `Last-Modified`, when S3 stored the
//! mail (for SES, the time of receipt): both the function and replay read it from the same
//! `GetObject` answer. Mail that has no object (inline SES mail) or whose object is gone takes
//! the notification's time.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use mailex_core::Record;

use crate::bridge;
use crate::error::HostError;
use crate::event::Verdicts;
use crate::live::Loaded;
use crate::metrics::StageTimes;
use crate::store::S3Store;

/// Where a mail's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// A stored object.
    Object {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// Carried in the notification.
    Inline(Vec<u8>),
}

/// A mail to turn into its record.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    /// The record id ([`crate::record_id`] of `source`).
    pub id: String,
    /// The record's `source`.
    pub source: String,
    /// The size the notification announced, if any.
    pub size_hint: Option<u64>,
    /// The notification's time (S3 event time, SES receipt timestamp), for mail without a
    /// readable object.
    pub event_time: Option<DateTime<Utc>>,
    /// SES verdicts, when the mail came with an SES receipt.
    pub verdicts: Option<Verdicts>,
    /// The bytes.
    pub body: Body,
}

/// The record of `mail`, with its `id`. Only a transient failure is an error (the message must
/// be retried); a mail that is gone or unreadable gets a `failed` record. `store` is needed for
/// a [`Body::Object`] only.
pub(crate) async fn record_of(
    mail: Mail,
    loaded: &Arc<Loaded>,
    store: Option<&S3Store>,
) -> Result<Record, HostError> {
    record_of_timed(mail, loaded, store)
        .await
        .map(|(record, _)| record)
}

/// [`record_of`], and how long the S3 read and the engine took (the function's metrics).
pub(crate) async fn record_of_timed(
    mail: Mail,
    loaded: &Arc<Loaded>,
    store: Option<&S3Store>,
) -> Result<(Record, StageTimes), HostError> {
    let mut times = StageTimes::default();
    let ms = |since: Instant| Some(since.elapsed().as_secs_f64() * 1000.0);
    let Mail {
        id,
        source,
        size_hint,
        event_time,
        verdicts,
        body,
    } = mail;
    let mut record = if verdicts.as_ref().is_some_and(Verdicts::virus_failed) {
        let size = match &body {
            Body::Inline(raw) => raw.len() as u64,
            Body::Object { .. } => size_hint.unwrap_or(0),
        };
        dated(mailex_core::virus_record(source, size), event_time)
    } else {
        let (raw, received_at) = match body {
            Body::Inline(raw) => (raw, event_time),
            Body::Object { bucket, key } => {
                let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
                let cap = bridge::max_input_bytes(&loaded.engine);
                let started = Instant::now();
                let fetched = store.get_capped(&bucket, &key, cap).await;
                times.read_ms = ms(started);
                match fetched {
                    Ok(fetched) if fetched.over_cap => {
                        let record = loaded.engine.too_large(&source, fetched.size);
                        let mut record = dated(record, fetched.last_modified.or(event_time));
                        record.id = Some(id);
                        return Ok((record, times));
                    }
                    Ok(fetched) => (fetched.bytes, fetched.last_modified.or(event_time)),
                    Err(HostError::Unreadable { code, message, .. }) => {
                        let size = size_hint.unwrap_or(0);
                        let record = bridge::unreadable_record(source, size, code, &message);
                        let mut record = dated(record, event_time);
                        record.id = Some(id);
                        return Ok((record, times));
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let size = raw.len() as u64;
        let worker = Arc::clone(loaded);
        let worker_source = source.clone();
        let started = Instant::now();
        let joined = tokio::task::spawn_blocking(move || {
            bridge::run(
                &worker.engine,
                &raw,
                worker_source,
                received_at,
                verdicts.as_ref(),
            )
        })
        .await;
        times.extraction_ms = ms(started);
        match joined {
            Ok((record, stats)) => {
                times.extractor = stats.extract_time;
                record
            }
            Err(_) => dated(bridge::crashed_record(source, size), received_at),
        }
    };
    record.id = Some(id);
    Ok((record, times))
}

/// Sets `received_at` on a record the host made itself, formatted as the engine does.
fn dated(mut record: Record, time: Option<DateTime<Utc>>) -> Record {
    record.received_at = time.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    record
}
