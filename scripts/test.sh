#!/usr/bin/env bash
# Runs every test suite and ends with one line, alone: `N passed, M failed`.
# Exits non-zero when any test failed or any suite could not run (a suite that could not run,
# timed out, or exited non-zero without a counted failure adds 1 to the failed count, so the
# closing line never reads "0 failed" for a red run).
#
# Usage: bash scripts/test.sh        (./run.sh test runs setup first, then this)
#   HUBWIRE_NATIVE_TIMEOUT / HUBWIRE_FUZZ_TIMEOUT / HUBWIRE_WASM_TIMEOUT / HUBWIRE_JS_TIMEOUT
#                                                                         seconds per suite
#
# Suites, in order:
#   provenance  scripts/check-provenance.sh: every program the build calls comes from setup or
#           from what a brand-new machine has (one test per program)
#   native  cargo test --workspace --no-fail-fast (host toolchain): unit, integration and doc
#           tests; --no-fail-fast so one failing test binary does not hide the others' counts
#   fuzz    scripts/fuzz.sh --quick: every fuzz target replays its committed corpus and runs
#           briefly (one test per target)
#   wasm    scripts/build-wasm.sh: the crate builds for wasm32 and pkg/ is assembled
#   js      node --test over tests/js/**/*.test.mjs, against the fresh pkg/
# Each suite's output is shown as it runs and kept in target/test-logs/<suite>.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

[ -f target/toolchain.env ] || bash scripts/setup.sh
# shellcheck source=/dev/null
source target/toolchain.env

LOG_DIR="$ROOT/target/test-logs"
mkdir -p "$LOG_DIR"

PASSED=0
FAILED=0
SUMMARY=()

header() {
  printf '\n==============================================================================\n'
  printf '== %s\n' "$*"
  printf '==============================================================================\n'
}

# run_logged NAME TIMEOUT CMD...: runs CMD (a command or a toolchain.env function) with stdin
# closed, its output shown and logged; sets RC.
run_logged() {
  local name="$1" limit="$2"; shift 2
  set +e
  # Through a fresh bash that sources the env, so CMD may be one of its functions (native_cargo).
  # shellcheck disable=SC2016  # $0 and $@ are for that inner bash
  timeout --kill-after=30 "$limit" bash -c 'source "$0" && "$@"' "$ROOT/target/toolchain.env" "$@" \
    </dev/null 2>&1 | tee "$LOG_DIR/$name.log"
  RC=${PIPESTATUS[0]}
  set -e
  if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
    printf '[test] %s timed out after %s s (or was killed)\n' "$name" "$limit" | tee -a "$LOG_DIR/$name.log"
  fi
}

# record NAME PASS FAIL RC NOTE: adds a suite's counts; a non-zero exit with no counted
# failure means the suite itself broke (compile error, crash, timeout): count it as one.
record() {
  local name="$1" pass="$2" fail="$3" rc="$4" note="${5:-}"
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
    note="${note:+$note; }did not complete (exit $rc)"
  fi
  PASSED=$((PASSED + pass))
  FAILED=$((FAILED + fail))
  SUMMARY+=("$(printf '%-10s %5d passed, %d failed%s' "$name" "$pass" "$fail" "${note:+  ($note)}")")
}

# --- provenance: nothing the build calls comes from hand work on this machine -----------------
header "provenance: scripts/check-provenance.sh"
run_logged provenance 120 bash scripts/check-provenance.sh
read -r p_pass p_fail < <(awk '/^[0-9]+ passed, [0-9]+ failed$/ { p = $1; f = $3 } END { printf "%d %d\n", p, f }' "$LOG_DIR/provenance.log")
record provenance "$p_pass" "$p_fail" "$RC"

# --- native: cargo test over the whole workspace ---------------------------------------------
header "native: cargo test --workspace --no-fail-fast"
run_logged native "${HUBWIRE_NATIVE_TIMEOUT:-1500}" native_cargo test --workspace --no-fail-fast
# One "test result:" line per test binary and per doctest run; sum them all.
read -r n_pass n_fail n_ign < <(awk '
  /^test result: / {
    for (i = 1; i <= NF; i++) {
      if ($(i+1) ~ /^passed;?$/)  p += $i
      if ($(i+1) ~ /^failed;?$/)  f += $i
      if ($(i+1) ~ /^ignored;?$/) g += $i
    }
  }
  END { printf "%d %d %d\n", p, f, g }
' "$LOG_DIR/native.log")
note=""
[ "$n_ign" -eq 0 ] || note="$n_ign ignored"
record native "$n_pass" "$n_fail" "$RC" "$note"

# --- fuzz: corpus replay and a short run of every target ----------------------------------------
header "fuzz: scripts/fuzz.sh --quick"
run_logged fuzz "${HUBWIRE_FUZZ_TIMEOUT:-900}" bash scripts/fuzz.sh --quick
read -r f_pass f_fail < <(awk '/^[0-9]+ passed, [0-9]+ failed$/ { p = $1; f = $3 } END { printf "%d %d\n", p, f }' "$LOG_DIR/fuzz.log")
record fuzz "$f_pass" "$f_fail" "$RC"

# --- wasm: build the npm package ---------------------------------------------------------------
header "wasm: scripts/build-wasm.sh"
run_logged wasm-build "${HUBWIRE_WASM_TIMEOUT:-900}" bash scripts/build-wasm.sh
WASM_RC=$RC
# The build is a step, not a test: it adds nothing when it works and one failure when it breaks.
record wasm 0 0 "$WASM_RC"

# --- js: node's test runner over tests/js ------------------------------------------------------
header "js: node --test tests/js"
mapfile -t JS_TESTS < <(find tests/js -name node_modules -prune -o -type f -name '*.test.mjs' -print 2>/dev/null | sort)
if [ "$WASM_RC" -ne 0 ]; then
  # These tests load pkg/; a failed build would only make them fail for the same reason.
  echo "[test] skipped: the wasm build failed"
  record js 0 1 0 "skipped: wasm build failed"
elif [ "${#JS_TESTS[@]}" -eq 0 ]; then
  echo "[test] no tests/js/*.test.mjs files yet"
  record js 0 0 0 "no test files"
else
  printf '[test] %s\n' "${JS_TESTS[@]}"
  # TAP explicitly: its closing "# pass N" / "# fail N" lines are what is counted below.
  # One file at a time: each starts Chromium and a hub, and two cores are no place for several.
  run_logged js "${HUBWIRE_JS_TIMEOUT:-900}" node --test --test-concurrency=1 --test-reporter=tap "${JS_TESTS[@]}"
  read -r j_pass j_fail j_cancel j_skip < <(awk '
    /^# pass /      { p = $3 }
    /^# fail /      { f = $3 }
    /^# cancelled / { c = $3 }
    /^# skipped /   { s = $3 }
    END { printf "%d %d %d %d\n", p, f, c, s }
  ' "$LOG_DIR/js.log")
  note=""
  [ "$j_cancel" -eq 0 ] || note="$j_cancel cancelled"
  [ "$j_skip" -eq 0 ] || note="${note:+$note, }$j_skip skipped"
  # Cancelled tests (timeouts, a parent failing) did not pass: count them as failed.
  record js "$j_pass" "$((j_fail + j_cancel))" "$RC" "$note"
fi

header "summary (logs in target/test-logs/)"
printf '%s\n' "${SUMMARY[@]}"
echo
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
