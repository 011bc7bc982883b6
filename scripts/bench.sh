#!/usr/bin/env bash
# Process-level speed of mailex against a bare mail-parser parse (issue 11), on this machine.
#
#   bash scripts/bench.sh [--no-build] [PAIRS]      (default 5 pairs per comparison)
#
# `--no-build` measures the release binaries already in target/release (say which commit built
# them when you quote the numbers).
#
# Builds release, generates the inputs under target/bench/, and runs each comparison as PAIRS
# back-to-back pairs (yardstick, then mailex), printing the median of each side and the median
# of the per-pair ratios. The yardstick is `bench-floor` (bench/floor): mail-parser configured as
# mailex configures it, plus the text body, nothing else. Ratios, not absolute times, are what
# BENCHMARKS.md compares with the goals; close other work before measuring. The criterion
# benches (`cargo bench -p mailex-core`) cover the inner loops.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [[ "${1:-}" == "--no-build" ]]; then build=0; shift; fi
pairs="${1:-5}"

if (( build )); then
  cargo build --release --locked -p mailex-cli -p mailex-bench-floor >&2
fi
bash scripts/build-plugins.sh >&2
mailex=target/release/mailex
floor=target/release/bench-floor
work=target/bench
rm -rf "$work" && mkdir -p "$work/leads880" "$work/plugin200" "$work/one" "$work/builtin300" "$work/builtin3" \
  "$work/leads1k" "$work/leads10k"

# 880 real lead mails: the 22 of tests/fixtures/leads, 40 times each.
for i in $(seq -w 1 40); do
  for f in tests/fixtures/leads/*.eml; do cp "$f" "$work/leads880/$i-$(basename "$f")"; done
done
cp tests/fixtures/leads/zillow.eml "$work/one/"
# 200 mails for the example plugins: Zillow and Zapier (Facebook lead ads), 100 each.
for i in $(seq -w 1 100); do
  cp tests/fixtures/leads/zillow.eml "$work/plugin200/$i-zillow.eml"
  cp tests/fixtures/leads/zapiermail.eml "$work/plugin200/$i-zapiermail.eml"
done
# 300 mails for the built-in extractors: lead-meta (Harbor Homes) and ADF (Carportal), 100 each.
for i in $(seq -w 1 100); do
  for f in examples/inbox/lead-meta-harbor-homes.eml examples/inbox/adf-carportal-*.eml; do
    cp "$f" "$work/builtin300/$i-$(basename "$f")"
  done
done
# One of each built-in mail: the start-up of the built-in rows (first use of each extractor).
cp examples/inbox/lead-meta-harbor-homes.eml examples/inbox/adf-carportal-*.eml "$work/builtin3/"
# About 1,000 and 10,000 lead mails, for memory (peak RSS should not grow with the count).
for i in $(seq -w 1 46); do
  for f in tests/fixtures/leads/*.eml; do cp "$f" "$work/leads1k/$i-$(basename "$f")"; done
done
for i in $(seq -w 1 455); do
  for f in tests/fixtures/leads/*.eml; do cp "$f" "$work/leads10k/$i-$(basename "$f")"; done
done
# The example plugins on the routes of the example config, from the compiled-module cache.
plugins_dir=$(pwd)/target/plugins
sed -e "s#extractor = \"rules/zillow.rules\"#extractor = \"$plugins_dir/zillow_rentals.wasm\"#" \
    -e "s#extractor = \"rules/facebook-leads.rules\"#extractor = \"$plugins_dir/facebook_zapier.wasm\"#" \
    examples/mailex.toml > examples/.bench-plugins.toml
# (ignored by git; scripts/bench-instructions.sh uses it too)
export MAILEX_PLUGIN_CACHE="$(pwd)/$work/cwasm"
"$mailex" extract --config examples/.bench-plugins.toml "$work/one" >/dev/null # warm the cache
# A generated config of 20 routes (the goal's second start-up case): the 7 example rule files
# twice under other names (14 rule files compiled), the 4 example plugins from the compiled-module
# cache, the 2 built-ins, and the Zillow route the one mail takes.
routes20="$work/routes20"
mkdir -p "$routes20/rules"
{
  n=0
  for copy in 1 2; do
    for f in examples/rules/*.rules; do
      n=$((n + 1)); b=$(basename "$f" .rules)
      cp "$f" "$routes20/rules/$b-$copy.rules"
      printf '[[route]]\nname = "r%d"\nsender = "*@r%d.example"\nextractor = "rules/%s-%d.rules"\n\n' "$n" "$n" "$b" "$copy"
    done
  done
  for plugin in zillow_rentals facebook_zapier acme_leads adf_cars; do
    n=$((n + 1))
    printf '[[route]]\nname = "r%d"\nsender = "*@r%d.example"\nextractor = "%s/%s.wasm"\n\n' "$n" "$n" "$plugins_dir" "$plugin"
  done
  for builtin in lead-meta adf; do
    n=$((n + 1))
    printf '[[route]]\nname = "r%d"\nsender = "*@r%d.example"\nextractor = "builtin:%s"\n\n' "$n" "$n" "$builtin"
  done
  printf '[[route]]\nname = "zillow"\nsender = "*@zillowrentals.com"\nextractor = "rules/zillow-1.rules"\n'
} > "$routes20/mailex.toml"
"$mailex" extract --config "$routes20/mailex.toml" "$work/one" >/dev/null # warm the cache

# Seconds (float) one command takes, its output discarded.
seconds() {
  local start end
  start=$EPOCHREALTIME
  "$@" >/dev/null
  end=$EPOCHREALTIME
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {m=(NR+1)/2; if (NR%2) print a[m]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# compare NAME "YARDSTICK CMD" "MAILEX CMD": PAIRS pairs, medians and median ratio.
compare() {
  local name="$1" base="$2" cmd="$3" b m bs=() ms=() rs=()
  for _ in $(seq "$pairs"); do
    b=$(seconds $base); m=$(seconds $cmd)
    bs+=("$b"); ms+=("$m"); rs+=("$(echo "$m / $b" | bc -l)")
  done
  base_ms=$(printf '%s\n' "${bs[@]}" | median | awk '{print $1*1000}')
  mailex_ms=$(printf '%s\n' "${ms[@]}" | median | awk '{print $1*1000}')
  printf '%-44s %9.1f ms %9.1f ms %7.2fx\n' "$name" "$base_ms" "$mailex_ms" \
    "$(printf '%s\n' "${rs[@]}" | median)"
}

# steady NAME: the ratio of the last comparison with the times of the last "start-up" run
# taken off both sides (start-up and first use out, steady state left).
steady() {
  awk -v n="$1" -v b="$base_ms" -v m="$mailex_ms" -v b1="$one_base_ms" -v m1="$one_mailex_ms" \
    'BEGIN { printf "%-44s %9.1f ms %9.1f ms %7.2fx\n", "  " n ", start-up taken off", b-b1, m-m1, (m-m1)/(b-b1) }'
}

printf '%-44s %12s %12s %8s\n' "work ($pairs pairs, medians)" "yardstick" "mailex" "ratio"
compare "one mail, example config (start-up)" \
  "$floor $work/one" "$mailex extract -j 1 --config examples/mailex.toml $work/one"
one_base_ms=$base_ms one_mailex_ms=$mailex_ms
startup_ms=$mailex_ms # the example config's start-up, taken off the -j 2 row below
compare "one mail, generated 20 routes (start-up)" \
  "$floor $work/one" "$mailex extract -j 1 --config $routes20/mailex.toml $work/one"
compare "880 lead mails, example config, -j 1" \
  "$floor $work/leads880" "$mailex extract -j 1 --config examples/mailex.toml $work/leads880"
steady "880 lead mails"
compare "3 built-in mails, one of each (start-up)" \
  "$floor $work/builtin3" "$mailex extract -j 1 --config examples/mailex.toml $work/builtin3"
one_base_ms=$base_ms one_mailex_ms=$mailex_ms
compare "300 mails, built-in extractors, -j 1" \
  "$floor $work/builtin300" "$mailex extract -j 1 --config examples/mailex.toml $work/builtin300"
steady "300 built-in mails"
compare "one mail, example plugins (start-up)" \
  "$floor $work/one" "$mailex extract -j 1 --config examples/.bench-plugins.toml $work/one"
one_base_ms=$base_ms one_mailex_ms=$mailex_ms
compare "200 mails, example plugins, -j 1" \
  "$floor $work/plugin200" "$mailex extract -j 1 --config examples/.bench-plugins.toml $work/plugin200"
steady "200 plugin mails"
compare "880 lead mails: -j 1 (yardstick) vs -j 2" \
  "$mailex extract -j 1 --config examples/mailex.toml $work/leads880" \
  "$mailex extract -j 2 --config examples/mailex.toml $work/leads880"
# Throughput: the example config's one-mail start-up (which loads on every core either way)
# taken off both sides.
awk -v b="$base_ms" -v m="$mailex_ms" -v s="$startup_ms" \
  'BEGIN { printf "%-44s %9.1f ms %9.1f ms %7.2fx\n", "  -j 1 vs -j 2, start-up taken off", b-s, m-s, (m-s)/(b-s) }'
echo "(last rows: a ratio below 1 is the speed-up of -j 2; the goal is 1/1.8 = 0.56 or less)"

# Peak resident memory (KiB) of whole runs, -j 1: flat from 1k to 10k mails is the goal.
peak_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
echo
printf '%-44s %12s\n' "peak RSS, -j 1" "KiB"
for input in leads880 leads1k leads10k; do
  printf '%-44s %12s\n' "$input ($(ls "$work/$input" | wc -l) mails)" \
    "$(peak_kib "$mailex" extract -j 1 --config examples/mailex.toml "$work/$input")"
done
