//! `kafka` sinks: each record produced to a topic, through `rskafka` (pure Rust; the choice
//! and its limits are in docs/delivery.md).
//!
//! - One Kafka record per mailex record: key = the record id (bytes of its 64 hex
//!   characters), value = the record's JSON (as every sink receives it), headers `record_id`,
//!   `status`, and `advertiser` and `route` when the record has them.
//! - The partition is chosen the way Kafka's own default partitioner chooses it for a keyed
//!   record (murmur2 of the key, positive, modulo the topic's partition count), so one lead
//!   always lands on one partition, the same one a Java or librdkafka (`murmur2_random`)
//!   producer would pick.
//! - acks = all (rskafka's produce requests always ask for `-1`): the broker acknowledges once
//!   every in-sync replica has the record.
//! - No idempotent producer (rskafka has none): a produce whose acknowledgement is lost is
//!   retried by the next delivery and may write the record twice. The key (the record id)
//!   lets a consumer, or a compacted topic, drop the copy.
//! - TLS with the system's root certificates (rustls on aws-lc-rs, the stack the webhook and
//!   AWS clients use); SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
//!
//! One delivery (connecting, metadata, the produce request, and rskafka's own retries) is
//! bounded by the sink's `timeout_ms`. A refused record (too large, invalid) is final; every
//! other failure (a broker down, a timeout, a missing topic, an authorisation error) is
//! retried by the caller. The connection is kept between deliveries and dropped after a
//! failure, so the next delivery connects again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use mailex_core::sink::{KafkaSasl, SaslMechanism};
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use rskafka::record::Record as KafkaRecord;

use crate::error::DeliveryError;
use crate::payload::Payload;
use crate::secrets::Secret;
use crate::{SendResult, Sent};

/// Largest frame read from a broker (metadata and produce answers are far smaller; this bounds
/// the memory a misbehaving broker can make the client allocate).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Broker error codes after which a retry cannot succeed.
const FINAL_ERRORS: &[ProtocolError] = &[
    ProtocolError::MessageTooLarge,
    ProtocolError::RecordListTooLarge,
    ProtocolError::InvalidRecord,
    ProtocolError::InvalidTopicException,
];

/// A Kafka topic.
pub struct KafkaSink {
    sink: String,
    brokers: Vec<String>,
    topic: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    sasl: Option<SaslConfig>,
    timeout: Duration,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SASL configuration holds the password: never shown.
        f.debug_struct("KafkaSink")
            .field("sink", &self.sink)
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A connected client, the topic's partition count and the partition clients made so far.
struct Connection {
    client: Client,
    partitions: i32,
    by_partition: tokio::sync::Mutex<HashMap<i32, Arc<PartitionClient>>>,
}

impl KafkaSink {
    /// A sink producing to `topic` on `brokers`; `password` is the SASL password when `sasl`
    /// is set. Nothing connects before the first delivery.
    pub fn new(
        sink: &str,
        brokers: &[String],
        topic: &str,
        tls: bool,
        sasl: Option<(&KafkaSasl, Secret)>,
        timeout: Duration,
    ) -> Result<Self, DeliveryError> {
        let setup = |message: String| DeliveryError::Setup {
            sink: sink.to_owned(),
            message,
        };
        let tls = if tls {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                // A certificate the store cannot parse is left out, as hyper-rustls does.
                let _ = roots.add(certificate);
            }
            if roots.is_empty() {
                return Err(setup("no TLS root certificates were found".to_owned()));
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| setup(format!("TLS cannot be set up: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Some(Arc::new(config))
        } else {
            None
        };
        let sasl = sasl.map(|(sasl, password)| {
            let credentials = Credentials::new(
                sasl.username.clone(),
                String::from_utf8_lossy(password.expose()).into_owned(),
            );
            match sasl.mechanism {
                SaslMechanism::Plain => SaslConfig::Plain(credentials),
                SaslMechanism::ScramSha256 => SaslConfig::ScramSha256(credentials),
                SaslMechanism::ScramSha512 => SaslConfig::ScramSha512(credentials),
            }
        });
        Ok(KafkaSink {
            sink: sink.to_owned(),
            brokers: brokers.to_vec(),
            topic: topic.to_owned(),
            tls,
            sasl,
            timeout,
            connection: tokio::sync::Mutex::new(None),
        })
    }

    /// Produces the payload, acks = all, within the sink's timeout.
    pub(crate) async fn send(&self, payload: &Payload) -> SendResult {
        let result = match tokio::time::timeout(self.timeout, self.produce(payload)).await {
            Ok(Ok((partition, offset))) => Ok(format!("partition {partition} offset {offset}")),
            Ok(Err(sent)) => Err(sent),
            Err(_) => Err(Sent::Retryable(format!(
                "timed out after {:?} (broker unreachable, or no acknowledgement)",
                self.timeout
            ))),
        };
        if result.is_err() {
            // The next delivery connects afresh (and reads the partition count again).
            *self.connection.lock().await = None;
        }
        SendResult {
            attempts: 1,
            result,
        }
    }

    async fn produce(&self, payload: &Payload) -> Result<(i32, i64), Sent> {
        let connection = self.connect().await?;
        let key = payload.record_id.as_bytes();
        let partition = partition_for(key, connection.partitions);
        let client = {
            let mut by_partition = connection.by_partition.lock().await;
            match by_partition.get(&partition) {
                Some(client) => Arc::clone(client),
                None => {
                    let client = Arc::new(
                        connection
                            .client
                            .partition_client(&self.topic, partition, UnknownTopicHandling::Error)
                            .await
                            .map_err(|e| sort_error(&e))?,
                    );
                    by_partition.insert(partition, Arc::clone(&client));
                    client
                }
            }
        };
        let mut headers = BTreeMap::new();
        headers.insert("record_id".to_owned(), key.to_vec());
        headers.insert("status".to_owned(), payload.status.as_bytes().to_vec());
        if let Some(advertiser) = payload.advertiser.as_deref().filter(|a| !a.is_empty()) {
            headers.insert("advertiser".to_owned(), advertiser.as_bytes().to_vec());
        }
        if let Some(route) = payload.route.as_deref().filter(|r| !r.is_empty()) {
            headers.insert("route".to_owned(), route.as_bytes().to_vec());
        }
        let record = KafkaRecord {
            key: Some(key.to_vec()),
            value: Some(payload.body.clone()),
            headers,
            timestamp: chrono::Utc::now(),
        };
        let offsets = client
            .produce(vec![record], Compression::NoCompression)
            .await
            .map_err(|e| sort_error(&e))?;
        match offsets.first() {
            Some(offset) => Ok((partition, *offset)),
            None => Err(Sent::Retryable(
                "the broker answered without an offset".to_owned(),
            )),
        }
    }

    /// The kept connection, or a new one (bootstrap, then the topic's partition count).
    async fn connect(&self) -> Result<Arc<Connection>, Sent> {
        let mut kept = self.connection.lock().await;
        if let Some(connection) = kept.as_ref() {
            return Ok(Arc::clone(connection));
        }
        let mut builder = ClientBuilder::new(self.brokers.clone())
            .client_id(concat!("mailex/", env!("CARGO_PKG_VERSION")))
            .max_message_size(MAX_ANSWER_BYTES)
            .backoff_config(rskafka::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
                deadline: Some(self.timeout),
            });
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(Arc::clone(tls));
        }
        if let Some(sasl) = &self.sasl {
            builder = builder.sasl_config(sasl.clone());
        }
        let client = builder.build().await.map_err(|e| sort_error(&e))?;
        let topics = client.list_topics().await.map_err(|e| sort_error(&e))?;
        let partitions = topics
            .iter()
            .find(|t| t.name == self.topic)
            .map_or(0, |t| t.partitions.len());
        if partitions == 0 {
            return Err(Sent::Retryable(format!(
                "the topic `{}` does not exist (or this user may not describe it)",
                self.topic
            )));
        }
        let connection = Arc::new(Connection {
            client,
            partitions: i32::try_from(partitions).unwrap_or(i32::MAX),
            by_partition: tokio::sync::Mutex::new(HashMap::new()),
        });
        *kept = Some(Arc::clone(&connection));
        Ok(connection)
    }
}

/// The partition Kafka's default partitioner gives a keyed record: `(murmur2(key) &
/// 0x7fffffff) % partitions`.
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    let positive = (murmur2(key) & 0x7fff_ffff) as i32;
    positive % partitions.max(1)
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`, seed `0x9747b28c`).
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// Sorts a client error into final and retryable, in one line: the broker's error code, or
/// the kind of failure. Never record content (rskafka's errors carry none; the text is
/// shortened anyway).
fn sort_error(error: &KafkaError) -> Sent {
    let short = |text: String| text.chars().take(200).collect::<String>();
    match error {
        KafkaError::ServerError {
            protocol_error,
            error_message,
            ..
        } => {
            let reason = match error_message {
                Some(message) => short(format!("broker error {protocol_error}: {message}")),
                None => format!("broker error {protocol_error}"),
            };
            if FINAL_ERRORS.contains(protocol_error) {
                Sent::Final(reason)
            } else {
                Sent::Retryable(reason)
            }
        }
        other => Sent::Retryable(short(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka() {
        // The values of Kafka's own `UtilsTest.testMurmur2` (as signed 32-bit integers).
        for (input, expected) in [
            ("21", -973_932_308_i32),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
        ] {
            assert_eq!(murmur2(input.as_bytes()) as i32, expected, "{input}");
        }
    }

    #[test]
    fn partitions_are_stable_and_in_range() {
        let id = "5c1f0e0bb2a3c6e1d0d1a9d2f3e4b5a6c7d8e9f00112233445566778899aabbc";
        let first = partition_for(id.as_bytes(), 6);
        assert!((0..6).contains(&first));
        assert_eq!(partition_for(id.as_bytes(), 6), first);
        assert_eq!(partition_for(id.as_bytes(), 1), 0);
        assert_eq!(partition_for(id.as_bytes(), 0), 0);
    }

    #[test]
    fn refused_records_are_final_and_the_rest_retried() {
        let server = |protocol_error| KafkaError::ServerError {
            protocol_error,
            error_message: None,
            request: rskafka::client::error::RequestContext::Topic("t".into()),
            response: None,
            is_virtual: false,
        };
        assert!(matches!(
            sort_error(&server(ProtocolError::MessageTooLarge)),
            Sent::Final(_)
        ));
        assert!(matches!(
            sort_error(&server(ProtocolError::NotLeaderOrFollower)),
            Sent::Retryable(_)
        ));
        assert!(matches!(
            sort_error(&server(ProtocolError::TopicAuthorizationFailed)),
            Sent::Retryable(_)
        ));
    }
}
