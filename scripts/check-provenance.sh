#!/usr/bin/env bash
# Fails when the build relies on a program that setup does not install.
#
# For every external program the build, tests, demo and benchmarks call (BUILD_PROGRAMS in
# scripts/machine.sh), it finds the file that would run, walks its symlink chain, and asks where
# each file comes from: a Debian package (dpkg -S), the rustup toolchain, or a `cargo install`.
# A program passes only when every package on its chain is one setup installs or one a brand-new
# machine already has (both listed in scripts/machine.sh), or when it lives under a path a
# brand-new machine has. A green CI run on a machine that has a package from earlier hand work
# proves nothing; this check is what notices.
#
# Usage: bash scripts/check-provenance.sh      (scripts/test.sh runs it after setup)
# Prints one line per program and closes with "N passed, M failed"; exits non-zero on a failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/machine.sh
source scripts/machine.sh
if [ -f target/toolchain.env ]; then
  # shellcheck source=/dev/null
  source target/toolchain.env
fi
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in *":$CARGO_BIN_DIR:"*) ;; *) PATH="$CARGO_BIN_DIR:$PATH" ;; esac

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf '[provenance] ok    %-14s %s\n' "$1" "$2"; }
fail() { FAILED=$((FAILED + 1)); printf '[provenance] FAIL  %-14s %s\n' "$1" "$2"; }

in_list() { # in_list WORD LIST...
  local word="$1"; shift
  local item
  for item in "$@"; do [ "$item" = "$word" ] && return 0; done
  return 1
}

# The packages setup installs on this machine's route.
SETUP_DEBIAN=("${SETUP_DEBIAN_TOOLS[@]}")
[ "${HUBWIRE_WASM_ROUTE:-debian}" != debian ] || SETUP_DEBIAN+=("${SETUP_DEBIAN_WASM_RUST[@]}")

# cargo-installed binaries setup puts in ~/.cargo/bin, by binary name.
declare -A SETUP_CARGO_BIN=()
for entry in "${SETUP_CARGO_INSTALLS[@]}"; do
  crate="${entry%%:*}"
  crate="${crate%@*}"
  for bin in ${entry#*:}; do SETUP_CARGO_BIN[$bin]="$crate"; done
done

# chain FILE: FILE and every file its symlinks lead through, one per line, the real file last.
chain() {
  local file="$1" hops=0 target
  printf '%s\n' "$file"
  while [ -L "$file" ] && [ "$hops" -lt 40 ]; do
    target="$(readlink "$file")"
    case "$target" in /*) ;; *) target="$(dirname "$file")/$target" ;; esac
    file="$(realpath -s "$target" 2>/dev/null || printf '%s' "$target")"
    printf '%s\n' "$file"
    hops=$((hops + 1))
  done
  # The same file through a directory symlink (Debian's merged /usr: /bin -> usr/bin).
  local real
  real="$(realpath "$file" 2>/dev/null || true)"
  [ -z "$real" ] || [ "$real" = "$file" ] || printf '%s\n' "$real"
}

# deb_owner FILE: the Debian package that ships FILE (also under the merged-/usr twin name), or nothing.
deb_owner() {
  local file="$1" owner="" alt
  owner="$(dpkg -S "$file" 2>/dev/null | head -n1 | cut -d: -f1)"
  if [ -z "$owner" ]; then
    case "$file" in
      /usr/bin/*|/usr/sbin/*|/usr/lib/*) alt="${file#/usr}" ;;
      /bin/*|/sbin/*|/lib/*) alt="/usr$file" ;;
      *) alt="" ;;
    esac
    [ -z "$alt" ] || owner="$(dpkg -S "$alt" 2>/dev/null | head -n1 | cut -d: -f1)"
  fi
  # "diversion by X from: ..." lines and "pkg1, pkg2: path" lines: keep the first package name.
  owner="${owner%%,*}"
  printf '%s' "${owner// /}"
}

# is_rustup_proxy FILE: FILE is rustup itself (cargo, rustc, ... in ~/.cargo/bin are rustup).
is_rustup_proxy() {
  local rustup_bin="$CARGO_BIN_DIR/rustup"
  [ -e "$rustup_bin" ] || return 1
  [ "$(realpath "$1")" = "$(realpath "$rustup_bin")" ] && return 0
  [ "$(stat -L -c %i "$1")" = "$(stat -L -c %i "$rustup_bin")" ] && return 0
  cmp -s "$1" "$rustup_bin"
}

# check NAME WHO FILE: decides where FILE (which NAME runs as) comes from.
check() {
  local name="$1" who="$2" file="$3"
  if [ -z "$file" ] || [ ! -e "$file" ]; then
    fail "$name" "not found (${file:-not on PATH}); called by: $who; setup installs nothing that provides it"
    return
  fi
  local -a origins=() problems=()
  local link owner glob matched
  while IFS= read -r link; do
    [ -e "$link" ] || continue
    # /etc/alternatives links belong to no package; the files they point at do.
    case "$link" in /etc/alternatives/*) continue ;; esac
    if [ "$(dirname "$link")" = "$CARGO_BIN_DIR" ]; then
      if is_rustup_proxy "$link"; then
        origins+=("rustup proxy (brand-new machine)")
        # What the proxy runs: the toolchain's own binary.
        local real_bin
        real_bin="$(rustup which "$(basename "$link")" 2>/dev/null || true)"
        if [ -n "$real_bin" ]; then
          origins+=("rustup toolchain: ${real_bin#"$HOME"/}")
        fi
        continue
      fi
      local base
      base="$(basename "$link")"
      if [ -n "${SETUP_CARGO_BIN[$base]:-}" ]; then
        origins+=("cargo install ${SETUP_CARGO_BIN[$base]} (setup)")
      else
        problems+=("$link was put in ${CARGO_BIN_DIR/#$HOME/~} by a cargo install that setup does not do")
      fi
      continue
    fi
    matched=""
    for glob in "${FRESH_MACHINE_PATHS[@]}"; do
      # shellcheck disable=SC2053  # the right side is a glob on purpose
      if [[ "$link" == $glob ]]; then matched="$glob"; break; fi
    done
    if [ -n "$matched" ]; then
      origins+=("${link/#$HOME/~} (brand-new machine)")
      continue
    fi
    owner="$(deb_owner "$link")"
    if [ -z "$owner" ] && [ -L "$link" ] && [[ "$(readlink "$link")" == /etc/alternatives/* ]]; then
      # Registered by update-alternatives (cc, awk): the file it finally selects is checked.
      continue
    elif [ -z "$owner" ]; then
      problems+=("$link belongs to no Debian package and to nothing setup installs")
    elif in_list "$owner" "${SETUP_DEBIAN[@]}"; then
      origins+=("$owner (setup installs)")
    elif in_list "$owner" "${FRESH_MACHINE_DEBIAN[@]}"; then
      origins+=("$owner (brand-new machine)")
    else
      problems+=("$link comes from Debian package $owner, which setup does not install (add it to scripts/machine.sh)")
    fi
  done < <(chain "$file")
  if [ "${#problems[@]}" -gt 0 ]; then
    fail "$name" "$(IFS=';'; printf '%s' "${problems[*]}"); called by: $who"
  else
    # Deduplicated, in chain order.
    local -a shown=()
    local o
    for o in "${origins[@]}"; do in_list "$o" "${shown[@]}" || shown+=("$o"); done
    pass "$name" "$file <- $(IFS=','; printf '%s' "${shown[*]}")"
  fi
}

# The file that runs for each program name, found the way its caller finds it.
wasm_rustc() { if [ "${HUBWIRE_WASM_ROUTE:-}" = rustup ]; then command -v rustc; else printf '/usr/bin/rustc'; fi; }

# The linker rustc uses for wasm32: named by its target spec, looked up in rustc's own tool
# directory first (rustc puts <sysroot>/lib/rustlib/<host>/bin on the linker's PATH), then PATH.
wasm_linker() {
  local rustc linker sysroot host
  rustc="$(wasm_rustc)"
  [ -x "$rustc" ] || return 0
  linker="$(RUSTC_BOOTSTRAP=1 "$rustc" -Z unstable-options --print target-spec-json \
    --target "${HUBWIRE_WASM_TARGET:-wasm32-unknown-unknown}" 2>/dev/null \
    | sed -nE 's/^[[:space:]]*"linker":[[:space:]]*"([^"]+)".*/\1/p' | head -n1)"
  linker="${linker:-rust-lld}"
  WASM_LINKER_NAME="$linker"
  sysroot="$("$rustc" --print sysroot 2>/dev/null)"
  host="$("$rustc" -vV 2>/dev/null | sed -n 's/^host: //p')"
  if [ -x "$sysroot/lib/rustlib/$host/bin/$linker" ]; then
    printf '%s' "$sysroot/lib/rustlib/$host/bin/$linker"
  else
    command -v "$linker" || true
  fi
}

resolve() { # resolve NAME -> path of the file that runs
  case "$1" in
    wasm:rustc) wasm_rustc ;;
    wasm:cargo) if [ "${HUBWIRE_WASM_ROUTE:-}" = rustup ]; then command -v cargo; else printf '/usr/bin/cargo'; fi ;;
    wasm:rustdoc) if [ "${HUBWIRE_WASM_ROUTE:-}" = rustup ]; then command -v rustdoc; else printf '/usr/bin/rustdoc'; fi ;;
    wasm:linker) wasm_linker ;;
    nightly:cargo) rustup which --toolchain nightly cargo 2>/dev/null || true ;;
    chromium) printf '%s' "${HUBWIRE_CHROMIUM:-$(command -v chromium || true)}" ;;
    wasm-opt) printf '%s' "${HUBWIRE_WASM_OPT:-$(command -v wasm-opt || true)}" ;;
    *) command -v "$1" || true ;;
  esac
}

echo "[provenance] route: ${HUBWIRE_WASM_ROUTE:-unknown (no target/toolchain.env: run scripts/setup.sh)}"
for entry in "${BUILD_PROGRAMS[@]}"; do
  name="${entry%%|*}"
  who="${entry#*|}"
  WASM_LINKER_NAME=""
  file="$(resolve "$name")"
  if [ "$name" = wasm:linker ]; then
    # Run again outside the subshell to learn the linker's name for the message.
    wasm_linker >/dev/null
    label="${WASM_LINKER_NAME:-linker}"
    check "$label" "$who" "$file"
  else
    check "$name" "$who" "$file"
  fi
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
