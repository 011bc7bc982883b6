//! The local Kafka broker the tests talk to: tansu, which `scripts/start-kafka.sh` builds once
//! and starts on loopback, and a real consumer to read topics back with (kafka-python, from
//! `scripts/requirements-test.txt`; not our client).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The broker `scripts/start-kafka.sh` started: its `host:port` and the tansu binary (to start
/// brokers of a test's own).
#[derive(Debug, Clone)]
pub struct LocalKafka {
    /// `127.0.0.1:<port>`.
    pub broker: String,
    /// The tansu binary.
    pub tansu: PathBuf,
}

/// The local broker (`MAILEX_TEST_KAFKA_BROKER`, `MAILEX_TEST_KAFKA_BIN`), or `None`, with a
/// loud note on the real stderr, when the calling test must skip. Under `CI=true` a missing
/// broker is a failure.
pub fn broker() -> Option<LocalKafka> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (
        var("MAILEX_TEST_KAFKA_BROKER"),
        var("MAILEX_TEST_KAFKA_BIN"),
    ) {
        (Some(broker), Some(tansu)) => Some(LocalKafka {
            broker: broker.trim().to_owned(),
            tansu: PathBuf::from(tansu.trim()),
        }),
        _ => {
            crate::server_missing(
                "MAILEX_TEST_KAFKA_BROKER",
                "scripts/start-kafka.sh",
                "Kafka",
            );
            None
        }
    }
}

/// A free TCP port on 127.0.0.1 (nothing listens on it when this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A tansu broker of the test's own (in-memory, empty), killed when dropped.
#[derive(Debug)]
pub struct OwnBroker {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub broker: String,
}

impl OwnBroker {
    /// Starts tansu on `127.0.0.1:port` and waits until it accepts connections.
    pub fn start(tansu: &std::path::Path, port: u16) -> OwnBroker {
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let broker = format!("127.0.0.1:{port}");
        // Up to 400 tries 50 ms apart (about 20 s).
        let listening = (0..400).any(|_| {
            let up = std::net::TcpStream::connect(&broker).is_ok();
            if !up {
                std::thread::sleep(Duration::from_millis(50));
            }
            up
        });
        assert!(listening, "tansu did not listen on {broker}");
        OwnBroker { child, broker }
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message read back from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    /// Its partition.
    pub partition: i32,
    /// The partition Kafka's default partitioner (kafka-python's murmur2) gives its key.
    pub expected_partition: i32,
    /// Its key, as text.
    pub key: String,
    /// Its value, as text.
    pub value: String,
    /// Its headers, as text.
    pub headers: Vec<(String, String)>,
}

const ADMIN: &str = r#"
import sys
from kafka.admin import KafkaAdminClient, NewTopic
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=10000)
admin.create_topics([NewTopic(name=sys.argv[2], num_partitions=int(sys.argv[3]), replication_factor=1)])
admin.close()
"#;

const CONSUMER: &str = r#"
import json, sys
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2
consumer = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id=None, enable_auto_commit=False,
                         auto_offset_reset="earliest", consumer_timeout_ms=2000)
partitions = sorted(consumer.partitions_for_topic(sys.argv[2]) or [])
assigned = [TopicPartition(sys.argv[2], p) for p in partitions]
consumer.assign(assigned)
consumer.seek_to_beginning(*assigned)
ends = consumer.end_offsets(assigned)
left = {tp: end for tp, end in ends.items() if end > 0}
while left:
    batch = consumer.poll(timeout_ms=2000)
    if not batch:
        break
    for tp, messages in batch.items():
        for m in messages:
            print(json.dumps({
                "partition": m.partition,
                "expected_partition": (murmur2(m.key) & 0x7fffffff) % len(partitions),
                "key": m.key.decode(),
                "value": m.value.decode(),
                "headers": [[k, v.decode()] for k, v in m.headers],
            }))
            if m.offset + 1 >= ends[tp]:
                left.pop(tp, None)
consumer.close()
"#;

fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "kafka-python failed (is scripts/requirements-test.txt installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Creates `topic` with `partitions` partitions (kafka-python's admin client).
pub fn create_topic(broker: &str, topic: &str, partitions: u32) {
    python(ADMIN, &[broker, topic, &partitions.to_string()]);
}

/// Every message of `topic`, read from the beginning with kafka-python's consumer.
pub fn consume(broker: &str, topic: &str) -> Vec<Consumed> {
    python(CONSUMER, &[broker, topic])
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a consumer line");
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let number = |k: &str| {
                v[k].as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .unwrap_or(-1)
            };
            Consumed {
                partition: number("partition"),
                expected_partition: number("expected_partition"),
                key: text("key"),
                value: text("value"),
                headers: v["headers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|h| {
                        (
                            h[0].as_str().unwrap_or_default().to_owned(),
                            h[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}
