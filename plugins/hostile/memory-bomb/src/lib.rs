//! Hostile mailex plugin: allocates until the memory cap stops it.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p hostile-memory-bomb
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/hostile_memory_bomb.wasm`)
//! Run:    cargo test -p mailex-core --test plugins hostile
//!         (the test loads it and checks that the failure is clear, within the deadline,
//!         and that the next email still extracts)

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-memory-bomb";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        // Behave on a mail whose subject says so, so the "next email" test can use the
        // same instance-pre: any other subject triggers the misbehaviour.
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // 4 MiB at a time; each allocation grows the linear memory until the host
            // refuses, and the allocation failure aborts the plugin.
            let mut chunk = Vec::with_capacity(4 << 20);
            chunk.push(0xA5u8);
            hoard.push(std::hint::black_box(chunk));
        }
    }
}

export!(Hostile);
