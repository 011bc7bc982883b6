//! Integration test modules.

pub mod common;
mod config_reload;
mod decode;
mod end_to_end;
mod events;
mod faults;
mod perf;
mod replay;
