//! WebAssembly extractor plugins: the sandboxed host side of the `mailex:extractor` contract.
//!
//! A plugin is a component (`wasm32-wasip2`) built against `plugins/wit/extractor.wit`,
//! usually with the `mailex-plugin-sdk` crate. The host:
//!
//! - keeps one [`PluginHost`]: a wasmtime `Engine` with the pooling allocator and epoch
//!   interruption, a `Linker` with deny-by-default WASI and the contract's imports, and a
//!   thread that advances the epoch;
//! - loads each plugin once ([`PluginHost::load`] → [`PluginExtractor`]): checks that the file
//!   is a component of a known contract major version, compiles it or takes it from the
//!   `.cwasm` cache (keyed by the wasm's SHA-256 and the engine's compatibility hash; only
//!   artefacts mailex wrote are deserialized), pre-instantiates it and calls `info`;
//! - runs every email in a fresh `Store` with the route's [`CallLimits`] (deadline, memory,
//!   output, log lines), after waiting for one of the pool's instance slots; the deadline and
//!   the memory cap are one [`crate::budget::Budget`] that the plugin's code (epoch
//!   interruption, the memory limiter) and every host call draw from; traps, panics and limits
//!   become `failed` extractions that name the plugin and the cause ([`CallFailure`]), kept
//!   apart from the plugin's own errors; panic messages, error text and log lines are
//!   redacted ([`crate::redact`]) and returned values validated by the rule types'
//!   normalisers;
//! - swaps in a changed plugin file atomically (hot reload).
//!
//! Host primitives (regex, CSS, meta, ADF paths, normalisers) call the same functions as
//! the rule DSL; see `host/`, one file per WIT interface.
//!
//! ```no_run
//! use mailex_core::plugin::{HostConfig, PluginHost};
//! use mailex_core::{Email, Extractor, ExtractContext, PluginLimits};
//!
//! let host = PluginHost::new(HostConfig::default())?;
//! let plugin = host.load("target/plugins/facebook_zapier.wasm".as_ref(), &PluginLimits::default())?;
//! let raw = std::fs::read("tests/fixtures/leads/zapiermail.eml").expect("fixture");
//! let email = Email::parse(&raw).expect("an email");
//! let settings = Default::default();
//! let extraction = plugin.extract(&email, &ExtractContext { route: "facebook", settings: &settings });
//! println!("{} fields", extraction.fields.len());
//! # Ok::<(), mailex_core::plugin::PluginError>(())
//! ```

mod bindings;
mod cache;
mod convert;
mod error;
mod extractor;
mod host;
mod host_engine;
mod state;

pub use self::cache::CompileSource;
pub use self::error::{CallFailure, PluginError};
pub use self::extractor::{PluginExtractor, RunReport};
pub use self::host_engine::{HostConfig, LazyPluginHost, PluginHost, cache_dir_from_env};
pub use self::state::CallLimits;

/// The contract version this host implements (`mailex:extractor@1.2.0`). Plugins built for
/// any 1.x version load: minor versions only add imports, and wasmtime resolves a plugin's
/// `@1.0.0` and `@1.1.0` imports and exports to the host's `@1.2.0` ones.
pub const CONTRACT_VERSION: &str = "1.2.0";

/// Load a plugin into `host` as a shared [`crate::Extractor`]: what the config loader does
/// for an `extractor = "path/to/plugin.wasm"` route.
pub fn load_extractor(
    host: &PluginHost,
    path: &std::path::Path,
    limits: &crate::PluginLimits,
) -> Result<std::sync::Arc<dyn crate::Extractor>, PluginError> {
    Ok(std::sync::Arc::new(host.load(path, limits)?))
}
