# shellcheck shell=bash
# What a build machine needs, in one place: what scripts/setup.sh installs, and what it expects a
# brand-new machine to have already. Sourced by scripts/setup.sh (which installs the first part)
# and scripts/check-provenance.sh (which fails when a program the build, tests, demo or
# benchmarks call comes from anywhere else). Change a list here and both follow.

# ---------------------------------------------------------------------------------------------
# What setup installs
# ---------------------------------------------------------------------------------------------

# Rust for wasm32 on the Debian route (rustup has no wasm32 target and cannot download one here):
#   rustc-web, cargo-web  rustc, rustdoc and cargo 1.96 in /usr/bin
#   rust-web-src          the std source that -Zbuild-std compiles for wasm32
#   rust-web-llvm         /usr/bin/rust-lld, the linker rustc calls for wasm32 (rustc-web only
#                         *recommends* it, and setup installs without recommends)
#   lld-22                the lld that /usr/bin/rust-lld points at
SETUP_DEBIAN_WASM_RUST=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)

# Always (both routes):
#   chromium  the browser of every browser test, the demo test and the benchmarks
#   binaryen  wasm-opt, which shrinks the shipped wasm
#   brotli    the brotli sizes in the build's size lines and the benchmarks
#   firefox-esr        Firefox (Gecko), the browser suites' second engine, driven over WebDriver
#                      BiDi by puppeteer-core (tests/js/support/engines.mjs)
#   webkit2gtk-driver  WebKitWebDriver, which starts WebKitGTK's MiniBrowser (its dependency
#                      libwebkit2gtk-4.1-0 ships it): the third engine, WebKit
#   xvfb               Xvfb, the X display MiniBrowser needs (it has no headless mode here)
# Installed without recommends, these ran every browser suite on this machine kind: the fonts,
# GL (Mesa) and GStreamer libraries they need come in as dependencies, and neither engine needs
# a session D-Bus to start.
SETUP_DEBIAN_TOOLS=(chromium binaryen brotli firefox-esr webkit2gtk-driver xvfb)

# crates.io programs setup builds with `cargo install`, as "crate@version:binary binary ...".
# wasm-bindgen-cli has no version here: setup pins it to the crate's wasm-bindgen version.
#   cargo-fuzz  builds and runs the fuzz targets in fuzz/ (./run.sh fuzz, and ./run.sh test's
#               short pass) on the machine's rustup nightly
SETUP_CARGO_INSTALLS=(
  "wasm-bindgen-cli:wasm-bindgen wasm-bindgen-test-runner wasm2es6js"
  "cargo-fuzz@0.13.2:cargo-fuzz"
)

# ---------------------------------------------------------------------------------------------
# What a brand-new machine of this kind already has
# ---------------------------------------------------------------------------------------------
# From the machine kind's description (Debian bookworm; a rustup toolchain, stable and nightly,
# x86_64 only; Node 20 with npm; Python; git; a C compiler) and the machine image's package
# list. Only the Debian packages the build actually runs programs from are named; a program
# that resolves to any other package fails the provenance check until it is added to setup (or,
# if the image really ships it, here).
FRESH_MACHINE_DEBIAN=(
  bash coreutils dash debianutils diffutils findutils grep gzip mawk sed tar util-linux procps
  dpkg apt                       # setup's package look-ups and installs
  nodejs                         # node and npm (npm 11 installed over it by the image)
  gcc gcc-12 cpp-12 binutils-x86-64-linux-gnu libc-bin  # cc, the host linker of native Rust builds
  g++ g++-12                     # c++, which builds libFuzzer for the fuzz targets
  git                            # version stamps in the benchmarks
)
# Programs a brand-new machine has outside Debian's packages, as path globs.
#   the rustup toolchain: its proxies in ~/.cargo/bin and the toolchains in ~/.rustup
#   the image's own git in /usr/local/bin
FRESH_MACHINE_PATHS=(
  "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/*"
  "/usr/local/bin/git"
)

# ---------------------------------------------------------------------------------------------
# The external programs the build, tests, demo and benchmarks call
# ---------------------------------------------------------------------------------------------
# "name|who calls it". check-provenance.sh resolves each the way its caller does (target/
# toolchain.env's PATH; the wasm route's compiler and cargo; the linker rustc picks for wasm32 is
# looked up from rustc's own target spec, so it is never a guess). Add a line whenever a script
# or test starts calling a new program.
BUILD_PROGRAMS=(
  "cargo|native cargo: tests, the mock hub, cargo install (run.sh, scripts/test.sh, tests/js/support/mock.mjs)"
  "rustc|native rustc, called by cargo"
  "cc|the host linker rustc calls for native binaries and build scripts"
  "wasm:cargo|cargo of the wasm route (scripts/setup.sh wasm_cargo)"
  "wasm:rustc|rustc of the wasm route"
  "wasm:rustdoc|rustdoc of the wasm route (cargo asks it for target info)"
  "wasm:linker|the linker rustc calls for wasm32-unknown-unknown (its target spec names it)"
  "wasm-bindgen|scripts/build-wasm.sh, bench/size/steps.sh"
  "wasm-opt|scripts/build-wasm.sh, bench/size/steps.sh"
  "chromium|tests/js/support/browser.mjs, bench/run.mjs (HUBWIRE_CHROMIUM)"
  "firefox-esr|tests/js/support/engines.mjs (HUBWIRE_FIREFOX), through puppeteer-core"
  "WebKitWebDriver|tests/js/support/engines.mjs (HUBWIRE_WEBKIT_DRIVER); it starts MiniBrowser"
  "Xvfb|tests/js/support/engines.mjs (HUBWIRE_XVFB): the display of WebKit's MiniBrowser"
  "node|scripts/test.sh, scripts/build-wasm.sh, bench"
  "npm|scripts/setup.sh (npm ci), tests/js/support/fixture-apps.mjs"
  "gzip|scripts/build-wasm.sh size lines, bench"
  "brotli|scripts/build-wasm.sh size lines, bench/size/steps.sh, bench/run.mjs"
  "timeout|scripts/test.sh suite time limits"
  "awk|scripts/setup.sh, scripts/test.sh"
  "sed|scripts/setup.sh"
  "find|scripts/test.sh, scripts/build-wasm.sh"
  "tee|scripts/test.sh"
  "cksum|bench/size/steps.sh"
  "dpkg-query|scripts/setup.sh"
  "apt-get|scripts/setup.sh"
  "git|bench/run.mjs version stamps"
  "nightly:cargo|scripts/fuzz.sh (cargo +nightly fuzz): the rustup nightly toolchain"
  "cargo-fuzz|scripts/fuzz.sh"
  "c++|libfuzzer-sys compiles libFuzzer (scripts/fuzz.sh)"
)
