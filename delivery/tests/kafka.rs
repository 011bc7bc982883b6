//! `kafka` sinks against a real Kafka-protocol broker on loopback (tansu, started by
//! `scripts/start-kafka.sh`), read back with a real consumer that is not ours (kafka-python):
//! one message per record, key = the record id, on the partition Kafka's default partitioner
//! gives that key; nothing produced twice on a retry; a broker down for a whole batch loses
//! nothing and gets each record once when it is back.
//!
//! Without `MAILEX_TEST_KAFKA_BROKER` the tests print `SKIPPED` and pass, except under
//! `CI=true`, where they fail.

use std::path::Path;

use mailex_core::{Engine, Record, Status};
use mailex_delivery::{
    Deliverer, DeliveryOptions, DirMarkers, MarkerStore, Secrets, SinkResult, record_id,
};
use mailex_tests::local_kafka::{self, OwnBroker};
use mailex_tests::unique_name;

fn deliverer(sinks: &str) -> Deliverer {
    let text = format!(
        "[[route]]\nname = \"acme\"\nsender = \"*@acme.example\"\nextractor = \"builtin:adf\"\n\n\
         [[route]]\nname = \"acme-forwarded\"\nadvertiser = \"acme\"\nsender = \"*@agent.example\"\nextractor = \"builtin:adf\"\n\n{sinks}"
    );
    let engine = Engine::from_toml_str(&text, Path::new("mailex.toml"), Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"));
    Deliverer::new(
        engine.sinks(),
        &Secrets::default(),
        &DeliveryOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn sink(broker: &str, topic: &str, extra: &str) -> String {
    format!(
        "[[sink]]\nname = \"stream\"\nkind = \"kafka\"\nbrokers = [\"{broker}\"]\ntopic = \"{topic}\"\ntls = false\n{extra}"
    )
}

/// Records of the routes `acme` and `acme-forwarded`, with their ids.
fn records(n: usize) -> Vec<(String, Record)> {
    (0..n)
        .map(|i| {
            let source = format!("s3://in/inbound/kafka-{i}");
            let mut record = Record::new(Status::Extracted, &source, 100 + i as u64);
            record.advertiser = Some("acme".into());
            record.route = Some(if i % 2 == 0 { "acme" } else { "acme-forwarded" }.into());
            record
                .fields
                .insert("listing".into(), format!("L-{i}").into());
            (record_id(&source), record)
        })
        .collect()
}

#[tokio::test]
async fn kafka_gets_one_message_per_record_keyed_by_its_id_and_none_on_a_retry() {
    let Some(kafka) = local_kafka::broker() else {
        return;
    };
    let topic = unique_name("leads");
    local_kafka::create_topic(&kafka.broker, &topic, 3);
    let deliverer = deliverer(&sink(&kafka.broker, &topic, ""));
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let records = records(6);

    for (id, record) in &records {
        let report = deliverer.deliver(id, record, &markers).await;
        assert_eq!(report.outcomes.len(), 1);
        let outcome = &report.outcomes[0];
        assert_eq!(outcome.kind, "kafka");
        match &outcome.result {
            SinkResult::Delivered { ack } => {
                assert!(ack.starts_with("partition "), "{ack}");
            }
            other => panic!("not delivered: {other:?}"),
        }
        assert!(outcome.acked_at.is_some());
        assert!(markers.is_delivered(id, "stream").await.unwrap());
    }

    let consumed = local_kafka::consume(&kafka.broker, &topic);
    assert_eq!(consumed.len(), records.len(), "{consumed:?}");
    for (id, record) in &records {
        let message = consumed
            .iter()
            .find(|m| &m.key == id)
            .unwrap_or_else(|| panic!("no message keyed {id}"));
        let value: serde_json::Value = serde_json::from_str(&message.value).unwrap();
        let mut expected = serde_json::to_value(record).unwrap();
        expected["id"] = serde_json::Value::String(id.clone());
        assert_eq!(
            value, expected,
            "the value is the record as every sink gets it"
        );
        assert_eq!(
            message.partition, message.expected_partition,
            "the partition Kafka's default partitioner picks for the key"
        );
        let header = |name: &str| {
            message
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("record_id"), Some(id.as_str()));
        assert_eq!(header("status"), Some("extracted"));
        assert_eq!(header("advertiser"), Some("acme"));
        assert_eq!(header("route"), record.route.as_deref());
    }
    let partitions: std::collections::BTreeSet<i32> =
        consumed.iter().map(|m| m.partition).collect();
    assert!(
        partitions.len() > 1,
        "six keys spread over partitions: {partitions:?}"
    );

    // The same mails again (an SQS redelivery, a second run): the markers stop every send.
    for (id, record) in &records {
        let report = deliverer.deliver(id, record, &markers).await;
        assert_eq!(report.outcomes[0].result, SinkResult::AlreadyDelivered);
    }
    assert_eq!(
        local_kafka::consume(&kafka.broker, &topic).len(),
        records.len(),
        "nothing produced twice"
    );
}

#[tokio::test]
async fn a_kafka_sink_filtered_by_route_gets_only_that_routes_records() {
    let Some(kafka) = local_kafka::broker() else {
        return;
    };
    let topic = unique_name("forwarded");
    local_kafka::create_topic(&kafka.broker, &topic, 1);
    let deliverer = deliverer(&sink(
        &kafka.broker,
        &topic,
        "routes = [\"acme-forwarded\"]\n",
    ));
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let records = records(4);
    for (id, record) in &records {
        let report = deliverer.deliver(id, record, &markers).await;
        let taken = record.route.as_deref() == Some("acme-forwarded");
        assert_eq!(report.outcomes.len(), usize::from(taken), "{report:?}");
    }
    let mut keys: Vec<String> = local_kafka::consume(&kafka.broker, &topic)
        .into_iter()
        .map(|m| m.key)
        .collect();
    keys.sort();
    let mut expected: Vec<String> = records
        .iter()
        .filter(|(_, r)| r.route.as_deref() == Some("acme-forwarded"))
        .map(|(id, _)| id.clone())
        .collect();
    expected.sort();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn a_kafka_broker_down_for_a_whole_batch_loses_nothing_and_delivers_once_when_back() {
    let Some(kafka) = local_kafka::broker() else {
        return;
    };
    let port = local_kafka::free_port();
    let broker = format!("127.0.0.1:{port}");
    let topic = "leads";
    let deliverer = deliverer(&sink(&broker, topic, "timeout_ms = 1500\n"));
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let records = records(3);

    // Nothing listens: every record of the batch fails, retryably, and no marker is written.
    for (id, record) in &records {
        let report = deliverer.deliver(id, record, &markers).await;
        assert!(report.should_retry(), "{report:?}");
        match &report.outcomes[0].result {
            SinkResult::Failed { reason } => {
                assert!(!reason.contains("L-"), "no record content in {reason}")
            }
            other => panic!("expected a failure: {other:?}"),
        }
        assert!(!markers.is_delivered(id, "stream").await.unwrap());
    }

    // The broker comes back (with its topic): the retried batch is delivered, once.
    let own = OwnBroker::start(&kafka.tansu, port);
    local_kafka::create_topic(&own.broker, topic, 2);
    for (id, record) in &records {
        let report = deliverer.deliver(id, record, &markers).await;
        assert!(
            matches!(report.outcomes[0].result, SinkResult::Delivered { .. }),
            "{report:?}"
        );
    }
    for (id, record) in &records {
        let report = deliverer.deliver(id, record, &markers).await;
        assert_eq!(report.outcomes[0].result, SinkResult::AlreadyDelivered);
    }
    let mut keys: Vec<String> = local_kafka::consume(&own.broker, topic)
        .into_iter()
        .map(|m| m.key)
        .collect();
    keys.sort();
    let mut expected: Vec<String> = records.iter().map(|(id, _)| id.clone()).collect();
    expected.sort();
    assert_eq!(keys, expected, "each record exactly once");
}

#[tokio::test]
async fn a_missing_kafka_topic_is_a_failure_that_is_retried() {
    let Some(kafka) = local_kafka::broker() else {
        return;
    };
    let topic = unique_name("never-created");
    let deliverer = deliverer(&sink(&kafka.broker, &topic, "timeout_ms = 3000\n"));
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let (id, record) = records(1).remove(0);
    let report = deliverer.deliver(&id, &record, &markers).await;
    assert!(report.should_retry(), "{report:?}");
    assert!(!markers.is_delivered(&id, "stream").await.unwrap());
}
