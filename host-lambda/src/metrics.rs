//! CloudWatch Embedded Metric Format (EMF) lines.
//!
//! One line per (status, advertiser) per invocation, printed to stdout where the Lambda log
//! agent picks it up. Dimensions are `Status` and `Advertiser` (route names, a bounded set) and
//! `Status` alone for alarms; never message ids or keys. Delivery adds one line per sink kind
//! (`SinkKind`): `Deliveries`, `DeliveryFailures`, `DeliveryRejections` and `DeliveryLatency`,
//! the time from the mail's arrival (S3 event or SES receipt time) to the sink's
//! acknowledgement.

use std::collections::BTreeMap;

use serde_json::json;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "mailex";

#[derive(Debug, Default, Clone)]
struct Bucket {
    records: u64,
    degraded: u64,
    durations_ms: Vec<f64>,
    input_bytes: Vec<f64>,
}

/// Delivery observations of one sink kind.
#[derive(Debug, Default, Clone)]
struct DeliveryBucket {
    delivered: u64,
    failed: u64,
    rejected: u64,
    latencies_ms: Vec<f64>,
}

/// Collects per-record observations and renders them as EMF lines.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    buckets: BTreeMap<(String, String), Bucket>,
    errors: u64,
    deliveries: BTreeMap<String, DeliveryBucket>,
}

impl Metrics {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one written record.
    pub fn record(
        &mut self,
        status: &str,
        advertiser: &str,
        degraded: bool,
        duration_ms: f64,
        input_bytes: u64,
    ) {
        let b = self
            .buckets
            .entry((status.to_owned(), advertiser.to_owned()))
            .or_default();
        b.records += 1;
        b.degraded += u64::from(degraded);
        b.durations_ms.push(duration_ms);
        b.input_bytes.push(input_bytes as f64);
    }

    /// Counts one message that failed (S3 error) and will be retried.
    pub fn error(&mut self) {
        self.errors += 1;
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
        for (k, v) in other.buckets {
            let b = self.buckets.entry(k).or_default();
            b.records += v.records;
            b.degraded += v.degraded;
            b.durations_ms.extend(v.durations_ms);
            b.input_bytes.extend(v.input_bytes);
        }
        self.errors += other.errors;
        for (k, v) in other.deliveries {
            let b = self.deliveries.entry(k).or_default();
            b.delivered += v.delivered;
            b.failed += v.failed;
            b.rejected += v.rejected;
            b.latencies_ms.extend(v.latencies_ms);
        }
    }

    /// Renders the EMF lines (JSON objects, one per line) for a given timestamp in ms.
    ///
    /// EMF allows at most 100 values per metric array, so a bucket with more observations is
    /// split over several lines.
    pub fn to_emf_lines(&self, timestamp_ms: i64) -> Vec<String> {
        const MAX_VALUES: usize = 100;
        let mut lines = Vec::new();
        for ((status, advertiser), b) in &self.buckets {
            let chunks = b.durations_ms.len().div_ceil(MAX_VALUES).max(1);
            for chunk in 0..chunks {
                let range =
                    chunk * MAX_VALUES..((chunk + 1) * MAX_VALUES).min(b.durations_ms.len());
                let records = range.len() as u64;
                // Degraded counts go on the first line; the sums stay right.
                let degraded = if chunk == 0 { b.degraded } else { 0 };
                let line = json!({
                    "_aws": {
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": NAMESPACE,
                            "Dimensions": [["Status", "Advertiser"], ["Status"]],
                            "Metrics": [
                                {"Name": "Records", "Unit": "Count"},
                                {"Name": "Degraded", "Unit": "Count"},
                                {"Name": "ExtractionDuration", "Unit": "Milliseconds"},
                                {"Name": "InputBytes", "Unit": "Bytes"}
                            ]
                        }]
                    },
                    "Status": status,
                    "Advertiser": advertiser,
                    "Records": records,
                    "Degraded": degraded,
                    "ExtractionDuration": &b.durations_ms[range.clone()],
                    "InputBytes": &b.input_bytes[range],
                });
                lines.push(line.to_string());
            }
        }
        for (kind, b) in &self.deliveries {
            let chunks = b.latencies_ms.len().div_ceil(MAX_VALUES).max(1);
            for chunk in 0..chunks {
                let range =
                    chunk * MAX_VALUES..((chunk + 1) * MAX_VALUES).min(b.latencies_ms.len());
                // Counts go on the first line; the sums stay right.
                let count = |n: u64| if chunk == 0 { n } else { 0 };
                let line = json!({
                    "_aws": {
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": NAMESPACE,
                            "Dimensions": [["SinkKind"]],
                            "Metrics": [
                                {"Name": "Deliveries", "Unit": "Count"},
                                {"Name": "DeliveryFailures", "Unit": "Count"},
                                {"Name": "DeliveryRejections", "Unit": "Count"},
                                {"Name": "DeliveryLatency", "Unit": "Milliseconds"}
                            ]
                        }]
                    },
                    "SinkKind": kind,
                    "Deliveries": count(b.delivered),
                    "DeliveryFailures": count(b.failed),
                    "DeliveryRejections": count(b.rejected),
                    "DeliveryLatency": &b.latencies_ms[range],
                });
                lines.push(line.to_string());
            }
        }
        if self.errors > 0 {
            let line = json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [[]],
                        "Metrics": [{"Name": "ProcessingErrors", "Unit": "Count"}]
                    }]
                },
                "ProcessingErrors": self.errors,
            });
            lines.push(line.to_string());
        }
        lines
    }

    /// Prints the EMF lines to stdout.
    pub fn emit(&self) {
        let now = chrono::Utc::now().timestamp_millis();
        for line in self.to_emf_lines(now) {
            println!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_group_by_status_and_advertiser() {
        let mut m = Metrics::new();
        m.record("extracted", "acme", false, 1.5, 100);
        m.record("extracted", "acme", true, 2.5, 200);
        m.record("unmatched", "_none", false, 0.5, 10);
        m.error();
        let lines = m.to_emf_lines(1);
        assert_eq!(lines.len(), 3);
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["Records"], 2);
        assert_eq!(first["Degraded"], 1);
        assert_eq!(first["_aws"]["CloudWatchMetrics"][0]["Namespace"], "mailex");
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
        let lines: Vec<serde_json::Value> = m
            .to_emf_lines(1)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let webhook = lines.iter().find(|l| l["SinkKind"] == "webhook").unwrap();
        assert_eq!(webhook["Deliveries"], 1);
        assert_eq!(webhook["DeliveryFailures"], 1);
        assert_eq!(webhook["DeliveryLatency"], serde_json::json!([120.0]));
        assert!(lines.iter().any(|l| l["SinkKind"] == "sns"));
    }

    #[test]
    fn more_than_100_values_are_split() {
        let mut m = Metrics::new();
        for i in 0..250 {
            m.record("extracted", "acme", i < 3, 1.0, 10);
        }
        let lines: Vec<serde_json::Value> = m
            .to_emf_lines(1)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines
                .iter()
                .all(|l| l["ExtractionDuration"].as_array().unwrap().len() <= 100)
        );
        let total: u64 = lines.iter().map(|l| l["Records"].as_u64().unwrap()).sum();
        let degraded: u64 = lines.iter().map(|l| l["Degraded"].as_u64().unwrap()).sum();
        assert_eq!((total, degraded), (250, 3));
    }
}
