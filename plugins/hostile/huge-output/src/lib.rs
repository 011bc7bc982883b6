//! Hostile mailex plugin: returns far more output than the output cap allows.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p hostile-huge-output
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/hostile_huge_output.wasm`)
//! Run:    cargo test -p mailex-core --test plugins hostile
//!         (the test loads it and checks that the failure is clear, within the deadline,
//!         and that the next email still extracts)

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-huge-output";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        // Behave on a mail whose subject says so, so the "next email" test can use the
        // same instance-pre: any other subject triggers the misbehaviour.
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        // 4 MiB of text: well under the memory cap, four times the default output cap.
        let chunk = "x".repeat(16 * 1024);
        let mut fields = Fields::new();
        for i in 0..256 {
            fields.text(&format!("field_{i}"), &chunk);
        }
        Ok(fields)
    }
}

export!(Hostile);
