//! Hostile mailex plugin: asks the host for results far larger than its memory cap. With the
//! subject `regex` it captures the whole text, twice over; with `css` it asks for the text of
//! every element (an element's text holds all of its descendants', so nested markup makes the
//! answer quadratic); with `attachment` it asks for every attachment's bytes, again and again.
//! The host must stop each call when the route's memory cap is spent, before building it all.
//!
//! Build:  `scripts/build-plugins.sh` (copies it to `target/plugins/hostile_huge_host_result.wasm`)
//! Run:    cargo test -p mailex-core --test budgets

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export, host};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-huge-host-result";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        // Everything the host returns is kept, so nothing is freed between calls.
        let mut captures = Vec::new();
        let mut texts = Vec::new();
        let mut sizes = Vec::new();
        match message.subject_str() {
            "regex" => loop {
                captures.push(host::regex_capture(r"(?s)((.*))", &message.text)?);
            },
            "css" => texts = host::css_select("*")?,
            "attachment" => loop {
                sizes.push(host::attachment_bytes(0).map_or(0, |b| b.len()));
            },
            _ => {}
        }
        let kept = captures.len() + texts.len() + sizes.len();
        let mut fields = Fields::new();
        fields.text("status", "ok");
        fields.integer("kept", i64::try_from(kept).unwrap_or(i64::MAX));
        Ok(fields)
    }
}

export!(Hostile);
