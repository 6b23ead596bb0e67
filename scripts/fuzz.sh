#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (and the engine) with cargo-fuzz and libFuzzer, on
# the machine's rustup nightly toolchain. Targets live in fuzz/fuzz_targets/, their seed corpora
# in fuzz/corpus/<target>/ (committed; never written to by a run).
#
# Usage: bash scripts/fuzz.sh [SECONDS] [--quick] [--no-record]
#   SECONDS      how long each target runs after replaying its corpus (default 120)
#   --quick      what ./run.sh test runs: corpus replay plus SECONDS (default 10) per target;
#                nothing is recorded
#   --no-record  a long run without updating RELIABILITY.md
#
# Each target first replays the committed corpus, then explores for SECONDS with ASan, a 5 s
# limit per input (a slow input is a finding: nothing may loop) and a 2 GiB memory limit.
# New inputs go to target/fuzz/corpus/<target>/ (kept between runs, not committed); a crash
# writes its input to target/fuzz/artifacts/<target>/ and fails the run. Prints one line per
# target and "N passed, M failed"; a long run records its numbers in RELIABILITY.md.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET=""
QUICK=0
RECORD=1
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1; RECORD=0 ;;
    --no-record) RECORD=0 ;;
    ''|*[!0-9]*) echo "usage: bash scripts/fuzz.sh [SECONDS] [--quick] [--no-record]" >&2; exit 2 ;;
    *) SECONDS_PER_TARGET="$arg" ;;
  esac
done
if [ -z "$SECONDS_PER_TARGET" ]; then
  if [ "$QUICK" -eq 1 ]; then SECONDS_PER_TARGET=10; else SECONDS_PER_TARGET=120; fi
fi
# A bound on the whole run, whatever SECONDS says: each target may take its time plus a minute.
[ "$SECONDS_PER_TARGET" -le 3600 ] || { echo "[fuzz] at most 3600 seconds per target" >&2; exit 2; }

say() { printf '[fuzz] %s\n' "$*"; }

[ -f target/toolchain.env ] || bash scripts/setup.sh
# shellcheck source=/dev/null
source target/toolchain.env

WORK="$ROOT/target/fuzz"
BUILD_DIR="$ROOT/target/fuzz-build"
mkdir -p "$WORK"
mapfile -t TARGETS < <(cd fuzz && cargo +nightly fuzz list 2>/dev/null)
if [ "${#TARGETS[@]}" -eq 0 ]; then
  say "cargo +nightly fuzz list found no targets (is cargo-fuzz installed? scripts/setup.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi

say "building ${#TARGETS[@]} targets with cargo +nightly fuzz build (ASan, release with debug assertions)"
if ! (cd fuzz && cargo +nightly fuzz build --target-dir "$BUILD_DIR" </dev/null); then
  echo "0 passed, 1 failed"
  exit 1
fi

PASSED=0
FAILED=0
ROWS=()
for target in "${TARGETS[@]}"; do
  corpus="$WORK/corpus/$target"
  artifacts="$WORK/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  seeds="$(find "fuzz/corpus/$target" -type f 2>/dev/null | wc -l)"
  log="$WORK/$target.log"
  say "$target: replaying $seeds committed inputs, then $SECONDS_PER_TARGET s"
  # The first corpus directory receives new inputs; the committed one is only read.
  timeout --kill-after=30 $((SECONDS_PER_TARGET + 60)) \
    bash -c 'cd fuzz && exec cargo +nightly fuzz run --target-dir "$1" "$2" "$3" "$4" -- \
      -max_total_time="$5" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$6/"' _ "$BUILD_DIR" "$target" "$corpus" "$ROOT/fuzz/corpus/$target" \
      "$SECONDS_PER_TARGET" "$artifacts" </dev/null >"$log" 2>&1
  rc=$?
  execs="$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]*([0-9]+).*/\1/p' "$log" | tail -n1)"
  found="$(find "$corpus" -type f | wc -l)"
  if [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    say "ok    $target: ${execs:-?} executions, corpus $found inputs, no crash"
    ROWS+=("| \`$target\` | ${execs:-?} | $SECONDS_PER_TARGET | $found | 0 |")
  else
    FAILED=$((FAILED + 1))
    say "FAIL  $target (exit $rc): see ${log#"$ROOT"/}; crashing input in ${artifacts#"$ROOT"/}/"
    grep -E "panicked at|ERROR: libFuzzer|SUMMARY:|Test unit written" "$log" | head -n 8 | sed 's/^/[fuzz]       /'
    ROWS+=("| \`$target\` | ${execs:-?} | $SECONDS_PER_TARGET | $found | 1 (exit $rc) |")
  fi
done

if [ "$RECORD" -eq 1 ] && [ "$FAILED" -eq 0 ]; then
  # The section between the markers in RELIABILITY.md is rewritten with this run.
  table="$(printf '%s\n' "| target | executions | seconds | corpus after | crashes |" "| --- | ---: | ---: | ---: | ---: |" "${ROWS[@]}")"
  stamp="$(date -u +%Y-%m-%d) on $(nproc) cores, $(rustup run nightly rustc --version 2>/dev/null), commit $(git rev-parse --short HEAD 2>/dev/null)"
  node -e '
    const fs = require("fs");
    const [file, stamp, table] = process.argv.slice(1);
    const begin = "<!-- fuzz-run:begin -->", end = "<!-- fuzz-run:end -->";
    const text = fs.readFileSync(file, "utf8");
    const a = text.indexOf(begin), b = text.indexOf(end);
    if (a < 0 || b < a) { console.error(`[fuzz] ${file} has no ${begin} ... ${end} section`); process.exit(1); }
    const body = `${begin}\nLast long run: ${stamp}.\n\n${table}\n${end}`;
    fs.writeFileSync(file, text.slice(0, a) + body + text.slice(b + end.length));
  ' RELIABILITY.md "$stamp" "$table" && say "recorded in RELIABILITY.md"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
