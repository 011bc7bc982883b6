//! The HTML text view: mailex's own scanner (`html::fast`, what `Email::text` and the rule
//! language's `html_text` run) against html5ever's tokenizer on the same HTML bodies.
//!
//! The html5ever side is a lower bound for any text view built on that tokenizer: it runs the
//! tokenizer over the body and only collects the character tokens (entities decoded by
//! html5ever's full table) into a string, with no tree emulation and no layout. If that alone
//! is slower than the whole scanner (tokenizer, tree emulation and rendering), an
//! html5ever-based text view cannot be faster. For scale, `html5ever_dom` is the full parse into
//! the DOM the reference text view walks (`scraper::Html`).
//!
//! Inputs: the HTML parts of every `.eml` under `tests/fixtures/`; set `MAILEX_BENCH_CORPUS` to
//! a directory (e.g. `/work/shared/corpus`) to measure its HTML parts too (never needed by a
//! test). Besides criterion's totals it prints the median time per mail of each side and the
//! median of the per-mail ratios.
//!
//! Run: `cargo bench -p mailex-core --no-default-features --bench html` (the bench needs no
//! plugin host, so the release build skips wasmtime; with the default features it measures
//! the same). Numbers are in BENCHMARKS.md and in the module documentation of
//! `core/src/html/fast.rs`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            eml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("eml"))
        {
            out.push(path);
        }
    }
}

fn html_parts(message: &mail_parser::Message<'_>, out: &mut Vec<String>) {
    for part in &message.parts {
        match &part.body {
            mail_parser::PartType::Html(html) => out.push(html.to_string()),
            mail_parser::PartType::Message(inner) => html_parts(inner, out),
            _ => {}
        }
    }
}

/// The HTML bodies of the `.eml` files under `dir`, one string per mail (its HTML parts joined).
fn bodies(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    eml_files(dir, &mut files);
    files.sort();
    files
        .iter()
        .filter_map(|f| {
            let raw = std::fs::read(f).ok()?;
            let message = mail_parser::MessageParser::default().parse(raw.as_slice())?;
            let mut parts = Vec::new();
            html_parts(&message, &mut parts);
            (!parts.is_empty()).then(|| parts.concat())
        })
        .collect()
}

/// Collects the character tokens; the least an html5ever-tokenizer text view must do.
#[derive(Default)]
struct TextSink {
    text: std::cell::RefCell<String>,
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::CharacterTokens(t) = token {
            self.text.borrow_mut().push_str(&t);
        }
        TokenSinkResult::Continue
    }
}

fn html5ever_tokens(html: &str) -> String {
    let tokenizer = Tokenizer::new(TextSink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.text.take()
}

fn html5ever_dom(html: &str) -> usize {
    scraper::Html::parse_document(html).tree.nodes().len()
}

/// Median of the per-mail times of `f` (each mail run until it has taken ~2 ms, at least 5 times).
fn per_mail(inputs: &[String], f: impl Fn(&str)) -> Vec<Duration> {
    inputs
        .iter()
        .map(|html| {
            let start = Instant::now();
            let mut runs = 0u32;
            while runs < 5 || start.elapsed() < Duration::from_millis(2) {
                f(html);
                runs += 1;
            }
            start.elapsed() / runs
        })
        .collect()
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

fn report(label: &str, inputs: &[String]) {
    let bytes: usize = inputs.iter().map(String::len).sum();
    let fast = per_mail(inputs, |h| {
        black_box(mailex_core::html_text_view(black_box(h)));
    });
    let tokens = per_mail(inputs, |h| {
        black_box(html5ever_tokens(black_box(h)));
    });
    let dom = per_mail(inputs, |h| {
        black_box(html5ever_dom(black_box(h)));
    });
    let ratio = |other: &[Duration]| {
        median(
            fast.iter()
                .zip(other)
                .map(|(f, o)| o.as_secs_f64() / f.as_secs_f64().max(1e-12))
                .collect(),
        )
    };
    eprintln!(
        "{label}: {} mails, {bytes} bytes of HTML; median per mail: scanner text view {:?}, \
         html5ever tokenizer alone {:?} ({:.2}x the scanner, median of per-mail ratios), \
         html5ever DOM {:?} ({:.2}x)",
        inputs.len(),
        median(fast.clone()),
        median(tokens.clone()),
        ratio(&tokens),
        median(dom.clone()),
        ratio(&dom),
    );
}

fn bench(c: &mut Criterion) {
    let fixtures = bodies(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures"));
    assert!(fixtures.len() > 20, "fixtures not found");
    let mut sets = vec![("fixtures", fixtures)];
    if let Some(dir) = std::env::var_os("MAILEX_BENCH_CORPUS") {
        sets.push(("corpus", bodies(Path::new(&dir))));
    }
    for (label, inputs) in &sets {
        report(label, inputs);
        let mut group = c.benchmark_group(format!("html_text_view/{label}"));
        group.bench_function("scanner", |b| {
            b.iter(|| {
                for h in inputs {
                    black_box(mailex_core::html_text_view(black_box(h)));
                }
            })
        });
        group.bench_function("html5ever_tokenizer", |b| {
            b.iter(|| {
                for h in inputs {
                    black_box(html5ever_tokens(black_box(h)));
                }
            })
        });
        group.bench_function("html5ever_dom", |b| {
            b.iter(|| {
                for h in inputs {
                    black_box(html5ever_dom(black_box(h)));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
