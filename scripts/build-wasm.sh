#!/usr/bin/env bash
# Builds the npm package into pkg/: the `hubwire` crate for wasm32 (release), wasm-opt -O1 when
# binaryen is installed, the wasm-bindgen glue (--target web, out-name hubwire), a smoke check
# that the module instantiates in node, then everything under pkg-template/ on top, and the
# CommonJS twins of the JS modules (scripts/build-cjs.mjs, with the root's esbuild).
#
# Usage: bash scripts/build-wasm.sh
#   HUBWIRE_SKIP_WASM_OPT=1   skip wasm-opt and keep function names (faster, bigger; for debugging)
#
# The package is assembled in target/pkg-staging and swapped into pkg/ only when every step
# worked, so a failed build never leaves a half-written pkg/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[build-wasm] %s\n' "$*"; }

# The wasm cargo invocation is decided by setup.sh alone; run it if it has not run yet.
[ -f target/toolchain.env ] || bash scripts/setup.sh
# shellcheck source=/dev/null
source target/toolchain.env

STAGING="$ROOT/target/pkg-staging"
WASM_IN="$HUBWIRE_WASM_TARGET_DIR/$HUBWIRE_WASM_TARGET/release/hubwire.wasm"

say "cargo build --release for $HUBWIRE_WASM_TARGET (route: $HUBWIRE_WASM_ROUTE)"
start=$SECONDS
wasm_cargo build --release -p hubwire --lib </dev/null
say "  compiled in $((SECONDS - start)) s: ${WASM_IN#"$ROOT"/}"

size_line() { # size_line LABEL FILE: raw, gzip -9 and (when available) brotli sizes in bytes
  local raw gz br=""
  raw=$(wc -c <"$2")
  gz=$(gzip -9 -n -c "$2" | wc -c) # -n: no file name in the header, as a web server sends it
  if command -v brotli >/dev/null; then br=", brotli $(brotli -q 11 -c "$2" | wc -c)"; fi
  printf '[build-wasm]   %-22s %8d bytes raw, gzip %d%s\n' "$1" "$raw" "$gz" "$br"
}

rm -rf "$STAGING"
mkdir -p "$STAGING"

# wasm-opt runs on rustc's output, before wasm-bindgen: Debian's binaryen 108 mis-writes the
# export of the externref table that wasm-bindgen adds (it exports the funcref table in its
# place, and the glue then throws in initSync). Optimizing first gives the same size.
#
# Size settings, each measured by `./run.sh bench --size-steps` (numbers in BENCHMARKS.md):
# the release profile in Cargo.toml (opt-level z, LTO, one codegen unit; s is bigger); no
# name or producers section in the package (most of what wasm-opt used to save was the name
# section it drops); wasm-opt -O1, not -Oz: binaryen 108's -O2/-Os/-Oz pipelines cut the raw
# size but make the module compress about 5% worse with gzip and 4% with brotli, and what an
# app downloads is the compressed module; on the Debian route panic=immediate-abort,
# -Zlocation-detail=none and std's optimize_for_size (setup.sh's wasm_cargo).
# HUBWIRE_SKIP_WASM_OPT builds for debugging: no wasm-opt, and function names kept so stack
# traces name Rust functions.
WASM_OPT_LEVEL=-O1
BINDGEN_FLAGS=(--remove-name-section --remove-producers-section)
BINDGEN_IN="$WASM_IN"
if [ -n "${HUBWIRE_SKIP_WASM_OPT:-}" ]; then
  say "wasm-opt skipped (HUBWIRE_SKIP_WASM_OPT set); names kept"
  BINDGEN_FLAGS=()
elif [ -n "${HUBWIRE_WASM_OPT:-}" ]; then
  say "wasm-opt $WASM_OPT_LEVEL"
  size_line "before wasm-opt:" "$WASM_IN"
  # binaryen 108 predates these features becoming rustc's defaults; name them.
  if "$HUBWIRE_WASM_OPT" "$WASM_OPT_LEVEL" --enable-bulk-memory --enable-sign-ext \
       --enable-nontrapping-float-to-int --enable-mutable-globals \
       --enable-reference-types --enable-multivalue \
       -o "$STAGING/hubwire.opt.wasm" "$WASM_IN"; then
    BINDGEN_IN="$STAGING/hubwire.opt.wasm"
    size_line "after wasm-opt:" "$BINDGEN_IN"
  else
    say "WARNING: wasm-opt failed; continuing with the unoptimized wasm" >&2
  fi
else
  say "wasm-opt not installed: skipping (install binaryen for a smaller wasm)"
fi

say "wasm-bindgen $HUBWIRE_WASM_BINDGEN_VERSION --target web ${BINDGEN_FLAGS[*]}"
if ! wasm-bindgen --target web "${BINDGEN_FLAGS[@]}" --out-dir "$STAGING" --out-name hubwire "$BINDGEN_IN" \
   && [ "$BINDGEN_IN" != "$WASM_IN" ]; then
  say "WARNING: wasm-bindgen rejected the wasm-opt output; retrying with the unoptimized wasm" >&2
  wasm-bindgen --target web "${BINDGEN_FLAGS[@]}" --out-dir "$STAGING" --out-name hubwire "$WASM_IN"
fi
rm -f "$STAGING/hubwire.opt.wasm"

# Smoke check: the glue instantiates the module (a broken optimizer pass shows up here, not
# in a browser later). Only instantiation: the crate has no start function that needs a DOM.
say "smoke check: instantiate in node"
# shellcheck disable=SC2016  # the single quotes hold JavaScript, not shell
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { pathToFileURL } from "node:url";
  const dir = process.argv[1];
  const glue = await import(pathToFileURL(`${dir}/hubwire.js`).href);
  glue.initSync({ module: readFileSync(`${dir}/hubwire_bg.wasm`) });
  console.log("[build-wasm]   instantiated; exports:", Object.keys(glue).sort().join(", "));
' "$STAGING"

# pkg-template/ holds the hand-written parts of the npm package (package.json, README, JS entry
# points, .d.ts); it may be empty, and its files win over generated ones of the same name.
if [ -d pkg-template ] && [ -n "$(ls -A pkg-template)" ]; then
  say "copying pkg-template/ into the package"
  cp -R pkg-template/. "$STAGING/"
else
  say "pkg-template/ is empty: package holds the wasm-bindgen output only"
fi

say "CommonJS build (scripts/build-cjs.mjs)"
node scripts/build-cjs.mjs "$STAGING"

rm -rf pkg
mv "$STAGING" pkg

say "pkg/ ready:"
(cd pkg && find . -type f | sed 's|^\./|[build-wasm]   |' | sort)
# What an app downloads, measured as BENCHMARKS.md reports it (./run.sh bench compares these
# with the official client's signalr.min.js).
say "sizes:"
size_line "hubwire_bg.wasm" pkg/hubwire_bg.wasm
size_line "hubwire.js (glue)" pkg/hubwire.js
for entry in index.js react.js live.js; do
  [ ! -f "pkg/$entry" ] || size_line "$entry" "pkg/$entry"
done
