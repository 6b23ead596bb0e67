#!/usr/bin/env bash
# Builds the npm package into pkg/: the `hubwire` crate for wasm32 (release) twice, as the core
# module (no cargo features: hubwire_bg.wasm + hubwire.js) and the full one (default features:
# hubwire_full_bg.wasm + hubwire_full.js); for each, wasm-opt -O1 when binaryen is installed,
# the wasm-bindgen glue (--target web) and a smoke check that the module instantiates in node;
# the glue minified, then everything under pkg-template/ on top, and the CommonJS twins of the
# JS modules (scripts/build-cjs.mjs, with the root's esbuild).
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

size_line() { # size_line LABEL FILE: raw, gzip -9 and (when available) brotli sizes in bytes
  local raw gz br=""
  raw=$(wc -c <"$2")
  gz=$(gzip -9 -n -c "$2" | wc -c) # -n: no file name in the header, as a web server sends it
  if command -v brotli >/dev/null; then br=", brotli $(brotli -q 11 -c "$2" | wc -c)"; fi
  printf '[build-wasm]   %-26s %8d bytes raw, gzip %d%s\n' "$1" "$raw" "$gz" "$br"
}

rm -rf "$STAGING"
mkdir -p "$STAGING"

# Size settings, each measured by `./run.sh bench --size-steps` (numbers in BENCHMARKS.md):
# the release profile in Cargo.toml (opt-level z, LTO, one codegen unit; s is bigger); no
# name or producers section in the package (most of what wasm-opt used to save was the name
# section it drops); wasm-opt -O1, not -Oz: binaryen 108's -O2/-Os/-Oz pipelines cut the raw
# size but make the module compress about 5% worse with gzip and 4% with brotli, and what an
# app downloads is the compressed module; on the Debian route panic=immediate-abort,
# -Zlocation-detail=none and std's optimize_for_size (setup.sh's wasm_cargo).
# HUBWIRE_SKIP_WASM_OPT builds for debugging: no wasm-opt, function names kept so stack
# traces name Rust functions, and the glue not minified.
WASM_OPT_LEVEL=-O1
BINDGEN_FLAGS=(--remove-name-section --remove-producers-section)
[ -z "${HUBWIRE_SKIP_WASM_OPT:-}" ] || BINDGEN_FLAGS=()

# build_module OUT_NAME CARGO_ARGS...: one wasm module of the package, OUT_NAME_bg.wasm with its
# glue OUT_NAME.js. The package has two (wasm.js and wasm-full.js load them): `hubwire`, the
# crate without features (the JSON hub connection every app loads), and `hubwire_full`, with
# the default features (MessagePack and live subscriptions). Both build in the same target
# directory; cargo keeps each feature set's artifacts apart, so rebuilding one leaves the other.
build_module() {
  local out="$1"; shift
  say "cargo build --release for $HUBWIRE_WASM_TARGET ($out: ${*:-default features}; route: $HUBWIRE_WASM_ROUTE)"
  local start=$SECONDS
  wasm_cargo build --release -p hubwire --lib "$@" </dev/null
  say "  compiled in $((SECONDS - start)) s"
  local rustc_out="$STAGING/$out.rustc.wasm"
  cp "$WASM_IN" "$rustc_out"
  local bindgen_in="$rustc_out"

  # wasm-opt runs on rustc's output, before wasm-bindgen: Debian's binaryen 108 mis-writes the
  # export of the externref table that wasm-bindgen adds (it exports the funcref table in its
  # place, and the glue then throws in initSync). Optimizing first gives the same size.
  if [ -n "${HUBWIRE_SKIP_WASM_OPT:-}" ]; then
    say "wasm-opt skipped (HUBWIRE_SKIP_WASM_OPT set); names kept"
  elif [ -n "${HUBWIRE_WASM_OPT:-}" ]; then
    say "wasm-opt $WASM_OPT_LEVEL"
    size_line "before wasm-opt:" "$rustc_out"
    # binaryen 108 predates these features becoming rustc's defaults; name them.
    if "$HUBWIRE_WASM_OPT" "$WASM_OPT_LEVEL" --enable-bulk-memory --enable-sign-ext \
         --enable-nontrapping-float-to-int --enable-mutable-globals \
         --enable-reference-types --enable-multivalue \
         -o "$STAGING/$out.opt.wasm" "$rustc_out"; then
      bindgen_in="$STAGING/$out.opt.wasm"
      size_line "after wasm-opt:" "$bindgen_in"
    else
      say "WARNING: wasm-opt failed; continuing with the unoptimized wasm" >&2
    fi
  else
    say "wasm-opt not installed: skipping (install binaryen for a smaller wasm)"
  fi

  say "wasm-bindgen $HUBWIRE_WASM_BINDGEN_VERSION --target web ${BINDGEN_FLAGS[*]} --out-name $out"
  if ! wasm-bindgen --target web "${BINDGEN_FLAGS[@]}" --out-dir "$STAGING" --out-name "$out" "$bindgen_in" \
     && [ "$bindgen_in" != "$rustc_out" ]; then
    say "WARNING: wasm-bindgen rejected the wasm-opt output; retrying with the unoptimized wasm" >&2
    wasm-bindgen --target web "${BINDGEN_FLAGS[@]}" --out-dir "$STAGING" --out-name "$out" "$rustc_out"
  fi
  rm -f "$rustc_out" "$STAGING/$out.opt.wasm"

  # Smoke check: the glue instantiates the module (a broken optimizer pass shows up here, not
  # in a browser later). Only instantiation: the crate has no start function that needs a DOM.
  say "smoke check: instantiate $out in node"
  # shellcheck disable=SC2016  # the single quotes hold JavaScript, not shell
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { pathToFileURL } from "node:url";
    const [dir, out] = process.argv.slice(1);
    const glue = await import(pathToFileURL(`${dir}/${out}.js`).href);
    glue.initSync({ module: readFileSync(`${dir}/${out}_bg.wasm`) });
    console.log("[build-wasm]   instantiated; exports:", Object.keys(glue).sort().join(", "));
  ' "$STAGING" "$out"
}

build_module hubwire --no-default-features
build_module hubwire_full

# The glue ships minified (esbuild, ES module kept): wasm-bindgen writes it readable, and an app
# that bundles without minifying would ship it as written.
if [ -z "${HUBWIRE_SKIP_WASM_OPT:-}" ]; then
  say "minifying the glue (esbuild)"
  node scripts/minify-glue.mjs "$STAGING/hubwire.js" "$STAGING/hubwire_full.js"
fi

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
size_line "hubwire_bg.wasm (core)" pkg/hubwire_bg.wasm
size_line "hubwire.js (glue)" pkg/hubwire.js
size_line "hubwire_full_bg.wasm" pkg/hubwire_full_bg.wasm
size_line "hubwire_full.js (glue)" pkg/hubwire_full.js
for entry in index.js wasm.js react.js live.js msgpack.js; do
  [ ! -f "pkg/$entry" ] || size_line "$entry" "pkg/$entry"
done
