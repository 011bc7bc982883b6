#!/usr/bin/env bash
# Build every example, hostile and compatibility plugin to wasm32-wasip2 (release) and copy the
# components to target/plugins/*.wasm, where core's integration tests and benches
# look for them. The test command runs this before `cargo test`.
#
# Usage:  scripts/build-plugins.sh            (from anywhere inside the repository)
# Needs:  rustup target add wasm32-wasip2     (rust-toolchain.toml lists it)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/plugins"
mkdir -p "$out"

# The plugins workspace has its own Cargo.lock and builds into target/wasm
# (plugins/.cargo/config.toml sets the target and the target dir).
(cd "$root/plugins" && cargo build --release --workspace --target wasm32-wasip2 --locked)

built="$root/target/wasm/wasm32-wasip2/release"
count=0
# Copy exactly the workspace's plugins (not other .wasm files that may sit in the
# shared target directory).
for manifest in "$root"/plugins/examples/*/Cargo.toml "$root"/plugins/hostile/*/Cargo.toml \
    "$root"/plugins/compat/*/Cargo.toml; do
    name="$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)"
    wasm="$built/${name//-/_}.wasm"
    if [[ ! -f "$wasm" ]]; then
        echo "build-plugins: $wasm was not built" >&2
        exit 1
    fi
    cp -f "$wasm" "$out/"
    count=$((count + 1))
done

# The last hostile plugin is not a plugin at all: a text file named like one.
printf 'this is not a WebAssembly component, only a file named like one\n' > "$out/hostile_not_wasm.wasm"

echo "build-plugins: $count components and 1 non-wasm file in $out"
