//! Compatibility test plugin: built against contract `mailex:extractor@1.0.0`, the version
//! before `text` was added (1.1.0). `wit/extractor.wit` beside this crate is that contract,
//! frozen: never edit it. A mailex that implements a later 1.x must load this plugin and run
//! it, resolving its `@1.0.0` imports and exports to its own. It uses wit-bindgen directly
//! (not the SDK, which follows the current contract), as a plugin built with the 1.0.0 SDK did.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p compat-contract-1-0
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/compat_contract_1_0.wasm`)
//! Run:    cargo test -p mailex-tests plugin_contract
//!
//! It reads the lead card of `plugins/examples/acme-leads/fixtures/lead-card.eml` with two
//! imports of 1.0.0 (`html.css-select`, `normalize.normalize-phone`).

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::mailex::extractor::extractor::{
    ConfigEntry, ExtractError, Field, Guest, Message, PluginInfo,
};
use mailex::extractor::types::Value;
use mailex::extractor::{html, normalize};

struct Contract10;

impl Guest for Contract10 {
    fn extract(_message: Message, _config: Vec<ConfigEntry>) -> Result<Vec<Field>, ExtractError> {
        let first = |selector: &str| {
            html::css_select(selector)
                .map_err(ExtractError::Internal)
                .map(|texts| texts.into_iter().next())
        };
        let Some(name) = first(".lead .name")? else {
            return Err(ExtractError::NotApplicable("no .lead card".into()));
        };
        let mut fields = vec![Field {
            name: "name".into(),
            value: Value::Text(name),
        }];
        if let Some(phone) =
            first(".lead .phone")?.and_then(|raw| normalize::normalize_phone(&raw, Some("US")))
        {
            fields.push(Field {
                name: "phone".into(),
                value: Value::Phone(phone),
            });
        }
        Ok(fields)
    }

    fn info() -> PluginInfo {
        PluginInfo {
            name: "compat-contract-1-0".into(),
            version: "0.1.0".into(),
            contract_version: "1.0.0".into(),
        }
    }
}

export!(Contract10);
