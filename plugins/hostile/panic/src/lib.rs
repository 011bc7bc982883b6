//! Hostile mailex plugin: panics; the failed record must carry the panic message.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p hostile-panic
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/hostile_panic.wasm`)
//! Run:    cargo test -p mailex-core --test plugins hostile
//!         (the test loads it and checks that the failure is clear, within the deadline,
//!         and that the next email still extracts)

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-panic";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        // Behave on a mail whose subject says so, so the "next email" test can use the
        // same instance-pre: any other subject triggers the misbehaviour.
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        let _ = message;
        panic!("hostile plugin: deliberate panic");
    }
}

export!(Hostile);
