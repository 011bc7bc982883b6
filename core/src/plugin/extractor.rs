//! [`PluginExtractor`]: a loaded plugin as a core [`Extractor`], with hot reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::config::PluginLimits;
use crate::extractor::{Completeness, ExtractContext, Extraction, Extractor};
use crate::message::Email;
use crate::plugin::convert;
use crate::plugin::error::{CallFailure, PluginError};
use crate::plugin::host_engine::{LoadedPlugin, PluginHost};
use crate::plugin::state::CallLimits;
use crate::record::{ExtractorInfo, ExtractorKind, Issue, IssueCode};

/// A WASM plugin loaded for one route: implements [`Extractor`].
///
/// Every [`Extractor::extract`] call gets a fresh store and instance (from the plugin's
/// pre-instantiated `InstancePre`), the route's [`CallLimits`], and deny-by-default WASI. A
/// trap, a panic, a deadline or a limit gives a `Failed` extraction whose error names the
/// plugin and the cause; the next call is unaffected.
///
/// Hot reload: when the plugin file changes (checked at most every
/// [`HostConfig::reload_interval`](crate::plugin::HostConfig::reload_interval)), the new
/// file is compiled and swapped in atomically; calls already running finish on the old one.
/// A file that fails to load is reported once and the old plugin stays.
pub struct PluginExtractor {
    host: PluginHost,
    path: PathBuf,
    limits: CallLimits,
    info: ExtractorInfo,
    current: ArcSwap<LoadedPlugin>,
    watch: Mutex<Watch>,
}

struct Watch {
    checked: Instant,
    stamp: Option<FileStamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        modified: meta.modified().ok(),
        len: meta.len(),
    })
}

impl std::fmt::Debug for PluginExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginExtractor")
            .field("path", &self.path)
            .field("limits", &self.limits)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Load the plugin at `path` with a route's limits. The memory cap is clamped to the
    /// host's [`HostConfig::max_memory_mib`](crate::plugin::HostConfig::max_memory_mib).
    pub fn load(&self, path: &Path, limits: &PluginLimits) -> Result<PluginExtractor, PluginError> {
        let stamp_before = stamp(path);
        let loaded = self.load_plugin(path)?;
        let mut limits = CallLimits::from_config(limits);
        let ceiling = self.inner.config.max_memory_mib.saturating_mul(1024 * 1024);
        if limits.memory_bytes > ceiling {
            tracing::warn!(plugin = %loaded.name, "route memory cap is above the host ceiling; using the ceiling");
            limits.memory_bytes = ceiling;
        }
        let info = loaded.info();
        Ok(PluginExtractor {
            host: self.clone(),
            path: path.to_owned(),
            limits,
            info,
            current: ArcSwap::from_pointee(loaded),
            watch: Mutex::new(Watch {
                checked: Instant::now(),
                stamp: stamp_before,
            }),
        })
    }
}

impl PluginExtractor {
    /// The plugin's own name (from its `info` export), as currently loaded.
    pub fn plugin_name(&self) -> String {
        self.current.load().name.clone()
    }

    /// The plugin's own version, as currently loaded.
    pub fn plugin_version(&self) -> String {
        self.current.load().version.clone()
    }

    /// The contract version the plugin reports.
    pub fn contract_version(&self) -> String {
        self.current.load().contract_version.clone()
    }

    /// SHA-256 (hex) of the wasm file currently loaded.
    pub fn sha256(&self) -> String {
        hex::encode(self.current.load().sha256)
    }

    /// Whether the loaded code came from the `.cwasm` cache (rather than a fresh compile).
    pub fn from_cache(&self) -> bool {
        self.current.load().source == crate::plugin::CompileSource::Cache
    }

    /// The per-call limits in force.
    pub fn limits(&self) -> CallLimits {
        self.limits
    }

    /// The plugin file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reload the plugin now if its file changed since the last load. Returns whether a new
    /// plugin was swapped in. Calls in flight keep the plugin they started with.
    pub fn reload_if_changed(&self) -> Result<bool, PluginError> {
        let mut watch = self.watch.lock();
        self.reload_locked(&mut watch)
    }

    fn reload_locked(&self, watch: &mut Watch) -> Result<bool, PluginError> {
        watch.checked = Instant::now();
        let now = stamp(&self.path);
        if now == watch.stamp {
            return Ok(false);
        }
        watch.stamp = now;
        let loaded = self.host.load_plugin(&self.path)?;
        if loaded.sha256 == self.current.load().sha256 {
            return Ok(false);
        }
        tracing::info!(plugin = %loaded.name, version = %loaded.version, "plugin file changed; new version swapped in");
        self.current.store(Arc::new(loaded));
        Ok(true)
    }

    /// The hot-reload check on the call path: cheap, never blocks on another thread's reload.
    fn maybe_reload(&self) {
        let Some(interval) = self.host.inner.config.reload_interval else {
            return;
        };
        let Some(mut watch) = self.watch.try_lock() else {
            return;
        };
        if watch.checked.elapsed() < interval {
            return;
        }
        if let Err(e) = self.reload_locked(&mut watch) {
            tracing::warn!(path = %self.path.display(), error = %e, "changed plugin file did not load; keeping the previous version");
        }
    }

    /// Run the plugin on `email` and return the raw outcome (fields or failure), for tools
    /// and tests that want more than an [`Extraction`].
    pub fn run(
        &self,
        email: &Email<'_>,
        settings: &std::collections::BTreeMap<String, String>,
    ) -> RunReport {
        self.maybe_reload();
        let plugin = self.current.load_full();
        let outcome = self
            .host
            .call_extract(&plugin, email, settings, self.limits);
        let failure = outcome.result.as_ref().err().cloned();
        let mut extraction = to_extraction(&plugin, outcome.result, outcome.log_dropped);
        extraction.peak_memory_bytes = Some(outcome.memory_peak);
        extraction.warnings.extend(outcome.html_trimmed.warnings());
        RunReport {
            plugin: plugin.name.clone(),
            version: plugin.version.clone(),
            failure,
            extraction,
            elapsed: outcome.elapsed,
            memory_peak_bytes: outcome.memory_peak,
            log_lines: outcome.log_lines,
        }
    }
}

impl LoadedPlugin {
    /// What a record says of this artefact: its own name and version, and the SHA-256 of
    /// the file that was loaded.
    fn info(&self) -> ExtractorInfo {
        ExtractorInfo {
            kind: ExtractorKind::Plugin,
            name: self.name.clone(),
            version: Some(self.version.clone()),
            hash: Some(hex::encode(self.sha256)),
            profile: None,
        }
    }
}

/// One plugin call, with its accounting (for `--stats`, tests and benchmarks).
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The plugin's name.
    pub plugin: String,
    /// The plugin's version.
    pub version: String,
    /// The extraction, as the engine would record it.
    pub extraction: Extraction,
    /// Why the call failed, if it did.
    pub failure: Option<CallFailure>,
    /// Wall-clock time of the call (instantiation included).
    pub elapsed: std::time::Duration,
    /// Peak memory of the call, in bytes: the instance's linear memory together with what the
    /// host held for it (the HTML document, host-call arguments and results).
    pub memory_peak_bytes: u64,
    /// Log lines the plugin wrote (kept ones).
    pub log_lines: u32,
}

fn to_extraction(
    plugin: &LoadedPlugin,
    result: Result<Vec<crate::plugin::bindings::types::Field>, CallFailure>,
    log_dropped: u64,
) -> Extraction {
    let mut extraction = match result {
        Err(failure) => {
            let issue = Issue::new(
                failure.code(),
                format!("plugin `{}`: {failure}", plugin.name),
            );
            Extraction::failed(issue)
        }
        Ok(fields) => {
            let mut extraction = Extraction::new();
            let returned = fields.len();
            for field in fields {
                let sensitive = convert::is_sensitive(&field.name, &field.value);
                let value = match convert::field_value(field.value) {
                    Ok(value) => value,
                    Err(why) => {
                        // As a rule file treats a value its type rejects: the field is missing.
                        extraction.completeness = Completeness::Partial;
                        extraction.errors.push(Issue::for_field(
                            IssueCode::InvalidValue,
                            field.name.clone(),
                            format!(
                                "plugin `{}`: field `{}` is not a valid value of its type: {why}",
                                plugin.name, field.name
                            ),
                        ));
                        continue;
                    }
                };
                if sensitive && !extraction.sensitive.contains(&field.name) {
                    extraction.sensitive.push(field.name.clone());
                }
                extraction
                    .provenance
                    .insert(field.name.clone(), format!("plugin {}", plugin.name));
                extraction.fields.insert(field.name, value);
            }
            if returned == 0 {
                extraction.completeness = Completeness::Partial;
                extraction.errors.push(Issue::new(
                    IssueCode::PluginNoFields,
                    format!("plugin `{}` returned no fields", plugin.name),
                ));
            }
            extraction
        }
    };
    if log_dropped > 0 {
        extraction.warnings.push(Issue::new(
            IssueCode::PluginLogTruncated,
            format!(
                "plugin `{}` wrote {log_dropped} log lines past its cap; they were dropped",
                plugin.name
            ),
        ));
    }
    extraction.ran = Some(plugin.info());
    extraction
}

impl Extractor for PluginExtractor {
    fn info(&self) -> &ExtractorInfo {
        &self.info
    }

    fn extract(&self, email: &Email<'_>, ctx: &ExtractContext<'_>) -> Extraction {
        self.run(email, ctx.settings).extraction
    }
}
