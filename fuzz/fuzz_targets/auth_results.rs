//! Fuzz target `auth_results`: see `mailex_tests::fuzz::auth_results` for what it exercises and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailex_fuzz::check("auth_results", data));
