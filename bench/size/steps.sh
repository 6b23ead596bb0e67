#!/usr/bin/env bash
# The size ladder: builds the hubwire wasm once per size setting, each step adding one setting
# to the one before, and measures what each step ships (wasm-bindgen output: the .wasm and the
# JS glue; raw, gzip -9, brotli -q 11). BENCHMARKS.md records the numbers; scripts/setup.sh and
# scripts/build-wasm.sh keep the settings that helped.
#
# Usage: bash bench/size/steps.sh [OUT.json]    (scripts/bench.sh --size-steps runs it)
#
# Each step builds into target/bench-size/<step>/ (std is rebuilt per step: the first run takes
# about 2-3 minutes per step, later runs only recompile what changed). The steps that need
# -Z flags (std rebuilt for size) run on the Debian route only; on the rustup route they are
# reported as skipped. Where the code bytes go, function by function, is written to
# target/bench-size/<step>.functions.{txt,json} for two steps (bench/size/wasm-functions.mjs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${1:-$ROOT/target/bench/size-steps.json}"
mkdir -p "$(dirname "$OUT")" target/bench-size

[ -f target/toolchain.env ] || bash scripts/setup.sh
# shellcheck source=/dev/null
source target/toolchain.env

say() { printf '[size-steps] %s\n' "$*" >&2; }
OPT_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
IA="-Zunstable-options -Cpanic=immediate-abort"

# name | what the step adds | profile (opt-level:lto:codegen-units) | RUSTFLAGS | std features |
# wasm-opt flags | wasm-bindgen flags | kept: "yes" when the build keeps it, "no" for a step
# measured and dropped, "side" for an alternative measured against the kept settings
KEPT_FLAGS="$IA -Zlocation-detail=none"
NO_NAMES="--remove-name-section --remove-producers-section"
STEPS=(
  "cargo-release|cargo's default release profile (opt-level 3, no LTO, 16 codegen units)|3:false:16|||||baseline"
  "size-profile|release profile: opt-level z, LTO, 1 codegen unit (Cargo.toml)|z:true:1|||||yes"
  "strip-names|no name or producers section (wasm-bindgen --remove-name-section --remove-producers-section)|z:true:1||||$NO_NAMES|yes"
  "wasm-opt-Oz|wasm-opt -Oz on rustc's output (before wasm-bindgen)|z:true:1|||-Oz|$NO_NAMES|no"
  "wasm-opt-O1|wasm-opt -O1 instead|z:true:1|||-O1|$NO_NAMES|yes"
  "immediate-abort|panic=immediate-abort (std rebuilt)|z:true:1|$IA||-O1|$NO_NAMES|yes"
  "optimize-for-size|std feature optimize_for_size|z:true:1|$IA|optimize_for_size|-O1|$NO_NAMES|yes"
  "location-detail|-Zlocation-detail=none (no file:line in panic paths)|z:true:1|$KEPT_FLAGS|optimize_for_size|-O1|$NO_NAMES|yes"
  "fmt-debug-none|-Zfmt-debug=none (Debug formatting compiled out; changes what {:?} prints)|z:true:1|$KEPT_FLAGS -Zfmt-debug=none|optimize_for_size|-O1|$NO_NAMES|no"
  "opt-level-s|opt-level s instead of z|s:true:1|$KEPT_FLAGS|optimize_for_size|-O1|$NO_NAMES|side"
  "wasm-opt-Oz-again|wasm-opt -Oz instead of -O1, on the kept settings|z:true:1|$KEPT_FLAGS|optimize_for_size|-Oz|$NO_NAMES|side"
  "wasm-opt-dfe|wasm-opt --duplicate-function-elimination only, instead of -O1|z:true:1|$KEPT_FLAGS|optimize_for_size|--duplicate-function-elimination|$NO_NAMES|side"
)

measure() { # measure FILE -> "raw gzip brotli"
  # gzip -n: no file name in the header (as from stdin, as a web server sends it).
  printf '%d %d %d' "$(wc -c <"$1")" "$(gzip -9 -n -c "$1" | wc -c)" "$(brotli -q 11 -c "$1" | wc -c)"
}

printf '[\n' >"$OUT.tmp"
first=1
for step in "${STEPS[@]}"; do
  IFS='|' read -r name adds profile rustflags std_features opt_flags bindgen_flags kept <<<"$step"
  IFS=':' read -r opt_level lto cgus <<<"$profile"
  dir="$ROOT/target/bench-size/$name"
  if [ "$HUBWIRE_WASM_ROUTE" != debian ] && [ -n "$rustflags$std_features" ]; then
    say "$name: skipped (needs the Debian route's rebuilt std)"
    continue
  fi
  say "$name: $adds"
  start=$SECONDS
  # Steps that differ only in wasm-opt or wasm-bindgen flags share one cargo build.
  build_key="$profile|$rustflags|$std_features"
  build_dir="$ROOT/target/bench-size/build-$(printf '%s' "$build_key" | cksum | cut -d' ' -f1)"
  if ! HUBWIRE_WASM_TARGET_DIR="$build_dir" HUBWIRE_WASM_RUSTFLAGS="$rustflags" \
       HUBWIRE_WASM_STD_FEATURES="$std_features" CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt_level" \
       CARGO_PROFILE_RELEASE_LTO="$lto" CARGO_PROFILE_RELEASE_CODEGEN_UNITS="$cgus" \
       wasm_cargo build --release -p hubwire --lib -q </dev/null 2>"$dir.log"; then
    say "$name: build FAILED (see ${dir#"$ROOT"/}.log)"
    continue
  fi
  wasm="$build_dir/$HUBWIRE_WASM_TARGET/release/hubwire.wasm"
  rm -rf "$dir" && mkdir -p "$dir"
  input="$wasm"
  if [ -n "$opt_flags" ]; then
    # shellcheck disable=SC2086  # the flags are words
    "$HUBWIRE_WASM_OPT" $opt_flags "${OPT_FEATURES[@]}" -o "$dir/opt.wasm" "$wasm"
    input="$dir/opt.wasm"
  fi
  # shellcheck disable=SC2086  # the flags are words
  wasm-bindgen --target web $bindgen_flags --out-dir "$dir" --out-name hubwire "$input"
  read -r w_raw w_gz w_br <<<"$(measure "$dir/hubwire_bg.wasm")"
  read -r j_raw j_gz j_br <<<"$(measure "$dir/hubwire.js")"
  say "$name: wasm $w_raw raw / $w_gz gzip / $w_br brotli; glue $j_raw / $j_gz / $j_br ($((SECONDS - start)) s)"
  [ "$first" -eq 1 ] || printf ',\n' >>"$OUT.tmp"
  first=0
  printf '  {"step":"%s","kept":"%s","adds":"%s","optLevel":"%s","lto":%s,"codegenUnits":%s,"rustflags":"%s","stdFeatures":"%s","wasmOpt":"%s","wasmBindgen":"%s","wasm":{"raw":%d,"gzip":%d,"brotli":%d},"glue":{"raw":%d,"gzip":%d,"brotli":%d}}' \
    "$name" "$kept" "$adds" "$opt_level" "$lto" "$cgus" "$rustflags" "$std_features" "$opt_flags" "$bindgen_flags" \
    "$w_raw" "$w_gz" "$w_br" "$j_raw" "$j_gz" "$j_br" >>"$OUT.tmp"
  # Where the bytes go, by function (names need a build wasm-opt has not stripped): for the
  # plain size profile and for the settings the build keeps.
  if [ "$name" = size-profile ] || [ "$name" = location-detail ]; then
    mkdir -p "$dir/named"
    wasm-bindgen --target web --out-dir "$dir/named" --out-name hubwire "$wasm"
    node bench/size/wasm-functions.mjs "$dir/named/hubwire_bg.wasm" --top 60 >"$dir.functions.txt"
    node bench/size/wasm-functions.mjs "$dir/named/hubwire_bg.wasm" --top 60 --json >"$dir.functions.json"
  fi
done
printf '\n]\n' >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "written: ${OUT#"$ROOT"/}"
