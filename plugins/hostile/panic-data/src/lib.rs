//! Hostile mailex plugin: quotes the lead's data where the host passes text on. It logs the
//! name and email, then (by subject) returns an error quoting them (`error`), or panics quoting
//! them (anything else but `behave`). Records and logs must carry none of it.
//!
//! Build:  `scripts/build-plugins.sh` (copies it to `target/plugins/hostile_panic_data.wasm`)
//! Run:    cargo test -p mailex-core --test budgets

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct Hostile;

/// The value after `label` on its line.
fn after<'t>(text: &'t str, label: &str) -> &'t str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or("")
        .trim()
}

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-panic-data";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        let name = after(&message.text, "Name:");
        let email = after(&message.text, "Email:");
        let phone = after(&message.text, "Phone:");
        log::warn!("lead '{name}' <{email}> phone {phone}, message {:?}", message.text);
        if message.subject_str() == "error" {
            return Err(ExtractError::InvalidInput(format!(
                "no usable phone for \"{name}\" <{email}>: {phone}"
            )));
        }
        panic!("no usable phone for '{name}' <{email}>: {phone}");
    }
}

export!(Hostile);
