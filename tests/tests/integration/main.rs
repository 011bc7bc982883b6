//! Workspace-level integration tests, compiled into one binary (one module per area).

mod corpus;
mod records;
mod spoofing;
