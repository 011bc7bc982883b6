#!/usr/bin/env bash
# The function as it is deployed, tested: builds it the way docs/deploy.md does (`sam build`,
# whose `BuildMethod: rust-cargolambda` runs `cargo lambda build --release --arm64`), checks the
# result is an arm64 Linux executable, and runs the Lambda host's tests that start `bootstrap`
# (a local Lambda Runtime API and the local S3 API: records, errors, init errors, config swaps,
# the documented deployment) on that very binary under qemu-aarch64.
#
#   scripts/lambda-arm64.sh              # build, then test
#   scripts/lambda-arm64.sh --no-build   # test the last build again
#
# Not part of scripts/test.sh: a release build for a second architecture takes longer than the
# rest of CI together. The tools it needs are installed once, outside the clone: cargo-lambda
# (with Zig, for the cross link) and the SAM CLI in a virtualenv under ~/.cache/mailex-tools,
# the Rust target, and Debian's qemu-user-static with the arm64 C library.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
[[ "${1:-}" == "--no-build" ]] && build=0

tools="${MAILEX_TOOLS_DIR:-$HOME/.cache/mailex-tools}"
venv="$tools/lambda-venv"
if [[ ! -x "$venv/bin/sam" || ! -x "$venv/bin/cargo-lambda" ]]; then
  echo "lambda-arm64: installing cargo-lambda, ziglang and aws-sam-cli into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check cargo-lambda ziglang aws-sam-cli
fi
# The build tools come from the virtualenv (cargo-lambda runs Zig through its Python); the
# tests afterwards run with the caller's PATH (its python3 has the test tools).
caller_path="$PATH"
export PATH="$venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu >&2
sysroot=/usr/aarch64-linux-gnu
if ! command -v qemu-aarch64-static >/dev/null || [[ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]]; then
  echo "lambda-arm64: installing qemu-user-static and the arm64 C library (Debian)" >&2
  sudo=""; [[ "$(id -u)" == 0 ]] || sudo=sudo
  $sudo apt-get install -y -q qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross >&2
fi

build_dir=target/sam/build
if [[ "$build" == 1 ]]; then
  started=$(date +%s)
  SAM_CLI_TELEMETRY=0 sam build --beta-features --template-file deploy/template.yaml \
    --build-dir "$build_dir" --cache-dir target/sam/cache
  echo "lambda-arm64: sam build took $(( $(date +%s) - started )) s" >&2
fi
binary="$PWD/$build_dir/MailexFunction/bootstrap"
# An ELF executable for AArch64 (e_machine 183), as Lambda's arm64 runtime needs.
python3 - "$binary" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(20)
assert head[:4] == b"\x7fELF", "not an ELF file"
machine = struct.unpack("<H", head[18:20])[0]
assert machine == 183, f"e_machine {machine}, not AArch64 (183)"
print(f"lambda-arm64: {sys.argv[1]} is an AArch64 ELF executable", file=sys.stderr)
PY
ls -l "$binary" >&2

export PATH="$caller_path"
bash scripts/build-plugins.sh >&2
eval "$(bash scripts/start-s3.sh)"
trap 'kill "$MAILEX_TEST_S3_PID" 2>/dev/null || true' EXIT
MAILEX_TEST_BOOTSTRAP="$binary" \
MAILEX_TEST_BOOTSTRAP_RUNNER="qemu-aarch64-static -L $sysroot" \
CI=true \
  cargo test --workspace --locked --test tests -- it::end_to_end:: it::deploy_docs:: it::ops::
