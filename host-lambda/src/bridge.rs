//! The one place that calls `mailex-core`: loading an engine and running it on one input.
//!
//! Keeping every core call here keeps the host thin and makes a change of the core API a
//! one-file change.

use std::path::Path;

use chrono::{DateTime, Utc};
use mailex_core::{AuthVerdicts, Engine, Input, Issue, Record, auth};

use crate::event::Verdicts;

/// Loads an engine from a `mailex.toml`; the error is rendered with `file:line:col` problems.
pub fn load_engine(config: &Path) -> Result<Engine, String> {
    Engine::load(config).map_err(|e| e.to_string())
}

/// The engine's input size cap.
pub fn max_input_bytes(engine: &Engine) -> u64 {
    engine.settings().max_input_bytes
}

/// Runs the engine on one raw mail. `verdicts`, when present, replace header-based
/// authentication (SES receipt), and their virus verdict is honoured like the header's.
pub fn run(
    engine: &Engine,
    raw: &[u8],
    source: String,
    received_at: Option<DateTime<Utc>>,
    verdicts: Option<&Verdicts>,
) -> Record {
    let auth = verdicts.map(|v| {
        AuthVerdicts::from_ses_receipt(
            v.spf.as_deref().unwrap_or(""),
            v.dkim.as_deref().unwrap_or(""),
            v.dmarc.as_deref().unwrap_or(""),
            v.mail_from.as_deref(),
        )
    });
    let receipt_virus = verdicts.and_then(|v| v.virus.as_deref().map(auth::parse_verdict));
    engine.process(&Input {
        raw,
        source,
        received_at,
        auth,
        receipt_virus,
    })
}

/// The record of a mail SES flagged as a virus: `failed`, never parsed.
pub fn virus_record(source: String, input_bytes: u64) -> Record {
    mailex_core::virus_record(source, input_bytes)
}

/// The record of an input whose processing panicked in the host's worker thread.
pub fn crashed_record(source: String, input_bytes: u64) -> Record {
    Record::failed(
        source,
        input_bytes,
        Issue::new("crash", "processing panicked; see the function log"),
    )
}

/// The lower-case status name and whether the record is degraded.
pub fn summary(record: &Record) -> (&'static str, Option<&str>, bool) {
    (
        record.status.as_str(),
        record.advertiser.as_deref(),
        record.is_degraded(),
    )
}
