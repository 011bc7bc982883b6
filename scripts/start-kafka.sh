#!/usr/bin/env bash
# Starts a real Kafka-protocol broker on 127.0.0.1 with a free port, waits until it answers, and
# prints shell exports for the tests:
#
#   eval "$(scripts/start-kafka.sh)"   # sets MAILEX_TEST_KAFKA_BROKER and MAILEX_TEST_KAFKA_PID
#   cargo test --workspace -- kafka
#   kill "$MAILEX_TEST_KAFKA_PID"
#
#   scripts/start-kafka.sh --build-only  # only builds the broker (scripts/test.sh runs this in
#                                        # the background while the rest of the suite runs)
#
# The broker is tansu (Apache-2.0, a Kafka-compatible broker written in Rust, from crates.io),
# with its in-memory storage engine: every start is an empty cluster. It is built once with
# `cargo install` into a cache outside the clone
# (${MAILEX_TOOLS_DIR:-~/.cache/mailex-tools}/tansu-<version>-dev), with only the `dynostore`
# feature (the memory and S3 engines; no PostgreSQL, SQLite, Iceberg or Delta Lake), and in
# cargo's dev profile without debug info: the tests send a few dozen messages, and an
# optimised build of its ~390 crates takes several times as long (measured on the development
# machine on 2026-11-30: 80 min optimised with two other builds running; 566 s in the dev
# profile alone).
#
# Only stdout carries the exports; progress goes to stderr. The broker's log is in
# ${TMPDIR:-/tmp}/mailex-tansu-<port>.log.
set -euo pipefail

TANSU_VERSION=0.6.0
PYTHON="${PYTHON:-python3}"
TOOLS="${MAILEX_TOOLS_DIR:-$HOME/.cache/mailex-tools}"
ROOT="$TOOLS/tansu-$TANSU_VERSION-dev"
TANSU="$ROOT/bin/tansu"

if [ ! -x "$TANSU" ]; then
  echo "start-kafka: building tansu $TANSU_VERSION into $ROOT (once; several minutes)" >&2
  started=$(date +%s)
  # A build directory of its own in the cache (not cargo's temporary one): a build that was
  # interrupted resumes where it stopped; it is removed once the binary is installed.
  CARGO_TARGET_DIR="$TOOLS/tansu-build" CARGO_PROFILE_DEV_DEBUG=false \
    cargo install tansu --version "$TANSU_VERSION" --locked --no-default-features \
    --features dynostore --debug --root "$ROOT" >&2
  rm -rf "$TOOLS/tansu-build"
  echo "start-kafka: tansu built in $(( $(date +%s) - started )) s" >&2
fi
if [ "${1:-}" = "--build-only" ]; then
  exit 0
fi

PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
LOG="${TMPDIR:-/tmp}/mailex-tansu-${PORT}.log"
"$TANSU" broker \
  --listener-url "tcp://127.0.0.1:$PORT" \
  --advertised-listener-url "tcp://127.0.0.1:$PORT" \
  --storage-engine "memory://tansu/" >"$LOG" 2>&1 &
PID=$!

# Ready when it answers a Kafka ApiVersions request (not only accepts connections).
for _ in $(seq 1 100); do
  if "$PYTHON" - "$PORT" <<'PY' >/dev/null 2>&1
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
client = b"mailex-start"
# ApiVersions v0: api_key 18, version 0, correlation id 1, client id.
body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
s.sendall(struct.pack(">i", len(body)) + body)
size = struct.unpack(">i", s.recv(4))[0]
answer = s.recv(size)
assert struct.unpack(">i", answer[:4])[0] == 1
PY
  then
    echo "start-kafka: tansu (pid $PID) answers on 127.0.0.1:$PORT" >&2
    echo "export MAILEX_TEST_KAFKA_BROKER=127.0.0.1:$PORT"
    echo "export MAILEX_TEST_KAFKA_PID=$PID"
    echo "export MAILEX_TEST_KAFKA_BIN=$TANSU"
    exit 0
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "start-kafka: tansu exited; log follows" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.2
done
echo "start-kafka: tansu did not answer within 20 s; log follows" >&2
cat "$LOG" >&2
kill "$PID" 2>/dev/null || true
exit 1
