//! Operating the function: the deadline cut-off, the metrics the real `bootstrap` prints (its
//! stack's namespace and `Service`, one `ColdStart`, config swaps and rejections), and the
//! agreement between the code, `deploy/template.yaml` and `docs/runbook.md`: every metric an
//! alarm or the dashboard reads is one the function emits with exactly those dimensions, and
//! every alarm has a section in the runbook.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use mailex_lambda::{HostError, Metrics, MetricsTarget, StageTimes};
use serde_json::{Value, json};

use super::common::*;
use super::config_reload::{BROKEN, GOOD, PORTAL_RULES, RENAMED};
use crate::s3_or_skip;

fn repo_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ------------------------------------------------------------------------- the deadline

#[tokio::test]
async fn messages_are_not_started_within_the_margin_of_the_deadline_and_are_left_to_sqs() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    let names = ["inbound/a", "inbound/b", "inbound/c"];
    for name in names {
        put(&s, &input, name, mail("portal-lead.eml")).await;
    }
    let host = host(&endpoint, settings(&output, &input)).await;
    let margin = host.settings().deadline_margin;
    assert!(margin > Duration::ZERO);
    let batch = sqs_batch(&names.map(|n| s3_event(&input, n)));

    // Less than the margin is left: nothing is started, every message is handed back to SQS.
    let near = SystemTime::now() + margin / 2;
    let answer = host
        .handle_until(batch.clone(), "near-deadline", Some(near))
        .await
        .expect("an SQS batch is always answered");
    assert_eq!(
        answer,
        json!({"batchItemFailures": [
            {"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}
        ]})
    );
    assert!(
        keys(&s, &output, "").await.is_empty(),
        "nothing was written"
    );

    // A direct S3 event near its deadline fails with a stable error type, so Lambda retries it.
    let direct = host
        .handle_until(s3_event(&input, names[0]), "near-direct", Some(near))
        .await
        .expect_err("deferred");
    assert!(matches!(direct, HostError::DeadlineNear), "{direct}");
    assert_eq!(direct.error_type(), "Mailex.DeadlineNear");

    // With time left, SQS's redelivery of the same batch is processed in full.
    let later = SystemTime::now() + margin * 10;
    let answer = host
        .handle_until(batch, "redelivered", Some(later))
        .await
        .expect("handled");
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(keys(&s, &output, "").await.len(), 3);
}

// ------------------------------------------------------------------------- bootstrap's metrics

#[tokio::test]
async fn bootstrap_metrics_carry_the_stack_and_count_the_cold_start_and_config_changes() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (config_bucket, input, output) = (
        unique_bucket("cfg"),
        unique_bucket("in"),
        unique_bucket("out"),
    );
    create_bucket(&s, &output).await;
    put(&s, &input, "inbound/m1", mail("portal-lead.eml")).await;
    put(&s, &input, "inbound/m2", mail("portal-lead.eml")).await;
    let dir = tempfile::tempdir().unwrap();
    let good = push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(
            &dir.path().join("v1"),
            GOOD,
            &[("rules/portal.rules", PORTAL_RULES)],
        ),
    )
    .await;
    // The current version does not load: the cold start serves v1 and rejects it.
    force_version(
        &s,
        &config_bucket,
        "config/",
        &[("mailex.toml", BROKEN)],
        &[&good],
    )
    .await;
    let api = RuntimeApi::start();
    let location = format!("s3://{config_bucket}/config/");
    let child = bootstrap(
        &api,
        &endpoint,
        &[
            ("MAILEX_CONFIG", &location),
            ("MAILEX_CONFIG_REFRESH_SECS", "0"),
            ("MAILEX_OUTPUT_BUCKET", &output),
            ("MAILEX_METRICS_NAMESPACE", "ops-test"),
            ("MAILEX_SERVICE", "stack-a"),
        ],
    );
    api.invoke("first", &s3_event(&input, "inbound/m1"));
    let (api, first) = answers(api, &["first"]).await;
    // A good version is pushed; the next invocation swaps to it.
    push_config(
        &s,
        &config_bucket,
        "config/",
        &config_dir(
            &dir.path().join("v3"),
            RENAMED,
            &[("rules/portal.rules", PORTAL_RULES)],
        ),
    )
    .await;
    api.invoke("second", &s3_event(&input, "inbound/m2"));
    let (api, second) = answers(api, &["second"]).await;
    let (stdout, stderr, _) = finish(child);
    drop(api);
    for answer in first.iter().chain(&second) {
        let answer = answer
            .as_ref()
            .unwrap_or_else(|| panic!("stderr:\n{stderr}"));
        assert_eq!(answer.kind, "response", "{}\n{stderr}", answer.body);
    }
    let emf: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert!(!emf.is_empty(), "stdout:\n{stdout}");
    for line in &emf {
        assert_eq!(line["Service"], "stack-a", "{line}");
        for d in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(d["Namespace"], "ops-test", "{line}");
        }
    }
    let total = |name: &str| -> f64 {
        emf.iter()
            .map(|l| match &l[name] {
                Value::Array(a) => a.iter().filter_map(Value::as_f64).sum(),
                v => v.as_f64().unwrap_or(0.0),
            })
            .sum()
    };
    assert_eq!(total("ColdStart"), 1.0, "stdout:\n{stdout}");
    assert_eq!(total("ConfigRejected"), 1.0, "stdout:\n{stdout}");
    assert_eq!(total("ConfigSwapped"), 1.0, "stdout:\n{stdout}");
    assert_eq!(total("Records"), 2.0, "stdout:\n{stdout}");
    let advertisers: BTreeSet<&str> = emf
        .iter()
        .filter_map(|l| l["Advertiser"].as_str())
        .collect();
    assert_eq!(
        advertisers,
        BTreeSet::from(["portal", "portal-v2"]),
        "the swap took effect"
    );
    assert!(
        emf.iter()
            .any(|l| l["ReadDuration"].is_array() && l["ExtractionDuration"].is_array()),
        "read and extraction times are separate metrics: {stdout}"
    );
}

// ------------------------------------------------------------------------- template and runbook

/// Every (metric, dimension set) the function can emit, from the real renderer fed every
/// status, every delivery outcome and every invocation count.
fn emitted() -> BTreeSet<(String, BTreeSet<String>)> {
    use mailex_delivery::SinkResult;
    let mut m = Metrics::new();
    let times = StageTimes {
        read_ms: Some(1.0),
        extraction_ms: Some(2.0),
        extractor: None,
    };
    for status in [
        mailex_core::Status::Extracted,
        mailex_core::Status::Partial,
        mailex_core::Status::Unmatched,
        mailex_core::Status::Unauthenticated,
        mailex_core::Status::Failed,
    ] {
        m.record(status, "acme", true, times, 10);
        m.record(status, "acme", false, times, 10);
    }
    for kind in ["webhook", "sns", "eventbridge", "kafka"] {
        let ok = SinkResult::Delivered { ack: "ok".into() };
        m.delivery(kind, &ok, Some(5.0));
        m.delivery(kind, &SinkResult::Failed { reason: "x".into() }, None);
        m.delivery(kind, &SinkResult::Rejected { reason: "x".into() }, None);
    }
    m.cold_start();
    m.config_swapped();
    m.config_rejected(1);
    m.error();
    m.deferred();
    m.analytics_rows(1);
    m.analytics_write_error();
    let target = MetricsTarget::default();
    let mut out = BTreeSet::new();
    for line in m.to_emf_lines(&target, 1) {
        let v: Value = serde_json::from_str(&line).unwrap();
        for d in v["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for set in d["Dimensions"].as_array().unwrap() {
                let set: BTreeSet<String> = set
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect();
                for metric in d["Metrics"].as_array().unwrap() {
                    out.insert((metric["Name"].as_str().unwrap().to_owned(), set.clone()));
                }
            }
        }
    }
    out
}

/// A metric of the function's namespace that the template reads, with the dimension names it
/// reads it by, and where.
#[derive(Debug)]
struct Reference {
    metric: String,
    dimensions: BTreeSet<String>,
    line: usize,
}

/// The quoted strings of `text`, in order (JSON-style, `\"` escapes already removed).
fn quoted(text: &str) -> Vec<String> {
    text.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect()
}

/// Reads the references to the function's metrics out of the template's text: alarms'
/// `MetricStat`s (`Namespace: !Ref MetricsNamespace`, flow style on one line), Metrics Insights
/// queries (`SELECT F(Metric) FROM SCHEMA("${MetricsNamespace}", dims...)`) and the
/// dashboard's metric arrays (`["${MetricsNamespace}", "Metric", "Dim", "value", ...]`).
/// Every other `MetricName` must be in an `AWS/` namespace.
fn references(template: &str) -> Vec<Reference> {
    let mut refs = Vec::new();
    let lines: Vec<&str> = template.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.replace("\\\"", "\"");
        let n = i + 1;
        if let Some(at) = line.find("MetricName:") {
            if line.contains("Namespace: !Ref MetricsNamespace") {
                let metric = line[at + "MetricName:".len()..]
                    .split([',', '}'])
                    .next()
                    .unwrap()
                    .trim()
                    .to_owned();
                let dimensions = line
                    .split("{Name: ")
                    .skip(1)
                    .map(|s| s.split(',').next().unwrap().trim().to_owned())
                    .collect();
                refs.push(Reference {
                    metric,
                    dimensions,
                    line: n,
                });
            } else {
                let namespace = lines[..i]
                    .iter()
                    .rev()
                    .take(3)
                    .find_map(|l| l.trim().strip_prefix("Namespace:"))
                    .map(str::trim)
                    .unwrap_or_default();
                assert!(
                    namespace.starts_with("AWS/"),
                    "line {n}: a metric of namespace `{namespace}`; the function's metrics are read with `Namespace: !Ref MetricsNamespace` on the MetricName's line"
                );
            }
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("SELECT ") {
            rest = &rest[at + "SELECT ".len()..];
            let metric = rest
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(m, _)| m.trim().to_owned())
                .unwrap_or_default();
            let schema = rest
                .split_once("FROM SCHEMA(")
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(s, _)| s)
                .unwrap_or_else(|| panic!("line {n}: a query without FROM SCHEMA(...)"));
            let mut parts = schema.split(',').map(str::trim);
            assert_eq!(
                parts.next(),
                Some("\"${MetricsNamespace}\""),
                "line {n}: query of another namespace"
            );
            let dimensions: BTreeSet<String> = parts.map(str::to_owned).collect();
            // WHERE and GROUP BY may only name the schema's dimensions.
            let clause = rest.split(')').nth(2).unwrap_or_default();
            for word in clause.split_whitespace() {
                if word.starts_with('\'') {
                    continue;
                }
                let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
                if word.chars().next().is_some_and(char::is_uppercase)
                    && !["WHERE", "AND", "GROUP", "BY", "ORDER"].contains(&word)
                {
                    assert!(
                        dimensions.contains(word),
                        "line {n}: `{word}` is not a dimension of the query's schema"
                    );
                }
            }
            refs.push(Reference {
                metric,
                dimensions,
                line: n,
            });
        }
        if let Some(at) = line.find("[\"${MetricsNamespace}\",") {
            let array = &line[at..];
            let array = &array[..array.find(", {").unwrap_or(array.len())];
            let strings = quoted(array);
            let dimensions = strings[2..].iter().step_by(2).cloned().collect();
            refs.push(Reference {
                metric: strings[1].clone(),
                dimensions,
                line: n,
            });
        }
    }
    refs
}

/// The CloudFormation templates: the mailex stack, and the stack of per-advertiser anomaly
/// alarms beside it.
const TEMPLATES: [&str; 2] = ["deploy/template.yaml", "deploy/watched-advertisers.yaml"];

#[test]
fn every_metric_the_templates_read_is_one_the_function_emits_with_those_dimensions() {
    let emitted = emitted();
    let mut missing = Vec::new();
    for file in TEMPLATES {
        let template = repo_file(file);
        let refs = references(&template);
        assert!(
            refs.len() >= if file == TEMPLATES[0] { 20 } else { 3 },
            "the scanner found only {} references in {file}: {refs:?}",
            refs.len()
        );
        for r in &refs {
            if !emitted.contains(&(r.metric.clone(), r.dimensions.clone())) {
                missing.push(format!(
                    "{file}:{}: {} by {:?}",
                    r.line, r.metric, r.dimensions
                ));
            }
        }
        // The namespace is the parameter everywhere, never a literal.
        assert!(
            !template.contains("Namespace: mailex"),
            "a literal namespace in {file}"
        );
    }
    assert!(
        missing.is_empty(),
        "the templates read metrics the function does not emit (name and exact dimension set):\n{}\nemitted: {emitted:?}",
        missing.join("\n")
    );
    // The function gets the namespace and its stack's Service dimension.
    let template = repo_file(TEMPLATES[0]);
    assert!(template.contains("MAILEX_METRICS_NAMESPACE: !Ref MetricsNamespace"));
    assert!(template.contains("MAILEX_SERVICE: !Ref AWS::StackName"));
}

/// `sam build` cannot expand `Fn::ForEach` (aws/aws-sam-cli#5647: "'list' object has no
/// attribute 'get'"), so the function's template must not use it; the loop lives in the
/// alarms' own template, whose alarms must name the mailex stack's metrics and topic.
#[test]
fn the_function_template_builds_with_sam_and_the_loop_lives_beside_it() {
    let template = repo_file(TEMPLATES[0]);
    assert!(!template.contains("Fn::ForEach"), "{}", TEMPLATES[0]);
    assert!(!template.contains("AWS::LanguageExtensions"));
    assert!(template.contains("BuildMethod: rust-cargolambda"));
    assert!(
        template.contains("AlarmTopicArn:"),
        "the output the alarms' stack takes"
    );
    let watched = repo_file(TEMPLATES[1]);
    assert!(watched.contains("Fn::ForEach::WatchedAdvertiser:"));
    assert!(
        !watched.contains("AWS::StackName"),
        "its alarms are named by the mailex stack"
    );
    assert_eq!(watched.matches("Value: !Ref MailexStack}").count(), 3);
    assert_eq!(watched.matches("- !Ref AlarmTopicArn").count(), 3);
}

#[test]
fn the_reference_scanner_catches_a_metric_the_function_does_not_emit() {
    let emitted = emitted();
    let bad = "          MetricStat: {Metric: {Namespace: !Ref MetricsNamespace, MetricName: Leads, Dimensions: [{Name: Service, Value: x}]}, Period: 300, Stat: Sum}\n          Expression: !Sub \"SELECT AVG(Partial) FROM SCHEMA(\\\"${MetricsNamespace}\\\", Status, Service) WHERE Service = 'x' GROUP BY Status\"\n";
    let refs = references(bad);
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert!(
        refs.iter()
            .all(|r| !emitted.contains(&(r.metric.clone(), r.dimensions.clone()))),
        "{refs:?}"
    );
}

/// The logical ids of the template's alarms; ids made by `Fn::ForEach` lose their `&{...}`.
fn alarm_ids(template: &str) -> Vec<String> {
    let lines: Vec<&str> = template.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == "Type: AWS::CloudWatch::Alarm")
        .map(|(i, _)| {
            let id = lines[i - 1]
                .trim()
                .trim_start_matches("- ")
                .trim_end_matches(':');
            id.split("&{").next().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn the_runbook_has_a_section_for_every_alarm_in_the_templates() {
    let runbook = repo_file("docs/runbook.md");
    let ids: Vec<String> = TEMPLATES
        .iter()
        .flat_map(|file| alarm_ids(&repo_file(file)))
        .collect();
    assert!(ids.len() >= 15, "{ids:?}");
    let headings: Vec<&str> = runbook.lines().filter(|l| l.starts_with('#')).collect();
    let mut sections: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &ids {
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric()),
            "odd logical id `{id}`"
        );
        let n = headings
            .iter()
            .filter(|h| {
                h.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == id)
            })
            .count();
        sections.insert(id, n);
    }
    let missing: Vec<_> = sections.iter().filter(|(_, n)| **n == 0).collect();
    assert!(
        missing.is_empty(),
        "alarms without a section (a heading naming the logical id) in docs/runbook.md: {missing:?}"
    );
}
