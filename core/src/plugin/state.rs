//! The per-call store state: what the host functions of one plugin call can see.
//!
//! A fresh [`HostState`] (and a fresh `Store`) is made for every email, so nothing a plugin
//! does to its memory, its globals or the host's view can leak into the next email.

use std::cell::{Cell, OnceCell};
use std::convert::Infallible;
use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::budget::{Budget, Exceeded};
use crate::textops::RegexCache;

/// Per-call limits, resolved from the route's [`crate::PluginLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall-clock deadline of one call.
    pub deadline: Duration,
    /// Cap on the memory of one call, in bytes: the plugin's linear memories together with
    /// what the host holds for it (the HTML document, host-call arguments and results).
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

impl CallLimits {
    /// A fresh budget of this call's deadline and memory, starting now.
    pub(crate) fn budget(&self) -> Budget {
        Budget::new(self.deadline, self.memory_bytes)
    }
}

/// Work units one host call counts for, besides what its primitive counts.
const HOST_CALL_UNITS: u64 = 64;

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
    /// The call's budget, which also limits the plugin's linear memory.
    pub limiter: SandboxLimiter,
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
    /// The message the SDK's panic hook reported (redacted), if the plugin panicked.
    pub panic_message: Option<String>,
    /// The host call during which the budget was spent, if it was spent in one.
    pub spent_in: Option<&'static str>,
}

impl HostState {
    /// A fresh state for one call, with the call's budget.
    pub(crate) fn new(
        plugin: &str,
        limits: CallLimits,
        budget: Budget,
        regex: RegexCache,
        input: CallInput,
    ) -> Self {
        HostState {
            wasi: sandboxed_wasi(),
            table: ResourceTable::new(),
            limiter: SandboxLimiter::new(budget),
            regex,
            input,
            limits,
            log: LogBudget::default(),
            plugin: plugin.to_owned(),
            panic_message: None,
            spent_in: None,
        }
    }

    /// The call's budget.
    pub(crate) fn budget(&self) -> &Budget {
        &self.limiter.budget
    }

    /// Runs one host call under the call's budget: the call counts as work (so the deadline is
    /// read at least every few hundred calls; the primitives read it as they work), the arguments
    /// (`arg_bytes`, already copied out of the guest) and whatever `call` charges are held as
    /// scratch memory until it returns (its results then move into the guest's memory, which
    /// the limiter charges as it grows). A spent budget becomes a trap that stops the plugin;
    /// the record names the host call.
    pub(crate) fn host_call<R>(
        &mut self,
        name: &'static str,
        arg_bytes: usize,
        call: impl FnOnce(&mut HostState) -> Result<R, Exceeded>,
    ) -> wasmtime::Result<R> {
        let mark = self.budget().scratch_mark();
        let outcome = self
            .budget()
            .charge(arg_bytes as u64)
            .and_then(|()| self.budget().work(HOST_CALL_UNITS))
            .and_then(|()| call(self));
        self.budget().release_scratch(mark);
        outcome.map_err(|spent| {
            self.spent_in.get_or_insert(name);
            wasmtime::Error::msg(format!("{spent} in host call `{name}`"))
        })
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

/// Charges the plugin's linear memories (all together) to the call's budget, and caps tables.
#[derive(Debug)]
pub(crate) struct SandboxLimiter {
    /// The call's budget.
    pub budget: Budget,
}

impl SandboxLimiter {
    fn new(budget: Budget) -> Self {
        SandboxLimiter { budget }
    }
}

/// Most table elements a plugin may have (function tables of Rust components are small).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for SandboxLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A refused growth makes the guest's allocator fail (a trap); the spent budget tells
        // the record it was the memory cap.
        // Wasm memories never shrink: growth is retained for the rest of the call.
        let grow = (desired as u64).saturating_sub(current as u64);
        Ok(self.budget.retain(grow).is_ok())
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

/// The message HTML of the running call, and what the `html` host functions build from it on
/// first use, under the call's budget: the document for CSS selectors, and the meta tags.
///
/// The HTML is a copy (a `Store` must be `'static`); it is charged to the call's budget when the
/// call starts. `scraper::Html` is not `Send`, so this lives in a thread-local scope around the
/// call rather than in the store state; host calls run synchronously on the calling thread,
/// inside [`with_call_document`].
#[derive(Debug, Default)]
pub(crate) struct CallDocument {
    html: Option<String>,
    document: OnceCell<Option<scraper::Html>>,
    meta: OnceCell<Vec<(String, String)>>,
    trimmed: Cell<crate::html::HtmlTrimmed>,
}

impl CallDocument {
    /// The call's view of `html` (the email's HTML body).
    pub(crate) fn new(html: Option<&str>) -> Self {
        CallDocument {
            html: html.map(str::to_owned),
            ..CallDocument::default()
        }
    }

    /// Bytes of HTML held.
    pub(crate) fn html_len(&self) -> usize {
        self.html.as_ref().map_or(0, String::len)
    }

    /// The document, built on first use under `budget` (and charged to it); `None` when the
    /// email has no HTML.
    pub(crate) fn document(&self, budget: &Budget) -> Result<Option<&scraper::Html>, Exceeded> {
        if let Some(document) = self.document.get() {
            return Ok(document.as_ref());
        }
        let document = match &self.html {
            Some(html) => {
                let (document, trimmed) = crate::html::parse_document_within(html, budget)?;
                self.trimmed.set(trimmed);
                Some(document)
            }
            None => None,
        };
        Ok(self.document.get_or_init(|| document).as_ref())
    }

    /// The `<meta name content>` pairs of the HTML (as [`crate::Email::meta_tags`] reads them),
    /// read on first use and charged to `budget`.
    pub(crate) fn meta_tags(&self, budget: &Budget) -> Result<&[(String, String)], Exceeded> {
        if let Some(tags) = self.meta.get() {
            return Ok(tags);
        }
        let html = self.html.as_deref().unwrap_or_default();
        budget.work(html.len() as u64)?;
        let tags = crate::html::meta_tags_str(html);
        let bytes: usize = tags.iter().map(|(n, c)| n.len() + c.len() + 48).sum();
        budget.retain(bytes as u64)?;
        Ok(self.meta.get_or_init(|| tags))
    }

    /// Whether building the document dropped elements nested too deeply.
    pub(crate) fn was_trimmed(&self) -> crate::html::HtmlTrimmed {
        self.trimmed.get()
    }
}

scoped_tls::scoped_thread_local!(
    /// The [`CallDocument`] of the call running on this thread.
    static DOCUMENT: CallDocument
);

/// Run `call` with `document` visible to the `html` host functions of this thread.
pub(crate) fn with_call_document<R>(document: &CallDocument, call: impl FnOnce() -> R) -> R {
    DOCUMENT.set(document, call)
}

/// Run `f` on the [`CallDocument`] of the running call (none outside a call).
pub(crate) fn with_document<R>(f: impl FnOnce(&CallDocument) -> R) -> Option<R> {
    if DOCUMENT.is_set() {
        Some(DOCUMENT.with(f))
    } else {
        None
    }
}
