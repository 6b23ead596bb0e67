#!/usr/bin/env bash
# hubwire's entry point: every command first runs scripts/setup.sh (quick when nothing is
# missing), so a fresh clone needs nothing but this script.
#
#   ./run.sh test    run every test suite; the last line is "N passed, M failed"
#   ./run.sh build   build the npm package into pkg/
#   ./run.sh demo    build, then serve the live demo from the mock hub (PORT, default 5173)
#   ./run.sh bench   benchmarks against the official client and a raw-WebSocket floor
#   ./run.sh fuzz    coverage-guided fuzzing of every parser and the engine (SECONDS per target)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

usage() {
  cat <<'USAGE'
usage: ./run.sh COMMAND

  test    set up, then run every test suite (native Rust, wasm build, JS); ends with
          "N passed, M failed" and exits non-zero if anything failed
  build   set up, then build the npm package into pkg/ (scripts/build-wasm.sh)
  demo    set up, build, then start the mock hub serving www/ and pkg/ on PORT (default 5173)
  bench   set up, build release artifacts, then benchmark hubwire against the official client
          and a raw-WebSocket floor in headless Chromium, and the mock hub with a Rust load
          generator; prints the table, writes target/bench/results.json and records the run
          in BENCHMARKS.md (scripts/bench.sh; options: --quick, --size-steps, --no-record)
  fuzz [SECONDS]
          set up, then run every fuzz target for SECONDS (default 120) after replaying its
          corpus; records the run in RELIABILITY.md (scripts/fuzz.sh; option: --no-record)
USAGE
}

case "${1:-}" in
  test)
    if ! bash scripts/setup.sh; then
      # Keep the promise of a closing count line even when the tools could not be set up.
      echo "[run] setup failed: no suite could run" >&2
      echo "0 passed, 1 failed"
      exit 1
    fi
    exec bash scripts/test.sh
    ;;
  build)
    bash scripts/setup.sh
    exec bash scripts/build-wasm.sh
    ;;
  demo)
    bash scripts/setup.sh
    bash scripts/build-wasm.sh
    # shellcheck source=/dev/null
    source target/toolchain.env
    echo "[run] starting the mock hub (Ctrl-C to stop)"
    native_cargo run --release -p hubwire-mock -- --port "${PORT:-5173}" --www www --pkg pkg --demo
    ;;
  bench)
    shift
    bash scripts/setup.sh
    exec bash scripts/bench.sh "$@"
    ;;
  fuzz)
    shift
    bash scripts/setup.sh
    exec bash scripts/fuzz.sh "$@"
    ;;
  ""|-h|--help|help)
    usage
    ;;
  *)
    echo "unknown command: $1" >&2
    usage >&2
    exit 2
    ;;
esac
