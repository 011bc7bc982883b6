//! The host side of the contract's imports: one file per WIT interface, each an
//! `impl Host for HostState` that calls core's shared primitive (the same code the rule DSL
//! runs), so a plugin and a rule file agree on every normalised value.

mod adf;
mod attachments;
mod html;
mod logging;
mod normalize;
mod regex;
mod text;
mod types;

pub(crate) use self::adf::find_adf;
