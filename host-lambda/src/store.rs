//! S3 access: capped reads, writes, listings. The only module that calls the S3 API.
//!
//! Errors are classified here, once: an object that is gone (`NoSuchKey`, `NoSuchBucket`), may
//! not be read (`AccessDenied`) or is archived (`InvalidObjectState`) is
//! [`HostError::Unreadable`], permanent; everything else (5xx, throttling, timeouts, broken
//! connections) is transient. Messages name the S3 error code and HTTP status, never a raw
//! HTTP response.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};

use crate::error::HostError;
use crate::settings::S3Settings;

/// An object read with a size cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The whole object, or nothing when it is larger than the cap (its body is not read).
    pub bytes: Vec<u8>,
    /// The object's size as S3 reported it.
    pub size: u64,
    /// Whether the object is larger than the cap (and `bytes` is empty).
    pub over_cap: bool,
    /// The object's `Last-Modified` time (second precision): when S3 stored it. For mail stored
    /// by SES this is the time of receipt, and the record's time (see [`crate::Host`]).
    pub last_modified: Option<DateTime<Utc>>,
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Key.
    pub key: String,
    /// ETag as S3 returned it (quoted).
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification time, seconds since the epoch.
    pub last_modified: Option<i64>,
}

/// A thin wrapper around [`aws_sdk_s3::Client`] with the host's error mapping.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    settings: S3Settings,
    sdk: Option<aws_config::SdkConfig>,
}

impl S3Store {
    /// Builds a client from the default AWS provider chain (region `us-east-1` when none is set)
    /// with the retry, timeout and addressing settings.
    pub async fn connect(settings: &S3Settings) -> Self {
        Self::build(settings, None).await
    }

    /// As [`S3Store::connect`], with fixed credentials instead of the provider chain (local S3
    /// servers in tests and tools).
    pub async fn connect_with_credentials(
        settings: &S3Settings,
        credentials: aws_sdk_s3::config::Credentials,
    ) -> Self {
        Self::build(settings, Some(credentials)).await
    }

    async fn build(
        settings: &S3Settings,
        credentials: Option<aws_sdk_s3::config::Credentials>,
    ) -> Self {
        let region = RegionProviderChain::default_provider().or_else("us-east-1");
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(credentials) = credentials {
            loader = loader.credentials_provider(credentials);
        }
        let sdk = loader
            .region(region)
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.attempt_timeout)
                    .operation_attempt_timeout(settings.attempt_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            )
            .load()
            .await;
        let mut builder =
            aws_sdk_s3::config::Builder::from(&sdk).force_path_style(settings.force_path_style);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        S3Store {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            settings: settings.clone(),
            sdk: Some(sdk),
        }
    }

    /// The AWS SDK configuration the client was built from (credentials, region, retries,
    /// timeouts), for the delivery sinks' clients; `None` for a store made by
    /// [`S3Store::from_client`].
    pub fn sdk_config(&self) -> Option<&aws_config::SdkConfig> {
        self.sdk.as_ref()
    }

    /// Whether an object exists (`HeadObject`): `Ok(false)` for 404. Needs `s3:ListBucket`
    /// on the prefix to tell a missing key from a denied one (S3 answers 403 for both
    /// otherwise), which is an error here.
    pub async fn exists(&self, bucket: &str, key: &str) -> Result<bool, HostError> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(service)) if service.raw().status().as_u16() == 404 => {
                Ok(false)
            }
            Err(e) => Err(HostError::S3Read {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                message: describe(&e),
            }),
        }
    }

    /// Wraps an existing client (tests, tools).
    pub fn from_client(client: aws_sdk_s3::Client) -> Self {
        S3Store {
            client,
            settings: S3Settings::default(),
            sdk: None,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Reads an object whole if it is at most `cap` bytes. A larger object's body is not read
    /// at all (its size comes from `Content-Length`), so an oversized mail is never held.
    ///
    /// The whole read (request and body) is bounded by the operation timeout. A transient
    /// failure is a [`HostError::S3Read`] (retry), a permanent one [`HostError::Unreadable`].
    pub async fn get_capped(
        &self,
        bucket: &str,
        key: &str,
        cap: u64,
    ) -> Result<Fetched, HostError> {
        let read_error = |message: String| HostError::S3Read {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            message,
        };
        let work = async {
            let output = self
                .client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| match permanent_read_failure(&e) {
                    Some(code) => HostError::Unreadable {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                        code,
                        message: describe(&e),
                    },
                    None => read_error(describe(&e)),
                })?;
            let last_modified = output
                .last_modified()
                .and_then(|t| DateTime::from_timestamp(t.secs(), 0));
            let announced = output.content_length().and_then(|n| u64::try_from(n).ok());
            if let Some(size) = announced
                && size > cap
            {
                return Ok(Fetched {
                    bytes: Vec::new(),
                    size,
                    over_cap: true,
                    last_modified,
                });
            }
            let limit = usize::try_from(cap.saturating_add(1)).unwrap_or(usize::MAX);
            let mut body = output.body;
            let capacity = announced.map_or(8192, |s| usize::try_from(s).unwrap_or(limit));
            let mut bytes = Vec::with_capacity(capacity.min(limit));
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| read_error(format!("reading the body: {e}")))?;
                let room = limit - bytes.len();
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if bytes.len() >= limit {
                    break;
                }
            }
            let read = bytes.len() as u64;
            if read > cap {
                // No Content-Length, and more than the cap arrived: the real size is unknown.
                return Ok(Fetched {
                    bytes: Vec::new(),
                    size: read,
                    over_cap: true,
                    last_modified,
                });
            }
            if let Some(size) = announced
                && read < size
            {
                return Err(read_error(format!(
                    "the body ended after {read} of {size} bytes"
                )));
            }
            Ok(Fetched {
                bytes,
                size: read,
                over_cap: false,
                last_modified,
            })
        };
        match tokio::time::timeout(self.settings.operation_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(read_error(format!(
                "timed out after {:?}",
                self.settings.operation_timeout
            ))),
        }
    }

    /// Writes an object (overwriting any earlier version at the same key).
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(), HostError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| HostError::S3Write {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                message: describe(&e),
            })
    }

    /// Writes a JSON document (a record, a config manifest or pointer).
    pub async fn put_json(&self, bucket: &str, key: &str, json: Vec<u8>) -> Result<(), HostError> {
        self.put(bucket, key, "application/json", json).await
    }

    /// Deletes an object (replay only; the Lambda never deletes).
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), HostError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| HostError::S3Other {
                operation: "delete",
                bucket: bucket.to_owned(),
                prefix: key.to_owned(),
                message: describe(&e),
            })
    }

    /// Lists every object under a prefix (all pages).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, HostError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| HostError::S3Other {
                operation: "list",
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
                message: describe(&e),
            })?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                out.push(Listed {
                    key: key.to_owned(),
                    etag: object.e_tag().unwrap_or_default().to_owned(),
                    size: object
                        .size()
                        .and_then(|s| u64::try_from(s).ok())
                        .unwrap_or(0),
                    last_modified: object.last_modified().map(|t| t.secs()),
                });
            }
        }
        Ok(out)
    }
}

/// The record issue code of a read failure that a retry cannot cure, or `None` when it is
/// transient. Without `s3:ListBucket`, S3 answers a missing key with `AccessDenied` (403), which
/// is why access denied counts as permanent: the object is gone or will stay unreadable, and the
/// raw mail (if it exists) can be replayed once access is fixed.
fn permanent_read_failure<E: ProvideErrorMetadata, R>(
    error: &SdkError<E, R>,
) -> Option<mailex_core::IssueCode> {
    let SdkError::ServiceError(service) = error else {
        return None;
    };
    match service.err().code()? {
        "NoSuchKey" | "NoSuchBucket" | "NotFound" => Some(mailex_core::IssueCode::SourceMissing),
        "AccessDenied" => Some(mailex_core::IssueCode::SourceAccessDenied),
        "InvalidObjectState" => Some(mailex_core::IssueCode::SourceArchived),
        _ => None,
    }
}

/// A one-line description of an SDK error: the S3 error code, its message and the HTTP status,
/// or the kind of failure (timeout, connection). Never the raw response.
fn describe<E: ProvideErrorMetadata>(
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> String {
    const MAX_MESSAGE: usize = 200;
    match error {
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => "timed out".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_io() => "connection failed".to_owned(),
        SdkError::DispatchFailure(_) => "the request could not be sent".to_owned(),
        SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
        SdkError::ResponseError(response) => format!(
            "unreadable response (HTTP {})",
            response.raw().status().as_u16()
        ),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("UnknownError");
            match service.err().message().filter(|m| !m.is_empty()) {
                Some(message) => {
                    let message: String = message.chars().take(MAX_MESSAGE).collect();
                    format!("{code} (HTTP {status}): {message}")
                }
                None => format!("{code} (HTTP {status})"),
            }
        }
        _ => "unknown S3 client error".to_owned(),
    }
}
