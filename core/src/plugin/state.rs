//! The per-call store state: what the host functions of one plugin call can see.
//!
//! A fresh [`HostState`] (and a fresh `Store`) is made for every email, so nothing a plugin
//! does to its memory, its globals or the host's view can leak into the next email.

use std::convert::Infallible;
use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::textops::RegexCache;

/// Per-call limits, resolved from the route's [`crate::PluginLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall-clock deadline of one call.
    pub deadline: Duration,
    /// Cap on the plugin's linear memory, in bytes (all memories together).
    pub memory_bytes: u64,
    /// Cap on the size of the returned fields, in bytes.
    pub max_output_bytes: u64,
    /// Log lines kept per call; later lines are dropped and counted.
    pub max_log_lines: u32,
}

impl CallLimits {
    /// Limits from a route's configuration.
    pub fn from_config(limits: &crate::PluginLimits) -> Self {
        CallLimits {
            deadline: Duration::from_millis(limits.deadline_ms.max(1)),
            memory_bytes: limits.memory_mib.max(1).saturating_mul(1024 * 1024),
            max_output_bytes: limits.max_output_bytes,
            max_log_lines: limits.max_log_lines,
        }
    }
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits::from_config(&crate::PluginLimits::default())
    }
}

/// Dropped log lines past which a plugin counts as flooding and is stopped.
pub(crate) const LOG_FLOOD_FACTOR: u64 = 100;
/// Longest log line kept, in bytes.
pub(crate) const MAX_LOG_LINE: usize = 512;
/// Longest panic message kept, in bytes.
pub(crate) const MAX_PANIC_MESSAGE: usize = 512;

/// What the host knows about the email of this call, owned (a `Store` must be `'static`).
#[derive(Debug, Default)]
pub(crate) struct CallInput {
    /// The ADF/XML document of the email, if the plugin imports `adf` and one was found.
    pub adf: Option<crate::adf::AdfDocument>,
    /// Attachment bytes, if the plugin imports `attachments`.
    pub attachments: Vec<Vec<u8>>,
}

/// Log accounting for one call.
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    /// Lines written so far.
    pub lines: u32,
    /// Lines dropped past the cap.
    pub dropped: u64,
    /// Set when the flood trap fired.
    pub flooded: bool,
}

/// The state of one plugin call.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory accounting for the `ResourceLimiter`.
    pub memory: MemoryLimiter,
    /// The host's shared cache of compiled regexes.
    pub regex: RegexCache,
    /// The email, as far as this plugin needs it.
    pub input: CallInput,
    /// The limits of this call.
    pub limits: CallLimits,
    /// Log accounting.
    pub log: LogBudget,
    /// The plugin's name, for log lines.
    pub plugin: String,
    /// The message the SDK's panic hook reported, if the plugin panicked.
    pub panic_message: Option<String>,
}

impl HostState {
    /// A fresh state for one call.
    pub(crate) fn new(
        plugin: &str,
        limits: CallLimits,
        regex: RegexCache,
        input: CallInput,
    ) -> Self {
        HostState {
            wasi: sandboxed_wasi(),
            table: ResourceTable::new(),
            memory: MemoryLimiter::new(limits.memory_bytes),
            regex,
            input,
            limits,
            log: LogBudget::default(),
            plugin: plugin.to_owned(),
            panic_message: None,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// WASI for a plugin: deny by default. No preopened directories (so no files), no
/// environment, no arguments, no network (no TCP, no UDP, no name lookup), stdin empty and
/// stdout/stderr discarded, a wall clock frozen at the Unix epoch, a monotonic clock that
/// never advances, and "random" bytes from a fixed seed, so a plugin is deterministic.
fn sandboxed_wasi() -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    builder
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(FixedRng::new(0x6d61_696c_6578_0001))
        .insecure_random(FixedRng::new(0x6d61_696c_6578_0002))
        .insecure_random_seed(0x6d61_696c_6578)
        .max_random_size(64 * 1024);
    builder.build()
}

/// A clock that always reads zero.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// SplitMix64 from a fixed seed: deterministic bytes, not randomness.
struct FixedRng(u64);

impl FixedRng {
    fn new(seed: u64) -> Self {
        FixedRng(seed)
    }
    fn step(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for FixedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.step() >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.step())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.step().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// Caps the plugin's linear memories (all together) and tables.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: u64,
    used: u64,
    /// Set when a growth was refused, so the resulting trap is reported as a memory limit.
    pub hit: bool,
}

impl MemoryLimiter {
    fn new(limit: u64) -> Self {
        MemoryLimiter {
            limit,
            used: 0,
            hit: false,
        }
    }

    /// Linear memory in use (wasm memories never shrink, so this is also the peak).
    pub(crate) fn peak(&self) -> u64 {
        self.used
    }
}

/// Most table elements a plugin may have (function tables of Rust components are small).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = (desired as u64).saturating_sub(current as u64);
        if self.used.saturating_add(grow) > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.used += grow;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

scoped_tls::scoped_thread_local!(
    /// The parsed HTML document of the email whose call is running on this thread: the
    /// email's own cached document ([`crate::Email::html_document`]), shared with every
    /// other extractor, not a copy. `scraper::Html` is not `Send` and is borrowed from the
    /// email, so it cannot live in the (`'static`, `Send`) store state; host calls run
    /// synchronously on the calling thread, inside [`with_email_document`].
    static DOCUMENT: scraper::Html
);

/// Run `call` with `document` visible to the `html` host functions of this thread.
pub(crate) fn with_email_document<R>(
    document: Option<&scraper::Html>,
    call: impl FnOnce() -> R,
) -> R {
    match document {
        Some(doc) => DOCUMENT.set(doc, call),
        None => call(),
    }
}

/// Run `f` on the HTML document of the running call, or `None` when the email has no HTML.
pub(crate) fn with_document<R>(f: impl FnOnce(&scraper::Html) -> R) -> Option<R> {
    if DOCUMENT.is_set() {
        Some(DOCUMENT.with(f))
    } else {
        None
    }
}
