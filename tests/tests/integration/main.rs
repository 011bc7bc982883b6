//! Workspace-level integration tests, compiled into one binary (one module per area).

mod architecture;
mod corpus;
mod docs;
mod examples;
mod fuzz_seeds;
mod hostile;
mod hostile_rules;
mod leads;
mod plugin_contract;
mod plugin_docs;
mod records;
mod spoofing;
