//! Fuzz target `engine`: see `mailex_tests::fuzz::engine` for what it exercises and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailex_fuzz::check("engine", data));
