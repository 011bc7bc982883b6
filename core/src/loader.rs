//! Turns a route's `extractor = "..."` value into a loaded [`Extractor`].
//!
//! - `builtin:NAME`: an extractor compiled into mailex ([`crate::builtin`]);
//! - `*.rules`: a rule file in the mailex DSL ([`crate::rules`]), compiled once at load;
//! - `*.wasm`: a WebAssembly component plugin ([`crate::plugin`]), precompiled and cached
//!   (named by its path alone: `plugin:PATH` is refused with a hint to drop the prefix).
//!
//! Relative paths are resolved against the directory of `mailex.toml`. A rule file's extractor
//! name in records is its path as configured (`rules/zillow.rules`), and its `test` blocks are
//! not compiled here (see [`crate::rules::TestBlocks`]).

use std::path::Path;
use std::sync::Arc;

use crate::config::RouteLimits;
use crate::extractor::Extractor;
#[cfg(feature = "plugins")]
use crate::plugin::LazyPluginHost;

/// What loading a configuration takes besides its files: where plugins run.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The plugin host `*.wasm` routes load into, created when the first plugin route loads
    /// (a config without plugins never creates one) and shared by every load given a clone of
    /// it (the Lambda host swaps configs in one process). The default has no compile cache
    /// on disk; binaries set one from their environment
    /// ([`crate::plugin::cache_dir_from_env`]): core reads no environment.
    #[cfg(feature = "plugins")]
    pub plugins: LazyPluginHost,
}

/// Why an extractor did not load.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    /// One line, reported at the route's `extractor` value.
    pub message: String,
    /// A full report (e.g. a rule file's rustc-style diagnostics), printed after it.
    pub report: Option<String>,
}

impl LoadFailure {
    fn message(message: impl Into<String>) -> Self {
        LoadFailure {
            message: message.into(),
            report: None,
        }
    }
}

/// What is wrong with a route's `[route.limits]` for the extractor `spec` (one message per
/// problem): rule files take `deadline_ms` and `memory_mib`, plugins every key, built-ins none.
pub fn check_limits(spec: &str, limits: &RouteLimits) -> Vec<String> {
    if spec.ends_with(".wasm") {
        return Vec::new();
    }
    if spec.ends_with(".rules") {
        return limits
            .plugin_only_keys()
            .into_iter()
            .map(|key| {
                format!("`{key}` applies to plugin routes only; a rule-file route takes `deadline_ms` and `memory_mib`")
            })
            .collect();
    }
    vec![format!(
        "`[route.limits]` applies to plugin (`*.wasm`) and rule-file (`*.rules`) routes, not to `{spec}`"
    )]
}

/// Loads the extractor named by `spec`, with the route's limits.
pub(crate) fn load_extractor(
    spec: &str,
    base_dir: &Path,
    limits: &RouteLimits,
    options: &LoadOptions,
) -> Result<Arc<dyn Extractor>, LoadFailure> {
    if let Some(name) = spec.strip_prefix("builtin:") {
        return crate::builtin::resolve(name).ok_or_else(|| {
            LoadFailure::message(format!(
                "unknown built-in extractor `{spec}`; built-ins are: {}",
                crate::builtin::NAMES.join(", ")
            ))
        });
    }
    if let Some(path) = spec.strip_prefix("plugin:") {
        return Err(LoadFailure::message(format!(
            "unknown extractor `{spec}`: a plugin is named by its path alone, without a prefix: \
             `extractor = \"{path}\"`"
        )));
    }
    let path = base_dir.join(spec);
    if spec.ends_with(".rules") {
        // Extraction never runs `test` blocks: their fixtures need not exist here (a deployed
        // copy of the rule files has none); `mailex check` and `mailex test` check them.
        return crate::rules::load_rule_file_with(&path, crate::rules::TestBlocks::Skip)
            .map(|rules| {
                Arc::new(rules.named(spec).with_limits(limits.for_rules())) as Arc<dyn Extractor>
            })
            .map_err(|e| LoadFailure {
                message: format!("rule file `{spec}` does not compile: {e}"),
                report: Some(e.rendered()),
            });
    }
    if spec.ends_with(".wasm") {
        return load_plugin(spec, &path, limits, options);
    }
    Err(LoadFailure::message(format!(
        "unknown extractor `{spec}`: expected `builtin:NAME`, a rule file (`*.rules`) or a plugin (`*.wasm`)"
    )))
}

#[cfg(feature = "plugins")]
fn load_plugin(
    spec: &str,
    path: &Path,
    limits: &RouteLimits,
    options: &LoadOptions,
) -> Result<Arc<dyn Extractor>, LoadFailure> {
    options
        .plugins
        .get()
        .and_then(|host| crate::plugin::load_extractor(host, path, &limits.for_plugin()))
        .map_err(|e| LoadFailure::message(format!("plugin `{spec}` does not load: {e}")))
}

#[cfg(not(feature = "plugins"))]
fn load_plugin(
    spec: &str,
    _path: &Path,
    _limits: &RouteLimits,
    _options: &LoadOptions,
) -> Result<Arc<dyn Extractor>, LoadFailure> {
    Err(LoadFailure::message(format!(
        "plugin `{spec}` cannot load: this build of mailex-core has no plugin host (cargo feature `plugins`)"
    )))
}
