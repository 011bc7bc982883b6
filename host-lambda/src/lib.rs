//! The AWS Lambda host of mailex: Lambda events in, one JSON record per mail out, in S3.
//!
//! The host adapts events and storage and nothing else; every extraction decision is made by
//! [`mailex_core`]. Its parts:
//!
//! - [`decode`] turns any supported payload (S3, SNS(S3), SQS(S3), SQS(SNS(S3)), the SES
//!   receipt-rule Lambda action, the SES SNS action) into [`Unit`]s;
//! - [`S3Store`] reads mail with a size cap and writes records, with the SDK's retries and
//!   timeouts, and sorts S3 failures into transient and permanent ones;
//! - [`config_store`] lays out deployed configs in S3: immutable versions and a pointer written
//!   last; [`LiveEngine`] holds the engine in service, loaded from the package or from there,
//!   swapped atomically when the pointer moves, never replaced by a config that does not load;
//! - [`Host::handle`] processes a batch with bounded concurrency and a [`MemoryBudget`],
//!   writes one record per mail under its one key ([`record_key`] of the mail's [`record_id`])
//!   and answers with what to retry (`batchItemFailures` for SQS);
//! - after a record is stored, [`mailex_delivery`] sends it to the config's sinks, once per
//!   sink ([`S3Markers`] next to the record); a sink failure fails the message so it is
//!   retried;
//! - with `MAILEX_ANALYTICS_PREFIX` and a pseudonym key, the batch's records also go to the
//!   anonymised analytics copy ([`mailex_analytics`]): one Parquet object per day partition per
//!   invocation, named by [`analytics_batch_id`];
//! - [`Metrics`] prints CloudWatch Embedded Metric Format lines; [`init_logging`] installs
//!   Powertools-style JSON log lines ([`PowertoolsLayer`]);
//! - [`replay`] re-runs extraction over stored mail, writes only what changed and summarises it.
//!
//! Only this crate knows AWS (see `ARCHITECTURE.md`).
//!
//! ```
//! use mailex_lambda::{decode, Event, Unit};
//! let event: serde_json::Value = serde_json::from_str(
//!     r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
//!        "eventTime":"2026-01-02T03:04:05Z",
//!        "s3":{"bucket":{"name":"inbound"},"object":{"key":"mail/New+lead%21","size":10}}}]}"#,
//! ).unwrap();
//! let Event::Direct(units) = decode(&event).unwrap() else { unreachable!() };
//! let Unit::Object(object) = &units[0] else { unreachable!() };
//! assert_eq!(object.key, "mail/New lead!");
//! ```

#![deny(missing_docs)]

mod analytics;
mod bridge;
mod budget;
pub mod config_store;
mod delivery;
mod error;
mod event;
mod handler;
mod keys;
mod live;
mod logging;
mod mail;
mod metrics;
pub mod replay;
mod settings;
mod store;

pub use analytics::batch_id as analytics_batch_id;
pub use budget::{BYTES_PER_MAIL, MemoryBudget, PEAK_BYTES_PER_MAIL_BYTE, Reservation};
pub use delivery::{S3Markers, SecretLookup};
pub use error::HostError;
pub use event::{
    Event, IgnoreReason, InlineMail, ObjectRef, SES_SETUP_OBJECT, SesReceipt, SqsMessage, Unit,
    Verdicts, decode, decode_s3_key, is_setup_object,
};
pub use handler::{Host, Outcome};
pub use keys::{
    dimension_value, file_id, id_of_record_key, object_id, object_source, record_id, record_key,
    ses_inline_id,
};
pub use live::{LiveEngine, Loaded, Refresh};
pub use logging::PowertoolsLayer;
pub use metrics::{DEFAULT_NAMESPACE, DEFAULT_SERVICE, Metrics, MetricsTarget, StageTimes};
pub use settings::{ConfigLocation, RESERVED_MB, S3Settings, Settings};
pub use store::{Fetched, Listed, S3Store};

/// Installs the log subscriber used by both binaries: one flat JSON object per line on stderr,
/// with the keys Powertools for AWS Lambda writes ([`PowertoolsLayer`]). The level comes from
/// `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL` (default `info`); `service` from `MAILEX_SERVICE` or
/// `POWERTOOLS_SERVICE_NAME` (default `mailex`), as the metrics' `Service` dimension. Log lines never carry
/// mail content or addresses.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_lowercase()))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let service = std::env::var("MAILEX_SERVICE")
        .or_else(|_| std::env::var("POWERTOOLS_SERVICE_NAME"))
        .unwrap_or_else(|_| "mailex".to_owned());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(PowertoolsLayer::new(service, std::io::stderr))
        .try_init();
}
