//! The examples of docs/delivery.md: the record a consumer receives is a record, the TOML
//! loads, and the Node.js verifier accepts a real signed request (the Python one is run by
//! `cli/tests/deliver.rs` against `mailex extract --deliver`).

use std::path::{Path, PathBuf};

use mailex_core::{Record, Status};
use mailex_delivery::{Deliverer, DeliveryOptions, DirMarkers, Secret, Secrets, SinkResult};
use mailex_tests::receiver::Receiver;

fn doc() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/delivery.md");
    std::fs::read_to_string(path).expect("docs/delivery.md")
}

/// The fenced blocks of `lang`.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    markdown
        .split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split("\n```").next().map(str::to_owned))
        .collect()
}

#[test]
fn the_consumer_example_is_a_record() {
    let examples = blocks(&doc(), "json");
    assert_eq!(examples.len(), 1);
    let record: Record = serde_json::from_str(&examples[0]).unwrap();
    assert_eq!(record.status, Status::Extracted);
    assert_eq!(record.id.as_deref().map(str::len), Some(64));
}

#[test]
fn the_toml_examples_load() {
    for example in blocks(&doc(), "toml") {
        mailex_core::Engine::from_toml_str(&example, Path::new("mailex.toml"), Path::new("."))
            .unwrap_or_else(|e| panic!("{e}\n{example}"));
    }
}

#[tokio::test]
async fn the_node_verifier_accepts_a_real_signed_request() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "node is missing under CI=true"
        );
        eprintln!("SKIPPED: node is not installed");
        return;
    }
    let receiver = Receiver::accepting();
    let text = format!(
        "[[sink]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"S\"\n",
        receiver.url
    );
    let engine =
        mailex_core::Engine::from_toml_str(&text, Path::new("mailex.toml"), Path::new("."))
            .unwrap();
    let mut secrets = Secrets::default();
    secrets.insert("S", Secret::new(b"node-secret".to_vec()));
    let deliverer = Deliverer::new(engine.sinks(), &secrets, &DeliveryOptions::default()).unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut record = Record::new(Status::Extracted, "lead.eml", 10);
    record.fields.insert("listing".into(), "L-1 ü".into());
    let report = deliverer
        .deliver(&"a".repeat(64), &record, &DirMarkers::new(state.path()))
        .await;
    assert!(matches!(
        report.outcomes[0].result,
        SinkResult::Delivered { .. }
    ));
    let request = &receiver.received()[0];

    let example = blocks(&doc(), "js").pop().expect("the Node example");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body"), &request.body).unwrap();
    let script = format!(
        "{example}\nconst fs = require('node:fs');\nconst body = fs.readFileSync(process.argv[1]);\nconsole.log(verify(process.argv[2], process.argv[3], body) ? 'ok' : 'bad');\n"
    );
    let run = |secret: &str| {
        let output = std::process::Command::new("node")
            .arg("-e")
            .arg(&script)
            .arg(dir.path().join("body"))
            .arg(secret)
            .arg(request.header("Mailex-Signature").unwrap())
            .output()
            .expect("node runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(run("node-secret"), "ok");
    assert_eq!(run("wrong-secret"), "bad");
}
