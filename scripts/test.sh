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
#   js      node --test over the tests/js/**/*.test.mjs files that drive no browser engine
#   js:chromium, js:firefox, js:webkit
#           the browser suites (the files that use tests/js/support/engines.mjs), once per
#           engine, each engine in a node process of its own with HUBWIRE_ENGINES set to it; the
#           engines run side by side (HUBWIRE_ENGINE_JOBS at a time, default all)
# Each suite's output is kept in target/test-logs/<suite>.log (js-<engine>.log for an engine)
# and shown as it runs (an engine's when it has finished, since they run side by side).
#
#   HUBWIRE_ENGINES=firefox bash scripts/test.sh     only that engine's browser suites (a comma-
#                                                    separated list; default every engine)
#
# Skipped tests (node's `# SKIP`, cargo's `ignored`) are listed in the summary, and each one
# counts as a failure unless its name is in tests/skips-allowed.txt with a reason.
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
  SUMMARY+=("$(printf '%-12s %5d passed, %d failed%s' "$name" "$pass" "$fail" "${note:+  ($note)}")")
}

# --- skipped tests: allowed only when written down ---------------------------------------------
ALLOWED_SKIPS_FILE="$ROOT/tests/skips-allowed.txt"
SKIPPED_TOTAL=0
SKIPPED_LINES=()
# allowed_skip NAME: NAME (or NAME without its "[engine] " prefix) is listed with a reason.
allowed_skip() {
  [ -f "$ALLOWED_SKIPS_FILE" ] || return 1
  awk -v name="$1" '
    BEGIN { bare = name; sub(/^\[[a-z]+\] /, "", bare) }
    /^[[:space:]]*(#|$)/ { next }
    {
      split($0, parts, " \\| ")
      listed = parts[1]; reason = parts[2]
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", listed); gsub(/^[[:space:]]+|[[:space:]]+$/, "", reason)
      if (reason != "" && (listed == name || listed == bare)) { found = 1; exit }
    }
    END { exit found ? 0 : 1 }
  ' "$ALLOWED_SKIPS_FILE"
}
# judge_skips SUITE NAME...: lists each skipped test; sets SKIP_NOTE and SKIP_FAILS (the unlisted).
judge_skips() {
  local suite="$1" name; shift
  SKIP_FAILS=0
  SKIP_NOTE=""
  [ "$#" -gt 0 ] || return 0
  for name in "$@"; do
    SKIPPED_TOTAL=$((SKIPPED_TOTAL + 1))
    if allowed_skip "$name"; then
      SKIPPED_LINES+=("$(printf '  %-12s skipped (allowed by tests/skips-allowed.txt): %s' "$suite" "$name")")
    else
      SKIP_FAILS=$((SKIP_FAILS + 1))
      SKIPPED_LINES+=("$(printf '  %-12s skipped, NOT on tests/skips-allowed.txt (counted as failed): %s' "$suite" "$name")")
    fi
  done
  SKIP_NOTE="$# skipped"
  [ "$SKIP_FAILS" -eq 0 ] || SKIP_NOTE="$SKIP_NOTE, $SKIP_FAILS of them not allowed"
}
# tap_skips LOG: the names of the tests a TAP log reports as skipped, one per line.
tap_skips() {
  sed -nE 's/^[[:space:]]*ok [0-9]+ - (.*) # SKIP.*$/\1/p' "$1"
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
mapfile -t n_ignored < <(sed -nE 's/^test (.*) \.\.\. ignored.*$/\1/p' "$LOG_DIR/native.log")
judge_skips native "${n_ignored[@]}"
record native "$n_pass" "$((n_fail + SKIP_FAILS))" "$RC" "$SKIP_NOTE"

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

# --- js: node's test runner over tests/js, and the browser suites once per engine -------------
# count_tap NAME LOG RC: records a node --test TAP log (its closing "# pass N" / "# fail N" lines).
count_tap() {
  local name="$1" log="$2" rc="$3" note=""
  read -r j_pass j_fail j_cancel < <(awk '
    /^# pass /      { p = $3 }
    /^# fail /      { f = $3 }
    /^# cancelled / { c = $3 }
    END { printf "%d %d %d\n", p, f, c }
  ' "$log")
  mapfile -t j_skipped < <(tap_skips "$log")
  judge_skips "$name" "${j_skipped[@]}"
  [ "$j_cancel" -eq 0 ] || note="$j_cancel cancelled"
  [ -z "$SKIP_NOTE" ] || note="${note:+$note, }$SKIP_NOTE"
  [ -z "${4:-}" ] || note="${note:+$note, }$4"
  # Cancelled tests (timeouts, a parent failing) did not pass: count them as failed.
  record "$name" "$j_pass" "$((j_fail + j_cancel + SKIP_FAILS))" "$rc" "$note"
}

header "js: node --test tests/js"
mapfile -t JS_ALL < <(find tests/js -name node_modules -prune -o -type f -name '*.test.mjs' -print 2>/dev/null | sort)
JS_BROWSER=()
JS_OTHER=()
for file in "${JS_ALL[@]}"; do
  if grep -q 'support/engines\.mjs' "$file"; then JS_BROWSER+=("$file"); else JS_OTHER+=("$file"); fi
done
IFS=',' read -r -a ENGINE_LIST <<<"${HUBWIRE_ENGINES:-chromium,firefox,webkit}"
if [ "$WASM_RC" -ne 0 ]; then
  # These tests load pkg/; a failed build would only make them fail for the same reason.
  echo "[test] skipped: the wasm build failed"
  record js 0 1 0 "skipped: wasm build failed"
elif [ "${#JS_ALL[@]}" -eq 0 ]; then
  echo "[test] no tests/js/*.test.mjs files yet"
  record js 0 0 0 "no test files"
else
  if [ "${#JS_OTHER[@]}" -gt 0 ]; then
    printf '[test] %s\n' "${JS_OTHER[@]}"
    # TAP explicitly: its closing "# pass N" / "# fail N" lines are what is counted.
    # One file at a time: two cores are no place for several.
    run_logged js "${HUBWIRE_JS_TIMEOUT:-900}" node --test --test-concurrency=1 --test-reporter=tap "${JS_OTHER[@]}"
    count_tap js "$LOG_DIR/js.log" "$RC"
  fi
  if [ "${#JS_BROWSER[@]}" -gt 0 ]; then
    header "js in every engine (${ENGINE_LIST[*]}): the browser suites"
    printf '[test] %s\n' "${JS_BROWSER[@]}"
    # Each engine runs its files one at a time in a process of its own, the engines side by
    # side: a browser suite mostly waits on the hub and the browser, so three fit on two cores.
    jobs_max="${HUBWIRE_ENGINE_JOBS:-${#ENGINE_LIST[@]}}"
    declare -A ENGINE_PID=() ENGINE_START=() ENGINE_SECONDS=()
    running=()
    for engine in "${ENGINE_LIST[@]}"; do
      while [ "${#running[@]}" -ge "$jobs_max" ]; do
        wait -n || true
        still=()
        for pid in "${running[@]}"; do kill -0 "$pid" 2>/dev/null && still+=("$pid"); done
        running=("${still[@]}")
      done
      echo "[test] js:$engine started"
      ENGINE_START[$engine]=$SECONDS
      (
        set +e
        HUBWIRE_ENGINES="$engine" timeout --kill-after=30 "${HUBWIRE_JS_TIMEOUT:-900}" \
          bash -c 'source "$0" && "$@"' "$ROOT/target/toolchain.env" \
          node --test --test-concurrency=1 --test-reporter=tap "${JS_BROWSER[@]}" \
          </dev/null >"$LOG_DIR/js-$engine.log" 2>&1
        rc=$?
        echo "$rc" >"$LOG_DIR/js-$engine.rc"
        echo "$SECONDS" >"$LOG_DIR/js-$engine.end"
      ) &
      ENGINE_PID[$engine]=$!
      running+=("$!")
    done
    for engine in "${ENGINE_LIST[@]}"; do
      wait "${ENGINE_PID[$engine]}" || true
      rc="$(cat "$LOG_DIR/js-$engine.rc" 2>/dev/null || echo 1)"
      ENGINE_SECONDS[$engine]=$(( $(cat "$LOG_DIR/js-$engine.end" 2>/dev/null || echo "$SECONDS") - ENGINE_START[$engine] ))
      header "js:$engine (target/test-logs/js-$engine.log, ${ENGINE_SECONDS[$engine]} s)"
      cat "$LOG_DIR/js-$engine.log"
      if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        printf '[test] js:%s timed out after %s s (or was killed)\n' "$engine" "${HUBWIRE_JS_TIMEOUT:-900}" | tee -a "$LOG_DIR/js-$engine.log"
      fi
      count_tap "js:$engine" "$LOG_DIR/js-$engine.log" "$rc" "${ENGINE_SECONDS[$engine]} s"
    done
  fi
fi

header "summary (logs in target/test-logs/)"
printf '%s\n' "${SUMMARY[@]}"
if [ "${#SKIPPED_LINES[@]}" -gt 0 ]; then printf '%s\n' "${SKIPPED_LINES[@]}"; fi
echo
echo "skipped: $SKIPPED_TOTAL (each is in the counts above: allowed ones add nothing, others one failure)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
