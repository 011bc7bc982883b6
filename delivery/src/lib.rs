//! Delivery: a stored record, sent once to every sink whose filter takes it.
//!
//! The binaries store a record first (an S3 object for the Lambda host, a line of output for
//! the CLI), then hand it to a [`Deliverer`] with its stable id. For each `[[sink]]` of the
//! configuration ([`mailex_core::SinkConfig`]) whose filter takes the record, the deliverer
//!
//! 1. asks the [`MarkerStore`] whether that sink already acknowledged this record (a retry of
//!    the same mail); if so it skips the sink;
//! 2. sends the record (redacted for that sink if it says so): a signed HTTPS POST
//!    ([`webhook`]), an SNS `Publish` or an EventBridge `PutEvents` ([`aws`]), a Kafka
//!    produce request ([`kafka`]);
//! 3. after the sink acknowledges, writes the sink's delivery marker.
//!
//! The result is at-least-once delivery, and exactly-once for a consumer that ignores a record
//! id it has seen (a marker write can fail after the sink took the record, and two copies of
//! one notification can run at once). The returned [`DeliveryReport`] says which sinks took the
//! record, which had it already, which refused it for good and which failed in a way a retry
//! can cure ([`DeliveryReport::should_retry`]). Logs name the record id, the sink, the outcome
//! and an HTTP status or error code, never a field value.
//!
//! This crate reads no environment: secrets arrive as [`Secrets`], resolved by the binary
//! through a lookup it chooses, and AWS clients are built from an `SdkConfig` the binary loads.
//!
//! Dependencies: hyper, hyper-util and hyper-rustls (with rustls on aws-lc-rs) are the client
//! the AWS SDK already builds, used with the same features, so webhooks add no second HTTP or
//! TLS stack; `hmac` 0.13 (on `sha2` 0.11) is the HMAC the SDK's request signing already
//! builds; `aws-sdk-sns` and `aws-sdk-eventbridge` are on the SDK line of `aws-sdk-s3`;
//! `rskafka` (pure Rust, no compression codecs, rustls) is the Kafka client (why, in
//! docs/delivery.md).
//!
//! ```
//! use mailex_delivery::{signature_header, verify_signature};
//! let header = signature_header(b"secret", 1_700_000_000, br#"{"id":"x"}"#);
//! assert!(header.starts_with("t=1700000000,v1="));
//! assert!(verify_signature(b"secret", &header, br#"{"id":"x"}"#));
//! assert!(!verify_signature(b"other", &header, br#"{"id":"x"}"#));
//! ```

#![deny(missing_docs)]

pub mod aws;
mod error;
pub mod kafka;
mod markers;
mod payload;
mod secrets;
pub mod webhook;

use std::time::{Duration, Instant, SystemTime};

use mailex_core::{Record, SinkConfig, SinkTarget};

pub use error::DeliveryError;
pub use markers::{DirMarkers, Marker, MarkerError, MarkerStore, marker_key};
pub use payload::{
    PSEUDONYM_PREFIX, Payload, pseudonym, record_id, signature_header, verify_signature,
};
pub use secrets::{EnvLookup, SECRETS_ID_VARIABLE, Secret, SecretSource, SecretValues, Secrets};

/// One sink, ready to send.
#[derive(Debug)]
struct Sink {
    config: SinkConfig,
    transport: Transport,
    pseudonym_key: Option<Secret>,
}

#[derive(Debug)]
enum Transport {
    Webhook(Box<webhook::Webhook>),
    Sns(aws::SnsSink),
    EventBridge(aws::EventBridgeSink),
    Kafka(Box<kafka::KafkaSink>),
}

/// Whether any of `sinks` talks to AWS (`sns`, `eventbridge`), so [`DeliveryOptions::aws`]
/// needs an SDK configuration.
pub fn needs_aws(sinks: &[SinkConfig]) -> bool {
    sinks.iter().any(|s| {
        matches!(
            s.target,
            SinkTarget::Sns { .. } | SinkTarget::EventBridge { .. }
        )
    })
}

/// What the deliverer needs besides the sinks and their secrets.
#[derive(Debug, Clone, Default)]
pub struct DeliveryOptions {
    /// The AWS SDK configuration for `sns` and `eventbridge` sinks (credentials, region,
    /// retries, timeouts). Required when the configuration has such a sink.
    pub aws: Option<aws_config::SdkConfig>,
    /// An endpoint for SNS and EventBridge instead of AWS's (a local server in tests).
    pub aws_endpoint: Option<String>,
}

/// Sends records to the sinks of one configuration.
#[derive(Debug)]
pub struct Deliverer {
    sinks: Vec<Sink>,
}

/// What became of a record at one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkResult {
    /// The sink acknowledged it now; `ack` is its answer (an HTTP status, a message id).
    Delivered {
        /// The sink's acknowledgement.
        ack: String,
    },
    /// The sink's marker says it took the record before; nothing was sent.
    AlreadyDelivered,
    /// The sink refused the record for good (an HTTP 4xx other than 429, a record over the
    /// service's size limit); retrying cannot help, so the record is not retried.
    Rejected {
        /// Why (a status or error code; never record content).
        reason: String,
    },
    /// Delivery failed in a way a retry can cure (network, timeout, 5xx, 429, throttling, a
    /// marker that could not be read or written).
    Failed {
        /// Why (a status or error code; never record content).
        reason: String,
    },
}

/// The outcome at one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkOutcome {
    /// The sink's name.
    pub sink: String,
    /// Its kind: `webhook`, `sns`, `eventbridge`, `kafka`.
    pub kind: &'static str,
    /// What happened.
    pub result: SinkResult,
    /// Attempts made (0 when nothing was sent).
    pub attempts: u32,
    /// When the sink acknowledged (for [`SinkResult::Delivered`]).
    pub acked_at: Option<SystemTime>,
    /// Time spent on this sink, markers included.
    pub elapsed: Duration,
}

/// The outcome of one record at every sink whose filter took it (sinks that do not take it are
/// not listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// One entry per sink that takes the record, in configuration order.
    pub outcomes: Vec<SinkOutcome>,
}

impl DeliveryReport {
    /// Whether some sink failed in a way a retry can cure: the message should be retried (the
    /// sinks that took it will be skipped then).
    pub fn should_retry(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| matches!(o.result, SinkResult::Failed { .. }))
    }

    /// The names of the sinks that have the record now (delivered now or before).
    pub fn delivered_to(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o.result,
                    SinkResult::Delivered { .. } | SinkResult::AlreadyDelivered
                )
            })
            .map(|o| o.sink.as_str())
            .collect()
    }
}

impl Deliverer {
    /// Builds the sinks of a configuration. Fails when a sink's secret is missing from
    /// `secrets` or an AWS sink has no SDK configuration.
    pub fn new(
        sinks: &[SinkConfig],
        secrets: &Secrets,
        options: &DeliveryOptions,
    ) -> Result<Self, DeliveryError> {
        let mut built = Vec::with_capacity(sinks.len());
        for config in sinks {
            let aws = || {
                options.aws.as_ref().ok_or_else(|| DeliveryError::Setup {
                    sink: config.name.clone(),
                    message: format!(
                        "a `{}` sink needs AWS credentials and a region",
                        config.target.kind()
                    ),
                })
            };
            let transport = match &config.target {
                SinkTarget::Webhook {
                    url,
                    secret_env,
                    timeout,
                    connect_timeout,
                    max_attempts,
                } => Transport::Webhook(Box::new(webhook::Webhook::new(
                    &config.name,
                    url,
                    secrets.get(&config.name, "secret_env", secret_env)?,
                    webhook::Timeouts {
                        connect: *connect_timeout,
                        attempt: *timeout,
                    },
                    *max_attempts,
                )?)),
                SinkTarget::Sns { topic_arn } => Transport::Sns(aws::SnsSink::new(
                    aws()?,
                    options.aws_endpoint.as_deref(),
                    topic_arn,
                )),
                SinkTarget::EventBridge { bus_arn, source } => {
                    Transport::EventBridge(aws::EventBridgeSink::new(
                        aws()?,
                        options.aws_endpoint.as_deref(),
                        bus_arn,
                        source,
                    ))
                }
                SinkTarget::Kafka {
                    brokers,
                    topic,
                    tls,
                    sasl,
                    timeout,
                } => {
                    let sasl = match sasl {
                        Some(sasl) => Some((
                            sasl,
                            secrets.get(&config.name, "password_env", &sasl.password_env)?,
                        )),
                        None => None,
                    };
                    Transport::Kafka(Box::new(kafka::KafkaSink::new(
                        &config.name,
                        brokers,
                        topic,
                        *tls,
                        sasl,
                        *timeout,
                    )?))
                }
            };
            let pseudonym_key = match &config.redaction {
                Some(mailex_core::sink::Redaction {
                    with: mailex_core::sink::RedactWith::Pseudonym { key_env },
                    ..
                }) => Some(secrets.get(&config.name, "pseudonym_key_env", key_env)?),
                _ => None,
            };
            built.push(Sink {
                config: config.clone(),
                transport,
                pseudonym_key,
            });
        }
        Ok(Deliverer { sinks: built })
    }

    /// Whether there is any sink at all.
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// The configured sinks.
    pub fn sinks(&self) -> impl Iterator<Item = &SinkConfig> {
        self.sinks.iter().map(|s| &s.config)
    }

    /// Delivers `record` (stored under the stable id `record_id`) to every sink whose filter
    /// takes it and whose marker in `markers` is absent, all sinks at once. Never fails as a
    /// whole: each sink's outcome is in the report.
    pub async fn deliver<M: MarkerStore>(
        &self,
        record_id: &str,
        record: &Record,
        markers: &M,
    ) -> DeliveryReport {
        let jobs = self
            .sinks
            .iter()
            .filter(|sink| sink.config.filter.matches(record))
            .map(|sink| self.deliver_to(sink, record_id, record, markers));
        let outcomes = futures_util::future::join_all(jobs).await;
        for outcome in &outcomes {
            log_outcome(record_id, outcome);
        }
        DeliveryReport { outcomes }
    }

    async fn deliver_to<M: MarkerStore>(
        &self,
        sink: &Sink,
        record_id: &str,
        record: &Record,
        markers: &M,
    ) -> SinkOutcome {
        let started = Instant::now();
        let name = sink.config.name.as_str();
        let mut outcome = SinkOutcome {
            sink: name.to_owned(),
            kind: sink.config.target.kind(),
            result: SinkResult::AlreadyDelivered,
            attempts: 0,
            acked_at: None,
            elapsed: Duration::ZERO,
        };
        let finish = |mut outcome: SinkOutcome, result: SinkResult| {
            outcome.result = result;
            outcome.elapsed = started.elapsed();
            outcome
        };
        match markers.is_delivered(record_id, name).await {
            Ok(true) => return finish(outcome, SinkResult::AlreadyDelivered),
            Ok(false) => {}
            Err(e) => {
                let reason = format!("the delivery marker could not be read: {e}");
                return finish(outcome, SinkResult::Failed { reason });
            }
        }
        let payload = match Payload::new(
            record_id,
            record,
            sink.config.redaction.as_ref(),
            sink.pseudonym_key.as_ref(),
        ) {
            Ok(payload) => payload,
            Err(reason) => return finish(outcome, SinkResult::Rejected { reason }),
        };
        let sent = match &sink.transport {
            Transport::Webhook(w) => w.send(&payload).await,
            Transport::Sns(s) => s.send(&payload).await,
            Transport::EventBridge(e) => e.send(&payload).await,
            Transport::Kafka(k) => k.send(&payload).await,
        };
        outcome.attempts = sent.attempts;
        let result = match sent.result {
            Ok(ack) => {
                let acked_at = SystemTime::now();
                outcome.acked_at = Some(acked_at);
                let marker = Marker {
                    sink: name.to_owned(),
                    kind: outcome.kind.to_owned(),
                    record_id: record_id.to_owned(),
                    delivered_at: chrono::DateTime::<chrono::Utc>::from(acked_at)
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    attempts: sent.attempts,
                    ack: ack.clone(),
                };
                match markers.mark_delivered(record_id, name, &marker).await {
                    Ok(()) => SinkResult::Delivered { ack },
                    Err(e) => SinkResult::Failed {
                        reason: format!(
                            "the sink took the record ({ack}) but its delivery marker could not be written: {e}; a retry sends it again"
                        ),
                    },
                }
            }
            Err(Sent::Final(reason)) => SinkResult::Rejected { reason },
            Err(Sent::Retryable(reason)) => SinkResult::Failed { reason },
        };
        finish(outcome, result)
    }
}

/// Why a send did not end in an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// The sink refused for good.
    Final(String),
    /// Worth retrying later.
    Retryable(String),
}

/// What a transport's send returns.
pub(crate) struct SendResult {
    pub attempts: u32,
    pub result: Result<String, Sent>,
}

fn log_outcome(record_id: &str, outcome: &SinkOutcome) {
    let elapsed_ms = outcome.elapsed.as_secs_f64() * 1000.0;
    let (sink, kind, attempts) = (&outcome.sink, outcome.kind, outcome.attempts);
    match &outcome.result {
        SinkResult::Delivered { ack } => tracing::info!(
            record_id,
            sink,
            kind,
            attempts,
            ack,
            elapsed_ms,
            "delivered"
        ),
        SinkResult::AlreadyDelivered => {
            tracing::info!(record_id, sink, kind, "already delivered; skipped")
        }
        SinkResult::Rejected { reason } => tracing::error!(
            record_id,
            sink,
            kind,
            attempts,
            reason,
            elapsed_ms,
            "the sink refused the record; it is not retried"
        ),
        SinkResult::Failed { reason } => tracing::warn!(
            record_id,
            sink,
            kind,
            attempts,
            reason,
            elapsed_ms,
            "delivery failed; the record will be retried"
        ),
    }
}
