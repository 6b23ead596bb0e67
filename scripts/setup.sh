#!/usr/bin/env bash
# One idempotent setup step for building and testing hubwire. run.sh calls it before every
# command, so it must be quick when everything is already there: it checks each tool and
# installs only what is missing, writes target/toolchain.env (the one place that decides how
# cargo builds for wasm32; the other scripts source it), then proves the tools work by using
# them once (cached until one of them changes).
#
# Usage: bash scripts/setup.sh
#
# What it installs, and what it expects a brand-new machine to have, is listed in
# scripts/machine.sh (scripts/check-provenance.sh holds the build to those lists):
#   - Rust for wasm32-unknown-unknown: the rustup toolchain when it has the target, otherwise
#     Debian's rustc-web/cargo-web/rust-web-src with -Zbuild-std and rust-web-llvm + lld-22 for
#     the linker (rustup cannot add targets without its own download servers, which build and CI
#     machines do not reach).
#   - wasm-bindgen-cli at exactly the wasm-bindgen version the crate links against.
#   - chromium, firefox-esr, webkit2gtk-driver and xvfb for the browser tests (three engines),
#     binaryen (wasm-opt) and brotli for the build's sizes.
#   - npm at the version package.json's engines asks for, and node_modules from package-lock.json.
# Then it verifies: a tiny wasm cdylib linked by the chosen route, the pinned wasm-bindgen run
# on it and the result instantiated in node, Chromium started headless once, node and npm
# checked against package.json's engines. A failure is one line naming what is missing and the
# command that installs it.
# Nothing is downloaded except packages from the package registries (Debian, crates.io, npm).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/machine.sh
source scripts/machine.sh

ENV_FILE="$ROOT/target/toolchain.env"
WASM_TARGET=wasm32-unknown-unknown
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"

say()  { printf '[setup] %s\n' "$*"; }
warn() { printf '[setup] WARNING: %s\n' "$*" >&2; }
die()  { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
# missing WHAT HOW: the one line a failed check ends with: what is missing, and how to install it.
missing() { die "$1 is missing or broken; install it with: $2"; }

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
  # What each package is for: scripts/machine.sh.
  DEB_RUST=()
  for p in "${SETUP_DEBIAN_WASM_RUST[@]}"; do
    if have_deb "$p"; then say "  $p: installed"; else say "  $p: missing"; DEB_RUST+=("$p"); fi
  done
  if [ "${#DEB_RUST[@]}" -gt 0 ]; then
    apt_install "${DEB_RUST[@]}" || die "could not install ${DEB_RUST[*]}"
  fi
  /usr/bin/rustc --version >/dev/null || missing "/usr/bin/rustc (Debian's rustc-web)" "apt-get install ${SETUP_DEBIAN_WASM_RUST[*]}"
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

# The other cargo installs (SETUP_CARGO_INSTALLS entries with a version), and the nightly
# toolchain they build with, which a brand-new machine of this kind has from rustup.
say "checking cargo-installed tools and the nightly toolchain"
rustup run nightly rustc --version >/dev/null 2>&1 \
  || missing "the rustup nightly toolchain (the fuzz targets build with it)" "rustup toolchain install nightly"
for entry in "${SETUP_CARGO_INSTALLS[@]}"; do
  spec="${entry%%:*}"
  case "$spec" in *@*) ;; *) continue ;; esac
  crate="${spec%@*}"; version="${spec#*@}"
  bin="${entry#*:}"; bin="${bin%% *}"
  have="$("$bin" --version 2>/dev/null | awk '{print $NF}' || true)"
  # cargo subcommands answer through cargo: `cargo fuzz --version` prints "cargo-fuzz X.Y.Z".
  [ -n "$have" ] || have="$(cargo "${bin#cargo-}" --version 2>/dev/null | awk '{print $NF}' || true)"
  if [ "$have" = "$version" ]; then
    say "  $crate $have: installed"
  else
    say "  $crate ${have:-not found}, need $version: cargo install (compiles from crates.io, about 2 minutes, once)"
    "${NATIVE_CARGO[@]}" install "$crate" --version "$version" </dev/null \
      || missing "$crate $version" "cargo install $crate --version $version"
  fi
done

# ---------------------------------------------------------------------------------------------
# 3. Browser and size tools: chromium (browser tests), binaryen (wasm-opt), brotli (sizes).
# ---------------------------------------------------------------------------------------------
say "checking browser and size tools"
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  DEB_TOOLS=()
  for p in "${SETUP_DEBIAN_TOOLS[@]}"; do
    if have_deb "$p"; then say "  $p: installed"; else say "  $p: missing"; DEB_TOOLS+=("$p"); fi
  done
  if [ "${#DEB_TOOLS[@]}" -gt 0 ]; then
    apt_install "${DEB_TOOLS[@]}" || die "could not install ${DEB_TOOLS[*]}"
  fi
else
  warn "not a Debian system: install ${SETUP_DEBIAN_TOOLS[*]} (or your system's equivalents) yourself"
fi
CHROMIUM="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
WASM_OPT="$(command -v wasm-opt || true)"
[ -n "$CHROMIUM" ] || missing "chromium (the browser of the browser tests)" "apt-get install chromium"
[ -n "$WASM_OPT" ] || missing "wasm-opt (binaryen)" "apt-get install binaryen"
# The other two engines of the browser suites (tests/js/support/engines.mjs): each must answer
# for its version, which needs its libraries, not just its file.
firefox_version="$(timeout 60 firefox-esr --version 2>/dev/null || true)"
[ -n "$firefox_version" ] || missing "firefox-esr (the browser suites' Firefox engine)" "apt-get install firefox-esr"
# WebKitWebDriver has no --version; its --help proves it loads, dpkg names the version.
webkit_driver_version=""
if timeout 60 WebKitWebDriver --help 2>/dev/null | grep -q "WebKitWebDriver options"; then
  webkit_driver_version="WebKitWebDriver $(dpkg-query -W -f='${Version}' webkit2gtk-driver 2>/dev/null || echo '(version unknown)')"
fi
[ -n "$webkit_driver_version" ] || missing "WebKitWebDriver (the browser suites' WebKit engine)" "apt-get install webkit2gtk-driver"
command -v Xvfb >/dev/null || missing "Xvfb (the display WebKit's MiniBrowser runs on)" "apt-get install xvfb"
say "  engines: $CHROMIUM, $firefox_version, $webkit_driver_version"

# ---------------------------------------------------------------------------------------------
# 4. JS dependencies (the reference SignalR client and playwright-core for tests).
# ---------------------------------------------------------------------------------------------
say "checking node and npm against package.json's engines"
command -v node >/dev/null || missing "node (Node.js >= 20, which a machine of this kind ships)" "apt-get install nodejs"
command -v npm >/dev/null || missing "npm" "apt-get install npm"
# engine_gap PROGRAM VERSION: prints the engines range PROGRAM's VERSION fails, or nothing.
# package.json's engines use ">=X.Y.Z" only (anything else is an error here, so a range this
# check cannot read is never taken as met).
engine_gap() {
  node -e '
    const [name, have] = process.argv.slice(1);
    const want = (require("./package.json").engines || {})[name];
    if (!want) process.exit(0);
    const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(want.trim());
    if (!m) { console.log(`${want} (unreadable: use ">=X.Y.Z")`); process.exit(0); }
    const need = [m[1], m[2] || 0, m[3] || 0].map(Number);
    const got = have.replace(/^v/, "").split(".").map((p) => parseInt(p, 10) || 0);
    for (let i = 0; i < 3; i++) {
      if (got[i] > need[i]) process.exit(0);
      if (got[i] < need[i]) { console.log(want); process.exit(0); }
    }
  ' "$1" "$2"
}
NODE_VERSION="$(node --version)"
gap="$(engine_gap node "$NODE_VERSION")"
[ -z "$gap" ] || missing "Node.js $gap (found $NODE_VERSION)" "apt-get install nodejs (from a source with Node $gap)"
NPM_VERSION="$(npm --version)"
gap="$(engine_gap npm "$NPM_VERSION")"
if [ -n "$gap" ]; then
  npm_major="$(printf '%s' "$gap" | sed -nE 's/^>=[[:space:]]*([0-9]+).*/\1/p')"
  say "  npm $NPM_VERSION is older than engines' $gap: npm install -g npm@$npm_major (from the npm registry)"
  npm install -g --no-audit --no-fund "npm@$npm_major" </dev/null || missing "npm $gap (found $NPM_VERSION)" "npm install -g npm@$npm_major"
  hash -r
  NPM_VERSION="$(npm --version)"
  gap="$(engine_gap npm "$NPM_VERSION")"
  [ -z "$gap" ] || missing "npm $gap (found $NPM_VERSION after the upgrade)" "npm install -g npm@$npm_major"
fi
say "  node $NODE_VERSION, npm $NPM_VERSION: meet package.json's engines"

say "checking node_modules"
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
    # The tests install the packed package into fixture apps offline, which resolves the
    # package's own dependencies (@msgpack/msgpack) by range: npm ci caches their tarballs but
    # not the registry metadata that needs, so cache each at the version the lockfile pins.
    for spec in $(node -e '
      const own = require("./pkg-template/package.json").dependencies || {};
      const lock = require("./package-lock.json").packages || {};
      for (const name of Object.keys(own)) {
        const entry = lock["node_modules/" + name];
        if (entry) console.log(name + "@" + entry.version);
      }'); do
      say "  caching $spec for offline installs of the packed package"
      npm cache add "$spec" --loglevel=error </dev/null
    done
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

# ---------------------------------------------------------------------------------------------
# 6. Verify by using: a wasm cdylib linked by the chosen route, the pinned wasm-bindgen run on
#    it, the result instantiated in node, Chromium started headless once. Skipped when a stamp
#    says these exact tools passed before (the stamp's key holds every tool's version and path,
#    so removing or upgrading one runs the checks again).
# ---------------------------------------------------------------------------------------------
# shellcheck source=/dev/null
source "$ENV_FILE"
PROBE_DIR="$ROOT/target/setup-probe"
VERIFY_STAMP="$ROOT/target/setup-verified"
verify_key() {
  printf 'route=%s\n' "$ROUTE"
  if [ "$ROUTE" = debian ]; then
    dpkg-query -W -f='${Package}=${Version} ${Status}\n' "${SETUP_DEBIAN_WASM_RUST[@]}" 2>/dev/null || true
    ls -lL /usr/bin/rust-lld 2>/dev/null || echo "no /usr/bin/rust-lld"
  else
    rustc --version; rustup target list --installed 2>/dev/null
  fi
  printf 'wasm-bindgen=%s %s\n' "$WB_VERSION" "$(command -v wasm-bindgen)"
  printf 'chromium=%s\n' "$CHROMIUM"; dpkg-query -W -f='${Version}\n' chromium 2>/dev/null || true
  printf 'node=%s npm=%s\n' "$NODE_VERSION" "$NPM_VERSION"
  cat scripts/setup.sh scripts/machine.sh | cksum
}
KEY="$(verify_key)"
if [ -f "$VERIFY_STAMP" ] && [ "$(cat "$VERIFY_STAMP")" = "$KEY" ]; then
  say "verified before with these exact tools: skipping the probe build"
else
  say "verifying: link a tiny wasm cdylib ($ROUTE route), run wasm-bindgen on it, instantiate it in node"
  rm -f "$VERIFY_STAMP"
  mkdir -p "$PROBE_DIR/src"
  cat >"$PROBE_DIR/Cargo.toml" <<'TOML'
[package]
name = "hubwire-setup-probe"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"

[dependencies]
wasm-bindgen = "=WB_VERSION"

[workspace]

[profile.release]
opt-level = "z"
lto = true
codegen-units = 1
TOML
  cat >"$PROBE_DIR/src/lib.rs" <<'RUST'
//! setup.sh's probe: if this links for wasm32, binds and adds in node, the wasm route works.
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn probe_add(a: i32, b: i32) -> i32 {
    // A Vec pulls in the allocator, so std (built by -Zbuild-std on the Debian route) is linked.
    let v: Vec<i32> = vec![a, b];
    v.iter().sum()
}
RUST
  sed -i "s/=WB_VERSION/=$WB_VERSION/" "$PROBE_DIR/Cargo.toml"
  # The workspace's lock, so the probe compiles the very wasm-bindgen crates the real build uses
  # (and the real build then reuses them from the shared target dir).
  cp Cargo.lock "$PROBE_DIR/Cargo.lock"
  probe_log="$PROBE_DIR/build.log"
  # The probe builds into the same target dir as the real build, so the std it compiles (Debian
  # route) is the one the first real build reuses.
  if ! (cd "$PROBE_DIR" && wasm_cargo build --release --lib </dev/null) >"$probe_log" 2>&1; then
    sed 's/^/[setup]   | /' "$probe_log" | tail -n 15 >&2
    if grep -q "linker .* not found" "$probe_log"; then
      linker="$(sed -nE 's/.*linker `([^`]+)` not found.*/\1/p' "$probe_log" | head -n1)"
      if [ "$ROUTE" = debian ]; then
        missing "the wasm linker ${linker:-rust-lld}" "apt-get install rust-web-llvm lld-22"
      else
        missing "the wasm linker ${linker:-rust-lld}" "rustup component add rust-src llvm-tools (or reinstall the toolchain with the $WASM_TARGET target)"
      fi
    fi
    missing "a working Rust build for $WASM_TARGET (see target/setup-probe/build.log)" \
      "$([ "$ROUTE" = debian ] && echo "apt-get install ${SETUP_DEBIAN_WASM_RUST[*]}" || echo "rustup target add $WASM_TARGET")"
  fi
  probe_wasm="$HUBWIRE_WASM_TARGET_DIR/$WASM_TARGET/release/hubwire_setup_probe.wasm"
  wasm-bindgen --target web --out-dir "$PROBE_DIR/pkg" --out-name probe "$probe_wasm" >"$probe_log" 2>&1 \
    || { cat "$probe_log" >&2; missing "a working wasm-bindgen $WB_VERSION" "cargo install wasm-bindgen-cli --version $WB_VERSION"; }
  # shellcheck disable=SC2016  # JavaScript in single quotes
  sum="$(node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { pathToFileURL } from "node:url";
    const dir = process.argv[1];
    const glue = await import(pathToFileURL(`${dir}/probe.js`).href);
    glue.initSync({ module: readFileSync(`${dir}/probe_bg.wasm`) });
    console.log(glue.probe_add(20, 22));
  ' "$PROBE_DIR/pkg" 2>&1 || true)"
  [ "$sum" = 42 ] || missing "a wasm module node can run (the probe answered '$sum')" "apt-get install ${SETUP_DEBIAN_WASM_RUST[*]}"
  say "  wasm probe linked, bound and ran in node"

  say "verifying: start $CHROMIUM headless once"
  chromium_profile="$(mktemp -d)"
  dom="$(timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync --disable-quic \
      --user-data-dir="$chromium_profile" --dump-dom 'data:text/html,<p id="probe">hubwire-setup-ok</p>' 2>/dev/null || true)"
  rm -rf "$chromium_profile"
  case "$dom" in
    *hubwire-setup-ok*) say "  chromium rendered a page headless" ;;
    *) missing "a Chromium that starts headless ($CHROMIUM)" "apt-get install chromium" ;;
  esac
  printf '%s' "$KEY" >"$VERIFY_STAMP"
fi

say "done: route=$ROUTE wasm-bindgen=$WB_VERSION wasm-opt=${WASM_OPT:-none} chromium=${CHROMIUM:-none}"
say "settings written to target/toolchain.env"
