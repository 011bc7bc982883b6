//! Hostile mailex plugin: looks for an earlier call's data in its own linear memory.
//!
//! Every call runs on a fresh instance whose memory starts from the module's initial image,
//! even when the pooling allocator reuses the slot (and the pages) of an earlier call. This
//! plugin checks that from the inside:
//!
//! - subject `keep:<secret>`: stores the secret in a `static` and in 256 KiB of heap, and
//!   leaves both behind;
//! - subject `scan:<secret reversed>`: reports in `previous` what the `static` holds, in
//!   brackets (`[]` when empty), and in `found` how often the secret occurs anywhere in linear
//!   memory (its own needle excepted). `control` counts the reversed secret, which the host
//!   copied in with this call's message: it shows that the scan sees memory at all.
//!
//! Build:  scripts/build-plugins.sh (copies it to `target/plugins/hostile_memory_residue.wasm`)
//! Run:    cargo test -p mailex-core --test plugins residue

use std::sync::Mutex;

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

/// What the previous `keep:` call stored, if its memory survived.
static KEPT: Mutex<String> = Mutex::new(String::new());

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-memory-residue";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        let subject = message.subject_str();
        let mut fields = Fields::new();
        if let Some(secret) = subject.strip_prefix("keep:") {
            let mut kept = KEPT
                .lock()
                .map_err(|_| ExtractError::InvalidInput("poisoned".into()))?;
            kept.clear();
            kept.push_str(secret);
            let copies = secret.repeat(256 * 1024 / secret.len().max(1));
            std::mem::forget(copies);
            fields.text("status", "kept");
        } else if let Some(reversed) = subject.strip_prefix("scan:") {
            let previous = KEPT.lock().map(|kept| kept.clone()).unwrap_or_default();
            // Built in place from the reversed form: the secret's bytes exist in this call's
            // memory only here.
            let needle: Vec<u8> = reversed.bytes().rev().collect();
            let found = occurrences(&needle);
            let control = occurrences(reversed.as_bytes());
            fields
                .text("status", "scanned")
                .text("previous", format!("[{previous}]"))
                .text("found", found.to_string())
                .text("control", control.to_string());
        } else {
            fields.text("status", "ok");
        }
        Ok(fields)
    }
}

/// How often `needle` occurs in linear memory, outside `needle`'s own bytes.
fn occurrences(needle: &[u8]) -> usize {
    let Some(&first) = needle.first() else {
        return 0;
    };
    let own = needle.as_ptr() as usize;
    let end = core::arch::wasm32::memory_size(0) * 65536;
    let byte_at = |address: usize| {
        // SAFETY: every address from 1 to the memory's size is inside linear memory; the
        // reads are volatile and the bytes are only compared.
        unsafe { core::ptr::read_volatile(address as *const u8) }
    };
    let mut count = 0;
    for start in 1..end.saturating_sub(needle.len()) {
        if start == own || byte_at(start) != first {
            continue;
        }
        if (1..needle.len()).all(|i| byte_at(start + i) == needle[i]) {
            count += 1;
        }
    }
    count
}

export!(Hostile);
