//! Integration test modules.

mod analytics;
pub mod common;
mod config_reload;
mod decode;
mod delivery;
mod deploy_docs;
mod end_to_end;
mod events;
mod faults;
mod memory;
mod ops;
mod perf;
mod records;
mod replay;
