//! Event detection and decoding: every supported Lambda payload becomes a list of [`Unit`]s.
//!
//! Detection is by shape, never by configuration, so one function can be wired to S3, SNS,
//! SQS or SES without settings:
//!
//! | payload | becomes |
//! |---|---|
//! | S3 `ObjectCreated:*` (`Records[].eventSource = aws:s3`) | [`Unit::Object`] per record |
//! | SNS (`Records[].EventSource = aws:sns`) | the decoded `Sns.Message`, recursively |
//! | SQS (`Records[].eventSource = aws:sqs`) | an [`Event::Sqs`] batch; each body decoded recursively |
//! | SNS envelope inside SQS (`{"Type": "Notification", "Message": ...}`) | the decoded `Message` |
//! | SES receipt-rule Lambda action (`Records[].eventSource = aws:ses`) | [`Unit::SesReceipt`] |
//! | SES SNS action (`notificationType = Received`) with `content` | [`Unit::Inline`] |
//! | SES SNS action whose receipt action is `S3` | [`Unit::Object`] with the receipt's verdicts |
//! | `s3:TestEvent`, the `AMAZON_SES_SETUP_NOTIFICATION` object, other S3 event names | [`Unit::Ignored`] |
//!
//! S3 keys arrive URL-encoded in form style (`+` is a space); [`decode_s3_key`] undoes that.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::HostError;

/// The object SES writes when an S3 receipt action is set up; never a mail.
pub const SES_SETUP_OBJECT: &str = "AMAZON_SES_SETUP_NOTIFICATION";

/// Maximum nesting of envelopes (SQS -> SNS -> S3 is 3); deeper payloads are rejected.
const MAX_DEPTH: usize = 6;

/// A decoded Lambda event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An SQS batch: each message succeeds or fails on its own (partial batch response).
    Sqs(Vec<SqsMessage>),
    /// Anything else (S3, SNS, SES): the invocation succeeds only if every unit does.
    Direct(Vec<Unit>),
    /// An SES receipt-rule Lambda action; processed like [`Event::Direct`], answered with a
    /// disposition.
    Ses(Vec<Unit>),
}

/// One SQS message of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsMessage {
    /// The SQS `messageId`, reported back in `batchItemFailures` when the message fails.
    pub message_id: String,
    /// The units inside the body, or why the body could not be decoded.
    pub units: Result<Vec<Unit>, String>,
}

/// One piece of work: a mail to fetch or a mail carried inline, or a notification to skip.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// A raw mail stored in S3.
    Object(ObjectRef),
    /// An SES receipt (Lambda action): the mail is at `<configured prefix><message_id>`.
    SesReceipt(SesReceipt),
    /// A mail carried inside the notification (SES SNS action).
    Inline(InlineMail),
    /// A notification that carries no mail.
    Ignored(IgnoreReason),
}

/// Why a notification was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    /// S3's `s3:TestEvent`, sent when a notification configuration is saved.
    S3TestEvent,
    /// SES's `AMAZON_SES_SETUP_NOTIFICATION` object.
    SesSetupNotification,
    /// An S3 event that is not `ObjectCreated:*` (e.g. a delete).
    NotObjectCreated(String),
}

/// An S3 object named by an event.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Decoded object key.
    pub key: String,
    /// Size announced by the event, if any.
    pub size: Option<u64>,
    /// When the object was created (event time), if known.
    pub event_time: Option<DateTime<Utc>>,
    /// SES verdicts, when the object came with an SES receipt.
    pub verdicts: Option<Verdicts>,
}

/// An SES receipt from the receipt-rule Lambda action.
#[derive(Debug, Clone, PartialEq)]
pub struct SesReceipt {
    /// SES's `mail.messageId`, which is also the stored object's name.
    pub message_id: String,
    /// `mail.timestamp`.
    pub timestamp: Option<DateTime<Utc>>,
    /// The receipt's verdicts.
    pub verdicts: Verdicts,
}

/// A mail carried inline by the SES SNS action.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineMail {
    /// SES's `mail.messageId`.
    pub message_id: String,
    /// `mail.timestamp`.
    pub timestamp: Option<DateTime<Utc>>,
    /// The raw MIME bytes (decoded from UTF8 or BASE64).
    pub raw: Vec<u8>,
    /// The receipt's verdicts.
    pub verdicts: Verdicts,
}

/// The verdicts of an SES receipt, as SES spells them (`PASS`, `FAIL`, `GRAY`,
/// `PROCESSING_FAILED`), `None` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// `receipt.spfVerdict.status`.
    pub spf: Option<String>,
    /// `receipt.dkimVerdict.status`.
    pub dkim: Option<String>,
    /// `receipt.dmarcVerdict.status`.
    pub dmarc: Option<String>,
    /// `receipt.spamVerdict.status`.
    pub spam: Option<String>,
    /// `receipt.virusVerdict.status`.
    pub virus: Option<String>,
    /// `mail.source`: the envelope sender (MAIL FROM) the SPF verdict is about.
    pub mail_from: Option<String>,
}

impl Verdicts {
    /// Whether SES found a virus.
    pub fn virus_failed(&self) -> bool {
        self.virus
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("FAIL"))
    }

    fn from_receipt(receipt: &Value, mail: &Value) -> Self {
        let status = |name: &str| {
            receipt
                .get(name)?
                .get("status")?
                .as_str()
                .map(str::to_owned)
        };
        Verdicts {
            spf: status("spfVerdict"),
            dkim: status("dkimVerdict"),
            dmarc: status("dmarcVerdict"),
            spam: status("spamVerdict"),
            virus: status("virusVerdict"),
            mail_from: mail
                .get("source")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// Decodes a Lambda event payload.
///
/// Fails only when the top level is not a known shape; an undecodable SQS body fails just that
/// message (see [`SqsMessage::units`]).
pub fn decode(payload: &Value) -> Result<Event, HostError> {
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        if !records.is_empty() && records.iter().all(|r| source_of(r) == Some("aws:sqs")) {
            let messages = records.iter().map(decode_sqs_record).collect();
            return Ok(Event::Sqs(messages));
        }
        if !records.is_empty() && records.iter().all(|r| source_of(r) == Some("aws:ses")) {
            return decode_units(payload, 0).map(Event::Ses);
        }
    }
    decode_units(payload, 0).map(Event::Direct)
}

fn source_of(record: &Value) -> Option<&str> {
    record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))
        .and_then(Value::as_str)
}

fn decode_sqs_record(record: &Value) -> SqsMessage {
    let message_id = record
        .get("messageId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let units = match record.get("body").and_then(Value::as_str) {
        None => Err("SQS record without a body".to_owned()),
        Some(body) => match serde_json::from_str::<Value>(body) {
            Err(e) => Err(format!("SQS body is not JSON: {e}")),
            Ok(inner) => decode_units(&inner, 1).map_err(|e| e.to_string()),
        },
    };
    SqsMessage { message_id, units }
}

/// Decodes any non-SQS payload (also the body of an SQS message or the message of an SNS
/// notification) into units.
fn decode_units(payload: &Value, depth: usize) -> Result<Vec<Unit>, HostError> {
    if depth > MAX_DEPTH {
        return Err(HostError::event("envelopes nested too deeply"));
    }
    if payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![Unit::Ignored(IgnoreReason::S3TestEvent)]);
    }
    if payload
        .get("notificationType")
        .and_then(Value::as_str)
        .is_some()
    {
        return decode_ses_notification(payload).map(|u| vec![u]);
    }
    if payload.get("Type").and_then(Value::as_str) == Some("Notification") {
        return decode_embedded_message(payload.get("Message"), depth);
    }
    let Some(records) = payload.get("Records").and_then(Value::as_array) else {
        return Err(HostError::event(
            "no Records, not an S3 test event, SNS envelope or SES notification",
        ));
    };
    let mut units = Vec::with_capacity(records.len());
    for record in records {
        match source_of(record) {
            Some("aws:s3") => units.push(decode_s3_record(record)?),
            Some("aws:sns") => {
                let sns = record
                    .get("Sns")
                    .ok_or_else(|| HostError::event("SNS record without Sns"))?;
                units.extend(decode_embedded_message(sns.get("Message"), depth)?);
            }
            Some("aws:ses") => units.push(decode_ses_record(record)?),
            Some("aws:sqs") => {
                return Err(HostError::event(
                    "an SQS record nested inside another envelope",
                ));
            }
            Some(other) => {
                return Err(HostError::event(format!(
                    "unsupported event source `{other}`"
                )));
            }
            None => return Err(HostError::event("record without eventSource")),
        }
    }
    Ok(units)
}

fn decode_embedded_message(message: Option<&Value>, depth: usize) -> Result<Vec<Unit>, HostError> {
    let text = message
        .and_then(Value::as_str)
        .ok_or_else(|| HostError::event("SNS notification without a Message string"))?;
    let inner: Value = serde_json::from_str(text)
        .map_err(|e| HostError::event(format!("SNS Message is not JSON: {e}")))?;
    decode_units(&inner, depth + 1)
}

fn decode_s3_record(record: &Value) -> Result<Unit, HostError> {
    let event_name = record
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !event_name.starts_with("ObjectCreated:") {
        return Ok(Unit::Ignored(IgnoreReason::NotObjectCreated(
            event_name.to_owned(),
        )));
    }
    let s3 = record
        .get("s3")
        .ok_or_else(|| HostError::event("S3 record without s3"))?;
    let bucket = s3
        .pointer("/bucket/name")
        .and_then(Value::as_str)
        .ok_or_else(|| HostError::event("S3 record without bucket.name"))?;
    let raw_key = s3
        .pointer("/object/key")
        .and_then(Value::as_str)
        .ok_or_else(|| HostError::event("S3 record without object.key"))?;
    let key = decode_s3_key(raw_key)?;
    if is_setup_object(&key) {
        return Ok(Unit::Ignored(IgnoreReason::SesSetupNotification));
    }
    Ok(Unit::Object(ObjectRef {
        bucket: bucket.to_owned(),
        key,
        size: s3.pointer("/object/size").and_then(Value::as_u64),
        event_time: parse_time(record.get("eventTime")),
        verdicts: None,
    }))
}

fn decode_ses_record(record: &Value) -> Result<Unit, HostError> {
    let ses = record
        .get("ses")
        .ok_or_else(|| HostError::event("SES record without ses"))?;
    let mail = ses
        .get("mail")
        .ok_or_else(|| HostError::event("SES record without mail"))?;
    let receipt = ses
        .get("receipt")
        .ok_or_else(|| HostError::event("SES record without receipt"))?;
    let message_id = ses_message_id(mail)?;
    Ok(Unit::SesReceipt(SesReceipt {
        message_id,
        timestamp: parse_time(mail.get("timestamp")),
        verdicts: Verdicts::from_receipt(receipt, mail),
    }))
}

fn decode_ses_notification(payload: &Value) -> Result<Unit, HostError> {
    let kind = payload
        .get("notificationType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != "Received" {
        return Err(HostError::event(format!(
            "SES notification of type `{kind}` carries no mail"
        )));
    }
    let mail = payload
        .get("mail")
        .ok_or_else(|| HostError::event("SES notification without mail"))?;
    let receipt = payload
        .get("receipt")
        .ok_or_else(|| HostError::event("SES notification without receipt"))?;
    let message_id = ses_message_id(mail)?;
    let verdicts = Verdicts::from_receipt(receipt, mail);
    let timestamp = parse_time(mail.get("timestamp"));
    let action = receipt.get("action");
    if let Some(content) = payload.get("content").and_then(Value::as_str) {
        let encoding = action
            .and_then(|a| a.get("encoding"))
            .and_then(Value::as_str)
            .unwrap_or("UTF8");
        let raw = if encoding.eq_ignore_ascii_case("BASE64") {
            let compact: String = content
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|e| HostError::event(format!("SES content is not valid BASE64: {e}")))?
        } else {
            content.as_bytes().to_vec()
        };
        return Ok(Unit::Inline(InlineMail {
            message_id,
            timestamp,
            raw,
            verdicts,
        }));
    }
    // S3 action + SNS topic: the notification names the stored object.
    let bucket = action
        .and_then(|a| a.get("bucketName"))
        .and_then(Value::as_str);
    let key = action
        .and_then(|a| a.get("objectKey"))
        .and_then(Value::as_str);
    match (bucket, key) {
        (Some(bucket), Some(key)) => Ok(Unit::Object(ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: None,
            event_time: timestamp,
            verdicts: Some(verdicts),
        })),
        _ => Err(HostError::event(
            "SES notification has neither inline content nor an S3 action (mail over 150 KB is not sent by SNS)",
        )),
    }
}

fn ses_message_id(mail: &Value) -> Result<String, HostError> {
    let id = mail
        .get("messageId")
        .and_then(Value::as_str)
        .ok_or_else(|| HostError::event("SES mail without messageId"))?;
    // The id becomes part of an S3 key: refuse anything that could walk out of the prefix.
    if id.is_empty() || id.contains('/') || id.contains("..") {
        return Err(HostError::event("SES messageId is not a plain object name"));
    }
    Ok(id.to_owned())
}

fn parse_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether a key names SES's setup object (at the top or under a prefix).
pub fn is_setup_object(key: &str) -> bool {
    key.rsplit('/').next() == Some(SES_SETUP_OBJECT)
}

/// Decodes an S3 event key: form-style URL encoding, where `+` is a space and `%XX` a byte.
///
/// ```
/// assert_eq!(mailex_lambda::decode_s3_key("inbound/Happy+Face%2B1.eml").unwrap(), "inbound/Happy Face+1.eml");
/// ```
pub fn decode_s3_key(raw: &str) -> Result<String, HostError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| HostError::event("S3 key has a broken %-escape"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| HostError::event("S3 key is not UTF-8 after decoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_form_style() {
        assert_eq!(decode_s3_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
        assert_eq!(decode_s3_key("a+b%2Bc").unwrap(), "a b+c");
        assert_eq!(decode_s3_key("caf%C3%A9").unwrap(), "café");
        assert!(decode_s3_key("bad%2").is_err());
        assert!(decode_s3_key("bad%zz").is_err());
    }

    #[test]
    fn setup_object_is_recognised_under_a_prefix() {
        assert!(is_setup_object("inbound/AMAZON_SES_SETUP_NOTIFICATION"));
        assert!(is_setup_object(SES_SETUP_OBJECT));
        assert!(!is_setup_object("inbound/abc"));
    }

    #[test]
    fn unknown_payload_is_an_error() {
        assert!(decode(&serde_json::json!({"hello": 1})).is_err());
    }

    #[test]
    fn broken_sqs_body_fails_only_that_message() {
        let event = serde_json::json!({"Records": [
            {"eventSource": "aws:sqs", "messageId": "a", "body": "not json"},
            {"eventSource": "aws:sqs", "messageId": "b", "body": "{\"Event\":\"s3:TestEvent\"}"}
        ]});
        let Event::Sqs(messages) = decode(&event).unwrap() else {
            panic!("not sqs")
        };
        assert!(messages[0].units.is_err());
        assert_eq!(
            messages[1].units,
            Ok(vec![Unit::Ignored(IgnoreReason::S3TestEvent)])
        );
    }
}
