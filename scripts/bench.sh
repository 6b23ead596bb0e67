#!/usr/bin/env bash
# The benchmarks: hubwire against the official @microsoft/signalr client and a raw-WebSocket
# floor, plus the mock hub's capacity. `./run.sh bench` runs setup first, then this.
#
# Usage: bash scripts/bench.sh [--quick] [--size-steps] [--no-record]
#   --quick        small counts: checks the tooling end to end in about a minute; nothing is
#                  recorded (the numbers are not comparable)
#   --size-steps   also (re)measure the size ladder (bench/size/steps.sh: one wasm build per
#                  size setting; 2-3 minutes per step the first time, cached afterwards)
#   --no-record    leave BENCHMARKS.md and bench/results.json as they are
#
# Steps: the release npm package (scripts/build-wasm.sh, the same build `./run.sh build`
# makes), release builds of the mock hub and the load generator, the benchmark pages staged
# with the official client's signalr.min.js under target/bench/site, then bench/run.mjs, which
# runs everything in headless Chromium against the mock hub on 127.0.0.1, prints the table and
# writes target/bench/results.json. A full run records itself: bench/results.json and the
# "latest run" section of BENCHMARKS.md. Bounded: every step has a time limit and the whole
# run is cut off after BENCH_TIMEOUT seconds (default 1200; a normal run takes a few minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUICK=()
SIZE_STEPS=0
RECORD=1
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=(--quick); RECORD=0 ;;
    --size-steps) SIZE_STEPS=1 ;;
    --no-record) RECORD=0 ;;
    *) echo "usage: bash scripts/bench.sh [--quick] [--size-steps] [--no-record]" >&2; exit 2 ;;
  esac
done

say() { printf '[bench] %s\n' "$*"; }

[ -f target/toolchain.env ] || bash scripts/setup.sh
# shellcheck source=/dev/null
source target/toolchain.env
# bench/run.mjs records how the wasm was built.
export HUBWIRE_WASM_ROUTE HUBWIRE_WASM_RUSTFLAGS="${HUBWIRE_WASM_RUSTFLAGS-}" \
  HUBWIRE_WASM_STD_FEATURES="${HUBWIRE_WASM_STD_FEATURES-}"

# The load generator holds 5,000 sockets and the hub as many; 1,024 open files (a common soft
# limit) is too few. Raise the soft limit as far as the hard limit allows.
hard_limit="$(ulimit -Hn)"
if [ "$hard_limit" = unlimited ] || [ "$hard_limit" -gt 65536 ]; then hard_limit=65536; fi
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard_limit" ]; then
  ulimit -Sn "$hard_limit" || true
fi
say "open files limit: $(ulimit -Sn) (the load generator needs about 5,100)"

start=$SECONDS
say "building the release npm package (scripts/build-wasm.sh)"
bash scripts/build-wasm.sh

say "building the mock hub and the load generator (release)"
native_cargo build --release -q -p hubwire-mock -p hubwire-loadgen </dev/null
NATIVE_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$NATIVE_TARGET" in /*) ;; *) NATIVE_TARGET="$ROOT/$NATIVE_TARGET" ;; esac

say "staging the benchmark pages in target/bench/site"
SITE="$ROOT/target/bench/site"
rm -rf "$SITE"
mkdir -p "$SITE/bench/vendor"
cp -R bench/www/. "$SITE/bench/"
cp node_modules/@microsoft/signalr/dist/browser/signalr.min.js "$SITE/bench/vendor/"

SIZE_ARGS=()
if [ "$SIZE_STEPS" -eq 1 ]; then
  say "measuring the size ladder (bench/size/steps.sh)"
  bash bench/size/steps.sh "$ROOT/target/bench/size-steps.json"
  SIZE_ARGS=(--size-steps target/bench/size-steps.json)
fi

RECORD_ARGS=()
[ "$RECORD" -eq 0 ] || RECORD_ARGS=(--record BENCHMARKS.md)

say "running the benchmarks (bench/run.mjs)"
rm -f target/bench/results.json
set +e
timeout --kill-after=30 "${BENCH_TIMEOUT:-1200}" node bench/run.mjs \
  --mock "$NATIVE_TARGET/release/hubwire-mock" --loadgen "$NATIVE_TARGET/release/hubwire-loadgen" \
  --site "$SITE" --pkg pkg --out target/bench/results.json --markdown target/bench/results.md \
  "${SIZE_ARGS[@]}" "${RECORD_ARGS[@]}" "${QUICK[@]}" </dev/null
rc=$?
set -e
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  say "the run was cut off after ${BENCH_TIMEOUT:-1200} s"
fi
# Recorded only when every step worked (bench/run.mjs records BENCHMARKS.md on the same rule).
if [ "$RECORD" -eq 1 ] && [ "$rc" -eq 0 ] && [ -f target/bench/results.json ]; then
  cp target/bench/results.json bench/results.json
  say "recorded: bench/results.json and BENCHMARKS.md (latest run)"
fi
say "done in $((SECONDS - start)) s"
exit "$rc"
