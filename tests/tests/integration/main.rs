//! Workspace-level integration tests, compiled into one binary (one module per area).

mod corpus;
mod docs;
mod examples;
mod fuzz_seeds;
mod leads;
mod records;
mod spoofing;
