//! Webhook sinks against real HTTP servers on 127.0.0.1: one that verifies, one that fails
//! the first N times, one that hangs, one that answers 400.

use std::path::Path;

use mailex_core::{Engine, Record, Status};
use mailex_delivery::{
    Deliverer, DeliveryOptions, DirMarkers, MarkerStore, Secret, Secrets, SinkResult,
    verify_signature,
};
use mailex_tests::receiver::{Answer, Receiver};

const SECRET: &str = "whsec-test-0123456789";
const EMAIL: &str = "dana.whitfield@example.org";

fn engine(sinks: &str) -> Engine {
    let text = format!(
        "[[route]]\nname = \"acme\"\nsender = \"*@acme.example\"\nextractor = \"builtin:adf\"\n\n{sinks}"
    );
    Engine::from_toml_str(&text, Path::new("mailex.toml"), Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn webhook(url: &str, extra: &str) -> String {
    format!(
        "[[sink]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"CRM_SECRET\"\n{extra}\n"
    )
}

fn deliverer(engine: &Engine) -> Deliverer {
    let mut secrets = Secrets::default();
    secrets.insert("CRM_SECRET", Secret::new(SECRET.as_bytes().to_vec()));
    Deliverer::new(engine.sinks(), &secrets, &DeliveryOptions::default()).expect("deliverer")
}

fn record(status: Status) -> Record {
    let mut record = Record::new(status, "inbox/lead.eml", 100);
    record.advertiser = Some("acme".into());
    record.fields.insert("email".into(), EMAIL.into());
    record.fields.insert("listing".into(), "L-17".into());
    record.sensitive = vec!["email".into()];
    record
}

const ID: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[tokio::test]
async fn a_signed_post_reaches_the_receiver_once() {
    let receiver = Receiver::accepting();
    let engine = engine(&webhook(&receiver.url, ""));
    let deliverer = deliverer(&engine);
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let record = record(Status::Extracted);

    let report = deliverer.deliver(ID, &record, &markers).await;
    assert_eq!(report.delivered_to(), vec!["crm"], "{report:?}");
    assert!(
        matches!(&report.outcomes[0].result, SinkResult::Delivered { ack } if ack == "HTTP 200")
    );
    assert!(markers.is_delivered(ID, "crm").await.unwrap());
    assert!(
        state
            .path()
            .join(format!("{ID}.json.delivered/crm"))
            .is_file()
    );

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert!(request.request_line.starts_with("POST /hook "));
    assert_eq!(request.header("Mailex-Record-Id"), Some(ID));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    let signature = request.header("Mailex-Signature").expect("signed");
    assert!(verify_signature(
        SECRET.as_bytes(),
        signature,
        &request.body
    ));
    assert!(!verify_signature(
        b"another secret",
        signature,
        &request.body
    ));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["id"], ID);
    assert_eq!(body["fields"]["email"], EMAIL);

    // The same record again (a redelivered message, a second run): nothing is sent.
    let again = deliverer.deliver(ID, &record, &markers).await;
    assert_eq!(again.outcomes[0].result, SinkResult::AlreadyDelivered);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_record_on_the_third_attempt() {
    let receiver = Receiver::start(|n| match n {
        0 => Answer::Status(503),
        1 => Answer::Status(429),
        _ => Answer::Status(204),
    });
    let engine = engine(&webhook(&receiver.url, "max_attempts = 4"));
    let state = tempfile::tempdir().unwrap();
    let report = deliverer(&engine)
        .deliver(ID, &record(Status::Partial), &DirMarkers::new(state.path()))
        .await;
    let outcome = &report.outcomes[0];
    assert_eq!(
        outcome.result,
        SinkResult::Delivered {
            ack: "HTTP 204".into()
        }
    );
    assert_eq!(outcome.attempts, 3);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.body == received[0].body));
    assert!(received.iter().all(|r| verify_signature(
        SECRET.as_bytes(),
        r.header("Mailex-Signature").unwrap(),
        &r.body
    )));
}

#[tokio::test]
async fn a_hanging_receiver_times_out_and_the_record_is_left_for_a_retry() {
    let receiver = Receiver::start(|_| Answer::Hang);
    let engine = engine(&webhook(
        &receiver.url,
        "timeout_ms = 300\nmax_attempts = 2",
    ));
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let report = deliverer(&engine)
        .deliver(ID, &record(Status::Extracted), &markers)
        .await;
    assert!(report.should_retry(), "{report:?}");
    let SinkResult::Failed { reason } = &report.outcomes[0].result else {
        panic!("{report:?}");
    };
    assert!(reason.contains("timed out"), "{reason}");
    assert!(!reason.contains(EMAIL));
    assert_eq!(report.outcomes[0].attempts, 2);
    assert_eq!(receiver.received().len(), 2);
    assert!(!markers.is_delivered(ID, "crm").await.unwrap());
}

#[tokio::test]
async fn a_400_is_final_and_reported_without_retries() {
    let receiver = Receiver::start(|_| Answer::Status(400));
    let engine = engine(&webhook(&receiver.url, ""));
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());
    let report = deliverer(&engine)
        .deliver(ID, &record(Status::Extracted), &markers)
        .await;
    assert_eq!(
        report.outcomes[0].result,
        SinkResult::Rejected {
            reason: "HTTP 400".into()
        }
    );
    assert!(!report.should_retry());
    assert_eq!(report.outcomes[0].attempts, 1);
    assert_eq!(receiver.received().len(), 1);
    assert!(!markers.is_delivered(ID, "crm").await.unwrap());
}

#[tokio::test]
async fn a_receiver_that_is_down_is_a_network_error_to_retry() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let engine = engine(&webhook(
        &format!("http://127.0.0.1:{port}/hook"),
        "max_attempts = 2",
    ));
    let state = tempfile::tempdir().unwrap();
    let report = deliverer(&engine)
        .deliver(
            ID,
            &record(Status::Extracted),
            &DirMarkers::new(state.path()),
        )
        .await;
    let SinkResult::Failed { reason } = &report.outcomes[0].result else {
        panic!("{report:?}");
    };
    assert!(reason.starts_with("connection failed"), "{reason}");
}

#[tokio::test]
async fn filters_and_redaction_decide_what_goes_out() {
    let all = Receiver::accepting();
    let alerts = Receiver::accepting();
    let sinks = format!(
        "{}redact = [\"@sensitive\"]\n\n[[sink]]\nname = \"alerts\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"CRM_SECRET\"\nstatuses = [\"failed\", \"unmatched\"]\n",
        webhook(&all.url, ""),
        alerts.url
    );
    let engine = engine(&sinks);
    let deliverer = deliverer(&engine);
    let state = tempfile::tempdir().unwrap();
    let markers = DirMarkers::new(state.path());

    let extracted = deliverer
        .deliver(ID, &record(Status::Extracted), &markers)
        .await;
    assert_eq!(extracted.delivered_to(), vec!["crm"]);
    let body = String::from_utf8(all.received()[0].body.clone()).unwrap();
    assert!(
        !body.contains(EMAIL),
        "the sensitive field was dropped: {body}"
    );
    assert!(body.contains("L-17"));

    let other = "0".repeat(64);
    let unmatched = deliverer
        .deliver(&other, &record(Status::Unmatched), &markers)
        .await;
    assert_eq!(unmatched.delivered_to(), vec!["alerts"]);
    assert_eq!((all.received().len(), alerts.received().len()), (1, 1));
}
