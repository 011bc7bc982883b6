#!/usr/bin/env bash
# Measures the resource attacks of tests/src/hostile.rs at full size (just under 40 MB) against
# a release build: one fresh `mailex extract --jobs 1` process per attack, printing the record's
# status and code, the wall time and the peak RSS, and checking the promise of
# docs/security.md (one record, under 2 s and 256 MiB). Exit code 1 if any attack misses it.
#
#   bash scripts/hostile-inputs.sh                 # every attack, full size
#   bash scripts/hostile-inputs.sh many-headers     # one attack
#   bash scripts/hostile-inputs.sh --size 1000000   # smaller inputs
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p mailex-cli -p mailex-tests --bin mailex --bin hostile-inputs
exec target/release/hostile-inputs "$@"
