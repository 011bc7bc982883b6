//! Hostile mailex plugin: built against contract `mailex:extractor@2.0.0` (a major
//! version the host does not know); mailex must refuse it at load with a message that
//! names both versions. It uses wit-bindgen directly on a copy of the WIT whose package
//! version is 2.0.0 (`wit/extractor.wit` beside this crate), as a plugin built with a
//! future SDK would.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p hostile-wrong-contract
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/hostile_wrong_contract.wasm`)
//! Run:    cargo test -p mailex-core --test plugins hostile

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::mailex::extractor::extractor::{
    ConfigEntry, ExtractError, Field, Guest, Message, PluginInfo,
};

struct FuturePlugin;

impl Guest for FuturePlugin {
    fn extract(_message: Message, _config: Vec<ConfigEntry>) -> Result<Vec<Field>, ExtractError> {
        Ok(Vec::new())
    }

    fn info() -> PluginInfo {
        PluginInfo {
            name: "hostile-wrong-contract".into(),
            version: "0.1.0".into(),
            contract_version: "2.0.0".into(),
        }
    }
}

export!(FuturePlugin);
