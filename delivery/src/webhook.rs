//! `webhook` sinks: an HTTPS POST of the record as JSON, signed.
//!
//! Headers: `Content-Type: application/json`, `Mailex-Record-Id: <id>` and
//! `Mailex-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (a fresh
//! `t` per attempt). A 2xx answer acknowledges. A 5xx, a 429 and network errors (refused,
//! reset, timed out) are retried up to the sink's `max_attempts`, after an exponential backoff
//! with full jitter (200 ms doubling, at most 5 s; a 429's `Retry-After` in seconds is honoured
//! up to that cap). Any other answer (a 4xx, a redirect, which is not followed) is final.
//! Each attempt is bounded by the sink's timeout; the answer's body is read up to 64 KiB and
//! never logged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::StatusCode;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::DeliveryError;
use crate::payload::{Payload, signature_header};
use crate::secrets::Secret;
use crate::{SendResult, Sent};

/// First backoff before a retry.
pub const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Largest backoff before a retry.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// Largest answer body read (and thrown away).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Mailex-Signature";
/// The header carrying the record id.
pub const RECORD_ID_HEADER: &str = "Mailex-Record-Id";

/// Timeouts of a webhook.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Connecting (TCP and TLS).
    pub connect: Duration,
    /// One attempt, from connecting to the end of the answer.
    pub attempt: Duration,
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A webhook sink.
#[derive(Debug)]
pub struct Webhook {
    uri: hyper::Uri,
    secret: Secret,
    timeouts: Timeouts,
    max_attempts: u32,
    client: HttpsClient,
}

impl Webhook {
    /// A webhook posting to `url`, signing with `secret`.
    pub fn new(
        sink: &str,
        url: &str,
        secret: Secret,
        timeouts: Timeouts,
        max_attempts: u32,
    ) -> Result<Self, DeliveryError> {
        let setup = |message: String| DeliveryError::Setup {
            sink: sink.to_owned(),
            message,
        };
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| setup(format!("`url` is not a URI: {e}")))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeouts.connect));
        http.set_nodelay(true);
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| setup(format!("no TLS root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Webhook {
            uri,
            secret,
            timeouts,
            max_attempts: max_attempts.max(1),
            client,
        })
    }

    /// Posts the payload, retrying what a retry can cure.
    pub(crate) async fn send(&self, payload: &Payload) -> SendResult {
        let body = Bytes::from(payload.body.clone());
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = self.attempt(payload, body.clone()).await;
            let (reason, retry_after) = match outcome {
                Attempt::Acknowledged(status) => {
                    return SendResult {
                        attempts,
                        result: Ok(format!("HTTP {}", status.as_u16())),
                    };
                }
                Attempt::Final(reason) => {
                    return SendResult {
                        attempts,
                        result: Err(Sent::Final(reason)),
                    };
                }
                Attempt::Retryable {
                    reason,
                    retry_after,
                } => (reason, retry_after),
            };
            if attempts >= self.max_attempts {
                return SendResult {
                    attempts,
                    result: Err(Sent::Retryable(format!(
                        "{reason} (after {attempts} attempts)"
                    ))),
                };
            }
            tokio::time::sleep(backoff(attempts, retry_after)).await;
        }
    }

    async fn attempt(&self, payload: &Payload, body: Bytes) -> Attempt {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let request = hyper::Request::post(self.uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("mailex/", env!("CARGO_PKG_VERSION")),
            )
            .header(RECORD_ID_HEADER, payload.record_id.as_str())
            .header(
                SIGNATURE_HEADER,
                signature_header(self.secret.expose(), now, &body),
            )
            .body(Full::new(body));
        let request = match request {
            Ok(request) => request,
            Err(e) => return Attempt::Final(format!("the request could not be built: {e}")),
        };
        let exchange = async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // Read (a bounded part of) the answer so the connection can be reused; its
            // content is never looked at.
            let _ = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await;
            Ok::<_, hyper_util::client::legacy::Error>((status, retry_after))
        };
        match tokio::time::timeout(self.timeouts.attempt, exchange).await {
            Err(_) => Attempt::Retryable {
                reason: format!("timed out after {:?}", self.timeouts.attempt),
                retry_after: None,
            },
            Ok(Err(e)) => Attempt::Retryable {
                reason: describe(&e),
                retry_after: None,
            },
            Ok(Ok((status, retry_after))) => classify(status, retry_after),
        }
    }
}

enum Attempt {
    Acknowledged(StatusCode),
    Final(String),
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
}

fn classify(status: StatusCode, retry_after: Option<Duration>) -> Attempt {
    let code = status.as_u16();
    if status.is_success() {
        Attempt::Acknowledged(status)
    } else if code == 429 || status.is_server_error() {
        Attempt::Retryable {
            reason: format!("HTTP {code}"),
            retry_after: if code == 429 { retry_after } else { None },
        }
    } else if status.is_redirection() {
        Attempt::Final(format!("HTTP {code} (redirects are not followed)"))
    } else {
        Attempt::Final(format!("HTTP {code}"))
    }
}

/// The wait before retry number `attempt` (1 = after the first attempt): full jitter over an
/// exponential backoff, `Retry-After` when the sink asked for longer, capped.
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exponential = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    let millis = exponential.as_millis() as u64;
    let jittered = Duration::from_millis(fastrand::u64(millis / 2..=millis));
    retry_after.map_or(jittered, |asked| asked.max(jittered).min(BACKOFF_CAP))
}

/// A one-line description of a client error (its kind and cause), never a body.
fn describe(error: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut text = if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "the exchange failed".to_owned()
    };
    let mut source = error.source();
    let mut depth = 0;
    while let Some(cause) = source {
        if depth == 3 {
            break;
        }
        text.push_str(": ");
        text.push_str(&cause.to_string().chars().take(200).collect::<String>());
        source = cause.source();
        depth += 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sorted() {
        assert!(matches!(
            classify(StatusCode::NO_CONTENT, None),
            Attempt::Acknowledged(_)
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, None),
            Attempt::Retryable { .. }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, None),
            Attempt::Retryable { .. }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, None),
            Attempt::Final(_)
        ));
        assert!(matches!(
            classify(StatusCode::MOVED_PERMANENTLY, None),
            Attempt::Final(_)
        ));
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_capped() {
        for attempt in 1..20 {
            let wait = backoff(attempt, None);
            let ceiling = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_CAP);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{attempt}: {wait:?}"
            );
        }
        assert_eq!(
            backoff(1, Some(Duration::from_secs(60))),
            BACKOFF_CAP,
            "Retry-After is capped"
        );
    }
}
