#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (`.ci/run` calls this script).
#
# It installs what the tests need (the wasm32-wasip2 target, the Python tools), builds the
# WebAssembly plugins, starts a local S3 server (moto) and a Kafka broker (tansu) on loopback,
# then runs formatting, lint, every test of the workspace and of the plugins, and the
# deployment template lint.
# Nothing is mocked: plugins are real .wasm components and S3 is a real HTTP API.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and tools"
rustup show active-toolchain >/dev/null
rustup target add wasm32-wasip2 >/dev/null
python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

step "format"
cargo fmt --all --check

step "build the WebAssembly plugins"
bash scripts/build-plugins.sh

step "start a local S3 server"
exports="$(bash scripts/start-s3.sh)" && eval "$exports"
trap 'kill "$MAILEX_TEST_S3_PID" 2>/dev/null || true' EXIT

step "start a local Kafka broker (tansu; built once into ~/.cache/mailex-tools)"
exports="$(bash scripts/start-kafka.sh)" && eval "$exports"
trap 'kill "$MAILEX_TEST_S3_PID" "$MAILEX_TEST_KAFKA_PID" 2>/dev/null || true' EXIT

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The engine and rule language without the plugin host (no wasmtime): what embedding the DSL takes.
cargo clippy -p mailex-core --no-default-features --locked -- -D warnings
(cd plugins && cargo fmt --all --check && cargo clippy --workspace --target wasm32-wasip2 --locked -- -D warnings)
# The SDK's native tests (outside wasm, host primitives panic catchably instead of aborting).
(cd plugins && cargo test -p mailex-plugin-sdk --locked --target "$(rustc -vV | sed -n 's/^host: //p')")

step "tests"
cargo test --workspace --locked

step "the README's first command on the example inbox, records checked against the schema"
# The binary `cargo test --workspace` just built: `cargo run -p mailex-cli` would resolve features
# for the CLI alone and rebuild wasmtime a second time (minutes on CI), for the same code.
target/debug/mailex extract --config examples/mailex.toml examples/inbox/ > target/example-records.jsonl
python3 scripts/validate-records.py docs/record.schema.json target/example-records.jsonl

step "deployment template"
bash scripts/lint-template.sh

echo
echo "all checks passed"
