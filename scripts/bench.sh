#!/usr/bin/env bash
# Process-level speed of mailex against a bare mail-parser parse (issue 11), on this machine.
#
#   bash scripts/bench.sh [PAIRS]      (default 5 pairs per comparison)
#
# Builds release, generates the inputs under target/bench/, and runs each comparison as PAIRS
# back-to-back pairs (yardstick, then mailex), printing the median of each side and the median
# of the per-pair ratios. The yardstick is `bench-floor` (bench/floor): mail-parser configured as
# mailex configures it, plus the text body, nothing else. Ratios, not absolute times, are what
# BENCHMARKS.md compares with the goals; close other work before measuring. The criterion
# benches (`cargo bench -p mailex-core`) cover the inner loops.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-5}"

cargo build --release --locked -p mailex-cli -p mailex-bench-floor >&2
bash scripts/build-plugins.sh >&2
mailex=target/release/mailex
floor=target/release/bench-floor
work=target/bench
rm -rf "$work" && mkdir -p "$work/leads880" "$work/plugin200" "$work/one"

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
# The example plugins on the routes of the example config, from the compiled-module cache.
plugins_dir=$(pwd)/target/plugins
sed -e "s#extractor = \"rules/zillow.rules\"#extractor = \"$plugins_dir/zillow_rentals.wasm\"#" \
    -e "s#extractor = \"rules/facebook-leads.rules\"#extractor = \"$plugins_dir/facebook_zapier.wasm\"#" \
    examples/mailex.toml > examples/.bench-plugins.toml
trap 'rm -f examples/.bench-plugins.toml' EXIT
export MAILEX_PLUGIN_CACHE="$(pwd)/$work/cwasm"
"$mailex" extract --config examples/.bench-plugins.toml "$work/one" >/dev/null # warm the cache

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
  printf '%-44s %9.1f ms %9.1f ms %7.2fx\n' "$name" \
    "$(printf '%s\n' "${bs[@]}" | median | awk '{print $1*1000}')" \
    "$(printf '%s\n' "${ms[@]}" | median | awk '{print $1*1000}')" \
    "$(printf '%s\n' "${rs[@]}" | median)"
}

printf '%-44s %12s %12s %8s\n' "work ($pairs pairs, medians)" "yardstick" "mailex" "ratio"
compare "880 lead mails, example config, -j 1" \
  "$floor $work/leads880" "$mailex extract -j 1 --config examples/mailex.toml $work/leads880"
compare "one mail, example config (start-up)" \
  "$floor $work/one" "$mailex extract -j 1 --config examples/mailex.toml $work/one"
compare "200 mails, example plugins, -j 1" \
  "$floor $work/plugin200" "$mailex extract -j 1 --config examples/.bench-plugins.toml $work/plugin200"
compare "880 lead mails: -j 1 (yardstick) vs -j 2" \
  "$mailex extract -j 1 --config examples/mailex.toml $work/leads880" \
  "$mailex extract -j 2 --config examples/mailex.toml $work/leads880"
echo "(last row: a ratio below 1 is the speed-up of -j 2; the goal is 1/1.8 = 0.56 or less)"
