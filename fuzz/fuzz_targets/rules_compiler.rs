//! Fuzz target `rules_compiler`: see `mailex_tests::fuzz::rules_compiler` for what it exercises and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailex_fuzz::check("rules_compiler", data));
