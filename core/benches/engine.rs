//! Engine overhead: the full `Engine::process` (parse, route, authenticate, extract with a
//! built-in, build the record) against a bare `mail-parser` parse of the same email.
//!
//! Run: `cargo bench -p mailex-core --bench engine`. The ratio process/parse is what the
//! closing notes report; there are no timing assertions anywhere in the test suite.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use mailex_core::{Engine, Input};

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bench(c: &mut Criterion) {
    let config = r#"
[[route]]
name = "harbor-homes"
sender = "*@notify.harborhomes.example"
extractor = "builtin:lead-meta"
"#;
    let engine = Engine::from_toml_str(config, Path::new("bench.toml"), Path::new("."))
        .expect("bench config loads");
    let cases = [
        ("lead-meta", fixture("records/lead-meta-authenticated.eml")),
        ("unmatched", fixture("records/unknown-sender.eml")),
        (
            "spoofed",
            fixture("records/spoofed-forged-below-received.eml"),
        ),
    ];
    for (name, raw) in &cases {
        let mut group = c.benchmark_group(*name);
        group.bench_function("bare_parse", |b| {
            b.iter(|| {
                black_box(mail_parser::MessageParser::default().parse(black_box(raw.as_slice())))
            })
        });
        group.bench_function("engine_process", |b| {
            b.iter(|| black_box(engine.process(&Input::new(black_box(raw.as_slice()), "bench"))))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
