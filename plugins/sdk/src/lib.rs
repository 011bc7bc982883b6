//! Write mailex extractor plugins in Rust.
//!
//! A plugin is a WebAssembly component (target `wasm32-wasip2`) that mailex runs, in a
//! sandbox, for every email its route matches. This crate is everything a plugin author
//! needs:
//!
//! - the [`Plugin`] trait to implement and the [`export!`] macro that turns the type into
//!   the component's exports (the contract in `plugins/wit/extractor.wit`);
//! - [`Fields`], typed field builders that normalise through the host;
//! - [`host`], safe wrappers over the host primitives (regex with a host-side pattern
//!   cache, CSS selection on the message HTML, `meta`, ADF paths, attachments,
//!   [`host::normalize`], and the rule language's [`host::strip_tags`] and
//!   [`host::collapse_whitespace`]);
//! - a panic hook that hands the panic message to the host (so the `failed` record names
//!   it) and a [`log`] backend that writes through the host's capped `log`.
//!
//! The host primitives exist only while the plugin runs inside mailex. Compiled for any
//! other target (a plugin's native `cargo test`), a call panics with an ordinary, catchable
//! panic naming the primitive, instead of aborting the test binary; test the whole plugin
//! on mail with `mailex test --plugin PLUGIN.wasm DIR`.
//!
//! # Example
//!
//! A complete plugin for Facebook lead ads forwarded by Zapier
//! (`plugins/examples/facebook-zapier` is the full version):
//!
//! ```no_run
//! use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};
//!
//! struct FacebookLeads;
//!
//! impl Plugin for FacebookLeads {
//!     const NAME: &'static str = "facebook-leads";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!
//!     fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
//!         let marker = "You have received a new lead from a Facebook ad:";
//!         let Some((_, rest)) = message.text.split_once(marker) else {
//!             return Err(ExtractError::NotApplicable("no Facebook lead marker".into()));
//!         };
//!         let mut fields = Fields::new();
//!         for line in rest.lines().map(str::trim).filter(|l| !l.is_empty()) {
//!             if !fields.contains("email") && fields.email("email", line) {
//!                 continue;
//!             }
//!             if !fields.contains("phone") && fields.phone("phone", line, Some("US")) {
//!                 continue;
//!             }
//!         }
//!         log::debug!("found {} fields", fields.len());
//!         Ok(fields)
//!     }
//! }
//!
//! export!(FacebookLeads);
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release` (or `mailex plugin build`),
//! and point a route at the `.wasm` file; see `docs/plugins.md`.
#![deny(missing_docs)]

mod fields;
pub mod host;
mod imports;
mod logger;

#[doc(hidden)]
pub mod bindings {
    //! Raw bindings generated from `plugins/wit/extractor.wit`.
    #![allow(missing_docs)]
    wit_bindgen::generate!({
        path: "../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "mailex_plugin_sdk::bindings",
    });
}

pub use bindings::mailex::extractor::normalize::DateOrder;
pub use bindings::mailex::extractor::types::{
    Address, Attachment, ExtractError, Header, LogLevel, Message, Money, PersonName, Value,
};
pub use fields::Fields;
pub use host::PrimitiveError;
pub use log;

/// The contract version this SDK implements (the version of the WIT package
/// `mailex:extractor`). mailex refuses plugins built for another major version.
pub const CONTRACT_VERSION: &str = "1.2.0";

/// An extractor plugin. Implement it on a unit struct and pass the type to [`export!`].
pub trait Plugin {
    /// The plugin's name, as it appears in records (`extractor.name`).
    const NAME: &'static str;
    /// The plugin's version; `env!("CARGO_PKG_VERSION")` is the usual choice.
    const VERSION: &'static str;

    /// Extract fields from one message.
    ///
    /// Return [`ExtractError::NotApplicable`] for a message this plugin does not handle,
    /// [`ExtractError::InvalidInput`] when required data is missing, and
    /// [`ExtractError::Config`] when the route's config is unusable. A panic also fails
    /// the email (the host names the panic message), but an error is clearer.
    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError>;
}

/// The route's `config` table, as handed to every call.
#[derive(Debug, Clone, Default)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    /// A config from key/value pairs (useful in tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `key`, if the route set it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or `default`.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// The value of `key`, or a [`ExtractError::Config`] naming the missing key.
    pub fn require(&self, key: &str) -> Result<&str, ExtractError> {
        self.get(key)
            .ok_or_else(|| ExtractError::Config(format!("missing config key `{key}`")))
    }

    /// All entries, in the route's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl Message {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The subject, or `""`.
    pub fn subject_str(&self) -> &str {
        self.subject.as_deref().unwrap_or("")
    }

    /// The HTML body, or `""`.
    pub fn html_str(&self) -> &str {
        self.html.as_deref().unwrap_or("")
    }
}

#[doc(hidden)]
pub mod __private {
    //! Glue used by [`export!`](crate::export); not part of the public API.
    use super::*;
    use crate::bindings::exports::mailex::extractor::extractor::{ConfigEntry, Field, PluginInfo};
    use std::sync::Once;

    pub use crate::bindings::exports::mailex::extractor::extractor::Guest;

    static INIT: Once = Once::new();

    /// Install the panic hook and the log backend, once per instance (in a plugin; outside
    /// wasm there is no host to report to, and the test harness keeps its own hook).
    pub fn init() {
        if cfg!(not(target_arch = "wasm32")) {
            return;
        }
        INIT.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic with a non-string payload".to_owned());
                let message = match info.location() {
                    Some(loc) => format!("{payload} (at {}:{})", loc.file(), loc.line()),
                    None => payload,
                };
                crate::bindings::mailex::extractor::logging::report_panic(&message);
            }));
            logger::install();
        });
    }

    /// Run [`Plugin::extract`] for the component export.
    pub fn extract<P: Plugin>(
        message: Message,
        config: Vec<ConfigEntry>,
    ) -> Result<Vec<Field>, ExtractError> {
        init();
        let config = Config {
            entries: config.into_iter().map(|e| (e.key, e.value)).collect(),
        };
        P::extract(&message, &config).map(Fields::into_vec)
    }

    /// Build the `info` export for `P`.
    pub fn info<P: Plugin>() -> PluginInfo {
        init();
        PluginInfo {
            name: P::NAME.to_owned(),
            version: P::VERSION.to_owned(),
            contract_version: CONTRACT_VERSION.to_owned(),
        }
    }
}

/// Export a [`Plugin`] implementation as the component's `extractor` interface.
///
/// Use it once, at the crate root of a `cdylib` crate:
///
/// ```ignore
/// mailex_plugin_sdk::export!(MyPlugin);
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        #[doc(hidden)]
        struct __MailexPluginExport;

        impl $crate::__private::Guest for __MailexPluginExport {
            fn extract(
                message: $crate::Message,
                config: ::std::vec::Vec<$crate::bindings::mailex::extractor::types::ConfigEntry>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::bindings::mailex::extractor::types::Field>,
                $crate::ExtractError,
            > {
                $crate::__private::extract::<$plugin>(message, config)
            }

            fn info() -> $crate::bindings::mailex::extractor::types::PluginInfo {
                $crate::__private::info::<$plugin>()
            }
        }

        $crate::bindings::__export_plugin_world!(__MailexPluginExport with_types_in $crate::bindings);
    };
}

#[cfg(test)]
mod tests {
    //! Native tests (`cargo test -p mailex-plugin-sdk --target <host triple>` in `plugins/`).

    #[test]
    fn the_contract_version_is_the_wit_package_version() {
        let wit = include_str!("../../wit/extractor.wit");
        let package = format!("package mailex:extractor@{};", super::CONTRACT_VERSION);
        assert!(
            wit.contains(&package),
            "the WIT does not declare `{package}`"
        );
    }

    #[test]
    fn host_primitives_panic_catchably_outside_mailex() {
        let outcome = std::panic::catch_unwind(|| {
            crate::Fields::new().phone("phone", "(202) 555-0143", Some("US"))
        });
        let payload = outcome.expect_err("there is no host outside mailex");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("`normalize.normalize-phone` called outside mailex"),
            "{message}"
        );
        assert!(message.contains("mailex test --plugin"), "{message}");
    }
}
