#!/usr/bin/env bash
# What each cargo feature adds to the shipped wasm: builds the hubwire crate for wasm32 once per
# feature set (none = the core module, msgpack, live, both = the full module) with the package's
# size settings (scripts/setup.sh's wasm_cargo, wasm-opt -O1, wasm-bindgen without names) and
# prints wasm and glue sizes, raw / gzip -9 / brotli -q 11, as a Markdown table.
#
# Usage: bash bench/size/features.sh      (BENCHMARKS.md's "Two modules" table comes from it)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[ -f target/toolchain.env ] || bash scripts/setup.sh
# shellcheck source=/dev/null
source target/toolchain.env

OUT="$ROOT/target/bench-size/features"
rm -rf "$OUT" && mkdir -p "$OUT"
WASM_IN="$HUBWIRE_WASM_TARGET_DIR/$HUBWIRE_WASM_TARGET/release/hubwire.wasm"
sizes() { # raw gzip brotli of a file
  local br="—"
  command -v brotli >/dev/null && br=$(brotli -q 11 -c "$1" | wc -c)
  printf '%s %s %s' "$(wc -c <"$1")" "$(gzip -9 -n -c "$1" | wc -c)" "$br"
}
echo "| features | wasm raw | wasm gzip | wasm brotli | glue gzip (minified) |"
echo "| --- | ---: | ---: | ---: | ---: |"
for features in "" msgpack live msgpack,live; do
  name="${features:-none}"
  args=(--no-default-features)
  [ -z "$features" ] || args+=(--features "$features")
  wasm_cargo build --release -q -p hubwire --lib "${args[@]}" </dev/null >&2
  input="$WASM_IN"
  if [ -n "${HUBWIRE_WASM_OPT:-}" ]; then
    "$HUBWIRE_WASM_OPT" -O1 --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
      --enable-mutable-globals --enable-reference-types --enable-multivalue -o "$OUT/$name.opt.wasm" "$WASM_IN"
    input="$OUT/$name.opt.wasm"
  fi
  wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$OUT/$name" --out-name hubwire "$input"
  node scripts/minify-glue.mjs "$OUT/$name/hubwire.js" >/dev/null
  read -r raw gz br <<<"$(sizes "$OUT/$name/hubwire_bg.wasm")"
  read -r _ ggz _ <<<"$(sizes "$OUT/$name/hubwire.js")"
  echo "| $name | $raw | $gz | $br | $ggz |"
done
