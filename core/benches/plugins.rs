//! Plugin host benchmarks (criterion).
//!
//! Run:  scripts/build-plugins.sh && cargo bench -p mailex-core --bench plugins
//!
//! - `per_email/*`: one email through a plugin (fresh store and instance, message
//!   conversion, host primitives) against a bare `mail-parser` parse of the same bytes; the
//!   goal is at most 3x.
//! - `instantiate/trivial_call`: the fixed cost every email pays: a fresh `Store`, an
//!   instance from the pre-instantiated `InstancePre` (pooling allocator), one call that
//!   returns at once.
//! - `startup_20/*`: loading 20 plugins (the example and hostile components, cycled) from the
//!   `.cwasm` cache versus compiling them from `.wasm`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mailex_core::plugin::{HostConfig, PluginHost};
use mailex_core::{Email, PluginLimits};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn wasm(name: &str) -> PathBuf {
    let path = root().join("target/plugins").join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-plugins.sh first",
        path.display()
    );
    path
}

fn lead_fixture(name: &str) -> Vec<u8> {
    let local = root().join("tests/fixtures/leads").join(name);
    let path = if local.is_file() {
        local
    } else {
        root().join("../shared/corpus/leads").join(name)
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn host(cache: Option<PathBuf>) -> PluginHost {
    PluginHost::new(HostConfig {
        cache_dir: cache,
        reload_interval: None,
        ..HostConfig::default()
    })
    .expect("host")
}

fn per_email(c: &mut Criterion) {
    let host = host(None);
    let settings = BTreeMap::new();
    let mut group = c.benchmark_group("per_email");
    for (plugin, fixture) in [
        ("zillow_rentals", "zillow.eml"),
        ("facebook_zapier", "zapiermail.eml"),
    ] {
        let raw = lead_fixture(fixture);
        let extractor = host
            .load(&wasm(plugin), &PluginLimits::default())
            .expect("loads");
        group.bench_function(format!("mail_parser_parse/{fixture}"), |b| {
            b.iter(|| mail_parser::MessageParser::default().parse(std::hint::black_box(&raw[..])))
        });
        group.bench_function(format!("parse_and_plugin/{plugin}"), |b| {
            b.iter(|| {
                let email = Email::parse(&raw).expect("email");
                let report = extractor.run(&email, &settings);
                assert!(report.failure.is_none(), "{:?}", report.failure);
                report
            })
        });
        let email = Email::parse(&raw).expect("email");
        group.bench_function(format!("plugin_only/{plugin}"), |b| {
            b.iter(|| extractor.run(&email, &settings))
        });
    }
    group.finish();
}

fn instantiate(c: &mut Criterion) {
    let host = host(None);
    let settings = BTreeMap::new();
    // The hostile plugins return at once on a mail whose subject is `behave`.
    let extractor = host
        .load(&wasm("hostile_panic"), &PluginLimits::default())
        .expect("loads");
    let raw = b"From: bench@example.com\r\nSubject: behave\r\n\r\nok\r\n";
    let email = Email::parse(raw).expect("email");
    c.bench_function("instantiate/trivial_call", |b| {
        b.iter(|| extractor.run(&email, &settings))
    });
}

const COMPONENTS: [&str; 9] = [
    "adf_cars",
    "zillow_rentals",
    "facebook_zapier",
    "hostile_infinite_loop",
    "hostile_memory_bomb",
    "hostile_deep_recursion",
    "hostile_huge_output",
    "hostile_log_flood",
    "hostile_panic",
];

fn startup(c: &mut Criterion) {
    let paths: Vec<PathBuf> = (0..20)
        .map(|i| wasm(COMPONENTS[i % COMPONENTS.len()]))
        .collect();
    let cache = tempfile::tempdir().expect("temp dir");
    let cached = host(Some(cache.path().join("cache")));
    for p in &paths {
        cached.precompile(p).expect("precompiles");
    }
    let uncached = host(None);
    let mut group = c.benchmark_group("startup_20");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("from_cwasm", |b| {
        b.iter(|| {
            let loaded: Vec<_> = paths
                .iter()
                .map(|p| cached.load(p, &PluginLimits::default()).expect("loads"))
                .collect();
            assert!(loaded.iter().all(|p| p.from_cache()));
            loaded
        })
    });
    group.bench_function("from_wasm", |b| {
        b.iter(|| {
            paths
                .iter()
                .map(|p| uncached.load(p, &PluginLimits::default()).expect("loads"))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, per_email, instantiate, startup);
criterion_main!(benches);
