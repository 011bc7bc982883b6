#!/usr/bin/env bash
# Instruction counts (valgrind's callgrind: deterministic, unlike wall time on a shared VM) of
# mailex against the bare-parse yardstick, on the inputs `scripts/bench.sh` generates. Run
# `bash scripts/bench.sh` (or `--no-build`) first. Prints, per work: instructions of one mail
# (start-up), of N mails, and per mail in steady state ((N-run - first-run) / (N - K), the
# first run being K mails that use each extractor once), each for
# both programs, and the steady-state ratio. Needs valgrind. Plugin routes are left out (see the
# end of this file).
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench
mailex=target/release/mailex
floor=target/release/bench-floor
export MAILEX_PLUGIN_CACHE="$(pwd)/$work/cwasm"
instr() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
sample() { # sample DIR N: the first N files of DIR in a folder of their own
  local dir="$work/sample-$(basename "$1")-$2"
  rm -rf "$dir" && mkdir -p "$dir"
  ls "$1" | sed -n "1,${2}p" | while read -r f; do cp "$1/$f" "$dir/"; done
  echo "$dir"
}
row() { # row NAME CONFIG DIR N START-UP-DIR: START-UP-DIR's mails are the first use
  local name="$1" config="$2" dir n="$4" first="$5" k b1 bn m1 mn
  dir=$(sample "$3" "$n")
  k=$(ls "$first" | wc -l)
  b1=$(instr "$floor" "$first"); bn=$(instr "$floor" "$dir")
  m1=$(instr "$mailex" extract -j 1 --config "$config" "$first")
  mn=$(instr "$mailex" extract -j 1 --config "$config" "$dir")
  awk -v n="$name" -v N="$n" -v K="$k" -v b1="$b1" -v bn="$bn" -v m1="$m1" -v mn="$mn" 'BEGIN {
    bs = (bn - b1) / (N - K); ms = (mn - m1) / (N - K)
    printf "%-30s %8.1fM %8.1fM %9.0fK %9.0fK %7.2fx\n", n, b1/1e6, m1/1e6, bs/1e3, ms/1e3, ms/bs }'
}
printf '%-30s %9s %9s %10s %10s %8s\n' "work" "floor 1" "mailex 1" "floor/mail" "mailex/mail" "ratio"
row "lead mails (88), rules" examples/mailex.toml "$work/leads880" 88 "$work/one"
row "built-in mails (30)" examples/mailex.toml "$work/builtin300" 30 "$work/builtin3"
# No plugin row: wasmtime's pooling allocator reserves ~516 GB of address space, which
# valgrind refuses; `scripts/bench.sh` times the plugin routes.
