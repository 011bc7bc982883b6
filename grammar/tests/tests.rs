//! Every integration test of `mailex-grammar`, compiled into one binary (one module per area).

#[path = "it/golden.rs"]
mod golden;
#[path = "it/parse.rs"]
mod parse;
