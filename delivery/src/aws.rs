//! `sns` and `eventbridge` sinks, through the AWS SDK (its retries and timeouts come from the
//! `SdkConfig` the binary passes).
//!
//! - SNS: `Publish` of the record's JSON to the topic, with message attributes `status`,
//!   `advertiser` and `route` (when the record has them) for subscription filter policies, and
//!   `record_id`. A FIFO topic (`.fifo`) gets the record id as deduplication id and the
//!   advertiser as message group.
//! - EventBridge: `PutEvents` with one entry on the bus: `source` from the sink, `detail-type`
//!   `mailex.lead.<status>`, `detail` the record's JSON.
//!
//! Both services take at most 256 KiB; a larger record is refused for good (`Rejected`).
//! Validation errors are final; throttling, 5xx, timeouts and authorisation errors are
//! retried (an IAM fix or a created topic lets the retried message through).

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;

use crate::payload::Payload;
use crate::{SendResult, Sent};

/// The largest message SNS and EventBridge take, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Error codes after which a retry cannot succeed.
const FINAL_CODES: &[&str] = &[
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidParameterException",
    "ValidationException",
];

/// The AWS SDK's default configuration chain (environment, profile, instance or task role;
/// region `us-east-1` when none is set), for binaries without an SDK configuration of their
/// own (the CLI). `AWS_ENDPOINT_URL_SNS` and `AWS_ENDPOINT_URL_EVENTBRIDGE` are honoured.
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    let region =
        aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(region)
        .load()
        .await
}

/// An SNS topic.
#[derive(Debug)]
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSink {
    /// A sink publishing to `topic_arn`.
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: Option<&str>, topic_arn: &str) -> Self {
        let mut builder = aws_sdk_sns::config::Builder::from(sdk);
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        SnsSink {
            client: aws_sdk_sns::Client::from_conf(builder.build()),
            topic_arn: topic_arn.to_owned(),
        }
    }

    pub(crate) async fn send(&self, payload: &Payload) -> SendResult {
        let Some(message) = message_text(payload) else {
            return too_large(payload);
        };
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
        };
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message);
        let mut attributes = vec![
            ("status", attribute(payload.status)),
            ("record_id", attribute(&payload.record_id)),
        ];
        if let Some(advertiser) = payload.advertiser.as_deref().filter(|a| !a.is_empty()) {
            attributes.push(("advertiser", attribute(advertiser)));
        }
        if let Some(route) = payload.route.as_deref().filter(|r| !r.is_empty()) {
            attributes.push(("route", attribute(route)));
        }
        for (name, value) in attributes {
            match value {
                Ok(value) => request = request.message_attributes(name, value),
                Err(e) => return final_error(format!("attribute `{name}`: {e}")),
            }
        }
        if self.topic_arn.ends_with(".fifo") {
            request = request
                .message_deduplication_id(&payload.record_id)
                .message_group_id(payload.advertiser.as_deref().unwrap_or("mailex"));
        }
        let result = match request.send().await {
            Ok(output) => Ok(format!(
                "message {}",
                output.message_id().unwrap_or("(no id)")
            )),
            Err(e) => Err(sort_sdk_error(&e)),
        };
        SendResult {
            attempts: 1,
            result,
        }
    }
}

/// An EventBridge bus.
#[derive(Debug)]
pub struct EventBridgeSink {
    client: aws_sdk_eventbridge::Client,
    bus_arn: String,
    source: String,
}

impl EventBridgeSink {
    /// A sink putting events with `source` on `bus_arn`.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        endpoint: Option<&str>,
        bus_arn: &str,
        source: &str,
    ) -> Self {
        let mut builder = aws_sdk_eventbridge::config::Builder::from(sdk);
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        EventBridgeSink {
            client: aws_sdk_eventbridge::Client::from_conf(builder.build()),
            bus_arn: bus_arn.to_owned(),
            source: source.to_owned(),
        }
    }

    pub(crate) async fn send(&self, payload: &Payload) -> SendResult {
        let Some(detail) = message_text(payload) else {
            return too_large(payload);
        };
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_arn)
            .source(&self.source)
            .detail_type(format!("mailex.lead.{}", payload.status))
            .detail(detail)
            .build();
        let result = match self.client.put_events().entries(entry).send().await {
            Err(e) => Err(sort_sdk_error(&e)),
            Ok(output) => match output.entries().first() {
                Some(entry) if entry.error_code().is_none() => {
                    Ok(format!("event {}", entry.event_id().unwrap_or("(no id)")))
                }
                Some(entry) => {
                    let code = entry.error_code().unwrap_or("UnknownError");
                    // The entry's message is the service's; it names no record content.
                    let reason = format!(
                        "{code}: {}",
                        entry
                            .error_message()
                            .unwrap_or_default()
                            .chars()
                            .take(200)
                            .collect::<String>()
                    );
                    if FINAL_CODES.contains(&code) {
                        Err(Sent::Final(reason))
                    } else {
                        Err(Sent::Retryable(reason))
                    }
                }
                None => Err(Sent::Retryable(
                    "PutEvents answered without an entry".to_owned(),
                )),
            },
        };
        SendResult {
            attempts: 1,
            result,
        }
    }
}

fn message_text(payload: &Payload) -> Option<String> {
    if payload.body.len() > MAX_MESSAGE_BYTES {
        return None;
    }
    String::from_utf8(payload.body.clone()).ok()
}

fn too_large(payload: &Payload) -> SendResult {
    final_error(format!(
        "the record is {} bytes, over the service's limit of {MAX_MESSAGE_BYTES} bytes",
        payload.body.len()
    ))
}

fn final_error(reason: String) -> SendResult {
    SendResult {
        attempts: 0,
        result: Err(Sent::Final(reason)),
    }
}

/// Sorts an SDK error into final and retryable, described in one line: the service's error
/// code and HTTP status, or the kind of failure. Never a raw response.
fn sort_sdk_error<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Sent {
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError");
            let message: String = service
                .err()
                .message()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            let reason = format!("{code}: {message}");
            if FINAL_CODES.contains(&code) {
                Sent::Final(reason)
            } else {
                Sent::Retryable(reason)
            }
        }
        SdkError::TimeoutError(_) => Sent::Retryable("timed out".to_owned()),
        SdkError::DispatchFailure(f) if f.is_timeout() => Sent::Retryable("timed out".to_owned()),
        SdkError::DispatchFailure(f) if f.is_io() => {
            Sent::Retryable("connection failed".to_owned())
        }
        SdkError::DispatchFailure(_) => Sent::Retryable("the request could not be sent".to_owned()),
        SdkError::ConstructionFailure(_) => {
            Sent::Final("the request could not be built".to_owned())
        }
        SdkError::ResponseError(_) => Sent::Retryable("unreadable response".to_owned()),
        _ => Sent::Retryable("unknown AWS client error".to_owned()),
    }
}
