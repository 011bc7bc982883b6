//! `[[sink]]` tables of `mailex.toml`: where records are delivered once they are stored.
//!
//! ```toml
//! [[sink]]
//! name = "crm"                       # unique; names the delivery marker and the metrics
//! kind = "webhook"                   # webhook, sns, eventbridge, kafka
//! url = "https://crm.example/leads"  # https (http only for a loopback host)
//! secret_env = "MAILEX_CRM_SECRET"   # the environment variable holding the signing secret
//! statuses = ["extracted", "partial"]  # the default
//! # advertisers = ["acme"]           # only these advertisers' records (default: all)
//! # routes = ["acme-forwarded"]      # only the records of these routes (default: all)
//! # redact = ["email", "phone"]      # fields dropped, or pseudonymised (redact_with)
//! ```
//!
//! This module only reads and checks the tables (every problem with its `file:line:col`); the
//! `mailex-delivery` crate delivers. Secrets are never in the file: a sink names the
//! environment variable that holds one, and the binaries read it (this crate reads no
//! environment).

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::config::SourceFile;
use crate::error::ConfigProblem;
use crate::record::{Record, Status};

/// Most `[[sink]]` tables in one configuration.
pub const MAX_SINKS: usize = 64;
/// Default timeout of one webhook attempt (connect, send, answer), in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Default timeout of a webhook connection, in milliseconds.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2000;
/// Default attempts per delivery of a webhook (the first try and its retries).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Default timeout of one Kafka delivery (connecting, metadata and the produce request), in
/// milliseconds.
pub const DEFAULT_KAFKA_TIMEOUT_MS: u64 = 10_000;
/// Most bootstrap brokers of one Kafka sink.
pub const MAX_KAFKA_BROKERS: usize = 16;
/// Default `source` of EventBridge events.
pub const DEFAULT_EVENT_SOURCE: &str = "mailex";
/// The `redact` entry that stands for every field a record lists in `sensitive`.
pub const SENSITIVE_FIELDS: &str = "@sensitive";

/// One `[[sink]]` table as written, with source spans for error reporting.
///
/// A sink receives the records its filter takes (by default `extracted` and `partial`), once
/// each (docs/delivery.md). The keys after `kind` depend on the kind.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSink {
    /// The sink's name, unique in the file: lower-case letters, digits, `-` and `_`, at most 64
    /// characters. It names the sink's delivery markers and metrics; renaming a sink makes it
    /// a new sink that has received nothing.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// `webhook` (HTTPS POST, signed), `sns` (publish to a topic), `eventbridge` (put events
    /// on a bus) or `kafka` (produce to a topic).
    #[schemars(with = "SinkKindName")]
    pub kind: Spanned<String>,
    /// webhook: the URL records are POSTed to. `https://`; `http://` only for a loopback host
    /// (`127.0.0.1`, `::1`, `localhost`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub url: Option<Spanned<String>>,
    /// webhook: the name of the environment variable holding the signing secret (never the
    /// secret itself).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub secret_env: Option<Spanned<String>>,
    /// webhook: timeout of one attempt, from connecting to the end of the answer, in
    /// milliseconds (default 5000). kafka: timeout of one delivery, from connecting to the
    /// broker's acknowledgement (default 10000).
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub timeout_ms: Option<Spanned<u64>>,
    /// webhook: timeout of connecting, in milliseconds (default 2000).
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub connect_timeout_ms: Option<Spanned<u64>>,
    /// webhook: attempts per delivery, the first one included (default 4, at most 10); a 5xx,
    /// 429 or network error is retried with exponential backoff and jitter.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_attempts: Option<Spanned<u32>>,
    /// sns: the ARN of the topic (`arn:aws:sns:<region>:<account>:<topic>`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub topic_arn: Option<Spanned<String>>,
    /// eventbridge: the ARN of the event bus (`arn:aws:events:<region>:<account>:event-bus/<name>`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub bus_arn: Option<Spanned<String>>,
    /// eventbridge: the events' `source` (default `mailex`; `aws.` prefixes are AWS's own).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub source: Option<Spanned<String>>,
    /// kafka: the bootstrap brokers, `host:port` each (at most 16).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub brokers: Option<Spanned<Vec<String>>>,
    /// kafka: the topic records are produced to (it must exist).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub topic: Option<Spanned<String>>,
    /// kafka: whether the connection uses TLS (default `true`).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub tls: Option<Spanned<bool>>,
    /// kafka: the SASL mechanism, `plain`, `scram-sha-256` or `scram-sha-512` (default: no
    /// SASL).
    #[serde(default)]
    #[schemars(with = "Option<SaslMechanismName>")]
    pub sasl_mechanism: Option<Spanned<String>>,
    /// kafka: the SASL user name (with `sasl_mechanism`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub username: Option<Spanned<String>>,
    /// kafka: the name of the environment variable holding the SASL password (with
    /// `sasl_mechanism`; never the password itself).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub password_env: Option<Spanned<String>>,
    /// The record statuses this sink takes (default `["extracted", "partial"]`); an alerting
    /// sink takes `["unauthenticated", "failed", "unmatched"]`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<Status>>")]
    pub statuses: Option<Spanned<Vec<String>>>,
    /// Only the records of these advertisers (each the advertiser of some route); default:
    /// every advertiser, and records without one.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub advertisers: Option<Spanned<Vec<String>>>,
    /// Only the records of these routes (each the name of a route); default: every route, and
    /// records without one.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub routes: Option<Spanned<Vec<String>>>,
    /// Fields this sink must not receive as they are: dropped, or replaced by a pseudonym
    /// (`redact_with`). `"@sensitive"` stands for every field the record lists as sensitive.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub redact: Option<Spanned<Vec<String>>>,
    /// `drop` (default) or `pseudonym`: the value becomes `hmac-sha256:<hex>` of the value
    /// under a key, so equal values stay equal without being readable.
    #[serde(default)]
    #[schemars(with = "Option<RedactWithName>")]
    pub redact_with: Option<Spanned<String>>,
    /// With `redact_with = "pseudonym"`: the name of the environment variable holding the
    /// pseudonym key.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub pseudonym_key_env: Option<Spanned<String>>,
}

/// The values of `kind`, for the config's JSON Schema.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[allow(dead_code)]
enum SinkKindName {
    /// An HTTPS POST of the record, signed with `Mailex-Signature`.
    Webhook,
    /// An SNS `Publish` with message attributes `status` and `advertiser`.
    Sns,
    /// An EventBridge `PutEvents` entry, detail-type `mailex.lead.<status>`.
    Eventbridge,
    /// A Kafka record, key = the record id.
    Kafka,
}

/// The values of `sasl_mechanism`, for the config's JSON Schema.
#[derive(JsonSchema)]
#[allow(dead_code)]
enum SaslMechanismName {
    /// SASL/PLAIN (user name and password; use it over TLS only).
    #[schemars(rename = "plain")]
    Plain,
    /// SASL/SCRAM-SHA-256.
    #[schemars(rename = "scram-sha-256")]
    ScramSha256,
    /// SASL/SCRAM-SHA-512.
    #[schemars(rename = "scram-sha-512")]
    ScramSha512,
}

/// The values of `redact_with`, for the config's JSON Schema.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[allow(dead_code)]
enum RedactWithName {
    /// The field is left out.
    Drop,
    /// The value is replaced by `hmac-sha256:<hex>` under the key `pseudonym_key_env` names.
    Pseudonym,
}

/// A checked `[[sink]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    /// The sink's name (unique; `[a-z0-9_-]{1,64}`).
    pub name: String,
    /// Where and how records go.
    pub target: SinkTarget,
    /// Which records go.
    pub filter: SinkFilter,
    /// Fields dropped or pseudonymised before sending, if any.
    pub redaction: Option<Redaction>,
}

/// The kind of a sink, with its kind's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkTarget {
    /// HTTPS POST of the record as JSON, signed.
    Webhook {
        /// The URL.
        url: String,
        /// The environment variable holding the signing secret.
        secret_env: String,
        /// Timeout of one attempt.
        timeout: Duration,
        /// Timeout of connecting.
        connect_timeout: Duration,
        /// Attempts per delivery (at least 1).
        max_attempts: u32,
    },
    /// SNS `Publish`.
    Sns {
        /// The topic's ARN.
        topic_arn: String,
    },
    /// EventBridge `PutEvents`.
    EventBridge {
        /// The bus's ARN.
        bus_arn: String,
        /// The events' `source`.
        source: String,
    },
    /// A Kafka produce request (acks = all), key = the record id.
    Kafka {
        /// The bootstrap brokers, `host:port`.
        brokers: Vec<String>,
        /// The topic.
        topic: String,
        /// Whether connections use TLS.
        tls: bool,
        /// SASL authentication, if any.
        sasl: Option<KafkaSasl>,
        /// Timeout of one delivery (connecting, metadata, produce).
        timeout: Duration,
    },
}

/// SASL authentication of a Kafka sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSasl {
    /// The mechanism.
    pub mechanism: SaslMechanism,
    /// The user name.
    pub username: String,
    /// The environment variable holding the password.
    pub password_env: String,
}

/// A SASL mechanism a Kafka sink can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// SASL/PLAIN.
    Plain,
    /// SASL/SCRAM-SHA-256.
    ScramSha256,
    /// SASL/SCRAM-SHA-512.
    ScramSha512,
}

impl SaslMechanism {
    /// The mechanism's name in `mailex.toml` (`plain`, `scram-sha-256`, `scram-sha-512`).
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "plain",
            SaslMechanism::ScramSha256 => "scram-sha-256",
            SaslMechanism::ScramSha512 => "scram-sha-512",
        }
    }
}

impl SinkTarget {
    /// `webhook`, `sns`, `eventbridge` or `kafka`.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkTarget::Webhook { .. } => "webhook",
            SinkTarget::Sns { .. } => "sns",
            SinkTarget::EventBridge { .. } => "eventbridge",
            SinkTarget::Kafka { .. } => "kafka",
        }
    }
}

/// Which records a sink takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkFilter {
    /// The statuses taken.
    pub statuses: Vec<Status>,
    /// The advertisers taken; `None` takes every record, with or without an advertiser.
    pub advertisers: Option<Vec<String>>,
    /// The routes taken (by name); `None` takes every record, with or without a route.
    pub routes: Option<Vec<String>>,
}

impl SinkFilter {
    /// Whether the sink takes `record`: its status is listed, and so are its advertiser and
    /// its route when the filter names advertisers or routes.
    pub fn matches(&self, record: &Record) -> bool {
        let listed = |list: &Option<Vec<String>>, value: Option<&str>| match list {
            None => true,
            Some(list) => value.is_some_and(|v| list.iter().any(|x| x == v)),
        };
        self.statuses.contains(&record.status)
            && listed(&self.advertisers, record.advertiser.as_deref())
            && listed(&self.routes, record.route.as_deref())
    }
}

/// Fields a sink must not receive as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// Field names.
    pub fields: Vec<String>,
    /// Whether every field the record lists in `sensitive` is included (`"@sensitive"`).
    pub sensitive: bool,
    /// What becomes of them.
    pub with: RedactWith,
}

impl Redaction {
    /// Whether `field` of `record` is redacted.
    pub fn covers(&self, record: &Record, field: &str) -> bool {
        self.fields.iter().any(|f| f == field)
            || (self.sensitive && record.sensitive.iter().any(|f| f == field))
    }
}

/// What becomes of a redacted field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedactWith {
    /// Left out.
    Drop,
    /// Replaced by a keyed pseudonym.
    Pseudonym {
        /// The environment variable holding the key.
        key_env: String,
    },
}

impl SinkConfig {
    /// The environment variables this sink needs, with the key that names each
    /// (`secret_env`, `password_env`, `pseudonym_key_env`).
    pub fn secret_envs(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        match &self.target {
            SinkTarget::Webhook { secret_env, .. } => out.push(("secret_env", secret_env.as_str())),
            SinkTarget::Kafka {
                sasl: Some(sasl), ..
            } => out.push(("password_env", sasl.password_env.as_str())),
            _ => {}
        }
        if let Some(Redaction {
            with: RedactWith::Pseudonym { key_env },
            ..
        }) = &self.redaction
        {
            out.push(("pseudonym_key_env", key_env.as_str()));
        }
        out
    }
}

/// What a sink's filter may name: the advertisers and the names of the configuration's routes.
pub(crate) struct Filterable<'a> {
    /// The advertisers of the routes.
    pub advertisers: HashSet<&'a str>,
    /// The routes' names.
    pub routes: HashSet<&'a str>,
}

/// Checks the `[[sink]]` tables. A sink's `advertisers` and `routes` must name some of
/// `known`'s. Every problem is reported with its position.
pub(crate) fn build_sinks(
    raw: &[RawSink],
    known: &Filterable<'_>,
    source: &SourceFile,
) -> Result<Vec<SinkConfig>, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    if let Some(extra) = raw.get(MAX_SINKS) {
        problems.push(source.problem(
            extra.name.span(),
            format!("more than {MAX_SINKS} sinks; this and later sinks were not loaded"),
        ));
    }
    let mut names = HashSet::new();
    let mut sinks = Vec::new();
    for sink in raw.iter().take(MAX_SINKS) {
        let name = sink.name.get_ref();
        if !names.insert(name.as_str()) {
            problems.push(source.problem(
                sink.name.span(),
                format!("sink name `{name}` is used twice; each sink needs its own name"),
            ));
        }
        let mut check = SinkCheck {
            sink,
            source,
            problems: Vec::new(),
        };
        let built = check.build(known);
        if check.problems.is_empty()
            && let Some(built) = built
        {
            sinks.push(built);
        }
        problems.extend(check.problems);
    }
    if problems.is_empty() {
        Ok(sinks)
    } else {
        Err(problems)
    }
}

/// The checks of one sink, collecting problems that name the sink and the key.
struct SinkCheck<'a> {
    sink: &'a RawSink,
    source: &'a SourceFile,
    problems: Vec<ConfigProblem>,
}

impl SinkCheck<'_> {
    fn problem(&mut self, span: Range<usize>, key: &str, message: impl std::fmt::Display) {
        let name = self.sink.name.get_ref();
        self.problems.push(
            self.source
                .problem(span, format!("sink `{name}`: `{key}` {message}")),
        );
    }

    /// A required string key of this kind.
    fn required<'s>(
        &mut self,
        value: &'s Option<Spanned<String>>,
        key: &str,
        kind: &str,
    ) -> Option<&'s Spanned<String>> {
        if value.is_none() {
            let span = self.sink.kind.span();
            self.problem(span, key, format_args!("is required for kind `{kind}`"));
        }
        value.as_ref()
    }

    fn build(&mut self, known: &Filterable<'_>) -> Option<SinkConfig> {
        let sink = self.sink;
        let name = sink.name.get_ref();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            self.problem(
                sink.name.span(),
                "name",
                "must be 1 to 64 lower-case letters, digits, `-` or `_` (it names S3 objects and metrics)",
            );
        }
        let kind = sink.kind.get_ref().as_str();
        let given: Vec<(&str, Option<Range<usize>>)> = vec![
            ("url", sink.url.as_ref().map(Spanned::span)),
            ("secret_env", sink.secret_env.as_ref().map(Spanned::span)),
            ("timeout_ms", sink.timeout_ms.as_ref().map(Spanned::span)),
            (
                "connect_timeout_ms",
                sink.connect_timeout_ms.as_ref().map(Spanned::span),
            ),
            (
                "max_attempts",
                sink.max_attempts.as_ref().map(Spanned::span),
            ),
            ("topic_arn", sink.topic_arn.as_ref().map(Spanned::span)),
            ("bus_arn", sink.bus_arn.as_ref().map(Spanned::span)),
            ("source", sink.source.as_ref().map(Spanned::span)),
            ("brokers", sink.brokers.as_ref().map(Spanned::span)),
            ("topic", sink.topic.as_ref().map(Spanned::span)),
            ("tls", sink.tls.as_ref().map(Spanned::span)),
            (
                "sasl_mechanism",
                sink.sasl_mechanism.as_ref().map(Spanned::span),
            ),
            ("username", sink.username.as_ref().map(Spanned::span)),
            (
                "password_env",
                sink.password_env.as_ref().map(Spanned::span),
            ),
        ];
        let own: &[&str] = match kind {
            "webhook" => &[
                "url",
                "secret_env",
                "timeout_ms",
                "connect_timeout_ms",
                "max_attempts",
            ],
            "sns" => &["topic_arn"],
            "eventbridge" => &["bus_arn", "source"],
            "kafka" => &[
                "brokers",
                "topic",
                "tls",
                "sasl_mechanism",
                "username",
                "password_env",
                "timeout_ms",
            ],
            other => {
                self.problem(
                    sink.kind.span(),
                    "kind",
                    format_args!(
                        "`{other}` is not a sink kind; use webhook, sns, eventbridge or kafka"
                    ),
                );
                return None;
            }
        };
        for (key, span) in given {
            if let Some(span) = span
                && !own.contains(&key)
            {
                self.problem(span, key, format_args!("does not apply to kind `{kind}`"));
            }
        }
        let target = match kind {
            "webhook" => self.webhook()?,
            "kafka" => self.kafka()?,
            "sns" => {
                let arn = self.required(&sink.topic_arn, "topic_arn", kind)?;
                if !is_arn(arn.get_ref(), "sns", |resource| {
                    let topic = resource.strip_suffix(".fifo").unwrap_or(resource);
                    (1..=256).contains(&topic.len())
                        && topic
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }) {
                    self.problem(
                        arn.span(),
                        "topic_arn",
                        "is not an SNS topic ARN (`arn:aws:sns:<region>:<12-digit account>:<topic>`)",
                    );
                }
                SinkTarget::Sns {
                    topic_arn: arn.get_ref().clone(),
                }
            }
            _ => {
                let arn = self.required(&sink.bus_arn, "bus_arn", kind)?;
                if !is_arn(arn.get_ref(), "events", |resource| {
                    resource.strip_prefix("event-bus/").is_some_and(|bus| {
                        (1..=256).contains(&bus.len())
                            && bus.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/')
                            })
                    })
                }) {
                    self.problem(
                        arn.span(),
                        "bus_arn",
                        "is not an EventBridge bus ARN (`arn:aws:events:<region>:<12-digit account>:event-bus/<name>`)",
                    );
                }
                let event_source = match &sink.source {
                    Some(s) => {
                        let text = s.get_ref();
                        if text.is_empty() || text.len() > 256 || text.starts_with("aws.") {
                            self.problem(
                                s.span(),
                                "source",
                                "must be 1 to 256 characters and not start with `aws.`",
                            );
                        }
                        text.clone()
                    }
                    None => DEFAULT_EVENT_SOURCE.to_owned(),
                };
                SinkTarget::EventBridge {
                    bus_arn: arn.get_ref().clone(),
                    source: event_source,
                }
            }
        };
        let filter = self.filter(known);
        let redaction = self.redaction();
        Some(SinkConfig {
            name: name.clone(),
            target,
            filter,
            redaction,
        })
    }

    fn webhook(&mut self) -> Option<SinkTarget> {
        let sink = self.sink;
        let url = self.required(&sink.url, "url", "webhook");
        let secret_env = self.required(&sink.secret_env, "secret_env", "webhook");
        let (url, secret_env) = (url?, secret_env?);
        match url::Url::parse(url.get_ref()) {
            Err(e) => self.problem(url.span(), "url", format_args!("is not a URL: {e}")),
            Ok(parsed) => {
                let loopback = matches!(parsed.host(), Some(url::Host::Domain("localhost")))
                    || matches!(parsed.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                    || matches!(parsed.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
                match parsed.scheme() {
                    "https" => {}
                    "http" if loopback => {}
                    "http" => self.problem(
                        url.span(),
                        "url",
                        "must be https:// (http:// only for a loopback host)",
                    ),
                    other => self.problem(
                        url.span(),
                        "url",
                        format_args!("has scheme `{other}`; use https://"),
                    ),
                }
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    self.problem(
                        url.span(),
                        "url",
                        "must not carry credentials; the signature authenticates mailex",
                    );
                }
                if parsed.host().is_none() {
                    self.problem(url.span(), "url", "names no host");
                }
            }
        }
        self.env_name(secret_env, "secret_env");
        let millis = |value: &Option<Spanned<u64>>, default: u64| {
            value.as_ref().map_or(default, |v| *v.get_ref())
        };
        let timeout_ms = millis(&sink.timeout_ms, DEFAULT_TIMEOUT_MS);
        let connect_ms = millis(&sink.connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
        for (key, value, ms) in [
            ("timeout_ms", &sink.timeout_ms, timeout_ms),
            ("connect_timeout_ms", &sink.connect_timeout_ms, connect_ms),
        ] {
            if let Some(v) = value
                && !(1..=60_000).contains(&ms)
            {
                self.problem(v.span(), key, "must be between 1 and 60000 milliseconds");
            }
        }
        let max_attempts = sink
            .max_attempts
            .as_ref()
            .map_or(DEFAULT_MAX_ATTEMPTS, |v| *v.get_ref());
        if let Some(v) = &sink.max_attempts
            && !(1..=10).contains(&max_attempts)
        {
            self.problem(v.span(), "max_attempts", "must be between 1 and 10");
        }
        Some(SinkTarget::Webhook {
            url: url.get_ref().clone(),
            secret_env: secret_env.get_ref().clone(),
            timeout: Duration::from_millis(timeout_ms),
            connect_timeout: Duration::from_millis(connect_ms),
            max_attempts,
        })
    }

    fn kafka(&mut self) -> Option<SinkTarget> {
        let sink = self.sink;
        let brokers = self.required_list(&sink.brokers, "brokers", "kafka");
        let topic = self.required(&sink.topic, "topic", "kafka");
        let (brokers, topic) = (brokers?, topic?);
        let mut loopback_only = true;
        if brokers.get_ref().is_empty() || brokers.get_ref().len() > MAX_KAFKA_BROKERS {
            self.problem(
                brokers.span(),
                "brokers",
                format_args!("must list 1 to {MAX_KAFKA_BROKERS} brokers"),
            );
        }
        for broker in brokers.get_ref() {
            match broker_host(broker) {
                Some(host) => loopback_only &= is_loopback_host(host),
                None => self.problem(
                    brokers.span(),
                    "brokers",
                    format_args!(
                        "holds `{broker}`, which is not `host:port` (a host name or IP address, a port from 1 to 65535, no scheme)"
                    ),
                ),
            }
        }
        // Kafka's own rule for topic names: 1 to 249 of [a-zA-Z0-9._-], not `.` or `..`.
        let name = topic.get_ref();
        if name.is_empty()
            || name.len() > 249
            || name == "."
            || name == ".."
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            self.problem(
                topic.span(),
                "topic",
                "is not a Kafka topic name (1 to 249 letters, digits, `.`, `_` or `-`)",
            );
        }
        let tls = sink.tls.as_ref().is_none_or(|t| *t.get_ref());
        let sasl = match &sink.sasl_mechanism {
            None => {
                for (key, value) in [
                    ("username", &sink.username),
                    ("password_env", &sink.password_env),
                ] {
                    if let Some(value) = value {
                        self.problem(value.span(), key, "applies only with `sasl_mechanism`");
                    }
                }
                None
            }
            Some(mechanism) => {
                let parsed = match mechanism.get_ref().as_str() {
                    "plain" => Some(SaslMechanism::Plain),
                    "scram-sha-256" => Some(SaslMechanism::ScramSha256),
                    "scram-sha-512" => Some(SaslMechanism::ScramSha512),
                    other => {
                        self.problem(
                            mechanism.span(),
                            "sasl_mechanism",
                            format_args!(
                                "is `{other}`; use plain, scram-sha-256 or scram-sha-512 (AWS MSK IAM is not supported)"
                            ),
                        );
                        None
                    }
                };
                for (key, value) in [
                    ("username", &sink.username),
                    ("password_env", &sink.password_env),
                ] {
                    if value.is_none() {
                        self.problem(mechanism.span(), key, "is required with `sasl_mechanism`");
                    }
                }
                let (username, password_env) = (sink.username.as_ref(), sink.password_env.as_ref());
                if let Some(password_env) = password_env {
                    self.env_name(password_env, "password_env");
                }
                if let Some(username) = username
                    && (username.get_ref().is_empty() || username.get_ref().len() > 256)
                {
                    self.problem(username.span(), "username", "must be 1 to 256 characters");
                }
                if parsed == Some(SaslMechanism::Plain) && !tls && !loopback_only {
                    self.problem(
                        mechanism.span(),
                        "sasl_mechanism",
                        "`plain` sends the password as it is: use it with `tls = true` (or a loopback broker)",
                    );
                }
                match (parsed, username, password_env) {
                    (Some(mechanism), Some(username), Some(password_env)) => Some(KafkaSasl {
                        mechanism,
                        username: username.get_ref().clone(),
                        password_env: password_env.get_ref().clone(),
                    }),
                    _ => None,
                }
            }
        };
        let timeout_ms = sink
            .timeout_ms
            .as_ref()
            .map_or(DEFAULT_KAFKA_TIMEOUT_MS, |v| *v.get_ref());
        if let Some(v) = &sink.timeout_ms
            && !(1..=60_000).contains(&timeout_ms)
        {
            self.problem(
                v.span(),
                "timeout_ms",
                "must be between 1 and 60000 milliseconds",
            );
        }
        Some(SinkTarget::Kafka {
            brokers: brokers.get_ref().clone(),
            topic: topic.get_ref().clone(),
            tls,
            sasl,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    /// A required list key of this kind.
    fn required_list<'s>(
        &mut self,
        value: &'s Option<Spanned<Vec<String>>>,
        key: &str,
        kind: &str,
    ) -> Option<&'s Spanned<Vec<String>>> {
        if value.is_none() {
            let span = self.sink.kind.span();
            self.problem(span, key, format_args!("is required for kind `{kind}`"));
        }
        value.as_ref()
    }

    /// An environment variable's name: `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters.
    fn env_name(&mut self, value: &Spanned<String>, key: &str) {
        let name = value.get_ref();
        let ok = !name.is_empty()
            && name.len() <= 128
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            self.problem(
                value.span(),
                key,
                "must be the name of an environment variable (letters, digits, `_`), not the secret itself",
            );
        }
    }

    fn filter(&mut self, known: &Filterable<'_>) -> SinkFilter {
        let sink = self.sink;
        let statuses = match &sink.statuses {
            None => vec![Status::Extracted, Status::Partial],
            Some(list) => {
                let mut out = Vec::new();
                for name in list.get_ref() {
                    match parse_status(name) {
                        Some(status) => out.push(status),
                        None => self.problem(
                            list.span(),
                            "statuses",
                            format_args!(
                                "names `{name}`, which is not a status (extracted, partial, unmatched, unauthenticated, failed)"
                            ),
                        ),
                    }
                }
                if list.get_ref().is_empty() {
                    self.problem(
                        list.span(),
                        "statuses",
                        "is empty: the sink would take nothing",
                    );
                }
                out
            }
        };
        let advertisers = self.names(
            &sink.advertisers,
            "advertisers",
            &known.advertisers,
            "the advertiser of no route",
        );
        let routes = self.names(
            &sink.routes,
            "routes",
            &known.routes,
            "no route of this file",
        );
        SinkFilter {
            statuses,
            advertisers,
            routes,
        }
    }

    /// A filter's list of names, each of which must be in `known`.
    fn names(
        &mut self,
        list: &Option<Spanned<Vec<String>>>,
        key: &str,
        known: &HashSet<&str>,
        unknown: &str,
    ) -> Option<Vec<String>> {
        let list = list.as_ref()?;
        for name in list.get_ref() {
            if !known.contains(name.as_str()) {
                self.problem(list.span(), key, format_args!("names `{name}`, {unknown}"));
            }
        }
        if list.get_ref().is_empty() {
            self.problem(list.span(), key, "is empty: the sink would take nothing");
        }
        Some(list.get_ref().clone())
    }

    fn redaction(&mut self) -> Option<Redaction> {
        let sink = self.sink;
        let with = match &sink.redact_with {
            None => RedactWith::Drop,
            Some(w) if w.get_ref() == "drop" => RedactWith::Drop,
            Some(w) if w.get_ref() == "pseudonym" => match &sink.pseudonym_key_env {
                Some(key) => {
                    self.env_name(key, "pseudonym_key_env");
                    RedactWith::Pseudonym {
                        key_env: key.get_ref().clone(),
                    }
                }
                None => {
                    self.problem(
                        w.span(),
                        "pseudonym_key_env",
                        "is required with `redact_with = \"pseudonym\"`",
                    );
                    RedactWith::Drop
                }
            },
            Some(w) => {
                let value = w.get_ref().clone();
                self.problem(
                    w.span(),
                    "redact_with",
                    format_args!("is `{value}`; use drop or pseudonym"),
                );
                RedactWith::Drop
            }
        };
        if let Some(key) = &sink.pseudonym_key_env
            && with == RedactWith::Drop
        {
            self.problem(
                key.span(),
                "pseudonym_key_env",
                "applies only with `redact_with = \"pseudonym\"`",
            );
        }
        let Some(list) = &sink.redact else {
            if let Some(w) = &sink.redact_with {
                self.problem(w.span(), "redact_with", "is given without `redact`");
            }
            return None;
        };
        let mut fields = Vec::new();
        let mut sensitive = false;
        for field in list.get_ref() {
            if field == SENSITIVE_FIELDS {
                sensitive = true;
            } else if field.is_empty() || field.len() > 128 {
                self.problem(
                    list.span(),
                    "redact",
                    "holds an empty or over-long field name",
                );
            } else {
                fields.push(field.clone());
            }
        }
        if list.get_ref().is_empty() {
            self.problem(list.span(), "redact", "is empty");
        }
        Some(Redaction {
            fields,
            sensitive,
            with,
        })
    }
}

fn parse_status(name: &str) -> Option<Status> {
    [
        Status::Extracted,
        Status::Partial,
        Status::Unmatched,
        Status::Unauthenticated,
        Status::Failed,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

/// The host of a `host:port` broker address (`[v6]:port` for IPv6), if it is one.
fn broker_host(broker: &str) -> Option<&str> {
    let (host, port) = broker.rsplit_once(':')?;
    let port_ok = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0);
    if !port_ok {
        return None;
    }
    if let Some(v6) = host.strip_prefix('[') {
        let inner = v6.strip_suffix(']')?;
        return inner.parse::<std::net::Ipv6Addr>().is_ok().then_some(inner);
    }
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    host_ok.then_some(host)
}

/// Whether a host name or address is the loopback (`localhost`, `127.0.0.0/8`, `::1`).
fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `arn:<partition>:<service>:<region>:<12-digit account>:<resource>`, with a resource
/// `resource_ok` accepts.
fn is_arn(text: &str, service: &str, resource_ok: impl Fn(&str) -> bool) -> bool {
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(s), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && s == service
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource_ok(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Vec<SinkConfig>, String> {
        #[derive(Deserialize)]
        struct File {
            sink: Vec<RawSink>,
        }
        let source = SourceFile {
            path: "m.toml".into(),
            text: text.to_owned(),
        };
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let known = Filterable {
            advertisers: ["acme"].into_iter().collect(),
            routes: ["acme", "acme-forwarded"].into_iter().collect(),
        };
        build_sinks(&file.sink, &known, &source).map_err(|problems| {
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn every_kind_loads_with_defaults() {
        let sinks = check(
            r#"
[[sink]]
name = "crm"
kind = "webhook"
url = "https://crm.example/leads"
secret_env = "CRM_SECRET"

[[sink]]
name = "alerts"
kind = "sns"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:mailex-alerts"
statuses = ["failed", "unmatched", "unauthenticated"]

[[sink]]
name = "bus"
kind = "eventbridge"
bus_arn = "arn:aws:events:eu-west-1:123456789012:event-bus/leads"
advertisers = ["acme"]
redact = ["@sensitive", "message"]
redact_with = "pseudonym"
pseudonym_key_env = "PSEUDONYM_KEY"
"#,
        )
        .unwrap();
        assert_eq!(sinks.len(), 3);
        assert_eq!(
            sinks[0].filter.statuses,
            vec![Status::Extracted, Status::Partial]
        );
        assert_eq!(sinks[1].target.kind(), "sns");
        assert_eq!(
            sinks[2].target,
            SinkTarget::EventBridge {
                bus_arn: "arn:aws:events:eu-west-1:123456789012:event-bus/leads".into(),
                source: "mailex".into()
            }
        );
        let redaction = sinks[2].redaction.as_ref().unwrap();
        assert!(redaction.sensitive);
        assert_eq!(
            sinks[2].secret_envs(),
            vec![("pseudonym_key_env", "PSEUDONYM_KEY")]
        );
    }

    #[test]
    fn problems_name_the_sink_the_key_and_the_place() {
        let err = check(
            r#"
[[sink]]
name = "crm"
kind = "webhook"
url = "http://crm.example/leads"
secret_env = "s3cr3t value"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:t"

[[sink]]
name = "alerts"
kind = "sns"
topic_arn = "arn:aws:sns:eu-west-1:1234:t"

[[sink]]
name = "q"
kind = "carrier-pigeon"

[[sink]]
name = "bus"
kind = "eventbridge"
statuses = ["extracted", "done"]
advertisers = ["nobody"]
"#,
        )
        .unwrap_err();
        for expected in [
            "m.toml:5:7: error: sink `crm`: `url` must be https://",
            "sink `crm`: `secret_env` must be the name of an environment variable",
            "m.toml:7:13: error: sink `crm`: `topic_arn` does not apply to kind `webhook`",
            "sink `alerts`: `topic_arn` is not an SNS topic ARN",
            "sink `q`: `kind` `carrier-pigeon` is not a sink kind; use webhook, sns, eventbridge or kafka",
            "sink `bus`: `bus_arn` is required for kind `eventbridge`",
        ] {
            assert!(err.contains(expected), "{expected} not in\n{err}");
        }
    }

    #[test]
    fn filters_and_redaction_are_checked() {
        let err = check(
            r#"
[[sink]]
name = "Bad Name"
kind = "sns"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:t"
statuses = ["extracted", "done"]
advertisers = ["nobody"]
redact_with = "pseudonym"
"#,
        )
        .unwrap_err();
        for expected in [
            "`name` must be 1 to 64 lower-case letters",
            "`statuses` names `done`",
            "`advertisers` names `nobody`",
            "`pseudonym_key_env` is required",
        ] {
            assert!(err.contains(expected), "{expected} not in\n{err}");
        }
    }

    #[test]
    fn the_filter_takes_statuses_and_advertisers() {
        let filter = SinkFilter {
            statuses: vec![Status::Extracted],
            advertisers: Some(vec!["acme".into()]),
            routes: None,
        };
        let mut record = Record::new(Status::Extracted, "x", 1);
        assert!(!filter.matches(&record));
        record.advertiser = Some("acme".into());
        assert!(filter.matches(&record));
        record.status = Status::Partial;
        assert!(!filter.matches(&record));
    }

    #[test]
    fn the_filter_takes_routes_by_name() {
        let sinks = check(
            r#"
[[sink]]
name = "forwarded-only"
kind = "sns"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:t"
routes = ["acme-forwarded"]
"#,
        )
        .unwrap();
        let filter = &sinks[0].filter;
        assert_eq!(
            filter.routes.as_deref(),
            Some(&["acme-forwarded".to_owned()][..])
        );
        let mut record = Record::new(Status::Extracted, "x", 1);
        record.advertiser = Some("acme".into());
        assert!(!filter.matches(&record), "a record without a route");
        record.route = Some("acme".into());
        assert!(
            !filter.matches(&record),
            "another route of the same advertiser"
        );
        record.route = Some("acme-forwarded".into());
        assert!(filter.matches(&record));
        record.status = Status::Failed;
        assert!(!filter.matches(&record), "statuses still apply");

        let err = check(
            r#"
[[sink]]
name = "s"
kind = "sns"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:t"
routes = ["acme", "nowhere"]

[[sink]]
name = "e"
kind = "sns"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:t"
routes = []
"#,
        )
        .unwrap_err();
        for expected in [
            "m.toml:6:10: error: sink `s`: `routes` names `nowhere`, no route of this file",
            "m.toml:12:10: error: sink `e`: `routes` is empty: the sink would take nothing",
        ] {
            assert!(err.contains(expected), "{expected} not in\n{err}");
        }
    }

    #[test]
    fn kafka_sinks_load_with_defaults_and_sasl() {
        let sinks = check(
            r#"
[[sink]]
name = "stream"
kind = "kafka"
brokers = ["b-1.kafka.example:9096", "[::1]:9092", "10.0.0.7:9094"]
topic = "mailex.leads"
sasl_mechanism = "scram-sha-512"
username = "mailex"
password_env = "MAILEX_KAFKA_PASSWORD"

[[sink]]
name = "local"
kind = "kafka"
brokers = ["127.0.0.1:9092"]
topic = "leads"
tls = false
timeout_ms = 2500
"#,
        )
        .unwrap();
        assert_eq!(
            sinks[0].target,
            SinkTarget::Kafka {
                brokers: vec![
                    "b-1.kafka.example:9096".into(),
                    "[::1]:9092".into(),
                    "10.0.0.7:9094".into()
                ],
                topic: "mailex.leads".into(),
                tls: true,
                sasl: Some(KafkaSasl {
                    mechanism: SaslMechanism::ScramSha512,
                    username: "mailex".into(),
                    password_env: "MAILEX_KAFKA_PASSWORD".into(),
                }),
                timeout: Duration::from_millis(DEFAULT_KAFKA_TIMEOUT_MS),
            }
        );
        assert_eq!(sinks[0].target.kind(), "kafka");
        assert_eq!(
            sinks[0].secret_envs(),
            vec![("password_env", "MAILEX_KAFKA_PASSWORD")]
        );
        assert!(sinks[1].secret_envs().is_empty());
        assert!(matches!(
            sinks[1].target,
            SinkTarget::Kafka { tls: false, sasl: None, timeout, .. } if timeout == Duration::from_millis(2500)
        ));
    }

    #[test]
    fn kafka_problems_name_the_key_and_the_place() {
        let err = check(
            r#"
[[sink]]
name = "k1"
kind = "kafka"
brokers = ["kafka://b-1.example:9092", "b-2.example", "b-3.example:0"]
topic = "leads/all"
url = "https://x.example/"
sasl_mechanism = "aws-msk-iam"
timeout_ms = 0

[[sink]]
name = "k2"
kind = "kafka"
brokers = []
topic = "leads"
username = "mailex"

[[sink]]
name = "k3"
kind = "kafka"
brokers = ["kafka.example:9092"]
topic = "leads"
tls = false
sasl_mechanism = "plain"
password_env = "the password"

[[sink]]
name = "k4"
kind = "kafka"
"#,
        )
        .unwrap_err();
        for expected in [
            "m.toml:5:11: error: sink `k1`: `brokers` holds `kafka://b-1.example:9092`, which is not `host:port`",
            "sink `k1`: `brokers` holds `b-2.example`",
            "sink `k1`: `brokers` holds `b-3.example:0`",
            "m.toml:6:9: error: sink `k1`: `topic` is not a Kafka topic name",
            "m.toml:7:7: error: sink `k1`: `url` does not apply to kind `kafka`",
            "m.toml:8:18: error: sink `k1`: `sasl_mechanism` is `aws-msk-iam`; use plain, scram-sha-256 or scram-sha-512",
            "m.toml:9:14: error: sink `k1`: `timeout_ms` must be between 1 and 60000",
            "sink `k2`: `brokers` must list 1 to 16 brokers",
            "m.toml:16:12: error: sink `k2`: `username` applies only with `sasl_mechanism`",
            "sink `k3`: `username` is required with `sasl_mechanism`",
            "sink `k3`: `password_env` must be the name of an environment variable",
            "sink `k3`: `sasl_mechanism` `plain` sends the password as it is",
            "sink `k4`: `brokers` is required for kind `kafka`",
            "sink `k4`: `topic` is required for kind `kafka`",
        ] {
            assert!(err.contains(expected), "{expected} not in\n{err}");
        }
    }
}
