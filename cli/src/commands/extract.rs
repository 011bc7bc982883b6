//! `mailex extract`: one JSON record per input, in input order.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use mailex_core::record::ExtractorKind;
use mailex_core::rules::Explanation;
use mailex_core::{Engine, Input, ProcessStats, Record};
use rayon::prelude::*;

use crate::inputs::{self, Contents, InputSource};

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
    /// Print per-extractor cost to stderr after the run: emails, mean and max extraction time,
    /// peak memory (plugins).
    #[arg(long)]
    pub stats: bool,
    /// Explain each record on stderr: which profile was chosen and why others were skipped, and
    /// for every field which `??` alternative gave the value and why the others did not. It
    /// quotes the email's contents: for authors, not for logs.
    #[arg(long)]
    pub explain: bool,
    /// Also write the anonymised analytics copy of the records below DIR: Parquet, one file per
    /// day, `DIR/dt=YYYY-MM-DD/part-<run>.parquet` (docs/analytics.md). Pseudonyms are keyed
    /// with MAILEX_PSEUDONYM_KEY (required; from the Secrets Manager secret of
    /// MAILEX_SECRETS_ARN when it holds one, else the environment), named by
    /// MAILEX_PSEUDONYM_KEY_ID (default: the first 8 hex digits of the key's SHA-256).
    #[arg(long, value_name = "DIR")]
    pub analytics: Option<PathBuf>,
    /// Delivery to the config's sinks.
    #[command(flatten)]
    pub delivery: super::deliver::DeliverArgs,
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
    // One lookup of the secrets (`MAILEX_SECRETS_ARN`, then the environment) for both.
    let secrets = (args.analytics.is_some() || args.delivery.deliver)
        .then(super::secrets::secret_source)
        .transpose()?;
    let mut analytics = match (&args.analytics, &secrets) {
        (Some(dir), Some(secrets)) => Some(super::analytics::Analytics::start(dir, secrets)?),
        _ => None,
    };
    let mut delivery = match &secrets {
        Some(secrets) => super::deliver::Delivery::start(&args.delivery, &engine, secrets)?,
        None => None,
    };
    let inputs = inputs::expand(&args.inputs)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .stack_size(WORKER_STACK_BYTES)
        .build()
        .context("cannot start worker threads")?;
    let mut unreadable = false;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut stats = Stats::default();
    let mut index = 0;
    // Chunks keep memory bounded on huge inputs while preserving input order. Each worker also
    // identifies and serialises its records, so this thread, which must keep the order, only
    // writes bytes (BENCHMARKS.md: no change within the machine's noise at `-j 2`).
    let identify = delivery.is_some();
    for chunk in inputs.chunks(256) {
        let results: Vec<(Processed, serde_json::Result<Vec<u8>>)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|input| {
                    let mut processed = process(&engine, input, args.explain);
                    if identify {
                        // The stable id is printed and delivered with the record.
                        processed.record.id = super::deliver::stable_id(&processed.record);
                    }
                    let line = output_line(&processed.record, args.pretty);
                    (processed, line)
                })
                .collect()
        });
        for (
            Processed {
                record,
                cost,
                read,
                explanation,
            },
            line,
        ) in results
        {
            unreadable |= !read;
            if let Some(analytics) = &mut analytics {
                analytics.add(&record, &cost, index, chrono::Utc::now())?;
            }
            index += 1;
            stats.add(&record, cost);
            if args.explain {
                // Earlier records are flushed first, so on a terminal each explanation comes
                // right before its record.
                out.flush()?;
                eprint!("{}", explain_text(&record, explanation.as_ref()));
            }
            out.write_all(&line?)?;
            if let Some(delivery) = &mut delivery {
                delivery.queue(record);
            }
        }
        if let Some(delivery) = &mut delivery {
            // Printed first: a record is out before any sink sees it.
            out.flush()?;
            delivery.flush();
        }
    }
    out.flush()?;
    if let Some(analytics) = analytics {
        let files = analytics.finish()?;
        tracing::info!(files, "analytics copy written");
    }
    if args.stats {
        stats.print();
    }
    let delivered = delivery.is_none_or(super::deliver::Delivery::finish);
    Ok(if !delivered { 3 } else { u8::from(unreadable) })
}

/// Stack of each worker thread. The engine bounds its own recursion (MIME nesting, HTML
/// nesting, rule expressions) far below this; setting it makes the bound independent of
/// `RUST_MIN_STACK`.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

/// One input's record, what it cost, whether the input could be read at all, and (with
/// `--explain`) what the extractor did.
struct Processed {
    record: Record,
    cost: ProcessStats,
    read: bool,
    explanation: Option<Explanation>,
}

fn process(engine: &Engine, input: &InputSource, explain: bool) -> Processed {
    let unexplained = |record, cost, read| Processed {
        record,
        cost,
        read,
        explanation: None,
    };
    match input.read(engine.settings().max_input_bytes) {
        Ok(Contents::Bytes(raw)) => {
            let input = Input::new(&raw, input.name());
            if explain {
                let (record, cost, explanation) = engine.process_explained(&input);
                Processed {
                    record,
                    cost,
                    read: true,
                    explanation,
                }
            } else {
                let (record, cost) = engine.process_with_stats(&input);
                unexplained(record, cost, true)
            }
        }
        Ok(Contents::TooLarge(bytes)) => unexplained(
            engine.too_large(&input.name(), bytes),
            ProcessStats::default(),
            true,
        ),
        Err(e) => unexplained(e.record(input.name()), ProcessStats::default(), false),
    }
}

/// The record as one output line (or, `pretty`, one multi-line JSON value) and a newline.
fn output_line(record: &Record, pretty: bool) -> serde_json::Result<Vec<u8>> {
    let mut line = Vec::with_capacity(1024);
    if pretty {
        serde_json::to_writer_pretty(&mut line, record)?;
    } else {
        serde_json::to_writer(&mut line, record)?;
    }
    line.push(b'\n');
    Ok(line)
}

/// The `--explain` text of one record: a heading naming the input, its status and extractor,
/// then the extractor's explanation, or why there is none.
fn explain_text(record: &Record, explanation: Option<&Explanation>) -> String {
    let mut text = format!("== {}: {}", record.source, record.status.as_str());
    if let Some(extractor) = &record.extractor {
        text.push_str(&format!(
            " (extractor `{}`, {})",
            extractor.name,
            kind_name(&extractor.kind)
        ));
    }
    text.push('\n');
    match (explanation, &record.extractor) {
        (Some(explanation), _) => text.push_str(&explanation.to_string()),
        (None, Some(extractor)) => text.push_str(&format!(
            "{} extractors do not explain their steps; the record's errors and warnings say what \
             went wrong\n",
            kind_name(&extractor.kind)
        )),
        (None, None) => text.push_str(
            "no extractor ran (see the record's errors); `mailex route` explains routing and \
             authentication\n",
        ),
    }
    text
}

fn kind_name(kind: &ExtractorKind) -> &'static str {
    match kind {
        ExtractorKind::Builtin => "built-in",
        ExtractorKind::Rules => "rule file",
        ExtractorKind::Plugin => "plugin",
    }
}

/// Per-extractor cost: emails, total and worst extraction time, worst peak memory.
#[derive(Default)]
struct Stats {
    per_extractor: std::collections::BTreeMap<String, ExtractorStats>,
    per_status: std::collections::BTreeMap<&'static str, u64>,
}

#[derive(Default)]
struct ExtractorStats {
    emails: u64,
    total: Duration,
    max: Duration,
    peak_memory: Option<u64>,
}

impl Stats {
    fn add(&mut self, record: &Record, cost: ProcessStats) {
        *self.per_status.entry(record.status.as_str()).or_default() += 1;
        let Some(extractor) = &record.extractor else {
            return;
        };
        let entry = self
            .per_extractor
            .entry(extractor.name.clone())
            .or_default();
        let elapsed = cost.extract_time.unwrap_or_default();
        entry.emails += 1;
        entry.total += elapsed;
        entry.max = entry.max.max(elapsed);
        if let Some(peak) = cost.peak_memory_bytes {
            entry.peak_memory = Some(entry.peak_memory.unwrap_or(0).max(peak));
        }
    }

    fn print(&self) {
        eprintln!(
            "{:<40} {:>8} {:>12} {:>12} {:>12}",
            "extractor", "emails", "mean", "max", "peak memory"
        );
        for (name, s) in &self.per_extractor {
            let mean = s.total / u32::try_from(s.emails.max(1)).unwrap_or(u32::MAX);
            let memory = s.peak_memory.map_or_else(
                || "-".to_owned(),
                |b| format!("{:.1} MiB", b as f64 / 1048576.0),
            );
            eprintln!(
                "{name:<40} {:>8} {mean:>12.2?} {:>12.2?} {memory:>12}",
                s.emails, s.max
            );
        }
        let statuses: Vec<String> = self
            .per_status
            .iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect();
        eprintln!("records: {}", statuses.join(" "));
    }
}
