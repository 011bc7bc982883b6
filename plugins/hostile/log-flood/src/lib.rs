//! Hostile mailex plugin: logs until the log volume cap stops it.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p hostile-log-flood
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/hostile_log_flood.wasm`)
//! Run:    cargo test -p mailex-core --test plugins hostile
//!         (the test loads it and checks that the failure is clear, within the deadline,
//!         and that the next email still extracts)

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-log-flood";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        // Behave on a mail whose subject says so, so the "next email" test can use the
        // same instance-pre: any other subject triggers the misbehaviour.
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        let mut i: u64 = 0;
        loop {
            log::info!("flood line {i}: {}", "-".repeat(200));
            i += 1;
        }
    }
}

export!(Hostile);
