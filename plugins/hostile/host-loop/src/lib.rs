//! Hostile mailex plugin: calls host primitives in a loop, so nearly all its time is spent in
//! the host (regex searches over the whole text, CSS selections), where the epoch deadline of
//! wasm code does not reach; the host's budget checks must stop it.
//!
//! Build:  `scripts/build-plugins.sh` (copies it to `target/plugins/hostile_host_loop.wasm`)
//! Run:    cargo test -p mailex-core --test budgets

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export, host};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-host-loop";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        // By default a pattern that matches nowhere, so each search reads the whole text; the
        // route's `pattern` setting picks another.
        let pattern = config.get_or("pattern", r"\d{3}-\d{3}-\d{4}-\d{4}");
        let mut found = 0usize;
        loop {
            if host::regex_capture(pattern, &message.text)?.is_some() {
                found += 1;
            }
            found += host::css_select("div.none")?.len();
            std::hint::black_box(found);
        }
    }
}

export!(Hostile);
