//! Errors of the Lambda host.
//!
//! A [`HostError`] always means "this message was not processed and must be retried" (S3
//! read/write failures) or "this event cannot be understood" (decoding). Messages never carry
//! personal data: they name buckets, keys and operations, not mail content.

use std::path::PathBuf;

/// An error of the host: event decoding, S3 I/O, configuration or local files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The event (or an SQS/SNS message inside it) has a shape the host does not know.
    #[error("undecodable event: {reason}")]
    Event {
        /// What was wrong, e.g. `SQS body is not JSON`.
        reason: String,
    },
    /// Reading an object failed (after the SDK's retries). The message must be retried.
    #[error("S3 read of s3://{bucket}/{key} failed: {message}")]
    S3Read {
        /// Bucket of the object.
        bucket: String,
        /// Key of the object.
        key: String,
        /// The SDK's error, rendered without the object's content.
        message: String,
    },
    /// Writing a record failed (after the SDK's retries). The message must be retried.
    #[error("S3 write of s3://{bucket}/{key} failed: {message}")]
    S3Write {
        /// Bucket of the record.
        bucket: String,
        /// Key of the record.
        key: String,
        /// The SDK's error.
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
        /// The SDK's error.
        message: String,
    },
    /// The host's own settings (environment variables) or the mailex config are unusable.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
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
}
