//! The mailex engine: turns machine-sent lead emails into typed records.
//!
//! Raw bytes go in, exactly one [`Record`] comes out, whatever happens:
//!
//! 1. [`Email`] parses the message once (over `mail-parser`) and offers the views every
//!    extractor reads: decoded headers and addresses, a text view, the HTML, attachments,
//!    nested messages.
//! 2. The [`Router`] picks the route (advertiser) from the sender and conditions;
//!    [`auth`] checks the route's authentication policy against the trusted verdicts.
//! 3. The route's [`Extractor`] (a built-in, a [`rules`] file or a WASM [`plugin`]) produces
//!    fields, and the [`Engine`] turns its [`Extraction`] into the record.
//!
//! ```
//! use std::path::Path;
//! use mailex_core::{Engine, Input, Status};
//!
//! let config = r#"
//! [[route]]
//! name = "portal"
//! sender = "*@portal.example"
//! require_auth = "none"
//! extractor = "builtin:lead-meta"
//! "#;
//! let engine = Engine::from_toml_str(config, Path::new("mailex.toml"), Path::new(".")).unwrap();
//! let raw = b"From: leads@portal.example\r\nContent-Type: text/html\r\n\r\n\
//!     <meta name=\"lead_email\" content=\"Jane@Example.com\"><p>New lead</p>";
//! let record = engine.process(&Input::new(raw, "inline"));
//! assert_eq!(record.status, Status::Extracted);
//! assert_eq!(record.fields["email"].to_display_string(), "jane@example.com");
//! ```
#![deny(missing_docs)]

pub mod adf;
pub mod auth;
mod budget;
mod builtin;
mod charset;
pub mod config;
mod css;
mod engine;
mod error;
mod extractor;
mod html;
mod inspect;
mod loader;
mod message;
mod normalize;
#[cfg(feature = "plugins")]
pub mod plugin;
pub mod pseudonym;
pub mod record;
mod redact;
mod regex_budget;
mod routing;
pub mod rules;
pub mod sink;
#[cfg(test)]
mod testing;
mod textops;

pub use crate::auth::{AuthFailure, AuthPolicy, AuthSettings, AuthVerdicts};
pub use crate::budget::{Budget, Exceeded};
pub use crate::config::{PluginLimits, RouteLimits, RuleLimits, Settings, config_schema};
pub use crate::engine::{
    Engine, ExtractorTiming, Input, LoadTimings, ProcessStats, RouteReport, virus_record,
};
pub use crate::error::{ConfigError, ConfigProblem};
pub use crate::extractor::{Completeness, ExtractContext, Extraction, Extractor};
pub use crate::html::HtmlTrimmed;
pub use crate::inspect::{HtmlElement, PathStep, html_meta_tags, html_text_view, is_css_selector};
pub use crate::loader::LoadOptions;
pub use crate::message::{
    Address, Attachment, Email, LimitExceeded, MAX_MIME_NESTING, MessageLimits, ParseError,
};
pub use crate::normalize::{DateOrder, NormalizeError};
pub use crate::record::{
    ExtractorInfo, ExtractorKind, FieldValue, Issue, IssueCode, Record, Status, Verdict,
    record_schema,
};
pub use crate::routing::{Route, Router};
pub use crate::sink::{SinkConfig, SinkFilter, SinkTarget};

/// Installs a panic hook that reports where a panic happened but never its message: panic
/// messages can quote the data being processed, which may be personal data. Binaries call
/// this once at start-up; the engine itself records panics as `failed` records.
pub fn install_quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown location".to_owned());
        eprintln!(
            "mailex: internal panic at {location} (message withheld; the input yields a failed record)"
        );
    }));
}
