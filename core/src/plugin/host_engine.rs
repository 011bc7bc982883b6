//! The plugin host: one wasmtime [`Engine`] (pooling allocator, epoch interruption), one
//! [`Linker`] with WASI and the contract's imports, and the code that loads a plugin and
//! runs one call in a fresh [`Store`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
};

use crate::budget::{Budget, Exceeded};
use crate::message::Email;
use crate::plugin::bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION, Plugin, PluginPre, types};
use crate::plugin::cache::{AotCache, CompileSource, first_line};
use crate::plugin::error::{CallFailure, PluginError, truncate};
use crate::plugin::state::{CallDocument, CallInput, CallLimits, HostState, with_call_document};
use crate::textops::RegexCache;

/// Settings of the plugin host (the process-wide part; per-route limits are [`CallLimits`]).
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Directory for compiled `.cwasm` artefacts; `None` compiles in memory at every load.
    pub cache_dir: Option<PathBuf>,
    /// Instances that can run at the same time (slots of the pooling allocator). A call
    /// beyond them waits for a slot to free up (back-pressure); the wait does not count
    /// against its deadline.
    pub max_instances: u32,
    /// Ceiling for any route's memory cap, in MiB (the pool reserves slots this large).
    pub max_memory_mib: u64,
    /// How often the epoch advances; deadlines are rounded up to whole ticks.
    pub epoch_tick: Duration,
    /// How often a plugin file is checked for changes (hot reload); `None` never checks.
    pub reload_interval: Option<Duration>,
    /// Most wasm stack a call may use, in bytes (runaway recursion traps past it).
    pub max_wasm_stack: usize,
}

impl Default for HostConfig {
    /// No compile cache on disk (every load compiles in memory), 64 instances of at most
    /// 256 MiB, a 5 ms epoch, hot reload checked every second, 512 KiB of wasm stack. Nothing
    /// here comes from the environment: the binaries choose the cache directory
    /// ([`cache_dir_from_env`]).
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            max_instances: 64,
            max_memory_mib: 256,
            epoch_tick: Duration::from_millis(5),
            reload_interval: Some(Duration::from_secs(1)),
            max_wasm_stack: 512 * 1024,
        }
    }
}

/// The compile cache directory the binaries use, from the environment variables `var` reads:
/// `MAILEX_PLUGIN_CACHE`, else `XDG_CACHE_HOME/mailex/plugins`, else
/// `HOME/.cache/mailex/plugins`, else none. Core never reads the environment itself: a binary
/// passes `std::env::var_os`, a test a map.
///
/// ```
/// use std::ffi::OsString;
/// let env = |name: &str| (name == "HOME").then(|| OsString::from("/home/ada"));
/// assert_eq!(
///     mailex_core::plugin::cache_dir_from_env(env),
///     Some("/home/ada/.cache/mailex/plugins".into())
/// );
/// ```
pub fn cache_dir_from_env(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = var("MAILEX_PLUGIN_CACHE") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("mailex").join("plugins"));
    }
    var("HOME").map(|h| {
        PathBuf::from(h)
            .join(".cache")
            .join("mailex")
            .join("plugins")
    })
}

/// A [`PluginHost`] created on first use and shared by every clone: what
/// [`crate::LoadOptions`] carries, so loading a config without plugin routes never starts
/// wasmtime, and reloading one reuses the host.
#[derive(Clone, Default)]
pub struct LazyPluginHost {
    config: HostConfig,
    host: Arc<std::sync::OnceLock<PluginHost>>,
    /// Held while a host is created, so threads that load plugins at once create one.
    creating: Arc<parking_lot::Mutex<()>>,
}

impl std::fmt::Debug for LazyPluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyPluginHost")
            .field("config", &self.config)
            .field("created", &self.host.get().is_some())
            .finish()
    }
}

impl LazyPluginHost {
    /// A host with `config`, not created yet.
    pub fn new(config: HostConfig) -> Self {
        LazyPluginHost {
            config,
            host: Arc::default(),
            creating: Arc::default(),
        }
    }

    /// The host, created now if it was not (a failure is returned, not kept: the next call
    /// tries again). Threads that ask at once wait for the one that creates it.
    pub fn get(&self) -> Result<&PluginHost, PluginError> {
        if let Some(host) = self.host.get() {
            return Ok(host);
        }
        let _creating = self.creating.lock();
        if let Some(host) = self.host.get() {
            return Ok(host);
        }
        let host = PluginHost::new(self.config.clone())?;
        Ok(self.host.get_or_init(|| host))
    }
}

/// The plugin host. Cheap to clone (all clones share one engine, linker and caches).
///
/// ```no_run
/// use mailex_core::plugin::{HostConfig, PluginHost};
/// use mailex_core::PluginLimits;
///
/// let host = PluginHost::new(HostConfig::default())?;
/// let plugin = host.load("target/plugins/zillow_rentals.wasm".as_ref(), &PluginLimits::default())?;
/// println!("loaded {} {}", plugin.plugin_name(), plugin.plugin_version());
/// # Ok::<(), mailex_core::plugin::PluginError>(())
/// ```
#[derive(Clone)]
pub struct PluginHost {
    pub(crate) inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    linker: Linker<HostState>,
    regex: RegexCache,
    cache: AotCache,
    slots: InstanceSlots,
    pub(crate) config: HostConfig,
}

/// The instance slots of the pool as a counting semaphore (as in wasmtime's
/// `fast_instantiation` example): a call takes a slot before it instantiates and gives it back
/// when its store is gone, so calls beyond the pool wait instead of failing.
struct InstanceSlots {
    free: parking_lot::Mutex<u32>,
    freed: parking_lot::Condvar,
}

impl InstanceSlots {
    fn new(slots: u32) -> Self {
        InstanceSlots {
            free: parking_lot::Mutex::new(slots),
            freed: parking_lot::Condvar::new(),
        }
    }

    /// Waits for a free slot and takes it.
    fn acquire(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock();
        while *free == 0 {
            self.freed.wait(&mut free);
        }
        *free -= 1;
        SlotGuard { slots: self }
    }
}

/// A taken slot; dropping it (after the call's store) gives it back.
struct SlotGuard<'s> {
    slots: &'s InstanceSlots,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.slots.free.lock() += 1;
        self.slots.freed.notify_one();
    }
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Bytes of each linear memory the pooling allocator resets in place (back to the module's
/// initial image, as wasmtime always does) instead of handing them back to the kernel, when a
/// call's instance is freed. Every call starts on a fresh instance, so without this each call
/// pays `madvise` and page faults again for the ~1 MiB an example plugin touches. Where the
/// kernel offers `PAGEMAP_SCAN` (Linux 6.7+) only the pages the call wrote are reset.
const MEMORY_KEEP_RESIDENT: usize = 2 * 1024 * 1024;
/// The same for each table (a few KiB in a plugin).
const TABLE_KEEP_RESIDENT: usize = 64 * 1024;

impl PluginHost {
    /// Create the engine, the linker and the epoch ticker.
    pub fn new(config: HostConfig) -> Result<Self, PluginError> {
        let engine_err = |e: wasmtime::Error| PluginError::Engine(first_line(&e));
        let mut pool = PoolingAllocationConfig::default();
        let slots = config.max_instances.max(1);
        let memory_bytes =
            usize::try_from(config.max_memory_mib.max(1).saturating_mul(1024 * 1024))
                .unwrap_or(usize::MAX);
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(8))
            .total_memories(slots.saturating_mul(2))
            .total_tables(slots.saturating_mul(8))
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(16)
            .max_memory_size(memory_bytes)
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
            .table_keep_resident(TABLE_KEEP_RESIDENT)
            .pagemap_scan(Enabled::Auto);
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(config.max_wasm_stack)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(engine_err)?;

        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_err)?;
        Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(engine_err)?;

        start_epoch_ticker(&engine, config.epoch_tick);
        warm_up_primitives();
        let cache = AotCache::new(&engine, config.cache_dir.clone());
        Ok(PluginHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                regex: RegexCache::new(),
                cache,
                slots: InstanceSlots::new(slots),
                config,
            }),
        })
    }

    /// Compile `wasm_path` into the cache without loading it (what `mailex plugin build`
    /// does); returns the artefact path, if a cache directory is set.
    pub fn precompile(&self, wasm_path: &Path) -> Result<Option<PathBuf>, PluginError> {
        let loaded = self.load_plugin(wasm_path)?;
        Ok(self.inner.cache.artefact_path(&loaded.sha256))
    }

    /// Read, validate, compile (or fetch from the cache) and pre-instantiate a plugin, and
    /// call its `info` export once.
    pub(crate) fn load_plugin(&self, path: &Path) -> Result<LoadedPlugin, PluginError> {
        let started = Instant::now();
        let wasm = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.to_owned(),
            source,
        })?;
        check_is_component(path, &wasm)?;
        let sha256: [u8; 32] = Sha256::digest(&wasm).into();
        let (component, source) =
            self.inner
                .cache
                .component(&self.inner.engine, &wasm, &sha256, path)?;
        let imports = check_contract(&self.inner.engine, &component, path)?;
        let pre =
            self.inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| PluginError::Wasmtime {
                    path: path.to_owned(),
                    stage: "link",
                    message: first_line(&e),
                })?;
        let pre = PluginPre::new(pre).map_err(|e| PluginError::Wasmtime {
            path: path.to_owned(),
            stage: "link",
            message: first_line(&e),
        })?;
        let mut loaded = LoadedPlugin {
            pre,
            name: String::new(),
            version: String::new(),
            contract_version: String::new(),
            sha256,
            imports,
            source,
            load_time: Duration::ZERO,
        };
        let info = self
            .call_info(&loaded)
            .map_err(|failure| PluginError::Wasmtime {
                path: path.to_owned(),
                stage: "call info",
                message: failure.to_string(),
            })?;
        let (major, _, _) = CONTRACT_VERSION;
        if parse_major(&info.contract_version) != Some(major) {
            return Err(contract_mismatch(path, &info.contract_version));
        }
        loaded.name = truncate(&info.name, 100);
        loaded.version = truncate(&info.version, 50);
        loaded.contract_version = info.contract_version;
        loaded.load_time = started.elapsed();
        tracing::debug!(plugin = %loaded.name, source = ?loaded.source, ms = loaded.load_time.as_millis() as u64, "plugin loaded");
        Ok(loaded)
    }

    /// A fresh store for one call: the call's budget (which started at `budget`'s creation)
    /// and an epoch deadline for the time it has left.
    fn new_store(
        &self,
        plugin: &str,
        limits: CallLimits,
        budget: Budget,
        input: CallInput,
    ) -> Store<HostState> {
        let remaining = budget.remaining_time();
        let state = HostState::new(plugin, limits, budget, self.inner.regex.clone(), input);
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        let tick = self.inner.config.epoch_tick.as_nanos().max(1);
        let ticks = remaining.as_nanos().div_ceil(tick).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        store
    }

    fn call_info(&self, plugin: &LoadedPlugin) -> Result<types::PluginInfo, CallFailure> {
        // `info` runs once, at load, where a slow start is no emergency: a generous deadline.
        let limits = CallLimits {
            deadline: Duration::from_secs(5),
            ..CallLimits::default()
        };
        let _slot = self.inner.slots.acquire();
        let mut store = self.new_store("(loading)", limits, limits.budget(), CallInput::default());
        let instance = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| instantiate_failure(&e, &store, limits))?;
        instance
            .mailex_extractor_extractor()
            .call_info(&mut store)
            .map_err(|e| classify_trap(&e, &store, limits))
    }

    /// Run `extract` on `email` in a fresh store and instance.
    ///
    /// The call first waits for an instance slot (back-pressure; the wait counts against
    /// nothing). Its budget starts when it has the slot: converting the email into the
    /// contract's message (and rendering its text view if nobody has), preparing what the
    /// plugin imports (the ADF document, attachment copies, the HTML for CSS), copying the
    /// message into the instance, the plugin's own code and every host call it makes all draw
    /// from the route's deadline and memory cap.
    pub(crate) fn call_extract(
        &self,
        plugin: &LoadedPlugin,
        email: &Email<'_>,
        settings: &std::collections::BTreeMap<String, String>,
        limits: CallLimits,
    ) -> CallOutcome {
        let config = crate::plugin::convert::config(settings);
        let _slot = self.inner.slots.acquire();
        let started = Instant::now();
        let budget = limits.budget();
        let prepared = crate::plugin::convert::message_within(email, &budget).and_then(|message| {
            let (input, document) = prepare_input(plugin, email, &budget)?;
            Ok((message, input, document))
        });
        let (message, input, document) = match prepared {
            Ok(prepared) => prepared,
            Err(spent) => {
                return CallOutcome {
                    result: Err(budget_failure(spent, limits, Some("(preparing the call)"))),
                    log_lines: 0,
                    log_dropped: 0,
                    memory_peak: budget.peak_bytes(),
                    html_trimmed: crate::html::HtmlTrimmed::default(),
                    elapsed: started.elapsed(),
                };
            }
        };

        let mut store = self.new_store(&plugin.name, limits, budget, input);
        let result = with_call_document(&document, || match plugin.pre.instantiate(&mut store) {
            Err(e) => Err(instantiate_failure(&e, &store, limits)),
            Ok(instance) => {
                match instance
                    .mailex_extractor_extractor()
                    .call_extract(&mut store, &message, &config)
                {
                    Err(e) => Err(classify_trap(&e, &store, limits)),
                    Ok(Err(error)) => Err(plugin_error(error)),
                    Ok(Ok(fields)) => {
                        let size = crate::plugin::convert::output_size(&fields);
                        if size > limits.max_output_bytes {
                            Err(CallFailure::Output {
                                size,
                                limit: limits.max_output_bytes,
                            })
                        } else {
                            Ok(fields)
                        }
                    }
                }
            }
        });
        let state = store.data();
        CallOutcome {
            result,
            log_lines: state.log.lines,
            log_dropped: state.log.dropped,
            memory_peak: state.budget().peak_bytes(),
            html_trimmed: document.was_trimmed(),
            elapsed: started.elapsed(),
        }
    }
}

/// What the call's store holds of the email, prepared under the call's budget: the ADF document
/// (if the plugin imports `adf`), attachment copies (`attachments`) and the HTML (`html`), each
/// charged to the budget.
fn prepare_input(
    plugin: &LoadedPlugin,
    email: &Email<'_>,
    budget: &Budget,
) -> Result<(CallInput, CallDocument), Exceeded> {
    let adf = if plugin.imports.adf {
        crate::plugin::host::find_adf(email, budget)?
    } else {
        None
    };
    let mut attachments = Vec::new();
    if plugin.imports.attachments {
        for attachment in email.attachments() {
            budget.retain(attachment.bytes.len() as u64)?;
            attachments.push(attachment.bytes.to_vec());
        }
    }
    let document = if plugin.imports.html {
        let document = CallDocument::new(email.html());
        budget.retain(document.html_len() as u64)?;
        document
    } else {
        CallDocument::default()
    };
    Ok((CallInput { adf, attachments }, document))
}

/// The result of one call, with its accounting.
pub(crate) struct CallOutcome {
    pub(crate) result: Result<Vec<types::Field>, CallFailure>,
    pub(crate) log_lines: u32,
    pub(crate) log_dropped: u64,
    /// Peak memory of the call: the plugin's linear memory and what the host held for it.
    pub(crate) memory_peak: u64,
    /// Whether building the HTML document dropped elements nested too deeply.
    pub(crate) html_trimmed: crate::html::HtmlTrimmed,
    pub(crate) elapsed: Duration,
}

/// Which optional imports a plugin uses (so the host prepares only what it needs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Imports {
    pub(crate) html: bool,
    pub(crate) adf: bool,
    pub(crate) attachments: bool,
}

/// A compiled, linked, pre-instantiated plugin: what a hot reload swaps.
pub(crate) struct LoadedPlugin {
    pub(crate) pre: PluginPre<HostState>,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) contract_version: String,
    pub(crate) sha256: [u8; 32],
    pub(crate) imports: Imports,
    pub(crate) source: CompileSource,
    pub(crate) load_time: Duration,
}

/// Initialise the primitives' lazy tables (the phone-number metadata takes tens of
/// milliseconds to load) now, so the first email's deadline does not pay for it.
fn warm_up_primitives() {
    let _ = crate::normalize::phone("+1 202 555 0143", crate::normalize::DEFAULT_REGION);
    let _ = crate::normalize::phone("+44 20 7946 0958", crate::normalize::DEFAULT_REGION);
    let _ = crate::normalize::email("warm.up@example.com");
    let _ = crate::normalize::money("$1", None);
    let _ = crate::normalize::date("2026-01-01", crate::normalize::DateOrder::default());
    let _ = crate::normalize::person_name("Warm Up");
}

fn start_epoch_ticker(engine: &Engine, tick: Duration) {
    let weak = engine.weak();
    let tick = tick.max(Duration::from_millis(1));
    let spawned = std::thread::Builder::new()
        .name("mailex-plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the plugin deadline thread; plugin deadlines will not fire");
    }
}

/// Refuse what is not a component, with a message that says what it is instead.
fn check_is_component(path: &Path, bytes: &[u8]) -> Result<(), PluginError> {
    let not = |reason: &str| PluginError::NotAComponent {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if Engine::detect_precompiled(bytes).is_some() {
        return Err(not(
            "it is a precompiled artefact; give mailex the .wasm file, it precompiles and caches it itself",
        ));
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(not(
            "the file does not start with the WebAssembly magic bytes",
        ));
    }
    match &bytes[4..8] {
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        [0x01, 0x00, 0x00, 0x00] => Err(not(
            "it is a core module; build the plugin with `--target wasm32-wasip2` (or `mailex plugin build`)",
        )),
        _ => Err(not("unknown WebAssembly version or layer")),
    }
}

/// Check the contract version of the component's exports and imports; list what it imports.
fn check_contract(
    engine: &Engine,
    component: &Component,
    path: &Path,
) -> Result<Imports, PluginError> {
    let ty = component.component_type();
    let (major, _, _) = CONTRACT_VERSION;
    let prefix = format!("{CONTRACT_PACKAGE}/");
    let mut has_extractor = false;
    for (name, _) in ty.exports(engine) {
        if let Some((iface, version)) = contract_name(name, &prefix) {
            if parse_major(version) != Some(major) {
                return Err(contract_mismatch(path, version));
            }
            has_extractor |= iface == "extractor";
        }
    }
    if !has_extractor {
        return Err(PluginError::MissingExport {
            path: path.to_owned(),
        });
    }
    let mut imports = Imports::default();
    for (name, _) in ty.imports(engine) {
        if let Some((iface, version)) = contract_name(name, &prefix) {
            if parse_major(version) != Some(major) {
                return Err(contract_mismatch(path, version));
            }
            match iface {
                "html" => imports.html = true,
                "adf" => imports.adf = true,
                "attachments" => imports.attachments = true,
                _ => {}
            }
        }
    }
    Ok(imports)
}

/// `mailex:extractor/extractor@1.0.0` → (`extractor`, `1.0.0`).
fn contract_name<'n>(name: &'n str, prefix: &str) -> Option<(&'n str, &'n str)> {
    let rest = name.strip_prefix(prefix)?;
    Some(rest.split_once('@').unwrap_or((rest, "")))
}

fn parse_major(version: &str) -> Option<u64> {
    version.split('.').next()?.trim().parse().ok()
}

fn contract_mismatch(path: &Path, found: &str) -> PluginError {
    let (major, minor, patch) = CONTRACT_VERSION;
    PluginError::ContractMismatch {
        path: path.to_owned(),
        found: if found.is_empty() {
            "(unversioned)".to_owned()
        } else {
            truncate(found, 40)
        },
        supported: format!("{major}.{minor}.{patch}"),
        supported_major: major,
    }
}

fn is_trap(e: &wasmtime::Error) -> bool {
    e.downcast_ref::<Trap>().is_some()
}

/// The failure of a call whose budget was spent, `during` a host call if one was running.
fn budget_failure(
    spent: Exceeded,
    limits: CallLimits,
    during: Option<&'static str>,
) -> CallFailure {
    match spent {
        Exceeded::Time => CallFailure::Deadline {
            deadline_ms: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
            host_call: during,
        },
        Exceeded::Memory => CallFailure::Memory {
            limit_mib: limits.memory_bytes / (1024 * 1024),
            host_call: during,
        },
    }
}

/// Why instantiation failed: a trap or a spent budget (memory the instance asked for at start),
/// else wasmtime's own reason.
fn instantiate_failure(
    e: &wasmtime::Error,
    store: &Store<HostState>,
    limits: CallLimits,
) -> CallFailure {
    if is_trap(e) || store.data().budget().exceeded().is_some() {
        classify_trap(e, store, limits)
    } else {
        CallFailure::Instantiate {
            message: first_line(e),
        }
    }
}

/// Name the cause of a trap from what the store recorded and the trap code.
fn classify_trap(e: &wasmtime::Error, store: &Store<HostState>, limits: CallLimits) -> CallFailure {
    let state = store.data();
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => return budget_failure(Exceeded::Time, limits, None),
        Some(Trap::StackOverflow) => return CallFailure::StackOverflow,
        _ => {}
    }
    if let Some(spent) = state.budget().exceeded() {
        return budget_failure(spent, limits, state.spent_in);
    }
    if state.log.flooded {
        return CallFailure::LogFlood {
            limit: limits.max_log_lines,
        };
    }
    if let Some(message) = &state.panic_message {
        return CallFailure::Panic {
            message: message.clone(),
        };
    }
    let message = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => first_line(e),
    };
    CallFailure::Trap { message }
}

/// The plugin's own error, its message redacted ([`crate::redact::redact`]): a plugin may
/// quote what it read.
fn plugin_error(error: types::ExtractError) -> CallFailure {
    use types::ExtractError as E;
    let (kind, message) = match error {
        E::NotApplicable(m) => ("not_applicable", m),
        E::InvalidInput(m) => ("invalid_input", m),
        E::Config(m) => ("config", m),
        E::Internal(m) => ("internal", m),
    };
    CallFailure::Plugin {
        kind,
        message: crate::redact::redact(&truncate(&message, 300)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_names_and_versions() {
        let prefix = format!("{CONTRACT_PACKAGE}/");
        assert_eq!(
            contract_name("mailex:extractor/extractor@1.2.0", &prefix),
            Some(("extractor", "1.2.0"))
        );
        assert_eq!(contract_name("wasi:cli/environment@0.2.6", &prefix), None);
        assert_eq!(parse_major("1.2.0"), Some(1));
        assert_eq!(parse_major("2"), Some(2));
        assert_eq!(parse_major(""), None);
    }

    #[test]
    fn only_components_are_accepted() {
        let path = Path::new("p.wasm");
        let component = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        let module = [0, b'a', b's', b'm', 1, 0, 0, 0];
        assert!(check_is_component(path, &component).is_ok());
        let err = check_is_component(path, &module).expect_err("core module");
        assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
        let err = check_is_component(path, b"hello world").expect_err("text");
        assert!(err.to_string().contains("magic"), "{err}");
    }

    #[test]
    fn call_failures_have_stable_codes() {
        assert_eq!(
            CallFailure::Deadline {
                deadline_ms: 100,
                host_call: None
            }
            .code(),
            "plugin_deadline"
        );
        assert_eq!(
            CallFailure::Memory {
                limit_mib: 64,
                host_call: Some("css-select")
            }
            .code(),
            "plugin_memory"
        );
        let own = CallFailure::Plugin {
            kind: "invalid_input",
            message: "no phone".into(),
        };
        assert_eq!(own.code(), "plugin_invalid_input");
        assert!(own.is_plugin_error());
        assert!(!CallFailure::StackOverflow.is_plugin_error());
    }
}
