//! `mailex extract --deliver` with a webhook sink on the example inbox: one signed POST per
//! record the sink takes, each accepted by the independent verifier of docs/delivery.md (its
//! Python example, run as written), and nothing sent twice.

mod common;

use std::path::Path;
use std::process::Command;

use common::root;
use mailex_tests::receiver::Receiver;

const SECRET: &str = "whsec-cli-test";

/// The example config, its rule paths made absolute, with a webhook sink to `url`.
fn config_with_sink(dir: &Path, url: &str) -> std::path::PathBuf {
    let examples = root().join("examples");
    let text = std::fs::read_to_string(examples.join("mailex.toml"))
        .unwrap()
        .replace(
            "extractor = \"rules/",
            &format!("extractor = \"{}/rules/", examples.display()),
        );
    let text = format!(
        "{text}\n[[sink]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"MAILEX_TEST_CRM_SECRET\"\n"
    );
    let path = dir.join("mailex.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn extract(config: &Path, state: &Path, deliver: bool) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailex"));
    command.args(["extract", "--config"]).arg(config);
    if deliver {
        command.arg("--deliver").arg("--delivery-state").arg(state);
    }
    command
        .arg(root().join("examples/inbox"))
        .env("MAILEX_TEST_CRM_SECRET", SECRET)
        .output()
        .expect("mailex runs")
}

/// The Python verifier of docs/delivery.md, run on each (signature header, body).
fn python_verifies(requests: &[(String, Vec<u8>)], secret: &str) -> Vec<bool> {
    let doc = std::fs::read_to_string(root().join("docs/delivery.md")).unwrap();
    let example = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("docs/delivery.md has its Python verifier");
    let dir = tempfile::tempdir().unwrap();
    for (i, (header, body)) in requests.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.sig")), header).unwrap();
        std::fs::write(dir.path().join(format!("{i}.body")), body).unwrap();
    }
    let driver = format!(
        "{example}\nimport sys, pathlib\nd = pathlib.Path(sys.argv[1])\nfor i in range({n}):\n    ok = verify(sys.argv[2].encode(), (d / f'{{i}}.sig').read_text(), (d / f'{{i}}.body').read_bytes(), now=int((d / f'{{i}}.sig').read_text().split(',')[0][2:]))\n    print('ok' if ok else 'bad')\n",
        n = requests.len()
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(driver)
        .arg(dir.path())
        .arg(secret)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l == "ok")
        .collect()
}

#[test]
fn extract_deliver_sends_one_signed_post_per_taken_record_and_never_twice() {
    let receiver = Receiver::accepting();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_sink(dir.path(), &receiver.url);
    let state = dir.path().join("state");

    // Without --deliver nothing is sent.
    let plain = extract(&config, &state, false);
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    assert!(receiver.received().is_empty());

    let output = extract(&config, &state, true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut taken: Vec<String> = records
        .iter()
        .filter(|r| r["status"] == "extracted" || r["status"] == "partial")
        .map(|r| {
            r["id"]
                .as_str()
                .expect("delivered records carry an id")
                .to_owned()
        })
        .collect();
    taken.sort();
    assert!(taken.len() >= 5, "the example inbox has leads: {records:?}");

    let received = receiver.received();
    let mut ids: Vec<String> = received
        .iter()
        .map(|r| r.header("Mailex-Record-Id").unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, taken, "one POST per extracted or partial record");
    for request in &received {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let printed = records.iter().find(|r| r["id"] == body["id"]).unwrap();
        assert_eq!(&body, printed, "the POST carries the printed record");
    }
    let signed: Vec<(String, Vec<u8>)> = received
        .iter()
        .map(|r| {
            (
                r.header("Mailex-Signature").unwrap().to_owned(),
                r.body.clone(),
            )
        })
        .collect();
    assert!(python_verifies(&signed, SECRET).iter().all(|ok| *ok));
    assert!(
        python_verifies(&signed, "not-the-secret")
            .iter()
            .all(|ok| !*ok),
        "the verifier refuses a wrong secret"
    );
    assert!(
        stderr.contains(&format!(
            "delivery: crm (webhook): {} delivered, 0 already delivered, 0 rejected, 0 failed",
            taken.len()
        )),
        "{stderr}"
    );

    // A second run sends nothing: the markers are in the state directory.
    let again = extract(&config, &state, true);
    assert!(again.status.success());
    assert_eq!(receiver.received().len(), taken.len());
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!(
        "crm (webhook): 0 delivered, {} already delivered",
        taken.len()
    )));
}

#[test]
fn extract_deliver_without_the_secret_says_which_variable_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_sink(dir.path(), "https://crm.example/leads");
    let output = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["extract", "--deliver", "--config"])
        .arg(&config)
        .arg(root().join("examples/inbox"))
        .env_remove("MAILEX_TEST_CRM_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "sink `crm`: `secret_env` names the environment variable `MAILEX_TEST_CRM_SECRET`, which is not set"
        ),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing is extracted without delivery set up"
    );
}

#[test]
fn check_lists_sinks_warns_about_unset_secrets_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_sink(dir.path(), "https://crm.example/leads");
    let output = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["check", "--skip-tests", "--config"])
        .arg(&config)
        .env_remove("MAILEX_TEST_CRM_SECRET")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("  sink crm (webhook) <- extracted, partial"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: sink `crm`: `secret_env` names the environment variable `MAILEX_TEST_CRM_SECRET`, which is not set"),
        "{stderr}"
    );

    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("kind = \"webhook\"", "kind = \"carrier-pigeon\"");
    std::fs::write(&config, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["check", "--skip-tests", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: sink `crm`: `kind` `carrier-pigeon` is not a sink kind; use webhook, sns, eventbridge or kafka"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:", config.display())),
        "{stderr}"
    );
}

/// `mailex check` with `MAILEX_SECRETS_ARN` and the local Secrets Manager (AWS test settings).
fn check_with_secret(config: &Path, endpoint: &str, arn: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailex"));
    command
        .args(["check", "--skip-tests", "--config"])
        .arg(config)
        .env_remove("MAILEX_TEST_CRM_SECRET");
    common::with_local_secrets(&mut command, endpoint, arn)
        .output()
        .unwrap()
}

#[test]
fn check_finds_sink_secrets_where_delivery_does_in_the_secrets_manager_secret_too() {
    let Some(endpoint) = mailex_tests::local_aws::endpoint() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_sink(dir.path(), "https://crm.example/leads");
    let stored_secret = "whsec-check-from-secrets-manager";
    let warning = "warning: sink `crm`: `secret_env` names the environment variable `MAILEX_TEST_CRM_SECRET`, which is not set";

    // In the secret, not in the environment: no warning.
    let arn = common::create_secret(
        &endpoint,
        "check",
        &serde_json::json!({ "MAILEX_TEST_CRM_SECRET": stored_secret }),
    );
    let mut printed = String::new();
    let output = check_with_secret(&config, &endpoint, Some(&arn));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    printed.push_str(&stderr);
    printed.push_str(&String::from_utf8_lossy(&output.stdout));

    // Neither in a secret nor in the environment: the warning names the variable and the sink.
    for arn in [
        None,
        Some(common::create_secret(
            &endpoint,
            "check-other",
            &serde_json::json!({ "OTHER": "x" }),
        )),
    ] {
        let output = check_with_secret(&config, &endpoint, arn.as_deref());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains(warning), "{stderr}");
    }

    // A secret that cannot be read is a warning naming it, and the environment is still asked.
    let output = check_with_secret(&config, &endpoint, Some(&format!("{arn}-missing")));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("-missing`"), "{stderr}");
    assert!(stderr.contains(warning), "{stderr}");
    printed.push_str(&stderr);
    printed.push_str(&String::from_utf8_lossy(&output.stdout));
    assert!(
        !printed.contains(stored_secret),
        "a secret's value was printed"
    );
}

#[test]
fn extract_deliver_takes_the_secret_from_the_secrets_manager_secret_it_is_given() {
    let Some(endpoint) = mailex_tests::local_aws::endpoint() else {
        return;
    };
    let stored_secret = "whsec-cli-from-secrets-manager";
    let arn = common::create_secret(
        &endpoint,
        "deliver",
        &serde_json::json!({ "MAILEX_TEST_CRM_SECRET": stored_secret }),
    );

    let receiver = Receiver::accepting();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_sink(dir.path(), &receiver.url);
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailex"));
    command
        .args(["extract", "--deliver", "--delivery-state"])
        .arg(dir.path().join("state"))
        .arg("--config")
        .arg(&config)
        .arg(root().join("examples/inbox"))
        .env_remove("MAILEX_TEST_CRM_SECRET");
    let output = common::with_local_secrets(&mut command, &endpoint, Some(&arn))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let signed: Vec<(String, Vec<u8>)> = receiver
        .received()
        .iter()
        .map(|r| {
            (
                r.header("Mailex-Signature").unwrap().to_owned(),
                r.body.clone(),
            )
        })
        .collect();
    assert!(signed.len() >= 5, "{stderr}");
    assert!(
        python_verifies(&signed, stored_secret).iter().all(|ok| *ok),
        "every POST is signed with the secret from Secrets Manager"
    );
    assert!(!stderr.contains(stored_secret));
}

/// The example config with a kafka sink on the local broker, taking the records of one route.
fn config_with_kafka(dir: &Path, broker: &str, topic: &str, route: &str) -> std::path::PathBuf {
    let path = config_with_sink(dir, "https://crm.example/leads");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = format!(
        "{text}\n[[sink]]\nname = \"stream\"\nkind = \"kafka\"\nbrokers = [\"{broker}\"]\ntopic = \"{topic}\"\ntls = false\nroutes = [\"{route}\"]\n"
    )
    .replace("name = \"crm\"", "name = \"crm\"\nstatuses = [\"failed\"]");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn extract_deliver_produces_each_record_of_the_sinks_route_to_kafka_once() {
    let Some(kafka) = mailex_tests::local_kafka::broker() else {
        return;
    };
    let topic = format!("cli-leads-{}", std::process::id());
    mailex_tests::local_kafka::create_topic(&kafka.broker, &topic, 2);
    let receiver = Receiver::accepting();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_kafka(dir.path(), &kafka.broker, &topic, "harbor-homes");
    let config_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("https://crm.example/leads", &receiver.url);
    std::fs::write(&config, config_text).unwrap();
    let state = dir.path().join("state");

    let check = Command::new(env!("CARGO_BIN_EXE_mailex"))
        .args(["check", "--skip-tests", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        stdout.contains("  sink stream (kafka) <- extracted, partial"),
        "{stdout}"
    );

    let output = extract(&config, &state, true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut taken: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| {
            (r["status"] == "extracted" || r["status"] == "partial") && r["route"] == "harbor-homes"
        })
        .collect();
    taken.sort_by_key(|r| r["id"].as_str().unwrap_or_default().to_owned());
    assert!(
        !taken.is_empty(),
        "the example inbox has harbor-homes leads"
    );
    assert!(
        records
            .iter()
            .any(|r| r["route"] != "harbor-homes" && r["status"] == "extracted"),
        "and leads of other routes, which the sink must not get"
    );

    let mut consumed = mailex_tests::local_kafka::consume(&kafka.broker, &topic);
    consumed.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        consumed.len(),
        taken.len(),
        "one message per record of the route"
    );
    for (message, record) in consumed.iter().zip(&taken) {
        assert_eq!(message.key, record["id"].as_str().unwrap());
        let value: serde_json::Value = serde_json::from_str(&message.value).unwrap();
        assert_eq!(&value, *record, "the value is the printed record");
        assert_eq!(message.partition, message.expected_partition);
    }
    assert!(
        stderr.contains(&format!(
            "delivery: stream (kafka): {} delivered, 0 already delivered, 0 rejected, 0 failed",
            taken.len()
        )),
        "{stderr}"
    );

    // Run again: the markers stop every send.
    let again = extract(&config, &state, true);
    assert!(again.status.success());
    assert_eq!(
        mailex_tests::local_kafka::consume(&kafka.broker, &topic).len(),
        taken.len()
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!(
        "stream (kafka): 0 delivered, {} already delivered",
        taken.len()
    )));
}
