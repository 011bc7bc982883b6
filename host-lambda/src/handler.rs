//! The handler: event in, one record per mail out, a response that tells Lambda or SQS what
//! to retry.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::bridge;
use crate::error::HostError;
use crate::event::{self, Event, IgnoreReason, Unit, Verdicts};
use crate::keys;
use crate::live::LiveEngine;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::S3Store;

/// What became of one unit that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A record was written.
    Written {
        /// Output key of the record.
        key: String,
        /// Record status.
        status: String,
    },
    /// The unit carried no mail.
    Ignored(IgnoreReason),
}

/// The Lambda host: settings, S3 and the engine in service.
#[derive(Debug)]
pub struct Host {
    settings: Settings,
    store: S3Store,
    engine: LiveEngine,
}

struct Work {
    id: String,
    source: String,
    event_time: Option<DateTime<Utc>>,
    verdicts: Option<Verdicts>,
    body: Body,
}

enum Body {
    Fetch {
        bucket: String,
        key: String,
        size: Option<u64>,
    },
    Inline(Vec<u8>),
}

impl Host {
    /// Loads the config (from the package or S3) and builds the host.
    pub async fn new(settings: Settings, store: S3Store) -> Result<Self, HostError> {
        let engine =
            LiveEngine::load(settings.config.clone(), settings.config_refresh, &store).await?;
        Ok(Host {
            settings,
            store,
            engine,
        })
    }

    /// The engine in service (for reporting and tests).
    pub fn engine(&self) -> &LiveEngine {
        &self.engine
    }

    /// The S3 store.
    pub fn store(&self) -> &S3Store {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Handles one invocation.
    ///
    /// - SQS batch: always `Ok({"batchItemFailures": [...]})` naming the messages to retry.
    /// - S3, SNS: `Ok` only if every mail got its record; otherwise `Err`, so Lambda retries.
    /// - SES receipt (Lambda action): as S3, answered with `{"disposition": "CONTINUE"}`.
    pub async fn handle(
        self: &Arc<Self>,
        payload: Value,
        request_id: &str,
    ) -> Result<Value, HostError> {
        let span = tracing::info_span!("invoke", request_id = %request_id);
        self.handle_inner(payload).instrument(span).await
    }

    async fn handle_inner(self: &Arc<Self>, payload: Value) -> Result<Value, HostError> {
        self.engine.refresh_if_due(&self.store).await;
        let event = event::decode(&payload)?;
        let semaphore = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut metrics = Metrics::new();
        let response = match event {
            Event::Sqs(messages) => {
                let mut groups = Vec::with_capacity(messages.len());
                let mut failures = Vec::new();
                for message in messages {
                    match message.units {
                        Ok(units) => groups.push((message.message_id, units)),
                        Err(reason) => {
                            tracing::error!(sqs_message_id = %message.message_id, %reason, "undecodable SQS message");
                            metrics.error();
                            failures.push(message.message_id);
                        }
                    }
                }
                let flat: Vec<(usize, Unit)> = groups
                    .iter()
                    .enumerate()
                    .flat_map(|(i, (_, units))| units.iter().cloned().map(move |u| (i, u)))
                    .collect();
                let results = self.run_all(flat, &semaphore, &mut metrics).await;
                let mut failed_groups = vec![false; groups.len()];
                for (group, result) in results {
                    if result.is_err() {
                        failed_groups[group] = true;
                    }
                }
                for (i, (id, _)) in groups.iter().enumerate() {
                    if failed_groups[i] {
                        failures.push(id.clone());
                    }
                }
                json!({ "batchItemFailures": failures.iter().map(|id| json!({"itemIdentifier": id})).collect::<Vec<_>>() })
            }
            Event::Direct(units) | Event::Ses(units) => {
                let is_ses = units.iter().any(|u| matches!(u, Unit::SesReceipt(_)));
                let total = units.len();
                let results = self
                    .run_all(
                        units.into_iter().map(|u| (0, u)).collect(),
                        &semaphore,
                        &mut metrics,
                    )
                    .await;
                let failed: Vec<HostError> =
                    results.into_iter().filter_map(|(_, r)| r.err()).collect();
                if let Some(first) = failed.into_iter().next() {
                    metrics.emit();
                    return Err(first);
                }
                if is_ses {
                    json!({ "disposition": "CONTINUE" })
                } else {
                    json!({ "processed": total })
                }
            }
        };
        metrics.emit();
        Ok(response)
    }

    async fn run_all(
        self: &Arc<Self>,
        units: Vec<(usize, Unit)>,
        semaphore: &Arc<Semaphore>,
        metrics: &mut Metrics,
    ) -> Vec<(usize, Result<Outcome, HostError>)> {
        let mut set = tokio::task::JoinSet::new();
        let group_of: Vec<usize> = units.iter().map(|(group, _)| *group).collect();
        for (index, (_, unit)) in units.into_iter().enumerate() {
            let host = Arc::clone(self);
            let semaphore = Arc::clone(semaphore);
            set.spawn(
                async move {
                    let _permit = semaphore.acquire_owned().await;
                    let mut local = Metrics::new();
                    let result = host.process_unit(unit, &mut local).await;
                    (index, result, local)
                }
                .in_current_span(),
            );
        }
        let mut out: Vec<Option<Result<Outcome, HostError>>> =
            group_of.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((index, result, local)) => {
                    metrics.merge(local);
                    out[index] = Some(result);
                }
                Err(e) => tracing::error!(error = %e, "unit task died"),
            }
        }
        // A task that died (a bug) fails its own message, which is then retried, never lost.
        out.into_iter()
            .zip(group_of)
            .map(|(slot, group)| {
                (
                    group,
                    slot.unwrap_or_else(|| Err(HostError::event("processing task died"))),
                )
            })
            .collect()
    }

    /// Processes one unit: fetch, extract, write. `Err` means "retry this message".
    pub async fn process_unit(
        &self,
        unit: Unit,
        metrics: &mut Metrics,
    ) -> Result<Outcome, HostError> {
        let work = match self.prepare(unit) {
            Ok(work) => work,
            Err(Outcome::Ignored(reason)) => {
                tracing::info!(?reason, "ignored notification");
                return Ok(Outcome::Ignored(reason));
            }
            Err(other) => return Ok(other),
        };
        let result = self.write_record(work, metrics).await;
        if let Err(e) = &result {
            metrics.error();
            tracing::error!(error = %e, "message failed; it will be retried");
        }
        result
    }

    fn prepare(&self, unit: Unit) -> Result<Work, Outcome> {
        match unit {
            Unit::Ignored(reason) => Err(Outcome::Ignored(reason)),
            Unit::Object(o) => {
                if o.bucket == self.settings.output_bucket
                    && o.key.starts_with(&self.settings.output_prefix)
                {
                    tracing::warn!(
                        "event names an object under the output prefix; ignored to avoid a loop"
                    );
                    return Err(Outcome::Ignored(IgnoreReason::NotObjectCreated(
                        "output prefix".into(),
                    )));
                }
                Ok(Work {
                    id: keys::object_id(&o.bucket, &o.key),
                    source: format!("s3://{}/{}", o.bucket, o.key),
                    event_time: o.event_time,
                    verdicts: o.verdicts,
                    body: Body::Fetch {
                        bucket: o.bucket,
                        key: o.key,
                        size: o.size,
                    },
                })
            }
            Unit::SesReceipt(r) => {
                // Without a configured bucket the receipt cannot be resolved; the fetch below
                // fails with a clear error and the event is retried, never dropped.
                let bucket = self.settings.ses_bucket.clone().unwrap_or_default();
                let key = format!("{}{}", self.settings.ses_prefix, r.message_id);
                Ok(Work {
                    id: keys::object_id(&bucket, &key),
                    source: format!("s3://{bucket}/{key}"),
                    event_time: r.timestamp,
                    verdicts: Some(r.verdicts),
                    body: Body::Fetch {
                        bucket,
                        key,
                        size: None,
                    },
                })
            }
            Unit::Inline(m) => Ok(Work {
                id: keys::ses_inline_id(&m.message_id),
                source: format!("ses:{}", m.message_id),
                event_time: m.timestamp,
                verdicts: Some(m.verdicts),
                body: Body::Inline(m.raw),
            }),
        }
    }

    async fn write_record(&self, work: Work, metrics: &mut Metrics) -> Result<Outcome, HostError> {
        let loaded = self.engine.current();
        let cap = bridge::max_input_bytes(&loaded.engine);
        let virus = work.verdicts.as_ref().is_some_and(Verdicts::virus_failed);
        let started = Instant::now();
        let (record, input_bytes) = if virus {
            let size = match &work.body {
                Body::Fetch { size, .. } => size.unwrap_or(0),
                Body::Inline(raw) => raw.len() as u64,
            };
            (bridge::virus_record(work.source.clone(), size), size)
        } else {
            let (raw, size) = match work.body {
                Body::Inline(raw) => {
                    let size = raw.len() as u64;
                    (raw, size)
                }
                Body::Fetch { bucket, key, .. } => {
                    if bucket.is_empty() {
                        return Err(HostError::config(
                            "an SES receipt event arrived but MAILEX_SES_BUCKET is not set",
                        ));
                    }
                    let fetched = self.store.get_capped(&bucket, &key, cap).await?;
                    (fetched.bytes, fetched.size)
                }
            };
            let source = work.source.clone();
            let event_time = work.event_time;
            let verdicts = work.verdicts.clone();
            let engine = Arc::clone(&loaded);
            let joined = tokio::task::spawn_blocking(move || {
                bridge::run(&engine.engine, &raw, source, event_time, verdicts.as_ref())
            })
            .await;
            let mut record = match joined {
                Ok(record) => record,
                Err(_) => bridge::crashed_record(work.source.clone(), size),
            };
            record.input_bytes = size;
            (record, size)
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (status, advertiser, degraded) = bridge::summary(&record);
        let day = record
            .received_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .or(work.event_time)
            .unwrap_or_else(Utc::now);
        let key = keys::record_key(
            &self.settings.output_prefix,
            status,
            advertiser,
            day,
            &work.id,
        );
        let json = serde_json::to_vec(&record)
            .map_err(|e| HostError::event(format!("record could not be serialised: {e}")))?;
        self.store
            .put_json(&self.settings.output_bucket, &key, json)
            .await?;
        let advertiser_dim = keys::partition_value(advertiser);
        metrics.record(status, &advertiser_dim, degraded, duration_ms, input_bytes);
        tracing::info!(record_id = %work.id, status, advertiser = %advertiser_dim, degraded, input_bytes, duration_ms, "record written");
        Ok(Outcome::Written {
            key,
            status: status.to_owned(),
        })
    }
}
