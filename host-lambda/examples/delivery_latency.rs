//! Measures delivery latency end to end through the Lambda host: from the S3 event time of a
//! stored mail to each sink's acknowledgement (the `delivered_at` of its marker), for a webhook
//! on loopback, SNS and EventBridge on the local moto server, and a Kafka topic on the local
//! tansu broker when `MAILEX_TEST_KAFKA_BROKER` is set (`scripts/start-kafka.sh`).
//!
//! ```sh
//! eval "$(bash scripts/start-s3.sh)"
//! eval "$(bash scripts/start-kafka.sh)"   # optional: adds the kafka sink
//! cargo test --workspace --no-run   # builds target/debug/examples/delivery_latency
//! target/debug/examples/delivery_latency 40
//! kill "$MAILEX_TEST_S3_PID"
//! ```
//!
//! Prints the median, 90th percentile and maximum per sink kind, in milliseconds.

use std::sync::Arc;

use aws_sdk_s3::config::Credentials;
use mailex_lambda::{ConfigLocation, Host, S3Markers, S3Settings, S3Store, Settings};
use mailex_tests::receiver::Receiver;

#[tokio::main]
async fn main() {
    let endpoint = std::env::var("MAILEX_TEST_S3_ENDPOINT")
        .expect("MAILEX_TEST_S3_ENDPOINT: run `eval \"$(bash scripts/start-s3.sh)\"` first");
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let credentials = Credentials::new("testing", "testing", None, None, "latency");
    let s3 = S3Settings {
        endpoint: Some(endpoint.clone()),
        force_path_style: true,
        ..S3Settings::default()
    };
    let store = S3Store::connect_with_credentials(&s3, credentials.clone()).await;
    let sdk = store.sdk_config().expect("sdk config").clone();
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let events = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let stamp = std::process::id();
    let topic_arn = sns
        .create_topic()
        .name(format!("latency-{stamp}"))
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .unwrap()
        .to_owned();
    let bus_arn = events
        .create_event_bus()
        .name(format!("latency-{stamp}"))
        .send()
        .await
        .expect("bus")
        .event_bus_arn()
        .unwrap()
        .to_owned();
    let receiver = Receiver::accepting();
    let (inbound, output) = (format!("lat-in-{stamp}"), format!("lat-out-{stamp}"));
    for bucket in [&inbound, &output] {
        let _ = store.client().create_bucket().bucket(bucket).send().await;
    }
    let kafka = std::env::var("MAILEX_TEST_KAFKA_BROKER")
        .ok()
        .filter(|b| !b.is_empty());
    let kafka_sink = match &kafka {
        Some(broker) => {
            let topic = format!("latency-{stamp}");
            mailex_tests::local_kafka::create_topic(broker, &topic, 3);
            format!(
                "\n[[sink]]\nname = \"stream\"\nkind = \"kafka\"\nbrokers = [\"{broker}\"]\ntopic = \"{topic}\"\ntls = false\n"
            )
        }
        None => String::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let routes = std::fs::read_to_string(root.join("mailex.toml")).unwrap();
    let config = dir.path().join("mailex.toml");
    std::fs::write(
        &config,
        format!(
            "{routes}\n[[sink]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"S\"\n\n[[sink]]\nname = \"topic\"\nkind = \"sns\"\ntopic_arn = \"{topic_arn}\"\n\n[[sink]]\nname = \"bus\"\nkind = \"eventbridge\"\nbus_arn = \"{bus_arn}\"\n{kafka_sink}",
            receiver.url
        ),
    )
    .unwrap();
    let mut settings = Settings::new(ConfigLocation::File(config), &output);
    settings.s3 = s3;
    settings.delivery_endpoint = Some(endpoint.clone());
    let host = Arc::new(
        Host::with_secrets(
            settings,
            store.clone(),
            Arc::new(|_| Some("secret".to_owned())),
        )
        .await
        .expect("host"),
    );
    let mail = std::fs::read(root.join("mail/portal-lead.eml")).unwrap();
    let markers = S3Markers::new(store.clone(), &output, "records/");
    let mut latencies: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for run in 0..runs {
        let key = format!("inbound/{run}");
        store
            .put(&inbound, &key, "message/rfc822", mail.clone())
            .await
            .expect("put mail");
        // S3's event time is when the object was stored.
        let arrived = chrono::Utc::now();
        let event = serde_json::json!({"Records": [{"eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "eventTime": arrived.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "s3": {"bucket": {"name": inbound}, "object": {"key": key}}}]});
        let batch = serde_json::json!({"Records": [{"eventSource": "aws:sqs",
            "messageId": format!("m-{run}"), "body": event.to_string()}]});
        let answer = host.handle(batch, "latency").await.expect("handled");
        assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
        let id = mailex_lambda::object_id(&inbound, &key);
        let mut sinks = vec![
            ("webhook", "hook"),
            ("sns", "topic"),
            ("eventbridge", "bus"),
        ];
        if kafka.is_some() {
            sinks.push(("kafka", "stream"));
        }
        for (kind, sink) in sinks {
            let fetched = store
                .get_capped(&output, &markers.key(&id, sink), 1 << 20)
                .await
                .expect("marker");
            let marker: serde_json::Value = serde_json::from_slice(&fetched.bytes).unwrap();
            let acked =
                chrono::DateTime::parse_from_rfc3339(marker["delivered_at"].as_str().unwrap())
                    .unwrap()
                    .with_timezone(&chrono::Utc);
            latencies
                .entry(kind)
                .or_default()
                .push((acked - arrived).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
    }
    println!("{runs} mails, arrival (S3 event time) to acknowledgement, milliseconds:");
    println!("{:<12} {:>8} {:>8} {:>8}", "sink", "median", "p90", "max");
    for (kind, mut values) in latencies {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        println!(
            "{kind:<12} {:>8.1} {:>8.1} {:>8.1}",
            at(0.5),
            at(0.9),
            values[values.len() - 1]
        );
    }
}
