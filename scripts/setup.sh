#!/usr/bin/env bash
# Installs what FairScreen needs and is missing; skips what is present (idempotent).
#   scripts/setup.sh          build tools: wasm32 target, Trunk 0.21.14, wasm-bindgen-cli (= Cargo.lock), crates
#   scripts/setup.sh --test   also cargo-nextest, Chromium + ChromeDriver (browser tests), Mesa's Vulkan drivers
#                             and the browser tests' npm packages (tools/npm: axe-core)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
say() { printf '[setup] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The tools are built without link-time optimisation and with parallel codegen (Trunk's own
# release profile asks for fat LTO and one codegen unit: minutes of single-threaded linking for a
# program that only starts cargo and copies files). Trunk also skips its TLS stacks and update
# check: the build is offline (Trunk.toml) and the tools come from PATH.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install "$@"
}

TRUNK_VERSION=0.21.14
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing Trunk $TRUNK_VERSION (a few minutes on 2 cores, once)"
  fast_install --locked --no-default-features "trunk@$TRUNK_VERSION"
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly. No --locked: one of its
# locked dependencies is missing from the registry.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  say "installing wasm-bindgen-cli $WBG_VERSION (a few minutes, once)"
  # Without its default TLS stack (rustls and ring): only its test runner's downloads use it.
  # (With it, should a release ever need it.)
  fast_install wasm-bindgen-cli --version "$WBG_VERSION" --force --no-default-features ||
    fast_install wasm-bindgen-cli --version "$WBG_VERSION" --force
fi
grep -q "wasm_bindgen = \"$WBG_VERSION\"" Trunk.toml || {
  echo "Trunk.toml [tools] wasm_bindgen differs from Cargo.lock's $WBG_VERSION" >&2; exit 1; }

# Trunk builds offline: fetch every crate first (no-op when cached).
cargo fetch --locked >/dev/null

if [ "$want_test" = 1 ]; then
  # The native tests run under cargo-nextest (every test binary at once, one process per test).
  if ! command -v cargo-nextest >/dev/null; then
    say "installing cargo-nextest (a few minutes, once)"
    # Without self-update (its HTTP and TLS stack): nextest's recommended build for CI.
    fast_install --locked --no-default-features --features default-no-update cargo-nextest ||
      fast_install --locked cargo-nextest
  fi
  missing=()
  # A C compiler (also rustc's linker) builds libwebp for the trainer's evaluation-bundle writer.
  command -v cc >/dev/null || missing+=(build-essential)
  command -v npm >/dev/null || missing+=(npm)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # JavaScript the browser tests load from disk (axe-core, onnxruntime-web for the peer benchmark and
  # its check), pinned by tools/npm/package-lock.json.
  if ! cmp -s tools/npm/package-lock.json tools/npm/node_modules/.installed-lock 2>/dev/null; then
    say "installing the browser tests' npm packages (axe-core, onnxruntime-web)"
    (cd tools/npm && npm ci --no-audit --no-fund --silent && cp package-lock.json node_modules/.installed-lock)
  fi
fi
say "tools ready: $(trunk --version), $(wasm-bindgen --version)"
