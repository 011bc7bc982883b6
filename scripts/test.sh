#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (`.ci/run` calls this script).
#
# It installs what the tests need (the wasm32-wasip2 target, the Python tools), builds the
# WebAssembly plugins, starts a local S3 server (moto) on loopback, then runs formatting, lint,
# every test of the workspace and of the plugins, and the deployment template lint. The tests
# of the Kafka sink run last, against a Kafka broker (tansu) on loopback: on a machine that has
# not built the broker yet, it builds in the background while the rest runs
# (scripts/start-kafka.sh; its build is cached outside the clone).
# Nothing is mocked: plugins are real .wasm components, S3 is a real HTTP API, Kafka a real broker.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# This script starts every server the tests need, so a test that finds none must fail, not
# skip: the test helpers (tests/src/local_aws.rs, local_kafka.rs) read CI=true as that order.
export CI=true

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and tools"
rustup show active-toolchain >/dev/null
rustup target add wasm32-wasip2 >/dev/null
python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

step "build the Kafka broker for the tests in the background (once; log in target/kafka-broker-build.log)"
mkdir -p target
# In a session of its own, so that the trap below can stop the whole build (cargo and its rustc
# children) if this script stops early. Where the kernel schedules by session (autogroup, as on
# the development machine), it shares the cores evenly with the steps below.
setsid bash scripts/start-kafka.sh --build-only >target/kafka-broker-build.log 2>&1 &
broker_build=$!
stop_all() {
  kill -- "-$broker_build" 2>/dev/null || true
  kill "${MAILEX_TEST_S3_PID:-}" "${MAILEX_TEST_KAFKA_PID:-}" 2>/dev/null || true
}
trap stop_all EXIT

step "format"
cargo fmt --all --check

step "build the WebAssembly plugins"
bash scripts/build-plugins.sh

step "start a local S3 server"
exports="$(bash scripts/start-s3.sh)" && eval "$exports"

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The engine and rule language without the plugin host (no wasmtime): what embedding the DSL takes.
cargo clippy -p mailex-core --no-default-features --locked -- -D warnings
(cd plugins && cargo fmt --all --check && cargo clippy --workspace --target wasm32-wasip2 --locked -- -D warnings)
# The SDK's native tests (outside wasm, host primitives panic catchably instead of aborting).
(cd plugins && cargo test -p mailex-plugin-sdk --locked --target "$(rustc -vV | sed -n 's/^host: //p')")

step "tests (all but the Kafka sink's)"
cargo test --workspace --locked -- --skip kafka

step "start a local Kafka broker (tansu) and run the Kafka sink's tests"
if ! wait "$broker_build"; then
  cat target/kafka-broker-build.log
  exit 1
fi
exports="$(bash scripts/start-kafka.sh)" && eval "$exports"
# The same test binaries, nothing rebuilt: every test whose name says kafka (the tests that need
# the broker fail under CI=true without one, so none can hide in the first run).
cargo test --workspace --locked --tests -- kafka

step "the README's first command on the example inbox, records checked against the schema"
# The binary `cargo test --workspace` just built: `cargo run -p mailex-cli` would resolve features
# for the CLI alone and rebuild wasmtime a second time (minutes on CI), for the same code.
target/debug/mailex extract --config examples/mailex.toml examples/inbox/ > target/example-records.jsonl
python3 scripts/validate-records.py docs/record.schema.json target/example-records.jsonl

step "deployment template"
bash scripts/lint-template.sh

echo
echo "all checks passed"
