//! `sns` and `eventbridge` sinks against the local moto server (`scripts/start-s3.sh`, which
//! serves SNS, SQS and EventBridge on the same endpoint): an SQS queue subscribed to the topic,
//! a rule on the bus targeting a queue, and what arrives read back with the SQS API.
//!
//! Without `MAILEX_TEST_S3_ENDPOINT` the tests print `SKIPPED` and pass, except under
//! `CI=true`, where they fail.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use mailex_core::{Engine, Record, Status};
use mailex_delivery::{Deliverer, DeliveryOptions, DirMarkers, Secrets, SinkResult};
use mailex_tests::unique_name;

async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

/// A queue and its ARN.
async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .unwrap()
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("queue ARN");
    (url, arn)
}

/// Every message that arrives in the queue within a few seconds (bodies), stopping once
/// `expected` arrived and a further receive brings nothing.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, expected: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let messages = out.messages();
        if messages.is_empty() && bodies.len() >= expected {
            break;
        }
        for m in messages {
            bodies.push(m.body().unwrap_or_default().to_owned());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
    bodies
}

fn engine(sinks: &str) -> Engine {
    let text = format!(
        "[[route]]\nname = \"acme\"\nsender = \"*@acme.example\"\nextractor = \"builtin:adf\"\n\n{sinks}"
    );
    Engine::from_toml_str(&text, Path::new("mailex.toml"), Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn record() -> Record {
    let mut record = Record::new(Status::Extracted, "s3://in/inbound/x", 100);
    record.advertiser = Some("acme".into());
    record.route = Some("acme-forwarded".into());
    record.fields.insert("listing".into(), "L-17".into());
    record
}

const ID: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

#[tokio::test]
async fn sns_publishes_once_with_filterable_attributes() {
    let Some(endpoint) = mailex_tests::local_aws::endpoint() else {
        return;
    };
    let sdk = sdk().await;
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let topic_arn = sns
        .create_topic()
        .name(unique_name("leads"))
        .send()
        .await
        .expect("create topic")
        .topic_arn()
        .unwrap()
        .to_owned();
    let (url, queue_arn) = queue(&sqs, &unique_name("leads-q")).await;
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .expect("subscribe");

    let engine = engine(&format!(
        "[[sink]]\nname = \"alerts\"\nkind = \"sns\"\ntopic_arn = \"{topic_arn}\"\n"
    ));
    let options = DeliveryOptions {
        aws: Some(sdk.clone()),
        aws_endpoint: Some(endpoint.clone()),
    };
    let deliverer = Deliverer::new(engine.sinks(), &Secrets::default(), &options).unwrap();
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let first = deliverer.deliver(ID, &record(), &markers).await;
    assert!(
        matches!(&first.outcomes[0].result, SinkResult::Delivered { ack } if ack.starts_with("message ")),
        "{first:?}"
    );
    let second = deliverer.deliver(ID, &record(), &markers).await;
    assert_eq!(second.outcomes[0].result, SinkResult::AlreadyDelivered);

    let bodies = drain(&sqs, &url, 1).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    // Not raw delivery: the SQS body is SNS's envelope, with the record and the attributes.
    let envelope: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    let message: serde_json::Value =
        serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["id"], ID);
    assert_eq!(message["fields"]["listing"], "L-17");
    let attributes = &envelope["MessageAttributes"];
    assert_eq!(attributes["status"]["Value"], "extracted", "{envelope}");
    assert_eq!(attributes["advertiser"]["Value"], "acme");
    assert_eq!(attributes["route"]["Value"], "acme-forwarded");
    assert_eq!(attributes["record_id"]["Value"], ID);
}

#[tokio::test]
async fn eventbridge_puts_one_event_per_record_on_the_bus() {
    let Some(endpoint) = mailex_tests::local_aws::endpoint() else {
        return;
    };
    let sdk = sdk().await;
    let events = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build(),
    );
    let bus = unique_name("leads-bus");
    let bus_arn = events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("create bus")
        .event_bus_arn()
        .unwrap()
        .to_owned();
    let (url, queue_arn) = queue(&sqs, &unique_name("bus-q")).await;
    let rule = unique_name("leads-rule");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(r#"{"source": ["mailex.test"]}"#)
        .send()
        .await
        .expect("put rule");
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("put targets");

    let engine = engine(&format!(
        "[[sink]]\nname = \"bus\"\nkind = \"eventbridge\"\nbus_arn = \"{bus_arn}\"\nsource = \"mailex.test\"\n"
    ));
    let options = DeliveryOptions {
        aws: Some(sdk.clone()),
        aws_endpoint: Some(endpoint.clone()),
    };
    let deliverer = Deliverer::new(engine.sinks(), &Secrets::default(), &options).unwrap();
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let first = deliverer.deliver(ID, &record(), &markers).await;
    assert!(
        matches!(&first.outcomes[0].result, SinkResult::Delivered { ack } if ack.starts_with("event ")),
        "{first:?}"
    );
    let second = deliverer.deliver(ID, &record(), &markers).await;
    assert_eq!(second.outcomes[0].result, SinkResult::AlreadyDelivered);

    let bodies = drain(&sqs, &url, 1).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let event: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(event["detail-type"], "mailex.lead.extracted", "{event}");
    assert_eq!(event["source"], "mailex.test");
    assert_eq!(event["detail"]["id"], ID);
    assert_eq!(event["detail"]["advertiser"], "acme");
}
