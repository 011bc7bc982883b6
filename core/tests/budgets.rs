//! Budgets of extractors under attack, on real plugins (built by `scripts/build-plugins.sh`
//! into `target/plugins/`) and real rule files: every host call and every DSL step counts
//! against the route's deadline and memory cap and stops when they are spent; calls beyond
//! the instance pool wait for a slot; what a plugin writes is redacted; what it returns is
//! validated. The large inputs come from the generators below (nothing large is committed).
//!
//! No timing assertions: a run only has to *return* within a generous bound (ten times its
//! deadline), and each test prints what it measured.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{host, root, wasm};
use mailex_core::plugin::{HostConfig, PluginExtractor, PluginHost, RunReport};
use mailex_core::rules::RuleSet;
use mailex_core::{
    Completeness, Email, Engine, ExtractContext, Extractor, Input, PluginLimits, RuleLimits, Status,
};

fn load(name: &str, limits: PluginLimits) -> PluginExtractor {
    host()
        .load(&wasm(name), &limits)
        .unwrap_or_else(|e| panic!("load {name}: {e}"))
}

/// The route limits of the issue's attacks: 100 ms and 64 MiB (the defaults).
fn attack_limits() -> PluginLimits {
    PluginLimits::default()
}

/// 16 MiB and a deadline long enough (even for a debug build on a busy machine) that the
/// memory cap is what an attack on memory meets first.
fn memory_limits() -> PluginLimits {
    PluginLimits {
        deadline_ms: 10_000,
        memory_mib: 16,
        ..PluginLimits::default()
    }
}

fn run(plugin: &PluginExtractor, raw: &[u8], settings: &BTreeMap<String, String>) -> RunReport {
    let email = Email::parse(raw).expect("parses as an email");
    plugin.run(&email, settings)
}

// ---- generators ----

/// A mail with `subject`, a text part `text` and an HTML part `html` (either may be empty).
fn mail(subject: &str, text: &str, html: &str) -> Vec<u8> {
    let mut raw = format!(
        "From: leads@acme.example\r\nTo: inbox@example.com\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
    );
    if !text.is_empty() {
        raw.push_str("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        raw.push_str(text);
        raw.push_str("\r\n");
    }
    if !html.is_empty() {
        raw.push_str("--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
        raw.push_str(html);
        raw.push_str("\r\n");
    }
    raw.push_str("--b--\r\n");
    raw.into_bytes()
}

/// About `bytes` of HTML: a lead card (`.lead`) holding groups of 100 nested
/// `<div class=name>`, each group around one short text: the shape of the issue's 25 MB mail.
/// Every `.name` element matches `.lead .name`, and an element's text holds its descendants'.
pub fn nested_divs(bytes: usize) -> String {
    let group = "<div class=name>".repeat(100) + "Jane Doe" + &"</div>".repeat(100);
    let mut html = String::with_capacity(bytes + group.len());
    html.push_str("<html><body><div class=lead>");
    while html.len() < bytes {
        html.push_str(&group);
    }
    html.push_str("</div></body></html>");
    html
}

/// About `bytes` of plain text: lead-like lines, none with an `@`.
pub fn long_text(bytes: usize) -> String {
    let line = "Name: Jane Doe, Phone 202 555 0143, Message: call me after five please\n";
    line.repeat(bytes / line.len() + 1)
}

/// A mail with one attachment of `bytes` bytes.
fn mail_with_attachment(subject: &str, bytes: usize) -> Vec<u8> {
    let mut raw = format!(
        "From: leads@acme.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n\
         Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n\r\n"
    );
    raw.push_str(&"x".repeat(bytes));
    raw.push_str("\r\n--b--\r\n");
    raw.into_bytes()
}

const BEHAVE: &[u8] = b"From: tests@example.com\r\nSubject: behave\r\n\r\nok\r\n";

/// The call failed with one of `codes`, returned within ten times its deadline, and the same
/// plugin then extracts an ordinary email.
fn assert_stopped(plugin: &PluginExtractor, report: &RunReport, codes: &[&str], what: &str) {
    assert_stopped_then(plugin, report, codes, what, BEHAVE);
}

/// [`assert_stopped`], with `next` as the ordinary email.
fn assert_stopped_then(
    plugin: &PluginExtractor,
    report: &RunReport,
    codes: &[&str],
    what: &str,
    next: &[u8],
) {
    let failure = report
        .failure
        .clone()
        .unwrap_or_else(|| panic!("{what}: not stopped"));
    assert!(
        codes.contains(&failure.code().as_str()),
        "{what}: {} ({failure})",
        failure.code()
    );
    assert_eq!(report.extraction.completeness, Completeness::Failed);
    let deadline = plugin.limits().deadline;
    eprintln!(
        "{what}: {} after {:?} (deadline {deadline:?}), peak {} MiB (cap {} MiB): {failure}",
        failure.code(),
        report.elapsed,
        report.memory_peak_bytes / (1024 * 1024),
        plugin.limits().memory_bytes / (1024 * 1024),
    );
    assert!(report.memory_peak_bytes <= plugin.limits().memory_bytes);
    let next = run(plugin, next, &BTreeMap::new());
    assert!(
        next.failure.is_none(),
        "{what}: the next email failed: {:?}",
        next.failure
    );
}

// ---- plugins: host calls count against the route's budget ----

#[test]
fn the_guide_plugin_on_nested_divs_stops_at_the_route_limits() {
    // A short text part, so that the HTML is read only by the plugin's `css-select` calls;
    // a deadline long enough for a debug build on a busy machine, so that the document's
    // memory (about 64 MiB of nodes) is what stops it, inside the host call.
    let plugin = load(
        "acme_leads",
        PluginLimits {
            deadline_ms: 10_000,
            memory_mib: 32,
            ..PluginLimits::default()
        },
    );
    let raw = mail("New lead", "New lead", &nested_divs(4 << 20));
    let report = run(&plugin, &raw, &BTreeMap::new());
    let failure = report.failure.clone().expect("stopped");
    assert!(
        failure.to_string().contains("in host call `css-select`"),
        "{failure}"
    );
    let fixture = std::fs::read(root().join("plugins/examples/acme-leads/fixtures/lead-card.eml"))
        .expect("the guide's fixture");
    assert_stopped_then(
        &plugin,
        &report,
        &["plugin_memory"],
        "acme-leads on 4 MB of nested divs",
        &fixture,
    );
}

/// The call of `plugin` on `raw` was refused with `code` while the message was prepared, and
/// (with `nothing_copied`) before the message was copied.
fn assert_refused_while_preparing(
    plugin: &PluginExtractor,
    raw: &[u8],
    code: &str,
    nothing_copied: bool,
) {
    let report = run(plugin, raw, &BTreeMap::new());
    let failure = report.failure.clone().expect("stopped");
    assert_eq!(failure.code(), code, "{failure}");
    assert!(
        failure.to_string().contains("(preparing the call)"),
        "{failure}"
    );
    if nothing_copied {
        assert!(
            report.memory_peak_bytes < 1 << 20,
            "nothing was copied: {}",
            report.memory_peak_bytes
        );
    }
}

#[test]
fn converting_the_message_counts_against_the_plugin_limits() {
    // An HTML-only mail of 12 MB: its text view (which the plugin's message carries) cannot be
    // rendered within 100 ms in the worst case, so the call is refused before any work.
    let quick = PluginLimits {
        deadline_ms: 100,
        ..PluginLimits::default()
    };
    let raw = mail("New lead", "", &nested_divs(12 << 20));
    assert_refused_while_preparing(&load("acme_leads", quick), &raw, "plugin_deadline", false);

    // A message that cannot fit the plugin's memory twice (the host's copy and the plugin's)
    // is refused before it is copied.
    let raw = mail("New lead", &long_text(9 << 20), "");
    assert_refused_while_preparing(
        &load("acme_leads", memory_limits()),
        &raw,
        "plugin_memory",
        true,
    );

    // Nor is a message whose hand-over (about 6 ns a byte) would outlast the deadline: 26 MB of
    // text fits 256 MiB twice but not 100 ms.
    let roomy = PluginLimits {
        deadline_ms: 100,
        memory_mib: 256,
        ..PluginLimits::default()
    };
    let raw = mail("New lead", &long_text(26 << 20), "");
    assert_refused_while_preparing(&load("acme_leads", roomy), &raw, "plugin_deadline", true);
}

#[test]
fn a_loop_of_host_calls_stops_at_the_deadline() {
    let plugin = load("hostile_host_loop", attack_limits());
    let raw = mail("loop", &long_text(2 << 20), "<div class=x>x</div>");
    let report = run(&plugin, &raw, &BTreeMap::new());
    assert_stopped(
        &plugin,
        &report,
        &["plugin_deadline"],
        "host-call loop over 2 MB",
    );
}

#[test]
fn a_regex_the_lazy_dfa_cannot_run_is_refused_before_the_deadline() {
    // A Unicode `\b` next to non-ASCII text: only the slow engine can run it, and its worst
    // case over this text is far past the deadline, so the call stops at once.
    let plugin = load("hostile_host_loop", attack_limits());
    let settings = BTreeMap::from([("pattern".to_owned(), r"(?:\b\w*){1,30}X".to_owned())]);
    let text = "é a ".repeat(1 << 19);
    let report = run(&plugin, &mail("loop", &text, ""), &settings);
    assert_stopped(
        &plugin,
        &report,
        &["plugin_deadline"],
        "PikeVM-only regex over 2 MB",
    );
}

#[test]
fn huge_regex_results_stop_at_the_memory_cap() {
    let plugin = load("hostile_huge_host_result", memory_limits());
    let raw = mail("regex", &long_text(2 << 20), "");
    let report = run(&plugin, &raw, &BTreeMap::new());
    assert_stopped(
        &plugin,
        &report,
        &["plugin_memory"],
        "regex capturing 2 MB, again and again",
    );
}

#[test]
fn huge_css_results_stop_at_the_memory_cap() {
    let plugin = load("hostile_huge_host_result", memory_limits());
    // Every element's text holds its descendants': `*` over 120 nested levels is quadratic
    // (120 texts of 200 KB for 200 KB of HTML).
    let html = "<div>".repeat(120) + &"x".repeat(200_000) + &"</div>".repeat(120);
    let report = run(&plugin, &mail("css", "", &html), &BTreeMap::new());
    assert_stopped(
        &plugin,
        &report,
        &["plugin_memory"],
        "css(*) over deep markup",
    );
}

#[test]
fn attachment_copies_count_against_the_memory_cap() {
    let plugin = load("hostile_huge_host_result", memory_limits());
    let report = run(
        &plugin,
        &mail_with_attachment("attachment", 6 << 20),
        &BTreeMap::new(),
    );
    assert_stopped(
        &plugin,
        &report,
        &["plugin_memory"],
        "attachment bytes of 6 MB, again and again",
    );
}

// ---- plugins: back-pressure on the instance pool ----

#[test]
fn calls_beyond_the_instance_pool_wait_for_a_slot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(dir.path().join("cache")),
        max_instances: 2,
        reload_interval: None,
        ..HostConfig::default()
    })
    .expect("host");
    let plugin = Arc::new(
        host.load(
            &wasm("hostile_host_loop"),
            &PluginLimits {
                deadline_ms: 5_000,
                ..PluginLimits::default()
            },
        )
        .expect("loads"),
    );
    let threads: Vec<_> = (0..12)
        .map(|_| {
            let plugin = Arc::clone(&plugin);
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| run(&plugin, BEHAVE, &BTreeMap::new()).failure)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut calls = 0;
    for thread in threads {
        for failure in thread.join().expect("thread") {
            assert!(failure.is_none(), "{failure:?}");
            calls += 1;
        }
    }
    assert_eq!(calls, 60, "12 threads x 5 calls on 2 slots, none failed");

    // The default pool (64 slots), 80 calls at once that each hold their slot to the deadline:
    // none fails for want of an instance, so the pool's other resources (memories, tables,
    // core instances) suffice for a full pool.
    let busy = Arc::new(
        common::host()
            .load(
                &wasm("hostile_infinite_loop"),
                &PluginLimits {
                    deadline_ms: 300,
                    ..PluginLimits::default()
                },
            )
            .expect("loads"),
    );
    let raw = mail("loop", "x", "");
    let threads: Vec<_> = (0..80)
        .map(|_| {
            let plugin = Arc::clone(&busy);
            let raw = raw.clone();
            std::thread::spawn(move || run(&plugin, &raw, &BTreeMap::new()).failure)
        })
        .collect();
    for thread in threads {
        let failure = thread.join().expect("thread").expect("stopped");
        assert_eq!(failure.code(), "plugin_deadline", "{failure}");
    }
}

// ---- plugins: privacy ----

/// Log lines written while `f` runs on this thread.
fn captured_logs(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().expect("lock").clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn panics_errors_and_logs_of_a_plugin_carry_no_lead_data() {
    let plugin = load("hostile_panic_data", attack_limits());
    let text = "Name: Jane Q. Doe\nEmail: jane.doe@example.com\nPhone: 202 555 0143\n";
    let secrets = ["Jane", "Doe", "jane.doe", "example.com", "555", "0143"];
    for (subject, code) in [("panic", "plugin_panic"), ("error", "plugin_invalid_input")] {
        let mut report = None;
        let logs = captured_logs(|| {
            report = Some(run(&plugin, &mail(subject, text, ""), &BTreeMap::new()));
        });
        let report = report.expect("ran");
        let failure = report.failure.clone().expect("fails");
        assert_eq!(failure.code(), code);
        let record = serde_json::to_string(&report.extraction.errors).expect("json");
        assert!(
            logs.contains("hostile-panic-data"),
            "the log line is kept: {logs}"
        );
        for secret in secrets {
            assert!(
                !record.contains(secret),
                "{subject}: record carries {secret}: {record}"
            );
            assert!(
                !logs.contains(secret),
                "{subject}: log carries {secret}: {logs}"
            );
        }
        assert!(record.contains("[details withheld]"), "{record}");
        eprintln!("{subject}: record {record}\n  log {}", logs.trim());
    }
}

// ---- plugins: typed values are validated ----

#[test]
fn typed_values_a_rule_file_would_reject_become_field_errors() {
    let plugin = load("hostile_invalid_values", attack_limits());
    let report = run(&plugin, BEHAVE, &BTreeMap::new());
    assert!(report.failure.is_none(), "{:?}", report.failure);
    let x = &report.extraction;
    assert_eq!(x.completeness, Completeness::Partial);
    assert_eq!(x.fields["status"].to_display_string(), "ok");
    assert_eq!(
        x.fields["contact"].to_display_string(),
        "jane.doe@example.com",
        "a valid value is normalised as a rule file would"
    );
    for field in [
        "email", "website", "budget", "rooms", "phone", "move_in", "rent",
    ] {
        assert!(
            !x.fields.contains_key(field),
            "`{field}` must not be recorded"
        );
        assert!(
            x.errors
                .iter()
                .any(|e| e.code == "invalid_value" && e.field.as_deref() == Some(field)),
            "no field error for `{field}`: {:?}",
            x.errors
        );
    }
    let errors = serde_json::to_string(&x.errors).expect("json");
    for value in [
        "DROP TABLE",
        "javascript",
        "cookie",
        "call me",
        "someday",
        "dollars",
    ] {
        assert!(
            !errors.contains(value),
            "an error quotes the value: {errors}"
        );
    }
}

// ---- rule files: every step counts against the route's budget ----

fn rules(source: &str, limits: RuleLimits) -> RuleSet {
    RuleSet::compile("budget.rules", source, Path::new("."))
        .unwrap_or_else(|e| panic!("{}", e.rendered()))
        .with_limits(limits)
}

fn rules_attack_limits() -> RuleLimits {
    RuleLimits {
        deadline_ms: 100,
        memory_mib: 64,
    }
}

/// The rule file failed with one of `codes` within ten times its deadline, and the same rule
/// file extracts an ordinary email.
fn assert_rules_stopped(set: &RuleSet, raw: &[u8], codes: &[&str], what: &str) {
    let email = Email::parse(raw).expect("email");
    let settings = BTreeMap::new();
    let ctx = ExtractContext {
        route: "budget",
        settings: &settings,
    };
    let started = Instant::now();
    let x = set.extract(&email, &ctx);
    let elapsed = started.elapsed();
    let deadline = Duration::from_millis(set.limits().deadline_ms);
    let code = x.errors.first().map(|e| e.code.as_str()).unwrap_or("none");
    eprintln!(
        "{what}: {code} after {elapsed:?} (deadline {deadline:?}), peak {} MiB (cap {} MiB): {:?}",
        x.peak_memory_bytes.unwrap_or(0) / (1024 * 1024),
        set.limits().memory_mib,
        x.errors.first().map(|e| &e.message)
    );
    assert_eq!(
        x.completeness,
        Completeness::Failed,
        "{what}: {:?}",
        x.errors
    );
    assert!(codes.contains(&code), "{what}: {code}");
    let fine = mail("New lead", "", "<div class=name>Jane Doe</div>");
    let email = Email::parse(&fine).expect("email");
    let x = set.extract(&email, &ctx);
    assert_eq!(x.completeness, Completeness::Complete, "{:?}", x.errors);
}

#[test]
fn a_rule_file_joining_css_texts_stops_at_the_route_limits() {
    let set = rules(
        r#"version 1
profile "p" {
  field name: text required = css("div.name").texts.join(",")
}
"#,
        rules_attack_limits(),
    );
    let raw = mail("New lead", "", &nested_divs(4 << 20));
    assert_rules_stopped(
        &set,
        &raw,
        &["budget_memory", "budget_time"],
        "css(div.name).texts.join over 4 MB",
    );
}

#[test]
fn a_rule_file_regex_stops_at_the_deadline() {
    let set = rules(
        r#"version 1
profile "p" {
  field name: text required = html.regex(r"(?:\b\w*){1,30}X") ?? css("div.name").text
}
"#,
        rules_attack_limits(),
    );
    let html = "<p>".to_string() + &"é a ".repeat(1 << 18) + "</p>";
    assert_rules_stopped(
        &set,
        &mail("New lead", "", &html),
        &["budget_time"],
        "PikeVM-only regex over 1 MB",
    );
}

#[test]
fn a_rule_file_replace_cannot_multiply_text() {
    // Replacing each of 64 Ki letters by 1000, then each of those by 1000 again, would make
    // 64 GB; each step is built only up to the 1 MiB text cap, charged as it grows.
    let long = "x".repeat(1000);
    let set = rules(
        &format!(
            r#"version 1
profile "p" {{
  field name: text required = html_text.replace("a", "{long}").replace("x", "{long}")
}}
"#
        ),
        RuleLimits {
            deadline_ms: 10_000,
            memory_mib: 8,
        },
    );
    let html = "<p>".to_string() + &"a".repeat(1 << 16) + "</p>";
    let raw = mail("New lead", "", &html);
    let email = Email::parse(&raw).expect("email");
    let settings = BTreeMap::new();
    let ctx = ExtractContext {
        route: "budget",
        settings: &settings,
    };
    let started = Instant::now();
    let x = set.extract(&email, &ctx);
    let peak = x.peak_memory_bytes.unwrap_or(u64::MAX);
    eprintln!(
        "replace x1000 x1000: {:?} in {:?}, peak {peak} bytes",
        x.completeness,
        started.elapsed()
    );
    assert_eq!(x.completeness, Completeness::Complete, "{:?}", x.errors);
    assert!(peak <= 8 << 20, "peak {peak}");
    assert_eq!(
        x.warnings
            .iter()
            .map(|w| w.code.as_str())
            .collect::<Vec<_>>(),
        ["value_truncated"]
    );
}

#[test]
fn rule_file_limits_come_from_the_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("lead.rules"),
        "version 1\nprofile \"p\" {\n  field name: text required = css(\"div.name\").texts.join(\",\")\n}\n",
    )
    .expect("write");
    let config = r#"
[[route]]
name = "acme"
sender = "*@acme.example"
require_auth = "none"
extractor = "lead.rules"
[route.limits]
deadline_ms = 50
memory_mib = 16
"#;
    let engine = Engine::from_toml_str(config, &dir.path().join("mailex.toml"), dir.path())
        .unwrap_or_else(|e| panic!("{e}"));
    let raw = mail("New lead", "", &nested_divs(4 << 20));
    let record = engine.process(&Input::new(&raw, "nested.eml"));
    assert_eq!(record.status, Status::Failed);
    let code = record.errors[0].code.as_str();
    assert!(["budget_memory", "budget_time"].contains(&code), "{code}");
    assert!(
        record.errors[0].message.contains("16 MiB") || record.errors[0].message.contains("50 ms"),
        "{}",
        record.errors[0].message
    );

    // Plugin-only keys on a rule-file route, and any limits on a built-in, are refused.
    for (extractor, key, want) in [
        (
            "lead.rules",
            "max_log_lines = 5",
            "applies to plugin routes only",
        ),
        ("builtin:adf", "deadline_ms = 5", "applies to plugin"),
    ] {
        let config = format!(
            "[[route]]\nname = \"a\"\nsender = \"*@a.example\"\nextractor = \"{extractor}\"\n[route.limits]\n{key}\n"
        );
        let err = Engine::from_toml_str(&config, &dir.path().join("mailex.toml"), dir.path())
            .expect_err("refused");
        let message = err.to_string();
        assert!(message.contains(want), "{message}");
        assert!(message.contains("mailex.toml:"), "{message}");
    }
}
