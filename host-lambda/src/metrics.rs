//! CloudWatch Embedded Metric Format (EMF) lines.
//!
//! The collector gathers one invocation's observations; [`Metrics::emit`] prints them to stdout,
//! where the Lambda log agent turns them into metrics in the configured namespace
//! ([`MetricsTarget`], `MAILEX_METRICS_NAMESPACE`). Every metric carries the `Service`
//! dimension (`MAILEX_SERVICE`; the template passes its stack name), so two stacks in one
//! account never mix. Dimension values are statuses, route names (the record's `advertiser`, a
//! bounded set chosen by the config) and sink kinds; never message ids, keys or mail content.
//!
//! | metric | unit | dimensions | meaning |
//! |---|---|---|---|
//! | `Records` | Count | `Service`; `+Status`; `+Advertiser`; `+Status+Advertiser` | records written |
//! | `Partial`, `Degraded`, `Unauthenticated` | Count | `Service`; `Service+Advertiser` | one sample per record: 1 if it is so, else 0 (Sum: how many; Average: the rate) |
//! | `Unmatched`, `Failed` | Count | `Service` | as above (an unmatched mail has no advertiser) |
//! | `ExtractionDuration` | Milliseconds | `Service`; `Service+Advertiser` | the engine's time on one mail (S3 read excluded) |
//! | `ReadDuration` | Milliseconds | `Service` | the S3 read of one mail |
//! | `InputBytes` | Bytes | `Service` | the size of one mail |
//! | `ColdStart` | Count | `Service` | 1 on the first invocation of an execution environment |
//! | `ConfigSwapped`, `ConfigRejected` | Count | `Service` | config versions put in service / refused (at cold start too) |
//! | `ProcessingErrors` | Count | `Service` | messages that failed transiently and will be retried |
//! | `DeferredMessages` | Count | `Service` | messages not started because the invocation's deadline was near (redelivered by SQS) |
//! | `Deliveries`, `DeliveryFailures`, `DeliveryRejections` | Count | `Service+SinkKind` | per-sink delivery outcomes |
//! | `DeliveryLatency` | Milliseconds | `Service+SinkKind` | mail arrival to the sink's acknowledgement |
//! | `AnalyticsRows` | Count | `Service` | rows of the analytics copy written (docs/analytics.md) |
//! | `AnalyticsWriteErrors` | Count | `Service` | analytics files that could not be written (their messages are retried) |
//!
//! EMF takes at most 100 values per metric in one line, so a bucket with more observations is
//! split over several lines; counts go on the first one, so the sums stay right.

use std::collections::BTreeMap;

use mailex_core::Status;
use serde_json::{Map, Value, json};

/// The namespace when `MAILEX_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "mailex";

/// The `Service` dimension when `MAILEX_SERVICE` is unset.
pub const DEFAULT_SERVICE: &str = "mailex";

/// EMF's limit of values per metric in one line.
const MAX_VALUES: usize = 100;

/// Where metrics go: the CloudWatch namespace and the value of the `Service` dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsTarget {
    /// CloudWatch namespace.
    pub namespace: String,
    /// Value of the `Service` dimension on every metric.
    pub service: String,
}

impl Default for MetricsTarget {
    fn default() -> Self {
        MetricsTarget {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            service: DEFAULT_SERVICE.to_owned(),
        }
    }
}

/// How long the stages of one mail took, in milliseconds; `None` for a stage that did not run
/// (no S3 read for inline mail, no extraction for a mail that could not be read).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct StageTimes {
    /// The S3 read.
    pub read_ms: Option<f64>,
    /// The engine's run.
    pub extraction_ms: Option<f64>,
    /// The extractor's own part of the engine's run (the analytics copy's `extract_micros`),
    /// when one ran.
    pub extractor: Option<std::time::Duration>,
}

/// One written record.
#[derive(Debug, Clone, Copy)]
struct Observation {
    degraded: bool,
    times: StageTimes,
    input_bytes: u64,
}

/// Delivery observations of one sink kind.
#[derive(Debug, Default, Clone)]
struct DeliveryBucket {
    delivered: u64,
    failed: u64,
    rejected: u64,
    latencies_ms: Vec<f64>,
}

/// Counts of the invocation itself.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    cold_start: u64,
    config_swapped: u64,
    config_rejected: u64,
    errors: u64,
    deferred: u64,
    analytics_rows: u64,
    analytics_write_errors: u64,
}

/// Collects per-record observations and renders them as EMF lines.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    records: BTreeMap<(Status, String), Vec<Observation>>,
    deliveries: BTreeMap<String, DeliveryBucket>,
    counts: Counts,
}

impl Metrics {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one written record: its status, its advertiser (a dimension value, see
    /// [`crate::dimension_value`]), whether it is degraded, the times of its stages and the size
    /// of its mail.
    pub fn record(
        &mut self,
        status: Status,
        advertiser: &str,
        degraded: bool,
        times: StageTimes,
        input_bytes: u64,
    ) {
        self.records
            .entry((status, advertiser.to_owned()))
            .or_default()
            .push(Observation {
                degraded,
                times,
                input_bytes,
            });
    }

    /// Counts one message that failed (S3 error, delivery failure) and will be retried.
    pub fn error(&mut self) {
        self.counts.errors += 1;
    }

    /// Counts the cold start (the first invocation of an execution environment).
    pub fn cold_start(&mut self) {
        self.counts.cold_start += 1;
    }

    /// Counts a config version put in service by a hot reload.
    pub fn config_swapped(&mut self) {
        self.counts.config_swapped += 1;
    }

    /// Counts `n` config versions refused (they do not load, or do not match their manifest).
    pub fn config_rejected(&mut self, n: u64) {
        self.counts.config_rejected += n;
    }

    /// Counts one message left for redelivery because the invocation's deadline was near.
    pub fn deferred(&mut self) {
        self.counts.deferred += 1;
    }

    /// Counts `n` rows of the analytics copy written.
    pub fn analytics_rows(&mut self, n: u64) {
        self.counts.analytics_rows += n;
    }

    /// Counts one analytics file that could not be written (or encoded).
    pub fn analytics_write_error(&mut self) {
        self.counts.analytics_write_errors += 1;
    }

    /// Records one record's outcome at one sink of kind `kind`; `latency_ms` is the time from
    /// the mail's arrival to the sink's acknowledgement, when it acknowledged now.
    pub fn delivery(
        &mut self,
        kind: &str,
        result: &mailex_delivery::SinkResult,
        latency_ms: Option<f64>,
    ) {
        use mailex_delivery::SinkResult;
        let b = self.deliveries.entry(kind.to_owned()).or_default();
        match result {
            SinkResult::Delivered { .. } => b.delivered += 1,
            SinkResult::AlreadyDelivered => {}
            SinkResult::Rejected { .. } => b.rejected += 1,
            SinkResult::Failed { .. } => b.failed += 1,
        }
        b.latencies_ms.extend(latency_ms);
    }

    /// Merges another collector into this one.
    pub fn merge(&mut self, other: Metrics) {
        for (k, v) in other.records {
            self.records.entry(k).or_default().extend(v);
        }
        for (k, v) in other.deliveries {
            let b = self.deliveries.entry(k).or_default();
            b.delivered += v.delivered;
            b.failed += v.failed;
            b.rejected += v.rejected;
            b.latencies_ms.extend(v.latencies_ms);
        }
        let (a, b) = (&mut self.counts, other.counts);
        a.cold_start += b.cold_start;
        a.config_swapped += b.config_swapped;
        a.config_rejected += b.config_rejected;
        a.errors += b.errors;
        a.deferred += b.deferred;
        a.analytics_rows += b.analytics_rows;
        a.analytics_write_errors += b.analytics_write_errors;
    }

    /// Renders the EMF lines (JSON objects, one per line) for `target` at `timestamp_ms`.
    pub fn to_emf_lines(&self, target: &MetricsTarget, timestamp_ms: i64) -> Vec<String> {
        let mut lines = Vec::new();
        for ((status, advertiser), observations) in &self.records {
            let is = |s: Status| u64::from(*status == s);
            for (chunk, part) in observations.chunks(MAX_VALUES).enumerate() {
                let n = part.len();
                let constant = |v: u64| Value::from(vec![v; n]);
                let mut line = Line::new(&[
                    ("Service", target.service.as_str()),
                    ("Status", status.as_str()),
                    ("Advertiser", advertiser.as_str()),
                ]);
                let records = if chunk == 0 {
                    observations.len() as u64
                } else {
                    0
                };
                line.directive(
                    &[
                        &["Service"],
                        &["Service", "Status"],
                        &["Service", "Advertiser"],
                        &["Service", "Status", "Advertiser"],
                    ],
                    vec![("Records", "Count", Value::from(records))],
                );
                line.directive(
                    &[&["Service"], &["Service", "Advertiser"]],
                    vec![
                        ("Partial", "Count", constant(is(Status::Partial))),
                        (
                            "Degraded",
                            "Count",
                            values(part.iter().map(|o| u64::from(o.degraded))),
                        ),
                        (
                            "Unauthenticated",
                            "Count",
                            constant(is(Status::Unauthenticated)),
                        ),
                        (
                            "ExtractionDuration",
                            "Milliseconds",
                            values(part.iter().filter_map(|o| o.times.extraction_ms)),
                        ),
                    ],
                );
                line.directive(
                    &[&["Service"]],
                    vec![
                        ("Unmatched", "Count", constant(is(Status::Unmatched))),
                        ("Failed", "Count", constant(is(Status::Failed))),
                        (
                            "ReadDuration",
                            "Milliseconds",
                            values(part.iter().filter_map(|o| o.times.read_ms)),
                        ),
                        (
                            "InputBytes",
                            "Bytes",
                            values(part.iter().map(|o| o.input_bytes)),
                        ),
                    ],
                );
                lines.extend(line.render(target, timestamp_ms));
            }
        }
        for (kind, b) in &self.deliveries {
            let chunks = b.latencies_ms.len().div_ceil(MAX_VALUES).max(1);
            for chunk in 0..chunks {
                let range =
                    chunk * MAX_VALUES..((chunk + 1) * MAX_VALUES).min(b.latencies_ms.len());
                let count = |n: u64| Value::from(if chunk == 0 { n } else { 0 });
                let mut line = Line::new(&[
                    ("Service", target.service.as_str()),
                    ("SinkKind", kind.as_str()),
                ]);
                line.directive(
                    &[&["Service", "SinkKind"]],
                    vec![
                        ("Deliveries", "Count", count(b.delivered)),
                        ("DeliveryFailures", "Count", count(b.failed)),
                        ("DeliveryRejections", "Count", count(b.rejected)),
                        (
                            "DeliveryLatency",
                            "Milliseconds",
                            values(b.latencies_ms[range].iter().copied()),
                        ),
                    ],
                );
                lines.extend(line.render(target, timestamp_ms));
            }
        }
        let c = self.counts;
        let mut line = Line::new(&[("Service", target.service.as_str())]);
        let nonzero = |name, n: u64| (n > 0).then(|| (name, "Count", Value::from(n)));
        line.directive(
            &[&["Service"]],
            [
                nonzero("ColdStart", c.cold_start),
                nonzero("ConfigSwapped", c.config_swapped),
                nonzero("ConfigRejected", c.config_rejected),
                nonzero("ProcessingErrors", c.errors),
                nonzero("DeferredMessages", c.deferred),
                nonzero("AnalyticsRows", c.analytics_rows),
                nonzero("AnalyticsWriteErrors", c.analytics_write_errors),
            ]
            .into_iter()
            .flatten()
            .collect(),
        );
        lines.extend(line.render(target, timestamp_ms));
        lines
    }

    /// Prints the EMF lines to stdout.
    pub fn emit(&self, target: &MetricsTarget) {
        let now = chrono::Utc::now().timestamp_millis();
        for line in self.to_emf_lines(target, now) {
            println!("{line}");
        }
    }
}

/// A JSON array of numbers (empty when there are none: [`Line::directive`] then leaves the
/// metric out, as EMF wants a value for every declared metric).
fn values<T: Into<Value>>(items: impl Iterator<Item = T>) -> Value {
    Value::Array(items.map(Into::into).collect())
}

/// One EMF line being built: the dimension values and metric values at the root, and the
/// directives declaring which of them are metrics, with which dimension sets.
struct Line {
    root: Map<String, Value>,
    directives: Vec<Value>,
}

impl Line {
    fn new(dimensions: &[(&str, &str)]) -> Self {
        let root = dimensions
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::from(*value)))
            .collect();
        Line {
            root,
            directives: Vec::new(),
        }
    }

    /// Declares `metrics` (name, unit, value) under `dimension_sets`; a metric without a value
    /// (an empty array) is left out, and a directive without metrics is not written.
    fn directive(&mut self, dimension_sets: &[&[&str]], metrics: Vec<(&str, &str, Value)>) {
        let mut declared = Vec::new();
        for (name, unit, value) in metrics {
            if value.as_array().is_some_and(Vec::is_empty) {
                continue;
            }
            declared.push(json!({ "Name": name, "Unit": unit }));
            self.root.insert(name.to_owned(), value);
        }
        if !declared.is_empty() {
            self.directives.push(json!({
                "Dimensions": dimension_sets,
                "Metrics": declared,
            }));
        }
    }

    /// The line, or `None` when it declares no metric.
    fn render(mut self, target: &MetricsTarget, timestamp_ms: i64) -> Option<String> {
        if self.directives.is_empty() {
            return None;
        }
        for directive in &mut self.directives {
            directive["Namespace"] = Value::from(target.namespace.as_str());
        }
        self.root.insert(
            "_aws".to_owned(),
            json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": self.directives }),
        );
        Some(Value::Object(self.root).to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn target() -> MetricsTarget {
        MetricsTarget {
            namespace: "mailex-test".into(),
            service: "stack-a".into(),
        }
    }

    fn times(extraction: f64) -> StageTimes {
        StageTimes {
            read_ms: Some(1.0),
            extraction_ms: Some(extraction),
            extractor: None,
        }
    }

    /// Parses the lines and checks each one against the EMF contract: every declared metric
    /// and dimension is a root member, a metric's value is a number or a non-empty array of at
    /// most 100 numbers, and every root member is declared (no stray keys, no personal data
    /// slipping in as an undeclared member).
    fn parsed(lines: &[String]) -> Vec<Value> {
        lines
            .iter()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let root = v.as_object().unwrap();
                let aws = &root["_aws"];
                assert!(aws["Timestamp"].is_i64());
                let mut declared = BTreeSet::new();
                for d in aws["CloudWatchMetrics"].as_array().unwrap() {
                    assert_eq!(d["Namespace"], "mailex-test");
                    let sets = d["Dimensions"].as_array().unwrap();
                    assert!(!sets.is_empty());
                    for set in sets {
                        let set = set.as_array().unwrap();
                        assert_eq!(set[0], "Service", "every dimension set has Service");
                        for dim in set {
                            let dim = dim.as_str().unwrap();
                            assert!(root[dim].is_string(), "dimension {dim} missing in {l}");
                            declared.insert(dim.to_owned());
                        }
                    }
                    let metrics = d["Metrics"].as_array().unwrap();
                    assert!(!metrics.is_empty());
                    for m in metrics {
                        let name = m["Name"].as_str().unwrap();
                        assert!(m["Unit"].is_string());
                        match &root[name] {
                            Value::Number(_) => {}
                            Value::Array(a) => {
                                assert!(!a.is_empty() && a.len() <= MAX_VALUES, "{name} in {l}");
                                assert!(a.iter().all(Value::is_number));
                            }
                            other => panic!("{name} is {other} in {l}"),
                        }
                        assert!(declared.insert(name.to_owned()), "{name} declared twice");
                    }
                }
                let members: BTreeSet<String> =
                    root.keys().filter(|k| *k != "_aws").cloned().collect();
                assert_eq!(
                    members, declared,
                    "root members and declarations differ: {l}"
                );
                v
            })
            .collect()
    }

    fn sum(lines: &[Value], name: &str, pick: impl Fn(&Value) -> bool) -> f64 {
        lines
            .iter()
            .filter(|l| pick(l))
            .map(|l| match &l[name] {
                Value::Array(a) => a.iter().filter_map(Value::as_f64).sum(),
                v => v.as_f64().unwrap_or(0.0),
            })
            .sum()
    }

    #[test]
    fn records_are_counted_by_status_and_advertiser_with_rates_per_advertiser() {
        let mut m = Metrics::new();
        m.record(Status::Extracted, "acme", false, times(1.5), 100);
        m.record(Status::Partial, "acme", true, times(2.5), 200);
        m.record(Status::Unmatched, "_none", false, StageTimes::default(), 10);
        m.record(
            Status::Failed,
            "_none",
            false,
            StageTimes {
                read_ms: Some(3.0),
                extraction_ms: None,
                extractor: None,
            },
            10,
        );
        let lines = parsed(&m.to_emf_lines(&target(), 1));
        assert_eq!(lines.len(), 4, "one line per (status, advertiser)");
        let acme = |l: &Value| l["Advertiser"] == "acme";
        assert_eq!(sum(&lines, "Records", acme), 2.0);
        assert_eq!(sum(&lines, "Partial", acme), 1.0);
        assert_eq!(sum(&lines, "Degraded", acme), 1.0);
        assert_eq!(sum(&lines, "Records", |_| true), 4.0);
        assert_eq!(sum(&lines, "Unmatched", |_| true), 1.0);
        assert_eq!(sum(&lines, "Failed", |_| true), 1.0);
        // Every record gives one sample of each rate, so Average is the rate.
        let samples: usize = lines
            .iter()
            .map(|l| l["Partial"].as_array().unwrap().len())
            .sum();
        assert_eq!(samples, 4);
        // A record without a stage has no value for it; the metric is then not declared.
        let unmatched = lines.iter().find(|l| l["Status"] == "unmatched").unwrap();
        assert!(unmatched.get("ExtractionDuration").is_none());
        assert!(unmatched.get("ReadDuration").is_none());
        let failed = lines.iter().find(|l| l["Status"] == "failed").unwrap();
        assert_eq!(failed["ReadDuration"], json!([3.0]));
        assert!(lines.iter().all(|l| l["Service"] == "stack-a"));
    }

    #[test]
    fn invocation_counts_share_one_line_and_only_what_happened_is_declared() {
        let mut m = Metrics::new();
        assert!(m.to_emf_lines(&target(), 1).is_empty(), "nothing, no line");
        m.cold_start();
        m.config_rejected(2);
        let mut other = Metrics::new();
        other.config_swapped();
        other.error();
        other.deferred();
        other.analytics_rows(3);
        other.analytics_write_error();
        m.merge(other);
        let lines = parsed(&m.to_emf_lines(&target(), 1));
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(
            (
                &l["ColdStart"],
                &l["ConfigRejected"],
                &l["ConfigSwapped"],
                &l["ProcessingErrors"],
                &l["DeferredMessages"]
            ),
            (&json!(1), &json!(2), &json!(1), &json!(1), &json!(1))
        );
        assert_eq!(
            (&l["AnalyticsRows"], &l["AnalyticsWriteErrors"]),
            (&json!(3), &json!(1))
        );
        let mut warm = Metrics::new();
        warm.error();
        let lines = parsed(&warm.to_emf_lines(&target(), 1));
        assert!(lines[0].get("ColdStart").is_none());
    }

    #[test]
    fn deliveries_group_by_sink_kind() {
        use mailex_delivery::SinkResult;
        let mut m = Metrics::new();
        let ok = SinkResult::Delivered {
            ack: "HTTP 200".into(),
        };
        m.delivery("webhook", &ok, Some(120.0));
        m.delivery("webhook", &SinkResult::Failed { reason: "x".into() }, None);
        m.delivery("sns", &ok, Some(80.0));
        m.delivery("eventbridge", &SinkResult::AlreadyDelivered, None);
        let lines = parsed(&m.to_emf_lines(&target(), 1));
        let webhook = lines.iter().find(|l| l["SinkKind"] == "webhook").unwrap();
        assert_eq!(webhook["Deliveries"], 1);
        assert_eq!(webhook["DeliveryFailures"], 1);
        assert_eq!(webhook["DeliveryLatency"], json!([120.0]));
        assert!(lines.iter().any(|l| l["SinkKind"] == "sns"));
        let eb = lines
            .iter()
            .find(|l| l["SinkKind"] == "eventbridge")
            .unwrap();
        assert!(eb.get("DeliveryLatency").is_none());
    }

    #[test]
    fn more_than_100_values_are_split_and_sums_stay_right() {
        let mut m = Metrics::new();
        for i in 0..250 {
            m.record(Status::Extracted, "acme", i < 3, times(1.0), 10);
        }
        let lines = parsed(&m.to_emf_lines(&target(), 1));
        assert_eq!(lines.len(), 3);
        assert_eq!(sum(&lines, "Records", |_| true), 250.0);
        assert_eq!(sum(&lines, "Degraded", |_| true), 3.0);
        assert_eq!(sum(&lines, "ExtractionDuration", |_| true), 250.0);
    }
}
