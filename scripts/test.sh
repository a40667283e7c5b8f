#!/usr/bin/env bash
# Installs what is missing and runs every test: formatting and lints, native unit and CLI tests,
# the Trunk build, and the end-to-end tests in headless Chromium (WebGPU via SwiftShader, and the
# CPU fallback).
#
# Build work is shared between the steps: every native cargo command selects the whole workspace
# (one feature set, so the end-to-end tests reuse what the native tests built), and clippy rides on
# the builds as rustc's wrapper for the workspace's own crates (what `cargo clippy` does), so no
# dependency is compiled twice. The wasm app is linted while Trunk builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n[test] %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "cargo fmt --check"
cargo fmt --all -- --check

# Lints with -D warnings on every build of a workspace crate below (clippy's own protocol: cargo
# clippy sets exactly these two variables).
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
[ -x "$RUSTC_WORKSPACE_WRAPPER" ] || {
  echo "clippy-driver not found: rustup component add clippy" >&2; exit 1; }
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

step "build and lint every native target (lib, bins, tests, benches, examples)"
cargo test --release --locked --workspace --all-targets --no-run

# (including the bounded fuzz run of the outside-bytes parsers: 60 s, FAIRSCREEN_FUZZ_SECONDS)
step "native tests (core, synth, datasets, trainer)"
cargo nextest run --release --locked --workspace --no-fail-fast -E 'not binary(e2e)'

step "trunk build, linting the wasm app (into dist/)"
trunk build

step "end-to-end tests in headless Chromium"
cargo test --release --locked --workspace --test e2e -- --test-threads=1

step "all tests passed"
