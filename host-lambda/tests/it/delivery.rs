//! Delivery from the function: records reach each sink once, whatever SQS redelivers, and a
//! sink that is down for a whole batch loses nothing. Sinks are real: a webhook receiver on
//! 127.0.0.1 and an SNS topic of the local moto server with an SQS queue subscribed to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use mailex_lambda::{ConfigLocation, Host, S3Markers};
use mailex_tests::receiver::{Answer, Receiver};
use serde_json::json;

use super::common::*;
use crate::s3_or_skip;

const SECRET: &str = "whsec-lambda-test";

struct Sinks {
    receiver: Receiver,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    topic_arn: String,
}

async fn sinks(endpoint: &str) -> Sinks {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(credentials())
        .load()
        .await;
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    );
    let topic_arn = sns
        .create_topic()
        .name(unique_bucket("leads"))
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .unwrap()
        .to_owned();
    let queue_url = sqs
        .create_queue()
        .queue_name(unique_bucket("leads-q"))
        .send()
        .await
        .expect("queue")
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");
    Sinks {
        receiver: Receiver::accepting(),
        sqs,
        queue_url,
        topic_arn,
    }
}

/// Record ids of the messages that reach the queue within a few seconds.
async fn queued_ids(sinks: &Sinks, expected: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let out = sinks
            .sqs
            .receive_message()
            .queue_url(&sinks.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if out.messages().is_empty() && ids.len() >= expected {
            break;
        }
        for m in out.messages() {
            let record: serde_json::Value =
                serde_json::from_str(m.body().unwrap_or_default()).expect("raw record");
            ids.push(record["id"].as_str().unwrap_or_default().to_owned());
            sinks
                .sqs
                .delete_message()
                .queue_url(&sinks.queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
    ids.sort();
    ids
}

/// A host on the test routes plus a webhook and an SNS sink; the webhook's secret is
/// [`SECRET`], handed over in place of the environment.
async fn delivering_host(
    endpoint: &str,
    sinks: &Sinks,
    output: &str,
) -> (Arc<Host>, tempfile::TempDir) {
    let (settings, store, dir) = delivering_settings(endpoint, sinks, output).await;
    let host = Host::with_secrets(
        settings,
        store,
        Arc::new(|name| (name == "CRM_SECRET").then(|| SECRET.to_owned())),
    )
    .await
    .expect("host");
    (Arc::new(host), dir)
}

/// The settings of [`delivering_host`]: its config has a webhook sink with
/// `secret_env = "CRM_SECRET"` and an SNS sink.
async fn delivering_settings(
    endpoint: &str,
    sinks: &Sinks,
    output: &str,
) -> (
    mailex_lambda::Settings,
    mailex_lambda::S3Store,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let routes = std::fs::read_to_string(data("mailex.toml")).unwrap();
    let toml = format!(
        "{routes}\n[[sink]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"CRM_SECRET\"\nmax_attempts = 2\n\n[[sink]]\nname = \"alerts\"\nkind = \"sns\"\ntopic_arn = \"{}\"\n",
        sinks.receiver.url, sinks.topic_arn
    );
    let config = config_dir(dir.path(), &toml, &[]);
    let mut settings = mailex_lambda::Settings::new(ConfigLocation::File(config), output);
    settings.s3 = s3_settings(endpoint);
    settings.delivery_endpoint = Some(endpoint.to_owned());
    (settings, store(endpoint).await, dir)
}

/// A Secrets Manager client of the local server.
pub(super) async fn secrets_manager(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(credentials())
        .load()
        .await;
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    )
}

#[tokio::test]
async fn the_webhook_secret_comes_from_secrets_manager_when_the_function_names_one() {
    let endpoint = s3_or_skip!();
    let sinks = sinks(&endpoint).await;
    let (inbound, output) = (unique_bucket("in"), unique_bucket("out"));
    let (mut settings, store, _dir) = delivering_settings(&endpoint, &sinks, &output).await;
    create_bucket(&store, &output).await;
    put(&store, &inbound, "inbound/a", mail("portal-lead.eml")).await;
    assert!(
        std::env::var("CRM_SECRET").is_err(),
        "the test process must not have the secret in its environment"
    );
    let stored_secret = "whsec-from-secrets-manager";
    let secret_arn = secrets_manager(&endpoint)
        .await
        .create_secret()
        .name(unique_bucket("mailex-sinks"))
        .secret_string(json!({ "CRM_SECRET": stored_secret }).to_string())
        .send()
        .await
        .expect("secret")
        .arn()
        .unwrap()
        .to_owned();

    // A secret that does not exist fails the cold start, naming it and nothing else.
    settings.secrets_id = Some(format!("{secret_arn}-missing"));
    let Err(error) = Host::new(settings.clone(), store.clone()).await else {
        panic!("a missing secret fails the cold start");
    };
    assert_eq!(error.error_type(), "Mailex.ConfigError");
    assert!(error.to_string().contains("-missing"), "{error}");

    settings.secrets_id = Some(secret_arn);
    let host = Arc::new(Host::new(settings, store).await.expect("host"));
    let batch = sqs_batch(&[s3_event(&inbound, "inbound/a")]);
    let response = host.handle(batch, "req").await.expect("answers");
    assert_eq!(response, json!({"batchItemFailures": []}));
    let received = sinks.receiver.received();
    assert_eq!(received.len(), 1);
    let signature = received[0].header("Mailex-Signature").unwrap();
    assert!(mailex_delivery::verify_signature(
        stored_secret.as_bytes(),
        signature,
        &received[0].body
    ));
    assert!(!mailex_delivery::verify_signature(
        SECRET.as_bytes(),
        signature,
        &received[0].body
    ));
}

#[tokio::test]
async fn a_redelivered_message_reaches_each_sink_once() {
    let endpoint = s3_or_skip!();
    let sinks = sinks(&endpoint).await;
    let store = store(&endpoint).await;
    let (inbound, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&store, &output).await;
    put(&store, &inbound, "inbound/a", mail("portal-lead.eml")).await;
    let (host, _dir) = delivering_host(&endpoint, &sinks, &output).await;

    let batch = sqs_batch(&[s3_event(&inbound, "inbound/a")]);
    for _ in 0..2 {
        let response = host.handle(batch.clone(), "req").await.expect("answers");
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    let id = mailex_lambda::object_id(&inbound, "inbound/a");
    let received = sinks.receiver.received();
    assert_eq!(received.len(), 1, "the webhook got the record once");
    assert_eq!(received[0].header("Mailex-Record-Id"), Some(id.as_str()));
    assert!(mailex_delivery::verify_signature(
        SECRET.as_bytes(),
        received[0].header("Mailex-Signature").unwrap(),
        &received[0].body
    ));
    assert_eq!(
        queued_ids(&sinks, 1).await,
        vec![id.clone()],
        "SNS got it once"
    );
    // The markers sit next to the record, and the record is unchanged by delivery.
    let markers = S3Markers::new(store.clone(), &output, "records/");
    let mut stored = keys(&store, &output, "records/").await;
    stored.sort();
    assert_eq!(
        stored,
        vec![
            format!("records/{id}.json"),
            markers.key(&id, "alerts"),
            markers.key(&id, "crm"),
        ]
    );
    let marker = read_json(&store, &output, &markers.key(&id, "crm")).await;
    assert_eq!(marker["ack"], "HTTP 200");
    assert_eq!(marker["record_id"], id.as_str());
}

#[tokio::test]
async fn a_sink_down_for_a_whole_batch_loses_nothing_and_delivers_once_when_back() {
    let endpoint = s3_or_skip!();
    let sinks = sinks(&endpoint).await;
    let store = store(&endpoint).await;
    let (inbound, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&store, &output).await;
    for name in ["a", "b", "c"] {
        put(
            &store,
            &inbound,
            &format!("inbound/{name}"),
            mail("portal-lead.eml"),
        )
        .await;
    }
    let (host, _dir) = delivering_host(&endpoint, &sinks, &output).await;
    let batch = sqs_batch(&[
        s3_event(&inbound, "inbound/a"),
        s3_event(&inbound, "inbound/b"),
        s3_event(&inbound, "inbound/c"),
    ]);

    // The webhook is down (503 to every attempt): every message is retried, SNS took them all.
    sinks.receiver.answer_with(|_| Answer::Status(503));
    let response = host.handle(batch.clone(), "req").await.expect("answers");
    assert_eq!(
        response,
        json!({"batchItemFailures": [
            {"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}
        ]})
    );
    assert_eq!(sinks.receiver.received().len(), 6, "2 attempts per record");

    // It comes back; SQS redelivers the batch.
    sinks.receiver.answer_with(|_| Answer::Status(200));
    let response = host.handle(batch, "req").await.expect("answers");
    assert_eq!(response, json!({"batchItemFailures": []}));

    let mut expected: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|k| mailex_lambda::object_id(&inbound, &format!("inbound/{k}")))
        .collect();
    expected.sort();
    let accepted: Vec<String> = sinks.receiver.received()[6..]
        .iter()
        .map(|r| r.header("Mailex-Record-Id").unwrap_or_default().to_owned())
        .collect();
    let mut accepted_sorted = accepted.clone();
    accepted_sorted.sort();
    assert_eq!(
        accepted_sorted, expected,
        "each record once after the outage"
    );
    assert_eq!(
        queued_ids(&sinks, 3).await,
        expected,
        "SNS: each record once"
    );
    assert_eq!(
        keys(&store, &output, "records/").await.len(),
        3 * 3,
        "3 records, 2 markers each"
    );
}

#[tokio::test]
async fn a_kafka_broker_down_for_a_whole_batch_fails_the_messages_and_delivers_once_when_back() {
    let endpoint = s3_or_skip!();
    let Some(kafka) = mailex_tests::local_kafka::broker() else {
        return;
    };
    let store = store(&endpoint).await;
    let (inbound, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&store, &output).await;
    let names = ["a", "b", "c"];
    for name in names {
        put(
            &store,
            &inbound,
            &format!("inbound/{name}"),
            mail("portal-lead.eml"),
        )
        .await;
    }
    // The broker's port, with nothing listening on it yet.
    let port = mailex_tests::local_kafka::free_port();
    let dir = tempfile::tempdir().unwrap();
    let routes = std::fs::read_to_string(data("mailex.toml")).unwrap();
    let toml = format!(
        "{routes}\n[[sink]]\nname = \"stream\"\nkind = \"kafka\"\nbrokers = [\"127.0.0.1:{port}\"]\ntopic = \"leads\"\ntls = false\ntimeout_ms = 1500\n"
    );
    let config = config_dir(dir.path(), &toml, &[]);
    let mut settings = mailex_lambda::Settings::new(ConfigLocation::File(config), &output);
    settings.s3 = s3_settings(&endpoint);
    let host = Arc::new(Host::new(settings, store.clone()).await.expect("host"));
    let batch = sqs_batch(
        &names
            .iter()
            .map(|n| s3_event(&inbound, &format!("inbound/{n}")))
            .collect::<Vec<_>>(),
    );

    // Down for the whole batch: every message fails, so SQS retries each; the records are stored.
    let response = host.handle(batch.clone(), "req").await.expect("answers");
    assert_eq!(
        response,
        json!({"batchItemFailures": [
            {"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}
        ]})
    );
    assert_eq!(
        keys(&store, &output, "records/").await.len(),
        3,
        "records, no markers"
    );

    // The broker is back; SQS redelivers the batch, then (a duplicate) once more.
    let broker = mailex_tests::local_kafka::OwnBroker::start(&kafka.tansu, port);
    mailex_tests::local_kafka::create_topic(&broker.broker, "leads", 2);
    for _ in 0..2 {
        let response = host.handle(batch.clone(), "req").await.expect("answers");
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    let mut expected: Vec<String> = names
        .iter()
        .map(|k| mailex_lambda::object_id(&inbound, &format!("inbound/{k}")))
        .collect();
    expected.sort();
    let mut produced: Vec<String> = mailex_tests::local_kafka::consume(&broker.broker, "leads")
        .into_iter()
        .map(|m| m.key)
        .collect();
    produced.sort();
    assert_eq!(produced, expected, "each record once, keyed by its id");
    let markers = S3Markers::new(store.clone(), &output, "records/");
    let marker = read_json(&store, &output, &markers.key(&expected[0], "stream")).await;
    assert!(
        marker["ack"]
            .as_str()
            .unwrap_or_default()
            .starts_with("partition "),
        "{marker}"
    );
    assert_eq!(marker["kind"], "kafka");
}
