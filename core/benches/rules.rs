//! Extraction time per email with the example rule files, against the bare
//! `mail_parser::MessageParser::default().parse` of the same emails.
//!
//! ```text
//! cargo bench -p mailex-core --bench rules
//! ```
//!
//! Each lead fixture in `tests/fixtures/leads/` runs through the rule file of its platform
//! (`examples/rules/`): parse into the message model, pick the profile, evaluate every field
//! (including the HTML parse and text view where the rules need them). Both benchmarks report
//! time per email (throughput in elements); a quick ratio is printed first.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, Throughput};
use mailex_core::rules::{RuleSet, load_rule_file};
use mailex_core::{Email, ExtractContext, Extractor};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rule_file_for(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    if n.starts_with("zillow") {
        "zillow.rules"
    } else if n.contains("apartmentlist") || n.starts_with("aparmentlist") {
        "apartmentlist.rules"
    } else if n.starts_with("apartment-guide") || n.starts_with("rent-") {
        "apartmentguide.rules"
    } else if n.starts_with("for-rent") {
        "forrent.rules"
    } else if n.starts_with("yelp") {
        "yelp.rules"
    } else {
        "facebook-leads.rules"
    }
}

struct Case {
    raw: Vec<u8>,
    rules: usize,
}

fn load() -> (Vec<RuleSet>, Vec<Case>) {
    let names = [
        "zillow.rules",
        "apartmentlist.rules",
        "apartmentguide.rules",
        "forrent.rules",
        "yelp.rules",
        "facebook-leads.rules",
    ];
    let sets: Vec<RuleSet> = names
        .iter()
        .map(|n| {
            load_rule_file(&root().join("examples/rules").join(n))
                .unwrap_or_else(|e| panic!("{}", e.rendered()))
        })
        .collect();
    let mut cases = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/leads"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = rule_file_for(&name);
        let rules = names.iter().position(|n| *n == file).unwrap_or(0);
        cases.push(Case {
            raw: std::fs::read(&p).expect("readable"),
            rules,
        });
    }
    (sets, cases)
}

fn bare_parse(cases: &[Case]) {
    for c in cases {
        black_box(mail_parser::MessageParser::default().parse(black_box(&c.raw)));
    }
}

fn extract_all(sets: &[RuleSet], cases: &[Case], ctx: &ExtractContext<'_>) {
    for c in cases {
        let email = Email::parse(black_box(&c.raw)).expect("parses");
        black_box(sets[c.rules].extract(&email, ctx));
    }
}

fn main() {
    let (sets, cases) = load();
    let settings = Default::default();
    let ctx = ExtractContext {
        route: "bench",
        settings: &settings,
    };

    // A quick ratio first, so the number is visible without reading criterion's report.
    let time = |f: &dyn Fn()| {
        for _ in 0..20 {
            f();
        }
        let start = Instant::now();
        let rounds = 200;
        for _ in 0..rounds {
            f();
        }
        start.elapsed().as_secs_f64() / f64::from(rounds) / cases.len() as f64
    };
    let parse = time(&|| bare_parse(&cases));
    let extract = time(&|| extract_all(&sets, &cases, &ctx));
    let model = time(&|| {
        for c in &cases {
            black_box(Email::parse(black_box(&c.raw)).expect("parses"));
        }
    });
    let text_view = time(&|| {
        for c in &cases {
            let email = Email::parse(black_box(&c.raw)).expect("parses");
            black_box(email.text());
        }
    });
    let parsed: Vec<Email<'_>> = cases
        .iter()
        .map(|c| Email::parse(&c.raw).expect("parses"))
        .collect();
    for e in &parsed {
        let _ = e.text();
        let _ = e.parse_html_document();
    }
    let eval_only = time(&|| {
        for (c, e) in cases.iter().zip(&parsed) {
            black_box(sets[c.rules].extract(e, &ctx));
        }
    });
    println!(
        "per email over {} lead emails: bare mail-parser parse {:.1} µs, rule-file extraction {:.1} µs, ratio {:.2}x",
        cases.len(),
        parse * 1e6,
        extract * 1e6,
        extract / parse
    );
    println!(
        "  of which: Email::parse {:.1} µs, Email::parse + text view {:.1} µs, rule evaluation alone (views cached) {:.1} µs",
        model * 1e6,
        text_view * 1e6,
        eval_only * 1e6
    );

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("mail_parser_parse", |b| b.iter(|| bare_parse(&cases)));
    group.bench_function("rule_file_extract", |b| {
        b.iter(|| extract_all(&sets, &cases, &ctx))
    });
    group.finish();
    c.final_summary();
}
