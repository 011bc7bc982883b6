//! Replay: re-run extraction over stored raw mail after a rule or plugin change, and say what
//! changed per advertiser.
//!
//! Inputs are a local folder (every file, recursively) or an S3 bucket and prefix. Existing
//! records (a folder or an S3 prefix, laid out as the Lambda writes them) are the baseline:
//! each new record is compared with the old record of the same id (status, advertiser,
//! fields). With `write`, new records replace old ones at their (possibly new) keys, and an old
//! record whose partition changed is removed, so every input keeps exactly one record.
//!
//! Record ids match the Lambda's: an S3 object's id is [`crate::object_id`], so replaying the
//! inbound prefix over the output prefix updates the very records the function wrote.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use crate::bridge;
use crate::error::HostError;
use crate::keys;
use crate::store::S3Store;

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
}

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The `mailex.toml` to extract with.
    pub config: PathBuf,
    /// Stored raw mail.
    pub input: Location,
    /// Existing records: the baseline, and where new records go with `write`.
    pub records: Option<Location>,
    /// Write the new records (and remove superseded ones); otherwise only compare.
    pub write: bool,
    /// Mails processed at once.
    pub concurrency: usize,
    /// Show progress on stderr (a bar on a terminal, a line per 10% otherwise).
    pub progress: bool,
}

/// Changes for one advertiser (the advertiser of the new record; `_none` when unmatched).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvertiserChanges {
    /// Records produced for this advertiser.
    pub total: u64,
    /// Inputs that had no record before.
    pub new: u64,
    /// Same status and same fields as before.
    pub unchanged: u64,
    /// The status changed (same advertiser).
    pub status_changed: u64,
    /// Same status, different fields.
    pub fields_changed: u64,
    /// Records that belonged to another advertiser before.
    pub moved_in: u64,
    /// Records of this advertiser that now belong to another one.
    pub moved_out: u64,
    /// New records per status.
    pub by_status: BTreeMap<String, u64>,
}

/// The result of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Inputs found.
    pub inputs: u64,
    /// Inputs that could not be read or whose record could not be written (listed in `errors`).
    pub io_failures: u64,
    /// Records written.
    pub written: u64,
    /// Superseded records removed.
    pub removed: u64,
    /// Per advertiser.
    pub per_advertiser: BTreeMap<String, AdvertiserChanges>,
    /// One line per I/O failure (source and error; no mail content).
    pub errors: Vec<String>,
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
            "{:<28} {:>7} {:>6} {:>9} {:>7} {:>7} {:>8} {:>9}  statuses",
            "advertiser", "total", "new", "unchanged", "status", "fields", "moved-in", "moved-out"
        )?;
        for (name, c) in &self.per_advertiser {
            let statuses: Vec<String> = c
                .by_status
                .iter()
                .map(|(s, n)| format!("{s}={n}"))
                .collect();
            writeln!(
                f,
                "{:<28} {:>7} {:>6} {:>9} {:>7} {:>7} {:>8} {:>9}  {}",
                name,
                c.total,
                c.new,
                c.unchanged,
                c.status_changed,
                c.fields_changed,
                c.moved_in,
                c.moved_out,
                statuses.join(" ")
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
    modified: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct OldRecord {
    key: String,
    status: String,
    advertiser: String,
}

enum Change {
    New,
    Unchanged,
    Status,
    Fields,
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
    let config = options.config.clone();
    let engine = tokio::task::spawn_blocking(move || bridge::load_engine(&config))
        .await
        .map_err(|e| HostError::config(format!("config loading panicked: {e}")))?
        .map_err(HostError::config)?;
    let engine = Arc::new(engine);
    let inputs = list_inputs(&options.input, store.as_ref()).await?;
    let baseline = match &options.records {
        Some(location) => list_records(location, store.as_ref()).await?,
        None => HashMap::new(),
    };
    let mut summary = ReplaySummary {
        inputs: inputs.len() as u64,
        ..ReplaySummary::default()
    };
    let total = inputs.len() as u64;
    let done = Arc::new(AtomicU64::new(0));
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let options = Arc::new(options);
    let baseline = Arc::new(baseline);
    let terminal = options.progress && std::io::stderr().is_terminal();
    let mut set = tokio::task::JoinSet::new();
    for item in inputs {
        let (engine, store, options, baseline, semaphore, done) = (
            Arc::clone(&engine),
            store.clone(),
            Arc::clone(&options),
            Arc::clone(&baseline),
            Arc::clone(&semaphore),
            Arc::clone(&done),
        );
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let result = replay_one(&engine, store.as_ref(), &options, &baseline, &item).await;
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if options.progress {
                show_progress(n, total, terminal);
            }
            (item.source, result)
        });
    }
    while let Some(joined) = set.join_next().await {
        let (source, result) = match joined {
            Ok(pair) => pair,
            Err(e) => (
                "?".to_owned(),
                Err(HostError::event(format!("replay task died: {e}"))),
            ),
        };
        match result {
            Err(e) => {
                summary.io_failures += 1;
                summary.errors.push(format!("{source}: {e}"));
            }
            Ok(done) => {
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
                    Change::Moved { from } => {
                        entry.moved_in += 1;
                        summary.per_advertiser.entry(from).or_default().moved_out += 1;
                    }
                }
                summary.written += u64::from(done.written);
                summary.removed += u64::from(done.removed);
            }
        }
    }
    if terminal {
        eprintln!();
    }
    summary.errors.sort();
    Ok(summary)
}

fn show_progress(n: u64, total: u64, terminal: bool) {
    if terminal {
        let width = 30u64;
        let filled = (n * width).checked_div(total).unwrap_or(width) as usize;
        eprint!(
            "\r[{}{}] {n}/{total}",
            "=".repeat(filled),
            " ".repeat(width as usize - filled)
        );
    } else {
        let step = (total / 10).max(1);
        if n.is_multiple_of(step) || n == total {
            eprintln!("replay: {n}/{total}");
        }
    }
}

struct Done {
    advertiser: String,
    status: String,
    change: Change,
    written: bool,
    removed: bool,
}

async fn replay_one(
    engine: &Arc<mailex_core::Engine>,
    store: Option<&S3Store>,
    options: &ReplayOptions,
    baseline: &HashMap<String, OldRecord>,
    item: &InputItem,
) -> Result<Done, HostError> {
    let cap = bridge::max_input_bytes(engine);
    let (raw, size) = match &options.input {
        Location::Dir(_) => read_capped(Path::new(&item.locator), cap).await?,
        Location::S3 { bucket, .. } => {
            let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
            let fetched = store.get_capped(bucket, &item.locator, cap).await?;
            (fetched.bytes, fetched.size)
        }
    };
    let (worker, source) = (Arc::clone(engine), item.source.clone());
    let mut record =
        tokio::task::spawn_blocking(move || bridge::run(&worker, &raw, source, None, None))
            .await
            .unwrap_or_else(|_| bridge::crashed_record(item.source.clone(), size));
    record.input_bytes = size;
    let (status, advertiser, _) = bridge::summary(&record);
    let advertiser_part = keys::partition_value(advertiser);
    let status = status.to_owned();
    let day = record
        .received_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .or(item.modified)
        .unwrap_or_else(Utc::now);
    let new_json =
        serde_json::to_value(&record).map_err(|e| HostError::event(format!("record: {e}")))?;
    let old = baseline.get(&item.id);
    let change = match old {
        None => Change::New,
        Some(old) if old.advertiser != advertiser_part => Change::Moved {
            from: old.advertiser.clone(),
        },
        Some(old) if old.status != status => Change::Status,
        Some(old) => {
            let old_json = read_record(options.records.as_ref(), store, &old.key).await?;
            if old_json.get("fields") == new_json.get("fields") {
                Change::Unchanged
            } else {
                Change::Fields
            }
        }
    };
    let mut written = false;
    let mut removed = false;
    if options.write
        && let Some(records) = &options.records
    {
        let prefix = match records {
            Location::Dir(_) => String::new(),
            Location::S3 { prefix, .. } => prefix.clone(),
        };
        let key = keys::record_key(&prefix, &status, advertiser, day, &item.id);
        let bytes =
            serde_json::to_vec(&new_json).map_err(|e| HostError::event(format!("record: {e}")))?;
        write_record(records, store, &key, bytes).await?;
        written = true;
        if let Some(old) = old
            && old.key != key
        {
            remove_record(records, store, &old.key).await?;
            removed = true;
        }
    }
    Ok(Done {
        advertiser: advertiser_part,
        status,
        change,
        written,
        removed,
    })
}

async fn read_capped(path: &Path, cap: u64) -> Result<(Vec<u8>, u64), HostError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| HostError::io(path, e))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| HostError::io(path, e))?
        .len();
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| HostError::io(path, e))?;
    Ok((bytes, size))
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
                let modified = std::fs::metadata(&path)
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .map(DateTime::<Utc>::from);
                items.push(InputItem {
                    id: keys::file_id(&relative),
                    source: path.display().to_string(),
                    locator: path.display().to_string(),
                    modified,
                });
            }
        }
        Location::S3 { bucket, prefix } => {
            let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
            for object in store.list(bucket, prefix).await? {
                if object.key.ends_with('/') || crate::event::is_setup_object(&object.key) {
                    continue;
                }
                items.push(InputItem {
                    id: keys::object_id(bucket, &object.key),
                    source: format!("s3://{bucket}/{}", object.key),
                    modified: object
                        .last_modified
                        .and_then(|s| DateTime::from_timestamp(s, 0)),
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

async fn list_records(
    location: &Location,
    store: Option<&S3Store>,
) -> Result<HashMap<String, OldRecord>, HostError> {
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
    let mut map = HashMap::new();
    for key in keys_found {
        if let Some(parts) = keys::parse_record_key(&key) {
            map.insert(
                parts.id,
                OldRecord {
                    key,
                    status: parts.status,
                    advertiser: parts.advertiser,
                },
            );
        }
    }
    Ok(map)
}

async fn read_record(
    location: Option<&Location>,
    store: Option<&S3Store>,
    key: &str,
) -> Result<Value, HostError> {
    let bytes = match location {
        None => return Ok(Value::Null),
        Some(Location::Dir(root)) => {
            let path = root.join(key);
            tokio::fs::read(&path)
                .await
                .map_err(|e| HostError::io(&path, e))?
        }
        Some(Location::S3 { bucket, .. }) => {
            let store = store.ok_or_else(|| HostError::config("no S3 client"))?;
            store.get_capped(bucket, key, 64 * 1024 * 1024).await?.bytes
        }
    };
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
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
