//! The one place that calls `mailex-core`: loading an engine, running it on one input, and the
//! records the host writes itself.
//!
//! Keeping every core call here keeps the host thin and makes a change of the core API a
//! one-file change.

use std::path::Path;

use chrono::{DateTime, Utc};
use mailex_core::plugin::{self, HostConfig, LazyPluginHost};
use mailex_core::{
    AuthVerdicts, ConfigError, Engine, Input, Issue, IssueCode, LoadOptions, ProcessStats, Record,
    auth,
};

use crate::error::HostError;
use crate::event::Verdicts;

/// Loads an engine from a `mailex.toml` as the function does: rule files are compiled without
/// their `test` blocks, so fixtures need not exist; plugins load into the process's one
/// plugin host, so a config swap reuses its compiled code and instance pool.
pub fn load_engine(config: &Path) -> Result<Engine, ConfigError> {
    let options = LoadOptions {
        plugins: process_plugin_host().clone(),
    };
    Engine::load_with(config, &options)
}

/// The function's plugin host, created when the first config with a plugin route loads,
/// with the compile cache its environment names (`MAILEX_PLUGIN_CACHE`;
/// `/tmp/mailex-plugin-cache` in the template).
fn process_plugin_host() -> &'static LazyPluginHost {
    static HOST: std::sync::OnceLock<LazyPluginHost> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        LazyPluginHost::new(HostConfig {
            cache_dir: plugin::cache_dir_from_env(|name| std::env::var_os(name)),
            ..HostConfig::default()
        })
    })
}

/// A config error for logs and Runtime API answers: every located problem (`file:line:col`, the
/// message, the codes and positions of rule-file errors), with paths relative to `root` (the
/// config's folder), never the rule files' source lines (which may quote personal data, e.g.
/// `expect` values).
pub fn describe_config_error(error: &ConfigError, root: &Path) -> String {
    let root = format!("{}/", root.display());
    error
        .problems()
        .iter()
        .map(|p| p.to_string().replace(&root, ""))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The engine's input size cap.
pub fn max_input_bytes(engine: &Engine) -> u64 {
    engine.settings().max_input_bytes
}

/// Runs the engine on one raw mail: its record, and what the run cost (the extractor's time).
/// `verdicts`, when present, replace header-based authentication (SES receipt), and their
/// virus verdict is honoured like the header's.
pub fn run(
    engine: &Engine,
    raw: &[u8],
    source: String,
    received_at: Option<DateTime<Utc>>,
    verdicts: Option<&Verdicts>,
) -> (Record, ProcessStats) {
    let auth = verdicts.map(|v| {
        AuthVerdicts::from_ses_receipt(
            v.spf.as_deref().unwrap_or(""),
            v.dkim.as_deref().unwrap_or(""),
            v.dmarc.as_deref().unwrap_or(""),
            v.mail_from.as_deref(),
        )
    });
    let receipt_virus = verdicts.and_then(|v| v.virus.as_deref().map(auth::parse_verdict));
    engine.process_with_stats(&Input {
        raw,
        source,
        received_at,
        auth,
        receipt_virus,
    })
}

/// The record of an input whose processing panicked in the host's worker thread.
pub fn crashed_record(source: String, input_bytes: u64) -> Record {
    Record::failed(
        source,
        input_bytes,
        Issue::new(
            IssueCode::Crash,
            "processing panicked; see the function log",
        ),
    )
}

/// The record of a stored mail that cannot be read and will not become readable: `code` is
/// `source_missing`, `source_access_denied` or `source_archived` (see `docs/record.md`).
pub fn unreadable_record(source: String, input_bytes: u64, code: IssueCode, why: &str) -> Record {
    Record::failed(
        source,
        input_bytes,
        Issue::new(code, format!("the stored mail cannot be read: {why}")),
    )
}

/// The record of a notification the host cannot decode (`source` names the SQS message or the
/// event): it names no mail that could be read, and retrying it cannot help.
pub fn bad_event_record(source: String, reason: &str) -> Record {
    Record::failed(
        source,
        0,
        Issue::new(
            IssueCode::BadEvent,
            format!("the notification could not be decoded: {reason}"),
        ),
    )
}

/// The record as stored: compact JSON in the record's field order. The function and replay
/// both write through here, so unchanged mail gives the same bytes.
pub fn encode(record: &Record) -> Result<Vec<u8>, HostError> {
    serde_json::to_vec(record)
        .map_err(|e| HostError::event(format!("the record could not be serialised: {e}")))
}

/// The lower-case status name, the advertiser and whether the record is degraded.
pub fn summary(record: &Record) -> (&'static str, Option<&str>, bool) {
    (
        record.status.as_str(),
        record.advertiser.as_deref(),
        record.is_degraded(),
    )
}
