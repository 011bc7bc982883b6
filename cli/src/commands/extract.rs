//! `mailex extract`: one JSON record per input, in input order.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use mailex_core::{Engine, Input, Issue, Record};
use rayon::prelude::*;

use crate::inputs::{self, InputSource};

/// Arguments of `mailex extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
    /// Pretty-print each record (multi-line JSON) instead of one line per record.
    #[arg(long)]
    pub pretty: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Print per-extractor timing to stderr after the run.
    #[arg(long)]
    pub stats: bool,
    /// Email files, directories of them, or `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Runs `mailex extract`.
pub fn run(args: ExtractArgs) -> anyhow::Result<u8> {
    let engine = match super::load_engine(&args.config) {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let inputs = inputs::expand(&args.inputs)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut stats = Stats::default();
    // Chunks keep memory bounded on huge inputs while preserving input order.
    for chunk in inputs.chunks(256) {
        let results: Vec<(Record, Duration)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|input| process(&engine, input))
                .collect()
        });
        for (record, elapsed) in results {
            stats.add(&record, elapsed);
            if args.pretty {
                serde_json::to_writer_pretty(&mut out, &record)?;
            } else {
                serde_json::to_writer(&mut out, &record)?;
            }
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    if args.stats {
        stats.print();
    }
    Ok(0)
}

fn process(engine: &Engine, input: &InputSource) -> (Record, Duration) {
    let limit = engine.settings().max_input_bytes;
    let started = Instant::now();
    let record = match input.read(limit) {
        Ok(raw) => engine.process(&Input::new(&raw, input.name())),
        Err(e) => Record::failed(
            input.name(),
            0,
            Issue::new("io_error", format!("cannot read input: {}", e.kind())),
        ),
    };
    (record, started.elapsed())
}

#[derive(Default)]
struct Stats {
    per_extractor: std::collections::BTreeMap<String, (u64, Duration, Duration)>,
    per_status: std::collections::BTreeMap<&'static str, u64>,
}

impl Stats {
    fn add(&mut self, record: &Record, elapsed: Duration) {
        *self.per_status.entry(record.status.as_str()).or_default() += 1;
        let name = record
            .extractor
            .as_ref()
            .map_or_else(|| "(none)".to_owned(), |e| e.name.clone());
        let entry = self.per_extractor.entry(name).or_default();
        entry.0 += 1;
        entry.1 += elapsed;
        entry.2 = entry.2.max(elapsed);
    }

    fn print(&self) {
        eprintln!(
            "{:<40} {:>8} {:>12} {:>12}",
            "extractor", "emails", "mean", "max"
        );
        for (name, (count, total, max)) in &self.per_extractor {
            let mean = *total / (*count).max(1) as u32;
            eprintln!("{name:<40} {count:>8} {mean:>12.2?} {max:>12.2?}");
        }
        let statuses: Vec<String> = self
            .per_status
            .iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect();
        eprintln!("records: {}", statuses.join(" "));
    }
}
