//! Workspace-level integration tests, compiled into one binary (one module per area).

mod corpus;
mod examples;
mod leads;
mod records;
mod spoofing;
