//! Errors of the Lambda host.
//!
//! A [`HostError`] is either transient, "this message was not processed and must be retried"
//! (S3 read/write failures), or permanent: [`HostError::Unreadable`] (the mail is gone or may
//! not be read) and [`HostError::Event`] (a payload the host does not understand), which the
//! handler turns into a `failed` record instead of a retry. Messages never carry personal data
//! or raw HTTP responses: they name buckets, keys, operations and S3 error codes.

use std::path::PathBuf;

/// An error of the host: event decoding, S3 I/O, configuration or local files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The event (or an SQS/SNS message inside it) has a shape the host does not know.
    /// Permanent: retrying the same payload cannot help.
    #[error("undecodable event: {reason}")]
    Event {
        /// What was wrong, e.g. `SQS body is not JSON`.
        reason: String,
    },
    /// Reading an object failed (after the SDK's retries). Transient: the message is retried.
    #[error("S3 read of s3://{bucket}/{key} failed: {message}")]
    S3Read {
        /// Bucket of the object.
        bucket: String,
        /// Key of the object.
        key: String,
        /// What went wrong: an S3 error code and HTTP status, a timeout, a connection failure.
        message: String,
    },
    /// The object cannot be read and a retry will not change that: it does not exist (deleted
    /// before it was processed), access to it is denied, or it is archived. Permanent.
    #[error("s3://{bucket}/{key} cannot be read: {message}")]
    Unreadable {
        /// Bucket of the object.
        bucket: String,
        /// Key of the object.
        key: String,
        /// The record issue code: `source_missing`, `source_access_denied`, `source_archived`.
        code: mailex_core::IssueCode,
        /// The S3 error code and HTTP status.
        message: String,
    },
    /// Writing an object failed (after the SDK's retries). Transient: the message is retried.
    #[error("S3 write of s3://{bucket}/{key} failed: {message}")]
    S3Write {
        /// Bucket of the object.
        bucket: String,
        /// Key of the object.
        key: String,
        /// What went wrong.
        message: String,
    },
    /// Listing or deleting under a prefix failed.
    #[error("S3 {operation} on s3://{bucket}/{prefix} failed: {message}")]
    S3Other {
        /// `list` or `delete`.
        operation: &'static str,
        /// Bucket.
        bucket: String,
        /// Prefix or key.
        prefix: String,
        /// What went wrong.
        message: String,
    },
    /// The host's own settings (environment variables) or the mailex config are unusable.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it (codes and locations, never rule-file text).
        message: String,
    },
    /// A sink did not take a stored record and a retry can cure it (or the sinks could not be
    /// set up). Transient: the message is retried; the sinks that took it are skipped then.
    #[error("delivery of record {record_id} failed: {message}")]
    Delivery {
        /// The record id.
        record_id: String,
        /// Which sinks failed and why (status and error codes, never record content).
        message: String,
    },
    /// The analytics copy of a batch could not be written (after the SDK's retries). Transient:
    /// the messages of its rows are retried.
    #[error("analytics copy: {message}")]
    Analytics {
        /// What went wrong (keys and error codes, never a value of a row).
        message: String,
    },
    /// The message was not started because the invocation's deadline is near
    /// (`MAILEX_DEADLINE_MARGIN_MS`). Transient: it is left to SQS (or Lambda) to redeliver.
    #[error("not started: the invocation's deadline is near; left for redelivery")]
    DeadlineNear,
    /// A local file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl HostError {
    /// Shorthand for [`HostError::Event`].
    pub fn event(reason: impl Into<String>) -> Self {
        HostError::Event {
            reason: reason.into(),
        }
    }

    /// Shorthand for [`HostError::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        HostError::Config {
            message: message.into(),
        }
    }

    /// Shorthand for [`HostError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HostError::Io {
            path: path.into(),
            source,
        }
    }

    /// The stable `errorType` reported to the Lambda Runtime API (and in logs), one per variant:
    /// `Mailex.EventError`, `Mailex.S3ReadError`, `Mailex.SourceUnreadable`,
    /// `Mailex.S3WriteError`, `Mailex.S3Error`, `Mailex.ConfigError`, `Mailex.DeliveryError`,
    /// `Mailex.AnalyticsWriteError`, `Mailex.DeadlineNear`, `Mailex.IoError`.
    pub fn error_type(&self) -> &'static str {
        match self {
            HostError::Event { .. } => "Mailex.EventError",
            HostError::S3Read { .. } => "Mailex.S3ReadError",
            HostError::Unreadable { .. } => "Mailex.SourceUnreadable",
            HostError::S3Write { .. } => "Mailex.S3WriteError",
            HostError::S3Other { .. } => "Mailex.S3Error",
            HostError::Config { .. } => "Mailex.ConfigError",
            HostError::Delivery { .. } => "Mailex.DeliveryError",
            HostError::Analytics { .. } => "Mailex.AnalyticsWriteError",
            HostError::DeadlineNear => "Mailex.DeadlineNear",
            HostError::Io { .. } => "Mailex.IoError",
        }
    }
}

impl From<HostError> for lambda_runtime::Diagnostic {
    fn from(error: HostError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
