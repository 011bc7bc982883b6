//! Hostile mailex plugin: recurses until the wasm stack overflows.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p hostile-deep-recursion
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/hostile_deep_recursion.wasm`)
//! Run:    cargo test -p mailex-core --test plugins hostile
//!         (the test loads it and checks that the failure is clear, within the deadline,
//!         and that the next email still extracts)

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-deep-recursion";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        // Behave on a mail whose subject says so, so the "next email" test can use the
        // same instance-pre: any other subject triggers the misbehaviour.
        if message.subject_str() == "behave" {
            let mut fields = Fields::new();
            fields.text("status", "ok");
            return Ok(fields);
        }
        let depth = dive(std::hint::black_box(0));
        Err(ExtractError::Internal(format!(
            "unreachable: returned from depth {depth}"
        )))
    }
}

/// Recurse forever. Only scalars live in the frame, so the recursion runs on the wasm
/// stack (which wasmtime caps) rather than on Rust's shadow stack in linear memory;
/// `black_box` around the call keeps LLVM from turning the recursion into a loop.
#[allow(unconditional_recursion)]
fn dive(n: u64) -> u64 {
    std::hint::black_box(dive(std::hint::black_box(n + 1))) ^ n
}

export!(Hostile);
