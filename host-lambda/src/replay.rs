//! Replay: re-run extraction over stored raw mail after a rule or plugin change, write only the
//! records that changed, and say what changed per advertiser.
//!
//! Inputs are a local folder (every file, recursively) or an S3 bucket and prefix. Existing
//! records (a folder or an S3 prefix, laid out as the Lambda writes them: `<id>.json`) are the
//! baseline: each new record is compared with the stored record of the same id. A record whose
//! bytes are identical is `unchanged` and, with `write`, is not written again; any other record
//! replaces the stored one at the same key. Records left at keys of the earlier partitioned
//! layout (`status=/advertiser=/dt=/<id>.json`) are removed once their replacement is written, so
//! every input keeps exactly one record.
//!
//! An S3 input is processed exactly as the function processes it (same id, same time: the
//! object's `Last-Modified`; same code path): replaying unchanged mail under an unchanged config
//! reproduces the function's records byte for byte. Verdicts of an SES receipt are taken from
//! the stored record (the receipt itself is not stored), and a mail recorded as a virus is
//! never parsed: its record is kept as it is.
//!
//! With delivery ([`ReplayOptions::delivery_secrets`]), every replayed record is then sent to
//! the config's sinks exactly as the function sends it: with the delivery markers next to the
//! records (`<id>.json.delivered/<sink>`, in S3 or in the records folder), so a sink that
//! acknowledged the record before is skipped and one that never did (it failed, or the sink is
//! new) gets it now.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mailex_core::Record;
use mailex_core::record::Verdict;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use crate::bridge;
use crate::delivery::{S3Markers, SecretLookup};
use crate::error::HostError;
use crate::event::Verdicts;
use crate::keys;
use crate::live::Loaded;
use crate::mail::{self, Body, Mail};
use crate::store::S3Store;

/// Largest stored record replay reads back for comparison.
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// A folder or an S3 bucket and prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local folder.
    Dir(PathBuf),
    /// An S3 bucket and prefix.
    S3 {
        /// Bucket.
        bucket: String,
        /// Prefix (may be empty).
        prefix: String,
    },
}

impl Location {
    /// Parses `s3://bucket/prefix` or a folder path.
    pub fn parse(text: &str) -> Result<Self, HostError> {
        match text.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(HostError::config(format!(
                        "`{text}` names no bucket; use s3://bucket/prefix"
                    )));
                }
                Ok(Location::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.to_owned(),
                })
            }
            None => Ok(Location::Dir(PathBuf::from(text))),
        }
    }

    fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }

    /// The key prefix of records in this location: `""` for a folder, the S3 prefix as a
    /// folder (`records` and `records/` both mean `records/`).
    fn record_prefix(&self) -> String {
        match self {
            Location::Dir(_) => String::new(),
            Location::S3 { prefix, .. } if prefix.is_empty() || prefix.ends_with('/') => {
                prefix.clone()
            }
            Location::S3 { prefix, .. } => format!("{prefix}/"),
        }
    }
}

/// Which stored mails a replay takes; the default takes every mail.
///
/// Times select by when the mail was stored (an S3 object's `Last-Modified`, a file's
/// modification time). Advertisers, statuses and issue codes select by the mail's *stored*
/// record (what the function made of it), so they need the records location; a mail without a
/// stored record is not selected by them. Within one list any value matches; the lists and
/// times must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Mails stored at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Mails stored before this time (seconds since the epoch).
    pub until: Option<i64>,
    /// Mails whose stored record names one of these advertisers.
    pub advertisers: Vec<String>,
    /// Mails whose stored record has one of these statuses (`extracted`, `partial`, ...).
    pub statuses: Vec<String>,
    /// Mails whose stored record carries one of these issue codes (errors or warnings).
    pub issues: Vec<String>,
}

impl Selection {
    /// Whether any filter reads the stored record.
    pub fn reads_records(&self) -> bool {
        !(self.advertisers.is_empty() && self.statuses.is_empty() && self.issues.is_empty())
    }

    /// Whether a mail stored at `stored_at` (seconds since the epoch) is in the time window;
    /// a mail of unknown time is in it only when no window is set.
    fn takes_time(&self, stored_at: Option<i64>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        stored_at.is_some_and(|t| {
            self.since.is_none_or(|since| t >= since) && self.until.is_none_or(|until| t < until)
        })
    }

    /// Whether the stored record (if any) passes the record filters.
    fn takes_record(&self, record: Option<&Record>) -> bool {
        if !self.reads_records() {
            return true;
        }
        let Some(record) = record else { return false };
        let any = |wanted: &[String], has: &dyn Fn(&str) -> bool| {
            wanted.is_empty() || wanted.iter().any(|w| has(w))
        };
        any(&self.advertisers, &|a| {
            record.advertiser.as_deref() == Some(a)
        }) && any(&self.statuses, &|s| record.status.as_str() == s)
            && any(&self.issues, &|code| {
                (record.errors.iter().chain(&record.warnings)).any(|i| i.code.as_str() == code)
            })
    }
}

/// What to replay and how.
#[derive(Clone)]
pub struct ReplayOptions {
    /// The `mailex.toml` to extract with.
    pub config: PathBuf,
    /// Stored raw mail.
    pub input: Location,
    /// Existing records: the baseline, and where new records go with `write`.
    pub records: Option<Location>,
    /// Write the records that changed (and remove superseded ones); otherwise only compare.
    pub write: bool,
    /// Mails processed at once.
    pub concurrency: usize,
    /// Show progress on stderr (a bar on a terminal, a line per 10% otherwise).
    pub progress: bool,
    /// Which stored mails to replay.
    pub selection: Selection,
    /// Deliver the replayed records to the config's sinks, finding sink secrets with this
    /// lookup (the binary passes the process environment); `None`: deliver nothing. Needs
    /// `write` (a record is delivered once it is stored).
    pub delivery_secrets: Option<SecretLookup>,
}

impl std::fmt::Debug for ReplayOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayOptions")
            .field("config", &self.config)
            .field("input", &self.input)
            .field("records", &self.records)
            .field("write", &self.write)
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress)
            .field("selection", &self.selection)
            .field("deliver", &self.delivery_secrets.is_some())
            .finish()
    }
}

/// What became of the replayed records at the sinks (with delivery).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryCounts {
    /// A sink acknowledged a record now.
    pub delivered: u64,
    /// A sink's marker said it had the record already; nothing was sent.
    pub already_delivered: u64,
    /// A sink refused a record for good.
    pub rejected: u64,
    /// A sink failed; the record can be delivered by replaying again (listed in `errors`).
    pub failed: u64,
}

/// Changes for one advertiser (the advertiser of the new record; `_none` when unmatched).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AdvertiserChanges {
    /// Records produced for this advertiser.
    pub total: u64,
    /// Inputs that had no record before.
    pub new: u64,
    /// The stored record is identical, byte for byte.
    pub unchanged: u64,
    /// The status changed (same advertiser).
    pub status_changed: u64,
    /// Same status, different fields.
    pub fields_changed: u64,
    /// Same status and fields; something else changed (warnings, provenance, the extractor's
    /// revision, the time, ...).
    pub other_changed: u64,
    /// Records that belonged to another advertiser before.
    pub moved_in: u64,
    /// Records of this advertiser that now belong to another one.
    pub moved_out: u64,
    /// New records per status.
    pub by_status: BTreeMap<String, u64>,
}

/// The result of a replay (`mailex-replay --json` prints it as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplaySummary {
    /// Inputs replayed (found and selected).
    pub inputs: u64,
    /// Inputs found but not selected by [`ReplayOptions::selection`].
    pub not_selected: u64,
    /// Inputs that could not be read or whose record could not be written (listed in `errors`).
    pub io_failures: u64,
    /// Records written (new or changed; unchanged records are not rewritten).
    pub written: u64,
    /// Superseded records removed (keys of the earlier partitioned layout).
    pub removed: u64,
    /// Per advertiser.
    pub per_advertiser: BTreeMap<String, AdvertiserChanges>,
    /// One line per I/O or delivery failure (source and error; no mail content).
    pub errors: Vec<String>,
    /// With delivery: per-sink outcomes, summed over records.
    pub deliveries: DeliveryCounts,
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "replayed {} mails: {} records written, {} superseded removed, {} I/O failures",
            self.inputs, self.written, self.removed, self.io_failures
        )?;
        writeln!(
            f,
            "{:<28} {:>7} {:>6} {:>9} {:>7} {:>7} {:>6} {:>8} {:>9}  statuses",
            "advertiser",
            "total",
            "new",
            "unchanged",
            "status",
            "fields",
            "other",
            "moved-in",
            "moved-out"
        )?;
        for (name, c) in &self.per_advertiser {
            let statuses: Vec<String> = c
                .by_status
                .iter()
                .map(|(s, n)| format!("{s}={n}"))
                .collect();
            writeln!(
                f,
                "{:<28} {:>7} {:>6} {:>9} {:>7} {:>7} {:>6} {:>8} {:>9}  {}",
                name,
                c.total,
                c.new,
                c.unchanged,
                c.status_changed,
                c.fields_changed,
                c.other_changed,
                c.moved_in,
                c.moved_out,
                statuses.join(" ")
            )?;
        }
        let d = &self.deliveries;
        if d.delivered + d.already_delivered + d.rejected + d.failed > 0 {
            writeln!(
                f,
                "deliveries: {} delivered, {} already delivered, {} rejected, {} failed",
                d.delivered, d.already_delivered, d.rejected, d.failed
            )?;
        }
        if self.not_selected > 0 {
            writeln!(
                f,
                "{} stored mails were not selected by the filters",
                self.not_selected
            )?;
        }
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct InputItem {
    id: String,
    source: String,
    /// Local path, or S3 key.
    locator: String,
    size: u64,
    /// When it was stored, seconds since the epoch.
    stored_at: Option<i64>,
}

enum Change {
    New,
    Unchanged,
    Status,
    Fields,
    Other,
    Moved { from: String },
}

/// Runs a replay. `store` is needed when an input or the records are in S3.
pub async fn replay(
    options: ReplayOptions,
    store: Option<S3Store>,
) -> Result<ReplaySummary, HostError> {
    let needs_s3 = options.input.is_s3() || options.records.as_ref().is_some_and(Location::is_s3);
    if needs_s3 && store.is_none() {
        return Err(HostError::config("an s3:// location needs an S3 client"));
    }
    if options.delivery_secrets.is_some() && !(options.write && options.records.is_some()) {
        return Err(HostError::config(
            "delivering replayed records needs --write and the records location",
        ));
    }
    if options.selection.reads_records() && options.records.is_none() {
        return Err(HostError::config(
            "selecting by advertiser, status or issue reads the stored records: give the records location",
        ));
    }
    let config = options.config.clone();
    let engine = tokio::task::spawn_blocking(move || bridge::load_engine(&config))
        .await
        .map_err(|_| HostError::config("config loading panicked"))?
        .map_err(|e| HostError::config(e.to_string()))?;
    let delivery = match &options.delivery_secrets {
        Some(secrets) => Some(Arc::new(
            ReplayDelivery::new(&engine, secrets, &options, store.as_ref()).await?,
        )),
        None => None,
    };
    let loaded = Arc::new(Loaded::new(engine, "file"));
    let found = list_inputs(&options.input, store.as_ref()).await?;
    let found_count = found.len() as u64;
    let inputs: Vec<InputItem> = found
        .into_iter()
        .filter(|item| options.selection.takes_time(item.stored_at))
        .collect();
    let baseline = match &options.records {
        Some(location) => list_records(location, store.as_ref()).await?,
        None => HashMap::new(),
    };
    let mut summary = ReplaySummary {
        inputs: inputs.len() as u64,
        not_selected: found_count - inputs.len() as u64,
        ..ReplaySummary::default()
    };
    let progress = Arc::new(Progress::new(options.progress, inputs.len() as u64));
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let options = Arc::new(options);
    let baseline = Arc::new(baseline);
    let mut set = tokio::task::JoinSet::new();
    for item in inputs {
        let (loaded, store, options, baseline, semaphore, progress, delivery) = (
            Arc::clone(&loaded),
            store.clone(),
            Arc::clone(&options),
            Arc::clone(&baseline),
            Arc::clone(&semaphore),
            Arc::clone(&progress),
            delivery.clone(),
        );
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let result = replay_one(&loaded, store.as_ref(), &options, &baseline, &item).await;
            let delivered = match (&result, &delivery) {
                (Ok(Some(done)), Some(delivery)) => Some(delivery.send(&done.record).await),
                _ => None,
            };
            progress.step();
            (item.source, result, delivered)
        });
    }
    while let Some(joined) = set.join_next().await {
        let (source, result, delivered) = match joined {
            Ok(triple) => triple,
            Err(e) => (
                "?".to_owned(),
                Err(HostError::event(format!("replay task died: {e}"))),
                None,
            ),
        };
        if let Some(report) = delivered {
            count_deliveries(&mut summary, &source, &report);
        }
        match result {
            Err(e) => {
                summary.io_failures += 1;
                summary.errors.push(format!("{source}: {e}"));
            }
            Ok(None) => {
                summary.inputs -= 1;
                summary.not_selected += 1;
            }
            Ok(Some(done)) => {
                let entry = summary
                    .per_advertiser
                    .entry(done.advertiser.clone())
                    .or_default();
                entry.total += 1;
                *entry.by_status.entry(done.status.clone()).or_default() += 1;
                match done.change {
                    Change::New => entry.new += 1,
                    Change::Unchanged => entry.unchanged += 1,
                    Change::Status => entry.status_changed += 1,
                    Change::Fields => entry.fields_changed += 1,
                    Change::Other => entry.other_changed += 1,
                    Change::Moved { from } => {
                        entry.moved_in += 1;
                        summary.per_advertiser.entry(from).or_default().moved_out += 1;
                    }
                }
                summary.written += u64::from(done.written);
                summary.removed += done.removed;
            }
        }
    }
    progress.finish();
    summary.errors.sort();
    Ok(summary)
}

/// The deliverer of the replayed config and the markers next to the records.
struct ReplayDelivery {
    deliverer: mailex_delivery::Deliverer,
    markers: Markers,
}

/// Delivery markers next to the records, in S3 or in the records folder (same layout).
enum Markers {
    S3(Box<S3Markers>),
    Dir(mailex_delivery::DirMarkers),
}

impl mailex_delivery::MarkerStore for Markers {
    async fn is_delivered(
        &self,
        record_id: &str,
        sink: &str,
    ) -> Result<bool, mailex_delivery::MarkerError> {
        match self {
            Markers::S3(m) => m.is_delivered(record_id, sink).await,
            Markers::Dir(m) => m.is_delivered(record_id, sink).await,
        }
    }

    async fn mark_delivered(
        &self,
        record_id: &str,
        sink: &str,
        marker: &mailex_delivery::Marker,
    ) -> Result<(), mailex_delivery::MarkerError> {
        match self {
            Markers::S3(m) => m.mark_delivered(record_id, sink, marker).await,
            Markers::Dir(m) => m.mark_delivered(record_id, sink, marker).await,
        }
    }
}

impl ReplayDelivery {
    async fn new(
        engine: &mailex_core::Engine,
        secrets: &SecretLookup,
        options: &ReplayOptions,
        store: Option<&S3Store>,
    ) -> Result<Self, HostError> {
        let sinks = engine.sinks();
        if sinks.is_empty() {
            return Err(HostError::config(format!(
                "{}: delivery asked for, but the config has no [[sink]] (docs/delivery.md)",
                options.config.display()
            )));
        }
        let resolved = mailex_delivery::Secrets::resolve(sinks, |name| secrets(name))
            .map_err(|e| HostError::config(e.to_string()))?;
        let aws = match store.and_then(S3Store::sdk_config) {
            Some(config) => Some(config.clone()),
            None if mailex_delivery::needs_aws(sinks) => {
                Some(mailex_delivery::aws::load_sdk_config().await)
            }
            None => None,
        };
        let delivery_options = mailex_delivery::DeliveryOptions {
            aws,
            aws_endpoint: None,
        };
        let deliverer = mailex_delivery::Deliverer::new(sinks, &resolved, &delivery_options)
            .map_err(|e| HostError::config(e.to_string()))?;
        let markers = match (&options.records, store) {
            (Some(Location::S3 { bucket, .. }), Some(store)) => {
                Markers::S3(Box::new(S3Markers::new(
                    store.clone(),
                    bucket.clone(),
                    options
                        .records
                        .as_ref()
                        .map(Location::record_prefix)
                        .unwrap_or_default(),
                )))
            }
            (Some(Location::Dir(root)), _) => {
                Markers::Dir(mailex_delivery::DirMarkers::new(root.clone()))
            }
            _ => return Err(HostError::config("delivery needs the records location")),
        };
        Ok(ReplayDelivery { deliverer, markers })
    }

    async fn send(&self, record: &Record) -> mailex_delivery::DeliveryReport {
        let id = record.id.as_deref().unwrap_or_default();
        self.deliverer.deliver(id, record, &self.markers).await
    }
}

/// Adds one record's delivery report to the summary.
fn count_deliveries(
    summary: &mut ReplaySummary,
    source: &str,
    report: &mailex_delivery::DeliveryReport,
) {
    use mailex_delivery::SinkResult;
    for outcome in &report.outcomes {
        let counts = &mut summary.deliveries;
        match &outcome.result {
            SinkResult::Delivered { .. } => counts.delivered += 1,
            SinkResult::AlreadyDelivered => counts.already_delivered += 1,
            SinkResult::Rejected { .. } => counts.rejected += 1,
            SinkResult::Failed { reason } => {
                counts.failed += 1;
                summary.errors.push(format!(
                    "{source}: sink `{}` failed: {reason}",
                    outcome.sink
                ));
            }
        }
    }
}

/// Progress on stderr: a bar on a terminal, a line per 10% otherwise, nothing when off.
enum Progress {
    Off,
    Bar(indicatif::ProgressBar),
    Lines { done: AtomicU64, total: u64 },
}

impl Progress {
    fn new(enabled: bool, total: u64) -> Self {
        if !enabled {
            Progress::Off
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} mails, {per_sec}, {eta} left",
            ) {
                bar.set_style(style);
            }
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                done: AtomicU64::new(0),
                total,
            }
        }
    }

    fn step(&self) {
        match self {
            Progress::Off => {}
            Progress::Bar(bar) => bar.inc(1),
            Progress::Lines { done, total } => {
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of((total / 10).max(1)) || n == *total {
                    eprintln!("replay: {n}/{total}");
                }
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }
}

struct Done {
    /// The record now stored (what delivery sends).
    record: Record,
    advertiser: String,
    status: String,
    change: Change,
    written: bool,
    removed: u64,
}

/// The stored record of an input: its bytes and where they are.
struct Stored {
    key: String,
    bytes: Vec<u8>,
    record: Option<Record>,
}

async fn replay_one(
    loaded: &Arc<Loaded>,
    store: Option<&S3Store>,
    options: &ReplayOptions,
    baseline: &HashMap<String, Vec<String>>,
    item: &InputItem,
) -> Result<Option<Done>, HostError> {
    let stored_keys = baseline
        .get(&item.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let canonical = options
        .records
        .as_ref()
        .map(|r| keys::record_key(&r.record_prefix(), &item.id));
    // The canonical key first: it is the one the comparison and the write are about.
    let old = match stored_keys
        .iter()
        .find(|k| Some(*k) == canonical.as_ref())
        .or_else(|| stored_keys.first())
    {
        Some(key) => {
            let bytes = read_record(options.records.as_ref(), store, key).await?;
            let record = serde_json::from_slice::<Record>(&bytes).ok();
            Some(Stored {
                key: key.clone(),
                bytes,
                record,
            })
        }
        None => None,
    };
    let old_record = old.as_ref().and_then(|o| o.record.as_ref());
    if !options.selection.takes_record(old_record) {
        return Ok(None);
    }
    let new_bytes = match old_record.filter(|r| {
        r.errors
            .iter()
            .any(|e| e.code == mailex_core::IssueCode::Virus)
    }) {
        // Never parse a mail SES flagged as a virus: its record stays as it is.
        Some(_) => old.as_ref().map(|o| o.bytes.clone()).unwrap_or_default(),
        None => {
            let record = match &options.input {
                Location::S3 { bucket, .. } => {
                    let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
                    let mail = Mail {
                        id: item.id.clone(),
                        source: item.source.clone(),
                        size_hint: Some(item.size),
                        event_time: None,
                        verdicts: old_record.and_then(receipt_verdicts),
                        body: Body::Object {
                            bucket: bucket.clone(),
                            key: item.locator.clone(),
                        },
                    };
                    mail::record_of(mail, loaded, Some(store)).await?
                }
                Location::Dir(_) => file_record(loaded, item).await?,
            };
            bridge::encode(&record)?
        }
    };
    let new_record: Record =
        serde_json::from_slice(&new_bytes).map_err(|e| HostError::event(format!("record: {e}")))?;
    let (status, advertiser, _) = bridge::summary(&new_record);
    let advertiser_part = keys::dimension_value(advertiser);
    let status = status.to_owned();
    let change = match (&old, old_record) {
        (None, _) => Change::New,
        (Some(o), _) if o.bytes == new_bytes => Change::Unchanged,
        (Some(_), None) => Change::Other,
        (Some(_), Some(o)) if o.advertiser != new_record.advertiser => Change::Moved {
            from: keys::dimension_value(o.advertiser.as_deref()),
        },
        (Some(_), Some(o)) if o.status != new_record.status => Change::Status,
        (Some(_), Some(o)) if o.fields != new_record.fields => Change::Fields,
        (Some(_), Some(_)) => Change::Other,
    };
    let mut written = false;
    let mut removed = 0;
    if options.write
        && let (Some(records), Some(canonical)) = (&options.records, &canonical)
    {
        let same_at_canonical = old
            .as_ref()
            .is_some_and(|o| &o.key == canonical && o.bytes == new_bytes);
        if !same_at_canonical {
            write_record(records, store, canonical, new_bytes).await?;
            written = true;
        }
        for key in stored_keys.iter().filter(|k| *k != canonical) {
            remove_record(records, store, key).await?;
            removed += 1;
        }
    }
    Ok(Some(Done {
        record: new_record,
        advertiser: advertiser_part,
        status,
        change,
        written,
        removed,
    }))
}

/// The SES receipt verdicts a stored record was made with, so replay authenticates the mail as
/// the function did (the receipt is not stored anywhere else).
fn receipt_verdicts(record: &Record) -> Option<Verdicts> {
    if record.auth.source != "ses_receipt" {
        return None;
    }
    let status = |v: Verdict| match v {
        Verdict::Pass => Some("PASS".to_owned()),
        Verdict::Fail => Some("FAIL".to_owned()),
        Verdict::Other => Some("GRAY".to_owned()),
        // A receipt has no `none` verdict (PASS, FAIL, GRAY, PROCESSING_FAILED, DISABLED).
        Verdict::None | Verdict::Missing => None,
    };
    Some(Verdicts {
        spf: status(record.auth.spf),
        dkim: status(record.auth.dkim),
        dmarc: status(record.auth.dmarc),
        ..Verdicts::default()
    })
}

/// The record of a local file: as `mailex extract` makes it (dated by its headers), with the
/// file's id.
async fn file_record(loaded: &Arc<Loaded>, item: &InputItem) -> Result<Record, HostError> {
    let cap = bridge::max_input_bytes(&loaded.engine);
    if item.size > cap {
        let mut record = loaded.engine.too_large(&item.source, item.size);
        record.id = Some(item.id.clone());
        return Ok(record);
    }
    let raw = read_capped(Path::new(&item.locator), cap).await?;
    let mail = Mail {
        id: item.id.clone(),
        source: item.source.clone(),
        size_hint: Some(item.size),
        event_time: None,
        verdicts: None,
        body: Body::Inline(raw),
    };
    mail::record_of(mail, loaded, None).await
}

async fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, HostError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| HostError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| HostError::io(path, e))?;
    Ok(bytes)
}

async fn list_inputs(
    location: &Location,
    store: Option<&S3Store>,
) -> Result<Vec<InputItem>, HostError> {
    let mut items = Vec::new();
    match location {
        Location::Dir(root) => {
            for path in walk(root)? {
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                let metadata = std::fs::metadata(&path).map_err(|e| HostError::io(&path, e))?;
                let stored_at = metadata
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .and_then(|d| i64::try_from(d.as_secs()).ok());
                items.push(InputItem {
                    id: keys::file_id(&relative),
                    source: path.display().to_string(),
                    locator: path.display().to_string(),
                    size: metadata.len(),
                    stored_at,
                });
            }
        }
        Location::S3 { bucket, prefix } => {
            let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
            for object in store.list(bucket, prefix).await? {
                if object.key.ends_with('/') || crate::event::is_setup_object(&object.key) {
                    continue;
                }
                let source = keys::object_source(bucket, &object.key);
                items.push(InputItem {
                    id: keys::record_id(&source),
                    source,
                    size: object.size,
                    stored_at: object.last_modified,
                    locator: object.key,
                });
            }
        }
    }
    items.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(items)
}

fn walk(root: &Path) -> Result<Vec<PathBuf>, HostError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| HostError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| HostError::io(&dir, e))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let kind = entry.file_type().map_err(|e| HostError::io(&path, e))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every stored record key, by record id (one key normally; more when an earlier layout left
/// copies).
async fn list_records(
    location: &Location,
    store: Option<&S3Store>,
) -> Result<HashMap<String, Vec<String>>, HostError> {
    let keys_found: Vec<String> = match location {
        Location::Dir(root) => {
            if !root.exists() {
                return Ok(HashMap::new());
            }
            walk(root)?
                .into_iter()
                .map(|p| {
                    p.strip_prefix(root)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .replace('\\', "/")
                })
                .collect()
        }
        Location::S3 { bucket, prefix } => {
            let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
            store
                .list(bucket, prefix)
                .await?
                .into_iter()
                .map(|o| o.key)
                .collect()
        }
    };
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for key in keys_found {
        if let Some(id) = keys::id_of_record_key(&key) {
            map.entry(id.to_owned()).or_default().push(key);
        }
    }
    for found in map.values_mut() {
        found.sort();
    }
    Ok(map)
}

async fn read_record(
    location: Option<&Location>,
    store: Option<&S3Store>,
    key: &str,
) -> Result<Vec<u8>, HostError> {
    match location {
        None => Ok(Vec::new()),
        Some(Location::Dir(root)) => {
            let path = root.join(key);
            tokio::fs::read(&path)
                .await
                .map_err(|e| HostError::io(&path, e))
        }
        Some(Location::S3 { bucket, .. }) => {
            let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
            let fetched = store.get_capped(bucket, key, MAX_RECORD_BYTES).await?;
            if fetched.over_cap {
                return Err(HostError::config(format!(
                    "s3://{bucket}/{key} is larger than {MAX_RECORD_BYTES} bytes: not a record"
                )));
            }
            Ok(fetched.bytes)
        }
    }
}

async fn write_record(
    location: &Location,
    store: Option<&S3Store>,
    key: &str,
    bytes: Vec<u8>,
) -> Result<(), HostError> {
    match location {
        Location::Dir(root) => {
            let path = root.join(key);
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| HostError::io(parent, e))?;
            }
            tokio::fs::write(&path, bytes)
                .await
                .map_err(|e| HostError::io(&path, e))
        }
        Location::S3 { bucket, .. } => {
            store
                .ok_or_else(|| HostError::config("no S3 client"))?
                .put_json(bucket, key, bytes)
                .await
        }
    }
}

async fn remove_record(
    location: &Location,
    store: Option<&S3Store>,
    key: &str,
) -> Result<(), HostError> {
    match location {
        Location::Dir(root) => {
            let path = root.join(key);
            tokio::fs::remove_file(&path)
                .await
                .map_err(|e| HostError::io(&path, e))
        }
        Location::S3 { bucket, .. } => {
            store
                .ok_or_else(|| HostError::config("no S3 client"))?
                .delete(bucket, key)
                .await
        }
    }
}
