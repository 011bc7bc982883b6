//! S3 access: capped reads, record writes, listings. The only module that calls the S3 API.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;

use crate::error::HostError;
use crate::settings::S3Settings;

/// An object read with a size cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The bytes read: the whole object, or its first `cap + 1` bytes when it is larger.
    pub bytes: Vec<u8>,
    /// The object's full size as S3 reported it.
    pub size: u64,
    /// Whether the object is larger than the cap (and `bytes` holds only its start).
    pub truncated: bool,
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
        }
    }

    /// Wraps an existing client (tests, tools).
    pub fn from_client(client: aws_sdk_s3::Client) -> Self {
        S3Store {
            client,
            settings: S3Settings::default(),
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Reads an object, stopping after `cap + 1` bytes so an oversized mail is never held whole.
    ///
    /// The whole read (request and body) is bounded by the operation timeout; any failure is a
    /// [`HostError::S3Read`], which the caller turns into a retry.
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
                .map_err(|e| read_error(DisplayErrorContext(&e).to_string()))?;
            let size = output.content_length().and_then(|n| u64::try_from(n).ok());
            let limit = usize::try_from(cap.saturating_add(1)).unwrap_or(usize::MAX);
            let mut body = output.body;
            let mut bytes =
                Vec::with_capacity(size.map_or(8192, |s| s.min(cap.saturating_add(1)) as usize));
            while let Some(chunk) = body.next().await {
                let chunk =
                    chunk.map_err(|e| read_error(format!("body: {}", DisplayErrorContext(&e))))?;
                let room = limit - bytes.len();
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if bytes.len() >= limit {
                    break;
                }
            }
            let size = size.unwrap_or(bytes.len() as u64);
            if size <= cap && (bytes.len() as u64) < size {
                return Err(read_error(format!(
                    "body ended after {} of {size} bytes",
                    bytes.len()
                )));
            }
            let truncated = bytes.len() as u64 > cap;
            Ok(Fetched {
                bytes,
                size,
                truncated,
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

    /// Writes a JSON record (overwriting any earlier version at the same key).
    pub async fn put_json(&self, bucket: &str, key: &str, json: Vec<u8>) -> Result<(), HostError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(json))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| HostError::S3Write {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                message: DisplayErrorContext(&e).to_string(),
            })
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
                message: DisplayErrorContext(&e).to_string(),
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
                message: DisplayErrorContext(&e).to_string(),
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
