//! Fuzz target `adf`: see `mailex_tests::fuzz::adf` for what it exercises and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailex_fuzz::check("adf", data));
