//! The handler: event in, one record per mail out, a response that tells Lambda or SQS what
//! to retry.
//!
//! Failures are sorted once: a transient one (S3 unreachable, throttled, timed out) fails the
//! message so it is retried (`batchItemFailures` for SQS, an error answer otherwise); a
//! permanent one (the mail is gone or unreadable, the notification cannot be decoded) becomes
//! a `failed` record with a code saying why, and the message is done: retrying cannot help.
//!
//! Near the invocation's deadline ([`Host::handle_until`]) no further message is started: the
//! rest fail with [`HostError::DeadlineNear`] and go back to SQS, counted as `DeferredMessages`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::analytics::AnalyticsCopy;
use crate::bridge;
use crate::budget::MemoryBudget;
use crate::delivery::{Deliverers, S3Markers, SecretLookup};
use crate::error::HostError;
use crate::event::{self, Event, IgnoreReason, Unit};
use crate::keys;
use crate::live::{LiveEngine, Refresh};
use crate::mail::{self, Body, Mail};
use crate::metrics::{Metrics, StageTimes};
use crate::settings::Settings;
use crate::store::S3Store;
use mailex_analytics::AnalyticsRow;
use mailex_core::Record;

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

/// The Lambda host: settings, S3, the engine in service and the memory budget.
#[derive(Debug)]
pub struct Host {
    settings: Settings,
    store: S3Store,
    engine: LiveEngine,
    budget: MemoryBudget,
    deliverers: Deliverers,
    markers: S3Markers,
    /// The analytics copy, when `MAILEX_ANALYTICS_PREFIX` and a pseudonym key are configured.
    analytics: Option<AnalyticsCopy>,
    /// True until the first invocation of this execution environment (the `ColdStart` metric).
    cold: AtomicBool,
}

/// One piece of work of a batch.
enum Work {
    /// A mail to read and extract.
    Mail(Box<Mail>),
    /// A notification that cannot be decoded: it gets a `bad_event` record.
    Undecodable {
        /// `sqs:<messageId>` or `event:sha256:<hex>`.
        source: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A notification without mail.
    Ignored(IgnoreReason),
}

impl Host {
    /// Loads the config (from the package or S3) and builds the host. Secrets (the sinks', the
    /// analytics copy's pseudonym key) are looked up by name through
    /// [`mailex_delivery::SecretSource`]: in the Secrets Manager secret of
    /// [`Settings::secrets_id`], when there is one, and else in the process environment.
    pub async fn new(settings: Settings, store: S3Store) -> Result<Self, HostError> {
        let env: mailex_delivery::EnvLookup = Arc::new(|name: &str| std::env::var(name).ok());
        let source = mailex_delivery::SecretSource::load(
            settings.secrets_id.as_deref(),
            env,
            store.sdk_config(),
            settings.delivery_endpoint.as_deref(),
        )
        .await
        .map_err(|e| HostError::config(e.to_string()))?;
        if let Some(id) = &settings.secrets_id {
            tracing::info!(
                secret = %id,
                names = source.stored_names().collect::<Vec<_>>().join(","),
                "secrets read from AWS Secrets Manager"
            );
        }
        Host::with_secrets(settings, store, Arc::new(move |name| source.get(name))).await
    }

    /// [`Host::new`] with the secrets looked up through `secrets` (tests): the sinks' and the
    /// analytics copy's pseudonym key. A sink whose secret is missing fails the cold start; the
    /// analytics copy is off without a key (logged once, here).
    pub async fn with_secrets(
        settings: Settings,
        store: S3Store,
        secrets: SecretLookup,
    ) -> Result<Self, HostError> {
        let engine =
            LiveEngine::load(settings.config.clone(), settings.config_refresh, &store).await?;
        let budget = MemoryBudget::new(settings.memory_budget_bytes);
        let options = mailex_delivery::DeliveryOptions {
            aws: store.sdk_config().cloned(),
            aws_endpoint: settings.delivery_endpoint.clone(),
        };
        let analytics =
            AnalyticsCopy::configure(settings.analytics_prefix.as_deref(), secrets.as_ref())?;
        let deliverers = Deliverers::new(secrets, options);
        deliverers.for_version(&engine.current())?;
        let markers = S3Markers::new(
            store.clone(),
            settings.output_bucket.clone(),
            settings.output_prefix.clone(),
        );
        Ok(Host {
            settings,
            store,
            engine,
            budget,
            deliverers,
            markers,
            analytics,
            cold: AtomicBool::new(true),
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

    /// The memory budget of the mail in flight.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Handles one invocation.
    ///
    /// - SQS batch: always `Ok({"batchItemFailures": [...]})` naming the messages to retry.
    /// - S3, SNS: `Ok({"processed": n})` once every unit is done; `Err` when one failed
    ///   transiently, so Lambda retries.
    /// - SES receipt (Lambda action): as S3, answered with `{"disposition": "CONTINUE"}`.
    /// - A payload of unknown shape gets one `bad_event` record and `Ok({"processed": 1})`.
    pub async fn handle(
        self: &Arc<Self>,
        payload: Value,
        request_id: &str,
    ) -> Result<Value, HostError> {
        self.handle_until(payload, request_id, None).await
    }

    /// [`Host::handle`] within the invocation's `deadline` (the Lambda context's): a message
    /// is not started when less than `MAILEX_DEADLINE_MARGIN_MS` is left; it fails with
    /// [`HostError::DeadlineNear`], so SQS redelivers it (`batchItemFailures`) instead of
    /// Lambda stopping the invocation in the middle of the batch.
    pub async fn handle_until(
        self: &Arc<Self>,
        payload: Value,
        request_id: &str,
        deadline: Option<SystemTime>,
    ) -> Result<Value, HostError> {
        let span = tracing::info_span!("invoke", request_id = %request_id);
        let cutoff = deadline.map(|deadline| {
            let left = deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            Instant::now() + left.saturating_sub(self.settings.deadline_margin)
        });
        self.handle_inner(payload, cutoff).instrument(span).await
    }

    async fn handle_inner(
        self: &Arc<Self>,
        payload: Value,
        cutoff: Option<Instant>,
    ) -> Result<Value, HostError> {
        let mut metrics = Metrics::new();
        if self.cold.swap(false, Ordering::Relaxed) {
            metrics.cold_start();
            metrics.config_rejected(self.engine.rejected_versions() as u64);
        }
        match self.engine.refresh_if_due(&self.store).await {
            Refresh::Swapped { .. } => metrics.config_swapped(),
            Refresh::Rejected { .. } => metrics.config_rejected(1),
            Refresh::Skipped | Refresh::Unchanged | Refresh::Failed { .. } => {}
        }
        let event = match event::decode(&payload) {
            Ok(event) => event,
            Err(e) => {
                let digest = hex::encode(Sha256::digest(payload.to_string().as_bytes()));
                let work = Work::Undecodable {
                    source: format!("event:sha256:{digest}"),
                    reason: e.to_string(),
                };
                let (result, row) = self.process(work, &mut metrics, None).await;
                let result = match result {
                    Ok(_) => self.write_analytics(vec![(0, row)], &mut metrics).await,
                    Err(e) => Err(e),
                };
                metrics.emit(&self.settings.metrics);
                return result.map(|_| json!({ "processed": 1 }));
            }
        };
        let semaphore = Arc::new(Semaphore::new(self.settings.concurrency));
        let response = match event {
            Event::Sqs(messages) => {
                let mut ids = Vec::with_capacity(messages.len());
                let mut flat = Vec::new();
                for (group, message) in messages.into_iter().enumerate() {
                    match message.units {
                        Ok(units) => {
                            flat.extend(units.into_iter().map(|u| (group, self.prepare(u))));
                        }
                        Err(reason) => {
                            let source = format!("sqs:{}", message.message_id);
                            flat.push((group, Work::Undecodable { source, reason }));
                        }
                    }
                    ids.push(message.message_id);
                }
                let results = self.run_all(flat, &semaphore, cutoff, &mut metrics).await;
                let mut failed_groups = vec![false; ids.len()];
                for (group, result, _) in &results {
                    if result.is_err() {
                        failed_groups[*group] = true;
                    }
                }
                // Rows of the messages that succeeded; a retried message makes its rows again.
                let rows = results
                    .into_iter()
                    .filter(|(group, _, _)| !failed_groups[*group])
                    .map(|(group, _, row)| (group, row))
                    .collect();
                for group in self.write_analytics_of(rows, &mut metrics).await {
                    failed_groups[group] = true;
                    metrics.error();
                }
                let failures: Vec<Value> = ids
                    .iter()
                    .zip(failed_groups)
                    .filter(|(_, failed)| *failed)
                    .map(|(id, _)| json!({ "itemIdentifier": id }))
                    .collect();
                json!({ "batchItemFailures": failures })
            }
            Event::Direct(units) | Event::Ses(units) => {
                let is_ses = units.iter().any(|u| matches!(u, Unit::SesReceipt(_)));
                let total = units.len();
                let work = units.into_iter().map(|u| (0, self.prepare(u))).collect();
                let results = self.run_all(work, &semaphore, cutoff, &mut metrics).await;
                let mut rows = Vec::with_capacity(results.len());
                let mut first_error = None;
                for (_, result, row) in results {
                    match result {
                        Ok(_) => rows.push((0, row)),
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                // The whole event is retried when a unit failed: its rows are made again then.
                let written = match first_error {
                    Some(e) => Err(e),
                    None => self.write_analytics(rows, &mut metrics).await,
                };
                if let Err(e) = written {
                    metrics.emit(&self.settings.metrics);
                    return Err(e);
                }
                if is_ses {
                    json!({ "disposition": "CONTINUE" })
                } else {
                    json!({ "processed": total })
                }
            }
        };
        metrics.emit(&self.settings.metrics);
        Ok(response)
    }

    async fn run_all(
        self: &Arc<Self>,
        work: Vec<(usize, Work)>,
        semaphore: &Arc<Semaphore>,
        cutoff: Option<Instant>,
        metrics: &mut Metrics,
    ) -> Vec<(usize, Result<Outcome, HostError>, Option<AnalyticsRow>)> {
        let mut set = tokio::task::JoinSet::new();
        let group_of: Vec<usize> = work.iter().map(|(group, _)| *group).collect();
        for (index, (_, item)) in work.into_iter().enumerate() {
            let host = Arc::clone(self);
            let semaphore = Arc::clone(semaphore);
            set.spawn(
                async move {
                    let _permit = semaphore.acquire_owned().await;
                    let mut local = Metrics::new();
                    let (result, row) = host.process(item, &mut local, cutoff).await;
                    (index, result, row, local)
                }
                .in_current_span(),
            );
        }
        type Done = (Result<Outcome, HostError>, Option<AnalyticsRow>);
        let mut out: Vec<Option<Done>> = group_of.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((index, result, row, local)) => {
                    metrics.merge(local);
                    out[index] = Some((result, row));
                }
                Err(e) => tracing::error!(error = %e, "unit task died"),
            }
        }
        let deferred = out
            .iter()
            .filter(|r| matches!(r, Some((Err(HostError::DeadlineNear), _))))
            .count();
        if deferred > 0 {
            tracing::warn!(
                deferred,
                "invocation deadline near: messages not started are left for redelivery"
            );
        }
        // A task that died (a bug) fails its own message, which is then retried, never lost.
        out.into_iter()
            .zip(group_of)
            .map(|(slot, group)| {
                let (result, row) =
                    slot.unwrap_or_else(|| (Err(HostError::event("processing task died")), None));
                (group, result, row)
            })
            .collect()
    }

    /// Processes one unit: fetch, extract, write, deliver, and its analytics row.
    /// `Err` means "retry this message".
    pub async fn process_unit(
        &self,
        unit: Unit,
        metrics: &mut Metrics,
    ) -> Result<Outcome, HostError> {
        let (result, row) = self.process(self.prepare(unit), metrics, None).await;
        let outcome = result?;
        self.write_analytics(vec![(0, row)], metrics).await?;
        Ok(outcome)
    }

    /// Writes the analytics rows of a batch (with the index of each one's message), when the
    /// analytics copy is on; returns the messages whose rows could not be written, so they are
    /// retried (see [`crate::analytics`]).
    async fn write_analytics_of(
        &self,
        rows: Vec<(usize, Option<AnalyticsRow>)>,
        metrics: &mut Metrics,
    ) -> BTreeSet<usize> {
        let Some(analytics) = &self.analytics else {
            return BTreeSet::new();
        };
        let rows = rows
            .into_iter()
            .filter_map(|(group, row)| row.map(|row| (group, row)))
            .collect();
        analytics
            .write(&self.store, &self.settings.output_bucket, rows, metrics)
            .await
    }

    /// [`Host::write_analytics_of`] for rows whose failure fails the whole event.
    async fn write_analytics(
        &self,
        rows: Vec<(usize, Option<AnalyticsRow>)>,
        metrics: &mut Metrics,
    ) -> Result<(), HostError> {
        let failed = self.write_analytics_of(rows, metrics).await;
        if failed.is_empty() {
            return Ok(());
        }
        metrics.error();
        Err(HostError::Analytics {
            message:
                "the analytics copy of the batch could not be written (see the log line before)"
                    .to_owned(),
        })
    }

    /// Processes one piece of work, unless `cutoff` has passed (then it fails with
    /// [`HostError::DeadlineNear`] and is counted as deferred, not as an error). With the
    /// result comes the record's analytics row, when the analytics copy is on and the record
    /// was stored and delivered.
    async fn process(
        &self,
        work: Work,
        metrics: &mut Metrics,
        cutoff: Option<Instant>,
    ) -> (Result<Outcome, HostError>, Option<AnalyticsRow>) {
        if past(cutoff) && !matches!(work, Work::Ignored(_)) {
            metrics.deferred();
            return (Err(HostError::DeadlineNear), None);
        }
        let started = Instant::now();
        let mut arrival = None;
        let mut times = StageTimes::default();
        let record = match work {
            Work::Ignored(reason) => {
                tracing::info!(?reason, "ignored notification");
                return (Ok(Outcome::Ignored(reason)), None);
            }
            Work::Undecodable { source, reason } => {
                tracing::warn!(%source, %reason, "undecodable notification; a failed record is written instead of a retry");
                let mut record = bridge::bad_event_record(source, &reason);
                record.id = Some(keys::record_id(&record.source));
                record
            }
            Work::Mail(mail) => {
                arrival = mail.event_time;
                match self.extract(*mail, cutoff).await {
                    Ok((record, stage_times)) => {
                        times = stage_times;
                        record
                    }
                    Err(HostError::DeadlineNear) => {
                        metrics.deferred();
                        return (Err(HostError::DeadlineNear), None);
                    }
                    Err(e) => {
                        metrics.error();
                        tracing::error!(error_type = e.error_type(), error = %e, "message failed; it will be retried");
                        return (Err(e), None);
                    }
                }
            }
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let processed_at = chrono::Utc::now();
        let extractor_time = times.extractor;
        let result = match self.write(&record, metrics, duration_ms, times).await {
            Ok(outcome) => self
                .deliver(&record, arrival, metrics)
                .await
                .map(|latency| (outcome, latency)),
            Err(e) => Err(e),
        };
        match result {
            Ok((outcome, latency)) => {
                let row = self
                    .analytics
                    .as_ref()
                    .map(|a| a.row(&record, processed_at, extractor_time, latency));
                (Ok(outcome), row)
            }
            Err(e) => {
                metrics.error();
                tracing::error!(error_type = e.error_type(), error = %e, "message failed; it will be retried");
                (Err(e), None)
            }
        }
    }

    /// Reads and extracts one mail within the memory budget, unless `cutoff` passed while it
    /// waited for memory.
    async fn extract(
        &self,
        mail: Mail,
        cutoff: Option<Instant>,
    ) -> Result<(Record, StageTimes), HostError> {
        if let Body::Object { bucket, .. } = &mail.body
            && bucket.is_empty()
        {
            return Err(HostError::config(
                "an SES receipt event arrived but MAILEX_SES_BUCKET is not set",
            ));
        }
        let loaded = self.engine.current();
        let cap = bridge::max_input_bytes(&loaded.engine);
        let expected = match (&mail.body, mail.size_hint) {
            (Body::Inline(raw), _) => raw.len() as u64,
            // An oversized mail is never read.
            (Body::Object { .. }, Some(size)) if size > cap => 0,
            (Body::Object { .. }, Some(size)) => size,
            (Body::Object { .. }, None) => cap,
        };
        let _reservation = self.budget.reserve(MemoryBudget::cost_of(expected)).await;
        if past(cutoff) {
            return Err(HostError::DeadlineNear);
        }
        mail::record_of_timed(mail, &loaded, Some(&self.store)).await
    }

    /// Writes a record at its one key.
    async fn write(
        &self,
        record: &Record,
        metrics: &mut Metrics,
        duration_ms: f64,
        times: StageTimes,
    ) -> Result<Outcome, HostError> {
        let id = record.id.as_deref().unwrap_or_default();
        let key = keys::record_key(&self.settings.output_prefix, id);
        self.store
            .put_json(&self.settings.output_bucket, &key, bridge::encode(record)?)
            .await?;
        let (status, advertiser, degraded) = bridge::summary(record);
        let advertiser_dim = keys::dimension_value(advertiser);
        metrics.record(
            record.status,
            &advertiser_dim,
            degraded,
            times,
            record.input_bytes,
        );
        let codes: Vec<&str> = (record.errors.iter().chain(&record.warnings))
            .map(|i| i.code.as_str())
            .collect();
        let extractor = record.extractor.as_ref().map(|e| e.name.as_str());
        tracing::info!(
            record_id = %id,
            status,
            advertiser = %advertiser_dim,
            extractor = extractor.unwrap_or_default(),
            degraded,
            input_bytes = record.input_bytes,
            duration_ms,
            issue_codes = %codes.join(","),
            source_key = %record.source,
            output_key = %key,
            "record written"
        );
        Ok(Outcome::Written {
            key,
            status: status.to_owned(),
        })
    }

    /// Delivers a stored record to the sinks of the config in service. `Err` when a sink
    /// failed in a way a retry can cure: the message is retried, and the sinks that took the
    /// record are skipped then (their markers). A sink that refused the record for good is
    /// logged and counted, not retried. `Ok` holds, per sink name, the time from the mail's
    /// arrival to the acknowledgement of each sink that took the record now (`None` when the
    /// config has no sinks).
    async fn deliver(
        &self,
        record: &Record,
        arrival: Option<chrono::DateTime<chrono::Utc>>,
        metrics: &mut Metrics,
    ) -> Result<Option<BTreeMap<String, Duration>>, HostError> {
        let loaded = self.engine.current();
        if loaded.engine.sinks().is_empty() {
            return Ok(None);
        }
        let id = record.id.as_deref().unwrap_or_default();
        let failed = |message: String| HostError::Delivery {
            record_id: id.to_owned(),
            message,
        };
        let deliverer = self
            .deliverers
            .for_version(&loaded)
            .map_err(|e| failed(e.to_string()))?;
        drop(loaded);
        let report = deliverer.deliver(id, record, &self.markers).await;
        // Latency from the mail's arrival: the notification's time, else the stored object's.
        let arrival = arrival.or_else(|| {
            record
                .received_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
        });
        let mut latencies = BTreeMap::new();
        for outcome in &report.outcomes {
            let latency = match (arrival, outcome.acked_at) {
                (Some(arrival), Some(acked)) => {
                    let acked = chrono::DateTime::<chrono::Utc>::from(acked);
                    Some((acked - arrival).to_std().unwrap_or_default())
                }
                _ => None,
            };
            let latency_ms = latency.map(|t| t.as_millis() as f64);
            metrics.delivery(outcome.kind, &outcome.result, latency_ms);
            if let Some(latency) = latency {
                latencies.insert(outcome.sink.clone(), latency);
            }
        }
        if report.should_retry() {
            let reasons: Vec<String> = report
                .outcomes
                .iter()
                .filter_map(|o| match &o.result {
                    mailex_delivery::SinkResult::Failed { reason } => {
                        Some(format!("sink `{}`: {reason}", o.sink))
                    }
                    _ => None,
                })
                .collect();
            return Err(failed(reasons.join("; ")));
        }
        Ok(Some(latencies))
    }

    fn prepare(&self, unit: Unit) -> Work {
        match unit {
            Unit::Ignored(reason) => Work::Ignored(reason),
            Unit::Object(o) => {
                let under = |prefix: &str| o.key.starts_with(prefix);
                if o.bucket == self.settings.output_bucket
                    && (under(&self.settings.output_prefix)
                        || self.settings.analytics_prefix.as_deref().is_some_and(under))
                {
                    tracing::warn!(
                        "event names an object under the output or analytics prefix; ignored to avoid a loop"
                    );
                    return Work::Ignored(IgnoreReason::NotObjectCreated("output prefix".into()));
                }
                let source = keys::object_source(&o.bucket, &o.key);
                Work::Mail(Box::new(Mail {
                    id: keys::record_id(&source),
                    source,
                    size_hint: o.size,
                    event_time: o.event_time,
                    verdicts: o.verdicts,
                    body: Body::Object {
                        bucket: o.bucket,
                        key: o.key,
                    },
                }))
            }
            Unit::SesReceipt(r) => {
                // Without a configured bucket the receipt cannot be resolved; `extract` fails with
                // a clear error and the event is retried, never dropped.
                let bucket = self.settings.ses_bucket.clone().unwrap_or_default();
                let key = format!("{}{}", self.settings.ses_prefix, r.message_id);
                let source = keys::object_source(&bucket, &key);
                Work::Mail(Box::new(Mail {
                    id: keys::record_id(&source),
                    source,
                    size_hint: None,
                    event_time: r.timestamp,
                    verdicts: Some(r.verdicts),
                    body: Body::Object { bucket, key },
                }))
            }
            Unit::Inline(m) => {
                let source = format!("ses:{}", m.message_id);
                Work::Mail(Box::new(Mail {
                    id: keys::record_id(&source),
                    source,
                    size_hint: Some(m.raw.len() as u64),
                    event_time: m.timestamp,
                    verdicts: Some(m.verdicts),
                    body: Body::Inline(m.raw),
                }))
            }
        }
    }
}

/// Whether the cutoff before the invocation's deadline has passed.
fn past(cutoff: Option<Instant>) -> bool {
    cutoff.is_some_and(|cutoff| Instant::now() >= cutoff)
}
