//! Host bindings generated from `plugins/wit/extractor.wit`, the contract's single source of
//! truth (the SDK's `wit_bindgen::generate!` reads the same file).
//!
//! Every import is a host function on [`super::state::HostState`] (see `host/`, one file per
//! WIT interface), and every one may trap: a host call that finds the call's budget spent (the
//! deadline passed, or its results would not fit the memory cap) stops the plugin, and so does
//! a plugin that floods its log far past the cap.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../plugins/wit",
    world: "plugin",
    imports: {
        default: trappable,
    },
});

pub(crate) use self::mailex::extractor::types;

/// The package name the host implements.
pub(crate) const CONTRACT_PACKAGE: &str = "mailex:extractor";

/// The contract version the host implements (the WIT package version).
pub(crate) const CONTRACT_VERSION: (u64, u64, u64) = (1, 2, 0);
