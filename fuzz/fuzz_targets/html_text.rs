//! Fuzz target `html_text`: see `mailex_tests::fuzz::html_text` for what it exercises and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailex_fuzz::check("html_text", data));
