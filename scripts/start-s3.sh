#!/usr/bin/env bash
# Starts a local S3 API (moto's server, from PyPI) on 127.0.0.1 with a free port, waits until it
# answers, and prints shell exports for the tests:
#
#   eval "$(scripts/start-s3.sh)"      # sets MAILEX_TEST_S3_ENDPOINT and MAILEX_TEST_S3_PID
#   cargo test -p mailex-lambda
#   kill "$MAILEX_TEST_S3_PID"
#
# Installs `moto[server]` with pip when it is missing. Only stdout carries the exports; progress
# goes to stderr. The server's log is in ${TMPDIR:-/tmp}/mailex-moto-<port>.log.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import moto.server, flask, werkzeug' >/dev/null 2>&1; then
  echo "start-s3: installing moto[server] with pip" >&2
  "$PYTHON" -m pip install --quiet 'moto[server]>=5,<6' >&2
fi

PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
LOG="${TMPDIR:-/tmp}/mailex-moto-${PORT}.log"
"$PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
PID=$!

for _ in $(seq 1 100); do
  if "$PYTHON" - "$PORT" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
PY
  then
    echo "start-s3: moto_server (pid $PID) answers on 127.0.0.1:$PORT" >&2
    echo "export MAILEX_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT"
    echo "export MAILEX_TEST_S3_PID=$PID"
    exit 0
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "start-s3: moto_server exited; log follows" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.2
done
echo "start-s3: moto_server did not answer within 20 s; log follows" >&2
cat "$LOG" >&2
kill "$PID" 2>/dev/null || true
exit 1
