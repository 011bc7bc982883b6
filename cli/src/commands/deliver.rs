//! `mailex extract --deliver`: each printed record, delivered to the config's sinks.
//!
//! Records are delivered chunk by chunk, after they are printed, with the same code as the
//! Lambda function (`mailex-delivery`). A record's id (which sinks and markers key on) is the
//! SHA-256 of `file:<canonical path>` for a file, and of `message-id:<Message-ID>` for stdin
//! (a stdin mail without Message-ID has no stable id and is not delivered). Delivery markers
//! are files in `--delivery-state DIR` (default `.mailex-delivered/` next to the config), so
//! running the command again sends nothing twice. Without `--deliver` nothing is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use mailex_core::{Engine, Record};
use mailex_delivery::{Deliverer, DeliveryOptions, DirMarkers, SecretSource, Secrets, SinkResult};

/// Delivery options of `mailex extract`.
#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// Deliver every record to the `[[sink]]`s of the config whose filter takes it, once per
    /// sink (docs/delivery.md). Without it nothing is sent.
    #[arg(long)]
    pub deliver: bool,
    /// Where delivery markers are kept (default: `.mailex-delivered/` next to the config).
    #[arg(long, value_name = "DIR", requires = "deliver")]
    pub delivery_state: Option<PathBuf>,
}

/// Records delivered at once.
const CONCURRENCY: usize = 8;

/// Delivery during one `mailex extract` run.
pub struct Delivery {
    runtime: tokio::runtime::Runtime,
    deliverer: Arc<Deliverer>,
    markers: Arc<DirMarkers>,
    queue: Vec<(String, Record)>,
    /// Per sink: (kind, delivered, already delivered, rejected, failed).
    tally: BTreeMap<String, (&'static str, u64, u64, u64, u64)>,
    /// Records that could not be given an id.
    without_id: u64,
}

impl Delivery {
    /// Starts delivery for `engine`'s sinks when `--deliver` is given: secrets from `secrets`
    /// (the Secrets Manager secret of `MAILEX_SECRETS_ARN`, then the environment), AWS from the
    /// SDK's default chain when a sink needs it.
    pub fn start(
        args: &DeliverArgs,
        engine: &Engine,
        secrets: &SecretSource,
    ) -> anyhow::Result<Option<Self>> {
        if !args.deliver {
            return Ok(None);
        }
        let sinks = engine.sinks();
        if sinks.is_empty() {
            anyhow::bail!(
                "{}: --deliver, but the config has no [[sink]] (docs/delivery.md)",
                engine.config_path().display()
            );
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the delivery runtime")?;
        let sdk = mailex_delivery::needs_aws(sinks)
            .then(|| runtime.block_on(mailex_delivery::aws::load_sdk_config()));
        let secrets = Secrets::resolve(sinks, |name| secrets.get(name))?;
        let options = DeliveryOptions {
            aws: sdk,
            aws_endpoint: None,
        };
        let deliverer = {
            // The webhook client registers with the runtime it is built in.
            let _guard = runtime.enter();
            Deliverer::new(sinks, &secrets, &options)?
        };
        let root = args.delivery_state.clone().unwrap_or_else(|| {
            engine
                .config_path()
                .parent()
                .unwrap_or(Path::new("."))
                .join(".mailex-delivered")
        });
        Ok(Some(Delivery {
            runtime,
            deliverer: Arc::new(deliverer),
            markers: Arc::new(DirMarkers::new(root)),
            queue: Vec::new(),
            tally: BTreeMap::new(),
            without_id: 0,
        }))
    }

    /// Queues a printed record for delivery.
    pub fn queue(&mut self, record: Record) {
        match record.id.clone() {
            Some(id) => self.queue.push((id, record)),
            None => {
                if self.deliverer.sinks().any(|s| s.filter.matches(&record)) {
                    self.without_id += 1;
                }
            }
        }
    }

    /// Delivers the queued records.
    pub fn flush(&mut self) {
        let queue = std::mem::take(&mut self.queue);
        let (deliverer, markers) = (Arc::clone(&self.deliverer), Arc::clone(&self.markers));
        let reports = self.runtime.block_on(async move {
            let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            let mut set = tokio::task::JoinSet::new();
            for (id, record) in queue {
                let (deliverer, markers, permits) = (
                    Arc::clone(&deliverer),
                    Arc::clone(&markers),
                    Arc::clone(&permits),
                );
                set.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    deliverer.deliver(&id, &record, markers.as_ref()).await
                });
            }
            let mut reports = Vec::new();
            while let Some(joined) = set.join_next().await {
                reports.extend(joined.ok());
            }
            reports
        });
        for report in reports {
            for outcome in report.outcomes {
                let entry = self
                    .tally
                    .entry(outcome.sink)
                    .or_insert((outcome.kind, 0, 0, 0, 0));
                match outcome.result {
                    SinkResult::Delivered { .. } => entry.1 += 1,
                    SinkResult::AlreadyDelivered => entry.2 += 1,
                    SinkResult::Rejected { .. } => entry.3 += 1,
                    SinkResult::Failed { .. } => entry.4 += 1,
                }
            }
        }
    }

    /// Prints the per-sink summary to stderr; `true` when every record reached every sink that
    /// takes it.
    pub fn finish(mut self) -> bool {
        self.flush();
        let mut complete = self.without_id == 0;
        for (sink, (kind, delivered, already, rejected, failed)) in &self.tally {
            eprintln!(
                "delivery: {sink} ({kind}): {delivered} delivered, {already} already delivered, {rejected} rejected, {failed} failed"
            );
            complete &= *rejected == 0 && *failed == 0;
        }
        if self.without_id > 0 {
            eprintln!(
                "delivery: {} record(s) from stdin without a Message-ID have no stable id and were not delivered",
                self.without_id
            );
        }
        complete
    }
}

/// The stable id of a record of the CLI: the SHA-256 of `file:<canonical path>` for a file, of
/// `message-id:<Message-ID>` for stdin; `None` for a stdin mail without Message-ID (or a file
/// that is gone).
pub fn stable_id(record: &Record) -> Option<String> {
    let source = if record.source == "-" {
        record
            .message_id
            .as_ref()
            .map(|id| format!("message-id:{id}"))
    } else {
        std::fs::canonicalize(&record.source)
            .ok()
            .map(|path| format!("file:{}", path.display()))
    };
    source.map(|s| mailex_delivery::record_id(&s))
}
