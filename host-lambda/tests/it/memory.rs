//! Memory: the budget bounds the mail in flight; and (ignored by default) the measurement of
//! peak RSS per in-flight near-cap mail behind the sizing rule of `docs/deploy.md`.

use serde_json::json;

use super::common::*;
use crate::s3_or_skip;

/// An S3 event that announces the object's size, as S3 does.
fn sized_event(bucket: &str, key: &str, size: usize) -> serde_json::Value {
    json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-26T10:00:00Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size}}}]})
}

/// A lead mail of about `size` bytes whose bulk is `shape`: `attachment` (base64), `text`
/// (a plain-text body) or `html` (an HTML body).
pub fn big_mail(shape: &str, size: usize) -> Vec<u8> {
    let head = "From: Portal Leads <leads@portal.example>\r\nTo: inbound@dealer.example\r\nSubject: New lead\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <big@portal.example>\r\nMIME-Version: 1.0\r\n";
    let meta = "<meta name=\"lead_name\" content=\"Test Person\"><meta name=\"lead_email\" content=\"test.person@example.com\">";
    let mut out = String::with_capacity(size + 4096);
    out.push_str(head);
    match shape {
        "attachment" => {
            out.push_str("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<html><head>");
            out.push_str(meta);
            out.push_str("</head><body>lead</body></html>\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"brochure.bin\"\r\n\r\n");
            let line =
                "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";
            while out.len() + line.len() < size - 8 {
                out.push_str(line);
            }
            out.push_str("--b--\r\n");
        }
        "text" => {
            out.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nName: Test Person\r\n");
            let line =
                "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
            while out.len() + line.len() < size {
                out.push_str(line);
            }
        }
        _ => {
            out.push_str("Content-Type: text/html; charset=utf-8\r\n\r\n<html><head>");
            out.push_str(meta);
            out.push_str("</head><body>");
            let cell =
                "<tr><td class=\"label\">Comment</td><td>The quick brown fox jumps.</td></tr>\r\n";
            out.push_str("<table>");
            while out.len() + cell.len() < size - 32 {
                out.push_str(cell);
            }
            out.push_str("</table></body></html>\r\n");
        }
    }
    out.into_bytes()
}

#[tokio::test]
async fn a_batch_of_big_mails_stays_within_the_memory_budget() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    let raw = big_mail("html", 1 << 20);
    let mut events = Vec::new();
    for i in 0..8 {
        let key = format!("inbound/big-{i}");
        put(&s, &input, &key, raw.clone()).await;
        events.push(sized_event(&input, &key, raw.len()));
    }
    let mut settings = settings(&output, "unused");
    settings.concurrency = 16;
    settings.memory_budget_bytes = 8 << 20;
    let host = host(&endpoint, settings).await;
    let response = host.handle(sqs_batch(&events), "big").await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert_eq!(keys(&s, &output, "").await.len(), 8);
    let budget = host.budget();
    let one = mailex_lambda::MemoryBudget::cost_of(raw.len() as u64);
    assert!(
        budget.peak_bytes() >= one,
        "{} < {one}",
        budget.peak_bytes()
    );
    assert!(
        budget.peak_bytes() <= budget.total_bytes(),
        "{} reserved of {}",
        budget.peak_bytes(),
        budget.total_bytes()
    );
    // A mail larger than the whole budget still runs (alone).
    let huge = big_mail("text", 12 << 20);
    put(&s, &input, "inbound/huge", huge.clone()).await;
    let response = host
        .handle(sized_event(&input, "inbound/huge", huge.len()), "huge")
        .await
        .unwrap();
    assert_eq!(response, json!({"processed": 1}));
    assert!(budget.peak_bytes() <= budget.total_bytes());
}

/// `VmHWM` (peak RSS) of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs one batch through a fresh `bootstrap` and returns (idle peak RSS, peak RSS after the
/// batch) in MiB.
async fn measure(
    endpoint: &str,
    output: &str,
    events: &[serde_json::Value],
    env: &[(&str, &str)],
) -> (f64, f64) {
    let api = RuntimeApi::start();
    let config = data("mailex.toml");
    let mut all = vec![
        ("MAILEX_CONFIG", config.to_str().unwrap()),
        ("MAILEX_OUTPUT_BUCKET", output),
        ("MAILEX_S3_ATTEMPT_TIMEOUT_MS", "60000"),
        ("MAILEX_S3_OPERATION_TIMEOUT_MS", "120000"),
    ];
    all.extend_from_slice(env);
    let binary = std::env::var("MAILEX_TEST_BOOTSTRAP").ok();
    let child = bootstrap_at(binary.as_deref(), &api, endpoint, &all);
    let pid = child.id();
    api.invoke("warm-up", &json!({"Event": "s3:TestEvent"}));
    let (api, _) = answers(api, &["warm-up"]).await;
    let idle = peak_rss(pid);
    api.invoke("batch", &sqs_batch(events));
    let (api, answer) = answers(api, &["batch"]).await;
    let after = peak_rss(pid);
    let (_, stderr, _) = finish(child);
    drop(api);
    let answer = answer[0]
        .clone()
        .unwrap_or_else(|| panic!("no answer\n{stderr}"));
    assert_eq!(answer.body, "{\"batchItemFailures\":[]}", "{stderr}");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    (mib(idle), mib(after))
}

/// Measures peak RSS per in-flight near-cap mail (about 40 MB each). Run it with a release
/// `bootstrap` for the numbers in docs/deploy.md:
///
/// ```text
/// cargo build --release -p mailex-lambda --bin bootstrap
/// MAILEX_TEST_BOOTSTRAP=target/release/bootstrap cargo test -p mailex-lambda --test tests \
///   memory::measure -- --ignored --nocapture
/// ```
#[tokio::test]
#[ignore = "a measurement: about 1 GB of S3 traffic; run by hand (see the doc comment)"]
async fn measure_peak_rss_per_near_cap_mail() {
    let endpoint = s3_or_skip!();
    let s = store(&endpoint).await;
    let (input, output) = (unique_bucket("in"), unique_bucket("out"));
    create_bucket(&s, &output).await;
    let size = 41_943_040 - 4096;
    let mut events = Vec::new();
    for (i, shape) in ["attachment", "text", "html"]
        .iter()
        .cycle()
        .take(10)
        .enumerate()
    {
        let key = format!("inbound/{shape}-{i}");
        let raw = big_mail(shape, size);
        put(&s, &input, &key, raw.clone()).await;
        events.push((shape.to_string(), sized_event(&input, &key, raw.len())));
    }
    for shape in ["attachment", "text", "html"] {
        let one: Vec<_> = events
            .iter()
            .filter(|(s, _)| s == shape)
            .map(|(_, e)| e.clone())
            .take(1)
            .collect();
        let (idle, peak) = measure(
            &endpoint,
            &output,
            &one,
            &[("MAILEX_MEMORY_BUDGET_MB", "100000")],
        )
        .await;
        eprintln!(
            "MEASURE shape={shape} in_flight=1 idle_rss_mib={idle:.1} peak_rss_mib={peak:.1} per_mail_mib={:.1} per_mail_byte={:.2}",
            peak - idle,
            (peak - idle) * 1024.0 * 1024.0 / size as f64
        );
    }
    let all: Vec<_> = events.iter().map(|(_, e)| e.clone()).collect();
    for in_flight in [4usize, 8] {
        let n = in_flight.to_string();
        let (idle, peak) = measure(
            &endpoint,
            &output,
            &all[..in_flight],
            &[
                ("MAILEX_MEMORY_BUDGET_MB", "100000"),
                ("MAILEX_CONCURRENCY", &n),
            ],
        )
        .await;
        eprintln!(
            "MEASURE unbounded in_flight={in_flight} idle_rss_mib={idle:.1} peak_rss_mib={peak:.1} per_mail_mib={:.1}",
            (peak - idle) / in_flight as f64
        );
    }
    for memory in ["512", "1024"] {
        let (idle, peak) = measure(
            &endpoint,
            &output,
            &all,
            &[
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory),
                ("MAILEX_CONCURRENCY", "8"),
            ],
        )
        .await;
        eprintln!(
            "MEASURE budgeted function_memory_mb={memory} mails=10 concurrency=8 idle_rss_mib={idle:.1} peak_rss_mib={peak:.1}"
        );
        let limit: f64 = memory.parse().unwrap();
        assert!(peak < limit, "peak {peak:.1} MiB over {memory} MB");
    }
}
