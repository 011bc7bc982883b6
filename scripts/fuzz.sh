#!/usr/bin/env bash
# Fuzzes mailex with cargo fuzz (libFuzzer) on a nightly toolchain. CI does not run this: it
# replays the seeds and fuzz/regressions/ on stable (tests/tests/integration/fuzz_seeds.rs).
#
#   bash scripts/fuzz.sh                 # every target, 60 s each
#   bash scripts/fuzz.sh 1200 engine adf # 20 minutes each for two targets
#   JOBS=2 bash scripts/fuzz.sh 1200     # two targets at a time
#
# Every input runs under a resource check (fuzz/src/lib.rs): more than MAILEX_FUZZ_MAX_MS
# (10000 here, see below) or MAILEX_FUZZ_MAX_MB (default 256, peak heap) aborts, and libFuzzer saves the
# input under fuzz/artifacts/<target>/. The corpus grows in fuzz/corpus/<target>/ (not committed;
# seeded from the repository's fixtures). A summary line per target goes to fuzz/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(engine auth_results rules_compiler adf html_text)
fi
jobs="${JOBS:-1}"
# The fuzz build keeps debug assertions and overflow checks (they find bugs), which make it
# several times slower than a release build, regex compilation most of all; its time limit is
# therefore 10 s. The 2 s promise itself is measured on release builds by
# scripts/hostile-inputs.sh and the measure-check bin.
export MAILEX_FUZZ_MAX_MS="${MAILEX_FUZZ_MAX_MS:-10000}"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal >&2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked >&2
fi

# Seeds from the fixtures (stable toolchain, the project's own binary). Built with the whole
# workspace's features, as the test suite builds it: `-p mailex-tests` alone would resolve other
# features and rebuild the engine's dependencies.
cargo test --quiet --locked --workspace --no-run
"$root/target/debug/fuzz-seeds" "$root/fuzz/corpus"

# Build every target once (release, debug assertions on, no sanitizer: the targets are safe Rust,
# and the resource limits must measure mailex, not ASan's shadow memory).
(cd fuzz && for t in "${targets[@]}"; do cargo +nightly fuzz build -s none "$t" >&2; done)

run_one() {
    local target="$1"
    local log="$root/fuzz/logs/$target.log"
    mkdir -p "$root/fuzz/logs" "$root/fuzz/artifacts/$target"
    local status=0
    (cd "$root/fuzz" && cargo +nightly fuzz run -s none "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=1048576 \
        -print_final_stats=1 -artifact_prefix="artifacts/$target/") >"$log" 2>&1 || status=$?
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    local crashes
    crashes=$(find "$root/fuzz/artifacts/$target" -type f | wc -l)
    printf '%s %s: %s s, %s executions, exit %s, %s artefacts in fuzz/artifacts/%s\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$target" "$seconds" "$runs" "$status" "$crashes" "$target" \
        | tee -a "$root/fuzz/summary.txt"
}

running=0
for target in "${targets[@]}"; do
    run_one "$target" &
    running=$((running + 1))
    if [[ $running -ge $jobs ]]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true
