//! Resource checks around the fuzz targets of `mailex_tests::fuzz`.
//!
//! Every input runs under [`check`]: besides not panicking, it must finish within
//! `MAILEX_FUZZ_MAX_MS` (default 2000) and allocate at most `MAILEX_FUZZ_MAX_MB` (default 256)
//! MiB at its peak, the promise of docs/security.md ("any input: one record, under 2 s and under
//! 256 MB"). A breach aborts, so libFuzzer saves the input as a crash. The peak is measured by a
//! counting global allocator (live heap bytes, not RSS, so the fuzzer's own corpus does not
//! count).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

struct Limits {
    time: Duration,
    bytes: usize,
}

fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| {
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        Limits {
            time: Duration::from_millis(number("MAILEX_FUZZ_MAX_MS", 2000)),
            bytes: usize::try_from(number("MAILEX_FUZZ_MAX_MB", 256) * 1024 * 1024)
                .unwrap_or(usize::MAX),
        }
    })
}

/// Runs the target `name` on `data` and aborts when it breaches the time or memory limit.
///
/// The first call first runs the target once, unmeasured, on an empty input: what a target
/// sets up once per process (the engine and its config, compiled plugins) is start-up, not the
/// cost of an input.
pub fn check(name: &str, data: &[u8]) {
    let Some(target) = mailex_tests::fuzz::target(name) else {
        panic!("no fuzz target named {name}");
    };
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| (target.run)(&[]));
    let limits = limits();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    (target.run)(data);
    let elapsed = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    if elapsed > limits.time {
        eprintln!(
            "mailex-fuzz: {name} took {} ms on a {}-byte input (limit {} ms)",
            elapsed.as_millis(),
            data.len(),
            limits.time.as_millis()
        );
        std::process::abort();
    }
    if peak > limits.bytes {
        eprintln!(
            "mailex-fuzz: {name} peaked at {} MiB on a {}-byte input (limit {} MiB)",
            peak / (1024 * 1024),
            data.len(),
            limits.bytes / (1024 * 1024)
        );
        std::process::abort();
    }
}
