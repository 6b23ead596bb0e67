#!/usr/bin/env bash
# One idempotent setup step for building and testing hubwire. run.sh calls it before every
# command, so it must be quick when everything is already there: it checks each tool and
# installs only what is missing, then writes target/toolchain.env, the one place that decides
# how cargo builds for wasm32. The other scripts source that file.
#
# Usage: bash scripts/setup.sh
#
# What it sets up:
#   - Rust for wasm32-unknown-unknown: the rustup toolchain when it has the target, otherwise
#     Debian's rustc-web/cargo-web with -Zbuild-std (rustup cannot add targets without its own
#     download servers, which build and CI machines do not reach).
#   - wasm-bindgen-cli at exactly the wasm-bindgen version the crate links against.
#   - chromium + chromium-driver for browser tests; binaryen (wasm-opt) if it can be had.
#   - node_modules from package-lock.json.
# Nothing is downloaded except packages from the package registries (Debian, crates.io, npm).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ENV_FILE="$ROOT/target/toolchain.env"
WASM_TARGET=wasm32-unknown-unknown
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"

say()  { printf '[setup] %s\n' "$*"; }
warn() { printf '[setup] WARNING: %s\n' "$*" >&2; }
die()  { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# cargo install puts wasm-bindgen here; make it visible even when the login PATH lacks it.
case ":$PATH:" in *":$CARGO_BIN_DIR:"*) ;; *) PATH="$CARGO_BIN_DIR:$PATH" ;; esac
export PATH

# ---------------------------------------------------------------------------------------------
# Debian packages: collected first, installed in one apt-get run, so `apt-get update` happens
# at most once and only when something is actually missing.
# ---------------------------------------------------------------------------------------------
have_deb() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

apt_install() { # apt_install PKG... ; installs the given packages, failing loudly
  command -v apt-get >/dev/null || return 1
  if [ "${#SUDO[@]}" -gt 0 ] && ! command -v sudo >/dev/null; then
    die "need root or sudo to install: $*"
  fi
  say "installing Debian packages: $*"
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  local apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  if [ -z "${APT_UPDATED:-}" ]; then
    say "apt-get update (once, because something must be installed)"
    "${apt[@]}" update </dev/null || return 1
    APT_UPDATED=1
  fi
  "${apt[@]}" install -y --no-install-recommends "$@" </dev/null
}

# ---------------------------------------------------------------------------------------------
# 1. Rust for wasm32: pick the route.
# ---------------------------------------------------------------------------------------------
say "checking Rust for $WASM_TARGET"
ROUTE=""
if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET"; then
  ROUTE=rustup
  say "  rustup toolchain has $WASM_TARGET: using it (no build-std)"
else
  ROUTE=debian
  say "  rustup has no $WASM_TARGET target: using Debian's rustc-web with -Zbuild-std"
  command -v dpkg-query >/dev/null || die "no wasm32 target in rustup and this is not a Debian system; run: rustup target add $WASM_TARGET"
  # rustc-web/cargo-web: rustc, rustdoc and cargo in /usr/bin; rust-web-src: the std source
  # -Zbuild-std compiles; lld-22: the linker behind /usr/bin/rust-lld.
  DEB_RUST=()
  for p in rustc-web cargo-web rust-web-src lld-22; do
    if have_deb "$p"; then say "  $p: installed"; else say "  $p: missing"; DEB_RUST+=("$p"); fi
  done
  if [ "${#DEB_RUST[@]}" -gt 0 ]; then
    apt_install "${DEB_RUST[@]}" || die "could not install ${DEB_RUST[*]}"
  fi
  /usr/bin/rustc --version >/dev/null || die "/usr/bin/rustc does not run"
fi

# Native cargo (tests, the mock hub, cargo install): rustup's when present, else Debian's.
if command -v cargo >/dev/null; then
  NATIVE_CARGO=(cargo)
elif [ -x /usr/bin/cargo ]; then
  NATIVE_CARGO=(env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo)
else
  die "no cargo found: install Rust (rustup) first"
fi

# ---------------------------------------------------------------------------------------------
# 2. wasm-bindgen-cli at exactly the crate's wasm-bindgen version (the CLI refuses to process
#    a module built against a different library version).
# ---------------------------------------------------------------------------------------------
wasm_bindgen_version() {
  local v=""
  if [ -f Cargo.lock ]; then
    v="$(awk '
      /^\[\[package\]\]/ { name = "" }
      /^name = /         { name = $3 }
      /^version = / && name == "\"wasm-bindgen\"" { gsub(/"/, "", $3); print $3; exit }
    ' Cargo.lock)"
  fi
  if [ -z "$v" ]; then
    # Cargo.toml: wasm-bindgen = "=X.Y.Z"  or  wasm-bindgen = { version = "=X.Y.Z", ... }
    v="$(sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*(\{[^}]*version[[:space:]]*=[[:space:]]*)?"=([0-9]+\.[0-9]+\.[0-9]+)".*/\2/p' Cargo.toml | head -n1)"
  fi
  printf '%s' "$v"
}

say "checking wasm-bindgen-cli"
WB_VERSION="$(wasm_bindgen_version)"
[ -n "$WB_VERSION" ] || die "cannot tell the wasm-bindgen version: no Cargo.lock entry and no exact (=X.Y.Z) pin in Cargo.toml"
WB_HAVE="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$WB_HAVE" = "$WB_VERSION" ]; then
  say "  wasm-bindgen $WB_HAVE: installed"
else
  say "  wasm-bindgen ${WB_HAVE:-not found}, need $WB_VERSION: cargo install (compiles from crates.io, about 4 minutes, once)"
  # No --locked: one of the CLI's locked dependencies is no longer in the crates.io index.
  "${NATIVE_CARGO[@]}" install wasm-bindgen-cli --version "$WB_VERSION" </dev/null
  WB_HAVE="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  [ "$WB_HAVE" = "$WB_VERSION" ] || die "wasm-bindgen $WB_VERSION not on PATH after install (found '${WB_HAVE:-nothing}')"
fi

# ---------------------------------------------------------------------------------------------
# 3. Browser and size tools: chromium + chromedriver (browser tests), binaryen (wasm-opt).
# ---------------------------------------------------------------------------------------------
say "checking browser and wasm-opt"
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  DEB_TOOLS=()
  for p in chromium chromium-driver; do
    if have_deb "$p"; then say "  $p: installed"; else say "  $p: missing"; DEB_TOOLS+=("$p"); fi
  done
  if [ "${#DEB_TOOLS[@]}" -gt 0 ]; then
    apt_install "${DEB_TOOLS[@]}" || die "could not install ${DEB_TOOLS[*]}"
  fi
  if have_deb binaryen || command -v wasm-opt >/dev/null; then
    say "  wasm-opt: installed"
  else
    say "  wasm-opt: missing (optional)"
    apt_install binaryen || warn "binaryen not installed: wasm builds will skip wasm-opt"
  fi
else
  warn "not a Debian system: install Chromium and chromedriver yourself for browser tests"
fi
CHROMIUM="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
CHROMEDRIVER_BIN="$(command -v chromedriver || true)"
WASM_OPT="$(command -v wasm-opt || true)"

# ---------------------------------------------------------------------------------------------
# 4. JS dependencies (the reference SignalR client and playwright-core for tests).
# ---------------------------------------------------------------------------------------------
say "checking node_modules"
command -v node >/dev/null || apt_install nodejs npm || die "node is missing and could not be installed"
command -v npm >/dev/null || apt_install npm || die "npm is missing and could not be installed"
# A stamp written after a successful install: package-lock.json newer than it means reinstall.
NPM_STAMP=node_modules/.hubwire-installed
if [ -f package.json ]; then
  if [ ! -f "$NPM_STAMP" ] || [ package.json -nt "$NPM_STAMP" ] \
     || { [ -f package-lock.json ] && [ package-lock.json -nt "$NPM_STAMP" ]; }; then
    if [ -f package-lock.json ]; then
      say "  running npm ci"
      npm ci --no-audit --no-fund </dev/null
    else
      say "  no package-lock.json: running npm install"
      npm install --no-audit --no-fund </dev/null
    fi
    touch "$NPM_STAMP"
  else
    say "  node_modules: up to date"
  fi
fi

# ---------------------------------------------------------------------------------------------
# 5. Write the build settings. This file is the single place that says how to invoke cargo for
#    wasm32; scripts source it and call `wasm_cargo SUBCOMMAND ARGS...`.
# ---------------------------------------------------------------------------------------------
# The size settings the Debian route builds with (see the comment where they are written).
SIZE_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
SIZE_STD_FEATURES="optimize_for_size"

mkdir -p "$ROOT/target"
TMP_ENV="$(mktemp "$ROOT/target/toolchain.env.XXXXXX")"
{
  echo "# Written by scripts/setup.sh; do not edit (rerun setup instead). Source it from bash."
  echo "HUBWIRE_ROOT=\"\$(cd \"\$(dirname \"\${BASH_SOURCE[0]}\")/..\" && pwd)\""
  echo "HUBWIRE_WASM_ROUTE=$ROUTE"
  echo "HUBWIRE_WASM_TARGET=$WASM_TARGET"
  # A target dir of its own: the Debian route's rustc 1.96 and the native rustup rustc never
  # share artifacts, and a wasm build does not wait on the lock of a native one.
  echo "HUBWIRE_WASM_TARGET_DIR=\"\$HUBWIRE_ROOT/target/wasm\""
  echo "HUBWIRE_WASM_BINDGEN_VERSION=$WB_VERSION"
  echo "HUBWIRE_WASM_OPT=$WASM_OPT"
  # Exported: tests/js/support/browser.mjs launches this binary.
  echo "export HUBWIRE_CHROMIUM=$CHROMIUM"
  # wasm-bindgen-test-runner drives Chromium through this chromedriver.
  [ -z "$CHROMEDRIVER_BIN" ] || echo "export CHROMEDRIVER=$CHROMEDRIVER_BIN"
  echo "case \":\$PATH:\" in *\":$CARGO_BIN_DIR:\"*) ;; *) PATH=\"$CARGO_BIN_DIR:\$PATH\" ;; esac"
  echo "export PATH"
  if [ "$ROUTE" = debian ]; then
    # Size settings, measured step by step in BENCHMARKS.md (./run.sh bench --size-steps):
    # std is rebuilt anyway (-Zbuild-std), so it can be rebuilt for size. panic=immediate-abort
    # drops the panic machinery and its messages (a panic traps at once; bad input never panics
    # in hubwire, it is an error value): about 5% of the gzipped wasm. location-detail=none
    # leaves file:line:column out of what little panic code is left, and std's
    # optimize_for_size picks its smaller algorithm variants: under 1% together. The rustup
    # route keeps the prebuilt std, which can do none of this.
    # wasm_cargo reads these two when it runs, so a size experiment can override them.
    echo "HUBWIRE_WASM_RUSTFLAGS=\"\${HUBWIRE_WASM_RUSTFLAGS-$SIZE_RUSTFLAGS}\""
    echo "HUBWIRE_WASM_STD_FEATURES=\"\${HUBWIRE_WASM_STD_FEATURES-$SIZE_STD_FEATURES}\""
  fi
  echo "# wasm_cargo SUBCOMMAND [ARGS...]: cargo for $WASM_TARGET (wasm-bindgen-test-runner runs tests)."
  echo "wasm_cargo() {"
  echo "  local sub=\"\$1\"; shift"
  if [ "$ROUTE" = rustup ]; then
    echo "  CARGO_TARGET_DIR=\"\$HUBWIRE_WASM_TARGET_DIR\" \\"
    echo "  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \\"
    echo "    cargo \"\$sub\" --target $WASM_TARGET \"\$@\""
  else
    # RUSTC and RUSTDOC both in /usr/bin, or rustup's rustc picks up the std built by Debian's.
    # The size flags go in the wasm32 target's own RUSTFLAGS, so build scripts and proc macros
    # (host code) never see them.
    echo "  local std_features=()"
    echo "  [ -z \"\$HUBWIRE_WASM_STD_FEATURES\" ] || std_features=(\"-Zbuild-std-features=\$HUBWIRE_WASM_STD_FEATURES\")"
    echo "  CARGO_TARGET_DIR=\"\$HUBWIRE_WASM_TARGET_DIR\" \\"
    echo "  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \\"
    echo "  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=\"\$HUBWIRE_WASM_RUSTFLAGS\" \\"
    echo "  RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \\"
    echo "    /usr/bin/cargo \"\$sub\" --target $WASM_TARGET -Zbuild-std=std,panic_abort \"\${std_features[@]}\" \"\$@\""
  fi
  echo "}"
  echo "# native_cargo ARGS...: cargo for the host (tests, the mock hub)."
  echo "native_cargo() { ${NATIVE_CARGO[*]} \"\$@\"; }"
} >"$TMP_ENV"
mv "$TMP_ENV" "$ENV_FILE"

say "done: route=$ROUTE wasm-bindgen=$WB_VERSION wasm-opt=${WASM_OPT:-none} chromium=${CHROMIUM:-none}"
say "settings written to target/toolchain.env"
